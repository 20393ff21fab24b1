// Pages the portal opens (boot object, CSP, views), static assets, health, generic errors, body
// limits, and the access log.
#include <gtest/gtest.h>
#include <httplib.h>

#include "support/log_capture.hpp"
#include "support/wait.hpp"
#include "world.hpp"

namespace httptest {
namespace {

TEST(Pages, MainPageCarriesTheBootObjectAndTheCsp) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    Page page = w.Open(p, p.admin_id);
    ASSERT_EQ(page.answer.status, 200) << page.answer.body;
    ASSERT_TRUE(page.boot.is_object()) << page.answer.body;
    EXPECT_EQ(page.boot["view"], "main");
    EXPECT_EQ(page.boot["placement"], "DEFAULT");
    EXPECT_EQ(page.boot["lang"], "en");
    EXPECT_EQ(page.boot["user"]["id"], 1);
    EXPECT_EQ(page.boot["user"]["isAdmin"], true);
    EXPECT_EQ(page.boot["portal"]["domain"], p.portal->domain());
    EXPECT_EQ(page.boot["installFinishNeeded"], false);
    EXPECT_FALSE(page.boot.contains("entity"));
    EXPECT_FALSE(page.session().empty());
    std::int64_t expires = page.boot["sessionExpiresAt"];
    std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    EXPECT_GT(expires, now + 3000);
    EXPECT_LE(expires, now + 3601);

    // The built page with the boot element right before </head>, nothing else changed.
    const std::string& html = page.answer.body;
    auto boot_at = html.find("<script id=\"b24seg-boot\"");
    ASSERT_NE(boot_at, std::string::npos);
    EXPECT_EQ(html.find("</script></head>", boot_at) != std::string::npos, true);
    EXPECT_NE(html.find("/assets/app-test1.js"), std::string::npos);

    std::string csp = page.answer.Header("Content-Security-Policy");
    EXPECT_NE(csp.find("frame-ancestors " + p.portal->base_url()), std::string::npos) << csp;
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(page.answer.Header("X-Frame-Options"), "");
    EXPECT_EQ(page.answer.Header("Cache-Control"), "no-store");
    EXPECT_EQ(page.answer.Header("Referrer-Policy"), "no-referrer");
    EXPECT_NE(page.answer.Header("Content-Type").find("text/html"), std::string::npos);
    // Nothing secret is in the page.
    auto launch = p.portal->OpenApp(World::Get().client_id(), 1);
    for (const auto& [k, v] : launch.fields) {
        if (k == "AUTH_ID" || k == "REFRESH_ID" || k == "APPLICATION_TOKEN") {
            EXPECT_EQ(html.find(v), std::string::npos) << k;
        }
    }
    EXPECT_EQ(html.find(w.client_secret()), std::string::npos);
}

TEST(Pages, PlacementsChooseTheView) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    Page analytics = w.Open(p, 1, "CRM_ANALYTICS_MENU", {{"URI", "/crm/analytics/"}});
    ASSERT_EQ(analytics.answer.status, 200) << analytics.answer.body;
    EXPECT_EQ(analytics.boot["view"], "main");
    EXPECT_EQ(analytics.boot["placement"], "CRM_ANALYTICS_MENU");

    Page contact = w.Open(p, 1, "CRM_CONTACT_DETAIL_TAB", {{"ID", "12"}});
    ASSERT_EQ(contact.answer.status, 200) << contact.answer.body;
    EXPECT_EQ(contact.boot["view"], "card");
    EXPECT_EQ(contact.boot["entity"], (json{{"kind", "contact"}, {"id", 12}}));

    Page company = w.Open(p, 1, "CRM_COMPANY_DETAIL_TAB", {{"ID", 7}});
    ASSERT_EQ(company.answer.status, 200) << company.answer.body;
    EXPECT_EQ(company.boot["entity"], (json{{"kind", "company"}, {"id", 7}}));

    auto launch = p.portal->OpenApp(w.client_id(), 1, "CRM_CONTACT_DETAIL_TAB", {{"ID", "x"}});
    EXPECT_EQ(w.PostForm(launch.url, launch.fields).status, 400);
}

TEST(Pages, LanguagesMapToThePagesLanguages) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    EXPECT_EQ(w.Open(p, 1, "DEFAULT", json::object(), "de").boot["lang"], "de");
    EXPECT_EQ(w.Open(p, 1, "DEFAULT", json::object(), "ua").boot["lang"], "ru");
    EXPECT_EQ(w.Open(p, 1, "DEFAULT", json::object(), "fr").boot["lang"], "en");
}

TEST(Pages, BootJsonCannotBreakOutOfItsElement) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    fakeportal::User evil;
    evil.name = "</script><img src=x onerror=alert(1)>";
    evil.last_name = "A&B \xE2\x80\xA8";
    evil.crm_read = fakeportal::CrmRead::kOwn;
    std::int64_t id = p.portal->AddUser(evil);
    Page page = w.Open(p, id);
    ASSERT_EQ(page.answer.status, 200) << page.answer.body;
    EXPECT_EQ(page.answer.body.find("<img"), std::string::npos);
    EXPECT_EQ(page.answer.body.find("\xE2\x80\xA8"), std::string::npos);
    ASSERT_TRUE(page.boot.is_object());
    EXPECT_EQ(page.boot["user"]["name"], evil.name + " " + evil.last_name);
    EXPECT_EQ(page.boot["user"]["isAdmin"], false);
}

