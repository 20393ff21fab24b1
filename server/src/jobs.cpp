#include "jobs.hpp"

#include <chrono>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "b24client/error.hpp"
#include "db.hpp"
#include "health.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace server {

FileLock::FileLock(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return;
    }
    fd_ = fd;
}

FileLock::~FileLock() {
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

namespace {

// Errors after which retrying on a schedule is pointless until a person acts.
std::optional<std::pair<std::string, std::string>> Blocking(const b24client::Error& e) {
    switch (e.kind()) {
        case b24client::ErrorKind::kReinstallNeeded:
        case b24client::ErrorKind::kInvalidToken:
            return std::pair<std::string, std::string>{
                "reinstall_needed",
                "The portal no longer accepts the app's tokens. Reinstall the app in the portal."};
        case b24client::ErrorKind::kPaymentRequired:
            return std::pair<std::string, std::string>{
                "payment_required", "The app's subscription or trial has ended in this portal."};
        case b24client::ErrorKind::kPortalDeleted:
            return std::pair<std::string, std::string>{"portal_deleted",
                                                       "The portal has been deleted or closed."};
        case b24client::ErrorKind::kAccessDenied:
        case b24client::ErrorKind::kMethodConfirm:
            return std::pair<std::string, std::string>{
                "access_denied",
                "The app lacks a right it needs (a CRM administrator must install it, and the "
                "crm and placement scopes must be granted)."};
        default:
            return std::nullopt;
    }
}

}  // namespace

std::string RunFailureCode(const std::exception& e) {
    if (const auto* b = dynamic_cast<const b24client::Error*>(&e)) {
        return std::string(b24client::ToString(b->kind()));
    }
    std::string code = StorageCode(e);
    return code.empty() ? "internal" : code;
}

RunRecord RunPortalSync(PortalManager& portals,
                        const std::string& member_id,
                        sync::RunKind kind,
                        b24client::CancelToken cancel,
                        std::function<std::int64_t()> now,
                        std::function<void(const RunRecord&)> on_progress,
                        std::function<std::int64_t()> segment_time) {
    auto record = portals.registry().Find(member_id);
    if (!record) {
        throw std::runtime_error("unknown portal");
    }
    FileLock lock(portals.LockPath(member_id));
    if (!lock.locked()) {
        throw RunLockBusy();
    }
    PortalDb db(portals.DbPath(member_id));  // StorageError when corrupt (see `b24seg clear`)
    if (kind == sync::RunKind::kFull) {
        if (auto latest = db.LatestRun(); latest && latest->state == "running") {
            latest->state = "cancelled";
            latest->finished_at = now();
            db.SaveRun(*latest);
        }
        db.ClearPulledData();
    }
    auto client = portals.AdminClient(member_id, cancel);
    sync::RunContext ctx;
    ctx.db = &db;
    ctx.client = client.get();
    ctx.settings = {record->active_months, record->lost_months};
    ctx.lang = record->lang;
    ctx.now = now;
    ctx.cancel = cancel;
    ctx.on_progress = std::move(on_progress);
    ctx.segment_time = std::move(segment_time);
    sync::EngineOptions options;
    options.check_interval_s = portals.config().recompute_interval_s;
    sync::Engine engine(ctx, options);
    try {
        RunRecord run = engine.Run(kind);
        if (engine.last_compute()) {
            portals.SetSnapshot(member_id,
                                {engine.last_compute()->index, engine.last_compute()->at});
        }
        if (record->state != "active") {
            portals.registry().SetState(member_id, "active");
        }
        return run;
    } catch (const b24client::Error& e) {
        if (auto block = Blocking(e)) {
            spdlog::warn("portal {}: sync blocked: {}", member_id, block->first);
            portals.registry().SetState(member_id, "blocked", block->first, block->second);
        }
        throw;
    }
}

JobRunner::JobRunner(PortalManager& portals, std::function<std::int64_t()> now, Health* health)
    : portals_(portals), now_(std::move(now)), health_(health) {}

JobRunner::~JobRunner() {
    Stop();
}

void JobRunner::Start() {
    std::lock_guard lock(mutex_);
    if (started_) {
        return;
    }
    started_ = true;
    // Resume runs a crash or a stop left unfinished; note when the others last finished.
    for (const auto& record : portals_.registry().List()) {
        try {
            auto db = portals_.Db(record.member_id);
            auto latest = db->LatestRun();
            if (latest && latest->state == "running") {
                auto kind =
                    sync::RunKindFromString(latest->kind).value_or(sync::RunKind::kIncremental);
                queue_.push_back({record.member_id, kind});
                queued_.insert(record.member_id);
            } else if (latest) {
                last_finished_[record.member_id] = latest->finished_at.value_or(latest->started_at);
            }
        } catch (const std::exception& e) {
            spdlog::error("portal {}: cannot open its database: {}", record.member_id, e.what());
        }
    }
    int workers = portals_.config().max_parallel_jobs;
    for (int i = 0; i < workers; ++i) {
        threads_.emplace_back([this] { Worker(); });
    }
    threads_.emplace_back([this] { Scheduler(); });
}

void JobRunner::Stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
        for (auto& [member_id, cancel] : running_) {
            cancel.Cancel();
        }
    }
    wake_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    threads_.clear();
}

