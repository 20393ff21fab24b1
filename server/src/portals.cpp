#include "portals.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "db.hpp"
#include "sync/segment_bridge.hpp"

#include <sys/stat.h>

namespace server {

namespace {
std::int64_t UnixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string HostOfEndpoint(std::string endpoint) {
    if (auto p = endpoint.find("://"); p != std::string::npos) {
        endpoint = endpoint.substr(p + 3);
    }
    if (auto p = endpoint.find('/'); p != std::string::npos) {
        endpoint = endpoint.substr(0, p);
    }
    return endpoint;
}
}  // namespace

segmenter::Instant PortalNow(PortalDb& db, std::int64_t now_utc) {
    auto offset = db.GetMeta("portal.offset");
    return {now_utc, offset ? static_cast<std::int32_t>(std::stol(*offset)) : 0};
}

PortalManager::PortalManager(const Config& config,
                             Registry& registry,
                             std::shared_ptr<b24client::Clock> clock,
                             std::shared_ptr<TokenBackend> tokens)
    : config_(config),
      registry_(registry),
      clock_(std::move(clock)),
      token_backend_(std::move(tokens)) {
    EnsurePrivateDirectory(config_.data_dir);
    if (!token_backend_) {
        token_backend_ = std::make_shared<FileTokenBackend>(registry_, config_.data_dir);
    }
}

PortalRecord PortalManager::Require(const std::string& member_id) {
    auto record = registry_.Find(member_id);
    if (!record) {
        throw std::runtime_error("unknown portal");
    }
    return *record;
}

std::shared_ptr<b24client::PortalLimiter> PortalManager::Limiter(const std::string& member_id) {
    PortalRecord record = Require(member_id);
    std::lock_guard lock(mutex_);
    auto it = limiters_.find(member_id);
    if (it != limiters_.end() && limiter_plans_[member_id] == record.plan) {
        return it->second;
    }
    b24client::LimitPlan plan = record.plan == "enterprise" ? b24client::LimitPlan::Enterprise()
                                                            : b24client::LimitPlan::Standard();
    if (record.plan == "enterprise") {
        plan.drain_per_second = config_.enterprise_drain_per_s;
        plan.burst = config_.enterprise_burst;
    } else {
        plan.drain_per_second = config_.standard_drain_per_s;
        plan.burst = config_.standard_burst;
    }
    auto limiter = std::make_shared<b24client::PortalLimiter>(plan, clock_);
    limiters_[member_id] = limiter;
    limiter_plans_[member_id] = record.plan;
    return limiter;
}

std::shared_ptr<b24client::Client> PortalManager::AdminClient(const std::string& member_id,
                                                              b24client::CancelToken cancel,
                                                              int max_transient_attempts) {
    PortalRecord record = Require(member_id);
    b24client::ClientOptions options;
    options.limiter = Limiter(member_id);
    options.clock = clock_;
    options.oauth =
        b24client::OAuthApp{config_.client_id, config_.client_secret, config_.oauth_url};
    options.cancel = std::move(cancel);
    options.allow_http = config_.allow_http_portals;
    options.max_answer_bytes = config_.max_answer_bytes;
    if (max_transient_attempts > 0) {
        options.retry.max_transient_attempts = max_transient_attempts;
        options.request_timeout_s = 30.0;
    }
    // Batches may take up to half the portal's 60 s request cap: fuller batches, fewer requests.
    options.target_batch_seconds = 20.0;
    // Refreshed pairs are stored by the token store's coordinator (before they are used).
    Registry* registry = &registry_;
    options.on_endpoint_changed = [registry, member_id](const std::string& endpoint) {
        std::string domain = HostOfEndpoint(endpoint);
        spdlog::info("portal {} moved to {}", member_id, domain);
        registry->UpdateEndpoint(member_id, endpoint, domain);
    };
    return std::make_shared<b24client::Client>(Tokens(record), std::move(options));
}

std::shared_ptr<b24client::TokenStore> PortalManager::Tokens(const PortalRecord& record) {
    std::lock_guard lock(mutex_);
    auto& store = tokens_[record.member_id];
    if (!store) {
        store = std::make_shared<b24client::TokenStore>(
            b24client::Credentials{record.endpoint, record.access_token, record.refresh_token,
                                   record.access_expires_at},
            std::make_shared<PortalRefreshCoordinator>(token_backend_, record.member_id));
    }
    return store;
}

void PortalManager::SetTokens(const std::string& member_id,
                              const std::string& access_token,
                              const std::string& refresh_token,
                              std::int64_t access_expires_at) {
    {
        // Under the lease: a refresh in another process either finished before (and its pair is
        // replaced here) or starts after (and adopts this pair).
        auto lease = token_backend_->Acquire(member_id);
        registry_.UpdateTokens(member_id, access_token, refresh_token, access_expires_at);
    }
    PortalRecord record = Require(member_id);
    std::lock_guard lock(mutex_);
    if (auto it = tokens_.find(member_id); it != tokens_.end()) {
        it->second->Set(b24client::Credentials{record.endpoint, access_token, refresh_token,
                                               access_expires_at});
    }
}

std::shared_ptr<b24client::Client> PortalManager::UserClient(const std::string& member_id,
                                                             const std::string& access_token) {
    PortalRecord record = Require(member_id);
    b24client::ClientOptions options;
    options.limiter = Limiter(member_id);
    options.clock = clock_;
    options.retry.max_transient_attempts = 2;  // a person is waiting
    // ... so no wait for the portal's limits may be long (429 busy instead), and a portal that
    // does not answer holds the request for seconds, not minutes.
    options.max_wait_s = config_.user_wait_ms / 1000.0;
    options.connect_timeout_s = 5.0;
    options.request_timeout_s = 15.0;
    options.allow_http = config_.allow_http_portals;
    options.max_answer_bytes = config_.max_answer_bytes;
    return std::make_shared<b24client::Client>(
        b24client::Credentials{record.endpoint, access_token, ""}, std::move(options));
}

std::string PortalManager::DbPath(const std::string& member_id) {
    PortalRecord record = Require(member_id);
    return (std::filesystem::path(config_.data_dir) / record.db_file).string();
}

std::string PortalManager::LockPath(const std::string& member_id) {
    return DbPath(member_id) + ".lock";
}

std::shared_ptr<PortalDb> PortalManager::Db(const std::string& member_id) {
    std::string path = DbPath(member_id);
    // `b24seg clear` replaces a damaged file with a new one: a handle to the old file is dropped.
    struct stat now {};
    bool exists = ::stat(path.c_str(), &now) == 0;
    std::lock_guard lock(mutex_);
    auto& db = dbs_[member_id];
    auto& inode = db_inodes_[member_id];
    if (db && exists && inode != now.st_ino) {
        db.reset();
    }
    if (!db) {
        db = std::make_shared<PortalDb>(path);
        struct stat opened {};
        inode = ::stat(path.c_str(), &opened) == 0 ? opened.st_ino : 0;
    }
    return db;
}

std::shared_ptr<const PortalSnapshot> PortalManager::Snapshot(const std::string& member_id) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = snapshots_.find(member_id); it != snapshots_.end()) {
            it->second.used = ++use_tick_;
            return it->second.snapshot;
        }
    }
    // Build from storage (after a restart): the same computation the last run made.
    auto db = Db(member_id);
    PortalRecord record = Require(member_id);
    segmenter::Settings settings{record.active_months, record.lost_months};
    auto offset = db->GetMeta("portal.offset");
    std::int32_t off = offset ? static_cast<std::int32_t>(std::stol(*offset)) : 0;
    auto snapshot = std::make_shared<PortalSnapshot>();
    snapshot->index = std::make_shared<segmenter::PortalIndex>(
        segmenter::PortalIndex::Build(sync::LoadPortalData(*db, off), settings));
    auto at = db->GetMeta("compute.at");
    auto parsed = at ? segmenter::ParseInstant(*at) : std::nullopt;
    snapshot->at = parsed.value_or(PortalNow(*db, UnixNow()));
    std::lock_guard lock(mutex_);
    CacheSnapshotLocked(member_id, snapshot);
    return snapshot;
}

