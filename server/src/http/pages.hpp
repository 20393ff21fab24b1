#pragma once
// Routes the portal and the operator call (server/API.md "Pages the portal opens", "Operator"):
//   POST /b24/install   installer page: install (or confirm) the portal, render the install view
//   POST /b24/app       every other page: main page, CRM analytics menu, card tabs
//   POST /b24/events    ONAPPINSTALL, ONAPPUPDATE, ONAPPUNINSTALL, ONCRM* events
//   GET  /assets/<file> the built frontend's files (hashed names, cached for a year)
//   GET  /healthz       status, version, portals, running jobs
//
// Pages answer frontend/dist/index.html with the boot object injected before </head>, a CSP whose
// frame-ancestors is the stored portal's origin, and Cache-Control: no-store.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "http/http_server.hpp"
#include "http/services.hpp"

namespace server::http {

void RegisterPortalRoutes(HttpServer& server, Services& services);
void RegisterStaticRoutes(HttpServer& server, Services& services);

// index.html with `boot` injected as <script id="b24seg-boot" type="application/json"> before
// the first </head>. Throws std::runtime_error if the page has no </head>.
std::string InjectBoot(const std::string& index_html, const nlohmann::json& boot);

// The page CSP for a portal origin ("https://x.bitrix24.ru").
std::string PageCsp(const std::string& portal_origin);

// The Content-Type served for a file name under /assets/.
std::string AssetContentType(const std::string& file_name);

}  // namespace server::http
