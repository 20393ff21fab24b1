#include "http/oauth.hpp"

#include <memory>

#include <curl/curl.h>

#include "b24client/json_util.hpp"
#include "http/util.hpp"

namespace server::http {

namespace {

struct CurlDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

constexpr std::size_t kMaxAnswerBytes = 1 << 20;

std::size_t Collect(char* data, std::size_t size, std::size_t count, void* user) {
    auto* out = static_cast<std::string*>(user);
    std::size_t n = size * count;
    if (out->size() + n > kMaxAnswerBytes) {
        return 0;  // aborts the transfer: no honest answer is that large
    }
    out->append(data, n);
    return n;
}

std::string AppInfoUrl(const std::string& token_url) {
    std::string origin = OriginOf(token_url);
    return origin.empty() ? std::string() : origin + "/rest/app.info";
}

std::string Text(const nlohmann::json& j, const char* key) {
    if (const auto* v = b24client::Find(j, key)) {
        return b24client::ToString(*v).value_or("");
    }
    return {};
}

std::int64_t Number(const nlohmann::json& j, const char* key) {
    if (const auto* v = b24client::Find(j, key)) {
        return b24client::ToInt64(*v).value_or(0);
    }
    return 0;
}

}  // namespace

OAuthServer::OAuthServer(std::string token_url, std::string client_id, std::string client_secret)
    : token_url_(std::move(token_url)),
      app_info_url_(AppInfoUrl(token_url_)),
      client_id_(std::move(client_id)),
      client_secret_(std::move(client_secret)) {}

nlohmann::json OAuthServer::Get(const std::string& url, const std::string& what) const {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) {
        throw OAuthError(OAuthError::Kind::kUnavailable, "", "cannot create an HTTP handle");
    }
    std::string body;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "b24seg/0.1");
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &Collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(curl.get());
    if (rc != CURLE_OK) {
        // curl's message names the host at most, never the query (where the secrets are).
        throw OAuthError(OAuthError::Kind::kUnavailable, "",
                         what + ": authorization server unreachable (" +
                             std::string(curl_easy_strerror(rc)) + ")");
    }
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    nlohmann::json answer = nlohmann::json::parse(body, nullptr, false);
    if (answer.is_discarded() || !answer.is_object()) {
        throw OAuthError(
            OAuthError::Kind::kUnavailable, "",
            what + ": authorization server answered " + std::to_string(status) + " without JSON");
    }
    if (answer.contains("error")) {
        std::string code = Text(answer, "error");
        if (status >= 500) {
            throw OAuthError(OAuthError::Kind::kUnavailable, code,
                             what + ": authorization server error " + std::to_string(status));
        }
        throw OAuthError(
            OAuthError::Kind::kRejected, code,
            what + ": refused by the authorization server (" + LogSafe(code, 64) + ")");
    }
    if (status >= 500) {
        throw OAuthError(OAuthError::Kind::kUnavailable, "",
                         what + ": authorization server error " + std::to_string(status));
    }
    if (status >= 400) {
        throw OAuthError(
            OAuthError::Kind::kRejected, "",
            what + ": refused by the authorization server (" + std::to_string(status) + ")");
    }
    return answer;
}

OAuthGrant OAuthServer::Refresh(const std::string& refresh_token) const {
    if (refresh_token.empty()) {
        throw OAuthError(OAuthError::Kind::kRejected, "invalid_request", "no refresh token");
    }
    std::string url = token_url_ + (token_url_.find('?') == std::string::npos ? "?" : "&") +
                      "grant_type=refresh_token&client_id=" + UrlEncode(client_id_) +
                      "&client_secret=" + UrlEncode(client_secret_) +
                      "&refresh_token=" + UrlEncode(refresh_token);
    nlohmann::json answer = Get(url, "token refresh");
    OAuthGrant grant;
    grant.access_token = Text(answer, "access_token");
    grant.refresh_token = Text(answer, "refresh_token");
    grant.member_id = Text(answer, "member_id");
    grant.client_endpoint = Text(answer, "client_endpoint");
    grant.scope = Text(answer, "scope");
    grant.status = Text(answer, "status");
    grant.user_id = Number(answer, "user_id");
    if (auto e = Number(answer, "expires_in"); e > 0) {
        grant.expires_in = e;
    }
    if (grant.access_token.empty() || grant.member_id.empty() || grant.client_endpoint.empty()) {
        throw OAuthError(OAuthError::Kind::kRejected, "",
                         "token refresh: the answer lacks the token, member_id or endpoint");
    }
    return grant;
}

OAuthAppInfo OAuthServer::AppInfo(const std::string& access_token) const {
    if (app_info_url_.empty()) {
        throw OAuthError(OAuthError::Kind::kUnavailable, "", "no authorization server configured");
    }
    nlohmann::json answer = Get(app_info_url_ + "?auth=" + UrlEncode(access_token), "app.info");
    const nlohmann::json* result = b24client::Find(answer, "result");
    if (result == nullptr || !result->is_object()) {
        throw OAuthError(OAuthError::Kind::kRejected, "", "app.info: no result for this token");
    }
    OAuthAppInfo info;
    info.member_id = Text(*result, "member_id");
    info.user_id = Number(*result, "user_id");
    if (const auto* install = b24client::Find(*result, "install"); install != nullptr) {
        info.portal_uri = Text(*install, "uri");
    }
    return info;
}

}  // namespace server::http
