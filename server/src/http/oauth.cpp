#include "http/oauth.hpp"

#include "b24client/json_util.hpp"
#include "b24client/oauth.hpp"
#include "http/util.hpp"

namespace server::http {

namespace {

std::string Text(const nlohmann::json& j, const char* key) {
    if (const auto* v = b24client::Find(j, key)) {
        return b24client::ToString(*v).value_or("");
    }
    return {};
}

[[noreturn]] void Rethrow(const b24client::Error& e, const std::string& what) {
    if (b24client::AuthServer::IsTransient(e)) {
        throw OAuthError(OAuthError::Kind::kUnavailable, "",
                         what + ": authorization server unavailable (" +
                             std::string(b24client::ToString(e.kind())) + ")");
    }
    // The code is the server's ("invalid_grant" ...) or our own kind; never a token.
    std::string code = e.code().empty() ? std::string(b24client::ToString(e.kind())) : e.code();
    throw OAuthError(OAuthError::Kind::kRejected, code,
                     what + ": refused (" + LogSafe(code, 64) + ")");
}

}  // namespace

OAuthServer::OAuthServer(std::string token_url,
                         std::string client_id,
                         std::string client_secret,
                         bool allow_http,
                         std::size_t max_answer_bytes) {
    b24client::AuthServerOptions options;
    options.allow_http = allow_http;
    options.max_answer_bytes = max_answer_bytes;
    options.request_timeout_s = 20.0;
    options.user_agent = "b24seg/0.1";
    server_ = std::make_unique<b24client::AuthServer>(
        b24client::OAuthApp{std::move(client_id), std::move(client_secret), std::move(token_url)},
        std::move(options));
}

OAuthServer::~OAuthServer() = default;

OAuthGrant OAuthServer::Refresh(const std::string& refresh_token) const {
    if (refresh_token.empty()) {
        throw OAuthError(OAuthError::Kind::kRejected, "invalid_request", "no refresh token");
    }
    b24client::TokenGrant g;
    try {
        g = server_->Refresh(refresh_token);
    } catch (const b24client::Error& e) {
        Rethrow(e, "token refresh");
    }
    if (g.member_id.empty() || g.client_endpoint.empty()) {
        throw OAuthError(OAuthError::Kind::kRejected, "",
                         "token refresh: the answer lacks the member_id or endpoint");
    }
    OAuthGrant grant;
    grant.access_token = std::move(g.access_token);
    grant.refresh_token = std::move(g.refresh_token);
    grant.member_id = std::move(g.member_id);
    grant.client_endpoint = std::move(g.client_endpoint);
    grant.scope = std::move(g.scope);
    grant.status = std::move(g.status);
    grant.user_id = g.user_id;
    grant.expires_at = g.expires_at;
    return grant;
}

OAuthAppInfo OAuthServer::AppInfo(const std::string& access_token) const {
    nlohmann::json result;
    try {
        result = server_->AppInfo(access_token);
    } catch (const b24client::Error& e) {
        Rethrow(e, "app.info");
    }
    OAuthAppInfo info;
    info.member_id = Text(result, "member_id");
    if (const auto* v = b24client::Find(result, "user_id")) {
        info.user_id = b24client::ToInt64(*v).value_or(0);
    }
    if (const auto* install = b24client::Find(result, "install"); install != nullptr) {
        info.portal_uri = Text(*install, "uri");
    }
    return info;
}

}  // namespace server::http
