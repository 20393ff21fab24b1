#include "b24client/error.hpp"

#include <gtest/gtest.h>

using namespace b24client;

namespace {
void Expect(int status, const char* code, const char* desc, ErrorKind kind, Disposition d) {
    const auto c = ClassifyRestError(status, code, desc);
    EXPECT_EQ(c.kind, kind) << status << " " << code << " " << desc;
    EXPECT_EQ(c.disposition, d) << status << " " << code << " " << desc;
}
}  // namespace

TEST(Classify, LimitsAreWaitedForNotFailed) {
    Expect(503, "QUERY_LIMIT_EXCEEDED", "Too many requests", ErrorKind::kQueryLimit,
           Disposition::kWaitBucket);
    Expect(429, "OPERATION_TIME_LIMIT", "", ErrorKind::kOperationLimit, Disposition::kWaitMethod);
    Expect(0, "OPERATION_TIME_LIMIT", "", ErrorKind::kOperationLimit, Disposition::kWaitMethod);
    // Same status, other code: a manual block is final.
    Expect(503, "OVERLOAD_LIMIT", "", ErrorKind::kOverload, Disposition::kFinal);
}

TEST(Classify, TokensAndPayment) {
    Expect(401, "expired_token", "The access token provided has expired.", ErrorKind::kExpiredToken,
           Disposition::kRefreshToken);
    Expect(401, "invalid_token", "", ErrorKind::kInvalidToken, Disposition::kFinal);
    Expect(401, "NO_AUTH_FOUND", "", ErrorKind::kInvalidToken, Disposition::kFinal);
    Expect(402, "PAYMENT_REQUIRED", "", ErrorKind::kPaymentRequired, Disposition::kFinal);
    EXPECT_EQ(ClassifyOAuthError(400, "invalid_grant").kind, ErrorKind::kReinstallNeeded);
    EXPECT_EQ(ClassifyOAuthError(400, "invalid_grant").disposition, Disposition::kFinal);
    EXPECT_EQ(ClassifyOAuthError(401, "invalid_client").kind, ErrorKind::kReinstallNeeded);
    EXPECT_EQ(ClassifyOAuthError(403, "PAYMENT_REQUIRED").kind, ErrorKind::kPaymentRequired);
    EXPECT_EQ(ClassifyOAuthError(502, "").disposition, Disposition::kRetryIfSafe);
}

TEST(Classify, LegacyEmptyCodesAreReadFromTheDescription) {
    Expect(400, "", "Not found", ErrorKind::kNotFound, Disposition::kFinal);
    Expect(400, "", "Access denied.", ErrorKind::kAccessDenied, Disposition::kFinal);
    Expect(400, "", "ID is not defined or invalid.", ErrorKind::kApi, Disposition::kFinal);
}

TEST(Classify, ServerErrorsAreRetriedOnlyIfSafe) {
    Expect(500, "INTERNAL_SERVER_ERROR", "", ErrorKind::kServerError, Disposition::kRetryIfSafe);
    Expect(502, "", "", ErrorKind::kServerError, Disposition::kRetryIfSafe);
    Expect(400, "INVALID_ARG_VALUE", "", ErrorKind::kInvalidArgument, Disposition::kFinal);
    Expect(404, "ERROR_METHOD_NOT_FOUND", "", ErrorKind::kMethodNotFound, Disposition::kFinal);
    Expect(500, "PORTAL_DELETED", "", ErrorKind::kPortalDeleted, Disposition::kFinal);
    Expect(400, "NOT_FOUND", "", ErrorKind::kNotFound, Disposition::kFinal);
}

TEST(Classify, ErrorMessageNamesMethodCodeAndStatus) {
    const Error e(ErrorKind::kAccessDenied, "crm.contact.list", "ACCESS_DENIED", "nope", 403);
    EXPECT_EQ(e.method(), "crm.contact.list");
    EXPECT_EQ(e.http_status(), 403);
    EXPECT_NE(std::string(e.what()).find("crm.contact.list"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("ACCESS_DENIED"), std::string::npos);
    EXPECT_EQ(ToString(ErrorKind::kReinstallNeeded), "reinstall_needed");
}
