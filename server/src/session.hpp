#pragma once
// Signed, short-lived sessions that the frontend uses to call our JSON API.
//
// A session says "user U of portal M, admin or not, until time E". It is an HMAC-signed token, so
// the server needs no table to check it; the user's own portal token (needed for rights checks)
// is kept server-side in memory, keyed by the session id, and never sent to the browser.
// Thread-safe: SessionSigner is immutable after construction.

#include <cstdint>
#include <optional>
#include <string>

namespace server {

struct Session {
    std::string member_id;
    std::int64_t user_id = 0;
    bool is_admin = false;
    std::int64_t expires_at = 0;  // unix seconds
    std::string sid;              // random id; keys the server-side user token
    std::string lang = "en";
};

enum class SessionCheck { kValid, kExpired, kInvalid };

class SessionSigner {
public:
    // key: at least 32 bytes of secret material (config.session_key, or random per process).
    explicit SessionSigner(std::string key);

    std::string Issue(const Session& session) const;

    // Checks signature and expiry at `now`. On kValid and kExpired, *out holds the session.
    SessionCheck Verify(const std::string& token, std::int64_t now, Session* out) const;

private:
    std::string key_;
};

}  // namespace server
