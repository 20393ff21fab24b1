#pragma once
// A portal's life with the app, and the trust checks every portal request passes
// (server/README.md "Trust model" and "Install, update, uninstall").
//
// Who can send what: every user who opens the app gets the portal's APPLICATION_TOKEN and their
// own AUTH_ID/REFRESH_ID in the page POST their browser submits. So the application token proves
// only "someone who opened the app", and a refresh token that trades at the authorization server
// proves only "some user of that portal". Privileged things are confirmed by the portal itself:
//
//  - Install, re-install, update (installer page, ONAPPINSTALL, ONAPPUPDATE): the refresh token is
//    traded at the authorization server (the answer must name the posted member_id and an https
//    client_endpoint), and at that endpoint the new token must belong to a portal admin
//    (`user.admin`, falling back on `profile`'s ADMIN) and `app.info` must answer for our app.
//    Only then is anything written (database file, registry row, tokens, application token); a
//    refused attempt changes nothing and is logged. A page POST never replaces the application
//    token of an installed portal (only of one whose install is known to be gone: uninstalled, or
//    blocked with reinstall_needed).
//  - ONAPPUNINSTALL carries no usable tokens; its application token proves nothing more than a
//    page load. It is confirmed with the portal: the stored admin tokens still working (app.info
//    answers, after a refresh if needed) means the app is still installed, and the claim is
//    refused (403, nothing changes). Tokens refused means uninstalled: jobs stop, sessions end,
//    tokens are dropped, the portal is blocked; with CLEAN=1 its data is purged after
//    `uninstall_grace_hours` (a confirmed re-install before then gets it back). A portal that
//    cannot be reached at all cannot confirm anything: the portal is left as it is and the claim
//    is kept (registry table uninstall_claim) for Upkeep to ask again later.
//  - CRM events: application token checked; a deleted id of a stored row is noted; one debounced
//    incremental run is asked for (never more than one queued per portal).
//  - Page loads: member_id known, APPLICATION_TOKEN equal (constant time), the stored endpoint
//    acceptable (https, or http with allow_http_portals), DOMAIN equal to the stored portal's
//    (after following a possible rename at the stored endpoint), and the user identified with
//    `profile` called with their own AUTH_ID at the stored endpoint.
//
// Every failure is an ApiError (401 unauthorized, 403 forbidden, 400 bad_request, 503).
// Thread-safe: installs, updates, uninstalls and purges of one portal are serialised.

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
struct OAuthGrant;

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

    // What the portal says about our install, asked with the stored admin tokens.
    enum class InstallCheck {
        kInstalled,    // the tokens work: the app is installed
        kGone,         // the tokens are refused: the app was uninstalled (or the portal deleted)
        kUnreachable,  // no answer either way (transport, 5xx, limits, subscription ended)
    };
    InstallCheck CheckInstalled(const std::string& member_id);

    // A confirmed uninstall: blocks the portal, drops its tokens, stops its jobs, forgets its
    // sessions and rights; with `clean`, schedules the purge after the grace period.
    void Uninstall(const std::string& member_id, bool clean);

    // Deletes everything stored about the portal (files and registry row) now. Returns false if
    // the portal is unknown.
    bool Purge(const std::string& member_id);

private:
    PortalRecord Known(const std::string& member_id, const std::string& application_token);
    // Trades the refresh token, proves the admin and the app at the returned endpoint, then
    // stores the portal (install or re-install). `source` names the request for the log.
    PortalRecord InstallWithRefreshToken(const std::string& member_id,
                                         const std::string& refresh_token,
                                         const std::string& application_token,
                                         const std::string& lang,
                                         const std::string& app_status,
                                         const char* source);
    // The authorization server's grant for a refresh token that must belong to `member_id`.
    OAuthGrant TradeFor(const std::string& member_id,
                        const std::string& refresh_token,
                        const char* source);
    // Throws 403 unless the token's user is a portal admin and app.info answers at `endpoint`.
    void ProveAdmin(const std::string& member_id,
                    const std::string& endpoint,
                    const std::string& access_token,
                    const char* source);
    void HandleUpdate(const std::string& member_id,
                      const std::string& app_token,
                      const Pairs& form);
    void HandleUninstallClaim(const PortalRecord& record, bool clean);
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
