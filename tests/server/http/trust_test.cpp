// Issue 9: a portal user who is not an admin cannot uninstall, re-install, update or take over the
// app, and nothing leaks past a user's rights. Each attack is made the way such a user can (with
// the APPLICATION_TOKEN and their own AUTH_ID/REFRESH_ID from a page load) against the fake portal,
// and afterwards nothing has changed: the registry row is byte-equal, the database files are
// there, the sessions are alive and the admin's genuine page load is answered with the app. Then
// the genuine paths: a confirmed uninstall, a re-install within the grace period, the purge, an
// uninstall the portal cannot confirm yet, and linked records under a manager's rights.
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include "cli.hpp"
#include "http/util.hpp"
#include "support/log_capture.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "world.hpp"

#include <sys/stat.h>

namespace httptest {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string FieldOf(const Fields& fields, const std::string& key) {
    for (const auto& [k, v] : fields) {
        if (k == key) {
            return v;
        }
    }
    return {};
}

Fields WithField(Fields fields, const std::string& key, const std::string& value) {
    for (auto& [k, v] : fields) {
        if (k == key) {
            v = value;
        }
    }
    return fields;
}

// The registry row exactly as stored: every column, encrypted token values included.
std::string RawRow(const std::string& data_dir, const std::string& member_id) {
    SQLite::Database db(data_dir + "/registry.db", SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT * FROM portal WHERE member_id = ?");
    q.bind(1, member_id);
    if (!q.executeStep()) {
        return "(no row)";
    }
    std::string out;
    for (int i = 0; i < q.getColumnCount(); ++i) {
        out += std::string(q.getColumnName(i)) + "=" +
               (q.getColumn(i).isNull() ? std::string("NULL") : q.getColumn(i).getString()) + "\n";
    }
    return out;
}

bool HasClaim(World& w, const std::string& member_id) {
    auto claims = w.app().registry().UninstallClaims();
    return std::any_of(claims.begin(), claims.end(),
                       [&](const server::UninstallClaim& c) { return c.member_id == member_id; });
}

bool AnyFileNamed(const std::string& dir, const std::string& part) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().filename().string().find(part) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// The portal every attack is made against: installed by its admin, synced.
TestPortal& Victim() {
    static std::optional<TestPortal> victim;
    if (!victim) {
        World& w = World::Get();
        TestPortal p = w.NewPortal(901);
        w.Install(p);
        if (!w.WaitFirstRun(p.member_id)) {
            throw std::runtime_error("the victim portal's first run did not finish");
        }
        victim = p;
    }
    return *victim;
}

struct Baseline {
    std::string row;
    std::string admin_session;
    std::string manager_session;
};

Baseline Capture(World& w, TestPortal& p) {
    // The first run's card writes come back as events and cause runs: let them settle.
    EXPECT_TRUE(p.portal->WaitForEventsDelivered());
    EXPECT_TRUE(w.WaitIdle(p.member_id));
    Baseline b;
    Page admin = w.Open(p, p.admin_id);
    Page manager = w.Open(p, p.manager_id);
    EXPECT_EQ(admin.answer.status, 200);
    EXPECT_EQ(manager.answer.status, 200);
    b.admin_session = admin.session();
    b.manager_session = manager.session();
    b.row = RawRow(w.data_dir(), p.member_id);
    EXPECT_NE(b.row, "(no row)");
    return b;
}

void ExpectUnchanged(World& w, TestPortal& p, const Baseline& b, const std::string& attack) {
    SCOPED_TRACE(attack);
    EXPECT_EQ(RawRow(w.data_dir(), p.member_id), b.row);
    EXPECT_TRUE(std::filesystem::exists(w.app().portals().DbPath(p.member_id)));
    EXPECT_FALSE(HasClaim(w, p.member_id));
    // Sessions alive, the admin's page load answered with the app, background work unharmed.
    EXPECT_EQ(w.Api("GET", "/api/status", b.admin_session).status, 200);
    EXPECT_EQ(w.Api("GET", "/api/me", b.manager_session).status, 200);
    Page page = w.Open(p, p.admin_id);
    EXPECT_EQ(page.answer.status, 200);
    EXPECT_EQ(page.boot.value("view", std::string()), "main");
    EXPECT_NO_THROW(w.app().portals().AdminClient(p.member_id)->Call("app.info"));
}

std::string InstallerUrl(World& w, TestPortal& p) {
    return w.base_url() + "/b24/install?DOMAIN=" + p.portal->domain() +
           "&PROTOCOL=0&LANG=en&APP_SID=0123456789abcdef";
}

// What the manager's browser holds after opening the app: the portal's application token and the
// manager's own token pair.
Fields ManagerPage(World& w, TestPortal& p) {
    return p.portal->OpenApp(w.client_id(), p.manager_id).fields;
}

Fields AppEvent(const std::string& event,
                TestPortal& p,
                const std::string& app_token,
                const fakeportal::TokenPair& tokens,
                const json& data = {{"LANGUAGE_ID", "en"}}) {
    return EventForm(event, p.member_id, app_token, data,
                     {{"access_token", tokens.access_token},
                      {"refresh_token", tokens.refresh_token},
                      {"client_endpoint", p.portal->endpoint()},
                      {"server_endpoint", "https://oauth.bitrix.info/rest/"},
                      {"expires_in", "3600"},
                      {"user_id", std::to_string(tokens.user_id)}});
}

// ---------------------------------------------------------------------------------------------
// Attacks

TEST(Attack, UninstallWithTheApplicationTokenOfAPageLoadIsRefused) {
    World& w = World::Get();
    TestPortal& p = Victim();
    Baseline b = Capture(w, p);
    std::string app_token = FieldOf(ManagerPage(w, p), "APPLICATION_TOKEN");
    ASSERT_FALSE(app_token.empty());
    for (const char* clean : {"1", "0"}) {
        support::LogCapture log;
        Answer a = w.PostForm("/b24/events", EventForm("ONAPPUNINSTALL", p.member_id, app_token,
                                                       {{"CLEAN", clean}, {"LANGUAGE_ID", "en"}}));
        EXPECT_EQ(a.status, 403) << a.body;
        EXPECT_TRUE(log.Contains("ONAPPUNINSTALL refused")) << log.Text();
        EXPECT_FALSE(log.Contains(app_token));
        ExpectUnchanged(w, p, b, std::string("ONAPPUNINSTALL CLEAN=") + clean);
    }
}

TEST(Attack, TakeOverThroughTheInstallerPageIsRefused) {
    World& w = World::Get();
    TestPortal& p = Victim();
    Baseline b = Capture(w, p);
    Fields page = ManagerPage(w, p);
    // The manager's own REFRESH_ID and an application token of his making.
    support::LogCapture log;
    Answer made_up = w.PostForm(InstallerUrl(w, p),
                                WithField(page, "APPLICATION_TOKEN", "made-up-app-token-0123"));
    EXPECT_EQ(made_up.status, 401) << made_up.body;
    EXPECT_TRUE(BootOf(made_up.body).is_null());
    EXPECT_TRUE(log.Contains("installer page with another application token refused"))
        << log.Text();
    EXPECT_FALSE(log.Contains(FieldOf(page, "REFRESH_ID")));
    ExpectUnchanged(w, p, b, "installer page, made-up application token");
    // The real application token: the installer page of an installed portal is just a page.
    Answer known = w.PostForm(InstallerUrl(w, p), ManagerPage(w, p));
    EXPECT_EQ(known.status, 200);
    EXPECT_EQ(BootOf(known.body)["user"]["isAdmin"], false);
    ExpectUnchanged(w, p, b, "installer page, real application token");
}

TEST(Attack, TakeOverThroughOnAppInstallIsRefused) {
    World& w = World::Get();
    TestPortal& p = Victim();
    Baseline b = Capture(w, p);
    support::LogCapture log;
    auto mine = p.portal->IssueTokens(w.client_id(), p.manager_id);
    Answer a =
        w.PostForm("/b24/events", AppEvent("ONAPPINSTALL", p, "made-up-app-token-4567", mine));
    EXPECT_EQ(a.status, 403) << a.body;
    EXPECT_TRUE(log.Contains("not a portal administrator")) << log.Text();
    EXPECT_FALSE(log.Contains(mine.refresh_token));
    ExpectUnchanged(w, p, b, "ONAPPINSTALL, made-up application token");
    // With the real application token the portal is already installed: nothing to do.
    auto again = p.portal->IssueTokens(w.client_id(), p.manager_id);
    Answer known =
        w.PostForm("/b24/events", AppEvent("ONAPPINSTALL", p, p.application_token, again));
    EXPECT_EQ(known.status, 200);
    ExpectUnchanged(w, p, b, "ONAPPINSTALL, real application token");
}

TEST(Attack, UpdateWithAManagersTokensIsRefused) {
    World& w = World::Get();
    TestPortal& p = Victim();
    Baseline b = Capture(w, p);
    auto mine = p.portal->IssueTokens(w.client_id(), p.manager_id);
    Answer a = w.PostForm("/b24/events", AppEvent("ONAPPUPDATE", p, "made-up-new-token-89", mine,
                                                  {{"VERSION", "9"}, {"LANGUAGE_ID", "en"}}));
    EXPECT_EQ(a.status, 403) << a.body;
    ExpectUnchanged(w, p, b, "ONAPPUPDATE, new application token");
    auto more = p.portal->IssueTokens(w.client_id(), p.manager_id);
    Answer same = w.PostForm("/b24/events", AppEvent("ONAPPUPDATE", p, p.application_token, more,
                                                     {{"VERSION", "9"}, {"LANGUAGE_ID", "en"}}));
    EXPECT_EQ(same.status, 403) << same.body;
    ExpectUnchanged(w, p, b, "ONAPPUPDATE, real application token");
    Answer bare = w.PostForm("/b24/events", EventForm("ONAPPUPDATE", p.member_id,
                                                      p.application_token, {{"VERSION", "9"}}));
    EXPECT_EQ(bare.status, 401);
    ExpectUnchanged(w, p, b, "ONAPPUPDATE without tokens");
}

TEST(Attack, AFirstInstallWithAManagersTokensStoresNothing) {
    World& w = World::Get();
    TestPortal q = w.NewPortal(902);
    // The portal has the app (its admin installed it), our server has not heard of it yet.
    q.portal->InstallApp(w.client_id(), q.admin_id, fakeportal::InstallFlow::kSilent);
    std::string app_token = q.portal->ApplicationToken(w.client_id());
    auto mine = q.portal->IssueTokens(w.client_id(), q.manager_id);
    Fields page = {{"AUTH_ID", mine.access_token},
                   {"AUTH_EXPIRES", "3600"},
                   {"REFRESH_ID", mine.refresh_token},
                   {"member_id", q.member_id},
                   {"APPLICATION_TOKEN", app_token},
                   {"status", "F"},
                   {"PLACEMENT", "DEFAULT"}};
    Answer a = w.PostForm(InstallerUrl(w, q), page);
    EXPECT_EQ(a.status, 403) << a.body;
    auto more = q.portal->IssueTokens(w.client_id(), q.manager_id);
    Answer e = w.PostForm("/b24/events", AppEvent("ONAPPINSTALL", q, app_token, more));
    EXPECT_EQ(e.status, 403) << e.body;
    EXPECT_FALSE(w.app().registry().Find(q.member_id).has_value());
    EXPECT_FALSE(AnyFileNamed(w.data_dir(), q.member_id));
    // The admin's own install then goes through.
    auto admin = q.portal->IssueTokens(w.client_id(), q.admin_id);
    page = WithField(WithField(page, "AUTH_ID", admin.access_token), "REFRESH_ID",
                     admin.refresh_token);
    Answer ok = w.PostForm(InstallerUrl(w, q), page);
    EXPECT_EQ(ok.status, 200) << ok.body;
    auto record = w.app().registry().Find(q.member_id);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->token_user_id, q.admin_id);
    EXPECT_TRUE(w.WaitFirstRun(q.member_id));
}

TEST(Attack, AnAuthorizationServerAnswerNamingAnEndpointThatIsNotHttpsStoresNothing) {
    World& w = World::Get();
    TestPortal q = w.NewPortal(908);
    w.cloud().SetTokenEndpointOverride("gopher://127.0.0.1:70/rest/");
    auto r =
        q.portal->InstallApp(w.client_id(), q.admin_id, fakeportal::InstallFlow::kPageThenEvent);
    w.cloud().SetTokenEndpointOverride("");
    EXPECT_EQ(r.page_status, 403) << r.page_body;
    EXPECT_EQ(r.event_status, 403);
    EXPECT_FALSE(w.app().registry().Find(q.member_id).has_value());
    EXPECT_FALSE(AnyFileNamed(w.data_dir(), q.member_id));
}

TEST(Attack, CrmEventsWithTheRightTokenOnlyAskForOneDebouncedRun) {
    World& w = World::Get();
    TestPortal& p = Victim();
    Baseline b = Capture(w, p);
    auto db = w.app().portals().Db(p.member_id);
    const std::int64_t runs_before = db->LatestRun()->id;
    for (int i = 0; i < 60; ++i) {
        const char* event = i % 2 == 0 ? "ONCRMCONTACTDELETE" : "ONCRMDEALUPDATE";
        Answer a = w.PostForm("/b24/events",
                              EventForm(event, p.member_id, p.application_token,
                                        {{"FIELDS", {{"ID", std::to_string(970000 + i)}}}}));
        EXPECT_EQ(a.status, 200);
    }
    // Made-up ids of rows we do not store are not noted, so the run costs nothing for them.
    for (const auto& [entity, ids] : db->Dirty()) {
        for (std::int64_t id : ids) {
            EXPECT_LT(id, 970000) << entity;
        }
    }
    ASSERT_TRUE(w.WaitIdle(p.member_id));
    // At most one run queued at a time: one, or two if events arrived while the first ran.
    EXPECT_LE(db->LatestRun()->id - runs_before, 2);
    ExpectUnchanged(w, p, b, "CRM events");
}

// ---------------------------------------------------------------------------------------------
// Genuine life

TEST(Genuine, AReinstallWithinTheGracePeriodGetsTheDataBack) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(903);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    ASSERT_TRUE(w.WaitIdle(p.member_id));
    auto db = w.app().portals().Db(p.member_id);
    const std::int64_t contacts = db->Count("contact");
    const std::int64_t runs = db->LatestRun()->id;
    ASSERT_GT(contacts, 40);
    p.portal->UninstallApp(w.client_id(), true);
    auto gone = w.app().registry().Find(p.member_id);
    ASSERT_TRUE(gone.has_value());
    ASSERT_EQ(gone->block_code, "uninstalled");
    ASSERT_GT(gone->purge_at, 0);
    // Installed again by the admin: the new application token, the data as it was.
    w.Install(p);
    auto back = w.app().registry().Find(p.member_id);
    ASSERT_TRUE(back.has_value());
    EXPECT_NE(back->state, "blocked");
    EXPECT_EQ(back->purge_at, 0);
    EXPECT_EQ(back->application_token, p.portal->ApplicationToken(w.client_id()));
    EXPECT_EQ(w.app().portals().Db(p.member_id)->Count("contact"), contacts);
    EXPECT_GE(w.app().portals().Db(p.member_id)->LatestRun()->id, runs);  // history kept
    EXPECT_EQ(w.app().upkeep().RunOnce(gone->purge_at + 1).purged, 0);
    EXPECT_TRUE(std::filesystem::exists(w.app().portals().DbPath(p.member_id)));
    EXPECT_EQ(w.Open(p, p.admin_id).answer.status, 200);
    EXPECT_TRUE(w.WaitIdle(p.member_id));
}

