// The install flow in every order, updates, uninstalls, CRM events, and forged callbacks: over
// loopback between the fake portal and the real app server.
#include <algorithm>
#include <ctime>
#include <filesystem>

#include <gtest/gtest.h>

#include "http/sessions.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "world.hpp"

namespace httptest {
namespace {

using fakeportal::InstallFlow;

bool HasPlacement(const TestPortal& p, const std::string& code, const std::string& handler) {
    auto list = p.portal->Placements(World::Get().client_id());
    return std::any_of(list.begin(), list.end(), [&](const fakeportal::PlacementBinding& b) {
        return b.placement == code && b.handler == handler;
    });
}

int CountEvents(const TestPortal& p, const std::string& event, bool offline) {
    auto list = p.portal->EventBindings(World::Get().client_id());
    return static_cast<int>(
        std::count_if(list.begin(), list.end(), [&](const fakeportal::EventBinding& b) {
            return b.event == event && b.offline == offline;
        }));
}

std::vector<std::pair<std::string, std::string>> Field(
    std::vector<std::pair<std::string, std::string>> fields,
    const std::string& key,
    const std::string& value) {
    for (auto& [k, v] : fields) {
        if (k == key) {
            v = value;
        }
    }
    return fields;
}

std::string ReplaceQuery(const std::string& url, const std::string& key, const std::string& value) {
    auto at = url.find(key + "=");
    if (at == std::string::npos) {
        return url;
    }
    auto end = url.find('&', at);
    return url.substr(0, at) + key + "=" + value +
           (end == std::string::npos ? "" : url.substr(end));
}

void ExpectInstalledAndSynced(World& w, TestPortal& p) {
    auto record = w.app().registry().Find(p.member_id);
    ASSERT_TRUE(record.has_value());
    // The stored endpoint is what the authorization server said, and the application token is
    // the portal's.
    EXPECT_EQ(record->endpoint, p.portal->endpoint());
    EXPECT_EQ(record->domain, p.portal->domain());
    EXPECT_EQ(record->application_token, p.portal->ApplicationToken(w.client_id()));
    const std::string handler = w.base_url() + "/b24/app";
    EXPECT_TRUE(HasPlacement(p, "CRM_ANALYTICS_MENU", handler));
    EXPECT_TRUE(HasPlacement(p, "CRM_CONTACT_DETAIL_TAB", handler));
    EXPECT_TRUE(HasPlacement(p, "CRM_COMPANY_DETAIL_TAB", handler));
    EXPECT_EQ(CountEvents(p, "ONCRMCONTACTUPDATE", false), 1);
    EXPECT_EQ(CountEvents(p, "ONCRMCONTACTUPDATE", true), 1);  // the portal has offline events
    EXPECT_EQ(CountEvents(p, "ONAPPUNINSTALL", false), 1);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    auto db = w.app().portals().Db(p.member_id);
    EXPECT_EQ(db->GetMeta("offline.enabled").value_or(""), "1");
    EXPECT_GT(db->Count("contact"), 40);
    // The first run wrote the cards.
    auto lifecycle = p.portal->UfValueOf(3, p.data.xss_contact_id, "UF_CRM_SEG_CLIENT_TYPE");
    EXPECT_TRUE(lifecycle.has_value());
}

TEST(Install, PageThenEvent) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(101);
    auto r = w.Install(p, InstallFlow::kPageThenEvent);
    EXPECT_EQ(r.page_status, 200) << r.page_body;
    EXPECT_EQ(r.event_status, 200);
    json boot = BootOf(r.page_body);
    ASSERT_TRUE(boot.is_object()) << r.page_body;
    EXPECT_EQ(boot["view"], "install");
    EXPECT_EQ(boot["installFinishNeeded"], true);
    EXPECT_EQ(boot["user"]["id"], 1);
    EXPECT_EQ(boot["user"]["isAdmin"], true);
    ExpectInstalledAndSynced(w, p);
}

TEST(Install, EventThenPage) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(102);
    auto r = w.Install(p, InstallFlow::kEventThenPage);
    EXPECT_EQ(r.event_status, 200);
    EXPECT_EQ(r.page_status, 200) << r.page_body;
    EXPECT_EQ(BootOf(r.page_body)["view"], "install");
    ExpectInstalledAndSynced(w, p);
}

TEST(Install, PageOnlyAndEventOnly) {
    World& w = World::Get();
    TestPortal page_only = w.NewPortal(103);
    auto r1 = w.Install(page_only, InstallFlow::kPageOnly);
    EXPECT_EQ(r1.page_status, 200) << r1.page_body;
    ExpectInstalledAndSynced(w, page_only);

    TestPortal event_only = w.NewPortal(104);
    auto r2 = w.Install(event_only, InstallFlow::kEventOnly);
    EXPECT_EQ(r2.event_status, 200);
    ExpectInstalledAndSynced(w, event_only);
    // The installer page opened later (e.g. from the portal's app settings) is accepted with the
    // stored application token and does not ask to finish the install again.
    Page again = w.Open(event_only, 1);
    EXPECT_EQ(again.answer.status, 200);
}

