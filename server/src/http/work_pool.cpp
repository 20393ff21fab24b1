#include "http/work_pool.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace server::http {

WorkPool::WorkPool(WorkPoolLimits limits) : limits_(limits) {
    limits_.workers = std::max(1, limits_.workers);
    limits_.per_user_running = std::max(1, limits_.per_user_running);
    limits_.per_portal_running = std::max(1, limits_.per_portal_running);
}

WorkPool::~WorkPool() {
    Stop();
}

void WorkPool::Start() {
    std::lock_guard lock(mutex_);
    if (started_) {
        return;
    }
    started_ = true;
    for (int i = 0; i < limits_.workers; ++i) {
        threads_.emplace_back([this] { Worker(); });
    }
}

void WorkPool::Stop() {
    std::vector<Job> dropped;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
        for (auto& [key, q] : users_) {
            for (auto& job : q.jobs) {
                dropped.push_back(std::move(job));
            }
            q.jobs.clear();
        }
        ring_.clear();
        queued_ = 0;
    }
    wake_.notify_all();
    for (auto& job : dropped) {
        job.reject();
    }
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    threads_.clear();
}

WorkPool::Admit WorkPool::Submit(const WorkKey& key,
                                 std::function<void()> run,
                                 std::function<void()> reject) {
    std::lock_guard lock(mutex_);
    if (stopping_ || !started_) {
        return Admit::kStopped;
    }
    if (queued_ >= limits_.max_queued) {
        ++rejected_full_;
        return Admit::kFull;
    }
    std::string user_key = key.portal + "\n" + key.user;
    UserQueue& q = users_[user_key];
    q.portal = key.portal;
    if (static_cast<int>(q.jobs.size()) >= limits_.per_user_queued) {
        ++rejected_full_;
        return Admit::kUserFull;
    }
    if (q.jobs.empty()) {
        ring_.push_back(user_key);
    }
    q.jobs.push_back(Job{std::move(run), std::move(reject), std::chrono::steady_clock::now()});
    ++queued_;
    wake_.notify_one();
    return Admit::kQueued;
}

WorkPool::Stats WorkPool::stats() {
    std::lock_guard lock(mutex_);
    return Stats{queued_, running_, rejected_full_, expired_};
}

bool WorkPool::TakeLocked(Job* job, std::string* user_key, std::string* portal) {
    for (std::size_t i = 0; i < ring_.size(); ++i) {
        const std::string key = ring_[i];
        UserQueue& q = users_[key];
        if (q.running >= limits_.per_user_running ||
            portal_running_[q.portal] >= limits_.per_portal_running) {
            continue;
        }
        *job = std::move(q.jobs.front());
        q.jobs.pop_front();
        --queued_;
        ring_.erase(ring_.begin() + static_cast<std::ptrdiff_t>(i));
        if (!q.jobs.empty()) {
            ring_.push_back(key);  // its next job waits for everybody else's turn
        }
        ++q.running;
        ++portal_running_[q.portal];
        ++running_;
        *user_key = key;
        *portal = q.portal;
        return true;
    }
    return false;
}

void WorkPool::Worker() {
    while (true) {
        Job job;
        std::string user_key;
        std::string portal;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || TakeLocked(&job, &user_key, &portal); });
            if (!job.run) {
                return;  // stopping, nothing taken
            }
        }
        bool expired =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - job.queued_at)
                .count() > limits_.max_queue_wait_s;
        try {
            if (expired) {
                job.reject();
            } else {
                job.run();
            }
        } catch (const std::exception& e) {
            // run/reject must not throw; a worker survives it anyway.
            spdlog::error("http worker: a job threw: {}", e.what());
        } catch (...) {
            spdlog::error("http worker: a job threw a non-standard exception");
        }
        {
            std::lock_guard lock(mutex_);
            expired_ += expired ? 1 : 0;
            auto it = users_.find(user_key);
            if (it != users_.end()) {
                --it->second.running;
                if (it->second.running == 0 && it->second.jobs.empty()) {
                    users_.erase(it);
                }
            }
            if (--portal_running_[portal] == 0) {
                portal_running_.erase(portal);
            }
            --running_;
        }
        // A finished job may make another user's (or portal's) job eligible.
        wake_.notify_all();
    }
}

}  // namespace server::http
