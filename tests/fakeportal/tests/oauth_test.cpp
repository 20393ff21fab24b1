// OAuth server: refresh rotation, errors, token expiry, app.info on the cloud.
#include <gtest/gtest.h>

#include "client.hpp"
#include "util.hpp"

namespace fakeportal::testing {
namespace {

std::string RefreshQuery(const PortalFixture& f,
                         const std::string& refresh,
                         const std::string& secret) {
    return "/oauth/token/?grant_type=refresh_token&client_id=" + f.app.client_id +
           "&client_secret=" + secret + "&refresh_token=" + refresh;
}

TEST(OAuth, RefreshRotatesAndOldRefreshTokenDies) {
    PortalFixture f;
    const std::string cloud_url = "http://" + f.cloud->host();
    Answer first = Get(cloud_url, RefreshQuery(f, f.admin.refresh_token, "s3cret"));
    ASSERT_EQ(first.status, 200) << first.raw;
    const std::string new_access = first.body["access_token"];
    const std::string new_refresh = first.body["refresh_token"];
    EXPECT_NE(new_refresh, f.admin.refresh_token);
    EXPECT_EQ(first.body["member_id"], f.portal->member_id());
    EXPECT_EQ(first.body["client_endpoint"], f.portal->endpoint());
    EXPECT_EQ(first.body["expires_in"], 3600);
    EXPECT_EQ(first.body["user_id"], 1);

    // The used refresh token is dead; the new one works once (POST form also accepted).
    Answer reused = Get(cloud_url, RefreshQuery(f, f.admin.refresh_token, "s3cret"));
    EXPECT_EQ(reused.status, 400);
    EXPECT_EQ(reused.body["error"], "invalid_grant");
    Answer second = PostForm(cloud_url, "/oauth/token/",
                             "grant_type=refresh_token&client_id=" + f.app.client_id +
                                 "&client_secret=s3cret&refresh_token=" + new_refresh);
    ASSERT_EQ(second.status, 200) << second.raw;

    Answer profile = f.CallAs(new_access, "profile", json::object());
    EXPECT_EQ(profile.status, 200);
    EXPECT_EQ(profile.body["result"]["ADMIN"], true);
    EXPECT_EQ(f.portal->Counters().refreshes, 2);
}

TEST(OAuth, WrongSecretIsInvalidClientAndEndedSubscriptionIsPaymentRequired) {
    PortalFixture f;
    const std::string cloud_url = "http://" + f.cloud->host();
    Answer bad = Get(cloud_url, RefreshQuery(f, f.admin.refresh_token, "nope"));
    EXPECT_EQ(bad.status, 401);
    EXPECT_EQ(bad.body["error"], "invalid_client");
    f.portal->SetSubscriptionEnded(true);
    Answer paid = Get(cloud_url, RefreshQuery(f, f.admin.refresh_token, "s3cret"));
    EXPECT_EQ(paid.body["error"], "PAYMENT_REQUIRED");
    f.portal->SetSubscriptionEnded(false);
    EXPECT_EQ(Get(cloud_url, RefreshQuery(f, f.admin.refresh_token, "s3cret")).status, 200);
}

TEST(OAuth, AccessTokensExpireWithPortalTime) {
    PortalFixture f;
    EXPECT_EQ(f.Call("profile").status, 200);
    f.clock.Advance(3599);
    EXPECT_EQ(f.Call("profile").status, 200);
    f.clock.Advance(2);
    Answer expired = f.Call("profile");
    EXPECT_EQ(expired.status, 401);
    EXPECT_EQ(expired.body["error"], "expired_token");
    Answer unknown = f.CallAs("deadbeef", "profile", json::object());
    EXPECT_EQ(unknown.status, 401);
    EXPECT_EQ(unknown.body["error"], "invalid_token");
    Answer none = PostJson(f.portal->base_url(), "/rest/profile", json::object());
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.body["error"], "NO_AUTH_FOUND");
}

TEST(OAuth, ExpireOnDemandAndRevokeOnUninstall) {
    PortalFixture f;
    TokenPair fresh = f.portal->IssueTokens(f.app.client_id, 1);
    f.portal->ExpireAccessTokens();
    EXPECT_EQ(f.CallAs(fresh.access_token, "profile", json::object()).body["error"],
              "expired_token");
    TokenPair later = f.portal->IssueTokens(f.app.client_id, 1);
    EXPECT_EQ(f.CallAs(later.access_token, "profile", json::object()).status, 200);
    f.portal->UninstallApp(f.app.client_id, true);
    EXPECT_EQ(f.CallAs(later.access_token, "profile", json::object()).body["error"],
              "invalid_token");
}

TEST(OAuth, CloudAppInfoAnswersForPortalTokens) {
    PortalFixture f;
    Answer info = Get("http://" + f.cloud->host(), "/rest/app.info?auth=" + f.admin.access_token);
    ASSERT_EQ(info.status, 200) << info.raw;
    EXPECT_EQ(info.body["result"]["LICENSE_FAMILY"], "std");
    EXPECT_EQ(info.body["result"]["install"]["uri"], f.portal->base_url());
    Answer portal_info = f.Call("app.info");
    EXPECT_EQ(portal_info.body["result"]["INSTALLED"], true);
}

}  // namespace
}  // namespace fakeportal::testing
