#include "b24client/clock.hpp"

#include <chrono>
#include <thread>

namespace b24client {
namespace {

class RealClock final : public Clock {
public:
    double Now() override {
        using namespace std::chrono;
        return duration<double>(system_clock::now().time_since_epoch()).count();
    }
    void SleepFor(double seconds) override {
        if (seconds > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
        }
    }
};

}  // namespace

std::shared_ptr<Clock> SystemClock() {
    static const std::shared_ptr<Clock> clock = std::make_shared<RealClock>();
    return clock;
}

}  // namespace b24client
