#pragma once
// The live side of the registry: per portal, the shared rate limiter, the admin-token client used
// by background work, short-lived user-token clients, the database handle API readers share, and
// the segmenter index of the last run (for the card tab).
//
// Thread-safety: every member is thread-safe. Objects handed out are shared_ptrs: they stay valid
// while used even if the portal is removed meanwhile.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "b24client/client.hpp"
#include "config.hpp"
#include "portal_db.hpp"
#include "registry.hpp"
#include "segmenter/segmenter.hpp"
#include "token_sync.hpp"

namespace server {

// What the last computation left for readers of one portal.
struct PortalSnapshot {
    std::shared_ptr<const segmenter::PortalIndex> index;
    segmenter::Instant at;
};

class PortalManager {
public:
    // `clock`: the time source of every limiter (tests pass a scaled one). `tokens`: where the
    // admin token pairs live and how their refreshes are serialised across processes (default:
    // FileTokenBackend over `registry` and config.data_dir). Creates the data directory (0700).
    PortalManager(const Config& config,
                  Registry& registry,
                  std::shared_ptr<b24client::Clock> clock = b24client::SystemClock(),
                  std::shared_ptr<TokenBackend> tokens = nullptr);

    const Config& config() const { return config_; }
    Registry& registry() { return registry_; }

    // The portal's limiter (created with the plan the registry holds).
    std::shared_ptr<b24client::PortalLimiter> Limiter(const std::string& member_id);

    // A client with the installing admin's stored tokens: a renamed portal's new endpoint is
    // stored in the registry. Throws std::runtime_error for an unknown portal. `cancel`
    // (optional) is checked between its requests. Every admin client of a portal shares one
    // token store, whose refreshes go through a PortalRefreshCoordinator (token_sync.hpp): one
    // refresh at a time across threads and processes, the new pair stored durably before use.
    // `max_transient_attempts` > 0 caps the retries of ambiguous failures (a check that should
    // answer soon, such as the uninstall confirmation).
    std::shared_ptr<b24client::Client> AdminClient(const std::string& member_id,
                                                   b24client::CancelToken cancel = {},
                                                   int max_transient_attempts = 0);

    // New tokens for the portal's admin client (an install or re-install): stored in the registry
    // under the portal's token lease and handed to the shared token store.
    void SetTokens(const std::string& member_id,
                   const std::string& access_token,
                   const std::string& refresh_token,
                   std::int64_t access_expires_at);

    TokenBackend& token_backend() { return *token_backend_; }

    // A client with a user's own access token (from a page load); no refresh. Shares the
    // portal's limiter. `endpoint` must be the stored one.
    std::shared_ptr<b24client::Client> UserClient(const std::string& member_id,
                                                  const std::string& access_token);

    // The shared read/write handle API handlers use (the sync job opens its own); reopened when
    // the file was replaced (`b24seg clear`). Throws StorageError (db.hpp) when it cannot open.
    std::shared_ptr<PortalDb> Db(const std::string& member_id);
    std::string DbPath(const std::string& member_id);
    std::string LockPath(const std::string& member_id);

    // The index of the last run, or a fresh one built from storage. At most
    // `config.max_cached_indexes` portals' indexes are kept; the least recently used go first
    // (holders of a dropped index keep it alive until they let go).
    std::shared_ptr<const PortalSnapshot> Snapshot(const std::string& member_id);
    void SetSnapshot(const std::string& member_id, PortalSnapshot snapshot);

    // Forgets everything held for the portal and deletes its database files.
    void DeletePortalData(const std::string& member_id);
    // Forgets cached handles (e.g. after the plan or settings changed).
    void Forget(const std::string& member_id);

private:
    PortalRecord Require(const std::string& member_id);

    const Config& config_;
    Registry& registry_;
    std::shared_ptr<b24client::Clock> clock_;
    std::shared_ptr<TokenBackend> token_backend_;
    std::mutex mutex_;
    std::shared_ptr<b24client::TokenStore> Tokens(const PortalRecord& record);

    std::map<std::string, std::shared_ptr<b24client::PortalLimiter>> limiters_;
    std::map<std::string, std::shared_ptr<b24client::TokenStore>> tokens_;
    std::map<std::string, std::string> limiter_plans_;
    std::map<std::string, std::shared_ptr<PortalDb>> dbs_;
    std::map<std::string, std::uint64_t> db_inodes_;  // of the file each handle opened
    struct CachedSnapshot {
        std::shared_ptr<const PortalSnapshot> snapshot;
        std::uint64_t used = 0;  // use_tick_ at the last lookup or store
    };
    // Stores under mutex_ and drops the least recently used beyond the cap.
    void CacheSnapshotLocked(const std::string& member_id,
                             std::shared_ptr<const PortalSnapshot> snapshot);
    std::map<std::string, CachedSnapshot> snapshots_;
    std::uint64_t use_tick_ = 0;
};

// The portal's current time for segment queries: now in the portal's offset (stored at the first
// pull; 0 until then).
segmenter::Instant PortalNow(PortalDb& db, std::int64_t now_utc);

}  // namespace server
