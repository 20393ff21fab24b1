#pragma once
// The bounded pool of worker threads that run HTTP handlers, shared fairly between portals and
// users (server/README.md "Robustness").
//
// Every job carries a key: the portal it is for and the user (or token) behind it. Workers take
// jobs round-robin across keys, and never run more than `per_portal_running` jobs of one portal
// or `per_user_running` of one user at once, so one portal whose calls hang, or one user firing a
// hundred requests, holds at most that many workers; the others keep serving everybody else.
// Queues are bounded: past `per_user_queued` jobs of one user Submit answers kUserFull, past
// `max_queued` in all kFull. A job that waited longer than `max_queue_wait_s` is not run: its
// `reject` runs instead (the client has given up or will soon).
//
// Thread-safety: every member is thread-safe. `run` and `reject` are called on a worker thread
// (or, for jobs still queued at Stop(), on the thread that calls Stop); exactly one of them is
// called for every job accepted by Submit. They must not throw.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace server::http {

struct WorkKey {
    std::string portal;  // member_id, or "" when not known (static files, unauthenticated calls)
    std::string user;    // "u<id>", "t<token hash>" or "anon"
};

struct WorkPoolLimits {
    int workers = 16;
    int max_queued = 512;
    int per_user_queued = 64;
    int per_user_running = 3;
    int per_portal_running = 6;
    double max_queue_wait_s = 5.0;
};

class WorkPool {
public:
    explicit WorkPool(WorkPoolLimits limits);
    ~WorkPool();
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;

    void Start();
    // Stops taking jobs, rejects the queued ones, waits for running ones. Idempotent.
    void Stop();

    enum class Admit { kQueued, kFull, kUserFull, kStopped };
    Admit Submit(const WorkKey& key, std::function<void()> run, std::function<void()> reject);

    struct Stats {
        int queued = 0;
        int running = 0;
        std::int64_t rejected_full = 0;  // Submit refusals (kFull, kUserFull)
        std::int64_t expired = 0;        // jobs dropped after max_queue_wait_s
    };
    Stats stats();

private:
    struct Job {
        std::function<void()> run;
        std::function<void()> reject;
        std::chrono::steady_clock::time_point queued_at;
    };
    struct UserQueue {
        std::string portal;
        std::deque<Job> jobs;
        int running = 0;
    };
    void Worker();
    // The next runnable job (round-robin over users within the caps); false if none now.
    bool TakeLocked(Job* job, std::string* user_key, std::string* portal);

    WorkPoolLimits limits_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::string, UserQueue> users_;  // "<portal>\n<user>" -> queue
    std::deque<std::string> ring_;            // users with queued jobs, in turn order
    std::map<std::string, int> portal_running_;
    int queued_ = 0;
    int running_ = 0;
    std::int64_t rejected_full_ = 0;
    std::int64_t expired_ = 0;
    bool started_ = false;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace server::http
