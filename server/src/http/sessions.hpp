#pragma once
// The frontend's sessions: signed tokens (session.hpp) issued after a verified page load, plus the
// server-side memory of each session's portal token (the user's own AUTH_ID, needed for rights
// checks), keyed by the session id and never sent to the browser.
//
// A restart forgets the tokens; sessions signed before it still authenticate, and calls that need
// the user's token answer 401 session_expired, which makes the page fetch a fresh AUTH_ID.
// Thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "session.hpp"

namespace server::http {

class SessionStore {
public:
    // key: the signing key (>= 32 bytes). now: unix seconds.
    SessionStore(std::string key, std::function<std::int64_t()> now);

    struct Issued {
        std::string token;
        std::int64_t expires_at = 0;
    };
    // A new session for a verified user; remembers `access_token` for it.
    Issued Issue(const std::string& member_id,
                 std::int64_t user_id,
                 bool is_admin,
                 const std::string& lang,
                 const std::string& user_name,
                 const std::string& access_token,
                 std::int64_t lifetime_s);

    // From an Authorization header value ("Bearer <token>"). Throws ApiError: 401 unauthorized
    // (missing, malformed, forged), 401 session_expired (signature good, time over).
    Session Authenticate(const std::string& authorization) const;
    // The session in the header if its signature is good, expired or not (session refresh).
    std::optional<Session> Peek(const std::string& authorization) const;

    // The portal token and display name remembered for a session id.
    std::optional<std::string> UserToken(const std::string& sid);
    std::optional<std::string> UserName(const std::string& sid);

    // Forgets every session token of a portal (uninstall).
    void DropPortal(const std::string& member_id);
    std::size_t size();

private:
    struct Entry {
        std::string member_id;
        std::int64_t user_id = 0;
        std::string user_name;
        std::string access_token;
        std::int64_t expires_at = 0;
    };
    void SweepLocked(std::int64_t now);

    SessionSigner signer_;
    std::function<std::int64_t()> now_;
    std::mutex mutex_;
    std::map<std::string, Entry> entries_;  // sid -> entry
    std::uint64_t issued_ = 0;
};

}  // namespace server::http
