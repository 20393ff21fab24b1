#pragma once
// The one exception type HTTP handlers throw for expected failures. A single exception handler
// turns it into {"error": {"code", "message"}} with the status; anything else becomes a logged 500
// whose message is not shown to the caller.

#include <stdexcept>
#include <string>

namespace server {

class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string code, const std::string& message)
        : std::runtime_error(message), status_(status), code_(std::move(code)) {}

    int status() const { return status_; }
    const std::string& code() const { return code_; }

private:
    int status_;
    std::string code_;
};

inline ApiError BadRequest(const std::string& message) {
    return {400, "bad_request", message};
}
inline ApiError Unauthorized(const std::string& message) {
    return {401, "unauthorized", message};
}
inline ApiError SessionExpired() {
    return {401, "session_expired", "the session has expired; refresh it with a new AUTH_ID"};
}
inline ApiError Forbidden(const std::string& message) {
    return {403, "forbidden", message};
}
inline ApiError NotFound(const std::string& message) {
    return {404, "not_found", message};
}
inline ApiError Conflict(const std::string& message) {
    return {409, "conflict", message};
}
inline ApiError TooLarge(const std::string& message) {
    return {413, "too_large", message};
}

}  // namespace server
