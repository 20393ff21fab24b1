#include "http/rights.hpp"

#include <optional>

#include <spdlog/spdlog.h>

#include "api_error.hpp"
#include "b24client/client.hpp"
#include "b24client/error.hpp"
#include "b24client/json_util.hpp"
#include "portals.hpp"

namespace server::http {

void RethrowForUser(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const b24client::Error& e) {
        using K = b24client::ErrorKind;
        switch (e.kind()) {
            case K::kExpiredToken:
            case K::kInvalidToken:
                throw SessionExpired();
            case K::kQueryLimit:
            case K::kOperationLimit:
            case K::kOverload:
            case K::kWaitTooLong:
                throw ApiError(429, "busy", "the portal is busy; try again in a minute");
            case K::kPaymentRequired:
                throw ApiError(503, "payment_required",
                               "the app's subscription or trial has ended in this portal");
            case K::kReinstallNeeded:
                throw ApiError(503, "reinstall_needed", "reinstall the app in the portal");
            case K::kCancelled:
            case K::kTransport:
            case K::kTimeout:
            case K::kServerError:
            case K::kBadResponse:
            case K::kPortalDeleted:
                throw ApiError(503, "portal_unavailable", "the portal did not answer");
            default:
                spdlog::warn("portal call for a user failed: {}", e.what());
                throw ApiError(503, "portal_unavailable", "the portal refused the request");
        }
    }
}

RightsCache::RightsCache(PortalManager& portals,
                         int ttl_s,
                         std::function<std::int64_t()> now,
                         int wait_ms)
    : portals_(portals), ttl_s_(ttl_s), wait_ms_(wait_ms), now_(std::move(now)) {}

std::shared_ptr<RightsCache::Entry> RightsCache::EntryFor(const std::string& member_id,
                                                          std::int64_t user_id) {
    std::lock_guard lock(mutex_);
    if (++lookups_ % 256 == 0) {
        // Users come and go: drop the sets nobody has used for a while (and nobody holds now).
        std::int64_t now = now_();
        for (auto it = entries_.begin(); it != entries_.end();) {
            const auto& e = it->second;
            bool stale =
                (!e->set || now - e->set->fetched_at > 2 * static_cast<std::int64_t>(ttl_s_));
            it = stale && e.use_count() == 1 ? entries_.erase(it) : std::next(it);
        }
    }
    auto& entry = entries_[{member_id, user_id}];
    if (!entry) {
        entry = std::make_shared<Entry>();
    }
    return entry;
}

bool RightsCache::Fresh(const std::shared_ptr<const ReadableSet>& set) const {
    return set && now_() - set->fetched_at < ttl_s_;
}

std::shared_ptr<const ReadableSet> RightsCache::Readable(const std::string& member_id,
                                                         std::int64_t user_id,
                                                         const std::string& access_token) {
    auto entry = EntryFor(member_id, user_id);
    {
        std::lock_guard lock(mutex_);
        if (Fresh(entry->set)) {
            return entry->set;
        }
    }
    return walking_.Run(member_id + "\n" + std::to_string(user_id),
                        std::chrono::milliseconds(wait_ms_),
                        [&] { return Walk(*entry, member_id, access_token); });
}

std::shared_ptr<const ReadableSet> RightsCache::Walk(Entry& entry,
                                                     const std::string& member_id,
                                                     const std::string& access_token) {
    {
        std::lock_guard lock(mutex_);
        if (Fresh(entry.set)) {
            return entry.set;  // a walk finished just before this one began
        }
    }
    auto set = std::make_shared<ReadableSet>();
    set->fetched_at = now_();
    try {
        auto client = portals_.UserClient(member_id, access_token);
        std::vector<b24client::WalkSpec> walks = {
            b24client::WalkSpec::Items(3, nlohmann::json::object(), {"id"}),
            b24client::WalkSpec::Items(4, nlohmann::json::object(), {"id"})};
        std::optional<b24client::Error> failure;
        b24client::WalkHandlers handlers;
        handlers.on_rows = [&](std::size_t walk, std::vector<nlohmann::json>&& rows, std::int64_t) {
            auto& ids = walk == 0 ? set->contacts : set->companies;
            for (const auto& row : rows) {
                if (auto id = b24client::ToInt64(row.value("id", nlohmann::json()))) {
                    ids.insert(*id);
                }
            }
        };
        handlers.on_done = [](std::size_t, std::int64_t) {};
        handlers.on_error = [&](std::size_t, const b24client::Error& e) {
            // A user without any right to read contacts (or companies) reads none of them.
            if (e.kind() != b24client::ErrorKind::kAccessDenied && !failure) {
                failure = e;
            }
        };
        client->Walk(walks, handlers);
        if (failure) {
            throw *failure;
        }
    } catch (const ApiError&) {
        throw;
    } catch (const b24client::Error&) {
        RethrowForUser(std::current_exception());
    }
    std::lock_guard lock(mutex_);
    ++walks_;
    entry.set = set;
    entry.single.clear();
    return set;
}

bool RightsCache::MayRead(const std::string& member_id,
                          std::int64_t user_id,
                          const std::string& access_token,
                          CardKind kind,
                          std::int64_t id) {
    auto entry = EntryFor(member_id, user_id);
    std::int64_t now = now_();
    {
        std::lock_guard lock(mutex_);
        if (Fresh(entry->set)) {
            return entry->set->Contains(kind, id);
        }
        auto it = entry->single.find({static_cast<int>(kind), id});
        if (it != entry->single.end() && now - it->second.second < ttl_s_) {
            return it->second.first;
        }
    }
    bool readable = false;
    try {
        auto client = portals_.UserClient(member_id, access_token);
        auto answer = client->Call("crm.item.list", {{"entityTypeId", static_cast<int>(kind)},
                                                     {"filter", {{"=id", id}}},
                                                     {"select", {"id"}}});
        if (const auto* items = b24client::Find(answer.result, "items");
            items != nullptr && items->is_array()) {
            for (const auto& row : *items) {
                if (b24client::ToInt64(row.value("id", nlohmann::json())) == id) {
                    readable = true;
                }
            }
        }
    } catch (const b24client::Error& e) {
        if (e.kind() != b24client::ErrorKind::kAccessDenied) {
            RethrowForUser(std::current_exception());
        }
    }
    std::lock_guard lock(mutex_);
    entry->single[{static_cast<int>(kind), id}] = {readable, now};
    return readable;
}

void RightsCache::ForgetPortal(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
        it = it->first.first == member_id ? entries_.erase(it) : std::next(it);
    }
}

std::int64_t RightsCache::walks() const {
    std::lock_guard lock(mutex_);
    return walks_;
}

}  // namespace server::http