TEST(Install, InstallerPageWithUnconfirmedTokensIsRefused) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(105);
    // What a forger would post: a plausible member_id and tokens Bitrix24 never issued.
    std::vector<std::pair<std::string, std::string>> form = {
        {"AUTH_ID", "forged-access"},
        {"REFRESH_ID", "forged-refresh"},
        {"member_id", p.member_id},
        {"APPLICATION_TOKEN", "forged-app-token"},
        {"status", "F"},
        {"PLACEMENT", "DEFAULT"}};
    Answer a =
        w.PostForm("/b24/install?DOMAIN=" + p.portal->domain() + "&PROTOCOL=0&LANG=en", form);
    EXPECT_EQ(a.status, 401);
    EXPECT_TRUE(BootOf(a.body).is_null());
    EXPECT_FALSE(w.app().registry().Find(p.member_id).has_value());

    // Real tokens of another portal, claimed for this member_id: the authorization server names
    // the other portal, so the claim fails.
    TestPortal other = w.NewPortal(106);
    // `other` must have the app for its tokens to refresh.
    other.portal->InstallApp(w.client_id(), 1, InstallFlow::kSilent);
    auto tokens = other.portal->IssueTokens(w.client_id(), 1);
    form = Field(form, "AUTH_ID", tokens.access_token);
    form = Field(form, "REFRESH_ID", tokens.refresh_token);
    Answer b =
        w.PostForm("/b24/install?DOMAIN=" + p.portal->domain() + "&PROTOCOL=0&LANG=en", form);
    EXPECT_EQ(b.status, 401);
    EXPECT_FALSE(w.app().registry().Find(p.member_id).has_value());
    EXPECT_FALSE(w.app().registry().Find(other.member_id).has_value());
}

TEST(Install, ForgedInstallEventIsRefused) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(107);
    auto form = EventForm("ONAPPINSTALL", p.member_id, "forged-app-token", {{"LANGUAGE_ID", "en"}},
                          {{"access_token", "forged"},
                           {"refresh_token", "forged"},
                           {"client_endpoint", "http://127.0.0.1:1/rest/"}});
    Answer a = w.PostForm("/b24/events", form);
    EXPECT_EQ(a.status, 401);
    EXPECT_EQ(a.Json()["error"]["code"], "unauthorized");
    EXPECT_FALSE(w.app().registry().Find(p.member_id).has_value());
}

TEST(Install, PlainHttpPortalsAreRefusedWithoutTheSwitch) {
    World& w = World::Get();
    support::TempDir dir("b24seg-http-strict");
    server::Config config = w.app().config();
    config.data_dir = dir.File("data");
    config.allow_http_portals = false;
    config.client_id = "local.b24seg.strict";
    server::App strict(config);
    int port = strict.Bind();
    std::string base = "http://127.0.0.1:" + std::to_string(port);
    strict.SetPublicUrl(base);
    strict.Start();
    fakeportal::AppRegistration reg;
    reg.client_id = config.client_id;
    reg.client_secret = config.client_secret;
    reg.handler_url = base + "/b24/app";
    reg.installer_url = base + "/b24/install";
    reg.install_event_url = base + "/b24/events";
    w.cloud().RegisterApp(reg);
    TestPortal p = w.NewPortal(108);
    auto r = p.portal->InstallApp(config.client_id, 1, InstallFlow::kPageThenEvent);
    // The authorization server names a plain-http endpoint: refused before anything is stored.
    EXPECT_EQ(r.page_status, 403);
    EXPECT_EQ(r.event_status, 403);
    EXPECT_TRUE(strict.registry().List().empty());
    strict.Stop();
}

TEST(Trust, PageLoadsNeedTheStoredApplicationTokenAndAKnownPortal) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    auto launch = p.portal->OpenApp(w.client_id(), 1);
    Answer ok = w.PostForm(launch.url, launch.fields);
    EXPECT_EQ(ok.status, 200);

    Answer wrong = w.PostForm(launch.url, Field(launch.fields, "APPLICATION_TOKEN", "0000"));
    EXPECT_EQ(wrong.status, 401);
    EXPECT_TRUE(BootOf(wrong.body).is_null());

    Answer unknown = w.PostForm(launch.url, Field(launch.fields, "member_id", "ffffffffffff0000"));
    EXPECT_EQ(unknown.status, 401);
    EXPECT_TRUE(BootOf(unknown.body).is_null());

    Answer missing = w.PostForm(launch.url, Field(launch.fields, "AUTH_ID", ""));
    EXPECT_EQ(missing.status, 400);
}

