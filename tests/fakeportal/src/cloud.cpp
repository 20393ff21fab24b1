// The fake cloud: app registry, portals, and the OAuth server (/oauth/token/, /rest/app.info).
#include "fakeportal/cloud.hpp"

#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "portal_impl.hpp"

namespace fakeportal {

using detail::StrVal;

struct Cloud::Impl {
    CloudOptions options;
    mutable std::mutex mu;
    std::map<std::string, AppRegistration> apps;
    std::vector<std::unique_ptr<Portal>> portals;
    httplib::Server server;
    std::thread thread;
    int port = 0;
    bool stopped = false;
    std::chrono::milliseconds token_delay{0};
    int64_t token_requests = 0;
    std::string endpoint_override;

    void HandleToken(const httplib::Request& req, httplib::Response& res);
    void HandleAppInfo(const httplib::Request& req, httplib::Response& res);
    std::vector<Portal*> PortalList() const {
        std::lock_guard lock(mu);
        std::vector<Portal*> out;
        for (const auto& p : portals) {
            out.push_back(p.get());
        }
        return out;
    }
};

namespace {

json RequestParams(const httplib::Request& req) {
    json params = json::object();
    const size_t q = req.target.find('?');
    if (q != std::string::npos) {
        params = detail::ParseQueryString(std::string_view(req.target).substr(q + 1));
    }
    if (!req.body.empty()) {
        const std::string ctype = detail::ToLower(req.get_header_value("Content-Type"));
        json body = ctype.find("json") != std::string::npos ? json::parse(req.body, nullptr, false)
                                                            : detail::ParseQueryString(req.body);
        if (body.is_object()) {
            for (auto& [k, v] : body.items()) {
                params[k] = v;
            }
        }
    }
    return params;
}

void JsonError(httplib::Response& res,
               int status,
               const std::string& code,
               const std::string& description) {
    res.status = status;
    res.set_content(json{{"error", code}, {"error_description", description}}.dump(),
                    "application/json; charset=utf-8");
}

}  // namespace

void Cloud::Impl::HandleToken(const httplib::Request& req, httplib::Response& res) {
    std::chrono::milliseconds delay;
    std::string override_endpoint;
    {
        std::lock_guard lock(mu);
        ++token_requests;
        delay = token_delay;
        override_endpoint = endpoint_override;
    }
    if (delay.count() > 0) {
        std::this_thread::sleep_for(delay);  // the simulated latency of a slow server
    }
    const json params = RequestParams(req);
    auto get = [&](const char* key) {
        return params.contains(key) ? StrVal(params[key]) : std::string();
    };
    const std::string grant = get("grant_type");
    if (grant != "refresh_token") {
        JsonError(res, 400, "invalid_request", "Unsupported grant_type");
        return;
    }
    const std::string client_id = get("client_id");
    const std::string secret = get("client_secret");
    const std::string refresh = get("refresh_token");
    AppRegistration app;
    {
        std::lock_guard lock(mu);
        auto it = apps.find(client_id);
        if (it == apps.end() || it->second.client_secret != secret) {
            JsonError(res, 401, "invalid_client", "Invalid client credentials");
            return;
        }
        app = it->second;
    }
    for (Portal* portal : PortalList()) {
        if (!portal->OwnsRefreshToken(refresh)) {
            continue;
        }
        std::string error;
        auto pair = portal->RotateRefreshToken(client_id, secret, refresh, &error);
        if (!pair) {
            const int status = error == "invalid_client"     ? 401
                               : error == "PAYMENT_REQUIRED" ? 402
                                                             : 400;
            JsonError(res, status, error,
                      error == "PAYMENT_REQUIRED" ? "Payment required" : "Invalid grant");
            return;
        }
        std::string scope;
        for (const auto& s : app.scopes) {
            scope += (scope.empty() ? "" : ",") + s;
        }
        json body = {
            {"access_token", pair->access_token},
            {"client_endpoint", override_endpoint.empty() ? portal->endpoint() : override_endpoint},
            {"domain", "127.0.0.1:" + std::to_string(port)},
            {"expires", static_cast<int64_t>(pair->expires_at)},
            {"expires_in", pair->expires_in},
            {"member_id", portal->member_id()},
            {"refresh_token", pair->refresh_token},
            {"scope", scope},
            {"server_endpoint", "http://127.0.0.1:" + std::to_string(port) + "/rest/"},
            {"status", app.status},
            {"user_id", pair->user_id}};
        res.set_content(body.dump(), "application/json; charset=utf-8");
        return;
    }
    JsonError(res, 400, "invalid_grant", "Invalid grant");
}

void Cloud::Impl::HandleAppInfo(const httplib::Request& req, httplib::Response& res) {
    const json params = RequestParams(req);
    const std::string token = params.contains("auth") ? StrVal(params["auth"]) : "";
    for (Portal* portal : PortalList()) {
        if (!token.empty() && portal->OwnsAccessToken(token)) {
            json info = portal->AppInfoFor(token);
            res.set_content(json{{"result", info}}.dump(), "application/json; charset=utf-8");
            return;
        }
    }
    JsonError(res, 401, "invalid_token", "The access token provided is invalid.");
}

Cloud::Cloud(CloudOptions options) : impl_(std::make_unique<Impl>()) {
    if (!options.clock) {
        options.clock = SystemNow;
    }
    impl_->options = std::move(options);
    const int threads = std::max(1, impl_->options.threads);
    impl_->server.new_task_queue = [threads] {
        return new httplib::ThreadPool(static_cast<size_t>(threads));
    };
    impl_->server.set_tcp_nodelay(true);  // no Nagle delay on small answers
    impl_->server.set_keep_alive_timeout(2);
    Impl* impl = impl_.get();
    auto token = [impl](const httplib::Request& req, httplib::Response& res) {
        impl->HandleToken(req, res);
    };
    auto info = [impl](const httplib::Request& req, httplib::Response& res) {
        impl->HandleAppInfo(req, res);
    };
    impl_->server.Get("/oauth/token/?", token);
    impl_->server.Post("/oauth/token/?", token);
    impl_->server.Get(R"(/rest/app\.info(\.json)?)", info);
    impl_->server.Post(R"(/rest/app\.info(\.json)?)", info);
    impl_->port = impl_->server.bind_to_any_port("127.0.0.1");
    if (impl_->port <= 0) {
        throw std::runtime_error("fakeportal: the cloud cannot bind a loopback port");
    }
    impl_->thread = std::thread([impl] { impl->server.listen_after_bind(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!impl_->server.is_running() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
}

Cloud::~Cloud() {
    Stop();
}

void Cloud::Stop() {
    std::vector<Portal*> portals;
    {
        std::lock_guard lock(impl_->mu);
        if (impl_->stopped) {
            return;
        }
        impl_->stopped = true;
    }
    for (Portal* p : impl_->PortalList()) {
        p->impl_->Stop();
    }
    impl_->server.stop();
    if (impl_->thread.joinable()) {
        impl_->thread.join();
    }
}

void Cloud::SetTokenDelay(std::chrono::milliseconds delay) {
    std::lock_guard lock(impl_->mu);
    impl_->token_delay = delay;
}

int64_t Cloud::TokenRequests() const {
    std::lock_guard lock(impl_->mu);
    return impl_->token_requests;
}

void Cloud::SetTokenEndpointOverride(const std::string& client_endpoint) {
    std::lock_guard lock(impl_->mu);
    impl_->endpoint_override = client_endpoint;
}

void Cloud::RegisterApp(const AppRegistration& app) {
    std::lock_guard lock(impl_->mu);
    impl_->apps[app.client_id] = app;
}

std::optional<AppRegistration> Cloud::FindApp(const std::string& client_id) const {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->apps.find(client_id);
    return it == impl_->apps.end() ? std::nullopt : std::optional<AppRegistration>(it->second);
}

void Cloud::SetAppUrls(const std::string& client_id,
                       const std::string& handler_url,
                       const std::string& installer_url,
                       const std::string& install_event_url) {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->apps.find(client_id);
    if (it == impl_->apps.end()) {
        throw std::runtime_error("SetAppUrls: unknown client_id");
    }
    it->second.handler_url = handler_url;
    it->second.installer_url = installer_url;
    it->second.install_event_url = install_event_url;
}

Portal& Cloud::AddPortal(PortalOptions options) {
    auto impl = std::make_unique<Portal::Impl>(impl_->options.clock, std::move(options));
    Impl* cloud = impl_.get();
    impl->find_app = [cloud](const std::string& id) -> std::optional<AppRegistration> {
        std::lock_guard lock(cloud->mu);
        auto it = cloud->apps.find(id);
        return it == cloud->apps.end() ? std::nullopt : std::optional<AppRegistration>(it->second);
    };
    impl->list_apps = [cloud] {
        std::lock_guard lock(cloud->mu);
        std::vector<AppRegistration> out;
        for (const auto& [id, app] : cloud->apps) {
            out.push_back(app);
        }
        return out;
    };
    impl->server_endpoint = server_endpoint();
    Portal::Impl* raw = impl.get();
    std::unique_ptr<Portal> portal(new Portal(std::move(impl)));
    raw->self = portal.get();
    raw->Start();
    std::lock_guard lock(impl_->mu);
    impl_->portals.push_back(std::move(portal));
    return *impl_->portals.back();
}

std::vector<Portal*> Cloud::Portals() const {
    return impl_->PortalList();
}

Portal* Cloud::FindPortal(const std::string& member_id) const {
    for (Portal* p : impl_->PortalList()) {
        if (p->member_id() == member_id) {
            return p;
        }
    }
    return nullptr;
}

std::string Cloud::server_endpoint() const {
    return "http://" + host() + "/rest/";
}
std::string Cloud::token_url() const {
    return "http://" + host() + "/oauth/token/";
}
std::string Cloud::host() const {
    return "127.0.0.1:" + std::to_string(impl_->port);
}
int Cloud::port() const {
    return impl_->port;
}
double Cloud::Now() const {
    return impl_->options.clock();
}
const Clock& Cloud::clock() const {
    return impl_->options.clock;
}

}  // namespace fakeportal
