#pragma once
// The JSON API the frontend calls (server/API.md "JSON API"): sessions, dashboard, lists and CSV
// export, the card tab's client detail, status, runs, clear-and-refresh and settings.
//
// Every call but /api/session/refresh carries "Authorization: Bearer <session>". Parameters are
// validated strictly: an unknown or repeated query parameter, a bad value or a malformed JSON
// body is a 400 naming the parameter, and nothing changes. Admin-only calls check the session's
// admin flag (which came from the portal's `profile`) on the server.

#include <nlohmann/json.hpp>

#include "http/http_server.hpp"
#include "http/services.hpp"
#include "portal_db.hpp"
#include "registry.hpp"

namespace server::http {

void RegisterApiRoutes(HttpServer& server, Services& services);

// The /api/status object (also the answer to POST /api/runs and /api/clear-refresh).
nlohmann::json StatusJson(Services& services, const PortalRecord& record, PortalDb& db);
// The /api/dashboard object.
nlohmann::json DashboardJson(Services& services, const PortalRecord& record, PortalDb& db);

// Whether the portal's first run has finished (data pulled and computed).
bool FirstRunDone(PortalDb& db);

}  // namespace server::http
