#pragma once
// Time as the client sees it. Everything that waits (rate bucket, operating budget, backoff)
// goes through a Clock, so tests can run the platform's limits on a scaled clock.

#include <atomic>
#include <memory>

namespace b24client {

class Clock {
public:
    virtual ~Clock() = default;
    // Seconds since the Unix epoch (fractional). Must be monotone non-decreasing in practice:
    // the limiter tolerates small steps back but not large jumps.
    virtual double Now() = 0;
    // Blocks the calling thread for `seconds` of this clock's time (<= 0: returns at once).
    virtual void SleepFor(double seconds) = 0;
};

// Wall clock for Now(), std::this_thread::sleep_for for SleepFor(). Thread-safe.
std::shared_ptr<Clock> SystemClock();

// A cooperative cancellation flag shared between a worker and whoever may stop it (SIGTERM
// handling). Copies share one flag. Cheap to copy; thread-safe.
class CancelToken {
public:
    CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
    void Cancel() noexcept { flag_->store(true, std::memory_order_relaxed); }
    bool IsCancelled() const noexcept { return flag_->load(std::memory_order_relaxed); }

private:
    std::shared_ptr<std::atomic<bool>> flag_;
};

}  // namespace b24client
