// Failures an operator must see (issue 10, "Visible failure"), each against the real
// `b24seg serve` and CLI with the fake cloud:
//  - a full disk (RLIMIT_FSIZE on the server: no file may grow past a limit, as on a full disk)
//    fails the first run, and /api/status, the admin's run history, /healthz and
//    `b24seg status` say disk_full;
//  - a damaged portal database is found at open (quick_check): /healthz and the API say
//    database_corrupt, `b24seg status` names the recovery, `b24seg clear` rebuilds the portal's
//    data from the portal and everything is healthy again;
//  - a listener that cannot bind ends `b24seg serve` with a non-zero exit code and a message.
#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "b24client/curl_global.hpp"
#include "robust_world.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace robust {
namespace {

json JsonOf(const Reply& r) {
    return json::parse(r.body, nullptr, false);
}

std::string AdminSession(RobustWorld& w, WorldPortal& p) {
    std::string session;
    support::WaitUntil(
        [&] {
            w.OpenPage(p, p.admin_id, &session);
            return !session.empty();
        },
        std::chrono::seconds(20));
    return session;
}

TEST(Failure, FullDiskFailsTheRunVisibly) {
    WorldOptions options;
    options.portals = 1;
    options.data_scale = 8;                // a portal database of a few MB
    options.file_size_limit = 600 * 1024;  // the schema fits, the data does not
    RobustWorld w(B24SEG_BINARY, options);
    w.Start();
    WorldPortal& p = w.first();
    std::string session = AdminSession(w, p);
    ASSERT_FALSE(session.empty()) << w.LogTail();

    json status;
    bool failed = support::WaitUntil(
        [&] {
            status = JsonOf(w.Get("/api/status", session));
            return status.is_object() && status.value("state", std::string()) == "failed";
        },
        std::chrono::seconds(90));
    ASSERT_TRUE(failed) << status.dump() << "\n" << w.LogTail();
    EXPECT_EQ(status["error"]["code"], "disk_full") << status.dump() << "\n" << w.LogTail();
    EXPECT_NE(status["error"]["message"].get<std::string>().find("disk is full"),
              std::string::npos);

    // The admin's run history.
    json runs = JsonOf(w.Get("/api/runs", session));
    ASSERT_TRUE(runs.is_object()) << runs.dump();
    ASSERT_FALSE(runs["items"].empty());
    EXPECT_EQ(runs["items"][0]["state"], "failed") << runs.dump();
    EXPECT_EQ(runs["items"][0]["error"]["code"], "disk_full") << runs.dump();

    // /healthz: an operator must act (503), one portal degraded by disk_full.
    json health;
    bool degraded = support::WaitUntil(
        [&] {
            Reply r = w.Get("/healthz");
            health = JsonOf(r);
            return r.status == 503 && health.is_object() &&
                   health["degraded"]["codes"].value("disk_full", 0) == 1;
        },
        std::chrono::seconds(10));
    EXPECT_TRUE(degraded) << health.dump();
    EXPECT_EQ(health["degraded"]["count"], 1);

    // The operator's CLI.
    std::string out;
    EXPECT_EQ(w.RunCli({"status", p.member_id}, &out), 0) << out;
    EXPECT_NE(out.find("failed"), std::string::npos) << out;
    EXPECT_NE(out.find("error disk_full"), std::string::npos) << out;
    // And the server goes on serving.
    EXPECT_EQ(w.Get("/livez").status, 200);
}

TEST(Failure, DamagedPortalDatabaseIsFoundAndRebuilt) {
    WorldOptions options;
    options.portals = 1;
    RobustWorld w(B24SEG_BINARY, options);
    w.Start();
    WorldPortal& p = w.first();
    std::string session = AdminSession(w, p);
    ASSERT_FALSE(session.empty());
    ASSERT_EQ(w.Get("/healthz").status, 200) << w.Get("/healthz").body;

    // Damage the file while the server is down: garbage over pages 2..5 (the header stays).
    w.Stop();
    std::string path = w.PortalDbPath(p);
    ASSERT_FALSE(path.empty());
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        ASSERT_TRUE(f.good());
        f.seekp(4096);
        std::string garbage(4 * 4096, '\x5a');
        f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    w.Restart();

    json health;
    bool seen = support::WaitUntil(
        [&] {
            Reply r = w.Get("/healthz");
            health = JsonOf(r);
            return r.status == 503 && health.is_object() &&
                   health["degraded"]["codes"].value("database_corrupt", 0) == 1;
        },
        std::chrono::seconds(20));
    EXPECT_TRUE(seen) << health.dump() << "\n" << w.LogTail();

    // The portal's users get a clear 503, not a 500 per call.
    Reply api = w.Get("/api/status", session);
    EXPECT_EQ(api.status, 503) << api.body;
    EXPECT_EQ(JsonOf(api)["error"]["code"], "database_corrupt") << api.body;

    std::string out;
    EXPECT_EQ(w.RunCli({"status", p.member_id}, &out), 1) << out;
    EXPECT_NE(out.find("database_corrupt"), std::string::npos) << out;
    EXPECT_NE(out.find("b24seg clear " + p.member_id), std::string::npos) << out;

    // The documented recovery: the running server rebuilds the data from the portal.
    EXPECT_EQ(w.RunCli({"clear", p.member_id}, &out), 0) << out;
    EXPECT_NE(out.find("database_corrupt"), std::string::npos) << out;
    EXPECT_TRUE(w.WaitSynced(p, std::chrono::seconds(90))) << w.LogTail();
    bool healthy = support::WaitUntil([&] { return w.Get("/healthz").status == 200; },
                                      std::chrono::seconds(20));
    EXPECT_TRUE(healthy) << w.Get("/healthz").body;
    Reply dashboard = w.Get("/api/dashboard", session);
    EXPECT_EQ(dashboard.status, 200);
    EXPECT_TRUE(JsonOf(dashboard)["sync"]["firstRunDone"].get<bool>());
    // The damaged file was kept aside for a post-mortem.
    bool kept = false;
    for (const auto& entry : std::filesystem::directory_iterator(w.data_dir())) {
        kept = kept || entry.path().string().find(".damaged-") != std::string::npos;
    }
    EXPECT_TRUE(kept);
}

TEST(Failure, ListenerThatCannotBindExitsNonZero) {
    // Hold a port with a listening socket of our own.
    int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(holder, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(holder, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);

    support::TempDir dir("b24seg-bind");
    std::string config = dir.File("config.json");
    {
        std::ofstream out(config);
        out << json{{"listen_host", "127.0.0.1"},
                    {"listen_port", port},
                    {"data_dir", dir.File("data")},
                    {"frontend_dir", dir.File("frontend")}}
                   .dump();
    }
    std::string log = dir.File("serve.log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
    std::vector<std::string> args = {B24SEG_BINARY, "serve", "--config", config};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
        env_text.emplace_back(*e);
    }
    env_text.push_back("B24SEG_TOKEN_KEY=" + std::string(kTokenKey));
    std::vector<char*> envp;
    for (auto& v : env_text) {
        envp.push_back(v.data());
    }
    envp.push_back(nullptr);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, B24SEG_BINARY, &actions, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    bool exited = support::WaitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; },
                                     std::chrono::seconds(20));
    if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    ::close(holder);
    ASSERT_TRUE(exited) << "b24seg serve kept running without its listener";
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0);
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find("cannot listen on 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << text.str();
}

}  // namespace
}  // namespace robust

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    b24client::CurlGlobal curl;
    ::testing::InitGoogleTest(&argc, argv);
    spdlog::set_level(spdlog::level::warn);
    return RUN_ALL_TESTS();
}
