#pragma once
// Configuration and observation types of the fake portal: plans, limits, the simulated cost
// model, faults, counters, users and registered applications.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fakeportal {

/// Epoch seconds. Every time the fake uses (token expiry, bucket drain, operating windows, dates
/// of new rows, event timestamps) comes from one of these; tests pass a scaled or manual clock.
using Clock = std::function<double()>;

/// Real wall-clock time, epoch seconds.
double SystemNow();

/// The portal's subscription plan: leaky-bucket parameters and what app.info reports.
struct Plan {
    int burst = 50;               // requests the bucket holds before refusing
    double drain_per_second = 2;  // how fast it empties
    std::string license = "ru_std";
    std::string license_type = "std";
    std::string license_family = "std";
};
Plan StandardPlan();    // burst 50, drains 2/s
Plan EnterprisePlan();  // burst 250, drains 5/s, LICENSE_FAMILY "ent"

/// Each limit can be switched off so a benchmark can count without being refused.
struct LimitOptions {
    bool enforce_bucket = true;
    bool enforce_operating = true;
    bool enforce_request_cap = true;
    double operating_window_seconds = 600;  // 10 buckets of window/10
    double operating_limit_seconds = 480;
    double request_cap_seconds = 60;  // simulated processing per HTTP request before a 504
};

/// Simulated server processing time per call, in seconds. It feeds `time.processing`, the
/// per-method operating ledger and the per-request cap; nothing really sleeps.
/// Defaults follow the published measurements (≈0.2–0.5 s for a 50-row page, COUNT(*) costing
/// ≈2e-5 s per row of the table, ≈0.3–0.5 s per update).
struct CostModel {
    double list_base = 0.05;         // every list call
    double list_per_row = 0.004;     // per returned row (50 rows: +0.2 s)
    double count_base = 0.10;        // extra for a counted list (start >= 0)
    double count_per_row = 0.00002;  // extra per row of the whole table when counting
    double get = 0.03;               // *.get
    double add = 0.35;
    double update = 0.30;
    double remove = 0.25;
    double link_get = 0.02;         // *.items.get, crm.activity.binding.list
    double directory = 0.02;        // crm.status.list, crm.category.list, userfield.list/get
    double userfield_write = 0.20;  // userfield add/update/delete
    double cheap = 0.002;           // profile, app.info, user.*, event.*, placement.*, options
};

enum class CrmRead {
    kAll,  // reads every CRM row
    kOwn,  // reads only rows with ASSIGNED_BY_ID (RESPONSIBLE_ID for activities) = the user
};

struct User {
    int64_t id = 0;  // assigned by the portal when 0
    std::string name, last_name, email;
    bool admin = false;
    bool active = true;
    CrmRead crm_read = CrmRead::kAll;
    std::string gender = "M";
    std::string time_zone = "Europe/Moscow";
    std::string work_position;
};

/// A marketplace application known to the cloud (the vendor's registration).
struct AppRegistration {
    std::string client_id;
    std::string client_secret;
    std::string code = "vendor.app";  // CODE in app.info
    std::string name = "Test application";
    std::string version = "1";
    std::string handler_url;        // the app's main page (iframe)
    std::string installer_url;      // installer page (gets the install POST); may equal handler
    std::string install_event_url;  // ONAPPINSTALL / ONAPPUPDATE / ONAPPUNINSTALL handler
    std::vector<std::string> scopes = {"crm", "placement", "user_brief", "basic"};
    std::string status = "F";  // L F D T P
};

/// Tokens issued to one user of one installed app.
struct TokenPair {
    std::string access_token;
    std::string refresh_token;
    int64_t expires_in = 3600;
    double expires_at = 0;  // epoch seconds
    int64_t user_id = 0;
};

enum class FaultKind {
    kHtml500,        // HTTP 500 with an HTML body; the call did not run
    kHtml503,        // HTTP 503 with an HTML body; the call did not run
    kDropBeforeRun,  // headers sent, body cut off; the call did NOT run
    kDropAfterRun,   // the call ran (writes applied, counted), then the body is cut off
    kSlow,  // the call runs normally but the answer is delayed by `delay_seconds` real time
};

struct Fault {
    FaultKind kind = FaultKind::kHtml500;
    double delay_seconds = 0.2;  // kSlow only (real seconds)
    std::string method;          // only requests to this method (lower case); empty = any /rest/
};

/// Faults drawn at random per /rest/ request from a seeded generator (deterministic sequence).
struct RandomFaults {
    double p_html500 = 0, p_html503 = 0, p_drop_before = 0, p_drop_after = 0, p_slow = 0;
    double slow_seconds = 0.1;
    uint64_t seed = 1;
};

struct MethodCounters {
    int64_t http_requests = 0;  // top-level HTTP requests to this method (a batch counts as batch)
    int64_t direct_calls = 0;   // calls executed as a top-level request
    int64_t nested_calls = 0;   // calls executed inside a batch
    int64_t rows_returned = 0;  // list rows returned (direct + nested)
    int64_t errors = 0;         // calls answered with an error
    double operating_seconds = 0;  // simulated processing charged to this method
};

/// One card/row write through REST (legacy *.update, crm.item.update, *.add).
struct WriteRecord {
    std::string method;
    int entity_type_id = 0;
    int64_t entity_id = 0;
    nlohmann::json fields;               // as sent by the client
    std::string register_history_event;  // params.REGISTER_HISTORY_EVENT as sent ("" if absent)
    std::string auth_connector;          // auth_connector as sent ("" if absent)
    int64_t user_id = 0;                 // token owner
    std::string client_id;
    double at = 0;        // portal clock
    bool nested = false;  // inside a batch
};

struct CountersSnapshot {
    std::map<std::string, MethodCounters> methods;  // keyed by lower-case method name
    int64_t http_requests = 0;         // every HTTP request to /rest/ (incl. refused, redirected)
    int64_t query_limit_exceeded = 0;  // 503 QUERY_LIMIT_EXCEEDED answers
    int64_t operation_time_limit = 0;  // OPERATION_TIME_LIMIT answers (direct or nested)
    int64_t request_cap_exceeded = 0;  // requests cut off by the request cap
    int64_t refreshes = 0;             // successful refresh_token grants for this portal
    int64_t refresh_failures = 0;
    /// Refresh attempts with a refresh token that had already been used (rotated away): two
    /// workers that refreshed the same pair. Also counted in refresh_failures.
    int64_t refresh_reuses = 0;
    int64_t faults_injected = 0;
    /// Batches by their number of commands (for judging how well a client packs them).
    std::map<int, int64_t> batch_sizes;
    int64_t redirects = 0;         // 302 answers of a renamed portal's old host
    int64_t events_delivered = 0;  // online event POSTs answered 2xx
    int64_t event_delivery_failures = 0;
    std::vector<WriteRecord> writes;

    /// Counters of one method (all zero when it was never called).
    const MethodCounters& Method(const std::string& name) const;
    /// Sum of operating seconds over all methods.
    double TotalOperatingSeconds() const;
};

}  // namespace fakeportal
