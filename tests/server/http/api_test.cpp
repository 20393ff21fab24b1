// The JSON API against a synced portal: sessions, validation of every parameter, dashboard,
// lists with rights, CSV, the card tab, status, runs, clear-and-refresh and settings.
#include <set>

#include <gtest/gtest.h>

#include "http/rights.hpp"
#include "http/util.hpp"
#include "session.hpp"
#include "support/wait.hpp"
#include "world.hpp"

namespace httptest {
namespace {

const std::vector<std::pair<std::string, std::vector<std::string>>>& Modes() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> modes = {
        {"directories", {"contacts", "companies"}},
        {"clients", {"all", "b2b", "b2c"}},
        {"payments", {"active", "sleeping", "lost"}},
        {"frequency", {"regular", "first", "none"}},
        {"no_payments", {"requests", "dialogs", "contacts", "no_contacts"}}};
    return modes;
}

std::string Enc(const std::string& s) {
    return server::http::UrlEncode(s);
}

class Api : public ::testing::Test {
protected:
    void SetUp() override {
        w_ = &World::Get();
        p_ = &w_->Main();
        admin_ = w_->Open(*p_, p_->admin_id).session();
        manager_ = w_->Open(*p_, p_->manager_id).session();
        ASSERT_FALSE(admin_.empty());
        ASSERT_FALSE(manager_.empty());
    }
    json Get(const std::string& path, const std::string& session) {
        Answer a = w_->Api("GET", path, session);
        EXPECT_EQ(a.status, 200) << path << " " << a.body;
        return a.Json();
    }
    int Status(const std::string& method,
               const std::string& path,
               const std::string& session,
               const std::string& body = "",
               const std::string& type = "application/json") {
        return w_->Api(method, path, session, body, type).status;
    }
    // Every item of a list (all pages).
    std::vector<json> All(const std::string& mode,
                          const std::string& series,
                          const std::string& session,
                          const std::string& q = "") {
        std::vector<json> out;
        for (int page = 1; page < 1000; ++page) {
            json r = Get("/api/list?mode=" + mode + "&series=" + series + "&q=" + Enc(q) +
                             "&pageSize=100&page=" + std::to_string(page),
                         session);
            for (const auto& item : r["items"]) {
                out.push_back(item);
            }
            if (r["items"].size() < 100) {
                break;
            }
        }
        return out;
    }

