#include "b24client/error.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace b24client {
namespace {

std::string Upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

bool Contains(std::string_view haystack, std::string_view needle) {
    return Upper(haystack).find(Upper(needle)) != std::string::npos;
}

std::string Describe(ErrorKind kind,
                     const std::string& method,
                     const std::string& code,
                     const std::string& description,
                     int http_status) {
    std::string s(ToString(kind));
    if (!method.empty()) {
        s += " in " + method;
    }
    s += ": ";
    s += code.empty() ? std::string("(no code)") : code;
    if (http_status != 0) {
        s += " (HTTP " + std::to_string(http_status) + ")";
    }
    if (!description.empty()) {
        s += " " + description;
    }
    return s;
}

}  // namespace

std::string_view ToString(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kTransport:
            return "transport";
        case ErrorKind::kTimeout:
            return "timeout";
        case ErrorKind::kServerError:
            return "server_error";
        case ErrorKind::kBadResponse:
            return "bad_response";
        case ErrorKind::kQueryLimit:
            return "query_limit";
        case ErrorKind::kOperationLimit:
            return "operation_limit";
        case ErrorKind::kOverload:
            return "overload";
        case ErrorKind::kExpiredToken:
            return "expired_token";
        case ErrorKind::kInvalidToken:
            return "invalid_token";
        case ErrorKind::kReinstallNeeded:
            return "reinstall_needed";
        case ErrorKind::kPaymentRequired:
            return "payment_required";
        case ErrorKind::kAccessDenied:
            return "access_denied";
        case ErrorKind::kNotFound:
            return "not_found";
        case ErrorKind::kMethodNotFound:
            return "method_not_found";
        case ErrorKind::kInvalidArgument:
            return "invalid_argument";
        case ErrorKind::kPortalDeleted:
            return "portal_deleted";
        case ErrorKind::kMethodConfirm:
            return "method_confirm";
        case ErrorKind::kOAuth:
            return "oauth";
        case ErrorKind::kApi:
            return "api";
        case ErrorKind::kProtocol:
            return "protocol";
        case ErrorKind::kAnswerTooLarge:
            return "answer_too_large";
        case ErrorKind::kUntrustedEndpoint:
            return "untrusted_endpoint";
        case ErrorKind::kCancelled:
            return "cancelled";
        case ErrorKind::kWaitTooLong:
            return "wait_too_long";
    }
    return "unknown";
}

Error::Error(
    ErrorKind kind, std::string method, std::string code, std::string description, int http_status)
    : std::runtime_error(Describe(kind, method, code, description, http_status)),
      kind_(kind),
      method_(std::move(method)),
      code_(std::move(code)),
      description_(std::move(description)),
      http_status_(http_status) {}

Classification ClassifyRestError(int http_status,
                                 std::string_view code,
                                 std::string_view description) {
    const std::string c = Upper(code);
    using D = Disposition;
    using K = ErrorKind;
    if (c == "QUERY_LIMIT_EXCEEDED") {
        return {K::kQueryLimit, D::kWaitBucket};
    }
    if (c == "OPERATION_TIME_LIMIT") {
        return {K::kOperationLimit, D::kWaitMethod};
    }
    if (c == "OVERLOAD_LIMIT") {
        return {K::kOverload, D::kFinal};
    }
    if (c == "EXPIRED_TOKEN") {
        return {K::kExpiredToken, D::kRefreshToken};
    }
    if (c == "INVALID_TOKEN" || c == "NO_AUTH_FOUND" || c == "WRONG_CLIENT" ||
        c == "USER_NOT_FOUND_OR_IS_NOT_ACTIVE") {
        return {K::kInvalidToken, D::kFinal};
    }
    if (c == "PAYMENT_REQUIRED") {
        return {K::kPaymentRequired, D::kFinal};
    }
    if (c == "ACCESS_DENIED" || c == "INSUFFICIENT_SCOPE" || c == "INVALID_CREDENTIALS" ||
        c == "USER_ACCESS_ERROR" || c == "ALLOWED_ONLY_INTRANET_USER" || c == "WRONG_AUTH_TYPE") {
        return {K::kAccessDenied, D::kFinal};
    }
    if (c == "METHOD_CONFIRM_WAITING" || c == "METHOD_CONFIRM_DENIED") {
        return {K::kMethodConfirm, D::kFinal};
    }
    if (c == "NOT_FOUND") {
        return {K::kNotFound, D::kFinal};
    }
    if (c == "ERROR_METHOD_NOT_FOUND") {
        return {K::kMethodNotFound, D::kFinal};
    }
    if (c == "INVALID_ARG_VALUE" || c == "ERROR_BATCH_LENGTH_EXCEEDED" ||
        c == "ERROR_BATCH_METHOD_NOT_ALLOWED" || c == "INVALID_REQUEST" || c == "ERROR_ARGUMENT" ||
        c == "ERROR_CORE" || c == "ENTITY_TYPE_NOT_SUPPORTED") {
        return {K::kInvalidArgument, D::kFinal};
    }
    if (c == "PORTAL_DELETED") {
        return {K::kPortalDeleted, D::kFinal};
    }
    if (c == "INTERNAL_SERVER_ERROR" || c == "ERROR_UNEXPECTED_ANSWER") {
        return {K::kServerError, D::kRetryIfSafe};
    }
    if (c.empty()) {
        // Legacy CRM methods send "error":"" and put the meaning in the description.
        if (Contains(description, "access denied")) {
            return {K::kAccessDenied, D::kFinal};
        }
        if (Contains(description, "not found")) {
            return {K::kNotFound, D::kFinal};
        }
    }
    if (http_status == 429) {
        return {K::kOperationLimit, D::kWaitMethod};
    }
    if (http_status >= 500 || http_status == 408) {
        return {K::kServerError, D::kRetryIfSafe};
    }
    if (http_status == 401) {
        return {K::kInvalidToken, D::kFinal};
    }
    if (http_status == 403) {
        return {K::kAccessDenied, D::kFinal};
    }
    if (http_status == 404 && c.empty()) {
        return {K::kNotFound, D::kFinal};
    }
    return {K::kApi, D::kFinal};
}

Classification ClassifyOAuthError(int http_status, std::string_view code) {
    const std::string c = Upper(code);
    using D = Disposition;
    using K = ErrorKind;
    if (c == "INVALID_GRANT" || c == "INVALID_CLIENT" || c == "EXPIRED_TOKEN" ||
        c == "INVALID_TOKEN" || c == "NO_AUTH_FOUND") {
        return {K::kReinstallNeeded, D::kFinal};
    }
    if (c == "PAYMENT_REQUIRED") {
        return {K::kPaymentRequired, D::kFinal};
    }
    if (c == "QUERY_LIMIT_EXCEEDED") {
        return {K::kQueryLimit, D::kRetryRefused};
    }
    if (c.empty() && (http_status >= 500 || http_status == 0 || http_status == 429)) {
        return {K::kServerError, D::kRetryIfSafe};
    }
    if (c == "INTERNAL_SERVER_ERROR") {
        return {K::kServerError, D::kRetryIfSafe};
    }
    return {K::kOAuth, D::kFinal};
}

}  // namespace b24client
