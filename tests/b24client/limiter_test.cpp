#include "b24client/limiter.hpp"

#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "b24client/error.hpp"
#include "test_clock.hpp"

using namespace b24client;
using b24client::testing::ManualClock;

TEST(Bucket, BurstThenDrainRate) {
    auto clock = std::make_shared<ManualClock>();
    PortalLimiter lim(LimitPlan::Standard(), clock);  // 50 burst, margin 3, 2/s
    const double t0 = clock->Now();
    for (int i = 0; i < 47; ++i) {
        EXPECT_EQ(lim.AcquireRequest(), 0.0) << i;
    }
    EXPECT_DOUBLE_EQ(clock->Now(), t0);
    // From now on one request per 0.5 s.
    lim.AcquireRequest();
    EXPECT_NEAR(clock->Now() - t0, 0.5, 1e-9);
    lim.AcquireRequest();
    EXPECT_NEAR(clock->Now() - t0, 1.0, 1e-9);
}

// Our model against a faithful simulation of the portal's counter: however requests are timed,
// the portal's level never exceeds the burst.
TEST(Bucket, NeverExceedsThePortalsBurst) {
    auto clock = std::make_shared<ManualClock>();
    const LimitPlan plan = LimitPlan::Standard();
    PortalLimiter lim(plan, clock);
    double level = 0;
    double last = clock->Now();
    for (int i = 0; i < 300; ++i) {
        if (i % 37 == 0) {
            clock->Advance(3.0);  // the caller was busy
        }
        lim.AcquireRequest();
        const double now = clock->Now();
        level = std::max(0.0, level - (now - last) * plan.drain_per_second) + 1;
        last = now;
        ASSERT_LE(level, plan.burst) << "request " << i;
    }
}

TEST(Bucket, TryAcquireTakesNothingWhenTheWaitWouldBeTooLong) {
    auto clock = std::make_shared<ManualClock>();
    PortalLimiter lim(LimitPlan::Standard(), clock);  // 47 at once, then one per 0.5 s
    for (int i = 0; i < 47; ++i) {
        ASSERT_EQ(lim.TryAcquireRequest(0.0), 0.0) << i;
    }
    const double t0 = clock->Now();
    // The next slot is 0.5 s away: a caller who may wait 0.2 s gets nothing and waits nothing.
    EXPECT_FALSE(lim.TryAcquireRequest(0.2).has_value());
    EXPECT_DOUBLE_EQ(clock->Now(), t0);
    EXPECT_NEAR(lim.BucketDelay(), 0.5, 1e-9);  // nothing was reserved by the refusal
    // One who may wait a second gets it after 0.5 s.
    auto waited = lim.TryAcquireRequest(1.0);
    ASSERT_TRUE(waited.has_value());
    EXPECT_NEAR(*waited, 0.5, 1e-9);
}

TEST(Bucket, RefusalMarksTheBucketFull) {
    auto clock = std::make_shared<ManualClock>();
    PortalLimiter lim(LimitPlan::Standard(), clock);
    EXPECT_EQ(lim.BucketDelay(), 0.0);
    lim.OnQueryLimitExceeded();
    // Full bucket: the next slot is (burst - capacity + 1) / rate away.
    EXPECT_NEAR(lim.BucketDelay(), (3.0 + 1.0) / 2.0, 1e-9);
}

TEST(Bucket, EnterprisePlanFromLicenseFamily) {
    EXPECT_EQ(LimitPlan::ForLicenseFamily("ent").burst, 250);
    EXPECT_EQ(LimitPlan::ForLicenseFamily("ent250").drain_per_second, 5);
    EXPECT_EQ(LimitPlan::ForLicenseFamily("std").burst, 50);
    EXPECT_EQ(LimitPlan::ForLicenseFamily("").drain_per_second, 2);
}

TEST(Bucket, ConcurrentCallersGetDistinctSlots) {
    auto clock = std::make_shared<ManualClock>();
    LimitPlan plan;
    plan.burst = 5;
    plan.bucket_margin = 0;
    plan.drain_per_second = 1;
    PortalLimiter lim(plan, clock);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5; ++i) {
                lim.AcquireRequest();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    // 20 requests, 5 immediate, the other 15 at 1/s: the clock advanced by at least 15 s.
    EXPECT_GE(clock->slept(), 15.0 - 1e-9);
}

TEST(Bucket, CancelWhileWaiting) {
    auto clock = std::make_shared<ManualClock>();
    PortalLimiter lim(LimitPlan::Standard(), clock);
    lim.OnQueryLimitExceeded();
    CancelToken cancel;
    cancel.Cancel();
    try {
        lim.AcquireRequest(&cancel);
        FAIL() << "expected kCancelled";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCancelled);
    }
}

TEST(Ledger, AllowanceShrinksWithOwnCalls) {
    auto clock = std::make_shared<ManualClock>();
    LimitPlan plan;
    plan.operating_limit_s = 100;
    plan.operating_margin_s = 10;
    PortalLimiter lim(plan, clock);
    EXPECT_GT(lim.Allowance("crm.contact.list"), 300);  // 90 / 0.25
    for (int i = 0; i < 80; ++i) {
        lim.RecordCall("crm.contact.list", 1.0, std::nullopt, std::nullopt);
    }
    EXPECT_NEAR(lim.EstimatedOperating("CRM.CONTACT.LIST"), 80.0, 1e-9);
    EXPECT_EQ(lim.Allowance("crm.contact.list"), 10);
    EXPECT_NEAR(lim.AverageCallSeconds("crm.contact.list"), 1.0, 1e-9);
    // Another method has its own budget.
    EXPECT_GT(lim.Allowance("crm.deal.list"), 300);
}

