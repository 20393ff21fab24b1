#pragma once
// What a portal user may read, checked with that user's own token (server/README.md "Rights").
//
// The portal filters crm.item.list by the caller's rights, so a keyset walk of contacts and
// companies with select ["id"] under the user's token yields exactly the ids the user may read:
// two walks packed into shared batches (2,500 ids per request). The set is cached per
// (portal, user) for config.rights_cache_s; concurrent requests of one user share one walk (a
// request that would wait for another's walk longer than `wait_ms` answers 429 busy).
// A single card (the card tab) is checked with one call when no fresh set is cached. Sets unused
// for twice the lifetime are dropped.
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "http/single_flight.hpp"
#include "portal_db.hpp"

namespace server {
class PortalManager;
}

namespace server::http {

struct ReadableSet {
    std::unordered_set<std::int64_t> contacts;
    std::unordered_set<std::int64_t> companies;
    std::int64_t fetched_at = 0;

    bool Contains(CardKind kind, std::int64_t id) const {
        return kind == CardKind::kContact ? contacts.count(id) != 0 : companies.count(id) != 0;
    }
};

class RightsCache {
public:
    RightsCache(PortalManager& portals,
                int ttl_s,
                std::function<std::int64_t()> now,
                int wait_ms = 1500);

    // The ids `user_id` may read, walked with `access_token` unless a fresh set is cached.
    // Throws ApiError (401 session_expired when the portal refuses the token, 429 busy, 503).
    std::shared_ptr<const ReadableSet> Readable(const std::string& member_id,
                                                std::int64_t user_id,
                                                const std::string& access_token);

    // Whether the user may read one card: from the cached set if fresh, else one request.
    bool MayRead(const std::string& member_id,
                 std::int64_t user_id,
                 const std::string& access_token,
                 CardKind kind,
                 std::int64_t id);

    // Which of the given linked records (card tab: member contacts, parent company, deals and
    // invoices of the payments list) the user may read, keyed by entity type (2 deals, 3 contacts,
    // 4 companies, 31 smart invoices, 5 old invoices). Contacts and companies come from a fresh
    // cached set when there is one; the rest is asked with the user's token, batched:
    // `crm.item.list` with `@id` and select ["id"] (50 ids per call, 50 calls per request;
    // `crm.invoice.list` with `@ID` for old invoices). A type the user may not read at all
    // (ACCESS_DENIED) gives none. Throws ApiError like Readable.
    std::map<int, std::unordered_set<std::int64_t>> ReadableLinked(
        const std::string& member_id,
        std::int64_t user_id,
        const std::string& access_token,
        const std::map<int, std::vector<std::int64_t>>& ids);

    void ForgetPortal(const std::string& member_id);
    // Number of walks made (for tests: caching is observable).
    std::int64_t walks() const;

private:
    struct Entry {
        std::shared_ptr<const ReadableSet> set;
        std::map<std::pair<int, std::int64_t>, std::pair<bool, std::int64_t>> single;
    };
    std::shared_ptr<Entry> EntryFor(const std::string& member_id, std::int64_t user_id);
    std::shared_ptr<const ReadableSet> Walk(Entry& entry,
                                            const std::string& member_id,
                                            const std::string& access_token);
    bool Fresh(const std::shared_ptr<const ReadableSet>& set) const;

    PortalManager& portals_;
    int ttl_s_;
    int wait_ms_;
    SingleFlight<std::shared_ptr<const ReadableSet>> walking_;
    std::function<std::int64_t()> now_;
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::int64_t>, std::shared_ptr<Entry>> entries_;
    std::int64_t walks_ = 0;
    std::uint64_t lookups_ = 0;
};

// Maps a b24client::Error met while serving a user (their token, their request) to the ApiError
// the frontend understands. Rethrows anything else unchanged.
[[noreturn]] void RethrowForUser(std::exception_ptr error);

}  // namespace server::http
