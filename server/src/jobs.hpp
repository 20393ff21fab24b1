#pragma once
// Background sync jobs: one job at a time per portal, several portals at once, scheduled
// incremental runs, CRM events turned into (debounced) incremental runs, runs requested by the
// operator CLI, interrupted runs resumed at start, and a graceful stop (SIGTERM: running jobs end
// after their current request, with everything up to it checkpointed).
//
// A run also takes the portal's lock file, so a run started by the CLI in another process and one
// started here exclude each other.
//
// Thread-safety: every public member is thread-safe.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "portal_db.hpp"
#include "portals.hpp"
#include "sync/engine.hpp"

namespace server {

// An exclusive, non-blocking lock on a file (flock). Released on destruction or process death.
class FileLock {
public:
    explicit FileLock(const std::string& path);  // tries once; check locked()
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    bool locked() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// Runs one sync of `member_id` on the calling thread, holding the portal's lock. For kFull it
// first clears the pulled data ("clear and refresh"). Returns the finished run; throws
// RunLockBusy when the lock is held elsewhere, and whatever the
// engine throws otherwise (after updating the portal's state in the registry for errors only a
// person can fix: re-install needed, subscription ended).
RunRecord RunPortalSync(PortalManager& portals,
                        const std::string& member_id,
                        sync::RunKind kind,
                        b24client::CancelToken cancel,
                        std::function<std::int64_t()> now,
                        std::function<void(const RunRecord&)> on_progress = {},
                        std::function<std::int64_t()> segment_time = {});

class Health;

// RunPortalSync's refusal while another run of the portal holds its lock (here or in a CLI).
class RunLockBusy : public std::runtime_error {
public:
    RunLockBusy() : std::runtime_error("a run is already going for this portal") {}
};

// Why a run failed, as /api/status, /healthz and `b24seg status` name it: the b24client error
// kinds ("portal refusal"), "disk_full", "database_error", "database_corrupt" or "internal".
std::string RunFailureCode(const std::exception& e);

class JobRunner {
public:
    // `health` (optional) guards the loops: an exception in one is counted there and the loop
    // goes on.
    JobRunner(PortalManager& portals, std::function<std::int64_t()> now, Health* health = nullptr);
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    // Starts the workers and the scheduler; queues the resumption of interrupted runs.
    void Start();
    // Cancels running jobs, waits for them to checkpoint and stop, joins the threads. Idempotent.
    void Stop();

    enum class Enqueued { kQueued, kBusy, kUnknownPortal };
    // Queues a run unless one is queued or running for the portal.
    Enqueued Request(const std::string& member_id, sync::RunKind kind);
    // A CRM event arrived: an incremental run follows after the debounce delay.
    void NoteEvent(const std::string& member_id);
    // Cancels the portal's queued and running jobs and waits until none runs (uninstall).
    void CancelPortal(const std::string& member_id);

    // "queued", "running" or "" (nothing scheduled for now).
    std::string StateOf(const std::string& member_id);
    int RunningCount();

    // The last run of the portal in this process failed (and none has succeeded since): why.
    // Kept in memory as well as in the portal's database, because a full disk may not let the
    // database record it.
    struct Failure {
        std::string code;
        std::int64_t at = 0;  // unix seconds
    };
    std::optional<Failure> LastFailure(const std::string& member_id);

private:
    struct Job {
        std::string member_id;
        sync::RunKind kind;
    };
    void Worker();
    void Scheduler();
    void Schedule(std::int64_t now);

    PortalManager& portals_;
    std::function<std::int64_t()> now_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    std::set<std::string> queued_;
    std::map<std::string, b24client::CancelToken> running_;
    std::map<std::string, std::int64_t> event_due_;      // member_id -> when to run
    std::map<std::string, std::int64_t> last_finished_;  // member_id -> unix time
    std::map<std::string, Failure> failures_;
    Health* health_ = nullptr;
    bool stopping_ = false;
    bool started_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace server
