#include "b24client/limiter.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>

#include "b24client/error.hpp"

namespace b24client {

// Per-method operating-time ledger. Two sources of truth are combined:
//  - `own`: durations of the calls we made ourselves, kept for one window, merged per second;
//  - the portal's last report (time.operating), which also counts calls we did not see (an
//    earlier process, another client of the same app). The report is carried forward: calls we
//    make after it are added, our own calls that were inside it are subtracted as they leave
//    the window, and the whole report is dropped at its operating_reset_at (the next answer
//    brings a fresh one).
struct PortalLimiter::Ledger {
    std::deque<std::pair<double, double>> own;  // (clock time, seconds)
    double own_sum = 0.0;
    bool has_report = false;
    double report_at = 0.0;
    double report_adj = 0.0;
    double report_reset_at = 0.0;
    double blocked_until = 0.0;
    double avg_call = 0.0;
    bool has_avg = false;
};

namespace {

void Prune(std::deque<std::pair<double, double>>& own,
           double& own_sum,
           bool has_report,
           double report_at,
           double& report_adj,
           double horizon) {
    while (!own.empty() && own.front().first <= horizon) {
        own_sum -= own.front().second;
        if (has_report && own.front().first <= report_at) {
            report_adj = std::max(0.0, report_adj - own.front().second);
        }
        own.pop_front();
    }
    own_sum = std::max(0.0, own_sum);
}

}  // namespace

LimitPlan LimitPlan::Standard() {
    return LimitPlan{};
}

LimitPlan LimitPlan::Enterprise() {
    LimitPlan p;
    p.drain_per_second = 5.0;
    p.burst = 250.0;
    p.bucket_margin = 5.0;
    return p;
}

LimitPlan LimitPlan::ForLicenseFamily(std::string_view license_family) {
    std::string f(license_family);
    std::transform(f.begin(), f.end(), f.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return f.rfind("ent", 0) == 0 ? Enterprise() : Standard();
}

void Stats::MergeFrom(const Stats& o) {
    for (const auto& [name, m] : o.methods) {
        auto& mine = methods[name];
        mine.http_requests += m.http_requests;
        mine.nested_calls += m.nested_calls;
        mine.operating_seconds += m.operating_seconds;
    }
    http_requests += o.http_requests;
    retries += o.retries;
    refreshes += o.refreshes;
    redirects += o.redirects;
    query_limit_refusals += o.query_limit_refusals;
    operation_limit_refusals += o.operation_limit_refusals;
    transient_failures += o.transient_failures;
    bucket_wait_seconds += o.bucket_wait_seconds;
    budget_wait_seconds += o.budget_wait_seconds;
    backoff_wait_seconds += o.backoff_wait_seconds;
}

std::string NormalizeMethod(std::string_view method) {
    std::string m(method);
    std::transform(m.begin(), m.end(), m.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return m;
}

PortalLimiter::PortalLimiter(LimitPlan plan, std::shared_ptr<Clock> clock)
    : plan_(plan), clock_(clock ? std::move(clock) : SystemClock()) {
    plan_.drain_per_second = std::max(plan_.drain_per_second, 1e-6);
    plan_.burst = std::max(plan_.burst, 1.0);
    plan_.bucket_margin = std::clamp(plan_.bucket_margin, 0.0, plan_.burst - 1.0);
    plan_.operating_window_s = std::max(plan_.operating_window_s, 1.0);
    plan_.initial_call_estimate_s = std::max(plan_.initial_call_estimate_s, 1e-3);
}

double PortalLimiter::AcquireRequest(const CancelToken* cancel) {
    return *TryAcquireRequest(-1.0, cancel);
}

std::optional<double> PortalLimiter::TryAcquireRequest(double max_wait_s,
                                                       const CancelToken* cancel) {
    double admit_at = 0.0;
    double now = 0.0;
    {
        std::lock_guard lock(mu_);
        now = clock_->Now();
        const double interval = 1.0 / plan_.drain_per_second;
        const double capacity = plan_.burst - plan_.bucket_margin;  // >= 1
        // The level at time t is (tat_ - t) * rate; a request may go when the level plus
        // itself stays within capacity.
        admit_at = std::max(now, tat_ - (capacity - 1.0) * interval);
        if (max_wait_s >= 0.0 && admit_at - now > max_wait_s) {
            return std::nullopt;
        }
        tat_ = std::max(tat_, admit_at) + interval;
    }
    double waited = 0.0;
    while (true) {
        const double remaining = admit_at - now;
        if (remaining <= 1e-3) {
            break;
        }
        if (cancel != nullptr && cancel->IsCancelled()) {
            throw Error(ErrorKind::kCancelled, "", "", "cancelled while waiting for the bucket");
        }
        clock_->SleepFor(std::min(remaining, kWaitSliceSeconds));
        const double later = clock_->Now();
        waited += std::max(0.0, later - now);
        now = later;
    }
    return waited;
}

void PortalLimiter::OnQueryLimitExceeded() {
    std::lock_guard lock(mu_);
    const double now = clock_->Now();
    tat_ = std::max(tat_, now + plan_.burst / plan_.drain_per_second);
}

double PortalLimiter::BucketDelay() const {
    std::lock_guard lock(mu_);
    const double now = clock_->Now();
    const double capacity = plan_.burst - plan_.bucket_margin;
    return std::max(0.0, tat_ - (capacity - 1.0) / plan_.drain_per_second - now);
}

PortalLimiter::Ledger& PortalLimiter::LedgerFor(std::string_view method) const {
    const std::string key = NormalizeMethod(method);
    auto it = ledgers_.find(key);
    if (it == ledgers_.end()) {
        it = ledgers_.emplace(key, std::make_shared<Ledger>()).first;
    }
    return *it->second;
}

double PortalLimiter::EstimateLocked(Ledger& l, double now) const {
    Prune(l.own, l.own_sum, l.has_report, l.report_at, l.report_adj,
          now - plan_.operating_window_s);
    if (l.has_report) {
        const double reset = l.report_reset_at > l.report_at
                                 ? l.report_reset_at
                                 : l.report_at + plan_.operating_window_s;
        if (now >= reset) {
            l.has_report = false;  // stale: the next answer brings a fresh figure
        }
    }
    return l.has_report ? std::max(l.own_sum, l.report_adj) : l.own_sum;
}

int PortalLimiter::AllowanceLocked(Ledger& l, double now) const {
    if (now < l.blocked_until) {
        return 0;
    }
    const double est = EstimateLocked(l, now);
    const double budget = plan_.operating_limit_s - plan_.operating_margin_s - est;
    const double avg = l.has_avg ? std::max(l.avg_call, 1e-3) : plan_.initial_call_estimate_s;
    if (budget < avg) {
        return 0;
    }
    return static_cast<int>(std::min(1000.0, std::floor(budget / avg + 1e-9)));
}

double PortalLimiter::ReadyAtLocked(Ledger& l, double now, int calls) const {
    const double avg = l.has_avg ? std::max(l.avg_call, 1e-3) : plan_.initial_call_estimate_s;
    const int max_calls =
        static_cast<int>(std::floor((plan_.operating_limit_s - plan_.operating_margin_s) / avg));
    calls = std::clamp(calls, 1, std::max(1, max_calls));
    if (AllowanceLocked(l, now) >= calls) {
        return now;
    }
    const double target = plan_.operating_limit_s - plan_.operating_margin_s - calls * avg;
    const double start = std::max(now, l.blocked_until);
    const double reset =
        l.has_report ? (l.report_reset_at > l.report_at ? l.report_reset_at
                                                        : l.report_at + plan_.operating_window_s)
                     : start;
    // Walk the future expiries of our own entries (and the report's reset) in time order.
    double own_left = l.own_sum;
    double report_left = l.report_adj;
    auto estimate_at = [&](double t) {
        const bool report_alive = l.has_report && t < reset;
        return report_alive ? std::max(own_left, report_left) : own_left;
    };
    if (start > now && estimate_at(start) <= target) {
        return start;
    }
    bool reset_checked = !l.has_report;
    for (const auto& [t, s] : l.own) {
        const double expiry = t + plan_.operating_window_s;
        if (!reset_checked && reset <= expiry) {
            reset_checked = true;
            if (own_left <= target) {
                return std::max(start, reset);
            }
        }
        own_left -= s;
        if (l.has_report && t <= l.report_at) {
            report_left -= s;
        }
        if (estimate_at(expiry) <= target) {
            return std::max(start, expiry);
        }
    }
    if (!reset_checked) {
        return std::max(start, reset);
    }
    // Nothing we know of frees the budget (the limit is below one call): try after a window.
    return std::max(start, now + plan_.operating_window_s / 10.0);
}

void PortalLimiter::RecordCall(std::string_view method,
                               double duration_s,
                               std::optional<double> operating_s,
                               std::optional<double> reset_at) {
    std::lock_guard lock(mu_);
    const double now = clock_->Now();
    Ledger& l = LedgerFor(method);
    duration_s = std::max(0.0, duration_s);
    EstimateLocked(l, now);
    if (!l.own.empty() && now - l.own.back().first < 1.0) {
        l.own.back().second += duration_s;
    } else {
        l.own.emplace_back(now, duration_s);
    }
    l.own_sum += duration_s;
    if (l.has_report) {
        l.report_adj += duration_s;
    }
    if (operating_s) {
        l.has_report = true;
        l.report_at = now;
        l.report_adj = std::max(0.0, *operating_s);
        l.report_reset_at = reset_at.value_or(0.0);
        // Our entries merged into the current second are part of this report.
        if (!l.own.empty()) {
            l.own.back().first = std::min(l.own.back().first, now);
        }
    }
    l.avg_call = l.has_avg ? 0.8 * l.avg_call + 0.2 * duration_s : duration_s;
    l.has_avg = true;
}

void PortalLimiter::OnOperationLimit(std::string_view method, std::optional<double> reset_at) {
    std::lock_guard lock(mu_);
    const double now = clock_->Now();
    Ledger& l = LedgerFor(method);
    EstimateLocked(l, now);
    double until = 0.0;
    if (reset_at && *reset_at > now) {
        until = *reset_at;
    } else if (l.has_report && l.report_reset_at > now) {
        until = l.report_reset_at;
    } else {
        until = now + plan_.operating_window_s / 10.0;
    }
    l.blocked_until = std::max(l.blocked_until, until);
    // The portal's count is at the limit: keep it until the reset.
    l.has_report = true;
    l.report_at = now;
    l.report_adj = std::max(l.report_adj, plan_.operating_limit_s);
    l.report_reset_at = l.blocked_until;
}

void PortalLimiter::NoteMinimumCallCost(std::string_view method, double seconds) {
    std::lock_guard lock(mu_);
    Ledger& l = LedgerFor(method);
    const double current = l.has_avg ? l.avg_call : plan_.initial_call_estimate_s;
    l.avg_call = std::max(current, seconds);
    l.has_avg = true;
}

int PortalLimiter::Allowance(std::string_view method) const {
    std::lock_guard lock(mu_);
    return AllowanceLocked(LedgerFor(method), clock_->Now());
}

double PortalLimiter::MethodReadyAt(std::string_view method, int calls) const {
    std::lock_guard lock(mu_);
    return ReadyAtLocked(LedgerFor(method), clock_->Now(), calls);
}

int PortalLimiter::MaxAllowance(std::string_view method) const {
    std::lock_guard lock(mu_);
    const Ledger& l = LedgerFor(method);
    const double avg = l.has_avg ? std::max(l.avg_call, 1e-3) : plan_.initial_call_estimate_s;
    return std::max(1, static_cast<int>(
                           std::floor((plan_.operating_limit_s - plan_.operating_margin_s) / avg)));
}

double PortalLimiter::EstimatedOperating(std::string_view method) const {
    std::lock_guard lock(mu_);
    return EstimateLocked(LedgerFor(method), clock_->Now());
}

double PortalLimiter::AverageCallSeconds(std::string_view method) const {
    std::lock_guard lock(mu_);
    const Ledger& l = LedgerFor(method);
    return l.has_avg ? l.avg_call : plan_.initial_call_estimate_s;
}

double PortalLimiter::WaitForMethods(const std::vector<std::string>& methods,
                                     const CancelToken* cancel) {
    double waited = 0.0;
    double now = clock_->Now();
    while (true) {
        double ready = now;
        {
            std::lock_guard lock(mu_);
            now = clock_->Now();
            for (const auto& m : methods) {
                ready = std::max(ready, ReadyAtLocked(LedgerFor(m), now, 1));
            }
        }
        if (ready - now <= 1e-3) {
            return waited;
        }
        if (cancel != nullptr && cancel->IsCancelled()) {
            throw Error(ErrorKind::kCancelled, "", "",
                        "cancelled while waiting for a method budget");
        }
        clock_->SleepFor(std::min(ready - now, kWaitSliceSeconds));
        const double later = clock_->Now();
        waited += std::max(0.0, later - now);
        now = later;
    }
}

Stats PortalLimiter::GetStats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

void PortalLimiter::AddStats(const Stats& delta) {
    std::lock_guard lock(mu_);
    stats_.MergeFrom(delta);
}

}  // namespace b24client
