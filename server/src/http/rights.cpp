#include "http/rights.hpp"

#include <algorithm>
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

std::map<int, std::unordered_set<std::int64_t>> RightsCache::ReadableLinked(
    const std::string& member_id,
    std::int64_t user_id,
    const std::string& access_token,
    const std::map<int, std::vector<std::int64_t>>& ids) {
    std::map<int, std::unordered_set<std::int64_t>> out;
    std::shared_ptr<const ReadableSet> cached;
    {
        auto entry = EntryFor(member_id, user_id);
        std::lock_guard lock(mutex_);
        if (Fresh(entry->set)) {
            cached = entry->set;
        }
    }
    std::vector<b24client::Command> commands;
    std::vector<int> command_type;
    for (const auto& [type, list] : ids) {
        out[type];
        if (list.empty()) {
            continue;
        }
        if (cached && (type == 3 || type == 4)) {
            const auto& known = type == 3 ? cached->contacts : cached->companies;
            for (std::int64_t id : list) {
                if (known.count(id) != 0) {
                    out[type].insert(id);
                }
            }
            continue;
        }
        const bool old_invoice = type == 5;
        for (std::size_t from = 0; from < list.size(); from += 50) {
            nlohmann::json chunk = nlohmann::json::array();
            for (std::size_t i = from; i < std::min(list.size(), from + 50); ++i) {
                chunk.push_back(list[i]);
            }
            b24client::Command c;
            if (old_invoice) {
                c.method = "crm.invoice.list";
                c.params = {{"filter", {{"@ID", chunk}}}, {"select", {"ID"}}, {"start", -1}};
            } else {
                c.method = "crm.item.list";
                c.params = {{"entityTypeId", type},
                            {"filter", {{"@id", chunk}}},
                            {"select", {"id"}},
                            {"start", -1}};
            }
            commands.push_back(std::move(c));
            command_type.push_back(type);
        }
    }
    if (commands.empty()) {
        return out;
    }
    try {
        auto client = portals_.UserClient(member_id, access_token);
        auto results = client->Batch(commands);
        for (std::size_t i = 0; i < results.size(); ++i) {
            const auto& r = results[i];
            if (!r.ok) {
                if (r.error && r.error->kind() != b24client::ErrorKind::kAccessDenied) {
                    throw *r.error;
                }
                continue;  // no right to read that type at all: none of them
            }
            const nlohmann::json* rows = &r.result;
            if (const auto* items = b24client::Find(r.result, "items")) {
                rows = items;
            }
            if (!rows->is_array()) {
                continue;
            }
            for (const auto& row : *rows) {
                const nlohmann::json* id = b24client::Find(row, "id");
                if (id == nullptr) {
                    id = b24client::Find(row, "ID");
                }
                if (id != nullptr) {
                    if (auto v = b24client::ToInt64(*id)) {
                        out[command_type[i]].insert(*v);
                    }
                }
            }
        }
    } catch (const ApiError&) {
        throw;
    } catch (const b24client::Error&) {
        RethrowForUser(std::current_exception());
    }
    // Only what was asked for: a portal answering more rows changes nothing.
    for (auto& [type, set] : out) {
        auto asked = ids.find(type);
        const std::unordered_set<std::int64_t> wanted =
            asked == ids.end()
                ? std::unordered_set<std::int64_t>{}
                : std::unordered_set<std::int64_t>(asked->second.begin(), asked->second.end());
        for (auto it = set.begin(); it != set.end();) {
            it = wanted.count(*it) != 0 ? std::next(it) : set.erase(it);
        }
    }
    return out;
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
