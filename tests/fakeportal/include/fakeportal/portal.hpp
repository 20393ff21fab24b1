#pragma once
// One fake Bitrix24 portal: its own loopback HTTP server (domain "127.0.0.1:<port>", REST endpoint
// "http://127.0.0.1:<port>/rest/"), users, installed applications with their tokens, CRM data,
// limits, faults, counters, events, and the endpoints the portal shell uses.
//
// Portals are created and owned by a Cloud (cloud.hpp), which also runs the OAuth server.
// Thread-safety: every public member may be called from any thread, also while the server is
// answering requests. Mutations made through this API fire the same events a user's change in
// the portal UI would.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fakeportal/crm.hpp"
#include "fakeportal/options.hpp"

namespace fakeportal {

class Cloud;

struct PortalOptions {
    std::string member_id;        // generated (32 hex digits) when empty
    int tz_offset_minutes = 180;  // UTC offset used to render dates (+03:00)
    Plan plan = StandardPlan();
    LimitOptions limits;
    CostModel costs;
    double access_token_lifetime = 3600;  // seconds of portal time
    double refresh_token_lifetime = 180 * 86400;
    std::string shell_dir;               // static files served under /shell/ (empty: none)
    bool offline_events_feature = true;  // feature.get rest_offline_extended
    uint64_t seed = 1;                   // faults, tokens order, message ids
    int threads = 8;                     // HTTP worker threads
    bool create_default_users = true;    // user 1: admin "Admin Adminov"
    std::string language = "en";
};

/// Who makes a change through the C++ mutation API. user_id is the acting portal user (event
/// tokens belong to them); auth_connector behaves like the REST parameter of the same name.
struct MutationContext {
    int64_t user_id = 1;
    std::string auth_connector;
};

/// How the portal installs an application (reference §1.2–1.4).
enum class InstallFlow {
    kPageThenEvent,  // POST the installer page, then send ONAPPINSTALL
    kEventThenPage,  // ONAPPINSTALL first (it may arrive before the page)
    kPageOnly,       // only the installer page (the event got lost)
    kEventOnly,      // only ONAPPINSTALL (an app without UI)
    kSilent,         // no HTTP at all: state only (for client tests); marked finished
};

struct InstallResult {
    std::string application_token;
    TokenPair admin_tokens;  // the installing admin's tokens (as POSTed / sent)
    int page_status = 0;     // HTTP status of the installer POST (0 = not sent / failed)
    std::string page_body;
    int event_status = 0;  // HTTP status of the ONAPPINSTALL POST (0 = not sent / failed)
};

/// An online event POST the portal made (or tried to).
struct DeliveredEvent {
    std::string event;
    std::string handler;
    std::string body;  // the form-encoded body as sent
    int status = 0;    // HTTP status, 0 = connection failed
    double at = 0;
};

/// An app placement binding (placement.bind).
struct PlacementBinding {
    std::string placement;
    std::string handler;
    std::string title;
    std::string description;
    int64_t user_id = 0;
};

/// An event binding (event.bind).
struct EventBinding {
    int64_t id = 0;
    std::string event;    // upper case
    std::string handler;  // empty for offline
    bool offline = false;
    int64_t auth_type = 0;  // user whose token events carry (0 = the user who caused the change)
    std::string auth_connector;
    int64_t bound_by = 0;
};

/// What the shell's "open the app" action produces.
struct AppLaunch {
    std::string url;  // handler (or installer) URL with DOMAIN, PROTOCOL, LANG, APP_SID
    std::vector<std::pair<std::string, std::string>> fields;  // the form fields of the POST
};

class Portal {
public:
    ~Portal();
    Portal(const Portal&) = delete;
    Portal& operator=(const Portal&) = delete;

