#include "support/scaled_clock.hpp"

#include <chrono>
#include <mutex>
#include <thread>

namespace support {

double SystemNow() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

struct ScaledClock::State {
    double factor;
    double start_epoch;
    std::chrono::steady_clock::time_point real_start;
    std::mutex mu;
    double offset = 0;  // manual advances, clock seconds

    double Now() {
        const double real =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - real_start).count();
        std::lock_guard lock(mu);
        return start_epoch + real * factor + offset;
    }
};

ScaledClock::ScaledClock(double factor, double start_epoch) : state_(std::make_shared<State>()) {
    state_->factor = factor < 0 ? 0 : factor;
    state_->start_epoch = start_epoch;
    state_->real_start = std::chrono::steady_clock::now();
}

double ScaledClock::Now() const {
    return state_->Now();
}

void ScaledClock::SleepFor(double seconds) const {
    if (seconds <= 0) {
        return;
    }
    if (state_->factor == 0) {
        std::lock_guard lock(state_->mu);
        state_->offset += seconds;
        return;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds / state_->factor));
}

void ScaledClock::Advance(double seconds) {
    if (seconds <= 0) {
        return;
    }
    std::lock_guard lock(state_->mu);
    state_->offset += seconds;
}

double ScaledClock::factor() const {
    return state_->factor;
}

std::function<double()> ScaledClock::AsFunction() const {
    auto state = state_;
    return [state] { return state->Now(); };
}

}  // namespace support