TEST(Genuine, PurgeCommandDeletesAnUninstalledPortalAtOnce) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(904);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    ASSERT_TRUE(w.WaitIdle(p.member_id));
    support::TempDir dir("b24seg-purge");
    std::string config = dir.File("config.json");
    std::ofstream(config) << json{
        {"data_dir", w.data_dir()},
        {"oauth_url", w.app().config().oauth_url},
        {"client_id", w.client_id()},
        {"allow_http_portals", true},
        {"log_level", "warn"}}.dump();
    auto run = [&](std::vector<std::string> args, std::string* text) {
        args.push_back("--config");
        args.push_back(config);
        std::ostringstream out, err;
        int code = server::RunCli(server::ParseCliArgs(args), out, err);
        *text = out.str() + err.str();
        return code;
    };
    std::string text;
    // An installed portal is not purged; an unknown one neither.
    EXPECT_EQ(run({"purge", p.member_id}, &text), 1) << text;
    EXPECT_NE(text.find("only an uninstalled"), std::string::npos) << text;
    EXPECT_EQ(run({"purge", "00000000000000000000"}, &text), 1) << text;
    const std::string db_path = w.app().portals().DbPath(p.member_id);
    p.portal->UninstallApp(w.client_id(), false);  // data kept without a purge date
    ASSERT_EQ(w.app().registry().Find(p.member_id)->block_code, "uninstalled");
    ASSERT_EQ(w.app().registry().Find(p.member_id)->purge_at, 0);
    ASSERT_EQ(run({"purge", p.member_id}, &text), 0) << text;
    EXPECT_NE(text.find("purged"), std::string::npos);
    EXPECT_FALSE(w.app().registry().Find(p.member_id).has_value());
    for (const char* suffix : {"", "-wal", "-shm", ".lock", ".tokens.lock"}) {
        EXPECT_FALSE(std::filesystem::exists(db_path + suffix)) << suffix;
    }
    EXPECT_FALSE(AnyFileNamed(w.data_dir(), p.member_id));
}

