#pragma once
// The portal's limits, kept as a budget on our side (README "Limiter design").
//
// Bitrix24 enforces two independent limits per portal:
//  - a leaky bucket on HTTP requests (a batch counts once): standard plans drain 2/s with a
//    burst of 50, enterprise 5/s with 250; above the burst the portal answers
//    503 QUERY_LIMIT_EXCEEDED;
//  - per-method accumulated execution time ("operating") over a sliding 10-minute window,
//    480 s by default; past it the method answers 429 OPERATION_TIME_LIMIT until its oldest
//    minute drops out (time.operating_reset_at).
// A PortalLimiter models both so that a well-behaved run is never refused. It belongs to the
// PORTAL, not to a token: every Client of one portal (admin token, user tokens) must share one
// limiter object (the server keeps one per member_id).
//
// Thread-safety: every member function is thread-safe. Waiting functions block the calling
// thread on the limiter's Clock and observe the CancelToken between slices of at most
// `kWaitSliceSeconds` of clock time.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "b24client/clock.hpp"

namespace b24client {

struct LimitPlan {
    double drain_per_second = 2.0;      // bucket drain rate (requests per second)
    double burst = 50.0;                // the portal refuses above this many queued requests
    double bucket_margin = 3.0;         // requests kept in reserve below `burst` (latency jitter)
    double operating_limit_s = 480.0;   // per-method budget in the window
    double operating_window_s = 600.0;  // sliding window length
    double operating_margin_s = 24.0;   // seconds of budget kept in reserve (5 %)
    double initial_call_estimate_s = 0.25;  // cost guess for a method never seen yet

    static LimitPlan Standard();    // 2/s, burst 50
    static LimitPlan Enterprise();  // 5/s, burst 250
    // app.info LICENSE_FAMILY: "ent" (and "ent*") -> Enterprise, anything else -> Standard.
    static LimitPlan ForLicenseFamily(std::string_view license_family);
};

// Counters the benchmark and the UI read. Times in seconds.
struct MethodStats {
    std::uint64_t http_requests = 0;  // requests whose top-level method is this ("batch" too)
    std::uint64_t nested_calls = 0;   // commands of this method inside batches
    double operating_seconds = 0.0;   // execution time the portal reported for this method
};

struct Stats {
    std::map<std::string, MethodStats> methods;  // keyed by method name, lower case
    std::uint64_t http_requests = 0;             // every HTTP request sent to the portal
    std::uint64_t retries = 0;                   // requests repeated after a failure
    std::uint64_t refreshes = 0;                 // OAuth refresh requests sent
    std::uint64_t redirects = 0;                 // portal renames followed
    std::uint64_t query_limit_refusals = 0;      // QUERY_LIMIT_EXCEEDED seen
    std::uint64_t operation_limit_refusals = 0;  // OPERATION_TIME_LIMIT seen (HTTP or nested)
    std::uint64_t transient_failures = 0;        // 5xx, HTML, dropped connections, timeouts
    double bucket_wait_seconds = 0.0;            // time spent waiting for the request bucket
    double budget_wait_seconds = 0.0;            // time spent waiting for operating budgets
    double backoff_wait_seconds = 0.0;           // time spent in retry backoff

    void MergeFrom(const Stats& other);
};

class PortalLimiter {
public:
    static constexpr double kWaitSliceSeconds = 0.5;

    explicit PortalLimiter(LimitPlan plan, std::shared_ptr<Clock> clock = SystemClock());
    PortalLimiter(const PortalLimiter&) = delete;
    PortalLimiter& operator=(const PortalLimiter&) = delete;

    const LimitPlan& plan() const noexcept { return plan_; }
    const std::shared_ptr<Clock>& clock() const noexcept { return clock_; }

    // --- request bucket ---------------------------------------------------------------
    // Blocks until one more request fits the bucket, then takes the slot. Slots are handed out
    // in call order (each caller reserves its own future slot). Returns the seconds waited.
    // Throws Error{kCancelled} if `cancel` is set while waiting (the slot is still consumed).
    double AcquireRequest(const CancelToken* cancel = nullptr);
    // The same, but only if the slot comes within `max_wait_s`: otherwise nothing is taken and
    // std::nullopt is returned at once (a caller who must not wait long answers "busy").
    std::optional<double> TryAcquireRequest(double max_wait_s, const CancelToken* cancel = nullptr);
    // The portal said QUERY_LIMIT_EXCEEDED: our model was optimistic (another app on the same
    // IP, clock drift). Treat the bucket as full from now on.
    void OnQueryLimitExceeded();
    // Seconds until a request would be admitted (0 if now). Does not take a slot.
    double BucketDelay() const;

    // --- operating-time ledger ----------------------------------------------------------
    // Records one executed call of `method`: its duration (from result_time / time) and, when
    // the portal reported them, the method's accumulated `operating` and `operating_reset_at`.
    void RecordCall(std::string_view method,
                    double duration_s,
                    std::optional<double> operating_s,
                    std::optional<double> reset_at);
    // The portal refused `method` with OPERATION_TIME_LIMIT. `reset_at`, if known, is when the
    // oldest minute drops out; without it the last reported reset (or one minute) is used.
    void OnOperationLimit(std::string_view method, std::optional<double> reset_at);
    // How many calls of `method` may run now without crossing the budget (limit - margin),
    // using the method's average call cost. 0 means: wait (see MethodReadyAt).
    int Allowance(std::string_view method) const;
    // The earliest clock time at which Allowance(method) may reach `calls` (now if it does).
    double MethodReadyAt(std::string_view method, int calls = 1) const;
    // The largest allowance the method can ever have: floor((limit - margin) / average cost).
    int MaxAllowance(std::string_view method) const;
    // Our estimate of the method's operating seconds in the current window.
    double EstimatedOperating(std::string_view method) const;
    // Average cost of one call of `method` in seconds (moving average of reported durations).
    double AverageCallSeconds(std::string_view method) const;
    // A request with `method` calls took longer than it should (the portal's 60 s cap, our
    // timeout): raise the method's average call cost to at least `seconds` so that the next
    // batches plan shorter chains. Does not count as operating time.
    void NoteMinimumCallCost(std::string_view method, double seconds);
    // Blocks until every method in `methods` has a positive allowance. Returns seconds waited.
    double WaitForMethods(const std::vector<std::string>& methods,
                          const CancelToken* cancel = nullptr);

    // --- statistics -------------------------------------------------------------------
    Stats GetStats() const;
    void AddStats(const Stats& delta);

private:
    struct Ledger;
    Ledger& LedgerFor(std::string_view method) const;  // requires mu_
    double EstimateLocked(Ledger& l, double now) const;
    int AllowanceLocked(Ledger& l, double now) const;
    double ReadyAtLocked(Ledger& l, double now, int calls) const;

    LimitPlan plan_;
    std::shared_ptr<Clock> clock_;
    mutable std::mutex mu_;
    double tat_ = 0.0;  // GCRA theoretical arrival time of the next request
    mutable std::map<std::string, std::shared_ptr<Ledger>, std::less<>> ledgers_;
    Stats stats_;
};

// Lower-cases a method name (the platform matches names case-insensitively).
std::string NormalizeMethod(std::string_view method);

}  // namespace b24client
