#include "http/http_server.hpp"

#include <chrono>
#include <set>
#include <stdexcept>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api_error.hpp"
#include "http/util.hpp"

namespace server::http {

namespace {

// Handlers run start to finish on one worker thread, so the request's start time can live there.
thread_local std::chrono::steady_clock::time_point t_request_start;

std::string CodeFor(int status) {
    switch (status) {
        case 400:
            return "bad_request";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not_found";
        case 405:
            return "method_not_allowed";
        case 409:
            return "conflict";
        case 413:
            return "too_large";
        case 414:
            return "too_large";
        case 429:
            return "busy";
        default:
            return status >= 500 ? "internal" : "bad_request";
    }
}

std::string MessageFor(int status) {
    switch (status) {
        case 404:
            return "no such resource";
        case 405:
            return "method not allowed here";
        case 413:
            return "request body too large";
        case 414:
            return "request URI too long";
        default:
            return status >= 500 ? "internal error" : "bad request";
    }
}

}  // namespace

void HttpServer::RenderError(httplib::Response& res,
                             int status,
                             const std::string& code,
                             const std::string& message,
                             ErrorStyle style) {
    res.status = status;
    res.headers.erase("Content-Disposition");
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    if (style == ErrorStyle::kHtml) {
        // Shown inside the portal's frame; nothing in it acts, so any page may frame it.
        res.set_header("Content-Security-Policy",
                       "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *");
        res.set_content(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>b24seg</title>"
            "</head><body style=\"font-family:sans-serif;padding:16px\"><p>" +
                HtmlEscape(message) + "</p><p style=\"color:#888\">" + HtmlEscape(code) + " (" +
                std::to_string(status) + ")</p></body></html>",
            "text/html; charset=utf-8");
        return;
    }
    nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json; charset=utf-8");
}

HttpServer::HttpServer(std::size_t max_payload, int threads)
    : server_(std::make_unique<httplib::Server>()) {
    server_->new_task_queue = [threads] {
        return new httplib::ThreadPool(static_cast<std::size_t>(threads));
    };
    // httplib reads at most this much of a body; larger ones are drained and answered 413.
    server_->set_payload_max_length(max_payload);
    server_->set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
        t_request_start = std::chrono::steady_clock::now();
        return httplib::Server::HandlerResponse::Unhandled;
    });
    server_->set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) {
                return httplib::Server::HandlerResponse::Unhandled;  // rendered by a route already
            }
            const RouteEntry* any = FindPath(req.path);
            ErrorStyle style = any != nullptr ? any->errors : ErrorStyle::kJson;
            if (res.status == 404 && any != nullptr) {
                std::set<std::string> allowed;
                for (const auto& r : routes_) {
                    if (r.Matches(req.path)) {
                        allowed.insert(r.method);
                    }
                }
                std::string allow;
                for (const auto& m : allowed) {
                    allow += (allow.empty() ? "" : ", ") + m;
                }
                res.set_header("Allow", allow);
                RenderError(res, 405, "method_not_allowed", "method not allowed here; use " + allow,
                            style);
                return httplib::Server::HandlerResponse::Handled;
            }
            RenderError(res, res.status, CodeFor(res.status), MessageFor(res.status), style);
            return httplib::Server::HandlerResponse::Handled;
        }));
    server_->set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                                      std::exception_ptr ep) {
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            spdlog::error("{} {}: unhandled: {}", req.method, LogSafe(req.path), e.what());
        } catch (...) {
            spdlog::error("{} {}: unhandled non-standard exception", req.method, LogSafe(req.path));
        }
        RenderError(res, 500, "internal", "internal error", ErrorStyle::kJson);
    });
    server_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              t_request_start)
                        .count();
        // req.path never holds the query string; tokens travel in bodies and headers only.
        spdlog::info("http {} {} {} {:.1f}ms", LogSafe(req.method, 16), LogSafe(req.path),
                     res.status, ms);
    });
}

HttpServer::~HttpServer() {
    Stop();
}

namespace {

constexpr std::size_t kMaxSegment = 200;

bool SegmentChar(char c, bool first) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || (!first && (c == '.' || c == '_' || c == '-'));
}

// The httplib pattern (a regex) for a route path: literal characters escaped, "*" as a segment.
std::string HttplibPattern(const std::string& path, bool segment) {
    std::string out;
    for (char c : path) {
        if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    if (segment) {
        out += "([A-Za-z0-9][A-Za-z0-9._-]{0," + std::to_string(kMaxSegment - 1) + "})";
    }
    return out;
}

}  // namespace

bool HttpServer::RouteEntry::Matches(std::string_view request_path) const {
    if (!segment) {
        return request_path == path;
    }
    if (request_path.size() <= path.size() || request_path.substr(0, path.size()) != path) {
        return false;
    }
    std::string_view rest = request_path.substr(path.size());
    if (rest.size() > kMaxSegment) {
        return false;
    }
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (!SegmentChar(rest[i], i == 0)) {
            return false;
        }
    }
    return true;
}

const HttpServer::RouteEntry* HttpServer::FindPath(const std::string& path) const {
    for (const auto& r : routes_) {
        if (r.Matches(path)) {
            return &r;
        }
    }
    return nullptr;
}

void HttpServer::Route(const std::string& method,
                       const std::string& path,
                       std::size_t max_body,
                       ErrorStyle errors,
                       Handler handler) {
    RouteEntry entry;
    entry.method = method;
    entry.segment = !path.empty() && path.back() == '*';
    entry.path = entry.segment ? path.substr(0, path.size() - 1) : path;
    entry.max_body = max_body;
    entry.errors = errors;
    routes_.push_back(entry);
    const std::string pattern = HttplibPattern(entry.path, entry.segment);
    auto wrapped = [handler = std::move(handler), max_body, errors, method](
                       const httplib::Request& req, httplib::Response& res) {
        try {
            if (req.body.size() > max_body) {
                throw TooLarge("request body too large (at most " + std::to_string(max_body) +
                               " bytes)");
            }
            handler(req, res);
        } catch (const ApiError& e) {
            if (e.status() >= 500) {
                spdlog::warn("{} {}: {} {}", method, LogSafe(req.path), e.status(), e.what());
            }
            RenderError(res, e.status(), e.code(), e.what(), errors);
        } catch (const std::exception& e) {
            spdlog::error("{} {}: internal error: {}", method, LogSafe(req.path), e.what());
            RenderError(res, 500, "internal", "internal error", errors);
        }
    };
    if (method == "GET") {
        server_->Get(pattern, wrapped);
    } else if (method == "POST") {
        server_->Post(pattern, wrapped);
    } else if (method == "PUT") {
        server_->Put(pattern, wrapped);
    } else {
        throw std::invalid_argument("HttpServer::Route: unsupported method " + method);
    }
}

int HttpServer::Bind(const std::string& host, int port) {
    if (port == 0) {
        port_ = server_->bind_to_any_port(host);
        if (port_ <= 0) {
            throw std::runtime_error("cannot listen on " + host);
        }
    } else {
        if (!server_->bind_to_port(host, port)) {
            throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port));
        }
        port_ = port;
    }
    return port_;
}

void HttpServer::Listen() {
    server_->listen_after_bind();
}

void HttpServer::Stop() {
    if (server_) {
        server_->stop();
    }
}

bool HttpServer::running() const {
    return server_ && server_->is_running();
}

}  // namespace server::http
