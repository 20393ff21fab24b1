#pragma once
// Private state of a Portal, shared by portal.cpp (HTTP, envelopes, limits, batch, tokens,
// lifecycle), rest_crm.cpp (CRM methods), rest_app.cpp (users, apps, events, placements),
// shell.cpp (shell endpoints) and mutations.cpp (the C++ mutation API).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fakeportal/portal.hpp"
#include "limits.hpp"
#include "util.hpp"

namespace fakeportal {

using json = nlohmann::ordered_json;

/// An error answer of a REST method.
struct RestError {
    int status = 400;
    std::string code;
    std::string description;
};

struct OfflineRecord {
    int64_t id = 0;
    double timestamp = 0;
    std::string event_name;
    json data;
    json additional;
    std::string message_id;
    std::string key;         // event name + object id (collapsing key)
    std::string process_id;  // reserved by this reader ("" = free)
    bool error = false;
    std::string connector;  // auth_connector of the binding that queued it
};

struct AppInstall {
    std::string client_id;
    bool installed = false;
    bool finished = false;
    std::string application_token;
    std::string version = "1";
    int64_t installer_user_id = 0;
    std::vector<PlacementBinding> placements;
    std::vector<EventBinding> events;
    json options = json::object();
    std::deque<OfflineRecord> offline;
    int64_t next_offline_id = 1;
};

struct AccessToken {
    std::string client_id;
    int64_t user_id = 0;
    double expires_at = 0;
    bool revoked = false;
};

struct RefreshToken {
    std::string client_id;
    int64_t user_id = 0;
    double expires_at = 0;
};

/// One call being executed (direct or nested in a batch).
struct Call {
    std::string method;  // lower case
    json params;
    User user;
    std::string client_id;
    bool nested = false;
    // Outputs filled by the handler.
    std::optional<int64_t> total;
    std::optional<int64_t> next;
    int64_t rows = 0;
    double cost = 0;
};

using Handler = std::function<json(Portal::Impl&, Call&)>;

struct MethodSpec {
    Handler handler;
    std::string scope;  // "" = basic
};

/// What a top-level request produced.
struct HttpAnswer {
    int status = 200;
    std::string body;
    std::string content_type = "application/json; charset=utf-8";
    std::string location;  // for 302
};

struct PendingEvent {
    std::string url;
    std::string body;
    std::string event;
};

struct Portal::Impl {
    // ---- configuration (immutable after construction unless noted) -------------------------
    Clock clock;
    std::function<std::optional<AppRegistration>(const std::string&)> find_app;
    std::function<std::vector<AppRegistration>()> list_apps;
    std::string server_endpoint;  // the cloud's /rest/
    std::string member_id;
    PortalOptions options;  // limits/costs/plan guarded by stats_mu

    // ---- servers ------------------------------------------------------------------------------
    struct Server {
        std::unique_ptr<httplib::Server> server;
        std::thread thread;
        int port = 0;
    };
    std::vector<Server> servers;  // the last one is the current domain; older ones redirect
    mutable std::mutex servers_mu;
    std::atomic<int> active_port{0};

    // ---- data (data_mu) -------------------------------------------------------------------------
    mutable std::shared_mutex data_mu;
    CrmData crm;
    std::vector<User> users;
    int64_t next_user_id = 1;
    std::map<std::string, AppInstall> apps;
    std::unordered_map<std::string, AccessToken> access_tokens;
    std::unordered_map<std::string, RefreshToken> refresh_tokens;
    std::unordered_set<std::string> used_refresh_tokens;  // rotated away (reuse is counted)
    bool subscription_ended = false;
    std::string shell_client_id;
    std::string shell_dir;
    int64_t next_event_binding_id = 1;

    // ---- limits, counters, faults (stats_mu) ----------------------------------------------------
    mutable std::mutex stats_mu;
    LeakyBucket bucket;
    std::map<std::string, OperatingLedger> ledgers;  // key: client_id + "|" + method
    CountersSnapshot counters;
    std::deque<Fault> scripted_faults;
    std::optional<RandomFaults> random_faults;
    std::mt19937_64 fault_rng{1};
    std::mt19937_64 rng{1};  // tokens, APP_SID, message ids (guarded by stats_mu)

