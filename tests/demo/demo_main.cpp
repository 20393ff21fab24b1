// b24seg-demo: the app server with a built-in test portal (server/README.md "The demo").
//
// Starts a fake Bitrix24 cloud with one portal filled with a generated CRM (an admin, managers who
// read only their own clients, a contact named like an XSS attack), registers the app with the
// cloud under the real server's URLs, starts the real app server (server::App, as `b24seg serve`
// runs it) with plain-http portals allowed and the cloud as the OAuth server, installs the app the
// way a portal does (installer page, then ONAPPINSTALL), finishes the install, waits for the first
// sync, writes the ready file and prints the portal shell's URL. Runs until SIGTERM or SIGINT.
//
//   b24seg-demo [--listen 127.0.0.1:0] [--data-dir DIR] [--scale demo|small|bench]
//               [--frontend-dir frontend/dist] [--shell-dir tests/fakeportal/shell]
//               [--ready-file FILE]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app.hpp"
#include "b24client/curl_global.hpp"
#include "crypto.hpp"
#include "fakeportal/cloud.hpp"
#include "fakeportal/dataset.hpp"
#include "http/api.hpp"
#include "http/util.hpp"

#include <pthread.h>
#include <signal.h>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string data_dir = "b24seg-demo-data";
    std::string scale = "demo";
    std::string frontend_dir = "frontend/dist";
    std::string shell_dir = "tests/fakeportal/shell";
    std::string ready_file;
    bool verbose = false;
};

const char* kUsage =
    "usage: b24seg-demo [--listen HOST:PORT] [--data-dir DIR] [--scale demo|small|bench]\n"
    "                   [--frontend-dir DIR] [--shell-dir DIR] [--ready-file FILE] [--verbose]\n"
    "\n"
    "Runs the b24seg app server with a built-in test portal: generates the portal's CRM, installs\n"
    "the app into it as a portal does, runs the first sync, and prints the URL of a portal-like\n"
    "page with the app in its iframe. Port 0 picks a free port. Stops on SIGTERM or SIGINT.\n"
    "--verbose shows the server's log (one line per request) instead of warnings only.\n";

std::optional<Options> Parse(int argc, char** argv) {
    Options o;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                std::cerr << "b24seg-demo: " << a << " needs a value\n";
                return std::nullopt;
            }
            return args[++i];
        };
        std::optional<std::string> v;
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            std::exit(0);
        } else if (a == "--verbose") {
            o.verbose = true;
        } else if (a == "--listen") {
            if (!(v = value())) {
                return std::nullopt;
            }
            auto colon = v->rfind(':');
            if (colon == std::string::npos) {
                std::cerr << "b24seg-demo: --listen wants HOST:PORT\n";
                return std::nullopt;
            }
            o.host = v->substr(0, colon);
            try {
                o.port = std::stoi(v->substr(colon + 1));
            } catch (const std::exception&) {
                std::cerr << "b24seg-demo: bad port in --listen\n";
                return std::nullopt;
            }
        } else if (a == "--data-dir") {
            if (!(v = value())) {
                return std::nullopt;
            }
            o.data_dir = *v;
        } else if (a == "--scale") {
            if (!(v = value())) {
                return std::nullopt;
            }
            if (*v != "demo" && *v != "small" && *v != "bench") {
                std::cerr << "b24seg-demo: --scale is demo, small or bench\n";
                return std::nullopt;
            }
            o.scale = *v;
        } else if (a == "--frontend-dir") {
            if (!(v = value())) {
                return std::nullopt;
            }
            o.frontend_dir = *v;
        } else if (a == "--shell-dir") {
            if (!(v = value())) {
                return std::nullopt;
            }
            o.shell_dir = *v;
        } else if (a == "--ready-file") {
            if (!(v = value())) {
                return std::nullopt;
            }
            o.ready_file = *v;
        } else {
            std::cerr << "b24seg-demo: unknown argument " << a << "\n\n" << kUsage;
            return std::nullopt;
        }
    }
    return o;
}

fakeportal::DatasetOptions DatasetFor(const std::string& scale) {
    if (scale == "bench") {
        return fakeportal::BenchPreset();
    }
    fakeportal::DatasetOptions o = fakeportal::DemoPreset();
    if (scale == "small") {
        o.companies = 60;
        o.contacts = 120;
        o.deals = 200;
        o.invoices = 100;
        o.old_invoices = 5;
        o.activities = 600;
        o.requisites = 40;
        o.years = 4;
    }
    o.managers = 3;
    o.xss_contact = true;
    return o;
}