TEST(Genuine, AnUninstallThePortalCannotConfirmYetIsKeptAsAClaim) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(905);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    Baseline b = Capture(w, p);
    const fakeportal::Fault unreachable{fakeportal::FaultKind::kHtml503, 0, "app.info"};

    // A claim (the page's application token) while the portal does not answer: kept, nothing
    // touched; the portal, asked again later, shows the app installed: the claim is dropped.
    p.portal->FailNext(2, unreachable);
    Answer a = w.PostForm("/b24/events", EventForm("ONAPPUNINSTALL", p.member_id,
                                                   p.application_token, {{"CLEAN", "1"}}));
    EXPECT_EQ(a.status, 200);
    EXPECT_TRUE(HasClaim(w, p.member_id));
    EXPECT_EQ(RawRow(w.data_dir(), p.member_id), b.row);
    p.portal->ClearFaults();
    const std::int64_t now = std::time(nullptr);
    EXPECT_EQ(w.app().upkeep().RunOnce(now).claims_pending, 1);  // not due yet
    auto report = w.app().upkeep().RunOnce(now + 301);
    EXPECT_EQ(report.claims_dropped, 1);
    EXPECT_FALSE(HasClaim(w, p.member_id));
    EXPECT_EQ(RawRow(w.data_dir(), p.member_id), b.row);
    ExpectUnchanged(w, p, b, "unconfirmed uninstall claim");

    // The genuine uninstall while the portal does not answer: kept as a claim, then confirmed.
    p.portal->FailNext(2, unreachable);
    p.portal->UninstallApp(w.client_id(), true);
    EXPECT_TRUE(HasClaim(w, p.member_id));
    // The claim itself uninstalled nothing (a sync meanwhile may have found the tokens dead and
    // blocked the portal as reinstall_needed: that is its own business).
    EXPECT_NE(w.app().registry().Find(p.member_id)->block_code, "uninstalled");
    EXPECT_EQ(w.app().registry().Find(p.member_id)->purge_at, 0);
    p.portal->ClearFaults();
    report = w.app().upkeep().RunOnce(std::time(nullptr) + 301);
    EXPECT_EQ(report.claims_confirmed, 1);
    auto record = w.app().registry().Find(p.member_id);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->block_code, "uninstalled");
    EXPECT_GT(record->purge_at, 0);
    EXPECT_FALSE(HasClaim(w, p.member_id));
    EXPECT_EQ(w.Api("GET", "/api/status", b.admin_session).status, 401);
}

