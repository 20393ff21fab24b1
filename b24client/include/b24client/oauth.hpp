#pragma once
// Bitrix24's authorization server (oauth.bitrix.info): the refresh-token trade and app.info for an
// access token. The Client uses it for its own refreshes; the server uses it to confirm installs
// and to name the portal of a page's token. One implementation, so the rules hold everywhere:
//  - the request goes only to the configured token URL (operator configuration: its scheme is
//    trusted) and app.info at its origin, never to a host named by an answer or a request;
//    answers are capped, redirects are not followed;
//  - a `client_endpoint` in the answer must be https (plain http only with allow_http):
//    otherwise ErrorKind::kUntrustedEndpoint and the answer is not used;
//  - the expiry stored is the one the server returned (`expires`, else now + `expires_in`).
//
// The client secret and the tokens travel only in the query of the request to the token URL and
// never appear in a log line or an Error. Thread-safe.

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "b24client/client.hpp"
#include "b24client/clock.hpp"
#include "b24client/error.hpp"

namespace b24client {

// One answer of the token endpoint.
struct TokenGrant {
    std::string access_token;
    std::string refresh_token;    // the rotated refresh token ("" if the server sent none)
    std::string member_id;        // the portal ("" if absent)
    std::string client_endpoint;  // the portal's REST base, ending in '/' ("" if absent)
    std::string scope;
    std::string status;
    std::int64_t user_id = 0;     // the user the tokens belong to (0 if absent)
    std::int64_t expires_at = 0;  // unix seconds the access token expires at
};

struct AuthServerOptions {
    bool allow_http = false;  // a plain-http client_endpoint in answers (local test portals)
    std::size_t max_answer_bytes = 1u << 20;
    double request_timeout_s = 30.0;
    double connect_timeout_s = 10.0;
    bool verify_tls = true;
    std::string user_agent = "b24seg-b24client/0.1";
    std::shared_ptr<Clock> clock;  // for expires_in without `expires`; null: SystemClock()
};

class AuthServer {
public:
    AuthServer(OAuthApp app, AuthServerOptions options = {});
    ~AuthServer();
    AuthServer(const AuthServer&) = delete;
    AuthServer& operator=(const AuthServer&) = delete;

    // One trade (no retries: callers decide; IsTransient tells which failures may be retried).
    // Throws Error with method "oauth": kReinstallNeeded (invalid_grant, invalid_client),
    // kPaymentRequired, kInvalidToken (an answer without a token), kOAuth (other refusals),
    // kUntrustedEndpoint, kAnswerTooLarge, and the transient kServerError / kTimeout / kTransport /
    // kBadResponse / kQueryLimit.
    TokenGrant Refresh(const std::string& refresh_token) const;

    // app.info asked at the authorization server ("<origin of token_url>/rest/app.info") for an
    // access token: the `result` object (member_id, user_id, install{uri} ...). Throws Error
    // (method "app.info"): kInvalidToken when the server does not know the token, transient kinds
    // as above.
    nlohmann::json AppInfo(const std::string& access_token) const;

    // Failures worth another attempt (the server may answer next time).
    static bool IsTransient(const Error& error);

    const OAuthApp& app() const { return app_; }

private:
    struct Impl;
    OAuthApp app_;
    AuthServerOptions options_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace b24client
