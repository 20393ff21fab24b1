// A run killed with SIGKILL at 20 random moments and resumed each time ends identical to an
// uninterrupted run of the same portal, and no card is written twice.

#include <chrono>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "harness.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace synctest {
namespace {

using server::sync::RunKind;

std::string ChildPath() {
    // The child executable sits next to this test executable.
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    std::string self(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    return self.substr(0, self.rfind('/') + 1) + "sync_child";
}

pid_t Spawn(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    EXPECT_EQ(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    return pid;
}

int WaitExit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

TEST(SyncKill, TwentyKillsAndResumesEndLikeAnUninterruptedRun) {
    Harness h;
    auto dataset = SmallDataset(77);
    dataset.contacts = 240;
    dataset.companies = 130;
    dataset.years = 5;
    Installed reference = h.AddPortal(dataset);
    Installed victim = h.AddPortal(dataset);
    const std::string child = ChildPath();
    const std::string data_dir = h.config().data_dir;
    const std::string now = std::to_string(kNow);

    // The uninterrupted run, in a child too, timed.
    auto started = std::chrono::steady_clock::now();
    ASSERT_EQ(WaitExit(Spawn({child, data_dir, reference.member_id, h.config().oauth_url, now})),
              0);
    double full = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    // Kill points spread over the first run: each child lives a random fraction of a twentieth
    // of the whole run (and at least a few milliseconds past its start-up).
    std::uint32_t seed = std::random_device{}();
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> fraction(0.3, 1.7);
    int killed = 0;
    for (int i = 0; i < 20; ++i) {
        pid_t pid = Spawn({child, data_dir, victim.member_id, h.config().oauth_url, now});
        auto delay = std::chrono::duration<double>(0.02 + full / 20.0 * fraction(rng));
        std::this_thread::sleep_for(delay);  // the random kill moment (not a synchronisation)
        ::kill(pid, SIGKILL);
        int status = WaitExit(pid);
        killed += WIFSIGNALED(status) ? 1 : 0;
    }
    // Then let it finish.
    ASSERT_EQ(WaitExit(Spawn({child, data_dir, victim.member_id, h.config().oauth_url, now})), 0)
        << "seed " << seed;
    EXPECT_GE(killed, 10) << "most kills should land while the run is going (seed " << seed << ")";

    // Same card values on both portals, and the reference computation agrees.
    auto want = ReferenceCards(*victim.portal, kNow);
    auto got = PortalCards(*victim.portal);
    auto ref = PortalCards(*reference.portal);
    ASSERT_EQ(got.size(), ref.size());
    int differences = 0;
    for (const auto& [key, v] : ref) {
        if (!(got[key] == v) || !(want[key] == v)) {
            if (++differences <= 5) {
                ADD_FAILURE() << "seed " << seed << ": " << Describe(key, got[key]) << " vs "
                              << Describe(key, v);
            }
        }
    }
    EXPECT_EQ(differences, 0);
    for (const auto& [key, n] : WrittenCards(*victim.portal)) {
        EXPECT_EQ(n, 1) << "seed " << seed << ": " << Describe(key, {}) << " written " << n
                        << " times";
    }

    // Our stores agree too: the same rows and the same targets.
    server::PortalDb a(h.portals().DbPath(reference.member_id));
    server::PortalDb b(h.portals().DbPath(victim.member_id));
    for (const char* entity :
         {"contact", "company", "deal", "invoice", "old_invoice", "activity", "requisite"}) {
        EXPECT_EQ(a.Count(entity), b.Count(entity)) << entity << " seed " << seed;
    }
    EXPECT_EQ(a.Targets(), b.Targets());
    EXPECT_EQ(a.CurrentSeries(), b.CurrentSeries());
}

}  // namespace
}  // namespace synctest
