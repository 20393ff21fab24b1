#pragma once
// Keyset walks: the fast export of list methods (README "Packing and chain length").
//
// A walk lists one method with `order {ID: ASC}`, `filter {>ID: last}` and `start=-1`, 50 rows a
// page, and ends at the first short page. Its pages are chained inside one batch
// (`$result[k][49][ID]`, `$result[k][items][49][id]` for crm.item.list), so one HTTP request
// returns up to 2,500 rows. Client::Walk runs many walks at once and packs their chains into
// shared 50-command batches.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace b24client {

class Error;

struct WalkSpec {
    std::string method;                                // "crm.contact.list", "crm.item.list", ...
    nlohmann::json params = nlohmann::json::object();  // base params: filter, select, entityTypeId
    std::string id_field = "ID";                       // "id" for crm.item.list
    std::string items_key;                      // "" rows in `result`; "items" for crm.item.list
    std::int64_t last_id = 0;                   // resume point: rows with id > last_id
    std::optional<std::int64_t> expected_rows;  // size hint (rows left after last_id)

    // A legacy list method (crm.contact.list, crm.activity.list, crm.requisite.list, ...).
    static WalkSpec Legacy(std::string method,
                           nlohmann::json filter = nlohmann::json::object(),
                           nlohmann::json select = nlohmann::json::array());
    // crm.item.list for one entity type (3 contacts, 4 companies, 2 deals, 31 invoices).
    static WalkSpec Items(int entity_type_id,
                          nlohmann::json filter = nlohmann::json::object(),
                          nlohmann::json select = nlohmann::json::array());
};

// Callbacks of Client::Walk. They run on the calling thread, one at a time, never concurrently.
// For each walk: on_rows zero or more times with rows in strictly ascending id order, each row
// delivered exactly once, then exactly one of on_done / on_error. An exception thrown by a
// callback stops the whole Walk call and propagates.
struct WalkHandlers {
    // `rows` of walk `walk` (index into the vector given to Walk); `last_id` is the id of the
    // last row: a checkpoint from which the walk can resume (WalkSpec::last_id).
    std::function<void(std::size_t walk, std::vector<nlohmann::json>&& rows, std::int64_t last_id)>
        on_rows;
    // Walk `walk` reached its short page: nothing left after `last_id`.
    std::function<void(std::size_t walk, std::int64_t last_id)> on_done;
    // Walk `walk` failed for good (access denied, bad filter, retries exhausted). If unset, the
    // Error is thrown out of Walk instead (after the other walks of that batch were delivered).
    std::function<void(std::size_t walk, const Error& error)> on_error;
};

struct WalkOptions {
    // A walk with no size hint starts with one page (plus free slots). If that page is full,
    // its next chain starts with a counting page (`start=0`, which returns `total`: the rows
    // left after the cursor) so that the rest can be sized exactly; small windows never pay for
    // a COUNT. Counting a whole large table is expensive on a real portal: pass expected_rows
    // (or false here) for such walks; without counts, chains grow 1, 2, 4 ... 50.
    bool count_unknown = true;
    // At most this many commands per batch (the platform's cap is 50).
    int max_commands = 50;
};

// Fetch rows by id lists: `filter {@ID: [...50 ids...]}`, 50 such calls per batch.
struct IdFetchSpec {
    std::string method;
    nlohmann::json params = nlohmann::json::object();  // select, entityTypeId, extra filter keys
    std::string id_field = "ID";
    std::string items_key;
    std::vector<std::int64_t> ids;
};

}  // namespace b24client
