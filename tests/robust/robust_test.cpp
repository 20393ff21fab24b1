// The robustness suite (issue 10): every probe of the table against a real `b24seg serve` with
// two installed test portals. While one client, user or portal misbehaves, /healthz and the
// second portal's page loads and API calls must be answered in under 1 s (p99) and the server
// must stay under 300 MB resident; each probe also checks what the attack itself got.
//
// Under sanitizers (the asan preset) the server is several times slower and ASan's shadow memory
// and quarantine inflate its RSS, so the bars are widened there (kLatencyBarMs, kRssBarBytes);
// the dev preset checks the figures.
#include <csignal>
#include <cstdio>
#include <memory>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "b24client/curl_global.hpp"
#include "probes.hpp"
#include "robust_world.hpp"

namespace robust {
namespace {

#ifdef B24SEG_SANITIZED
constexpr double kLatencyBarMs = 3000;
constexpr std::int64_t kRssBarBytes = 900LL << 20;
#else
constexpr double kLatencyBarMs = 1000;
constexpr std::int64_t kRssBarBytes = 300LL << 20;
#endif

RobustWorld* g_world = nullptr;

class WorldEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        world_ = std::make_unique<RobustWorld>(B24SEG_BINARY);
        world_->Start();
        g_world = world_.get();
    }
    void TearDown() override {
        g_world = nullptr;
        world_.reset();
    }

private:
    std::unique_ptr<RobustWorld> world_;
};

ProbeReport Probe(const std::string& name) {
    if (g_world == nullptr) {
        throw std::runtime_error("the robust world did not start");
    }
    ProbeReport r = RunProbe(*g_world, name);
    std::printf("%s\n", FormatReport(r).c_str());
    std::fflush(stdout);
    return r;
}

// What every probe must leave untouched.
void ExpectIsolation(const ProbeReport& r) {
    EXPECT_EQ(r.healthz.failed, 0) << r.name;
    EXPECT_GE(r.healthz.count(), 10u) << r.name;
    EXPECT_LT(r.healthz.Percentile(99), kLatencyBarMs) << r.name;
    EXPECT_EQ(r.page.failed, 0) << r.name;
    EXPECT_GE(r.page.count(), 3u) << r.name;
    EXPECT_LT(r.page.Percentile(99), kLatencyBarMs) << r.name;
    EXPECT_EQ(r.api.failed, 0) << r.name;
    EXPECT_GE(r.api.count(), 10u) << r.name;
    EXPECT_LT(r.api.Percentile(99), kLatencyBarMs) << r.name;
    EXPECT_GT(r.peak_rss, 0) << r.name;
    EXPECT_LT(r.peak_rss, kRssBarBytes) << r.name;
    EXPECT_EQ(g_world->Get("/livez").status, 200) << "the server died during " << r.name << "\n"
                                                  << g_world->LogTail();
}

// Every request answered (no client timeout) with one of `allowed`.
void ExpectStatuses(const ProbeReport& r, std::initializer_list<const char*> allowed) {
    for (const auto& [status, count] : r.facts["statuses"].items()) {
        bool ok = false;
        for (const char* a : allowed) {
            ok = ok || status == a;
        }
        EXPECT_TRUE(ok) << r.name << ": " << count << " answered " << status;
    }
}

TEST(Robust, HalfRequests) {
    ProbeReport r = Probe("half_requests");
    ExpectIsolation(r);
    EXPECT_EQ(r.facts["connected"], 300);
    // Each must arrive whole within the request timeout (5 s here): all of them are cut off.
    EXPECT_EQ(r.facts["closedByServer"], 300);
}

TEST(Robust, SlowHeaders) {
    ProbeReport r = Probe("slow_headers");
    ExpectIsolation(r);
    EXPECT_EQ(r.facts["closedByServer"], r.facts["sockets"]);
}

TEST(Robust, ChunkedBodyIsCutOffAtTheLimit) {
    ProbeReport r = Probe("chunked_body");
    ExpectIsolation(r);
    // The server stops reading at 64 KiB; what the client got out is what the kernel's socket
    // buffers took, not 200 MiB.
    EXPECT_LT(r.facts["bodyBytesSent"].get<std::int64_t>(), 32LL << 20);
    EXPECT_NE(r.facts["status"], 200);
}

TEST(Robust, CompressedBodyIsRefusedUnread) {
    ProbeReport r = Probe("gzip_body");
    ExpectIsolation(r);
    EXPECT_EQ(r.facts["status"], 415);
}

TEST(Robust, EndlessRequestLinesAreRefused) {
    ProbeReport r = Probe("long_request_lines");
    ExpectIsolation(r);
    for (const auto& s : r.facts["sockets"]) {
        EXPECT_LT(s["bytesSent"].get<std::int64_t>(), 32LL << 20);
        EXPECT_NE(s["status"], 200);
    }
}

TEST(Robust, TooManyHeadersAreRefused) {
    ProbeReport r = Probe("many_headers");
    ExpectIsolation(r);
    EXPECT_EQ(r.facts["status"], 431);
}

TEST(Robust, RefreshStormOfOneUserIsCoalesced) {
    ProbeReport r = Probe("refresh_storm");
    ExpectIsolation(r);
    ExpectStatuses(r, {"200", "429", "503"});
    EXPECT_GE(r.facts["statuses"].value("200", 0), 1);
    // 120 refreshes with one token: a handful of profile calls, not 120.
    EXPECT_LE(r.facts["profileCalls"].get<int>(), 30);
    EXPECT_LT(r.facts["slowestMs"].get<double>(), 9000);
}

TEST(Robust, RefreshStormWithFreshTokensGetsBusyFast) {
    ProbeReport r = Probe("refresh_storm_tokens");
    ExpectIsolation(r);
    ExpectStatuses(r, {"200", "429", "503"});
    EXPECT_GE(r.facts["statuses"].value("200", 0), 1);
    EXPECT_LT(r.facts["slowestMs"].get<double>(), 9000);
}

TEST(Robust, EventBodiesUpToTheConfiguredLimitAreRead) {
    ProbeReport r = Probe("event_9kb");
    ExpectIsolation(r);
    EXPECT_EQ(r.facts["status"], 200);
}

TEST(Robust, SickPortalHoldsOnlyItsShare) {
    ProbeReport r = Probe("sick_portal");
    ExpectIsolation(r);
    ExpectStatuses(r, {"200", "429", "503"});
    EXPECT_LT(r.facts["slowestMs"].get<double>(), 9000);
}

}  // namespace
}  // namespace robust

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    b24client::CurlGlobal curl;
    ::testing::InitGoogleTest(&argc, argv);
    spdlog::set_level(spdlog::level::warn);
    ::testing::AddGlobalTestEnvironment(new robust::WorldEnvironment());
    return RUN_ALL_TESTS();
}