JobRunner::Enqueued JobRunner::Request(const std::string& member_id, sync::RunKind kind) {
    if (!portals_.registry().Find(member_id)) {
        return Enqueued::kUnknownPortal;
    }
    std::lock_guard lock(mutex_);
    if (queued_.count(member_id) != 0 || running_.count(member_id) != 0) {
        return Enqueued::kBusy;
    }
    queue_.push_back({member_id, kind});
    queued_.insert(member_id);
    event_due_.erase(member_id);
    wake_.notify_all();
    return Enqueued::kQueued;
}

void JobRunner::NoteEvent(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    if (event_due_.count(member_id) == 0) {
        event_due_[member_id] = now_() + portals_.config().event_debounce_s;
    }
    wake_.notify_all();
}

void JobRunner::CancelPortal(const std::string& member_id) {
    std::unique_lock lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end();) {
        it = it->member_id == member_id ? queue_.erase(it) : std::next(it);
    }
    queued_.erase(member_id);
    event_due_.erase(member_id);
    if (auto it = running_.find(member_id); it != running_.end()) {
        it->second.Cancel();
    }
    wake_.wait(lock, [&] { return running_.count(member_id) == 0; });
    last_finished_.erase(member_id);
}

std::string JobRunner::StateOf(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    if (running_.count(member_id) != 0) {
        return "running";
    }
    if (queued_.count(member_id) != 0) {
        return "queued";
    }
    return "";
}

int JobRunner::RunningCount() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(running_.size());
}

std::optional<JobRunner::Failure> JobRunner::LastFailure(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    auto it = failures_.find(member_id);
    if (it == failures_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void JobRunner::Worker() {
    while (true) {
        Job job;
        b24client::CancelToken cancel;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) {
                return;
            }
            job = queue_.front();
            queue_.pop_front();
            queued_.erase(job.member_id);
            running_[job.member_id] = cancel;
        }
        std::string failure;  // empty: done or stopped
        try {
            if (health_ != nullptr) {
                health_->MaybeFail("jobs.worker");
            }
            RunRecord run = RunPortalSync(portals_, job.member_id, job.kind, cancel, now_);
            spdlog::info("portal {}: {} run {} done: {} rows, {} requests, {} cards written",
                         job.member_id, run.kind, run.id, run.rows, run.requests,
                         run.cards_written);
        } catch (const RunLockBusy&) {
            spdlog::info("portal {}: a run is going in another process; not started here",
                         job.member_id);
        } catch (const b24client::Error& e) {
            if (e.kind() == b24client::ErrorKind::kCancelled) {
                spdlog::info("portal {}: run stopped; it resumes at the next start", job.member_id);
            } else {
                failure = RunFailureCode(e);
                spdlog::error("portal {}: run failed ({}): {}", job.member_id, failure, e.what());
            }
        } catch (const std::exception& e) {
            failure = RunFailureCode(e);
            spdlog::error("portal {}: run failed ({}): {}", job.member_id, failure, e.what());
            if (failure == "internal" && health_ != nullptr) {
                health_->NoteLoopFailure("jobs.worker", e.what());
            }
        } catch (...) {
            failure = "internal";
            spdlog::error("portal {}: run failed: non-standard exception", job.member_id);
            if (health_ != nullptr) {
                health_->NoteLoopFailure("jobs.worker", "non-standard exception");
            }
        }
        {
            std::lock_guard lock(mutex_);
            running_.erase(job.member_id);
            last_finished_[job.member_id] = now_();
            if (!failure.empty()) {
                failures_[job.member_id] = Failure{failure, now_()};
            } else {
                failures_.erase(job.member_id);
            }
        }
        wake_.notify_all();
    }
}

void JobRunner::Schedule(std::int64_t now) {
    // Runs asked for by the operator CLI.
    for (const auto& [member_id, kind] : portals_.registry().TakeJobRequests()) {
        Request(member_id, sync::RunKindFromString(kind).value_or(sync::RunKind::kIncremental));
    }
    std::vector<std::string> due;
    {
        std::lock_guard lock(mutex_);
        for (auto it = event_due_.begin(); it != event_due_.end();) {
            if (it->second <= now) {
                due.push_back(it->first);
                it = event_due_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (const auto& record : portals_.registry().List()) {
        if (record.state == "blocked" || record.access_token.empty()) {
            continue;
        }
        std::int64_t last = 0;
        {
            std::lock_guard lock(mutex_);
            auto it = last_finished_.find(record.member_id);
            last = it == last_finished_.end() ? 0 : it->second;
        }
        if (last == 0 || now - last >= portals_.config().incremental_interval_s) {
            due.push_back(record.member_id);
        }
    }
    for (const auto& member_id : due) {
        auto record = portals_.registry().Find(member_id);
        if (record && record->state != "blocked") {
            Request(member_id, sync::RunKind::kIncremental);
        }
    }
}

void JobRunner::Scheduler() {
    while (true) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
            if (stopping_) {
                return;
            }
        }
        if (health_ != nullptr) {
            health_->Guard("jobs.scheduler", [&] { Schedule(now_()); });
        } else {
            try {
                Schedule(now_());
            } catch (const std::exception& e) {
                spdlog::error("scheduler: {}", e.what());
            } catch (...) {
                spdlog::error("scheduler: non-standard exception");
            }
        }
    }
}

}  // namespace server