    World* w_ = nullptr;
    TestPortal* p_ = nullptr;
    std::string admin_;
    std::string manager_;
};

TEST_F(Api, SessionsAreRequiredAndChecked) {
    EXPECT_EQ(Status("GET", "/api/me", ""), 401);
    Answer none = w_->Api("GET", "/api/dashboard", "");
    EXPECT_EQ(none.Json()["error"]["code"], "unauthorized");
    std::string forged = admin_;
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(w_->Api("GET", "/api/me", forged).Json()["error"]["code"], "unauthorized");
    EXPECT_EQ(w_->Api("GET", "/api/me", "not-a-session").status, 401);
    // A well-signed session whose time is over.
    server::SessionSigner signer(w_->app().config().session_key);
    server::Session s;
    s.member_id = p_->member_id;
    s.user_id = 1;
    s.is_admin = true;
    s.expires_at = static_cast<std::int64_t>(std::time(nullptr)) - 5;
    s.sid = "expired-sid";
    Answer expired = w_->Api("GET", "/api/me", signer.Issue(s));
    EXPECT_EQ(expired.status, 401);
    EXPECT_EQ(expired.Json()["error"]["code"], "session_expired");
    // Signed with another key: forged.
    server::SessionSigner other("another-key-0123456789abcdef0123456789");
    s.expires_at += 3600;
    EXPECT_EQ(w_->Api("GET", "/api/me", other.Issue(s)).Json()["error"]["code"], "unauthorized");
    // A session of an unknown portal.
    s.member_id = "00000000000000000000000000000000";
    EXPECT_EQ(w_->Api("GET", "/api/me", signer.Issue(s)).status, 401);

    json me = Get("/api/me", manager_);
    EXPECT_EQ(me["user"]["id"], p_->manager_id);
    EXPECT_EQ(me["user"]["isAdmin"], false);
    EXPECT_EQ(me["portal"]["domain"], p_->portal->domain());
    EXPECT_EQ(me["lang"], "en");
    EXPECT_EQ(Status("GET", "/api/me?x=1", manager_), 400);
}

TEST_F(Api, SessionRefreshTradesAFreshAuthId) {
    auto fresh = p_->portal->IssueTokens(w_->client_id(), p_->manager_id);
    // As the frontend does it: no old session, only the portal's fresh token.
    Answer a =
        w_->Api("POST", "/api/session/refresh", "", json{{"authId", fresh.access_token}}.dump());
    ASSERT_EQ(a.status, 200) << a.body;
    std::string session = a.Json()["session"];
    EXPECT_GT(a.Json()["sessionExpiresAt"].get<std::int64_t>(), std::time(nullptr));
    json me = Get("/api/me", session);
    EXPECT_EQ(me["user"]["id"], p_->manager_id);
    EXPECT_EQ(me["user"]["isAdmin"], false);
    // With an old session of another user, the token must be that user's.
    Answer mismatch = w_->Api("POST", "/api/session/refresh", admin_,
                              json{{"authId", fresh.access_token}}.dump());
    EXPECT_EQ(mismatch.status, 401);
    EXPECT_EQ(Status("POST", "/api/session/refresh", "", json{{"authId", "nope"}}.dump()), 401);
    EXPECT_EQ(Status("POST", "/api/session/refresh", "", "{"), 400);
    EXPECT_EQ(Status("POST", "/api/session/refresh", "", "[]"), 400);
    EXPECT_EQ(Status("POST", "/api/session/refresh", "", json{{"authId", 5}}.dump()), 400);
    EXPECT_EQ(Status("POST", "/api/session/refresh", "", json::object().dump()), 400);
    EXPECT_EQ(Status("POST", "/api/session/refresh", "", json{{"authId", "a"}, {"more", 1}}.dump()),
              400);
    EXPECT_EQ(
        Status("POST", "/api/session/refresh", "", "authId=x", "application/x-www-form-urlencoded"),
        400);
}

TEST_F(Api, DashboardIsCompleteAndTheSameForEveryone) {
    json a = Get("/api/dashboard", admin_);
    json m = Get("/api/dashboard", manager_);
    EXPECT_EQ(a["modes"], m["modes"]);
    EXPECT_EQ(a["months"], m["months"]);
    ASSERT_GT(a["months"].size(), 24U);
    EXPECT_EQ(a["sync"]["firstRunDone"], true);
    EXPECT_TRUE(a["sync"]["lastFinishedAt"].is_string());
    EXPECT_TRUE(a["asOf"].is_string());
    ASSERT_EQ(a["modes"].size(), Modes().size());
    std::size_t months = a["months"].size();
    for (std::size_t i = 0; i < Modes().size(); ++i) {
        const json& mode = a["modes"][i];
        EXPECT_EQ(mode["id"], Modes()[i].first);
        ASSERT_EQ(mode["series"].size(), Modes()[i].second.size());
        for (std::size_t k = 0; k < Modes()[i].second.size(); ++k) {
            const json& s = mode["series"][k];
            EXPECT_EQ(s["id"], Modes()[i].second[k]);
            ASSERT_EQ(s["values"].size(), months);
            EXPECT_EQ(s["count"], s["values"].back());
        }
    }
    // Months are consecutive.
    for (std::size_t i = 1; i < months; ++i) {
        EXPECT_LT(a["months"][i - 1].get<std::string>(), a["months"][i].get<std::string>());
    }
    EXPECT_EQ(Status("GET", "/api/dashboard?page=1", admin_), 400);
}

TEST_F(Api, ListTotalsMatchTheDashboardCounts) {
    json dash = Get("/api/dashboard", admin_);
    for (const auto& mode : dash["modes"]) {
        for (const auto& series : mode["series"]) {
            json list = Get("/api/list?mode=" + mode["id"].get<std::string>() +
                                "&series=" + series["id"].get<std::string>(),
                            admin_);
            EXPECT_EQ(list["total"], series["count"]) << mode["id"] << "." << series["id"];
            EXPECT_EQ(list["restricted"], false);
        }
    }
}

TEST_F(Api, ListParametersAreValidated) {
    const std::string base = "/api/list?mode=payments&series=active";
    EXPECT_EQ(Status("GET", base, admin_), 200);
    Answer no_mode = w_->Api("GET", "/api/list?series=active", admin_);
    EXPECT_EQ(no_mode.status, 400);
    EXPECT_NE(no_mode.Json()["error"]["message"].get<std::string>().find("mode"),
              std::string::npos);
    EXPECT_EQ(Status("GET", "/api/list?mode=payments", admin_), 400);
    Answer bad_series = w_->Api("GET", "/api/list?mode=payments&series=b2b", admin_);
    EXPECT_EQ(bad_series.status, 400);
    EXPECT_NE(bad_series.Json()["error"]["message"].get<std::string>().find("series"),
              std::string::npos);
    EXPECT_EQ(Status("GET", "/api/list?mode=nope&series=active", admin_), 400);
    for (const char* bad :
         {"&page=0", "&page=-1", "&page=x", "&page=1.5", "&pageSize=0", "&pageSize=101",
          "&pageSize=abc", "&page=1&page=2", "&foo=bar", "&q=%00", "&q=%FF%FE"}) {
        EXPECT_EQ(Status("GET", base + bad, admin_), 400) << bad;
    }
    EXPECT_EQ(Status("GET", base + "&q=" + std::string(201, 'a'), admin_), 400);
    EXPECT_EQ(Status("GET", base + "&q=" + std::string(200, 'a'), admin_), 200);
    EXPECT_EQ(Status("GET", "/api/list.csv?mode=payments&series=active&page=1", admin_), 400);
    EXPECT_EQ(Status("GET", "/api/list.csv?series=active", admin_), 400);
}

TEST_F(Api, PagingIsConsistent) {
    json one = Get("/api/list?mode=directories&series=contacts&pageSize=10&page=1", admin_);
    json two = Get("/api/list?mode=directories&series=contacts&pageSize=10&page=2", admin_);
    ASSERT_EQ(one["items"].size(), 10U);
    EXPECT_EQ(one["page"], 1);
    EXPECT_EQ(one["pageSize"], 10);
    EXPECT_EQ(one["total"], two["total"]);
    std::set<std::int64_t> ids;
    for (const auto& item : one["items"]) {
        ids.insert(item["id"].get<std::int64_t>());
    }
    for (const auto& item : two["items"]) {
        EXPECT_EQ(ids.count(item["id"].get<std::int64_t>()), 0U);
    }
    auto all = All("directories", "contacts", admin_);
    EXPECT_EQ(static_cast<std::int64_t>(all.size()), one["total"].get<std::int64_t>());
    json past = Get("/api/list?mode=directories&series=contacts&pageSize=10&page=999", admin_);
    EXPECT_TRUE(past["items"].empty());
    // An item has the documented shape.
    const json& item = one["items"][0];
    for (const char* key :
         {"kind", "id", "name", "phones", "emails", "company", "assignedBy", "createdAt",
          "lifecycle", "clientType", "frequency", "lastPayment", "payments", "path"}) {
        EXPECT_TRUE(item.contains(key)) << key;
    }
    EXPECT_EQ(item["path"], "/crm/contact/details/" + std::to_string(item["id"].get<int>()) + "/");
}

TEST_F(Api, ItemsCarryTheirSegmentValues) {
    auto active = All("payments", "active", admin_);
    ASSERT_FALSE(active.empty());
    for (const auto& item : active) {
        EXPECT_EQ(item["lifecycle"], "ACTIVE");
        EXPECT_TRUE(item["lastPayment"].is_string());
        EXPECT_GE(item["payments"].get<int>(), 1);
        // Clients only: a contact in this list is a B2C client, never a member.
        if (item["kind"] == "contact") {
            EXPECT_TRUE(item["company"].is_null());
            EXPECT_EQ(item["clientType"], "B2C");
        } else {
            EXPECT_EQ(item["clientType"], "B2B");
        }
    }
    // Latest payment first.
    for (std::size_t i = 1; i < active.size(); ++i) {
        EXPECT_GE(active[i - 1]["lastPayment"].get<std::string>().substr(0, 10),
                  active[i]["lastPayment"].get<std::string>().substr(0, 10));
    }
    // Members appear in the contacts directory with their company.
    auto contacts = All("directories", "contacts", admin_);
    int members = 0;
    for (const auto& item : contacts) {
        if (item["company"].is_object()) {
            ++members;
            EXPECT_FALSE(item["company"]["name"].get<std::string>().empty());
        }
    }
    EXPECT_GT(members, 0);
}

TEST_F(Api, SearchFindsNamesPhonesEmailsAndCompanies) {
    // Phone digits, whatever the formatting.
    auto by_phone = All("directories", "contacts", admin_, "765-43 21");
    ASSERT_EQ(by_phone.size(), 1U);
    EXPECT_EQ(by_phone[0]["name"].get<std::string>().rfind("=HYPERLINK", 0), 0U);
    // E-mail, case-insensitive.
    auto by_email = All("directories", "contacts", admin_, "ANNA.QUOTE@");
    ASSERT_EQ(by_email.size(), 1U);
    // Name fragment, case-folded.
    auto contacts = All("directories", "contacts", admin_);
    std::string name;
    for (const auto& c : contacts) {
        if (c["company"].is_null() && c["name"].get<std::string>().size() > 6 &&
            c["name"].get<std::string>()[0] != '=' && c["name"].get<std::string>()[0] != '<') {
            name = c["name"];
            break;
        }
    }
    ASSERT_FALSE(name.empty());
    std::string fragment = server::http::AsciiUpper(name.substr(1, 4));
    auto by_name = All("directories", "contacts", admin_, fragment);
    bool found = false;
    for (const auto& c : by_name) {
        found = found || c["name"] == name;
    }
    EXPECT_TRUE(found) << fragment;
    EXPECT_LT(by_name.size(), contacts.size());
    // A member contact is found by its company's name.
    std::string company;
    std::int64_t member_id = 0;
    for (const auto& c : contacts) {
        if (c["company"].is_object()) {
            company = c["company"]["name"];
            member_id = c["id"];
            break;
        }
    }
    ASSERT_FALSE(company.empty());
    auto by_company = All("directories", "contacts", admin_, company);
    found = false;
    for (const auto& c : by_company) {
        found = found || c["id"] == member_id;
    }
    EXPECT_TRUE(found) << company;
    EXPECT_TRUE(All("directories", "contacts", admin_, "zzzz-no-such-client-zzzz").empty());
}

TEST_F(Api, ANonAdminSeesSearchesAndExportsOnlyTheirClients) {
    auto mine = All("directories", "contacts", manager_);
    auto everyone = All("directories", "contacts", admin_);
    ASSERT_FALSE(mine.empty());
    EXPECT_LT(mine.size(), everyone.size());
    for (const auto& item : mine) {
        EXPECT_EQ(item["assignedBy"]["id"], p_->manager_id) << item["id"];
    }
    json page = Get("/api/list?mode=directories&series=contacts", manager_);
    EXPECT_EQ(page["restricted"], true);
    EXPECT_EQ(page["total"].get<std::size_t>(), mine.size());
    // Every series: the manager's total never exceeds the admin's, counts stay global.
    for (const auto& [mode, series_list] : Modes()) {
        for (const auto& series : series_list) {
            json m = Get("/api/list?mode=" + mode + "&series=" + series, manager_);
            json a = Get("/api/list?mode=" + mode + "&series=" + series, admin_);
            EXPECT_LE(m["total"], a["total"]) << mode << "." << series;
            for (const auto& item : m["items"]) {
                EXPECT_EQ(item["assignedBy"]["id"], p_->manager_id);
            }
        }
    }
    // Search only within their own.
    auto found = All("directories", "contacts", manager_, "anna.quote@");
    ASSERT_EQ(found.size(), 1U);  // theirs
    for (const auto& item : All("directories", "companies", manager_, "o")) {
        EXPECT_EQ(item["assignedBy"]["id"], p_->manager_id);
    }
    // Export: the same rows.
    Answer csv = w_->Api("GET", "/api/list.csv?mode=directories&series=contacts", manager_);
    ASSERT_EQ(csv.status, 200);
    std::size_t lines = 0;
    for (char c : csv.body) {
        lines += c == '\n' ? 1 : 0;
    }
    EXPECT_EQ(lines, mine.size() + 1);
    // The readable set is fetched once and reused.
    auto walks = w_->app().rights().walks();
    Get("/api/list?mode=payments&series=active", manager_);
    Get("/api/list?mode=payments&series=lost", manager_);
    EXPECT_EQ(w_->app().rights().walks(), walks);
}

TEST_F(Api, CsvIsUtf8WithBomSemicolonsAndNoFormulas) {
    Answer csv = w_->Api("GET", "/api/list.csv?mode=directories&series=contacts", admin_);
    ASSERT_EQ(csv.status, 200);
    EXPECT_EQ(csv.Header("Content-Type"), "text/csv; charset=utf-8");
    EXPECT_EQ(csv.Header("Content-Disposition"),
              "attachment; filename=\"b24seg-directories-contacts.csv\"");
    ASSERT_GE(csv.body.size(), 3U);
    EXPECT_EQ(csv.body.substr(0, 3), "\xEF\xBB\xBF");
    std::string header = csv.body.substr(3, csv.body.find("\r\n") - 3);
    EXPECT_EQ(header.rfind("Type;ID;Name;Phones;", 0), 0U) << header;
    // The formula-named contact is neutralised, the quoted one escaped.
    EXPECT_NE(csv.body.find(";\"'=HYPERLINK(\"\"http://evil.example\"\";\"\"x\"\")\";"),
              std::string::npos);
    EXPECT_EQ(csv.body.find(";=HYPERLINK"), std::string::npos);
    EXPECT_NE(csv.body.find("\"Anna \"\"Quote\"\"; Semicolon\""), std::string::npos);
    // Phones starting with '+' are not formulas either.
    EXPECT_NE(csv.body.find(";'+7 (495) 765-43-21;"), std::string::npos);
    // Links are absolute, to the portal.
    EXPECT_NE(csv.body.find(p_->portal->base_url() + "/crm/contact/details/"), std::string::npos);
    // A Russian user gets a Russian header.
    std::string ru = w_->Open(*p_, 1, "DEFAULT", json::object(), "ru").session();
    Answer ru_csv = w_->Api("GET", "/api/list.csv?mode=payments&series=active", ru);
    EXPECT_EQ(ru_csv.body.substr(3, 7), "Тип;");
    EXPECT_EQ(ru_csv.Header("Content-Disposition"),
              "attachment; filename=\"b24seg-payments-active.csv\"");
}

TEST_F(Api, ClientDetailForTheCardTab) {
    // A company client with payments.
    auto active = All("payments", "active", admin_);
    json company_item;
    for (const auto& item : active) {
        if (item["kind"] == "company") {
            company_item = item;
            break;
        }
    }
    ASSERT_TRUE(company_item.is_object());
    std::int64_t id = company_item["id"];
    json c = Get("/api/client?kind=company&id=" + std::to_string(id), admin_);
    EXPECT_EQ(c["kind"], "company");
    EXPECT_EQ(c["id"], id);
    EXPECT_EQ(c["name"], company_item["name"]);
    EXPECT_EQ(c["role"], "client");
    EXPECT_EQ(c["clientType"], "B2B");
    EXPECT_EQ(c["lifecycle"], "ACTIVE");
    EXPECT_EQ(c["lastPayment"], company_item["lastPayment"]);
    EXPECT_EQ(c["payments"], company_item["payments"]);
    ASSERT_EQ(c["paymentsList"].size(), c["payments"].get<std::size_t>());
    for (std::size_t i = 1; i < c["paymentsList"].size(); ++i) {
        EXPECT_GE(c["paymentsList"][i - 1]["date"].get<std::string>(),
                  c["paymentsList"][i]["date"].get<std::string>());
    }
    const json& pay = c["paymentsList"][0];
    EXPECT_EQ(pay["date"], c["lastPayment"]);
    EXPECT_TRUE(pay["source"] == "deal" || pay["source"] == "invoice");
    EXPECT_TRUE(c["members"].is_array());
    EXPECT_TRUE(c["dialogs"]["count"].is_number_integer());
    EXPECT_TRUE(c["channels"].is_array());

    // A member contact: role member, its company's segment.
    auto contacts = All("directories", "contacts", admin_);
    for (const auto& item : contacts) {
        if (item["company"].is_object()) {
            json m =
                Get("/api/client?kind=contact&id=" + std::to_string(item["id"].get<int>()), admin_);
            EXPECT_EQ(m["role"], "member");
            EXPECT_EQ(m["parentCompany"]["id"], item["company"]["id"]);
            EXPECT_FALSE(m.contains("members"));
            break;
        }
    }
    // Validation and absence.
    EXPECT_EQ(Status("GET", "/api/client?kind=deal&id=1", admin_), 400);
    EXPECT_EQ(Status("GET", "/api/client?kind=contact&id=0", admin_), 400);
    EXPECT_EQ(Status("GET", "/api/client?kind=contact&id=abc", admin_), 400);
    EXPECT_EQ(Status("GET", "/api/client?kind=contact", admin_), 400);
    EXPECT_EQ(Status("GET", "/api/client?kind=contact&id=99999999", admin_), 404);
}

TEST_F(Api, TheCardTabRespectsTheUsersRights) {
    auto mine = All("directories", "contacts", manager_);
    ASSERT_FALSE(mine.empty());
    std::int64_t own = mine[0]["id"];
    EXPECT_EQ(Status("GET", "/api/client?kind=contact&id=" + std::to_string(own), manager_), 200);
    std::int64_t foreign = 0;
    for (const auto& item : All("directories", "contacts", admin_)) {
        if (item["assignedBy"]["id"] != p_->manager_id) {
            foreign = item["id"];
            break;
        }
    }
    ASSERT_NE(foreign, 0);
    Answer denied =
        w_->Api("GET", "/api/client?kind=contact&id=" + std::to_string(foreign), manager_);
    EXPECT_EQ(denied.status, 403);
    EXPECT_EQ(denied.Json()["error"]["code"], "forbidden");
    // The admin reads it.
    EXPECT_EQ(Status("GET", "/api/client?kind=contact&id=" + std::to_string(foreign), admin_), 200);
}

TEST_F(Api, StatusAndRuns) {
    json s = Get("/api/status", manager_);
    EXPECT_TRUE(s["state"] == "idle" || s["state"] == "queued" || s["state"] == "running");
    EXPECT_EQ(s["firstRunDone"], true);
    ASSERT_TRUE(s["run"].is_object());
    for (const char* key : {"id", "kind", "phase", "monthsDone", "monthsTotal", "rows", "requests",
                            "cardsWritten", "cardsToWrite", "startedAt"}) {
        EXPECT_TRUE(s["run"].contains(key)) << key;
    }
    EXPECT_TRUE(s["error"].is_null());
    json runs = Get("/api/runs", admin_);
    ASSERT_FALSE(runs["items"].empty());
    const json& first = runs["items"].back();
    EXPECT_EQ(first["kind"], "first");
    EXPECT_EQ(first["state"], "done");
    EXPECT_TRUE(first["error"].is_null());
    EXPECT_GT(first["rows"].get<int>(), 100);
    EXPECT_EQ(Status("GET", "/api/status?x=1", admin_), 400);
}

TEST_F(Api, AdminOnlyCallsAreRefusedToOthers) {
    EXPECT_EQ(Status("GET", "/api/runs", manager_), 403);
    EXPECT_EQ(Status("POST", "/api/runs", manager_, "{}"), 403);
    Answer clear = w_->Api("POST", "/api/clear-refresh", manager_, "{}");
    EXPECT_EQ(clear.status, 403);
    EXPECT_EQ(clear.Json()["error"]["code"], "forbidden");
    EXPECT_EQ(Status("PUT", "/api/settings", manager_,
                     json{{"activeMonths", 3}, {"lostMonths", 9}}.dump()),
              403);
    // Nothing changed.
    EXPECT_EQ(w_->app().registry().Find(p_->member_id)->active_months, 6);
    json settings = Get("/api/settings", manager_);
    EXPECT_EQ(settings, (json{{"activeMonths", 6}, {"lostMonths", 18}}));
}

TEST_F(Api, SettingsAreValidatedAndTriggerARecompute) {
    for (const std::string& bad :
         {std::string("{}"), std::string("{\"activeMonths\":6}"),
          std::string("{\"activeMonths\":18,\"lostMonths\":6}"),
          std::string("{\"activeMonths\":6,\"lostMonths\":6}"),
          std::string("{\"activeMonths\":0,\"lostMonths\":6}"),
          std::string("{\"activeMonths\":6,\"lostMonths\":121}"),
          std::string("{\"activeMonths\":\"6\",\"lostMonths\":18}"),
          std::string("{\"activeMonths\":6.5,\"lostMonths\":18}"),
          std::string("{\"activeMonths\":6,\"lostMonths\":18,\"x\":1}"), std::string("[6,18]"),
          std::string("{\"activeMonths\":6,"), std::string("null")}) {
        Answer a = w_->Api("PUT", "/api/settings", admin_, bad);
        EXPECT_EQ(a.status, 400) << bad;
        EXPECT_EQ(a.Json()["error"]["code"], "bad_request") << bad;
    }
    EXPECT_EQ(Status("PUT", "/api/settings", admin_, "activeMonths=3", "text/plain"), 400);
    EXPECT_EQ(w_->app().registry().Find(p_->member_id)->active_months, 6);
    ASSERT_TRUE(w_->WaitIdle(p_->member_id));

    auto runs_before = Get("/api/runs", admin_)["items"].size();
    Answer ok = w_->Api("PUT", "/api/settings", admin_,
                        json{{"activeMonths", 3}, {"lostMonths", 9}}.dump());
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.Json(), (json{{"activeMonths", 3}, {"lostMonths", 9}}));
    EXPECT_EQ(Get("/api/settings", manager_), (json{{"activeMonths", 3}, {"lostMonths", 9}}));
    ASSERT_TRUE(support::WaitUntil(
        [&] {
            json runs = Get("/api/runs", admin_);
            return runs["items"].size() > runs_before && runs["items"][0]["kind"] == "recompute" &&
                   runs["items"][0]["state"] == "done";
        },
        std::chrono::seconds(60)));
    // Back to the defaults for the other tests.
    ASSERT_EQ(Status("PUT", "/api/settings", admin_,
                     json{{"activeMonths", 6}, {"lostMonths", 18}}.dump()),
              200);
    ASSERT_TRUE(support::WaitUntil(
        [&] {
            json runs = Get("/api/runs", admin_);
            return runs["items"][0]["kind"] == "recompute" && runs["items"][0]["state"] == "done" &&
                   w_->app().jobs().StateOf(p_->member_id).empty();
        },
        std::chrono::seconds(60)));
}

