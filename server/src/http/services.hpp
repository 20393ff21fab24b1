#pragma once
// What the HTTP handlers share: the server's long-lived parts, owned by server::App. Handlers hold
// references; everything referenced is thread-safe.

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "health.hpp"
#include "jobs.hpp"
#include "portals.hpp"
#include "registry.hpp"
#include "sync/engine.hpp"

namespace server::http {

class SessionStore;
class RightsCache;
class OAuthServer;
class Lifecycle;

struct Services {
    const Config& config;
    Registry& registry;
    PortalManager& portals;
    JobRunner& jobs;
    SessionStore& sessions;
    RightsCache& rights;
    const OAuthServer& oauth;
    Lifecycle& lifecycle;
    std::function<std::int64_t()> now;  // unix seconds
    // Asks for a run; if one is queued or running, asks again after it (settings changes).
    std::function<void(const std::string& member_id, sync::RunKind kind)> run_soon;
    // What /healthz reports (a snapshot: no I/O), and the listener's live figures for it.
    Health& health;
    std::function<nlohmann::json()> http_stats;
};

}  // namespace server::http
