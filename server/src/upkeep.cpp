#include "upkeep.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "http/lifecycle.hpp"
#include "registry.hpp"

namespace server {

Upkeep::Upkeep(Registry& registry, http::Lifecycle& lifecycle, std::function<std::int64_t()> now)
    : registry_(registry), lifecycle_(lifecycle), now_(std::move(now)) {}

Upkeep::~Upkeep() {
    Stop();
}

void Upkeep::Start(int interval_s) {
    if (thread_.joinable()) {
        return;
    }
    thread_ = std::thread([this, interval_s] {
        std::unique_lock lock(mutex_);
        while (!stop_) {
            lock.unlock();
            RunOnce(now_());
            lock.lock();
            wake_.wait_for(lock, std::chrono::seconds(interval_s), [&] { return stop_; });
        }
    });
}

void Upkeep::Stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

Upkeep::Report Upkeep::RunOnce(std::int64_t now) {
    Report report;
    try {
        for (const auto& record : registry_.List()) {
            if (record.purge_at > 0 && record.purge_at <= now && record.state == "blocked" &&
                record.block_code == "uninstalled") {
                if (lifecycle_.Purge(record.member_id)) {
                    ++report.purged;
                }
            }
        }
        for (auto claim : registry_.UninstallClaims()) {
            if (claim.next_check_at > now) {
                ++report.claims_pending;
                continue;
            }
            auto record = registry_.Find(claim.member_id);
            if (!record) {
                registry_.RemoveUninstallClaim(claim.member_id);
                continue;
            }
            switch (lifecycle_.CheckInstalled(claim.member_id)) {
                case http::Lifecycle::InstallCheck::kGone:
                    spdlog::info("portal {}: the uninstall claimed earlier is now confirmed",
                                 claim.member_id);
                    lifecycle_.Uninstall(claim.member_id, claim.clean);
                    ++report.claims_confirmed;
                    break;
                case http::Lifecycle::InstallCheck::kInstalled:
                    spdlog::warn(
                        "portal {}: uninstall claim dropped: the portal still answers "
                        "the app",
                        claim.member_id);
                    registry_.RemoveUninstallClaim(claim.member_id);
                    ++report.claims_dropped;
                    break;
                case http::Lifecycle::InstallCheck::kUnreachable: {
                    ++claim.checks;
                    std::int64_t wait =
                        std::min<std::int64_t>(3600, 300LL << std::min(claim.checks, 4));
                    claim.next_check_at = now + wait;
                    registry_.UpdateUninstallClaim(claim);
                    ++report.claims_pending;
                    break;
                }
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("upkeep: {}", e.what());
    }
    return report;
}

}  // namespace server