    // ---- identity -------------------------------------------------------------------------
    /// Current domain ("127.0.0.1:port"); changes on Rename().
    std::string domain() const;
    /// "http://<domain>/rest/".
    std::string endpoint() const;
    /// "http://<domain>".
    std::string base_url() const;
    int port() const;
    const std::string& member_id() const;
    int tz_offset_minutes() const;
    /// The portal's clock (the cloud's).
    double Now() const;
    /// Renders an epoch time the way this portal does: "2024-09-09T02:00:00+03:00".
    std::string FormatTime(Time t) const;

    // ---- users --------------------------------------------------------------------------
    int64_t AddUser(User user);
    std::vector<User> Users() const;
    std::optional<User> FindUser(int64_t id) const;
    void UpdateUser(const User& user);

    // ---- applications and tokens ------------------------------------------------------------
    /// Installs a registered app as `admin_user_id` following `flow`. Throws std::runtime_error
    /// for an unknown client_id or a non-admin installer.
    InstallResult InstallApp(const std::string& client_id,
                             int64_t admin_user_id = 1,
                             InstallFlow flow = InstallFlow::kPageThenEvent,
                             const std::string& lang = "en");
    /// BX24.installFinish(): from now on events are delivered and placements shown.
    void FinishInstall(const std::string& client_id);
    /// A new version: new application token, ONAPPUPDATE sent; returns the new application token.
    std::string UpdateApp(const std::string& client_id, const std::string& new_version = "2");
    /// Uninstall: ONAPPUNINSTALL {CLEAN}, tokens revoked, event and placement bindings removed;
    /// app options kept unless clean.
    void UninstallApp(const std::string& client_id, bool clean);
    bool IsInstalled(const std::string& client_id) const;
    bool IsInstallFinished(const std::string& client_id) const;
    /// The current application token ("" when not installed).
    std::string ApplicationToken(const std::string& client_id) const;
    /// Issues fresh tokens for a user of an installed app (what a user opening the app gets).
    TokenPair IssueTokens(const std::string& client_id, int64_t user_id);
    /// Every access token issued so far expires now (refresh tokens stay valid).
    void ExpireAccessTokens();
    /// Marks the subscription ended: refreshes answer PAYMENT_REQUIRED, app.info PAYMENT_EXPIRED=Y.
    void SetSubscriptionEnded(bool ended);
    /// Reading for the cloud's OAuth server: rotates a refresh token. Returns nullopt and sets
    /// `error` (invalid_grant, invalid_client, PAYMENT_REQUIRED) when it cannot.
    std::optional<TokenPair> RotateRefreshToken(const std::string& client_id,
                                                const std::string& client_secret,
                                                const std::string& refresh_token,
                                                std::string* error);
    /// Whether this portal issued the access token (for the cloud's app.info).
    bool OwnsAccessToken(const std::string& access_token) const;
    /// Whether this portal issued the refresh token (valid, expired or already used: a used one
    /// is refused as invalid_grant and counted in CountersSnapshot::refresh_reuses).
    bool OwnsRefreshToken(const std::string& refresh_token) const;
    /// app.info's result for a token (used by the cloud's /rest/app.info as well).
    nlohmann::json AppInfoFor(const std::string& access_token) const;

    std::vector<PlacementBinding> Placements(const std::string& client_id) const;
    std::vector<EventBinding> EventBindings(const std::string& client_id) const;
    nlohmann::json AppOptions(const std::string& client_id) const;

