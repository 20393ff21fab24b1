#pragma once
// The one error type of b24client. Every failure that reaches a caller is a b24client::Error:
// retries happen inside the client, an Error is thrown only when the outcome is final.

#include <stdexcept>
#include <string>
#include <string_view>

namespace b24client {

// What went wrong, in the terms a caller acts on. The server maps these to its own answers
// (kReinstallNeeded -> "re-install needed", kPaymentRequired -> "subscription ended", ...).
enum class ErrorKind {
    kTransport,          // connection refused/dropped, TLS, DNS: nothing usable came back
    kTimeout,            // the request took longer than ClientOptions::request_timeout_s
    kServerError,        // HTTP 5xx (or an unparseable error page) that stayed after the retries
    kBadResponse,        // a body that is not the JSON the platform promises (HTML, truncated)
    kQueryLimit,         // 503 QUERY_LIMIT_EXCEEDED that stayed after the retries
    kOperationLimit,     // 429 OPERATION_TIME_LIMIT that stayed after the retries
    kOverload,           // 503 OVERLOAD_LIMIT: REST blocked for the portal by Bitrix24 staff
    kExpiredToken,       // 401 expired_token and no way to refresh (user-token client)
    kInvalidToken,       // 401 invalid_token / NO_AUTH_FOUND / a refresh that yielded no token
    kReinstallNeeded,    // OAuth invalid_grant (refresh token dead) or invalid_client: re-install
    kPaymentRequired,    // OAuth/REST PAYMENT_REQUIRED: the app's subscription or trial ended
    kAccessDenied,       // ACCESS_DENIED, insufficient_scope, "Access denied." ...
    kNotFound,           // NOT_FOUND, "Not found" (e.g. a deleted card)
    kMethodNotFound,     // ERROR_METHOD_NOT_FOUND
    kInvalidArgument,    // INVALID_ARG_VALUE, ERROR_BATCH_LENGTH_EXCEEDED, bad parameters
    kPortalDeleted,      // PORTAL_DELETED
    kMethodConfirm,      // METHOD_CONFIRM_WAITING / METHOD_CONFIRM_DENIED: an admin must approve
    kOAuth,              // any other answer of the OAuth server
    kApi,                // any other error the portal returned
    kProtocol,           // the portal broke the paging contract (cursor did not advance, ...)
    kAnswerTooLarge,     // an answer exceeded ClientOptions::max_answer_bytes and was cut off
    kUntrustedEndpoint,  // an endpoint that is not https (plain http only with allow_http), or a
                         // redirect / refresh answer naming one: refused, nothing was sent there
    kCancelled,          // the caller's CancelToken was set; raised between requests
    kWaitTooLong,        // a limit wait would pass ClientOptions::max_wait_s; nothing was sent
};

std::string_view ToString(ErrorKind kind);

// Thrown by every Client call. what() is "<kind> in <method>: <code> (<http status>) <description>"
// and never contains tokens or secrets.
class Error : public std::runtime_error {
public:
    using Kind = ErrorKind;

    Error(ErrorKind kind,
          std::string method,
          std::string code,
          std::string description,
          int http_status = 0);

    ErrorKind kind() const noexcept { return kind_; }
    // The REST method (or "batch", or "oauth") the failure belongs to.
    const std::string& method() const noexcept { return method_; }
    // The portal's error code as sent ("" when it sent an empty code or none).
    const std::string& code() const noexcept { return code_; }
    const std::string& description() const noexcept { return description_; }
    // 0 when no HTTP response was received.
    int http_status() const noexcept { return http_status_; }

private:
    ErrorKind kind_;
    std::string method_;
    std::string code_;
    std::string description_;
    int http_status_;
};

// How the client reacts to a failure (see README "Retry policy").
enum class Disposition {
    kFinal,         // surface as Error
    kRetryIfSafe,   // ambiguous (may have run): retry with backoff only if the call is safe
    kRetryRefused,  // refused before execution: always safe to retry after backoff
    kWaitBucket,    // QUERY_LIMIT_EXCEEDED: mark the portal bucket full, retry
    kWaitMethod,    // OPERATION_TIME_LIMIT: park the method until its reset, retry
    kRefreshToken,  // expired_token: refresh (single flight) and retry
};

struct Classification {
    ErrorKind kind;
    Disposition disposition;
};

// Pure classification of one portal answer. `code` and `description` come from the error
// envelope (both may be empty, e.g. for an HTML page); http_status 0 means no response.
Classification ClassifyRestError(int http_status,
                                 std::string_view code,
                                 std::string_view description);

// Classification of an answer from the OAuth server (token refresh).
Classification ClassifyOAuthError(int http_status, std::string_view code);

}  // namespace b24client
