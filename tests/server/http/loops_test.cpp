// No background loop can end the process (issue 10): an exception in each loop — the job
// workers, the scheduler, the follow-ups, the health refresher — is logged, counted in /healthz
// (503 while recent) and the loop goes on doing its work.
#include <gtest/gtest.h>

#include "health.hpp"
#include "jobs.hpp"
#include "support/log_capture.hpp"
#include "support/wait.hpp"
#include "world.hpp"

namespace httptest {
namespace {

TEST(Loops, AnExceptionInEachBackgroundLoopIsCountedAndTheLoopGoesOn) {
    World& w = World::Get();
    TestPortal& p = w.Main();
    ASSERT_TRUE(w.WaitIdle(p.member_id));
    server::Health& health = w.app().health();
    health.SetAlertWindow(std::chrono::seconds(3));  // so that the test sees /healthz recover
    support::LogCapture log;
    const std::int64_t scheduler_before = health.LoopFailures("jobs.scheduler");
    const std::int64_t followups_before = health.LoopFailures("followups");
    const std::int64_t health_before = health.LoopFailures("health");
    const std::int64_t worker_before = health.LoopFailures("jobs.worker");

    health.InjectFailures("jobs.scheduler", 2, /*non_standard=*/true);
    health.InjectFailures("followups", 2);
    health.InjectFailures("health", 2);
    health.InjectFailures("jobs.worker", 1);
    // The worker's next job fails before it runs: a failed run, visible as such.
    ASSERT_EQ(w.app().jobs().Request(p.member_id, server::sync::RunKind::kIncremental),
              server::JobRunner::Enqueued::kQueued);
    EXPECT_TRUE(support::WaitUntil(
        [&] {
            return health.LoopFailures("jobs.scheduler") >= scheduler_before + 2 &&
                   health.LoopFailures("followups") >= followups_before + 2 &&
                   health.LoopFailures("health") >= health_before + 2 &&
                   health.LoopFailures("jobs.worker") >= worker_before + 1;
        },
        std::chrono::seconds(20)));
    ASSERT_TRUE(w.WaitIdle(p.member_id));
    auto failure = w.app().jobs().LastFailure(p.member_id);
    ASSERT_TRUE(failure.has_value());
    EXPECT_EQ(failure->code, "internal");
    Page page = w.Open(p, p.admin_id);
    json status = w.Api("GET", "/api/status", page.session()).Json();
    EXPECT_EQ(status["state"], "failed") << status.dump();
    EXPECT_EQ(status["error"]["code"], "internal");

    // /healthz says so while the failures are recent.
    Answer h = w.Api("GET", "/healthz", "");
    EXPECT_EQ(h.status, 503) << h.body;
    EXPECT_GE(h.Json()["loops"]["jobs.scheduler"]["failures"].get<int>(), 2) << h.body;
    EXPECT_TRUE(log.Contains("jobs.scheduler: non-standard exception (the loop goes on)"));
    EXPECT_TRUE(log.Contains("injected failure in followups"));

    // Every loop still works: the scheduler takes the CLI's run requests, the worker runs them
    // (and a done run clears the failure), the health loop refreshes /healthz back to 200.
    w.app().registry().AddJobRequest(p.member_id, "incremental");
    EXPECT_TRUE(support::WaitUntil([&] { return !w.app().jobs().LastFailure(p.member_id); },
                                   std::chrono::seconds(30)));
    ASSERT_TRUE(w.WaitIdle(p.member_id));
    EXPECT_EQ(w.Api("GET", "/api/status", page.session()).Json()["state"], "idle");
    EXPECT_TRUE(support::WaitUntil([&] { return w.Api("GET", "/healthz", "").status == 200; },
                                   std::chrono::seconds(15)));
    // (The short alert window stays: back at 60 s these failures would count as recent again.)
}

}  // namespace
}  // namespace httptest
