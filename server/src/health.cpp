#include "health.hpp"

#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "jobs.hpp"
#include "portal_db.hpp"
#include "registry.hpp"

#ifndef B24SEG_VERSION
#define B24SEG_VERSION "0.0.0"
#endif

namespace server {

bool Health::ServerSide(const std::string& code) {
    return code == "disk_full" || code == "database_error" || code == "database_corrupt" ||
           code == "internal";
}

void Health::NoteLoopFailure(const std::string& loop, const std::string& what) {
    std::lock_guard lock(mutex_);
    auto& s = loops_[loop];
    ++s.failures;
    s.last_error = what.substr(0, 200);
    s.last_at = std::chrono::steady_clock::now();
}

void Health::InjectFailures(const std::string& loop, int count, bool non_standard) {
    std::lock_guard lock(mutex_);
    loops_[loop].inject = count;
    loops_[loop].inject_non_standard = non_standard;
}

void Health::SetAlertWindow(std::chrono::seconds window) {
    std::lock_guard lock(mutex_);
    alert_window_ = window;
}

void Health::MaybeFail(const std::string& loop) {
    bool non_standard = false;
    {
        std::lock_guard lock(mutex_);
        auto it = loops_.find(loop);
        if (it == loops_.end() || it->second.inject <= 0) {
            return;
        }
        --it->second.inject;
        non_standard = it->second.inject_non_standard;
    }
    if (non_standard) {
        throw 42;  // not derived from std::exception: the catch-all must hold too
    }
    throw std::runtime_error("injected failure in " + loop);
}

bool Health::Guard(const std::string& loop, const std::function<void()>& iteration) {
    try {
        MaybeFail(loop);
        iteration();
        return true;
    } catch (const std::exception& e) {
        spdlog::error("{}: {} (the loop goes on)", loop, e.what());
        NoteLoopFailure(loop, e.what());
    } catch (...) {
        spdlog::error("{}: non-standard exception (the loop goes on)", loop);
        NoteLoopFailure(loop, "non-standard exception");
    }
    return false;
}

std::int64_t Health::LoopFailures(const std::string& loop) const {
    std::lock_guard lock(mutex_);
    auto it = loops_.find(loop);
    return it == loops_.end() ? 0 : it->second.failures;
}

void Health::Refresh(Registry& registry, JobRunner& jobs, const std::string& data_dir) {
    auto records = registry.List();
    auto open_failures = PortalDb::OpenFailures();
    std::map<std::string, int> codes;
    int degraded = 0;
    bool operator_action = false;
    for (const auto& r : records) {
        std::string code;
        std::string path = (std::filesystem::path(data_dir) / r.db_file).string();
        if (auto it = open_failures.find(path); it != open_failures.end()) {
            code = it->second;
        } else if (r.state == "blocked") {
            if (r.block_code == "uninstalled") {
                continue;  // the portal's choice, not a fault
            }
            code = r.block_code;
        } else if (auto failure = jobs.LastFailure(r.member_id)) {
            code = failure->code;
        }
        if (code.empty()) {
            continue;
        }
        ++degraded;
        ++codes[code];
        operator_action = operator_action || ServerSide(code);
    }
    nlohmann::json body = {{"status", degraded == 0 ? "ok" : "degraded"},
                           {"version", B24SEG_VERSION},
                           {"portals", records.size()},
                           {"jobsRunning", jobs.RunningCount()},
                           {"degraded", {{"count", degraded}, {"codes", codes}}}};
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(body);
    snapshot_status_ = operator_action ? 503 : 200;
    refreshed_ = true;
}

Health::Answer Health::Current(const nlohmann::json& live) const {
    std::lock_guard lock(mutex_);
    Answer a;
    a.body = snapshot_;
    a.status = snapshot_status_;
    nlohmann::json loops = nlohmann::json::object();
    auto now = std::chrono::steady_clock::now();
    bool recent = false;
    for (const auto& [name, s] : loops_) {
        if (s.failures == 0) {
            continue;
        }
        double ago = std::chrono::duration<double>(now - s.last_at).count();
        loops[name] = {{"failures", s.failures}, {"lastFailureSecondsAgo", static_cast<int>(ago)}};
        recent = recent || ago < static_cast<double>(alert_window_.count());
    }
    a.body["loops"] = loops;
    if (recent) {
        a.status = 503;
        if (a.body.value("status", std::string()) == "ok") {
            a.body["status"] = "degraded";
        }
    }
    for (const auto& [k, v] : live.items()) {
        a.body[k] = v;
    }
    return a;
}

}  // namespace server
