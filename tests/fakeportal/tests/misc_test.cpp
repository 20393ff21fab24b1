// The shared test helpers (tests/support) and the smaller REST methods.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "client.hpp"
#include "support/log_capture.hpp"
#include "support/scaled_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace fakeportal::testing {
namespace {

TEST(Support, ManualClockMovesOnlyWhenAdvanced) {
    support::ScaledClock clock(0, 1000.0);
    EXPECT_DOUBLE_EQ(clock.Now(), 1000.0);
    clock.Advance(5);
    clock.SleepFor(2.5);  // a manual clock advances instead of sleeping
    EXPECT_DOUBLE_EQ(clock.Now(), 1007.5);
    auto fn = clock.AsFunction();
    clock.Advance(1);
    EXPECT_DOUBLE_EQ(fn(), 1008.5);
}

TEST(Support, ScaledClockRunsFaster) {
    support::ScaledClock clock(1000.0, 0.0);
    const double before = clock.Now();
    EXPECT_TRUE(
        support::WaitUntil([&] { return clock.Now() - before >= 5.0; }, std::chrono::seconds(5)));
}

TEST(Support, TempDirIsRemoved) {
    std::filesystem::path kept;
    {
        support::TempDir dir("fp-test");
        kept = dir.path();
        std::ofstream(dir.File("a.txt")) << "x";
        EXPECT_TRUE(std::filesystem::exists(kept / "a.txt"));
    }
    EXPECT_FALSE(std::filesystem::exists(kept));
    EXPECT_GT(support::FreeLoopbackPort(), 0);
}

TEST(Support, LogCaptureSeesDefaultLoggerLines) {
    support::LogCapture capture;
    spdlog::info("hello {}", 42);
    EXPECT_TRUE(capture.Contains("hello 42"));
    EXPECT_FALSE(capture.Contains("secret-token"));
}

TEST(SmallMethods, UsersPagesAndAccess) {
    PortalOptions o;
    o.limits.enforce_bucket = false;
    PortalFixture f(o);
    for (int i = 0; i < 60; ++i) {
        User u;
        u.name = "User" + std::to_string(i);
        f.portal->AddUser(u);
    }
    Answer first = f.Call("user.get", json::object());
    EXPECT_EQ(first.body["result"].size(), 50u);
    EXPECT_EQ(first.body["total"], 61);
    EXPECT_EQ(first.body["next"], 50);
    Answer second = f.Call("user.get", {{"start", 50}});
    EXPECT_EQ(second.body["result"].size(), 11u);
    Answer one = f.Call("user.get", {{"ID", 5}});
    ASSERT_EQ(one.body["result"].size(), 1u);
    EXPECT_EQ(one.body["result"][0]["NAME"], "User3");
    TokenPair t = f.portal->IssueTokens(f.app.client_id, 5);
    EXPECT_EQ(f.CallAs(t.access_token, "user.access", {{"ACCESS", {"U5"}}}).body["result"], true);
    EXPECT_EQ(f.CallAs(t.access_token, "user.access", {{"ACCESS", {"U7", "G1"}}}).body["result"],
              false);
    EXPECT_EQ(f.CallAs(t.access_token, "profile", json::object()).body["result"]["ADMIN"], false);
    EXPECT_EQ(f.Call("user.current").body["result"]["ID"], "1");
}

TEST(SmallMethods, MergeBatchOverRest) {
    PortalFixture f;
    Contact a, b;
    a.name = "A";
    b.name = "B";
    const int64_t ia = f.portal->Add(a);
    const int64_t ib = f.portal->Add(b);
    Answer m = f.Call("crm.entity.mergeBatch",
                      {{"params", {{"entityTypeId", 3}, {"entityIds", {ia, ib}}}}});
    ASSERT_EQ(m.status, 200) << m.raw;
    EXPECT_EQ(m.body["result"]["STATUS"], "SUCCESS");
    EXPECT_EQ(m.body["result"]["ENTITY_IDS"], json::array({ib}));
    EXPECT_EQ(f.portal->Count<Contact>(), 1u);
}

TEST(SmallMethods, ScopesAreEnforced) {
    Cloud cloud({support::ScaledClock(0, 1e9).AsFunction(), 2});
    AppRegistration app;
    app.client_id = "narrow";
    app.client_secret = "s";
    app.scopes = {"basic"};
    cloud.RegisterApp(app);
    Portal& p = cloud.AddPortal();
    TokenPair t = p.InstallApp("narrow", 1, InstallFlow::kSilent).admin_tokens;
    Answer crm = PostJson(p.base_url(), "/rest/crm.contact.list", {{"auth", t.access_token}});
    EXPECT_EQ(crm.status, 403);
    EXPECT_EQ(crm.body["error"], "insufficient_scope");
    EXPECT_EQ(PostJson(p.base_url(), "/rest/profile", {{"auth", t.access_token}}).status, 200);
}

TEST(Concurrency, ParallelReadersAndWritersAgree) {
    PortalOptions o;
    o.limits.enforce_bucket = false;
    o.limits.enforce_operating = false;
    PortalFixture f(o);
    f.portal->BulkLoad([](CrmData& crm) {
        for (int i = 0; i < 400; ++i) {
            Contact c;
            c.company_ids = {};
            crm.Insert(c);
        }
    });
    std::atomic<int> failures{0};
    std::atomic<int> writes{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 30; ++i) {
                Answer a;
                if (i % 3 == 0) {
                    a = f.Call(
                        "crm.contact.update",
                        {{"id", t * 100 + i + 1}, {"fields", {{"NAME", "T" + std::to_string(t)}}}});
                    writes += a.status == 200 ? 1 : 0;
                } else if (i % 3 == 1) {
                    a = f.Call("crm.item.list",
                               {{"entityTypeId", 3}, {"filter", {{">id", i * 10}}}, {"start", -1}});
                    failures += a.body["result"]["items"].size() == 50 ? 0 : 1;
                } else {
                    json cmd = json::object();
                    cmd["a"] = "crm.contact.list?start=-1&filter[>ID]=0";
                    cmd["b"] = "crm.contact.list?start=-1&filter[>ID]=$result[a][49][ID]";
                    a = f.Call("batch", {{"cmd", cmd}});
                    failures += a.body["result"]["result"]["b"][0]["ID"] == "51" ? 0 : 1;
                }
                failures += a.status == 200 ? 0 : 1;
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(writes.load(), 40);
    const auto counters = f.portal->Counters();
    EXPECT_EQ(counters.writes.size(), 40u);
    EXPECT_EQ(counters.Method("batch").http_requests, 40);
    EXPECT_EQ(counters.Method("crm.contact.list").nested_calls, 80);
    EXPECT_EQ(f.portal->Get<Contact>(201)->name, "T2");
}

}  // namespace
}  // namespace fakeportal::testing