// ---------------------------------------------------------------------------------------------
// Linked records follow rights

struct LinkedPortal {
    TestPortal p;
    std::int64_t readable_company = 0;
    std::int64_t secret_company = 0;
    std::int64_t hidden_member = 0;
    std::int64_t worker = 0;
};

LinkedPortal& Linked() {
    static std::optional<LinkedPortal> linked;
    if (!linked) {
        World& w = World::Get();
        LinkedPortal l;
        l.p = w.NewPortal(906);
        fakeportal::Portal& portal = *l.p.portal;
        const auto now = static_cast<fakeportal::Time>(portal.Now());
        const std::int64_t manager = l.p.manager_id;
        fakeportal::Company readable;
        readable.title = "Readable Trading Co";
        readable.assigned_by_id = manager;
        readable.date_create = now - 86400 * 300;
        l.readable_company = portal.Add(readable);
        fakeportal::Company secret;
        secret.title = "Secret Holdings Zyx";
        secret.assigned_by_id = 1;
        secret.date_create = now - 86400 * 300;
        l.secret_company = portal.Add(secret);
        fakeportal::Contact member;
        member.name = "Hidden Member Qwv";
        member.assigned_by_id = 1;
        member.company_ids = {l.readable_company};
        member.date_create = now - 86400 * 200;
        l.hidden_member = portal.Add(member);
        fakeportal::Contact worker;
        worker.name = "Visible Worker Jkp";
        worker.assigned_by_id = manager;
        worker.company_ids = {l.secret_company};
        worker.date_create = now - 86400 * 200;
        l.worker = portal.Add(worker);
        for (auto [title, owner] :
             {std::pair<const char*, std::int64_t>{"Manager Deal Mno", manager},
              {"Admin Deal Secret Rst", 1}}) {
            fakeportal::Deal d;
            d.title = title;
            d.company_id = l.readable_company;
            d.assigned_by_id = owner;
            d.stage_id = "WON";
            d.opportunity = 1000;
            d.date_create = now - 86400 * 40;
            d.begindate = now - 86400 * 40;
            d.closedate = now - 86400 * 20;
            portal.Add(d);
        }
        w.Install(l.p);
        if (!w.WaitFirstRun(l.p.member_id)) {
            throw std::runtime_error("the rights portal's first run did not finish");
        }
        linked = l;
    }
    return *linked;
}