TEST_F(Api, RunsAreStartedByAdminsOneAtATime) {
    ASSERT_TRUE(w_->WaitIdle(p_->member_id));
    EXPECT_EQ(Status("POST", "/api/runs", admin_, "{\"full\":\"yes\"}"), 400);
    EXPECT_EQ(Status("POST", "/api/runs", admin_, "{\"fast\":true}"), 400);
    EXPECT_EQ(Status("POST", "/api/runs", admin_, "{nope"), 400);
    EXPECT_EQ(Status("POST", "/api/runs", admin_, "{}", "text/plain"), 400);
    Answer started = w_->Api("POST", "/api/runs", admin_, "{\"full\":false}");
    ASSERT_EQ(started.status, 202) << started.body;
    json s = started.Json();
    EXPECT_TRUE(s["state"] == "queued" || s["state"] == "running") << s;
    Answer again = w_->Api("POST", "/api/runs", admin_, "{}");
    // Unless the first already finished (tiny portal), a second one is a conflict.
    if (!w_->app().jobs().StateOf(p_->member_id).empty()) {
        EXPECT_EQ(again.status, 409);
        EXPECT_EQ(again.Json()["error"]["code"], "conflict");
    }
    ASSERT_TRUE(w_->WaitIdle(p_->member_id));
    json runs = Get("/api/runs", admin_);
    EXPECT_EQ(runs["items"][0]["state"], "done");
}

