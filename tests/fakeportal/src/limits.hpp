#pragma once
// The two documented limits as plain arithmetic (no locking, no clock of their own).
#include <deque>
#include <utility>

namespace fakeportal {

/// Leaky bucket: each admitted request adds 1; the level drains at `rate` per second; a request
/// arriving while the level is at or above `burst` is refused (and adds nothing).
class LeakyBucket {
public:
    /// Drains to `now`, then admits (true, level += 1) or refuses (false).
    bool Admit(double now, int burst, double rate);
    double Level(double now, double rate);
    void Reset() {
        level_ = 0;
        last_ = 0;
    }

private:
    void Drain(double now, double rate);
    double level_ = 0;
    double last_ = 0;
};

/// Per-(app, method) operating time over a sliding window of 10 buckets of window/10 seconds.
/// A bucket opens at the first call of its slot and drops out `window` seconds after it opened.
class OperatingLedger {
public:
    /// Seconds accumulated in the window at `now`.
    double Sum(double now, double window);
    /// Adds `seconds` at `now`.
    void Charge(double now, double window, double seconds);
    /// When the oldest bucket drops out (epoch seconds); now + window when empty.
    double ResetAt(double now, double window);
    void Reset() { buckets_.clear(); }

private:
    void Expire(double now, double window);
    std::deque<std::pair<double, double>> buckets_;  // (opened at, seconds)
};

}  // namespace fakeportal
