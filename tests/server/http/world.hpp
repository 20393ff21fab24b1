#pragma once
// The world the HTTP tests run in: one fake Bitrix24 cloud, one real app server (server::App, the
// same object `b24seg serve` runs) on 127.0.0.1 with a port picked at run time, a minimal built
// frontend, and helpers that act as a portal (install, open pages, send events) and as the
// frontend (JSON API calls with a session).
//
// One World is shared by every test of the binary (World::Get()); tests that change a portal's
// life (uninstall, forged installs) use their own portal in it. Shutdown() stops it before
// libcurl is cleaned up (see main.cpp).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "app.hpp"
#include "fakeportal/cloud.hpp"
#include "fakeportal/dataset.hpp"
#include "support/temp_dir.hpp"

namespace httptest {

using nlohmann::json;

// The test app's secrets. main() also puts them into the environment (B24SEG_CLIENT_SECRET,
// B24SEG_TOKEN_KEY) before any thread starts, for the CLI run in-process and the b24seg child
// processes (the config file refuses secrets).
inline constexpr const char* kClientSecret = "test-client-secret-0123456789";
inline constexpr const char* kTokenKeyHex =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct Answer {
    int status = 0;  // 0: no answer (transport failure)
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    std::string Header(const std::string& name) const;  // case-insensitive, "" if absent
    json Json() const;                                  // discarded value if not JSON
};

// A portal page as our server rendered it.
struct Page {
    Answer answer;
    json boot;  // the injected boot object (null if none)
    std::string session() const { return boot.value("session", std::string()); }
};

struct TestPortal {
    fakeportal::Portal* portal = nullptr;
    fakeportal::DatasetSummary data;
    std::string member_id;
    std::string application_token;
    std::int64_t admin_id = 1;
    std::int64_t manager_id = 0;  // a user with CrmRead::kOwn
};

class World {
public:
    static World& Get();
    static void Shutdown();

    World();
    ~World();

    fakeportal::Cloud& cloud() { return *cloud_; }
    server::App& app() { return *app_; }
    const std::string& client_id() const { return client_id_; }
    const std::string& client_secret() const { return client_secret_; }
    const std::string& base_url() const { return base_url_; }
    const std::string& data_dir() const { return data_dir_; }

    // A new portal with a small generated CRM (admin, two managers with `own` rights, the
    // XSS-named contact, a contact named like a spreadsheet formula). Not installed.
    TestPortal NewPortal(std::uint64_t seed = 7);
    // Installs the app as the portal does and finishes the install.
    fakeportal::InstallResult Install(
        TestPortal& p, fakeportal::InstallFlow flow = fakeportal::InstallFlow::kPageThenEvent);
    // Polls (with a deadline) until the portal's first run is done.
    bool WaitFirstRun(const std::string& member_id,
                      std::chrono::seconds timeout = std::chrono::seconds(60));
    // Polls until no run is queued or going for the portal.
    bool WaitIdle(const std::string& member_id,
                  std::chrono::seconds timeout = std::chrono::seconds(60));

    // The shared, installed and synced portal most tests read.
    TestPortal& Main();

    // Opens the app as `user` in `placement` the way the portal shell does.
    Page Open(TestPortal& p,
              std::int64_t user,
              const std::string& placement = "DEFAULT",
              const json& options = json::object(),
              const std::string& lang = "en");
    // POSTs a form to an absolute URL or a path on our server.
    Answer PostForm(const std::string& url_or_path,
                    const std::vector<std::pair<std::string, std::string>>& fields);
    Answer PostRaw(const std::string& path, const std::string& body, const std::string& type);

    // JSON API calls with a session ("" = no Authorization header).
    Answer Api(const std::string& method,
               const std::string& path,
               const std::string& session,
               const std::string& body = "",
               const std::string& content_type = "application/json");

private:
    std::string client_id_ = "local.b24seg.test";
    std::string client_secret_ = kClientSecret;
    std::unique_ptr<support::TempDir> dir_;
    std::unique_ptr<fakeportal::Cloud> cloud_;
    std::unique_ptr<server::App> app_;
    std::string base_url_;
    std::string data_dir_;
    std::optional<TestPortal> main_;
};

// Form fields of an event as the portal sends it (PHP-style brackets).
std::vector<std::pair<std::string, std::string>> EventForm(const std::string& event,
                                                           const std::string& member_id,
                                                           const std::string& application_token,
                                                           const json& data = json::object(),
                                                           const json& extra_auth = json::object());

// The boot object in a page, or null.
json BootOf(const std::string& html);

}  // namespace httptest