TEST(Rights, TheCardTabShowsOnlyLinkedRecordsTheUserMayRead) {
    World& w = World::Get();
    LinkedPortal& l = Linked();
    std::string manager = w.Open(l.p, l.p.manager_id).session();
    Answer company =
        w.Api("GET", "/api/client?kind=company&id=" + std::to_string(l.readable_company), manager);
    ASSERT_EQ(company.status, 200) << company.body;
    json c = company.Json();
    EXPECT_EQ(company.body.find("Hidden Member Qwv"), std::string::npos);
    EXPECT_EQ(company.body.find("Admin Deal Secret Rst"), std::string::npos);
    EXPECT_NE(company.body.find("Manager Deal Mno"), std::string::npos);
    EXPECT_NE(std::find(c["members"].begin(), c["members"].end(), json{{"hidden", true}}),
              c["members"].end())
        << c["members"];
    int hidden_payments = 0;
    for (const auto& pay : c["paymentsList"]) {
        if (pay.value("hidden", false)) {
            ++hidden_payments;
            EXPECT_FALSE(pay.contains("id"));
            EXPECT_FALSE(pay.contains("path"));
            EXPECT_FALSE(pay.contains("title"));
            EXPECT_TRUE(pay.contains("date"));
        }
    }
    EXPECT_EQ(hidden_payments, 1) << c["paymentsList"];
    Answer contact =
        w.Api("GET", "/api/client?kind=contact&id=" + std::to_string(l.worker), manager);
    ASSERT_EQ(contact.status, 200) << contact.body;
    EXPECT_EQ(contact.Json()["parentCompany"], (json{{"hidden", true}}));
    EXPECT_EQ(contact.body.find("Secret Holdings Zyx"), std::string::npos);

    // The admin sees everything.
    std::string admin = w.Open(l.p, l.p.admin_id).session();
    Answer all =
        w.Api("GET", "/api/client?kind=company&id=" + std::to_string(l.readable_company), admin);
    EXPECT_NE(all.body.find("Hidden Member Qwv"), std::string::npos);
    EXPECT_NE(all.body.find("Admin Deal Secret Rst"), std::string::npos);
    EXPECT_EQ(all.body.find("\"hidden\""), std::string::npos);
    Answer worker = w.Api("GET", "/api/client?kind=contact&id=" + std::to_string(l.worker), admin);
    EXPECT_EQ(worker.Json()["parentCompany"]["name"], "Secret Holdings Zyx");
}

