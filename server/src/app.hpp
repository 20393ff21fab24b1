#pragma once
// The app server as one object: registry, portal manager, job runner, sessions, rights cache,
// the install flow and the HTTP routes. `b24seg serve` and the demo launcher both run this.
//
//   server::App app(config);
//   int port = app.Bind();      // listen_host:listen_port (0: any free port); throws if taken
//   app.Start();                // jobs, health, HTTP on background threads
//   ...                         // until SIGTERM
//   app.Stop();                 // stop accepting, stop jobs (they checkpoint), join threads
//
// Background loops (job workers, scheduler, follow-ups, health) run every iteration under
// Health::Guard: an exception is logged and counted (/healthz), never the end of the process.
// Construction opens the registry (throws on failure, also without B24SEG_TOKEN_KEY unless
// insecure_plaintext_tokens is on). libcurl must have been initialised by
// the caller (b24client::CurlGlobal in main). Thread-safety: Bind, Start and Stop belong to the
// thread that owns the App; everything else is internally synchronised.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config.hpp"
#include "health.hpp"
#include "http/request.hpp"
#include "http/work_pool.hpp"
#include "jobs.hpp"
#include "portals.hpp"
#include "registry.hpp"
#include "sync/engine.hpp"
#include "upkeep.hpp"

namespace server {

namespace http {
class HttpServer;
class SessionStore;
class RightsCache;
class OAuthServer;
class Lifecycle;
struct Services;
}  // namespace http

class App {
public:
    explicit App(Config config);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    // Binds the listener. Returns the port.
    int Bind();
    // Sets public_url (where portals reach us) before Start(): the demo learns its port only
    // after Bind().
    void SetPublicUrl(const std::string& url);
    // Starts the job runner and serves HTTP on a background thread. Returns once serving.
    void Start();
    // Stops accepting requests, then stops the jobs (each checkpoints). Idempotent.
    void Stop();

    int port() const;
    // "http://<listen_host>:<port>" (the local address, not public_url).
    std::string local_url() const;

    const Config& config() const { return config_; }
    Registry& registry() { return *registry_; }
    PortalManager& portals() { return *portals_; }
    JobRunner& jobs() { return *jobs_; }
    http::SessionStore& sessions() { return *sessions_; }
    http::RightsCache& rights() { return *rights_; }
    http::Lifecycle& lifecycle() { return *lifecycle_; }
    Health& health() { return health_; }
    // Rebuilds /healthz's snapshot now (the health loop does it every 2 s).
    void RefreshHealth();
    Upkeep& upkeep() { return *upkeep_; }

    // Asks for a run now; if the portal is busy, asks again when it is not (checked each second).
    void RunSoon(const std::string& member_id, sync::RunKind kind);

private:
    void FollowUpLoop();
    void HealthLoop();
    http::WorkKey WorkKeyOf(const http::Request& req) const;

    Config config_;
    Health health_;
    std::function<std::int64_t()> now_;
    std::unique_ptr<Registry> registry_;
    std::unique_ptr<PortalManager> portals_;
    std::unique_ptr<JobRunner> jobs_;
    std::unique_ptr<http::SessionStore> sessions_;
    std::unique_ptr<http::RightsCache> rights_;
    std::unique_ptr<http::OAuthServer> oauth_;
    std::unique_ptr<http::Lifecycle> lifecycle_;
    std::unique_ptr<http::Services> services_;
    std::unique_ptr<Upkeep> upkeep_;
    std::unique_ptr<http::HttpServer> http_;

    std::mutex follow_mutex_;
    std::condition_variable follow_wake_;
    std::map<std::string, sync::RunKind> follow_ups_;
    bool follow_stop_ = false;
    std::thread follow_thread_;
    std::thread health_thread_;

    bool started_ = false;
    bool stopped_ = false;
};

}  // namespace server
