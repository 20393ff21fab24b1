#include "token_sync.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "b24client/error.hpp"
#include "db.hpp"
#include "registry.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace server {

namespace {

class FileLease : public TokenBackend::Lease {
public:
    explicit FileLease(int fd) : fd_(fd) {}
    ~FileLease() override {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
    FileLease(const FileLease&) = delete;
    FileLease& operator=(const FileLease&) = delete;

private:
    int fd_;
};

std::string HostOf(const std::string& endpoint) {
    std::string host = endpoint;
    if (auto p = host.find("://"); p != std::string::npos) {
        host = host.substr(p + 3);
    }
    if (auto p = host.find('/'); p != std::string::npos) {
        host = host.substr(0, p);
    }
    return host;
}

}  // namespace

FileTokenBackend::FileTokenBackend(Registry& registry, std::string data_dir)
    : registry_(registry), data_dir_(std::move(data_dir)) {}

std::string FileTokenBackend::LockPath(const std::string& member_id) {
    auto record = registry_.Find(member_id);
    std::string db_file =
        record && !record->db_file.empty() ? record->db_file : Registry::DbFileFor(member_id);
    return (std::filesystem::path(data_dir_) / db_file).string() + ".tokens.lock";
}

std::unique_ptr<TokenBackend::Lease> FileTokenBackend::Acquire(const std::string& member_id) {
    const std::string path = LockPath(member_id);
    EnsurePrivateFile(path);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        throw std::runtime_error("cannot open the token lock " + path + ": " +
                                 std::strerror(errno));
    }
    // Blocking: the holder is one refresh (bounded by its timeouts and retries) or one write.
    int rc = 0;
    do {
        rc = ::flock(fd, LOCK_EX);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int err = errno;
        ::close(fd);
        throw std::runtime_error("cannot lock " + path + ": " + std::strerror(err));
    }
    return std::make_unique<FileLease>(fd);
}

std::optional<b24client::Credentials> FileTokenBackend::Read(const std::string& member_id) {
    auto record = registry_.Find(member_id);
    if (!record) {
        return std::nullopt;
    }
    return b24client::Credentials{record->endpoint, record->access_token, record->refresh_token,
                                  record->access_expires_at};
}

void FileTokenBackend::Write(const std::string& member_id, const b24client::Credentials& tokens) {
    auto record = registry_.Find(member_id);
    if (!record) {
        throw std::runtime_error("the portal is no longer stored");
    }
    registry_.UpdateTokens(member_id, tokens.access_token, tokens.refresh_token,
                           tokens.access_expires_at);
    if (!tokens.endpoint.empty() && tokens.endpoint != record->endpoint) {
        registry_.UpdateEndpoint(member_id, tokens.endpoint, HostOf(tokens.endpoint));
    }
}

PortalRefreshCoordinator::PortalRefreshCoordinator(std::shared_ptr<TokenBackend> backend,
                                                   std::string member_id,
                                                   Options options)
    : backend_(std::move(backend)), member_id_(std::move(member_id)), options_(options) {}

std::optional<b24client::Credentials> PortalRefreshCoordinator::unsaved() const {
    std::lock_guard lock(mutex_);
    return unsaved_;
}

bool PortalRefreshCoordinator::TryWrite(const b24client::Credentials& tokens) {
    auto wait = options_.write_backoff;
    for (int attempt = 1; attempt <= options_.write_attempts; ++attempt) {
        try {
            backend_->Write(member_id_, tokens);
            return true;
        } catch (const std::exception& e) {
            spdlog::error("portal {}: storing the refreshed tokens failed (attempt {} of {}): {}",
                          member_id_, attempt, options_.write_attempts, e.what());
        }
        if (attempt < options_.write_attempts) {
            std::this_thread::sleep_for(wait);  // a retry delay, not synchronisation
            wait *= 2;
        }
    }
    return false;
}

b24client::Credentials PortalRefreshCoordinator::Refresh(
    const b24client::Credentials& held,
    const std::function<b24client::Credentials(const b24client::Credentials&)>& trade) {
    using b24client::Error;
    using b24client::ErrorKind;
    std::unique_ptr<TokenBackend::Lease> lease = backend_->Acquire(member_id_);
    std::lock_guard lock(mutex_);

    std::optional<b24client::Credentials> stored;
    if (unsaved_ && unsaved_->access_token == held.access_token) {
        // This process runs on a pair the disk refused earlier: it is the newest; store it now.
        stored = unsaved_;
        if (TryWrite(*unsaved_)) {
            unsaved_.reset();
        }
    } else {
        stored = backend_->Read(member_id_);
    }
    if (!stored || stored->refresh_token.empty()) {
        throw Error(ErrorKind::kReinstallNeeded, "oauth", "",
                    "the portal has no stored refresh token (uninstalled or removed)");
    }
    if (!stored->access_token.empty() && stored->access_token != held.access_token) {
        // Another process (or a re-install) stored a newer pair while we held the old one.
        spdlog::info("portal {}: adopting the token pair stored by another refresh", member_id_);
        return *stored;
    }
    b24client::Credentials fresh;
    try {
        fresh = trade(*stored);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::kReinstallNeeded) {
            // Only the freshest pair's refusal counts: look once more before giving up.
            auto again = backend_->Read(member_id_);
            if (again && !again->access_token.empty() &&
                again->refresh_token != stored->refresh_token) {
                spdlog::info("portal {}: refresh refused, adopting a newer stored pair",
                             member_id_);
                return *again;
            }
            spdlog::warn("portal {}: the freshest stored refresh token was refused", member_id_);
        }
        throw;
    }
    if (!TryWrite(fresh)) {
        // Not lost while this process lives: it goes on with the pair and writes it first thing
        // at its next refresh. Only a crash before then loses it.
        spdlog::error("portal {}: the refreshed tokens could not be stored; kept in memory",
                      member_id_);
        unsaved_ = fresh;
    }
    return fresh;
}

}  // namespace server
