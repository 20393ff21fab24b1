#include "http/pages.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api_error.hpp"
#include "http/lifecycle.hpp"
#include "http/sessions.hpp"
#include "http/util.hpp"

namespace server::http {

using nlohmann::json;

namespace {

std::optional<std::string> ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void RequireForm(const Request& req) {
    std::string type = AsciiLower(req.get_header_value("Content-Type"));
    if (type.rfind("application/x-www-form-urlencoded", 0) != 0) {
        throw BadRequest("expected an application/x-www-form-urlencoded body");
    }
}

struct View {
    std::string view;
    std::string placement;
    json entity;  // null unless a card tab
};

View ViewFor(const PagePost& post, bool installer) {
    View v;
    v.placement = post.placement;
    v.entity = nullptr;
    if (installer) {
        v.view = "install";
        v.placement = "DEFAULT";
        return v;
    }
    if (post.placement == "DEFAULT" || post.placement == "CRM_ANALYTICS_MENU") {
        v.view = "main";
        return v;
    }
    if (post.placement == "CRM_CONTACT_DETAIL_TAB" || post.placement == "CRM_COMPANY_DETAIL_TAB") {
        json options = json::parse(post.placement_options, nullptr, false);
        std::optional<std::int64_t> id;
        if (options.is_object() && options.contains("ID")) {
            const json& raw = options["ID"];
            if (raw.is_string()) {
                id = ParsePositiveId(raw.get<std::string>());
            } else if (raw.is_number_integer() && raw.get<std::int64_t>() > 0) {
                id = raw.get<std::int64_t>();
            }
        }
        if (!id) {
            throw BadRequest("missing or malformed parameter: PLACEMENT_OPTIONS (ID)");
        }
        v.view = "card";
        v.entity = {{"kind", post.placement == "CRM_CONTACT_DETAIL_TAB" ? "contact" : "company"},
                    {"id", *id}};
        return v;
    }
    throw BadRequest("unsupported PLACEMENT");
}

void ServePage(Services& s, const Request& req, Response& res, bool installer) {
    RequireForm(req);
    Pairs query = ParseUrlEncoded(QueryOf(req.target));
    Pairs form = ParseUrlEncoded(req.body);
    PagePost post = PagePost::From(query, form);
    View view = ViewFor(post, installer);
    PortalRecord record =
        installer ? s.lifecycle.AcceptInstallPage(post) : s.lifecycle.VerifyPage(post);
    PortalUser user = s.lifecycle.IdentifyUser(record, post.auth_id);
    if (!installer && !record.install_finished) {
        // The portal shows the app's own pages only once the install is finished.
        s.registry.SetInstallFinished(record.member_id);
        record.install_finished = true;
    }
    std::string lang = PageLang(post.lang.empty() ? record.lang : post.lang);
    std::int64_t lifetime = std::clamp<std::int64_t>(post.auth_expires, 60, 3600);
    auto issued = s.sessions.Issue(record.member_id, user.id, user.is_admin, lang, user.name,
                                   post.auth_id, lifetime);
    json boot = {{"session", issued.token},
                 {"sessionExpiresAt", issued.expires_at},
                 {"view", view.view},
                 {"lang", lang},
                 {"placement", view.placement},
                 {"user", {{"id", user.id}, {"name", user.name}, {"isAdmin", user.is_admin}}},
                 {"portal", {{"domain", record.domain}}},
                 {"installFinishNeeded", installer && !record.install_finished}};
    if (!view.entity.is_null()) {
        boot["entity"] = view.entity;
    }
    auto index = ReadFile(std::filesystem::path(s.config.frontend_dir) / "index.html");
    if (!index) {
        throw ApiError(503, "frontend_missing", "the app's pages are not built on this server");
    }
    res.set_header("Content-Security-Policy", PageCsp(OriginOf(record.endpoint)));
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_content(InjectBoot(*index, boot), "text/html; charset=utf-8");
}

}  // namespace

std::string InjectBoot(const std::string& index_html, const json& boot) {
    auto at = index_html.find("</head>");
    if (at == std::string::npos) {
        throw std::runtime_error("index.html has no </head>");
    }
    std::string element =
        "<script id=\"b24seg-boot\" type=\"application/json\">" + HtmlSafeJson(boot) + "</script>";
    return index_html.substr(0, at) + element + index_html.substr(at);
}

std::string PageCsp(const std::string& portal_origin) {
    return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors " +
           (portal_origin.empty() ? std::string("'none'") : portal_origin);
}

std::string AssetContentType(const std::string& file_name) {
    auto dot = file_name.rfind('.');
    std::string ext = dot == std::string::npos ? "" : AsciiLower(file_name.substr(dot + 1));
    if (ext == "js" || ext == "mjs") {
        return "text/javascript; charset=utf-8";
    }
    if (ext == "css") {
        return "text/css; charset=utf-8";
    }
    if (ext == "map" || ext == "json") {
        return "application/json; charset=utf-8";
    }
    if (ext == "txt") {
        return "text/plain; charset=utf-8";
    }
    if (ext == "svg") {
        return "image/svg+xml";
    }
    if (ext == "png") {
        return "image/png";
    }
    if (ext == "ico") {
        return "image/x-icon";
    }
    if (ext == "woff2") {
        return "font/woff2";
    }
    return "application/octet-stream";
}

void RegisterPortalRoutes(HttpServer& server, Services& s) {
    const std::size_t limit = s.config.max_callback_body_bytes;
    server.Route("POST", "/b24/install", limit, ErrorStyle::kHtml,
                 [&s](const Request& req, Response& res) { ServePage(s, req, res, true); });
    server.Route("POST", "/b24/app", limit, ErrorStyle::kHtml,
                 [&s](const Request& req, Response& res) { ServePage(s, req, res, false); });
    server.Route("POST", "/b24/events", limit, ErrorStyle::kJson,
                 [&s](const Request& req, Response& res) {
                     RequireForm(req);
                     s.lifecycle.HandleEvent(ParseUrlEncoded(req.body));
                     res.set_header("Cache-Control", "no-store");
                     res.set_content(R"({"result":true})", "application/json; charset=utf-8");
                 });
}

void RegisterStaticRoutes(HttpServer& server, Services& s) {
    server.Route("GET", "/assets/*", 0, ErrorStyle::kJson, [&s](const Request& req, Response& res) {
        std::string name = req.matches[1];
        auto body = ReadFile(std::filesystem::path(s.config.frontend_dir) / "assets" / name);
        if (!body) {
            throw NotFound("no such asset");
        }
        res.set_header("Cache-Control", "public, max-age=31536000, immutable");
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_content(std::move(*body), AssetContentType(name));
    });
    // Health and liveness run on the listener's event thread (they never block): they answer
    // while every worker is busy. /healthz is 503 when an operator must act (Health).
    server.Route(
        "GET", "/healthz", 0, ErrorStyle::kJson,
        [&s](const Request&, Response& res) {
            json live = {{"jobsRunning", s.jobs.RunningCount()}};
            if (s.http_stats) {
                live["http"] = s.http_stats();
            }
            Health::Answer answer = s.health.Current(live);
            res.status = answer.status;
            res.set_header("Cache-Control", "no-store");
            res.set_content(answer.body.dump(), "application/json; charset=utf-8");
        },
        true);
    server.Route(
        "GET", "/livez", 0, ErrorStyle::kJson,
        [](const Request&, Response& res) {
            res.set_header("Cache-Control", "no-store");
            res.set_content(R"({"status":"alive"})", "application/json; charset=utf-8");
        },
        true);
    server.Route("GET", "/", 0, ErrorStyle::kJson, [](const Request&, Response& res) {
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_content(
            "b24seg: customer segmentation for Bitrix24. This server is opened from "
            "inside a Bitrix24 portal where the app is installed.\n",
            "text/plain; charset=utf-8");
    });
}

}  // namespace server::http