TEST(Trust, ADomainOtherThanTheStoredPortalIsRefusedAndNeverCalled) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    // The "attacker": another portal the forged DOMAIN points at.
    TestPortal decoy = w.NewPortal(109);
    decoy.portal->ResetCounters();
    auto launch = p.portal->OpenApp(w.client_id(), 1);
    std::string forged_url = ReplaceQuery(launch.url, "DOMAIN", decoy.portal->domain());
    ASSERT_NE(forged_url, launch.url);
    Answer a = w.PostForm(forged_url, launch.fields);
    EXPECT_EQ(a.status, 403);
    EXPECT_TRUE(BootOf(a.body).is_null());
    EXPECT_EQ(decoy.portal->Counters().http_requests, 0);
}

TEST(Trust, AUserTokenFromAnotherPortalIsRefused) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    TestPortal other = w.NewPortal(110);
    other.portal->InstallApp(w.client_id(), 1, InstallFlow::kSilent);
    auto foreign = other.portal->IssueTokens(w.client_id(), 1);
    auto launch = p.portal->OpenApp(w.client_id(), 1);
    Answer a = w.PostForm(launch.url, Field(launch.fields, "AUTH_ID", foreign.access_token));
    EXPECT_EQ(a.status, 401);
    EXPECT_TRUE(BootOf(a.body).is_null());
    // ... and the session refresh with it (no old session sent, as the frontend does) gives no
    // session for this portal either: it names the other portal, which is not installed here.
    Answer refresh =
        w.Api("POST", "/api/session/refresh", "", json{{"authId", foreign.access_token}}.dump());
    EXPECT_EQ(refresh.status, 401);
    // With an old session of the main portal, a foreign token is refused too.
    Page page = w.Open(p, 1);
    Answer refresh2 = w.Api("POST", "/api/session/refresh", page.session(),
                            json{{"authId", foreign.access_token}}.dump());
    EXPECT_EQ(refresh2.status, 401);
}

TEST(Trust, EventsNeedTheStoredApplicationToken) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    auto db = w.app().portals().Db(p.member_id);
    auto form = EventForm("ONCRMCONTACTUPDATE", p.member_id, "wrong-token",
                          {{"FIELDS", {{"ID", "999999"}}}});
    Answer a = w.PostForm("/b24/events", form);
    EXPECT_EQ(a.status, 401);
    auto unknown = EventForm("ONCRMCONTACTUPDATE", "0123456789abcdef", "wrong-token",
                             {{"FIELDS", {{"ID", "999999"}}}});
    EXPECT_EQ(w.PostForm("/b24/events", unknown).status, 401);
    auto dirty = db->Dirty();
    EXPECT_TRUE(dirty["contact"].empty() ||
                std::find(dirty["contact"].begin(), dirty["contact"].end(), 999999) ==
                    dirty["contact"].end());
    // Malformed: no member_id.
    EXPECT_EQ(w.PostForm("/b24/events", {{"event", "ONCRMCONTACTUPDATE"}}).status, 400);
}

TEST(Events, ACrmChangeIsPickedUpByAnIncrementalRun) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(111);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    auto db = w.app().portals().Db(p.member_id);
    std::int64_t runs_before = db->LatestRun()->id;
    std::int64_t contact_id = p.data.xss_contact_id;
    ASSERT_TRUE(p.portal->Update<fakeportal::Contact>(
        contact_id, [](fakeportal::Contact& c) { c.name = "Renamed By Event"; }));
    ASSERT_TRUE(p.portal->WaitForEventsDelivered());
    // The event reached us (delivered 2xx) and an incremental run follows and stores the change.
    EXPECT_GE(p.portal->Counters().events_delivered, 1);
    ASSERT_TRUE(support::WaitUntil(
        [&] {
            auto latest = db->LatestRun();
            if (!latest || latest->id == runs_before || latest->state != "done") {
                return false;
            }
            std::string name;
            db->ForEach([&](const server::ContactRow& row) {
                if (row.id == contact_id) {
                    name = row.name;
                }
            });
            return name.find("Renamed By Event") != std::string::npos;
        },
        std::chrono::seconds(60)));
}

TEST(Update, ReplacesTheApplicationToken) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(112);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    std::string old_token = p.application_token;
    auto old_launch = p.portal->OpenApp(w.client_id(), 1);
    std::string new_token = p.portal->UpdateApp(w.client_id(), "2");
    ASSERT_NE(new_token, old_token);
    ASSERT_TRUE(support::WaitUntil(
        [&] { return w.app().registry().Find(p.member_id)->application_token == new_token; }));
    Page page = w.Open(p, 1);
    EXPECT_EQ(page.answer.status, 200);
    EXPECT_EQ(w.PostForm(old_launch.url, old_launch.fields).status, 401);
    // A forged update (a new token, no tokens to vouch for it) changes nothing.
    auto forged = EventForm("ONAPPUPDATE", p.member_id, "forged-new-token", {{"VERSION", "3"}});
    EXPECT_EQ(w.PostForm("/b24/events", forged).status, 401);
    EXPECT_EQ(w.app().registry().Find(p.member_id)->application_token, new_token);
}

