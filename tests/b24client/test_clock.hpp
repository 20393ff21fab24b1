#pragma once
// A manual clock for unit tests: SleepFor advances time instead of blocking.
#include <atomic>
#include <mutex>

#include "b24client/clock.hpp"

namespace b24client::testing {

class ManualClock final : public Clock {
public:
    explicit ManualClock(double start = 1'700'000'000.0) : now_(start) {}
    double Now() override {
        std::lock_guard lock(mu_);
        return now_;
    }
    void SleepFor(double seconds) override {
        std::lock_guard lock(mu_);
        if (seconds > 0) {
            now_ += seconds;
            slept_ += seconds;
        }
    }
    void Advance(double seconds) {
        std::lock_guard lock(mu_);
        now_ += seconds;
    }
    double slept() {
        std::lock_guard lock(mu_);
        return slept_;
    }

private:
    std::mutex mu_;
    double now_;
    double slept_ = 0.0;
};

}  // namespace b24client::testing