// Earlier demo runs' databases belong to portals that no longer exist: start clean. Only our own
// files are removed, never the directory's other contents.
void RemoveOldDemoData(const fs::path& dir) {
    if (!fs::exists(dir)) {
        return;
    }
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::string name = entry.path().filename().string();
        if (name.rfind("registry.db", 0) == 0 || name.rfind("portal-", 0) == 0) {
            fs::remove(entry.path());
        }
    }
}

void WriteReadyFile(const std::string& path, const json& ready) {
    fs::path target(path);
    if (target.has_parent_path()) {
        fs::create_directories(target.parent_path());
    }
    fs::path tmp = target;
    tmp += ".tmp";
    {
        std::ofstream out(tmp);
        out << ready.dump(2) << "\n";
    }
    fs::rename(tmp, target);  // readers never see a half-written file
}

// What the portal does after installFinish: it opens the app's page, which tells our server the
// install is finished.
bool OpenMainPage(fakeportal::Portal& portal, const std::string& client_id) {
    fakeportal::AppLaunch launch = portal.OpenApp(client_id, 1);
    auto scheme = launch.url.find("://");
    auto slash = launch.url.find('/', scheme + 3);
    httplib::Client cli(launch.url.substr(0, slash));
    cli.set_read_timeout(60, 0);
    std::string body;
    for (const auto& [k, v] : launch.fields) {
        body += (body.empty() ? "" : "&") + server::http::UrlEncode(k) + "=" +
                server::http::UrlEncode(v);
    }
    auto res = cli.Post(launch.url.substr(slash), body, "application/x-www-form-urlencoded");
    return res && res->status == 200;
}

