// App lifecycle (install flows, update, uninstall), online and offline events, placements,
// two portals, and the shell endpoints.
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "client.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "util.hpp"

namespace fakeportal::testing {
namespace {

/// A stand-in app server that records every POST it receives.
class Recorder {
public:
    struct Hit {
        std::string path;
        std::string query;
        json form;
    };
    Recorder() {
        server_.Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
            const size_t q = req.target.find('?');
            Hit hit{req.path, q == std::string::npos ? "" : req.target.substr(q + 1),
                    detail::ParseQueryString(req.body)};
            std::lock_guard lock(mu_);
            hits_.push_back(std::move(hit));
            res.set_content("ok", "text/plain");
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        support::WaitUntil([this] { return server_.is_running(); });
    }
    ~Recorder() {
        server_.stop();
        thread_.join();
    }
    std::string Url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::vector<Hit> Hits() const {
        std::lock_guard lock(mu_);
        return hits_;
    }
    std::vector<Hit> HitsTo(const std::string& path) const {
        std::vector<Hit> out;
        for (const auto& h : Hits()) {
            if (h.path == path) {
                out.push_back(h);
            }
        }
        return out;
    }

private:
    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
    mutable std::mutex mu_;
    std::vector<Hit> hits_;
};

class Lifecycle : public ::testing::Test {
protected:
    Lifecycle() : clock(0, 1'700'000'000.0) {
        CloudOptions co;
        co.clock = clock.AsFunction();
        cloud = std::make_unique<Cloud>(co);
        app.client_id = "app.events";
        app.client_secret = "secret";
        app.handler_url = rec.Url("/app");
        app.installer_url = rec.Url("/install");
        app.install_event_url = rec.Url("/lifecycle");
        cloud->RegisterApp(app);
        portal = &cloud->AddPortal();
    }
    ~Lifecycle() override { cloud->Stop(); }

    Answer Call(const std::string& token, const std::string& method, json params) {
        params["auth"] = token;
        return PostJson(portal->base_url(), "/rest/" + method, params);
    }

    Recorder rec;
    support::ScaledClock clock;
    std::unique_ptr<Cloud> cloud;
    AppRegistration app;
    Portal* portal = nullptr;
};

TEST_F(Lifecycle, InstallPostsThePageAndTheEventInEitherOrder) {
    InstallResult r = portal->InstallApp(app.client_id, 1, InstallFlow::kEventThenPage, "de");
    EXPECT_EQ(r.page_status, 200);
    EXPECT_EQ(r.event_status, 200);
    const auto hits = rec.Hits();
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].path, "/lifecycle");
    EXPECT_EQ(hits[1].path, "/install");
    const json& ev = hits[0].form;
    EXPECT_EQ(ev["event"], "ONAPPINSTALL");
    EXPECT_EQ(ev["data"]["LANGUAGE_ID"], "de");
    EXPECT_EQ(ev["auth"]["application_token"], r.application_token);
    EXPECT_EQ(ev["auth"]["member_id"], portal->member_id());
    EXPECT_EQ(ev["auth"]["client_endpoint"], portal->endpoint());
    EXPECT_FALSE(ev["auth"]["refresh_token"].get<std::string>().empty());
    const json& page = hits[1].form;
    EXPECT_EQ(page["AUTH_ID"], r.admin_tokens.access_token);
    EXPECT_EQ(page["APPLICATION_TOKEN"], r.application_token);
    EXPECT_EQ(page["PLACEMENT"], "DEFAULT");
    EXPECT_EQ(page["SERVER_ENDPOINT"], cloud->server_endpoint());
    const json query = detail::ParseQueryString(hits[1].query);
    EXPECT_EQ(query["DOMAIN"], portal->domain());
    EXPECT_EQ(query["LANG"], "de");
    EXPECT_FALSE(query["APP_SID"].get<std::string>().empty());
    EXPECT_NE(query["APP_SID"], r.application_token);
    // Both token pairs work.
    EXPECT_EQ(Call(ev["auth"]["access_token"], "profile", json::object()).status, 200);
    EXPECT_EQ(Call(page["AUTH_ID"], "profile", json::object()).status, 200);
    EXPECT_FALSE(portal->IsInstallFinished(app.client_id));
    EXPECT_EQ(Call(page["AUTH_ID"], "app.info", json::object()).body["result"]["INSTALLED"], false);
}