TEST(Assets, ServedWithTypesAndLongCaching) {
    World& w = World::Get();
    Answer js = w.Api("GET", "/assets/app-test1.js", "");
    EXPECT_EQ(js.status, 200);
    EXPECT_EQ(js.body, "export const answer = 42;\n");
    EXPECT_EQ(js.Header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(js.Header("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(js.Header("X-Content-Type-Options"), "nosniff");
    Answer css = w.Api("GET", "/assets/app-test1.css", "");
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.Header("Content-Type"), "text/css; charset=utf-8");
    Answer missing = w.Api("GET", "/assets/nope-1.js", "");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.Json()["error"]["code"], "not_found");
    EXPECT_EQ(w.Api("GET", "/assets/..%2Findex.html", "").status, 404);
    EXPECT_EQ(w.Api("GET", "/assets/../index.html", "").status, 404);
}

TEST(Ops, HealthAndGenericErrors) {
    World& w = World::Get();
    w.Main();
    Answer health = w.Api("GET", "/healthz", "");
    ASSERT_EQ(health.status, 200);
    json h = health.Json();
    EXPECT_EQ(h["status"], "ok");
    EXPECT_EQ(h["version"], "0.1.0");
    EXPECT_GE(h["portals"].get<int>(), 1);
    EXPECT_TRUE(h["jobsRunning"].is_number_integer());

    // Route paths are literal: a '.' in one matches only itself.
    EXPECT_EQ(w.Api("GET", "/api/listXcsv", "").status, 404);
    EXPECT_EQ(w.Api("GET", "/assets/", "").status, 404);
    Answer unknown = w.Api("GET", "/no/such/thing", "");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.Json()["error"]["code"], "not_found");

    Answer wrong_method = w.Api("GET", "/b24/app", "");
    EXPECT_EQ(wrong_method.status, 405);
    EXPECT_EQ(wrong_method.Header("Allow"), "POST");
    Answer wrong_method2 = w.Api("DELETE", "/api/settings", "");
    EXPECT_EQ(wrong_method2.status, 405);
    EXPECT_EQ(wrong_method2.Json()["error"]["code"], "method_not_allowed");

    // A page POST that is not a form.
    Answer json_page = w.PostRaw("/b24/app", "{\"member_id\":\"x\"}", "application/json");
    EXPECT_EQ(json_page.status, 400);
}

TEST(Limits, HugeBodiesAreRefusedAndChangeNothing) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    Page page = w.Open(p, 1);
    const std::string session = page.session();

    std::string big_api(w.app().config().max_api_body_bytes + 10, ' ');
    big_api = "{\"activeMonths\": 3, \"lostMonths\": 9" + big_api + "}";
    Answer a = w.Api("PUT", "/api/settings", session, big_api);
    EXPECT_EQ(a.status, 413);
    EXPECT_EQ(a.Json()["error"]["code"], "too_large");
    EXPECT_EQ(w.app().registry().Find(p.member_id)->active_months, 6);

    // Past the largest limit httplib drains the body itself and answers 413 too.
    std::string huge(w.app().config().max_callback_body_bytes * 4, 'a');
    Answer b = w.PostRaw("/b24/events", "event=ONCRMCONTACTUPDATE&x=" + huge,
                         "application/x-www-form-urlencoded");
    EXPECT_EQ(b.status, 413);
    EXPECT_EQ(b.Json()["error"]["code"], "too_large");
    Answer c = w.PostRaw("/b24/app", "member_id=" + std::string(300000, 'b'),
                         "application/x-www-form-urlencoded");
    EXPECT_EQ(c.status, 413);
    // The server still answers normally afterwards.
    EXPECT_EQ(w.Api("GET", "/api/settings", session).status, 200);
}

TEST(AccessLog, OneLinePerRequestAndNoSecrets) {
    World& w = World::Get();
    support::LogCapture capture;
    TestPortal p = w.NewPortal(301);
    auto install = w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    auto launch = p.portal->OpenApp(w.client_id(), 1);
    Answer opened = w.PostForm(launch.url, launch.fields);
    ASSERT_EQ(opened.status, 200);
    std::string session = BootOf(opened.body)["session"];
    ASSERT_EQ(w.Api("GET", "/api/list?mode=payments&series=active&q=ann", session).status, 200);
    auto fresh = p.portal->IssueTokens(w.client_id(), 1);
    ASSERT_EQ(w.Api("POST", "/api/session/refresh", "", json{{"authId", fresh.access_token}}.dump())
                  .status,
              200);
    w.Api("GET", "/api/status", "forged.session");
    // The server writes a request's line after its answer has gone out.
    EXPECT_TRUE(support::WaitUntil([&] { return capture.Contains("http GET /api/status 401"); }));

    std::string log = capture.Text();
    EXPECT_NE(log.find("http POST /b24/install 200"), std::string::npos) << log;
    EXPECT_NE(log.find("http POST /b24/app 200"), std::string::npos);
    EXPECT_NE(log.find("http GET /api/list 200"), std::string::npos);
    EXPECT_NE(log.find("http GET /api/status 401"), std::string::npos);
    EXPECT_EQ(log.find("q=ann"), std::string::npos);
    std::vector<std::string> secrets = {install.application_token,
                                        install.admin_tokens.access_token,
                                        install.admin_tokens.refresh_token,
                                        session,
                                        fresh.access_token,
                                        w.client_secret()};
    for (const auto& [k, v] : launch.fields) {
        if (k == "AUTH_ID" || k == "REFRESH_ID" || k == "APPLICATION_TOKEN") {
            secrets.push_back(v);
        }
    }
    auto record = w.app().registry().Find(p.member_id);
    secrets.push_back(record->access_token);
    secrets.push_back(record->refresh_token);
    for (const auto& secret : secrets) {
        ASSERT_GE(secret.size(), 8U);
        EXPECT_EQ(log.find(secret), std::string::npos) << "a secret is in the log";
    }
}

}  // namespace
}  // namespace httptest
