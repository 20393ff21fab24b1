#include "http/sessions.hpp"

#include "api_error.hpp"
#include "crypto.hpp"

namespace server::http {

namespace {

// Tokens are kept this long past their session's end, so that a page whose session just expired
// can still be served by a refresh that arrives a little late.
constexpr std::int64_t kGraceSeconds = 600;

std::optional<std::string> BearerToken(const std::string& authorization) {
    static const std::string kPrefix = "Bearer ";
    if (authorization.size() <= kPrefix.size() ||
        authorization.compare(0, kPrefix.size(), kPrefix) != 0) {
        return std::nullopt;
    }
    return authorization.substr(kPrefix.size());
}

}  // namespace

SessionStore::SessionStore(std::string key, std::function<std::int64_t()> now)
    : signer_(std::move(key)), now_(std::move(now)) {}

SessionStore::Issued SessionStore::Issue(const std::string& member_id,
                                         std::int64_t user_id,
                                         bool is_admin,
                                         const std::string& lang,
                                         const std::string& user_name,
                                         const std::string& access_token,
                                         std::int64_t lifetime_s) {
    std::int64_t now = now_();
    Session s;
    s.member_id = member_id;
    s.user_id = user_id;
    s.is_admin = is_admin;
    s.expires_at = now + lifetime_s;
    s.sid = Base64UrlEncode(RandomBytes(18));
    s.lang = lang;
    std::lock_guard lock(mutex_);
    if (++issued_ % 64 == 0) {
        SweepLocked(now);
    }
    entries_[s.sid] = Entry{member_id, user_id, user_name, access_token, s.expires_at};
    return {signer_.Issue(s), s.expires_at};
}

Session SessionStore::Authenticate(const std::string& authorization) const {
    auto token = BearerToken(authorization);
    if (!token) {
        throw Unauthorized("missing session: send Authorization: Bearer <session>");
    }
    Session s;
    switch (signer_.Verify(*token, now_(), &s)) {
        case SessionCheck::kValid:
            return s;
        case SessionCheck::kExpired:
            throw SessionExpired();
        case SessionCheck::kInvalid:
            break;
    }
    throw Unauthorized("invalid session");
}

std::optional<Session> SessionStore::Peek(const std::string& authorization) const {
    auto token = BearerToken(authorization);
    if (!token) {
        return std::nullopt;
    }
    Session s;
    if (signer_.Verify(*token, now_(), &s) == SessionCheck::kInvalid) {
        return std::nullopt;
    }
    return s;
}

std::optional<std::string> SessionStore::UserToken(const std::string& sid) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(sid);
    if (it == entries_.end() || it->second.expires_at + kGraceSeconds < now_()) {
        return std::nullopt;
    }
    return it->second.access_token;
}

std::optional<std::string> SessionStore::UserName(const std::string& sid) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(sid);
    if (it == entries_.end()) {
        return std::nullopt;
    }
    return it->second.user_name;
}

void SessionStore::DropPortal(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
        it = it->second.member_id == member_id ? entries_.erase(it) : std::next(it);
    }
}

std::size_t SessionStore::size() {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void SessionStore::SweepLocked(std::int64_t now) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        it = it->second.expires_at + kGraceSeconds < now ? entries_.erase(it) : std::next(it);
    }
}

}  // namespace server::http