TEST_F(Lifecycle, OnlyOneOfThemAndOnlyAdminsInstall) {
    InstallResult page_only = portal->InstallApp(app.client_id, 1, InstallFlow::kPageOnly);
    EXPECT_EQ(rec.HitsTo("/install").size(), 1u);
    EXPECT_EQ(rec.HitsTo("/lifecycle").size(), 0u);
    EXPECT_EQ(page_only.event_status, 0);
    User u;
    u.name = "Plain";
    const int64_t uid = portal->AddUser(u);
    EXPECT_THROW(portal->InstallApp(app.client_id, uid, InstallFlow::kEventOnly),
                 std::runtime_error);
}

TEST_F(Lifecycle, EventsAreDeliveredOnlyAfterInstallFinish) {
    InstallResult r = portal->InstallApp(app.client_id, 1, InstallFlow::kSilent);
    {
        // kSilent is finished at once; start from an unfinished install instead.
        portal->UninstallApp(app.client_id, false);
        r = portal->InstallApp(app.client_id, 1, InstallFlow::kPageOnly);
    }
    const std::string token = r.admin_tokens.access_token;
    ASSERT_EQ(
        Call(token, "event.bind", {{"event", "ONCRMCONTACTUPDATE"}, {"handler", rec.Url("/hook")}})
            .status,
        200);
    EXPECT_EQ(Call(token, "event.bind", {{"event", "ONCRMNOPE"}, {"handler", rec.Url("/hook")}})
                  .body["error"],
              "ERROR_EVENT_NOT_FOUND");
    Contact c;
    c.name = "A";
    const int64_t id = portal->Add(c);
    portal->Update<Contact>(id, [](Contact& x) { x.name = "B"; });
    ASSERT_TRUE(portal->WaitForEventsDelivered());
    EXPECT_EQ(rec.HitsTo("/hook").size(), 0u);
    portal->FinishInstall(app.client_id);
    EXPECT_EQ(Call(token, "app.info", json::object()).body["result"]["INSTALLED"], true);
    portal->Update<Contact>(
        id, [](Contact& x) { x.name = "C"; }, MutationContext{1, ""});
    ASSERT_TRUE(portal->WaitForEventsDelivered());
    const auto hooks = rec.HitsTo("/hook");
    ASSERT_EQ(hooks.size(), 1u);
    EXPECT_EQ(hooks[0].form["event"], "ONCRMCONTACTUPDATE");
    EXPECT_EQ(hooks[0].form["data"]["FIELDS"]["ID"], std::to_string(id));
    EXPECT_EQ(hooks[0].form["auth"]["application_token"], r.application_token);
    EXPECT_FALSE(hooks[0].form["auth"].contains("refresh_token"));
    EXPECT_EQ(portal->Counters().events_delivered, 1);
}

