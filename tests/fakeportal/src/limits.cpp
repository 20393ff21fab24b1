#include "limits.hpp"

#include <algorithm>
#include <cmath>

namespace fakeportal {

void LeakyBucket::Drain(double now, double rate) {
    if (last_ == 0) {
        last_ = now;
    }
    if (now > last_) {
        level_ = std::max(0.0, level_ - (now - last_) * rate);
        last_ = now;
    }
}

bool LeakyBucket::Admit(double now, int burst, double rate) {
    Drain(now, rate);
    if (level_ + 1 > static_cast<double>(burst) + 1e-9) {
        return false;
    }
    level_ += 1;
    return true;
}

double LeakyBucket::Level(double now, double rate) {
    Drain(now, rate);
    return level_;
}

void OperatingLedger::Expire(double now, double window) {
    while (!buckets_.empty() && buckets_.front().first + window <= now) {
        buckets_.pop_front();
    }
}

double OperatingLedger::Sum(double now, double window) {
    Expire(now, window);
    double sum = 0;
    for (const auto& b : buckets_) {
        sum += b.second;
    }
    return sum;
}

void OperatingLedger::Charge(double now, double window, double seconds) {
    Expire(now, window);
    const double slot = window / 10;
    if (!buckets_.empty() && now < buckets_.back().first + slot) {
        buckets_.back().second += seconds;
    } else {
        buckets_.emplace_back(now, seconds);
    }
}

double OperatingLedger::ResetAt(double now, double window) {
    Expire(now, window);
    return buckets_.empty() ? now + window : buckets_.front().first + window;
}

}  // namespace fakeportal
