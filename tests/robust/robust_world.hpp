#pragma once
// The world of the robustness suite and benchmark: a fake Bitrix24 cloud in this process with two
// installed and synced portals, and the real `b24seg serve` binary as a child process on
// 127.0.0.1 (a port picked at run time), started from a config file the way an operator runs it.
//
// The child is stopped by its own pid (SIGTERM, then SIGKILL after a deadline) when the world is
// destroyed. Its log goes to a file in the world's temporary directory (log_path()).
//
// Thread-safety: the helpers that talk to the server (Healthz, OpenPage, Api, ...) may be called
// from any number of threads at once; Start/Stop belong to the owning thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakeportal/cloud.hpp"
#include "support/temp_dir.hpp"

namespace robust {

using nlohmann::json;

struct Reply {
    int status = 0;  // 0: no answer (refused, reset, timed out)
    std::string body;
    double ms = 0;  // wall time of the request
};

struct WorldPortal {
    fakeportal::Portal* portal = nullptr;
    std::string member_id;
    std::string application_token;
    std::int64_t admin_id = 1;
    std::int64_t manager_id = 0;
};

struct WorldOptions {
    int portals = 2;
    // Multiplies the test CRM's row counts (a larger portal database).
    int data_scale = 1;
    // RLIMIT_FSIZE of the server process in bytes (0: none): no file it writes may grow past
    // this, as on a full disk (writes fail with EFBIG; SIGXFSZ is ignored).
    std::int64_t file_size_limit = 0;
    // Merged over the world's config file.
    nlohmann::json config = nlohmann::json::object();
};

class RobustWorld {
public:
    // binary: the b24seg executable.
    explicit RobustWorld(std::string binary, WorldOptions options = {});
    ~RobustWorld();
    RobustWorld(const RobustWorld&) = delete;
    RobustWorld& operator=(const RobustWorld&) = delete;

    // Starts the cloud and the server, installs both portals and waits for their first runs.
    // Throws std::runtime_error (with the server's log tail) when something does not come up.
    void Start();
    // SIGTERM, wait up to 30 s, then SIGKILL. Idempotent.
    void Stop();
    // Starts the server again on the same data directory and port; waits for /healthz.
    void Restart();
    // Runs the b24seg CLI with the world's config (`args` after the binary, before --config).
    // Returns the exit code; *output gets stdout and stderr.
    int RunCli(const std::vector<std::string>& args, std::string* output);
    const std::string& data_dir() const { return data_dir_; }
    std::string PortalDbPath(const WorldPortal& p) const;
    // Waits (with a deadline) until the portal's first run is done and nothing runs.
    bool WaitSynced(WorldPortal& p, std::chrono::seconds timeout);

    int port() const { return port_; }
    int pid() const { return pid_; }
    const std::string& log_path() const { return log_path_; }
    std::string LogTail(std::size_t bytes = 4000) const;
    fakeportal::Cloud& cloud() { return *cloud_; }
    WorldPortal& first() { return first_; }    // the portal the probes attack
    WorldPortal& second() { return second_; }  // the portal whose users must not notice

    // Resident set size of the server now, in bytes (0 if unknown).
    std::int64_t ServerRss() const;

    // Requests to the server (timeouts: 10 s; a failure is status 0).
    Reply Get(const std::string& path, const std::string& session = "");
    Reply PostJson(const std::string& path, const std::string& body, const std::string& session);
    Reply PostForm(const std::string& url_or_path,
                   const std::vector<std::pair<std::string, std::string>>& fields);
    // Opens the app's main page as `user` of `p` the way the portal does; returns the session
    // found in the page's boot object in *session ("" if none).
    Reply OpenPage(WorldPortal& p, std::int64_t user, std::string* session = nullptr);

private:
    void StartServer();
    std::vector<std::string> ChildEnvironment() const;

    std::string binary_;
    WorldOptions options_;
    std::string data_dir_;
    std::unique_ptr<support::TempDir> dir_;
    std::unique_ptr<fakeportal::Cloud> cloud_;
    std::string client_id_ = "local.b24seg.robust";
    std::string client_secret_ = "robust-client-secret-0123456789";
    std::string log_path_;
    std::string config_path_;
    int port_ = 0;
    int pid_ = 0;
    WorldPortal first_;
    WorldPortal second_;
};

// The registry's token key every child process of the world gets (B24SEG_TOKEN_KEY).
extern const char* const kTokenKey;

// Parses the session out of a page (the boot object's "session"), "" if none.
std::string SessionOf(const std::string& html);

}  // namespace robust