TEST_F(Lifecycle, OfflineQueueCollapsesAndSkipsOwnChanges) {
    InstallResult r = portal->InstallApp(app.client_id, 1, InstallFlow::kSilent);
    const std::string token = r.admin_tokens.access_token;
    EXPECT_EQ(
        Call(token, "feature.get", {{"CODE", "rest_offline_extended"}}).body["result"]["value"],
        "Y");
    ASSERT_EQ(
        Call(
            token, "event.bind",
            {{"event", "ONCRMCONTACTUPDATE"}, {"event_type", "offline"}, {"auth_connector", "seg"}})
            .status,
        200);
    Contact c;
    const int64_t a = portal->Add(c);
    const int64_t b = portal->Add(c);
    portal->Update<Contact>(a, [](Contact& x) { x.name = "1"; });
    portal->Update<Contact>(a, [](Contact& x) { x.name = "2"; });  // collapses with the first
    portal->Update<Contact>(b, [](Contact& x) { x.name = "3"; });
    // The app's own write with the matching connector stays out of its queue.
    ASSERT_EQ(Call(token, "crm.contact.update",
                   {{"id", b}, {"fields", {{"NAME", "mine"}}}, {"auth_connector", "seg"}})
                  .status,
              200);
    EXPECT_EQ(portal->OfflineQueueSize(app.client_id), 2u);

    Answer got = Call(token, "event.offline.get", {{"clear", 0}, {"limit", 1}});
    ASSERT_EQ(got.status, 200) << got.raw;
    const std::string process = got.body["result"]["process_id"];
    ASSERT_EQ(got.body["result"]["events"].size(), 1u);
    EXPECT_EQ(got.body["result"]["events"][0]["EVENT_DATA"]["FIELDS"]["ID"], a);
    // A parallel reader gets the other record, not the reserved one.
    Answer other = Call(token, "event.offline.get", {{"clear", 0}});
    ASSERT_EQ(other.body["result"]["events"].size(), 1u);
    EXPECT_EQ(other.body["result"]["events"][0]["EVENT_DATA"]["FIELDS"]["ID"], b);
    EXPECT_EQ(Call(token, "event.offline.list", json::object()).body["total"], 2);
    EXPECT_EQ(Call(token, "event.offline.clear", {{"process_id", process}}).status, 200);
    EXPECT_EQ(portal->OfflineQueueSize(app.client_id), 1u);
    Answer cleared = Call(token, "event.offline.get", json::object());
    EXPECT_EQ(cleared.body["result"]["events"].size(), 0u);  // the other one is still reserved
}

TEST_F(Lifecycle, UpdateRotatesTheApplicationTokenAndUninstallCleans) {
    InstallResult r = portal->InstallApp(app.client_id, 1, InstallFlow::kSilent);
    const std::string token = r.admin_tokens.access_token;
    ASSERT_EQ(Call(token, "placement.bind",
                   {{"PLACEMENT", "CRM_CONTACT_DETAIL_TAB"},
                    {"HANDLER", rec.Url("/tab")},
                    {"TITLE", "Segments"}})
                  .status,
              200);
    EXPECT_EQ(Call(token, "placement.bind",
                   {{"PLACEMENT", "NO_SUCH_PLACE"}, {"HANDLER", rec.Url("/tab")}})
                  .body["error"],
              "ERROR_PLACEMENT_NOT_FOUND");
    EXPECT_EQ(Call(token, "placement.get", json::object()).body["result"][0]["handler"],
              rec.Url("/tab"));
    EXPECT_EQ(Call(token, "app.option.set", {{"options", {{"k", "v"}}}}).status, 200);
    EXPECT_EQ(Call(token, "app.option.get", {{"option", "k"}}).body["result"], "v");
    const std::string new_token = portal->UpdateApp(app.client_id, "2");
    EXPECT_NE(new_token, r.application_token);
    auto updates = rec.HitsTo("/lifecycle");
    ASSERT_EQ(updates.size(), 1u);
    EXPECT_EQ(updates[0].form["event"], "ONAPPUPDATE");
    EXPECT_EQ(updates[0].form["auth"]["application_token"], new_token);
    EXPECT_EQ(updates[0].form["data"]["PREVIOUS_VERSION"], "1");
    portal->UninstallApp(app.client_id, true);
    updates = rec.HitsTo("/lifecycle");
    ASSERT_EQ(updates.size(), 2u);
    EXPECT_EQ(updates[1].form["event"], "ONAPPUNINSTALL");
    EXPECT_EQ(updates[1].form["data"]["CLEAN"], "1");
    EXPECT_FALSE(updates[1].form["auth"].contains("access_token"));
    EXPECT_EQ(Call(token, "profile", json::object()).body["error"], "invalid_token");
    EXPECT_TRUE(portal->Placements(app.client_id).empty());
    EXPECT_TRUE(portal->AppOptions(app.client_id).empty());
}

