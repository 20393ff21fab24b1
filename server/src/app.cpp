#include "app.hpp"

#include <chrono>
#include <cstdio>
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
#include "http/util.hpp"

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
    jobs_ = std::make_unique<JobRunner>(*portals_, now_, &health_);
    std::string key = config_.session_key;
    if (key.empty()) {
        // Sessions then end with the process; pages fetch fresh ones on their next call.
        key = RandomBytes(32);
        spdlog::warn("no B24SEG_SESSION_KEY set: sessions do not survive a restart");
    }
    sessions_ = std::make_unique<http::SessionStore>(key, now_);
    rights_ = std::make_unique<http::RightsCache>(*portals_, config_.rights_cache_s, now_,
                                                  config_.user_wait_ms);
    oauth_ = std::make_unique<http::OAuthServer>(config_.oauth_url, config_.client_id,
                                                 config_.client_secret, config_.allow_http_portals);
    auto run_soon = [this](const std::string& member_id, sync::RunKind kind) {
        RunSoon(member_id, kind);
    };
    lifecycle_ = std::make_unique<http::Lifecycle>(config_, *registry_, *portals_, *jobs_,
                                                   *sessions_, *rights_, *oauth_, now_);
    http::HttpLimits limits;
    limits.max_connections = config_.max_connections;
    limits.max_connections_per_ip = config_.max_connections_per_ip;
    limits.max_header_bytes = static_cast<std::size_t>(config_.max_header_bytes);
    limits.max_headers = config_.max_headers;
    limits.request_timeout_s = config_.request_timeout_s;
    limits.idle_timeout_s = config_.idle_timeout_s;
    limits.keepalive_requests = config_.keepalive_requests;
    limits.pool.workers = config_.http_workers;
    limits.pool.max_queued = config_.http_max_queued;
    limits.pool.per_portal_running = config_.http_portal_workers;
    limits.pool.per_user_running = config_.http_user_workers;
    limits.pool.per_user_queued = std::max(8, config_.http_max_queued / 8);
    limits.pool.max_queue_wait_s = config_.http_queue_wait_ms / 1000.0;
    http_ = std::make_unique<http::HttpServer>(limits);
    auto http_stats = [this] {
        auto st = http_->stats();
        return nlohmann::json{{"connections", st.connections},
                              {"queued", st.pool.queued},
                              {"running", st.pool.running},
                              {"refusedBusy", st.pool.rejected_full + st.pool.expired},
                              {"refusedTooLarge", st.refused_too_large},
                              {"timedOut", st.timed_out}};
    };
    upkeep_ = std::make_unique<Upkeep>(*registry_, *lifecycle_, now_);
    services_ = std::make_unique<http::Services>(
        http::Services{config_, *registry_, *portals_, *jobs_, *sessions_, *rights_, *oauth_,
                       *lifecycle_, now_, run_soon, health_, http_stats});
    http_->SetWorkKey([this](const http::Request& req) { return WorkKeyOf(req); });
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
    RefreshHealth();
    jobs_->Start();
    upkeep_->Start();
    follow_thread_ = std::thread([this] { FollowUpLoop(); });
    health_thread_ = std::thread([this] { HealthLoop(); });
    http_->Start();
    spdlog::info("b24seg serving on {} (public URL {})", local_url(), config_.public_url);
}

void App::Stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    http_->Stop();
    {
        std::lock_guard lock(follow_mutex_);
        follow_stop_ = true;
    }
    follow_wake_.notify_all();
    if (follow_thread_.joinable()) {
        follow_thread_.join();
    }
    if (health_thread_.joinable()) {
        health_thread_.join();
    }
    upkeep_->Stop();
    jobs_->Stop();
    if (started_) {
        spdlog::info("b24seg stopped");
    }
}

void App::RefreshHealth() {
    health_.Guard("health", [this] { health_.Refresh(*registry_, *jobs_, config_.data_dir); });
}

void App::HealthLoop() {
    std::unique_lock lock(follow_mutex_);
    while (!follow_stop_) {
        follow_wake_.wait_for(lock, std::chrono::seconds(2));
        if (follow_stop_) {
            return;
        }
        lock.unlock();
        RefreshHealth();
        lock.lock();
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
        health_.Guard("followups", [&] {
            for (auto it = follow_ups_.begin(); it != follow_ups_.end();) {
                auto outcome = jobs_->Request(it->first, it->second);
                it = outcome == JobRunner::Enqueued::kBusy ? std::next(it) : follow_ups_.erase(it);
            }
        });
    }
}

http::WorkKey App::WorkKeyOf(const http::Request& req) const {
    // Cheap and without I/O: runs on the listener's event thread for every request.
    auto token_key = [](const std::string& token) {
        char text[24];
        std::snprintf(text, sizeof text, "t%016zx", std::hash<std::string>{}(token));
        return std::string(text);
    };
    std::string auth = req.get_header_value("Authorization");
    if (!auth.empty()) {
        if (auto session = sessions_->Peek(auth)) {
            return {session->member_id, "u" + std::to_string(session->user_id)};
        }
    }
    if (req.path.rfind("/b24/", 0) == 0) {
        http::Pairs form = http::ParseUrlEncoded(req.body);
        std::string member = http::Get(form, "member_id");
        if (member.empty()) {
            member = http::Get(form, "auth[member_id]");
        }
        std::string token = http::Get(form, "AUTH_ID");
        return {member, token.empty() ? std::string("events") : token_key(token)};
    }
    // Without a session the portal is not known yet (the refresh asks the authorization server):
    // such requests share one share of the workers, taken in turn per client address. Behind
    // the proxy the address is the last X-Forwarded-For entry, which our nginx appends; it only
    // orders the queue, it is trusted for nothing else.
    std::string client = req.remote_addr;
    if (client == "127.0.0.1" || client == "::1") {
        std::string forwarded = req.get_header_value("X-Forwarded-For");
        if (auto comma = forwarded.rfind(','); comma != std::string::npos) {
            forwarded = forwarded.substr(comma + 1);
        }
        forwarded.erase(0, forwarded.find_first_not_of(' '));
        if (!forwarded.empty() && forwarded.size() <= 64) {
            client = forwarded;
        }
    }
    if (req.path == "/api/session/refresh") {
        return {"refresh", "ip:" + client};
    }
    return {"", "ip:" + client};
}

}  // namespace server
