// Support for the portal shell (tests/fakeportal/shell/, written separately): static files under
// /shell/ and small JSON endpoints the shell's JavaScript calls. See README "Shell endpoints".
#include <filesystem>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <sstream>

#include "portal_impl.hpp"

namespace fakeportal {

using detail::StrVal;

namespace {

std::string MimeType(const std::string& path) {
    const auto ext = std::filesystem::path(path).extension().string();
    if (ext == ".html" || ext == ".htm") {
        return "text/html; charset=utf-8";
    }
    if (ext == ".js" || ext == ".mjs") {
        return "application/javascript; charset=utf-8";
    }
    if (ext == ".css") {
        return "text/css; charset=utf-8";
    }
    if (ext == ".json") {
        return "application/json; charset=utf-8";
    }
    if (ext == ".svg") {
        return "image/svg+xml";
    }
    if (ext == ".png") {
        return "image/png";
    }
    if (ext == ".ico") {
        return "image/x-icon";
    }
    return "application/octet-stream";
}

void SendJson(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json; charset=utf-8");
}

json BodyJson(const httplib::Request& req) {
    json body = json::parse(req.body.empty() ? std::string("{}") : req.body, nullptr, false);
    return body.is_object() ? body : json::object();
}

}  // namespace

std::string Portal::Impl::ShellClientId() {
    {
        std::shared_lock lock(data_mu);
        if (!shell_client_id.empty()) {
            return shell_client_id;
        }
        for (const auto& [id, app] : apps) {
            if (app.installed) {
                return id;
            }
        }
    }
    const auto all = list_apps ? list_apps() : std::vector<AppRegistration>{};
    return all.empty() ? "" : all.front().client_id;
}

AppLaunch Portal::OpenApp(const std::string& client_id,
                          int64_t user_id,
                          const std::string& placement,
                          const nlohmann::json& placement_options,
                          const std::string& lang) {
    auto reg = impl_->find_app(client_id);
    if (!reg) {
        throw std::runtime_error("OpenApp: unknown client_id");
    }
    auto user = FindUser(user_id);
    if (!user) {
        throw std::runtime_error("OpenApp: unknown user");
    }
    if (!IsInstalled(client_id)) {
        if (!user->admin) {
            throw std::runtime_error("OpenApp: only an administrator can install the app");
        }
        // The portal installs the app (ONAPPINSTALL goes out) and shows the installer page.
        InstallApp(client_id, user_id, InstallFlow::kEventOnly, lang);
        std::unique_lock lock(impl_->data_mu);
        impl_->apps[client_id].finished = false;
    }
    AppLaunch launch;
    std::string base;
    TokenPair tokens;
    std::string app_token;
    {
        std::unique_lock lock(impl_->data_mu);
        AppInstall& app = impl_->apps[client_id];
        app_token = app.application_token;
        base = reg->handler_url;
        if (!app.finished) {
            base = reg->installer_url.empty() ? reg->handler_url : reg->installer_url;
        } else if (placement != "DEFAULT") {
            for (const auto& b : app.placements) {
                if (b.placement == placement) {
                    base = b.handler;
                    break;
                }
            }
        }
        tokens = impl_->IssueTokensLocked(client_id, user_id);
    }
    std::string scope;
    for (const auto& s : reg->scopes) {
        scope += (scope.empty() ? "" : ",") + s;
    }
    launch.url = base + (base.find('?') == std::string::npos ? "?" : "&") +
                 "DOMAIN=" + detail::UrlEncode(domain()) +
                 "&PROTOCOL=0&LANG=" + detail::UrlEncode(lang) + "&APP_SID=" + impl_->Random(32);
    launch.fields = {
        {"AUTH_ID", tokens.access_token},
        {"AUTH_EXPIRES", std::to_string(tokens.expires_in)},
        {"REFRESH_ID", tokens.refresh_token},
        {"member_id", impl_->member_id},
        {"APPLICATION_TOKEN", app_token},
        {"APPLICATION_SCOPE", scope},
        {"SERVER_ENDPOINT", impl_->server_endpoint},
        {"status", reg->status},
        {"PLACEMENT", placement},
        {"PLACEMENT_OPTIONS", placement_options.is_string() ? placement_options.get<std::string>()
                                                            : placement_options.dump()}};
    return launch;
}

void Portal::Impl::RegisterShellRoutes(httplib::Server& server) {
    server.Get("/shell/?", [](const httplib::Request&, httplib::Response& res) {
        res.status = 302;
        res.set_header("Location", "/shell/index.html");
    });
    server.Get("/shell/api/info", [this](const httplib::Request&, httplib::Response& res) {
        const std::string client_id = ShellClientId();
        auto reg = client_id.empty() ? std::nullopt : find_app(client_id);
        std::shared_lock lock(data_mu);
        json users_json = json::array();
        for (const auto& u : users) {
            users_json.push_back({{"id", u.id},
                                  {"name", u.name},
                                  {"lastName", u.last_name},
                                  {"admin", u.admin},
                                  {"crmRead", u.crm_read == CrmRead::kAll ? "all" : "own"}});
        }
        json app = nullptr;
        if (reg) {
            auto it = apps.find(client_id);
            const bool installed = it != apps.end() && it->second.installed;
            json placements = json::array();
            if (installed && it->second.finished) {
                for (const auto& b : it->second.placements) {
                    placements.push_back(
                        {{"placement", b.placement}, {"handler", b.handler}, {"title", b.title}});
                }
            }
            app = {{"clientId", reg->client_id},
                   {"name", reg->name},
                   {"installed", installed},
                   {"finished", installed && it->second.finished},
                   {"placements", placements}};
        }
        SendJson(res, 200,
                 {{"domain", Domain()},
                  {"memberId", member_id},
                  {"member_id", member_id},
                  {"endpoint", Endpoint()},
                  {"users", users_json},
                  {"app", app}});
    });
    server.Post("/shell/api/open-app", [this](const httplib::Request& req, httplib::Response& res) {
        const json body = BodyJson(req);
        const std::string client_id = ShellClientId();
        if (client_id.empty()) {
            SendJson(res, 404, {{"error", "no application is registered"}});
            return;
        }
        try {
            const int64_t user_id = body.contains("userId") ? detail::IntVal(body["userId"]) : 1;
            const std::string placement =
                body.contains("placement") && !StrVal(body["placement"]).empty()
                    ? StrVal(body["placement"])
                    : "DEFAULT";
            const json popts =
                body.contains("placementOptions") ? body["placementOptions"] : json::object();
            const std::string lang = body.contains("lang") ? StrVal(body["lang"]) : "en";
            AppLaunch launch = self->OpenApp(client_id, user_id, placement, popts, lang);
            json fields = json::object();
            for (const auto& [k, v] : launch.fields) {
                fields[k] = v;
            }
            SendJson(res, 200, {{"url", launch.url}, {"fields", fields}});
        } catch (const std::exception& e) {
            SendJson(res, 403, {{"error", e.what()}});
        }
    });
    server.Post("/shell/api/install-finish",
                [this](const httplib::Request&, httplib::Response& res) {
                    const std::string client_id = ShellClientId();
                    self->FinishInstall(client_id);
                    SendJson(res, 200, {{"result", true}});
                });
    server.Post("/shell/api/auth", [this](const httplib::Request& req, httplib::Response& res) {
        const json body = BodyJson(req);
        const std::string client_id = ShellClientId();
        try {
            const int64_t user_id = body.contains("userId") ? detail::IntVal(body["userId"]) : 1;
            TokenPair t = self->IssueTokens(client_id, user_id);
            SendJson(res, 200,
                     {{"access_token", t.access_token},
                      {"refresh_token", t.refresh_token},
                      {"expires_in", t.expires_in},
                      {"domain", Domain()},
                      {"member_id", member_id}});
        } catch (const std::exception& e) {
            SendJson(res, 403, {{"error", e.what()}});
        }
    });
    server.Get(R"(/shell/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
        std::string dir;
        {
            std::shared_lock lock(data_mu);
            dir = shell_dir;
        }
        const std::string rel = req.matches[1];
        if (dir.empty() || rel.find("..") != std::string::npos || rel.rfind("api/", 0) == 0) {
            res.status = 404;
            res.set_content("not found", "text/plain");
            return;
        }
        std::ifstream in(std::filesystem::path(dir) / rel, std::ios::binary);
        if (!in) {
            res.status = 404;
            res.set_content("not found", "text/plain");
            return;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        res.set_header("Cache-Control", "no-store");
        res.set_content(ss.str(), MimeType(rel));
    });
}

}  // namespace fakeportal