TEST(Rights, ListsSearchAndCsvHideCompaniesTheUserMayNotRead) {
    World& w = World::Get();
    LinkedPortal& l = Linked();
    std::string manager = w.Open(l.p, l.p.manager_id).session();
    Answer list =
        w.Api("GET", "/api/list?mode=directories&series=contacts&q=Visible%20Worker", manager);
    ASSERT_EQ(list.status, 200) << list.body;
    json items = list.Json()["items"];
    ASSERT_EQ(items.size(), 1u) << list.body;
    EXPECT_EQ(items[0]["id"], l.worker);
    EXPECT_EQ(items[0]["company"], (json{{"hidden", true}}));
    EXPECT_EQ(list.body.find("Secret Holdings"), std::string::npos);
    // Searching for the unreadable company's name finds nothing through it.
    Answer search =
        w.Api("GET", "/api/list?mode=directories&series=contacts&q=Secret%20Holdings", manager);
    ASSERT_EQ(search.status, 200);
    EXPECT_EQ(search.Json()["total"], 0) << search.body;
    Answer csv = w.Api("GET", "/api/list.csv?mode=directories&series=contacts", manager);
    ASSERT_EQ(csv.status, 200);
    EXPECT_EQ(csv.body.find("Secret Holdings"), std::string::npos);
    EXPECT_NE(csv.body.find("Visible Worker Jkp"), std::string::npos);
    EXPECT_NE(csv.body.find("(no access)"), std::string::npos);

    std::string admin = w.Open(l.p, l.p.admin_id).session();
    Answer found =
        w.Api("GET", "/api/list?mode=directories&series=contacts&q=Secret%20Holdings", admin);
    EXPECT_GE(found.Json()["total"], 1) << found.body;
    Answer admin_csv = w.Api("GET", "/api/list.csv?mode=directories&series=contacts", admin);
    EXPECT_NE(admin_csv.body.find("Secret Holdings Zyx"), std::string::npos);
    EXPECT_EQ(admin_csv.body.find("(no access)"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Secrets at rest, end to end

TEST(SecretsAtRest, AnInstalledPortalUnderUmaskZeroLeavesOnlyPrivateFilesAndNoTokenInTheClear) {
    World& w = World::Get();
    const mode_t previous = ::umask(0);
    support::TempDir dir("b24seg-umask");
    server::Config config = w.app().config();
    config.data_dir = dir.File("data");
    config.client_id = "local.b24seg.umask";
    std::optional<server::App> app;
    app.emplace(config);
    int port = app->Bind();
    std::string base = "http://127.0.0.1:" + std::to_string(port);
    app->SetPublicUrl(base);
    app->Start();
    fakeportal::AppRegistration reg;
    reg.client_id = config.client_id;
    reg.client_secret = config.client_secret;
    reg.handler_url = base + "/b24/app";
    reg.installer_url = base + "/b24/install";
    reg.install_event_url = base + "/b24/events";
    reg.scopes = {"crm", "placement", "user_brief"};
    w.cloud().RegisterApp(reg);
    TestPortal p = w.NewPortal(907);
    auto installed =
        p.portal->InstallApp(config.client_id, 1, fakeportal::InstallFlow::kPageThenEvent);
    ASSERT_EQ(installed.page_status, 200) << installed.page_body;
    p.portal->FinishInstall(config.client_id);
    ASSERT_TRUE(support::WaitUntil(
        [&] {
            auto r = app->registry().Find(p.member_id);
            return r && app->jobs().StateOf(p.member_id).empty() &&
                   app->portals().Db(p.member_id)->LatestRun().has_value() &&
                   app->portals().Db(p.member_id)->LatestRun()->state == "done";
        },
        std::chrono::seconds(60)));
    auto record = app->registry().Find(p.member_id);
    ASSERT_TRUE(record.has_value());
    namespace fs = std::filesystem;
    auto mode = [](const fs::path& path) {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
    };
    EXPECT_EQ(mode(config.data_dir), 0700);
    int files = 0;
    for (const auto& entry : fs::directory_iterator(config.data_dir)) {
        EXPECT_EQ(mode(entry.path()), 0600) << entry.path();
        ++files;
    }
    const std::string db = config.data_dir + "/" + record->db_file;
    for (const std::string& f : {config.data_dir + "/registry.db", db, db + "-wal", db + "-shm",
                                 db + ".lock", db + ".tokens.lock"}) {
        EXPECT_TRUE(fs::exists(f)) << f;
    }
    EXPECT_GE(files, 6);
    std::string bytes;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::ifstream in(config.data_dir + "/registry.db" + suffix, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        bytes += s.str();
    }
    ASSERT_NE(bytes.find(p.member_id), std::string::npos);
    for (const std::string& secret :
         {record->access_token, record->refresh_token, record->application_token}) {
        ASSERT_FALSE(secret.empty());
        EXPECT_EQ(bytes.find(secret), std::string::npos);
    }
    app->Stop();
    app.reset();
    ::umask(previous);
}

}  // namespace
}  // namespace httptest
