#pragma once
// A portal's life with the app, and the trust checks every portal request passes
// (server/README.md "Install" and "Trust").
//
//  - Installer page and ONAPPINSTALL, in either order or only one of them: a portal that is not
//    known yet (or comes back with a new application token, i.e. a re-install) is confirmed with
//    the authorization server: its refresh token is traded for a new pair, the answer's member_id
//    must be the one posted, and the answer's client_endpoint becomes the stored endpoint. The
//    refresh token rotates, so the second of page and event may carry an already used token; it is
//    accepted when its application token equals the stored one. Then placements and events are
//    bound, the plan is read from app.info, offline events are bound where the portal has them,
//    and the first sync is queued.
//  - ONAPPUPDATE carries a new application token and fresh tokens: confirmed the same way.
//  - ONAPPUNINSTALL (no usable tokens): the stored application token is the only proof. Jobs stop;
//    with CLEAN=1 every piece of the portal's data goes.
//  - CRM events: application token checked, a deleted id noted for the next incremental run, and
//    an incremental run scheduled (debounced); the answer is immediate.
//  - Page loads: member_id known, APPLICATION_TOKEN equal (constant time), the stored endpoint
//    acceptable (https, or http with allow_http_portals), DOMAIN equal to the stored portal's
//    (after following a possible rename at the stored endpoint), and the user identified with
//    `profile` called with their own AUTH_ID at the stored endpoint.
//
// Every failure is an ApiError (401 unauthorized, 403 forbidden, 400 bad_request, 503).
// Thread-safe: installs of one portal are serialised.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "config.hpp"
#include "http/util.hpp"
#include "jobs.hpp"
#include "portals.hpp"
#include "registry.hpp"

namespace server::http {

class SessionStore;
class RightsCache;
class OAuthServer;

// What a portal's page POST carries (query and form, reference §1.2).
struct PagePost {
    std::string member_id;
    std::string auth_id;
    std::string refresh_id;
    std::string application_token;
    std::string domain;
    std::string protocol;
    std::string lang;  // as posted (LANG)
    std::string app_status;
    std::string placement;
    std::string placement_options;
    std::int64_t auth_expires = 3600;

    // Reads and validates the fields (400 bad_request naming the first bad one).
    static PagePost From(const Pairs& query, const Pairs& form);
};

struct PortalUser {
    std::int64_t id = 0;
    std::string name;
    bool is_admin = false;
};

// The CRM events bound online and offline, and the stored entity each one reports.
const std::map<std::string, std::string>& CrmEvents();

class Lifecycle {
public:
    Lifecycle(const Config& config,
              Registry& registry,
              PortalManager& portals,
              JobRunner& jobs,
              SessionStore& sessions,
              RightsCache& rights,
              const OAuthServer& oauth,
              std::function<std::int64_t()> now);

    // A page load of an installed portal.
    PortalRecord VerifyPage(const PagePost& post);
    // The installer page: a known portal as VerifyPage; otherwise confirmed and stored (above).
    PortalRecord AcceptInstallPage(const PagePost& post);
    // `profile` with the user's own token at the stored endpoint.
    PortalUser IdentifyUser(const PortalRecord& record, const std::string& auth_id);
    // POST /b24/events (form fields as sent).
    void HandleEvent(const Pairs& form);

    // Bindings, plan, install state and offline events of a stored portal; idempotent. Throws
    // b24client::Error when the portal refuses.
    void SetUp(const std::string& member_id);

    // Stops the portal's jobs and, if `clean`, deletes everything stored about it.
    void Uninstall(const std::string& member_id, bool clean);

private:
    PortalRecord Known(const std::string& member_id, const std::string& application_token);
    PortalRecord InstallWithRefreshToken(const std::string& member_id,
                                         const std::string& refresh_token,
                                         const std::string& application_token,
                                         const std::string& lang,
                                         const std::string& app_status);
    PortalRecord CheckDomain(PortalRecord record, const std::string& domain);
    void CheckEndpoint(const PortalRecord& record) const;
    std::shared_ptr<std::mutex> InstallLock(const std::string& member_id);

    const Config& config_;
    Registry& registry_;
    PortalManager& portals_;
    JobRunner& jobs_;
    SessionStore& sessions_;
    RightsCache& rights_;
    const OAuthServer& oauth_;
    std::function<std::int64_t()> now_;
    std::mutex locks_mutex_;
    std::map<std::string, std::shared_ptr<std::mutex>> install_locks_;
};

}  // namespace server::http