    // ---- events (events_mu)
    // -----------------------------------------------------------------------
    std::mutex events_mu;
    std::condition_variable events_cv;
    std::deque<PendingEvent> event_queue;
    int events_in_flight = 0;
    bool stopping = false;
    std::vector<DeliveredEvent> delivered;
    std::thread event_thread;

    // ---- method table ---------------------------------------------------------------------------
    std::unordered_map<std::string, MethodSpec> methods;

    Impl(Clock clk, PortalOptions opts);
    ~Impl();
    void Start();
    void Stop();
    int StartServer();  // adds a server on a new port; returns the port

    double Now() const { return clock(); }
    /// Snapshots of the switchable settings (they may change while requests run).
    CostModel Costs() const {
        std::lock_guard lock(stats_mu);
        return options.costs;
    }
    LimitOptions LimitsNow() const {
        std::lock_guard lock(stats_mu);
        return options.limits;
    }
    int tz() const { return options.tz_offset_minutes; }
    std::string Domain() const { return "127.0.0.1:" + std::to_string(active_port.load()); }
    std::string Endpoint() const { return "http://" + Domain() + "/rest/"; }
    std::string Random(size_t n);

    // ---- HTTP -----------------------------------------------------------------------------------
    void HandleRest(const httplib::Request& req, httplib::Response& res, int server_port);
    HttpAnswer ExecuteTopLevel(const std::string& method, const json& params);
    HttpAnswer RunBatch(const json& params,
                        const User& user,
                        const std::string& client_id,
                        double started);
    /// Runs one call with scope/operating checks and accounting. Throws RestError.
    json RunCall(Call& call);
    json TimeObject(double start,
                    double processing,
                    const std::string& client_id,
                    const std::string& method,
                    bool with_operating);

    // ---- auth -----------------------------------------------------------------------------------
    /// Resolves an access token to (user, client_id). Throws RestError 401.
    std::pair<User, std::string> Authenticate(const json& params);
    TokenPair IssueTokensLocked(const std::string& client_id, int64_t user_id);
    const User* FindUserLocked(int64_t id) const;
    bool CanRead(const User& user, int64_t owner_id) const {
        return user.admin || user.crm_read == CrmRead::kAll || owner_id == user.id;
    }

    // ---- events
    // -----------------------------------------------------------------------------------
    /// Queues the event for every installed, finished app bound to it (online: POST; offline:
    /// queue record). Call with data_mu held (exclusive).
    void FireEventLocked(const std::string& event, const json& fields, const MutationContext& ctx);
    void EventLoop();
    /// POSTs a form body synchronously; returns the HTTP status (0 on connection failure).
    int PostForm(const std::string& url, const std::string& body, std::string* response_body);
    json EventAuthLocked(const AppInstall& app, int64_t user_id, bool with_refresh);

    // ---- write log ------------------------------------------------------------------------------
    void RecordWrite(const Call& call, int entity_type, int64_t id, const json& fields);

    // ---- registration of methods (rest_crm.cpp, rest_app.cpp)
    // ------------------------------------
    void RegisterCrmMethods();
    void RegisterAppMethods();
    void RegisterShellRoutes(httplib::Server& server);
    /// The app the shell shows ("" when none is registered).
    std::string ShellClientId();

    Portal* self = nullptr;  // the public object (set by the Cloud)
};

/// Throws RestError.
[[noreturn]] inline void Fail(int status, std::string code, std::string description) {
    throw RestError{status, std::move(code), std::move(description)};
}

/// A method parameter by either spelling (`filter` or `FILTER`); nullptr when absent.
inline const json* Param(const json& params, const char* lower, const char* upper) {
    if (params.contains(lower)) {
        return &params[lower];
    }
    if (params.contains(upper)) {
        return &params[upper];
    }
    return nullptr;
}

}  // namespace fakeportal