TEST(Uninstall, ForgedUninstallIsRefused) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    auto form = EventForm("ONAPPUNINSTALL", p.member_id, "forged", {{"CLEAN", "1"}});
    Answer a = w.PostForm("/b24/events", form);
    EXPECT_EQ(a.status, 401);
    auto record = w.app().registry().Find(p.member_id);
    ASSERT_TRUE(record.has_value());
    EXPECT_NE(record->state, "blocked");
    EXPECT_TRUE(std::filesystem::exists(w.app().portals().DbPath(p.member_id)));
}

TEST(Uninstall, CleanIsASoftDeleteThatThePurgeFinishesAfterTheGracePeriod) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(113);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    Page page = w.Open(p, 1);
    ASSERT_EQ(page.answer.status, 200);
    std::string session = page.session();
    std::string db_path = w.app().portals().DbPath(p.member_id);
    ASSERT_TRUE(std::filesystem::exists(db_path));
    auto launch = p.portal->OpenApp(w.client_id(), 1);

    // A genuine uninstall: the portal revokes the tokens, then sends ONAPPUNINSTALL (CLEAN=1).
    p.portal->UninstallApp(w.client_id(), true);

    // Confirmed (the stored tokens are refused): jobs stop, sessions end, the portal is blocked,
    // the tokens are gone; the data stays for the grace period.
    auto record = w.app().registry().Find(p.member_id);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->state, "blocked");
    EXPECT_EQ(record->block_code, "uninstalled");
    EXPECT_TRUE(record->access_token.empty());
    EXPECT_TRUE(record->refresh_token.empty());
    const std::int64_t grace = std::int64_t{w.app().config().uninstall_grace_hours} * 3600;
    EXPECT_GT(record->purge_at, 0);
    EXPECT_LE(record->purge_at, std::time(nullptr) + grace);
    EXPECT_GE(record->purge_at, std::time(nullptr) + grace - 60);
    EXPECT_TRUE(std::filesystem::exists(db_path));
    EXPECT_EQ(w.Api("GET", "/api/status", session).status, 401);
    EXPECT_EQ(w.PostForm(launch.url, launch.fields).status, 401);
    EXPECT_TRUE(w.app().jobs().StateOf(p.member_id).empty());

    // Before the grace period ends the purge leaves it alone; after, nothing is left behind.
    EXPECT_EQ(w.app().upkeep().RunOnce(record->purge_at - 1).purged, 0);
    EXPECT_TRUE(w.app().registry().Find(p.member_id).has_value());
    EXPECT_EQ(w.app().upkeep().RunOnce(record->purge_at).purged, 1);
    EXPECT_FALSE(w.app().registry().Find(p.member_id).has_value());
    for (const char* suffix : {"", "-wal", "-shm", ".lock", ".tokens.lock"}) {
        EXPECT_FALSE(std::filesystem::exists(db_path + suffix)) << suffix;
    }
    for (const auto& entry : std::filesystem::directory_iterator(w.data_dir())) {
        EXPECT_EQ(entry.path().filename().string().find(p.member_id), std::string::npos)
            << entry.path();
    }
    // Nothing brings the data back: no job runs for the portal any more.
    EXPECT_TRUE(w.app().jobs().StateOf(p.member_id).empty());
    EXPECT_FALSE(std::filesystem::exists(db_path));
}

TEST(Uninstall, WithoutCleanKeepsDataButStopsEverything) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(114);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    Page page = w.Open(p, 1);
    std::string db_path = w.app().portals().DbPath(p.member_id);
    p.portal->UninstallApp(w.client_id(), false);
    auto record = w.app().registry().Find(p.member_id);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->state, "blocked");
    EXPECT_TRUE(record->access_token.empty());
    EXPECT_TRUE(std::filesystem::exists(db_path));
    EXPECT_EQ(w.Api("GET", "/api/status", page.session()).status, 401);

    // Installing again confirms the new tokens and brings the portal back.
    w.Install(p);
    ASSERT_TRUE(support::WaitUntil(
        [&] { return w.app().registry().Find(p.member_id)->state != "blocked"; }));
    EXPECT_EQ(w.Open(p, 1).answer.status, 200);
    EXPECT_TRUE(w.WaitIdle(p.member_id));
}

}  // namespace
}  // namespace httptest
