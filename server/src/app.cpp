#include "app.hpp"

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "crypto.hpp"
#include "db.hpp"
#include "http/api.hpp"
#include "http/http_server.hpp"
#include "http/lifecycle.hpp"
#include "http/oauth.hpp"
#include "http/pages.hpp"
#include "http/rights.hpp"
#include "http/services.hpp"
#include "http/sessions.hpp"

namespace server {

namespace {

std::int64_t UnixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

App::App(Config config) : config_(std::move(config)), now_(&UnixNow) {
    EnsurePrivateDirectory(config_.data_dir);
    registry_ =
        std::make_unique<Registry>(Registry::PathIn(config_.data_dir), TokenCipherFor(config_));
    portals_ = std::make_unique<PortalManager>(config_, *registry_);
    jobs_ = std::make_unique<JobRunner>(*portals_, now_);
    std::string key = config_.session_key;
    if (key.empty()) {
        // Sessions then end with the process; pages fetch fresh ones on their next call.
        key = RandomBytes(32);
        spdlog::warn("no B24SEG_SESSION_KEY set: sessions do not survive a restart");
    }
    sessions_ = std::make_unique<http::SessionStore>(key, now_);
    rights_ = std::make_unique<http::RightsCache>(*portals_, config_.rights_cache_s, now_);
    oauth_ = std::make_unique<http::OAuthServer>(config_.oauth_url, config_.client_id,
                                                 config_.client_secret, config_.allow_http_portals);
    auto run_soon = [this](const std::string& member_id, sync::RunKind kind) {
        RunSoon(member_id, kind);
    };
    lifecycle_ = std::make_unique<http::Lifecycle>(config_, *registry_, *portals_, *jobs_,
                                                   *sessions_, *rights_, *oauth_, now_);
    upkeep_ = std::make_unique<Upkeep>(*registry_, *lifecycle_, now_);
    services_ = std::make_unique<http::Services>(
        http::Services{config_, *registry_, *portals_, *jobs_, *sessions_, *rights_, *oauth_,
                       *lifecycle_, now_, run_soon});
    http_ = std::make_unique<http::HttpServer>(
        std::max(config_.max_api_body_bytes, config_.max_callback_body_bytes));
    http::RegisterPortalRoutes(*http_, *services_);
    http::RegisterApiRoutes(*http_, *services_);
    http::RegisterStaticRoutes(*http_, *services_);
}

App::~App() {
    Stop();
}

int App::Bind() {
    return http_->Bind(config_.listen_host, config_.listen_port);
}

void App::SetPublicUrl(const std::string& url) {
    if (started_) {
        throw std::logic_error("App::SetPublicUrl after Start");
    }
    Config copy = config_;
    copy.public_url = url;
    Validate(copy);
    config_.public_url = url;
}

void App::Start() {
    if (started_) {
        return;
    }
    if (http_->port() == 0) {
        Bind();
    }
    started_ = true;
    jobs_->Start();
    upkeep_->Start();
    follow_thread_ = std::thread([this] { FollowUpLoop(); });
    http_thread_ = std::thread([this] { http_->Listen(); });
    // Return once requests are answered (httplib has no readiness hook: poll its flag).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!http_->running() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    if (!http_->running()) {
        throw std::runtime_error("the HTTP listener did not start");
    }
    spdlog::info("b24seg serving on {} (public URL {})", local_url(), config_.public_url);
}

void App::Stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    http_->Stop();
    if (http_thread_.joinable()) {
        http_thread_.join();
    }
    {
        std::lock_guard lock(follow_mutex_);
        follow_stop_ = true;
    }
    follow_wake_.notify_all();
    if (follow_thread_.joinable()) {
        follow_thread_.join();
    }
    upkeep_->Stop();
    jobs_->Stop();
    if (started_) {
        spdlog::info("b24seg stopped");
    }
}

int App::port() const {
    return http_->port();
}

std::string App::local_url() const {
    return "http://" + config_.listen_host + ":" + std::to_string(http_->port());
}

void App::RunSoon(const std::string& member_id, sync::RunKind kind) {
    auto outcome = jobs_->Request(member_id, kind);
    if (outcome != JobRunner::Enqueued::kBusy) {
        return;
    }
    std::lock_guard lock(follow_mutex_);
    // A full run outranks the others: it recomputes too.
    auto it = follow_ups_.find(member_id);
    if (it == follow_ups_.end() || kind == sync::RunKind::kFull) {
        follow_ups_[member_id] = kind;
    }
    follow_wake_.notify_all();
}

void App::FollowUpLoop() {
    std::unique_lock lock(follow_mutex_);
    while (!follow_stop_) {
        follow_wake_.wait_for(lock, std::chrono::seconds(1));
        if (follow_stop_) {
            return;
        }
        for (auto it = follow_ups_.begin(); it != follow_ups_.end();) {
            auto outcome = jobs_->Request(it->first, it->second);
            it = outcome == JobRunner::Enqueued::kBusy ? std::next(it) : follow_ups_.erase(it);
        }
    }
}

}  // namespace server
