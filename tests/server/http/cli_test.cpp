// The b24seg binary and its CLI: `serve` answers and stops cleanly on SIGTERM; `portals`,
// `status` and `sync` work against a live server's data directory.
#include "cli.hpp"

#include <chrono>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <httplib.h>

#include "jobs.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "world.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace httptest {
namespace {

std::string WriteConfig(const support::TempDir& dir, const json& values) {
    std::string path = dir.File("config.json");
    std::ofstream out(path);
    out << "// written by cli_test\n" << values.dump(2) << "\n";
    return path;
}

std::string ReadAll(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(Serve, AnswersAndStopsOnSigterm) {
    support::TempDir dir("b24seg-serve");
    int port = support::FreeLoopbackPort();
    std::string config = WriteConfig(dir, {{"listen_host", "127.0.0.1"},
                                           {"listen_port", port},
                                           {"data_dir", dir.File("data")},
                                           {"frontend_dir", dir.File("frontend")},
                                           {"log_level", "info"}});
    std::string log = dir.File("serve.log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    std::string binary = B24SEG_BINARY;
    std::vector<std::string> args = {binary, "serve", "--config", config};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);

    httplib::Client cli("127.0.0.1", port);
    bool up = support::WaitUntil([&] {
        auto r = cli.Get("/healthz");
        return r && r->status == 200;
    });
    EXPECT_TRUE(up) << ReadAll(log);
    if (up) {
        auto r = cli.Get("/healthz");
        EXPECT_EQ(json::parse(r->body)["portals"], 0);
    }
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    int status = 0;
    bool exited = support::WaitUntil([&] { return waitpid(pid, &status, WNOHANG) == pid; },
                                     std::chrono::seconds(20));
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    ASSERT_TRUE(exited) << ReadAll(log);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    std::string text = ReadAll(log);
    EXPECT_NE(text.find("http GET /healthz 200"), std::string::npos) << text;
    EXPECT_NE(text.find("b24seg stopped"), std::string::npos) << text;
}

TEST(Cli, PortalsStatusAndSyncAgainstALiveServer) {
    World& w = World::Get();
    TestPortal p = w.NewPortal(501);
    w.Install(p);
    ASSERT_TRUE(w.WaitFirstRun(p.member_id));
    ASSERT_TRUE(w.WaitIdle(p.member_id));
    support::TempDir dir("b24seg-cli");
    const server::Config& live = w.app().config();
    std::string config = WriteConfig(dir, {{"data_dir", live.data_dir},
                                           {"oauth_url", live.oauth_url},
                                           {"client_id", live.client_id},
                                           {"allow_http_portals", true},
                                           {"log_level", "warn"}});
    auto run = [&](std::vector<std::string> args, std::string* out_text = nullptr) {
        args.push_back("--config");
        args.push_back(config);
        std::ostringstream out, err;
        int code = server::RunCli(server::ParseCliArgs(args), out, err);
        if (out_text != nullptr) {
            *out_text = out.str() + err.str();
        }
        return code;
    };
    std::string text;
    ASSERT_EQ(run({"portals"}, &text), 0) << text;
    EXPECT_NE(text.find(p.member_id), std::string::npos);
    EXPECT_NE(text.find(p.portal->domain()), std::string::npos);
    ASSERT_EQ(run({"status", p.member_id}, &text), 0) << text;
    EXPECT_NE(text.find("endpoint:   " + p.portal->endpoint()), std::string::npos) << text;
    EXPECT_NE(text.find("first pull: complete"), std::string::npos) << text;
    EXPECT_NE(text.find(" first done "), std::string::npos) << text;
    auto record = w.app().registry().Find(p.member_id);
    EXPECT_EQ(text.find(record->access_token), std::string::npos);
    EXPECT_EQ(text.find(record->application_token), std::string::npos);
    EXPECT_EQ(run({"status", "0000000000"}, &text), 1);

    // Without --wait: the running server picks the request up.
    auto db = w.app().portals().Db(p.member_id);
    std::int64_t before = db->LatestRun()->id;
    ASSERT_EQ(run({"sync", p.member_id}, &text), 0) << text;
    ASSERT_TRUE(support::WaitUntil(
        [&] {
            auto latest = db->LatestRun();
            return latest->id > before && latest->state == "done";
        },
        std::chrono::seconds(30)));
    ASSERT_TRUE(w.WaitIdle(p.member_id));

    // With --wait: here, in this process; refused while the portal's run lock is held.
    {
        server::FileLock held(w.app().portals().LockPath(p.member_id));
        ASSERT_TRUE(held.locked());
        EXPECT_EQ(run({"sync", p.member_id, "--wait"}, &text), 3) << text;
    }
    before = db->LatestRun()->id;
    ASSERT_EQ(run({"sync", p.member_id, "--wait"}, &text), 0) << text;
    EXPECT_NE(text.find("done"), std::string::npos) << text;
    EXPECT_GT(db->LatestRun()->id, before);
    EXPECT_EQ(db->LatestRun()->state, "done");
}

}  // namespace
}  // namespace httptest
