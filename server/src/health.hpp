#pragma once
// What /healthz says (server/README.md "When things fail"), and the guard every background loop
// runs its iterations under.
//
//  - Loops (job workers, scheduler, follow-ups, the health refresher) run each iteration through
//    Guard(): anything thrown — std::exception or not — is logged, counted per loop and
//    swallowed, so no background loop can end the process. Counts show in /healthz.
//  - Refresh() (on the health loop, every few seconds) reads the registry, the job runner's
//    failed runs and the portal databases that failed to open, and builds the /healthz answer;
//    Current() hands it out without any I/O, so /healthz answers even when everything else is
//    busy. Degraded portals are reported as a count and codes, never by member_id.
//  - The answer is 503 when an operator must act: a portal's storage failed (disk_full,
//    database_error, database_corrupt) or a loop failed within the last minute; otherwise 200,
//    with portal-side trouble (reinstall_needed, payment_required, portal_unreachable, ...)
//    counted in the body.
//
// Test hook: InjectFailures(loop, n) makes the next n guarded iterations of `loop` throw before
// they run (the suite proves each loop survives).
//
// Thread-safety: every member is thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace server {

class Registry;
class JobRunner;

class Health {
public:
    // Runs one iteration of `loop`; returns false if it threw (logged and counted).
    bool Guard(const std::string& loop, const std::function<void()>& iteration);
    // Counts a failure caught elsewhere in `loop`.
    void NoteLoopFailure(const std::string& loop, const std::string& what);
    // Test hook: the next `count` iterations of `loop` throw (a std::runtime_error, or an int when
    // `non_standard`) before they run.
    void InjectFailures(const std::string& loop, int count, bool non_standard = false);
    // How long after a loop's failure /healthz stays 503 (default 60 s).
    void SetAlertWindow(std::chrono::seconds window);
    // Throws if a failure is injected for `loop` (for loops whose iterations are not guarded
    // whole, like the job workers).
    void MaybeFail(const std::string& loop);

    // Rebuilds the snapshot. `data_dir` maps failed database paths to portals. May throw
    // (registry errors); callers guard it.
    void Refresh(Registry& registry, JobRunner& jobs, const std::string& data_dir);

    struct Answer {
        int status = 200;
        nlohmann::json body;
    };
    // The last snapshot plus `live` (merged into the body). Cheap; no I/O.
    Answer Current(const nlohmann::json& live) const;

    std::int64_t LoopFailures(const std::string& loop) const;

    // Whether a failure code needs the operator (503) rather than the portal's owner.
    static bool ServerSide(const std::string& code);

private:
    struct LoopStats {
        std::int64_t failures = 0;
        std::string last_error;
        std::chrono::steady_clock::time_point last_at;
        int inject = 0;
        bool inject_non_standard = false;
    };
    std::chrono::seconds alert_window_{60};
    mutable std::mutex mutex_;
    std::map<std::string, LoopStats> loops_;
    nlohmann::json snapshot_ = {{"status", "starting"}};
    bool refreshed_ = false;
    int snapshot_status_ = 200;
};

}  // namespace server