void PortalManager::SetSnapshot(const std::string& member_id, PortalSnapshot snapshot) {
    auto shared = std::make_shared<const PortalSnapshot>(std::move(snapshot));
    std::lock_guard lock(mutex_);
    CacheSnapshotLocked(member_id, std::move(shared));
}

void PortalManager::CacheSnapshotLocked(const std::string& member_id,
                                        std::shared_ptr<const PortalSnapshot> snapshot) {
    snapshots_[member_id] = CachedSnapshot{std::move(snapshot), ++use_tick_};
    const auto cap = static_cast<std::size_t>(std::max(1, config_.max_cached_indexes));
    while (snapshots_.size() > cap) {
        auto oldest = snapshots_.begin();
        for (auto it = snapshots_.begin(); it != snapshots_.end(); ++it) {
            if (it->second.used < oldest->second.used) {
                oldest = it;
            }
        }
        snapshots_.erase(oldest);
    }
}

void PortalManager::Forget(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    limiters_.erase(member_id);
    limiter_plans_.erase(member_id);
    tokens_.erase(member_id);
    dbs_.erase(member_id);
    db_inodes_.erase(member_id);
    snapshots_.erase(member_id);
}

void PortalManager::DeletePortalData(const std::string& member_id) {
    std::string path;
    if (auto record = registry_.Find(member_id)) {
        path = (std::filesystem::path(config_.data_dir) / record->db_file).string();
    }
    Forget(member_id);
    if (!path.empty()) {
        for (const char* suffix : {"", "-wal", "-shm", ".lock", "-journal", ".tokens.lock"}) {
            std::error_code ec;
            std::filesystem::remove(path + suffix, ec);
        }
    }
}

}  // namespace server
