#include "session.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "crypto.hpp"

namespace server {

SessionSigner::SessionSigner(std::string key) : key_(std::move(key)) {
    if (key_.size() < 32) {
        throw std::invalid_argument("session key must be at least 32 bytes");
    }
}

std::string SessionSigner::Issue(const Session& s) const {
    nlohmann::json payload = {{"v", 1},          {"m", s.member_id},  {"u", s.user_id},
                              {"a", s.is_admin}, {"e", s.expires_at}, {"s", s.sid},
                              {"l", s.lang}};
    std::string body = Base64UrlEncode(payload.dump());
    return body + "." + Base64UrlEncode(HmacSha256(key_, body));
}

SessionCheck SessionSigner::Verify(const std::string& token, std::int64_t now, Session* out) const {
    auto dot = token.find('.');
    if (dot == std::string::npos || token.size() > 4096) {
        return SessionCheck::kInvalid;
    }
    std::string body = token.substr(0, dot);
    std::string signature;
    if (!Base64UrlDecode(token.substr(dot + 1), signature) ||
        !ConstantTimeEquals(signature, HmacSha256(key_, body))) {
        return SessionCheck::kInvalid;
    }
    std::string text;
    if (!Base64UrlDecode(body, text)) {
        return SessionCheck::kInvalid;
    }
    nlohmann::json payload = nlohmann::json::parse(text, nullptr, false);
    if (payload.is_discarded() || !payload.is_object() || payload.value("v", 0) != 1) {
        return SessionCheck::kInvalid;
    }
    Session s;
    try {
        s.member_id = payload.at("m").get<std::string>();
        s.user_id = payload.at("u").get<std::int64_t>();
        s.is_admin = payload.at("a").get<bool>();
        s.expires_at = payload.at("e").get<std::int64_t>();
        s.sid = payload.at("s").get<std::string>();
        s.lang = payload.value("l", std::string("en"));
    } catch (const nlohmann::json::exception&) {
        return SessionCheck::kInvalid;
    }
    if (out != nullptr) {
        *out = s;
    }
    return now < s.expires_at ? SessionCheck::kValid : SessionCheck::kExpired;
}

}  // namespace server
