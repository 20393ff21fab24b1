#pragma once
// A clock for tests that runs faster (or slower) than real time, and can be pushed forward.
//
// Now() is epoch seconds: start + (real time elapsed since construction) * factor + manual offset.
// SleepFor(s) sleeps s/factor real seconds, so code that waits for "10 portal seconds" on a 20x
// clock waits half a real second. A factor of 0 gives a manual clock that only Advance() moves
// (SleepFor then advances the clock instead of sleeping, so nothing blocks).
// Thread-safe: all members may be called from any thread.
//
// To plug it into a component that takes `std::function<double()>` use AsFunction(); the returned
// function keeps a shared reference, so it stays valid even if the ScaledClock object is moved.
#include <functional>
#include <memory>

namespace support {

/// Real wall-clock time as epoch seconds (with sub-second precision).
double SystemNow();

class ScaledClock {
public:
    /// factor: how many clock seconds pass per real second (1 = real time, 20 = 20x faster,
    /// 0 = manual). start_epoch: the clock's reading at construction (default: real now).
    explicit ScaledClock(double factor = 1.0, double start_epoch = SystemNow());

    /// Current clock reading, epoch seconds. Never goes backwards.
    double Now() const;
    /// Blocks for `seconds` of clock time (seconds/factor real seconds); advances the clock instead
    /// when the factor is 0. Negative or zero durations return at once.
    void SleepFor(double seconds) const;
    /// Moves the clock forward by `seconds` (>= 0) immediately.
    void Advance(double seconds);
    double factor() const;
    /// A callable view of Now() sharing this clock's state.
    std::function<double()> AsFunction() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace support
