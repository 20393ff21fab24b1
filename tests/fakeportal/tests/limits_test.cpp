// Limits: leaky bucket, operating time per method, request cap, faults, rename, scaled clock.
#include "limits.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include "client.hpp"
#include "support/scaled_clock.hpp"

namespace fakeportal::testing {
namespace {

TEST(LeakyBucketMath, BurstThenDrain) {
    LeakyBucket b;
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(b.Admit(100.0, 50, 2));
    }
    EXPECT_FALSE(b.Admit(100.0, 50, 2));
    EXPECT_FALSE(b.Admit(100.4, 50, 2));
    EXPECT_TRUE(b.Admit(100.5, 50, 2));  // one request drained
    EXPECT_NEAR(b.Level(110.5, 2), 30.0, 1e-9);
}

TEST(OperatingLedgerMath, TenMinuteSlidingWindow) {
    OperatingLedger l;
    l.Charge(1000, 600, 100);
    l.Charge(1030, 600, 50);   // same one-minute bucket
    l.Charge(1100, 600, 200);  // next bucket
    EXPECT_DOUBLE_EQ(l.Sum(1200, 600), 350);
    EXPECT_DOUBLE_EQ(l.ResetAt(1200, 600), 1600);
    EXPECT_DOUBLE_EQ(l.Sum(1600, 600), 200);  // the first bucket dropped out
    EXPECT_DOUBLE_EQ(l.Sum(1700, 600), 0);
}

TEST(Limits, BucketRefusesAboveBurstAndDrains) {
    PortalFixture f;  // manual clock: nothing drains unless advanced
    for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(f.Call("profile").status, 200) << i;
    }
    Answer refused = f.Call("profile");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.body["error"], "QUERY_LIMIT_EXCEEDED");
    f.clock.Advance(1.0);  // 2 per second drain
    EXPECT_EQ(f.Call("profile").status, 200);
    EXPECT_EQ(f.Call("profile").status, 200);
    EXPECT_EQ(f.Call("profile").status, 503);
    EXPECT_EQ(f.portal->Counters().query_limit_exceeded, 2);
}

TEST(Limits, EnterprisePlanHasALargerBucket) {
    PortalOptions o;
    o.plan = EnterprisePlan();
    PortalFixture f(o);
    for (int i = 0; i < 250; ++i) {
        ASSERT_EQ(f.Call("user.admin").status, 200) << i;
    }
    EXPECT_EQ(f.Call("user.admin").status, 503);
    EXPECT_EQ(f.Call("app.info").status, 503);
}

TEST(Limits, BatchCountsOnceAgainstTheBucket) {
    PortalFixture f;
    json cmd = json::object();
    for (int i = 0; i < 50; ++i) {
        cmd["c" + std::to_string(i)] = "user.admin";
    }
    for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(f.Call("batch", {{"cmd", cmd}}).status, 200);
    }
    EXPECT_EQ(f.Call("batch", {{"cmd", cmd}}).status, 503);
    EXPECT_EQ(f.portal->Counters().Method("user.admin").nested_calls, 2500);
}

TEST(Limits, OperatingTimeBlocksOnlyTheMethodThatCrossedIt) {
    PortalOptions o;
    o.limits.enforce_bucket = false;
    o.limits.operating_limit_seconds = 1.0;
    o.costs.get = 0.4;
    PortalFixture f(o);
    f.portal->BulkLoad([](CrmData& crm) { crm.Insert(Contact{}); });
    EXPECT_EQ(f.Call("crm.contact.get", {{"id", 1}}).status, 200);  // 0.4
    EXPECT_EQ(f.Call("crm.contact.get", {{"id", 1}}).status, 200);  // 0.8
    Answer crossing = f.Call("crm.contact.get", {{"id", 1}});       // 1.2: finishes
    EXPECT_EQ(crossing.status, 200);
    EXPECT_NEAR(crossing.body["time"]["operating"].get<double>(), 1.2, 1e-9);
    Answer blocked = f.Call("crm.contact.get", {{"id", 1}});
    EXPECT_EQ(blocked.status, 429);
    EXPECT_EQ(blocked.body["error"], "OPERATION_TIME_LIMIT");
    EXPECT_EQ(f.Call("crm.contact.list").status, 200);  // other methods go on
    // Inside a batch the refusal is the command's result_error.
    Answer batch = f.Call("batch", {{"cmd", {{"g", "crm.contact.get?id=1"}, {"p", "profile"}}}});
    EXPECT_EQ(batch.body["result"]["result_error"]["g"]["error"], "OPERATION_TIME_LIMIT");
    EXPECT_EQ(batch.body["result"]["result"]["p"]["ID"], "1");
    f.clock.Advance(601);
    EXPECT_EQ(f.Call("crm.contact.get", {{"id", 1}}).status, 200);
    EXPECT_EQ(f.portal->Counters().operation_time_limit, 2);
}

TEST(Limits, CountedListsCostMoreThanStartMinusOne) {
    PortalOptions o;
    o.limits.enforce_bucket = false;
    PortalFixture f(o);
    f.portal->BulkLoad([](CrmData& crm) {
        for (int i = 0; i < 2000; ++i) {
            crm.Insert(Contact{});
        }
    });
    Answer counted = f.Call("crm.contact.list", {{"select", {"ID"}}});
    Answer fast = f.Call("crm.contact.list", {{"select", {"ID"}}, {"start", -1}});
    const double c1 = counted.body["time"]["processing"];
    const double c2 = fast.body["time"]["processing"];
    EXPECT_GT(c1, c2);
    EXPECT_NEAR(c2, 0.05 + 50 * 0.004, 1e-9);
    EXPECT_NEAR(f.portal->Counters().Method("crm.contact.list").operating_seconds, c1 + c2, 1e-9);
}

