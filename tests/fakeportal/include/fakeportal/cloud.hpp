#pragma once
// The fake Bitrix24 cloud: the OAuth server ("oauth.bitrix.info": /oauth/token/ and /rest/app.info
// on its own loopback port), the registry of marketplace applications, and the portals.
//
// Lifetime: the Cloud owns its portals; their servers stop when the Cloud is destroyed (or on
// Stop()). References returned by AddPortal stay valid until then.
// Thread-safety: every member may be called from any thread.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fakeportal/options.hpp"
#include "fakeportal/portal.hpp"

namespace fakeportal {

struct CloudOptions {
    Clock clock;      // default: SystemNow
    int threads = 4;  // OAuth server workers
};

class Cloud {
public:
    explicit Cloud(CloudOptions options = {});
    ~Cloud();
    Cloud(const Cloud&) = delete;
    Cloud& operator=(const Cloud&) = delete;

    /// Registers (or replaces) an application.
    void RegisterApp(const AppRegistration& app);
    std::optional<AppRegistration> FindApp(const std::string& client_id) const;
    /// Changes an app's handler URLs (e.g. once the app server knows its port).
    void SetAppUrls(const std::string& client_id,
                    const std::string& handler_url,
                    const std::string& installer_url,
                    const std::string& install_event_url);

    /// Creates and starts a portal.
    Portal& AddPortal(PortalOptions options = {});
    std::vector<Portal*> Portals() const;
    /// The portal with this member_id, or nullptr.
    Portal* FindPortal(const std::string& member_id) const;

    /// Every answer of /oauth/token/ waits this long first (a slow authorization server: widens
    /// the window in which two workers refresh the same pair). 0 = none.
    void SetTokenDelay(std::chrono::milliseconds delay);
    /// Requests /oauth/token/ has received so far (counted on arrival, before any delay).
    int64_t TokenRequests() const;
    /// Answers of /oauth/token/ name this client_endpoint instead of the portal's own (a
    /// compromised or confused authorization server). "" = the portal's.
    void SetTokenEndpointOverride(const std::string& client_endpoint);

    /// "http://127.0.0.1:<port>/rest/" — the server_endpoint handed to apps.
    std::string server_endpoint() const;
    /// "http://127.0.0.1:<port>/oauth/token/".
    std::string token_url() const;
    /// "127.0.0.1:<port>".
    std::string host() const;
    int port() const;
    double Now() const;
    const Clock& clock() const;

    /// Stops every portal and the OAuth server (idempotent; the destructor calls it).
    void Stop();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace fakeportal