TEST_F(Lifecycle, NonAdminsCannotBindPlacementsOrOfflineEvents) {
    portal->InstallApp(app.client_id, 1, InstallFlow::kSilent);
    User u;
    u.name = "Plain";
    const int64_t uid = portal->AddUser(u);
    TokenPair t = portal->IssueTokens(app.client_id, uid);
    EXPECT_EQ(Call(t.access_token, "placement.bind",
                   {{"PLACEMENT", "CRM_ANALYTICS_MENU"}, {"HANDLER", rec.Url("/a")}})
                  .status,
              403);
    EXPECT_EQ(Call(t.access_token, "event.bind",
                   {{"event", "ONCRMCONTACTADD"}, {"event_type", "offline"}})
                  .status,
              403);
    EXPECT_EQ(Call(t.access_token, "event.bind",
                   {{"event", "ONCRMCONTACTADD"}, {"handler", rec.Url("/h")}})
                  .status,
              200);
    EXPECT_EQ(Call(t.access_token, "user.admin", json::object()).body["result"], false);
    Answer users = Call(t.access_token, "user.get", json::object());
    EXPECT_EQ(users.body["total"], 2);
}

TEST_F(Lifecycle, TwoPortalsDoNotShareTokens) {
    Portal& other = cloud->AddPortal();
    InstallResult a = portal->InstallApp(app.client_id, 1, InstallFlow::kSilent);
    InstallResult b = other.InstallApp(app.client_id, 1, InstallFlow::kSilent);
    EXPECT_NE(portal->member_id(), other.member_id());
    EXPECT_NE(a.application_token, b.application_token);
    Answer cross =
        PostJson(other.base_url(), "/rest/profile", {{"auth", a.admin_tokens.access_token}});
    EXPECT_EQ(cross.body["error"], "invalid_token");
    Answer refreshed =
        Get("http://" + cloud->host(),
            "/oauth/token/"
            "?grant_type=refresh_token&client_id=app.events&client_secret=secret&refresh_token=" +
                b.admin_tokens.refresh_token);
    EXPECT_EQ(refreshed.body["member_id"], other.member_id());
}

TEST_F(Lifecycle, ShellEndpointsAndStaticFiles) {
    support::TempDir dir;
    { std::ofstream(dir.File("index.html")) << "<html>shell</html>"; }
    portal->SetShellDir(dir.path().string());
    Answer root = Get(portal->base_url(), "/");
    EXPECT_EQ(root.status, 302);
    EXPECT_EQ(root.location, "/shell/index.html");
    Answer page = Get(portal->base_url(), "/shell/index.html");
    EXPECT_EQ(page.raw, "<html>shell</html>");
    EXPECT_EQ(Get(portal->base_url(), "/shell/../secret").status, 404);

    Answer info = Get(portal->base_url(), "/shell/api/info");
    EXPECT_EQ(info.body["domain"], portal->domain());
    EXPECT_EQ(info.body["app"]["installed"], false);
    EXPECT_EQ(info.body["users"][0]["admin"], true);

    // Opening a not-installed app installs it and points at the installer.
    Answer open =
        PostJson(portal->base_url(), "/shell/api/open-app", {{"userId", 1}, {"lang", "ru"}});
    ASSERT_EQ(open.status, 200) << open.raw;
    EXPECT_EQ(open.body["url"].get<std::string>().rfind(rec.Url("/install") + "?DOMAIN=", 0), 0u);
    EXPECT_EQ(open.body["fields"]["APPLICATION_TOKEN"], portal->ApplicationToken(app.client_id));
    EXPECT_EQ(rec.HitsTo("/lifecycle").size(), 1u);  // ONAPPINSTALL went out
    EXPECT_EQ(
        PostJson(portal->base_url(), "/shell/api/install-finish", json::object()).body["result"],
        true);
    Answer tab = PostJson(portal->base_url(), "/shell/api/open-app",
                          {{"userId", 1},
                           {"placement", "CRM_CONTACT_DETAIL_TAB"},
                           {"placementOptions", {{"ID", "5"}}}});
    EXPECT_EQ(tab.body["url"].get<std::string>().rfind(rec.Url("/app") + "?", 0), 0u);
    EXPECT_EQ(tab.body["fields"]["PLACEMENT_OPTIONS"], "{\"ID\":\"5\"}");
    Answer auth = PostJson(portal->base_url(), "/shell/api/auth", {{"userId", 1}});
    EXPECT_EQ(
        PostJson(portal->base_url(), "/rest/user.current", {{"auth", auth.body["access_token"]}})
            .status,
        200);
    EXPECT_EQ(auth.body["member_id"], portal->member_id());
}

}  // namespace
}  // namespace fakeportal::testing