TEST(ClearRefresh, RebuildsThePortalFromScratch) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(401);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    std::string admin = w.Open(p, 1).session();
    json before = w.Api("GET", "/api/dashboard", admin).Json();
    Answer a = w.Api("POST", "/api/clear-refresh", admin, "");
    ASSERT_EQ(a.status, 202) << a.body;
    ASSERT_TRUE(support::WaitUntil(
        [&] {
            json runs = w.Api("GET", "/api/runs", admin).Json();
            return runs["items"][0]["kind"] == "full" && runs["items"][0]["state"] == "done";
        },
        std::chrono::seconds(60)));
    json after = w.Api("GET", "/api/dashboard", admin).Json();
    EXPECT_EQ(after["modes"], before["modes"]);
    EXPECT_EQ(w.Api("POST", "/api/clear-refresh", admin, "{\"x\":1}").status, 400);
}

TEST(Rights, AnExpiredUserTokenAsksForANewSession) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(402);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    std::string manager = w.Open(p, p.manager_id).session();
    p.portal->ExpireAccessTokens();
    Answer a = w.Api("GET", "/api/list?mode=directories&series=contacts", manager);
    EXPECT_EQ(a.status, 401);
    EXPECT_EQ(a.Json()["error"]["code"], "session_expired");
    // The page then trades a fresh AUTH_ID and goes on.
    auto fresh = p.portal->IssueTokens(w.client_id(), p.manager_id);
    Answer r =
        w.Api("POST", "/api/session/refresh", "", json{{"authId", fresh.access_token}}.dump());
    ASSERT_EQ(r.status, 200);
    Answer b = w.Api("GET", "/api/list?mode=directories&series=contacts",
                     r.Json()["session"].get<std::string>());
    EXPECT_EQ(b.status, 200);
    EXPECT_EQ(b.Json()["restricted"], true);
}

}  // namespace
}  // namespace httptest