TEST(Limits, RequestCapCutsABatchButEarlierCommandsHaveRun) {
    PortalOptions o;
    o.limits.enforce_bucket = false;
    o.limits.request_cap_seconds = 1.0;
    o.costs.update = 0.3;
    PortalFixture f(o);
    f.portal->BulkLoad([](CrmData& crm) {
        for (int i = 0; i < 10; ++i) {
            crm.Insert(Contact{});
        }
    });
    json cmd = json::object();
    for (int i = 1; i <= 10; ++i) {
        cmd["u" + std::to_string(i)] =
            "crm.contact.update?id=" + std::to_string(i) + "&fields[NAME]=Z";
    }
    Answer a = f.Call("batch", {{"cmd", cmd}});
    EXPECT_EQ(a.status, 504);
    EXPECT_NE(a.raw.find("<html>"), std::string::npos);
    EXPECT_EQ(f.portal->Counters().writes.size(), 4u);  // 4 x 0.3 crossed 1.0
    EXPECT_EQ(f.portal->Get<Contact>(4)->name, "Z");
    EXPECT_EQ(f.portal->Get<Contact>(5)->name, "");
}

TEST(Limits, ScaledClockStillShowsAMisbehavingClient) {
    support::ScaledClock clock(20.0);
    CloudOptions co;
    co.clock = clock.AsFunction();
    Cloud cloud(co);
    AppRegistration app;
    app.client_id = "c";
    app.client_secret = "s";
    cloud.RegisterApp(app);
    Portal& p = cloud.AddPortal();
    TokenPair t = p.InstallApp("c", 1, InstallFlow::kSilent).admin_tokens;
    int refused = 0;
    for (int i = 0; i < 200 && refused == 0; ++i) {
        Answer a = PostJson(p.base_url(), "/rest/profile", {{"auth", t.access_token}});
        refused += a.status == 503 ? 1 : 0;
    }
    EXPECT_EQ(refused, 1);
}

TEST(Faults, HtmlErrorsAndDroppedConnections) {
    PortalFixture f;
    f.portal->BulkLoad([](CrmData& crm) { crm.Insert(Contact{}); });
    f.portal->FailNext(1, Fault{FaultKind::kHtml500, 0, ""});
    Answer a = f.Call("profile");
    EXPECT_EQ(a.status, 500);
    EXPECT_TRUE(a.body.is_discarded());
    f.portal->FailNext(1, Fault{FaultKind::kHtml503, 0, "crm.contact.list"});
    EXPECT_EQ(f.Call("profile").status, 200);  // only the named method fails
    EXPECT_EQ(f.Call("crm.contact.list").status, 503);

    f.portal->FailNext(1, Fault{FaultKind::kDropBeforeRun, 0, ""});
    Answer dropped = f.Call("crm.contact.update", {{"id", 1}, {"fields", {{"NAME", "before"}}}});
    EXPECT_EQ(dropped.status, 0);
    EXPECT_EQ(f.portal->Get<Contact>(1)->name, "");
    f.portal->FailNext(1, Fault{FaultKind::kDropAfterRun, 0, ""});
    Answer dropped2 = f.Call("crm.contact.update", {{"id", 1}, {"fields", {{"NAME", "after"}}}});
    EXPECT_EQ(dropped2.status, 0);
    EXPECT_EQ(f.portal->Get<Contact>(1)->name, "after");

    f.portal->FailNext(1, Fault{FaultKind::kSlow, 0.05, ""});
    EXPECT_EQ(f.Call("profile").status, 200);
    EXPECT_EQ(f.portal->Counters().faults_injected, 5);
}

TEST(Faults, RandomFaultsAreDeterministicForASeed) {
    auto run = [](uint64_t seed) {
        PortalOptions o;
        o.limits.enforce_bucket = false;
        PortalFixture f(o);
        f.portal->SetRandomFaults(RandomFaults{0.3, 0.2, 0, 0, 0, 0, seed});
        std::vector<int> statuses;
        for (int i = 0; i < 30; ++i) {
            statuses.push_back(f.Call("profile").status);
        }
        return statuses;
    };
    const auto a = run(7), b = run(7);
    EXPECT_EQ(a, b);
    EXPECT_NE(std::count(a.begin(), a.end(), 200), 30);
}

TEST(Faults, RenamedPortalRedirectsFromTheOldHost) {
    PortalFixture f;
    const std::string old_base = f.portal->base_url();
    const std::string new_domain = f.portal->Rename();
    EXPECT_NE(old_base, "http://" + new_domain);
    Answer a = PostJson(old_base, "/rest/profile?x=1", {{"auth", f.admin.access_token}});
    EXPECT_EQ(a.status, 302);
    EXPECT_EQ(a.location, "http://" + new_domain + "/rest/profile?x=1");
    EXPECT_EQ(f.Call("profile").status, 200);  // the fixture follows portal->base_url()
    EXPECT_EQ(f.portal->Counters().redirects, 1);
}

}  // namespace
}  // namespace fakeportal::testing