int Run(const Options& o) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    if (!fs::exists(fs::path(o.frontend_dir) / "index.html")) {
        std::cerr << "b24seg-demo: " << o.frontend_dir
                  << "/index.html is missing; build the frontend first:\n"
                     "  (cd frontend && npm ci && npm run build)\n";
        return 2;
    }
    if (!fs::exists(fs::path(o.shell_dir) / "index.html")) {
        std::cerr << "b24seg-demo: " << o.shell_dir
                  << "/index.html is missing: the portal page will not be available\n";
    }
    fs::create_directories(o.data_dir);
    RemoveOldDemoData(o.data_dir);

    spdlog::set_level(o.verbose ? spdlog::level::info : spdlog::level::warn);
    b24client::CurlGlobal curl;
    fakeportal::Cloud cloud;
    fakeportal::PortalOptions portal_options;
    portal_options.shell_dir = fs::absolute(o.shell_dir).string();
    portal_options.language = "en";
    // The portal's limits stay on, but a card update costs it 0.03 s of operating time instead of
    // the 0.3 s measured on real portals: the first run's write-back then fits one 10-minute
    // budget and the demo is ready in about a minute rather than twenty.
    portal_options.costs.update = 0.03;
    fakeportal::Portal& portal = cloud.AddPortal(portal_options);
    std::cerr << "b24seg-demo: generating the test portal's CRM (" << o.scale << ")...\n";
    fakeportal::DatasetSummary summary = fakeportal::GenerateDataset(portal, DatasetFor(o.scale));
    std::cerr << "b24seg-demo: " << summary.contacts << " contacts, " << summary.companies
              << " companies, " << summary.deals << " deals, " << summary.invoices << " invoices, "
              << summary.activities << " activities\n";

    server::Config config;
    config.listen_host = o.host;
    config.listen_port = o.port;
    config.data_dir = o.data_dir;
    config.frontend_dir = fs::absolute(o.frontend_dir).string();
    config.oauth_url = cloud.token_url();
    config.client_id = "local.b24seg.demo";
    config.client_secret = server::Base64UrlEncode(server::RandomBytes(24));
    config.session_key = server::Base64UrlEncode(server::RandomBytes(32));
    // The demo's data directory is new at every start: a key per run encrypts its registry.
    config.token_key = server::HexEncode(server::RandomBytes(32));
    config.allow_http_portals = true;
    config.event_debounce_s = 10;
    server::Validate(config);
    server::App app(config);
    int port = app.Bind();
    std::string app_url = "http://" + o.host + ":" + std::to_string(port);
    app.SetPublicUrl(app_url);
    app.Start();

    fakeportal::AppRegistration reg;
    reg.client_id = config.client_id;
    reg.client_secret = config.client_secret;
    reg.code = "b24seg";
    reg.name = "Client segmentation (b24seg)";
    reg.handler_url = app_url + "/b24/app";
    reg.installer_url = app_url + "/b24/install";
    reg.install_event_url = app_url + "/b24/events";
    reg.scopes = {"crm", "placement", "user_brief"};
    cloud.RegisterApp(reg);
    portal.SetShellApp(config.client_id);

    std::cerr << "b24seg-demo: installing the app into the portal...\n";
    auto install =
        portal.InstallApp(config.client_id, 1, fakeportal::InstallFlow::kPageThenEvent, "en");
    if (install.page_status != 200 || install.event_status != 200) {
        std::cerr << "b24seg-demo: the install failed (installer page " << install.page_status
                  << ", install event " << install.event_status << ")\n";
        return 1;
    }
    portal.FinishInstall(config.client_id);
    if (!OpenMainPage(portal, config.client_id)) {
        std::cerr << "b24seg-demo: the app's main page did not open after the install\n";
        return 1;
    }

    const std::string member_id = portal.member_id();
    std::cerr << "b24seg-demo: first sync running (progress below)...\n";
    auto started = std::chrono::steady_clock::now();
    auto deadline = started + std::chrono::hours(2);
    std::string last_line;
    auto next_print = started;
    while (true) {
        auto db = app.portals().Db(member_id);
        auto run = db->LatestRun();
        if (run && run->state == "done" && server::http::FirstRunDone(*db) &&
            app.jobs().StateOf(member_id).empty()) {
            break;
        }
        if (run && run->state == "failed" && app.jobs().StateOf(member_id).empty()) {
            std::cerr << "b24seg-demo: the first sync failed: " << run->error_code << " "
                      << run->error_message << "\n";
            return 1;
        }
        auto now = std::chrono::steady_clock::now();
        if (now > deadline) {
            std::cerr << "b24seg-demo: the first sync did not finish in time\n";
            return 1;
        }
        if (run && now >= next_print) {
            std::string line = "  " + run->phase + ": " + std::to_string(run->months_done) + "/" +
                               std::to_string(run->months_total) + " months, " +
                               std::to_string(run->rows) + " rows, " +
                               std::to_string(run->cards_written) + "/" +
                               std::to_string(run->cards_to_write) + " cards written";
            if (line != last_line) {
                std::cerr << line << "\n";
                last_line = line;
            }
            next_print = now + std::chrono::seconds(2);
        }
        // Nothing to be woken by (the sync runs on the app's threads): poll its progress.
        sigset_t pending;
        sigpending(&pending);
        if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM)) {
            std::cerr << "b24seg-demo: stopped before the first sync finished\n";
            app.Stop();
            return 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    json users = json::array();
    for (const auto& u : portal.Users()) {
        users.push_back({{"id", u.id},
                         {"name", u.name + (u.last_name.empty() ? "" : " " + u.last_name)},
                         {"isAdmin", u.admin}});
    }
    const std::string shell_url = portal.base_url() + "/shell/index.html";
    json ready = {{"appUrl", app_url},
                  {"portalUrl", portal.base_url()},
                  {"shellUrl", shell_url},
                  {"memberId", member_id},
                  {"users", users}};
    if (!o.ready_file.empty()) {
        WriteReadyFile(o.ready_file, ready);
    }
    std::printf(
        "\nb24seg demo is ready (first sync: %.1f s).\n\n"
        "  Open the test portal with the app:  %s\n\n"
        "  Users (switch in the portal's top bar):\n",
        seconds, shell_url.c_str());
    for (const auto& u : users) {
        std::printf("    %3lld  %s%s\n", static_cast<long long>(u["id"].get<std::int64_t>()),
                    u["name"].get<std::string>().c_str(),
                    u["isAdmin"].get<bool>() ? "  (portal admin)" : "");
    }
    std::printf("\n  App server: %s   (data: %s)\n  Stop with Ctrl+C.\n\n", app_url.c_str(),
                o.data_dir.c_str());
    std::fflush(stdout);

    int signal = 0;
    sigwait(&stop, &signal);
    std::cerr << "b24seg-demo: stopping\n";
    app.Stop();
    cloud.Stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    auto options = Parse(argc, argv);
    if (!options) {
        return 2;
    }
    try {
        return Run(*options);
    } catch (const std::exception& e) {
        std::cerr << "b24seg-demo: " << e.what() << "\n";
        return 1;
    }
}
