#pragma once
// Drill-down lists (server/API.md /api/list, /api/list.csv): which stored cards belong to a
// series, search over them, and their rendering as JSON items and CSV rows.
//
// Membership comes from the values the last run computed (`target`), judged by the same rules as
// segmenter::InSeries: directories list every contact and every company but the portal's own;
// every other series lists clients only (client companies and B2C contacts; member contacts carry
// their company's values but are not clients). Order: latest payment first, then newest first.
//
// Search (`q`): a query made only of phone characters (digits, spaces, + - ( ) .) matches phone
// digits; anything else matches, case-folded, a substring of the name, an e-mail, or, for a member
// contact, its company's name (such a match says so: ListItem::matched_by_company_only, so that
// callers filtering by rights can drop it when the company is not readable).
//
// Rights: a member contact's company is shown (JSON and CSV) only where
// RenderContext::company_visible allows; otherwise the item says it is hidden.
//
// Functions take the portal's shared PortalDb and lock it for their duration.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "portal_db.hpp"
#include "segmenter/results.hpp"

namespace server::http {

struct ListItem {
    CardKind kind = CardKind::kContact;
    std::int64_t id = 0;
    std::string name;
    std::vector<std::string> phones;
    std::vector<std::string> emails;
    std::int64_t company_id = 0;  // the primary client company of a member contact, else 0
    std::string company_name;
    // The search text matched only the company's name, not the card's own fields.
    bool matched_by_company_only = false;
    std::int64_t assigned_by = 0;
    std::string created;
    CardValues values;  // the card's computed values (target); empty before the first run
};

struct ListQuery {
    segmenter::Series series = segmenter::Series::kContacts;
    std::string q;  // raw search text ("" = all)
};

// A page of matches: at most `limit` of them after skipping `offset`.
struct Window {
    std::int64_t limit = 0;
    std::int64_t offset = 0;
};

// Calls `fn` for every match in list order (only those in `window` if given). With
// details=false only kind, id, company_id and matched_by_company_only are filled.
void ForEachMatch(PortalDb& db,
                  const ListQuery& query,
                  bool details,
                  const std::function<void(const ListItem&)>& fn,
                  std::optional<Window> window = std::nullopt);

// The number of matches (what ForEachMatch would call `fn` for without a window).
std::int64_t CountMatches(PortalDb& db, const ListQuery& query);

// Details of the given cards (those still stored), keyed by card.
std::map<CardKey, ListItem> LoadItems(PortalDb& db, const std::vector<CardKey>& keys);

// The SQL condition used for a series (exposed for tests that compare it with InSeries).
struct SeriesFilter {
    bool contacts = false;
    bool companies = false;
    std::string contact_where;  // over r (contact), t (target), pc (parent company)
    std::string company_where;  // over r (company), t (target)
};
SeriesFilter FilterFor(segmenter::Series series);

// Everything the renderers need besides the item.
struct RenderContext {
    std::map<std::int64_t, std::string> users;  // portal users' names
    std::string lang = "en";                    // ru en de pl
    std::string portal_origin;                  // https://x.bitrix24.ru (CSV links)
    // The last payment as an instant string for a card, given its stored date (YYYY-MM-DD);
    // null when the card has none.
    std::function<nlohmann::json(const ListItem&)> last_payment;
    // Whether the user may read a company (null: every company, an admin). A member contact's
    // company that is not readable is rendered as {"hidden": true} / a "hidden" CSV cell.
    std::function<bool(std::int64_t company_id)> company_visible;
};

// The CSV text of a hidden linked record, in the context's language.
std::string HiddenLabel(const std::string& lang);

std::string CardPath(CardKind kind, std::int64_t id);
nlohmann::json ItemJson(const ListItem& item, const RenderContext& ctx);

// "b24seg-<mode>-<series>.csv".
std::string CsvFileName(segmenter::Series series);
// The header line (UTF-8 BOM first) and one line per item, ';'-separated, CRLF line ends.
std::string CsvHeader(const RenderContext& ctx);
std::string CsvLine(const ListItem& item, const RenderContext& ctx);

}  // namespace server::http