TEST(Ledger, OwnCallsLeaveTheWindow) {
    auto clock = std::make_shared<ManualClock>();
    LimitPlan plan;
    plan.operating_limit_s = 100;
    plan.operating_margin_s = 10;
    plan.operating_window_s = 600;
    PortalLimiter lim(plan, clock);
    lim.RecordCall("m", 50.0, std::nullopt, std::nullopt);
    clock->Advance(100);
    lim.RecordCall("m", 40.0, std::nullopt, std::nullopt);
    EXPECT_EQ(lim.Allowance("m"), 0);
    const double t_first = clock->Now() - 100;
    // Ready once the first call (50 s) leaves the window.
    EXPECT_NEAR(lim.MethodReadyAt("m"), t_first + 600, 1e-6);
    clock->Advance(500.5);
    EXPECT_NEAR(lim.EstimatedOperating("m"), 40.0, 1e-9);
    EXPECT_GT(lim.Allowance("m"), 0);
}

TEST(Ledger, PortalReportCountsWhatWeDidNotSee) {
    auto clock = std::make_shared<ManualClock>();
    LimitPlan plan;  // 480 s, margin 24
    PortalLimiter lim(plan, clock);
    const double reset = clock->Now() + 120;
    lim.RecordCall("crm.item.list", 0.5, 470.0, reset);
    EXPECT_NEAR(lim.EstimatedOperating("crm.item.list"), 470.0, 1e-9);
    EXPECT_EQ(lim.Allowance("crm.item.list"), 0);
    EXPECT_NEAR(lim.MethodReadyAt("crm.item.list"), reset, 1e-6);
    // Calls after the report add to it.
    clock->Advance(10);
    lim.RecordCall("crm.item.list", 0.5, std::nullopt, std::nullopt);
    EXPECT_NEAR(lim.EstimatedOperating("crm.item.list"), 470.5, 1e-9);
    // At the reset the stale report is dropped; our own calls remain.
    clock->Advance(111);
    EXPECT_NEAR(lim.EstimatedOperating("crm.item.list"), 1.0, 1e-9);
    EXPECT_GT(lim.Allowance("crm.item.list"), 0);
}

TEST(Ledger, RefusalBlocksUntilReset) {
    auto clock = std::make_shared<ManualClock>();
    PortalLimiter lim(LimitPlan::Standard(), clock);
    const double reset = clock->Now() + 42;
    lim.OnOperationLimit("crm.deal.list", reset);
    EXPECT_EQ(lim.Allowance("crm.deal.list"), 0);
    EXPECT_NEAR(lim.MethodReadyAt("crm.deal.list"), reset, 1e-6);
    EXPECT_GT(lim.Allowance("crm.contact.list"), 0);  // other methods go on
    const double waited = lim.WaitForMethods({"crm.deal.list"});
    EXPECT_NEAR(waited, 42.0, 0.51);
    EXPECT_GT(lim.Allowance("crm.deal.list"), 0);
}

TEST(Stats, MergeAddsEverything) {
    Stats a;
    a.http_requests = 2;
    a.methods["batch"].http_requests = 2;
    Stats b;
    b.http_requests = 3;
    b.retries = 1;
    b.methods["batch"].http_requests = 1;
    b.methods["crm.item.list"].nested_calls = 50;
    b.bucket_wait_seconds = 1.5;
    a.MergeFrom(b);
    EXPECT_EQ(a.http_requests, 5u);
    EXPECT_EQ(a.retries, 1u);
    EXPECT_EQ(a.methods["batch"].http_requests, 3u);
    EXPECT_EQ(a.methods["crm.item.list"].nested_calls, 50u);
    EXPECT_DOUBLE_EQ(a.bucket_wait_seconds, 1.5);
}

TEST(Ledger, ReadyAtForSeveralCallsAndTheLargestAllowance) {
    auto clock = std::make_shared<ManualClock>();
    LimitPlan plan;
    plan.operating_limit_s = 100;
    plan.operating_margin_s = 10;
    plan.operating_window_s = 600;
    PortalLimiter lim(plan, clock);
    for (int i = 0; i < 4; ++i) {
        lim.RecordCall("m", 20.0, std::nullopt, std::nullopt);  // 80 s, avg 20 s
        clock->Advance(60);
    }
    // Now: 80 of 90 usable seconds spent; room for no 20 s call.
    EXPECT_EQ(lim.Allowance("m"), 0);
    EXPECT_EQ(lim.MaxAllowance("m"), 4);
    const double t0 = clock->Now() - 240;                           // time of the first call
    EXPECT_NEAR(lim.MethodReadyAt("m", 1), t0 + 600, 1e-6);         // one call: first expiry
    EXPECT_NEAR(lim.MethodReadyAt("m", 3), t0 + 120 + 600, 1e-6);   // three: three expiries
    EXPECT_NEAR(lim.MethodReadyAt("m", 99), t0 + 180 + 600, 1e-6);  // capped at MaxAllowance
}

TEST(Ledger, MinimumCallCostShortensChainsWithoutSpendingBudget) {
    auto clock = std::make_shared<ManualClock>();
    PortalLimiter lim(LimitPlan::Standard(), clock);
    const int before = lim.Allowance("crm.contact.list");
    lim.NoteMinimumCallCost("crm.contact.list", 1.2);
    EXPECT_NEAR(lim.AverageCallSeconds("crm.contact.list"), 1.2, 1e-9);
    EXPECT_EQ(lim.EstimatedOperating("crm.contact.list"), 0.0);
    EXPECT_LT(lim.Allowance("crm.contact.list"), before);
    lim.NoteMinimumCallCost("crm.contact.list", 0.1);  // never lowers
    EXPECT_NEAR(lim.AverageCallSeconds("crm.contact.list"), 1.2, 1e-9);
}
