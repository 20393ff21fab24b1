#pragma once
// Bitrix24's authorization server, as the install flow and session refresh use it (a thin
// adapter over b24client::AuthServer, which holds the one HTTP implementation and its rules:
// https only, plain http with allow_http_portals; answers capped; a client_endpoint that is not
// https refused):
//  - Refresh(): trades a refresh token for a new pair. The answer names the portal (member_id) and
//    its REST endpoint (client_endpoint); that is how a new install is verified and where the
//    portal is called from then on. The used refresh token is dead afterwards (it rotates).
//  - AppInfo(): app.info on the authorization server for an access token, which names the portal
//    the token belongs to (used when a page trades a fresh AUTH_ID for a new session).
//
// The client secret and the tokens travel only to the configured authorization server and never
// into logs or error messages. Thread-safe.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace b24client {
class AuthServer;
}

namespace server::http {

struct OAuthGrant {
    std::string access_token;
    std::string refresh_token;
    std::string member_id;
    std::string client_endpoint;  // the portal's REST base, e.g. https://x.bitrix24.ru/rest/
    std::string scope;
    std::string status;
    std::int64_t user_id = 0;
    std::int64_t expires_at = 0;  // unix seconds, as the server said (`expires`, or now+expires_in)
};

struct OAuthAppInfo {
    std::string member_id;     // "" when the server did not say
    std::int64_t user_id = 0;  // 0 when the server did not say
    std::string portal_uri;    // install.uri ("https://x.bitrix24.ru"), "" when absent
};

// kRejected: the server answered and refused (invalid_grant, invalid_client, PAYMENT_REQUIRED, an
// unknown token, an endpoint that is not https). kUnavailable: no usable answer (transport,
// timeout, 5xx, not JSON).
class OAuthError : public std::runtime_error {
public:
    enum class Kind { kRejected, kUnavailable };
    OAuthError(Kind kind, std::string code, const std::string& message)
        : std::runtime_error(message), kind_(kind), code_(std::move(code)) {}
    Kind kind() const { return kind_; }
    // The server's error code ("invalid_grant", ...), or "" for kUnavailable.
    const std::string& code() const { return code_; }

private:
    Kind kind_;
    std::string code_;
};

class OAuthServer {
public:
    // token_url: config.oauth_url ("https://oauth.bitrix.info/oauth/token/"). app.info is asked at
    // the same host under /rest/app.info. allow_http: config.allow_http_portals.
    OAuthServer(std::string token_url,
                std::string client_id,
                std::string client_secret,
                bool allow_http,
                std::size_t max_answer_bytes = 1u << 20);
    ~OAuthServer();

    // Throws OAuthError.
    OAuthGrant Refresh(const std::string& refresh_token) const;
    OAuthAppInfo AppInfo(const std::string& access_token) const;

private:
    std::unique_ptr<b24client::AuthServer> server_;
};

}  // namespace server::http