    // ---- events -----------------------------------------------------------------------------
    /// Blocks until every queued online event has been POSTed (or the timeout passes).
    bool WaitForEventsDelivered(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    std::vector<DeliveredEvent> DeliveredEvents() const;
    /// Number of records waiting in an app's offline queue (reserved ones included).
    size_t OfflineQueueSize(const std::string& client_id) const;

    // ---- CRM data: mutation API for tests ------------------------------------------------------
    /// T is one of Contact, Company, Deal, SmartInvoice, OldInvoice, Activity, Requisite.
    /// Add assigns the next id (dates left 0 become "now"), fires the *ADD event, returns the id.
    template <class T>
    int64_t Add(T row, const MutationContext& ctx = {});
    /// Applies `change` to the row, bumps its modification time, fires *UPDATE. False if absent.
    template <class T>
    bool Update(int64_t id, const std::function<void(T&)>& change, const MutationContext& ctx = {});
    /// Deletes the row (and, for contacts/companies, their bindings), fires *DELETE.
    template <class T>
    bool Delete(int64_t id, const MutationContext& ctx = {});
    template <class T>
    std::optional<T> Get(int64_t id) const;
    template <class T>
    size_t Count() const;

    /// crm.entity.mergeBatch: the first id survives and takes over the others' company/contact
    /// bindings, deals, invoices, activities and requisites; the others are deleted.
    bool MergeContacts(const std::vector<int64_t>& ids, const MutationContext& ctx = {});
    bool MergeCompanies(const std::vector<int64_t>& ids, const MutationContext& ctx = {});
    /// Removes the contact's binding to `from_company` (0: keep all) and binds it to `to_company`
    /// (0: none), as the primary company when `primary`. Fires ONCRMCONTACTUPDATE.
    bool MoveContactToCompany(int64_t contact_id,
                              int64_t from_company,
                              int64_t to_company,
                              bool primary = true,
                              const MutationContext& ctx = {});
    /// Moves a deal / smart invoice to a stage of its category (moved time = now).
    bool MoveDealToStage(int64_t deal_id,
                         const std::string& stage_id,
                         const MutationContext& ctx = {});
    bool MoveInvoiceToStage(int64_t invoice_id,
                            const std::string& stage_id,
                            const MutationContext& ctx = {});
    /// Direct access to the data without events or counters, under the portal's write lock (the
    /// dataset generator and test setup use it). Do not call back into the Portal from `fill`.
    void BulkLoad(const std::function<void(CrmData&)>& fill);
    /// Read-only access under the read lock.
    void Read(const std::function<void(const CrmData&)>& reader) const;
    /// The stored value of a user field on a contact/company, by FIELD_NAME (canonical text form,
    /// see UfValue); nullopt when unset or unknown.
    std::optional<std::string> UfValueOf(int entity_type_id,
                                         int64_t id,
                                         const std::string& field_name) const;

    // ---- limits, faults, counters --------------------------------------------------------------
    void SetLimits(const LimitOptions& limits);
    LimitOptions Limits() const;
    void SetCostModel(const CostModel& costs);
    void SetPlan(const Plan& plan);
    /// The next `count` matching /rest/ requests fail with `fault`.
    void FailNext(int count, const Fault& fault);
    void SetRandomFaults(const RandomFaults& faults);
    void ClearFaults();
    /// The operating seconds currently in the window of (client_id, method).
    double OperatingSeconds(const std::string& client_id, const std::string& method) const;
    /// The bucket's current fill level.
    double BucketLevel() const;
    /// Empties the bucket and the operating ledgers (not the counters).
    void ResetLimits();
    CountersSnapshot Counters() const;
    void ResetCounters();

    // ---- domain change -------------------------------------------------------------------------
    /// Moves the portal to a new port ("domain"); the old host keeps answering every request
    /// with a 302 to the same path on the new host. Returns the new domain.
    std::string Rename();

    // ---- shell support -------------------------------------------------------------------------
    /// What opening `client_id` in `placement` as `user_id` would POST (the shell endpoint's data).
    AppLaunch OpenApp(const std::string& client_id,
                      int64_t user_id,
                      const std::string& placement = "DEFAULT",
                      const nlohmann::json& placement_options = nlohmann::json::object(),
                      const std::string& lang = "en");
    /// The app the shell shows (the first installed / registered one unless set).
    void SetShellApp(const std::string& client_id);
    void SetShellDir(const std::string& dir);

    struct Impl;

private:
    friend class Cloud;
    explicit Portal(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace fakeportal
