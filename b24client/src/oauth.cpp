#include "b24client/oauth.hpp"

#include <cmath>

#include "b24client/json_util.hpp"
#include "query.hpp"
#include "transport.hpp"

namespace b24client {

struct AuthServer::Impl {
    explicit Impl(detail::TransportOptions o) : transport(std::move(o)) {}
    mutable detail::Transport transport;
};

namespace {

std::string Text(const nlohmann::json& j, const char* key) {
    if (const auto* v = Find(j, key)) {
        return ToString(*v).value_or("");
    }
    return {};
}

std::int64_t Number(const nlohmann::json& j, const char* key) {
    if (const auto* v = Find(j, key)) {
        return ToInt64(*v).value_or(0);
    }
    return 0;
}

// "https://host:port/path" -> "https://host:port" ("" when there is no scheme).
std::string Origin(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) {
        return {};
    }
    const auto path = url.find('/', scheme + 3);
    return path == std::string::npos ? url : url.substr(0, path);
}

// The answer of one request to the authorization server as JSON, or an Error.
nlohmann::json Exchange(detail::Transport& transport,
                        const detail::HttpRequest& request,
                        const std::string& method) {
    const detail::HttpResult res = transport.Perform(request);
    const int status = static_cast<int>(res.status);
    switch (res.failure) {
        case detail::TransportFailure::kNone:
            break;
        case detail::TransportFailure::kTooLarge:
            throw Error(ErrorKind::kAnswerTooLarge, method, "",
                        "the authorization server's answer exceeded " +
                            std::to_string(transport.options().max_answer_bytes) +
                            " bytes and was cut off",
                        status);
        case detail::TransportFailure::kProtocol:
            throw Error(ErrorKind::kUntrustedEndpoint, method, "",
                        "the authorization server URL uses a scheme that is not allowed");
        case detail::TransportFailure::kTimeout:
            throw Error(ErrorKind::kTimeout, method, "", res.failure_detail);
        case detail::TransportFailure::kConnection:
            throw Error(ErrorKind::kTransport, method, "", res.failure_detail);
    }
    nlohmann::json body = nlohmann::json::parse(res.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        if (status >= 500 || status == 429) {
            throw Error(ErrorKind::kServerError, method, "", "no JSON in the answer", status);
        }
        throw Error(ErrorKind::kBadResponse, method, "", "no JSON in the answer", status);
    }
    if (Find(body, "error") != nullptr || status >= 400) {
        const std::string code = Text(body, "error");
        std::string description = Text(body, "error_description");
        if (description.size() > 200) {
            description.resize(200);
        }
        if (status >= 500) {
            throw Error(ErrorKind::kServerError, method, code, description, status);
        }
        const Classification cls = ClassifyOAuthError(status, code);
        throw Error(cls.kind, method, code, description, status);
    }
    return body;
}

}  // namespace

AuthServer::AuthServer(OAuthApp app, AuthServerOptions options)
    : app_(std::move(app)), options_(std::move(options)) {
    if (!options_.clock) {
        options_.clock = SystemClock();
    }
    detail::TransportOptions t;
    t.user_agent = options_.user_agent;
    t.verify_tls = options_.verify_tls;
    // The token URL is the operator's configuration: its own scheme is allowed (a local test cloud
    // runs on plain http); what the server's answers name is checked against allow_http.
    t.allow_http = options_.allow_http || app_.token_url.rfind("http://", 0) == 0;
    t.max_answer_bytes = options_.max_answer_bytes;
    impl_ = std::make_unique<Impl>(std::move(t));
}

AuthServer::~AuthServer() = default;

bool AuthServer::IsTransient(const Error& error) {
    switch (error.kind()) {
        case ErrorKind::kServerError:
        case ErrorKind::kTimeout:
        case ErrorKind::kTransport:
        case ErrorKind::kBadResponse:
        case ErrorKind::kQueryLimit:
            return true;
        default:
            return false;
    }
}

TokenGrant AuthServer::Refresh(const std::string& refresh_token) const {
    if (refresh_token.empty()) {
        throw Error(ErrorKind::kReinstallNeeded, "oauth", "invalid_request", "no refresh token");
    }
    if (!IsAcceptableEndpoint(app_.token_url, /*allow_http=*/true)) {
        throw Error(ErrorKind::kUntrustedEndpoint, "oauth", "", "the token URL is not http(s)");
    }
    detail::HttpRequest req;
    req.post = false;
    // The URL carries the client secret and the refresh token: it is never logged.
    req.url = app_.token_url + (app_.token_url.find('?') == std::string::npos ? "?" : "&") +
              "grant_type=refresh_token&client_id=" + detail::PercentEncode(app_.client_id) +
              "&client_secret=" + detail::PercentEncode(app_.client_secret) +
              "&refresh_token=" + detail::PercentEncode(refresh_token);
    req.timeout_s = options_.request_timeout_s;
    req.connect_timeout_s = options_.connect_timeout_s;
    const nlohmann::json body = Exchange(impl_->transport, req, "oauth");
    TokenGrant grant;
    grant.access_token = Text(body, "access_token");
    if (grant.access_token.empty()) {
        throw Error(ErrorKind::kInvalidToken, "oauth", "", "the answer holds no access token", 200);
    }
    grant.refresh_token = Text(body, "refresh_token");
    grant.member_id = Text(body, "member_id");
    grant.scope = Text(body, "scope");
    grant.status = Text(body, "status");
    grant.user_id = Number(body, "user_id");
    grant.client_endpoint = Text(body, "client_endpoint");
    if (!grant.client_endpoint.empty()) {
        if (grant.client_endpoint.back() != '/') {
            grant.client_endpoint.push_back('/');
        }
        if (!IsAcceptableEndpoint(grant.client_endpoint, options_.allow_http)) {
            throw Error(ErrorKind::kUntrustedEndpoint, "oauth", "",
                        "the answer names a portal endpoint that is not https");
        }
    }
    const std::int64_t expires = Number(body, "expires");
    const std::int64_t expires_in = Number(body, "expires_in");
    if (expires > 0) {
        grant.expires_at = expires;
    } else {
        grant.expires_at = static_cast<std::int64_t>(std::floor(options_.clock->Now())) +
                           (expires_in > 0 ? expires_in : 3600);
    }
    return grant;
}

nlohmann::json AuthServer::AppInfo(const std::string& access_token) const {
    const std::string origin = Origin(app_.token_url);
    if (origin.empty() || !IsAcceptableEndpoint(origin, /*allow_http=*/true)) {
        throw Error(ErrorKind::kUntrustedEndpoint, "app.info", "",
                    "the authorization server URL is not http(s)");
    }
    detail::HttpRequest req;
    req.post = true;
    req.url = origin + "/rest/app.info";
    req.content_type = "application/x-www-form-urlencoded";
    req.body = "auth=" + detail::PercentEncode(access_token);  // in the body, never in a URL
    req.timeout_s = options_.request_timeout_s;
    req.connect_timeout_s = options_.connect_timeout_s;
    nlohmann::json body;
    try {
        body = Exchange(impl_->transport, req, "app.info");
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::kReinstallNeeded) {  // invalid_token from this endpoint
            throw Error(ErrorKind::kInvalidToken, "app.info", e.code(), e.description(),
                        e.http_status());
        }
        throw;
    }
    const nlohmann::json* result = Find(body, "result");
    if (result == nullptr || !result->is_object()) {
        throw Error(ErrorKind::kInvalidToken, "app.info", "", "no result for this token", 200);
    }
    return *result;
}

}  // namespace b24client
