#pragma once
// One refresh at a time per portal, across every process that works with the portal's admin token
// pair (the server, `b24seg sync --wait`, the purge), and never a lost pair.
//
// Refresh tokens rotate: the one traded is dead afterwards, so two processes refreshing the same
// pair would leave one of them with a dead token (and the portal blocked `reinstall_needed`), and
// a new pair that is used before it is stored is lost if the process dies. b24client's TokenStore
// makes refreshes single-flight inside one process; its RefreshCoordinator seam lets the server
// wrap each of them in:
//
//   take the portal's exclusive lease (a lock beside the portal's files)
//   re-read the stored pair
//   stored pair newer than the one we hold  -> adopt it, no refresh
//   else trade it at the authorization server
//        refused (invalid_grant)            -> re-read once more; a newer stored pair is adopted,
//                                              otherwise the refusal stands (reinstall_needed)
//   store the new pair durably (registry, synchronous=FULL), retrying a failed write
//   release; the pair is used only now
//
// TokenBackend is the storage-and-lock side as an interface: FileTokenBackend (flock on a file
// next to the portal's database + the SQLite registry) serves one server and its CLI on one
// machine; a later backend (PostgreSQL advisory locks) serves several server instances.
// Thread-safe.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "b24client/client.hpp"

namespace server {

class Registry;

class TokenBackend {
public:
    virtual ~TokenBackend() = default;

    // Held while one refresh (or an install's token write) happens; released when destroyed.
    class Lease {
    public:
        virtual ~Lease() = default;
    };
    // Blocks until this caller holds the portal's exclusive lease (against other processes and
    // other leases in this one). Throws std::runtime_error if the lock cannot be taken at all.
    virtual std::unique_ptr<Lease> Acquire(const std::string& member_id) = 0;
    // The stored endpoint and pair, read now (never cached); nullopt if the portal is not stored.
    virtual std::optional<b24client::Credentials> Read(const std::string& member_id) = 0;
    // Stores the pair (and the endpoint, if it changed) durably; returns once it is on disk.
    // Throws on failure.
    virtual void Write(const std::string& member_id, const b24client::Credentials& tokens) = 0;
};

// flock(2) on "<data_dir>/<portal db file>.tokens.lock" (0600) + the registry.
class FileTokenBackend : public TokenBackend {
public:
    FileTokenBackend(Registry& registry, std::string data_dir);

    std::unique_ptr<Lease> Acquire(const std::string& member_id) override;
    std::optional<b24client::Credentials> Read(const std::string& member_id) override;
    void Write(const std::string& member_id, const b24client::Credentials& tokens) override;

    // The lock file of a portal.
    std::string LockPath(const std::string& member_id);

private:
    Registry& registry_;
    std::string data_dir_;
};

// The RefreshCoordinator of one portal's TokenStore, over a TokenBackend (algorithm above).
class PortalRefreshCoordinator : public b24client::RefreshCoordinator {
public:
    struct Options {
        int write_attempts = 6;                        // tries of the durable write
        std::chrono::milliseconds write_backoff{250};  // doubles per try
    };
    PortalRefreshCoordinator(std::shared_ptr<TokenBackend> backend,
                             std::string member_id,
                             Options options);
    PortalRefreshCoordinator(std::shared_ptr<TokenBackend> backend, std::string member_id)
        : PortalRefreshCoordinator(std::move(backend), std::move(member_id), Options{}) {}

    b24client::Credentials Refresh(
        const b24client::Credentials& held,
        const std::function<b24client::Credentials(const b24client::Credentials&)>& trade) override;

    // A pair that could not be stored after every attempt (the disk refused): kept here and
    // used by this process, written before anything else at the next refresh. nullopt normally.
    std::optional<b24client::Credentials> unsaved() const;

private:
    bool TryWrite(const b24client::Credentials& tokens);

    std::shared_ptr<TokenBackend> backend_;
    std::string member_id_;
    Options options_;
    mutable std::mutex mutex_;
    std::optional<b24client::Credentials> unsaved_;
};

}  // namespace server
