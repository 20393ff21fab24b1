#pragma once
// The server's trust housekeeping, on one background thread (server/README.md "Install, update,
// uninstall"):
//  - purges portals whose grace period after a confirmed uninstall with CLEAN=1 is over;
//  - asks the portal again about ONAPPUNINSTALL claims that could not be confirmed when they
//    arrived (the portal did not answer): confirmed -> the uninstall is carried out; the app still
//    answers -> the claim is dropped; still no answer -> asked again later (5 minutes, doubling to
//    at most an hour).
// RunOnce is public so that tests drive it with a chosen time instead of waiting.
// Thread-safety: Start/Stop from the owner's thread; RunOnce from any one thread at a time.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace server {

class Registry;
namespace http {
class Lifecycle;
}

class Upkeep {
public:
    Upkeep(Registry& registry, http::Lifecycle& lifecycle, std::function<std::int64_t()> now);
    ~Upkeep();
    Upkeep(const Upkeep&) = delete;
    Upkeep& operator=(const Upkeep&) = delete;

    // Runs RunOnce every `interval_s` seconds until Stop.
    void Start(int interval_s = 60);
    void Stop();

    struct Report {
        int purged = 0;
        int claims_confirmed = 0;
        int claims_dropped = 0;
        int claims_pending = 0;
    };
    // One pass at time `now` (unix seconds). Never throws: failures are logged.
    Report RunOnce(std::int64_t now);

private:
    Registry& registry_;
    http::Lifecycle& lifecycle_;
    std::function<std::int64_t()> now_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace server
