#include "cli.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <memory>
#include <sstream>
#include <thread>

#include <spdlog/cfg/env.h>
#include <spdlog/spdlog.h>

#include "app.hpp"
#include "b24client/error.hpp"
#include "config.hpp"
#include "crypto.hpp"
#include "db.hpp"
#include "http/util.hpp"
#include "jobs.hpp"
#include "portal_db.hpp"
#include "portals.hpp"
#include "registry.hpp"

#include <pthread.h>
#include <signal.h>

#ifndef B24SEG_VERSION
#define B24SEG_VERSION "0.0.0"
#endif

namespace server {

namespace {

std::int64_t UnixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// SIGINT and SIGTERM are blocked in every thread and taken with sigwait, so no handler runs in
// the middle of other code.
sigset_t StopSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

void BlockStopSignals() {
    sigset_t set = StopSignals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void SetUpLogging(const Config& config) {
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL overrides the file
}

std::string Time(std::optional<std::int64_t> t, std::int32_t offset) {
    if (!t || *t <= 0) {
        return "-";
    }
    return http::PortalTime(*t, offset);
}

std::int32_t OffsetOf(PortalDb& db) {
    auto text = db.GetMeta("portal.offset");
    try {
        return text ? static_cast<std::int32_t>(std::stol(*text)) : 0;
    } catch (const std::exception&) {
        return 0;
    }
}

std::string RegistryPath(const Config& config) {
    return Registry::PathIn(config.data_dir);
}

// The CLI reads an existing registry; it never creates one in a mistyped data directory. Opening
// it with the key encrypts what is not yet under it (as the server does at start).
std::unique_ptr<Registry> OpenRegistry(const Config& config, std::ostream& err) {
    if (!std::filesystem::exists(RegistryPath(config))) {
        err << "b24seg: no registry at " << RegistryPath(config)
            << " (no portal installed yet, or a wrong data_dir)\n";
        return nullptr;
    }
    return std::make_unique<Registry>(RegistryPath(config), TokenCipherFor(config));
}

std::string DbPathOf(const Config& config, const PortalRecord& record) {
    return (std::filesystem::path(config.data_dir) / record.db_file).string();
}

int Serve(const Config& config, std::ostream& err) {
    BlockStopSignals();
    App app(config);
    try {
        app.Bind();
    } catch (const std::exception& e) {
        // No listener, no service: exit non-zero so that systemd (Restart=on-failure) or the
        // container runtime notices, instead of a process that runs without HTTP.
        err << "b24seg: " << e.what() << "\n";
        spdlog::critical("{}", e.what());
        return 1;
    }
    app.Start();
    sigset_t set = StopSignals();
    int signal = 0;
    sigwait(&set, &signal);
    spdlog::info("signal {}: finishing the current batches and stopping", signal);
    app.Stop();
    (void)err;
    return 0;
}

int Portals(const Config& config, std::ostream& out, std::ostream& err) {
    auto registry = OpenRegistry(config, err);
    if (!registry) {
        return 1;
    }
    auto portals = registry->List();
    out << std::left << std::setw(34) << "MEMBER_ID" << std::setw(32) << "DOMAIN" << std::setw(12)
        << "STATE" << std::setw(12) << "PLAN" << std::setw(10) << "FINISHED"
        << "LAST RUN\n";
    for (const auto& r : portals) {
        std::string last = "-";
        std::string path = DbPathOf(config, r);
        if (std::filesystem::exists(path)) {
            try {
                PortalDb db(path);
                if (auto run = db.LatestRun()) {
                    last =
                        run->kind + " " + run->state + " " +
                        Time(run->finished_at ? run->finished_at : run->started_at, OffsetOf(db));
                    if (!run->error_code.empty()) {
                        last += " (" + run->error_code + ")";
                    }
                }
            } catch (const StorageError& e) {
                last = "data " + e.code() + " (see b24seg status)";
            }
        }
        std::string state = r.state + (r.block_code.empty() ? "" : "(" + r.block_code + ")");
        out << std::left << std::setw(34) << r.member_id << std::setw(32) << r.domain
            << std::setw(12) << state << std::setw(12) << r.plan << std::setw(10)
            << (r.install_finished ? "yes" : "no") << last << "\n";
    }
    out << portals.size() << " portal(s)\n";
    return 0;
}

int Status(const Config& config,
           const std::string& member_id,
           std::ostream& out,
           std::ostream& err) {
    auto registry = OpenRegistry(config, err);
    if (!registry) {
        return 1;
    }
    auto r = registry->Find(member_id);
    if (!r) {
        err << "b24seg: unknown portal " << member_id << "\n";
        return 1;
    }
    out << "member_id:  " << r->member_id << "\n"
        << "domain:     " << r->domain << "\n"
        << "endpoint:   " << r->endpoint << "\n"
        << "state:      " << r->state << "\n";
    if (!r->block_code.empty()) {
        out << "blocked:    " << r->block_code << ": " << r->block_message << "\n";
    }
    out << "plan:       " << r->plan << "\n"
        << "installed:  " << (r->install_finished ? "finished" : "not finished") << "\n"
        << "settings:   active " << r->active_months << " months, lost " << r->lost_months
        << " months\n"
        << "tokens:     " << (r->access_token.empty() ? "none" : "stored") << "\n";
    std::string path = DbPathOf(config, *r);
    if (!std::filesystem::exists(path)) {
        out << "data:       none yet\n";
        return 0;
    }
    std::unique_ptr<PortalDb> opened;
    try {
        opened = std::make_unique<PortalDb>(path);
    } catch (const StorageError& e) {
        out << "data:       " << e.code() << ": " << e.what() << "\n";
        if (e.code() == "database_corrupt") {
            out << "recovery:   b24seg clear " << member_id << " --config FILE"
                << " (rebuilds the portal's data from the portal)\n";
        }
        return 1;
    }
    PortalDb& db = *opened;
    std::int32_t offset = OffsetOf(db);
    out << "contacts:   " << db.Count("contact") << "\n"
        << "companies:  " << db.Count("company") << "\n"
        << "first pull: "
        << (db.GetMeta("pull.complete").value_or("0") == "1" ? "complete" : "not complete") << "\n"
        << "offline events: " << (db.GetMeta("offline.enabled").value_or("0") == "1" ? "on" : "off")
        << "\n"
        << "runs (newest first):\n";
    for (const auto& run : db.ListRuns(10)) {
        out << "  #" << run.id << " " << run.kind << " " << run.state << " phase " << run.phase
            << " started " << Time(run.started_at, offset) << " finished "
            << Time(run.finished_at, offset) << ", " << run.rows << " rows, " << run.requests
            << " requests, " << run.cards_written << "/" << run.cards_to_write << " cards";
        if (!run.error_code.empty()) {
            out << ", error " << run.error_code;
        }
        out << "\n";
    }
    if (auto latest = db.LatestRun(); latest && latest->state == "running") {
        FileLock probe(DbPathOf(config, *r) + ".lock");
        if (probe.locked()) {
            out << "note:       run #" << latest->id
                << " stopped without recording its end (the server stopped, or could not "
                   "write); the next run resumes it\n";
        }
    }
    return 0;
}

int Sync(const Config& config, const CliArgs& args, std::ostream& out, std::ostream& err);

int Clear(const Config& config, const CliArgs& args, std::ostream& out, std::ostream& err) {
    auto registry = OpenRegistry(config, err);
    if (!registry) {
        return 1;
    }
    auto record = registry->Find(args.member_id);
    if (!record) {
        err << "b24seg: unknown portal " << args.member_id << "\n";
        return 1;
    }
    const std::string path = DbPathOf(config, *record);
    {
        FileLock lock(path + ".lock");
        if (!lock.locked()) {
            err << "b24seg: a run is going for this portal; try again when it ends\n";
            return 3;
        }
        std::string state = "missing";
        if (std::filesystem::exists(path)) {
            try {
                PortalDb check(path);
                state = "intact";
            } catch (const StorageError& e) {
                state = e.code();
            }
        }
        const std::string aside = path + ".damaged-" + std::to_string(UnixNow());
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::error_code ec;
            if (std::filesystem::exists(path + suffix)) {
                std::filesystem::rename(path + suffix, aside + suffix, ec);
                if (ec) {
                    err << "b24seg: cannot move " << path << suffix << " aside: " << ec.message()
                        << "\n";
                    return 1;
                }
            }
        }
        PortalDb fresh(path);  // empty, migrated: the server and the run use it from now on
        out << "portal database was " << state << "; moved to " << aside
            << " and replaced by an empty one\n";
    }
    if (args.wait) {
        CliArgs full = args;
        full.full = true;
        return Sync(config, full, out, err);
    }
    registry->AddJobRequest(args.member_id, "full");
    out << "requested a full run: the running server rebuilds the portal's data from the portal "
           "within seconds (b24seg status "
        << args.member_id << " shows it)\n";
    return 0;
}

int Sync(const Config& config, const CliArgs& args, std::ostream& out, std::ostream& err) {
    auto opened = OpenRegistry(config, err);
    if (!opened) {
        return 1;
    }
    Registry& registry = *opened;
    if (!registry.Find(args.member_id)) {
        err << "b24seg: unknown portal " << args.member_id << "\n";
        return 1;
    }
    if (!args.wait) {
        registry.AddJobRequest(args.member_id, args.full ? "full" : "incremental");
        out << "requested a " << (args.full ? "full" : "incremental")
            << " run; the running server starts it within seconds (b24seg status " << args.member_id
            << " shows it)\n";
        return 0;
    }
    PortalManager portals(config, registry);
    {
        FileLock probe(portals.LockPath(args.member_id));
        if (!probe.locked()) {
            err << "b24seg: a run is already going for this portal\n";
            return 3;
        }
    }
    BlockStopSignals();
    b24client::CancelToken cancel;
    std::atomic<bool> finished{false};
    std::thread watcher([&] {
        sigset_t set = StopSignals();
        timespec tick{0, 200'000'000};
        while (!finished.load()) {
            if (sigtimedwait(&set, nullptr, &tick) > 0) {
                err << "b24seg: stopping after the current request (the run resumes later)\n";
                cancel.Cancel();
                return;
            }
        }
    });
    int code = 0;
    try {
        std::string last_line;
        RunRecord run = RunPortalSync(
            portals, args.member_id, args.full ? sync::RunKind::kFull : sync::RunKind::kIncremental,
            cancel, &UnixNow, [&](const RunRecord& r) {
                std::ostringstream line;
                line << "run #" << r.id << " " << r.kind << ": " << r.phase;
                if (r.phase == "pull" && r.months_total > 0) {
                    line << " " << r.months_done << "/" << r.months_total << " months";
                }
                if (r.phase == "write") {
                    line << " " << r.cards_written << "/" << r.cards_to_write << " cards";
                }
                line << ", " << r.rows << " rows, " << r.requests << " requests";
                if (line.str() != last_line) {
                    last_line = line.str();
                    out << last_line << std::endl;
                }
            });
        out << "run #" << run.id << " done: " << run.rows << " rows, " << run.requests
            << " requests, " << run.cards_written << " cards written\n";
    } catch (const RunLockBusy& e) {
        err << "b24seg: " << e.what() << "\n";
        code = 3;
    } catch (const b24client::Error& e) {
        err << "b24seg: "
            << (e.kind() == b24client::ErrorKind::kCancelled ? "stopped"
                                                             : "failed (" + RunFailureCode(e) + ")")
            << ": " << e.what() << "\n";
        code = 1;
    } catch (const std::exception& e) {
        err << "b24seg: failed (" << RunFailureCode(e) << "): " << e.what() << "\n";
        code = 1;
    }
    finished = true;
    watcher.join();
    return code;
}

int Purge(const Config& config,
          const std::string& member_id,
          std::ostream& out,
          std::ostream& err) {
    auto registry = OpenRegistry(config, err);
    if (!registry) {
        return 1;
    }
    auto record = registry->Find(member_id);
    if (!record) {
        err << "b24seg: unknown portal " << member_id << "\n";
        return 1;
    }
    if (record->state != "blocked") {
        err << "b24seg: portal " << member_id << " is " << record->state
            << "; only an uninstalled (or blocked) portal can be purged\n";
        return 1;
    }
    PortalManager portals(config, *registry);
    FileLock run_lock(portals.LockPath(member_id));
    if (!run_lock.locked()) {
        err << "b24seg: a run is going for this portal; try again when it ends\n";
        return 3;
    }
    std::string path = DbPathOf(config, *record);
    {
        auto lease = portals.token_backend().Acquire(member_id);
        registry->Delete(member_id);
    }
    portals.Forget(member_id);
    for (const char* suffix : {"", "-wal", "-shm", "-journal", ".tokens.lock", ".lock"}) {
        std::error_code ec;
        std::filesystem::remove(path + suffix, ec);
    }
    spdlog::info("portal {}: purged by the operator", member_id);
    out << "portal " << member_id << " purged: its database files and registry row are deleted\n";
    return 0;
}

int Rekey(const Config& config, std::ostream& out, std::ostream& err) {
    if (config.token_key.empty()) {
        err << "b24seg: rekey needs B24SEG_TOKEN_KEY (the new key; B24SEG_TOKEN_KEY_OLD the old "
               "one)\n";
        return 2;
    }
    auto registry = OpenRegistry(config, err);
    if (!registry) {
        return 1;
    }
    auto cipher = TokenCipherFor(config);
    out << registry->reencrypted_at_open() << " token value(s) re-encrypted; every stored token "
        << "is now under key " << cipher->key_id() << "\n";
    return 0;
}

}  // namespace

std::string CliUsage() {
    return "usage:\n"
           "  b24seg serve   --config FILE\n"
           "  b24seg portals --config FILE\n"
           "  b24seg status  <member_id> --config FILE\n"
           "  b24seg sync    <member_id> [--full] [--wait] --config FILE\n"
           "  b24seg clear   <member_id> [--wait] --config FILE\n"
           "  b24seg purge   <member_id> --config FILE\n"
           "  b24seg rekey   --config FILE\n"
           "  b24seg --help | --version\n"
           "\n"
           "serve    runs the app server until SIGTERM or SIGINT\n"
           "portals  lists installed portals and their state\n"
           "status   shows one portal: state, settings, data, last runs\n"
           "sync     asks the running server for a run; --wait runs it here and prints progress\n"
           "         (refused while another run of the portal is going); --full clears the\n"
           "         portal's pulled data first (\"clear and refresh\")\n"
           "clear    recovers from a damaged portal database: moves it aside, starts an empty\n"
           "         one and rebuilds it from the portal with a full run (--wait: here)\n"
           "purge    deletes an uninstalled (or blocked) portal's data and registry row now,\n"
           "         instead of after the grace period\n"
           "rekey    re-encrypts every stored token under B24SEG_TOKEN_KEY (key rotation: put\n"
           "         the previous key in B24SEG_TOKEN_KEY_OLD)\n"
           "\n"
           "Secrets come from the environment only: B24SEG_CLIENT_SECRET, B24SEG_SESSION_KEY,\n"
           "B24SEG_TOKEN_KEY (+ B24SEG_TOKEN_KEY_OLD); B24SEG_CLIENT_ID may be in the file.\n"
           "See deploy/config.example.json for the file.\n";
}

CliArgs ParseCliArgs(const std::vector<std::string>& args) {
    CliArgs out;
    std::vector<std::string> positional;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            out.command = "help";
            return out;
        }
        if (a == "--version") {
            out.command = "version";
            return out;
        }
        if (a == "--config") {
            if (i + 1 >= args.size()) {
                out.error = "--config needs a file";
                return out;
            }
            out.config = args[++i];
        } else if (a.rfind("--config=", 0) == 0) {
            out.config = a.substr(9);
        } else if (a == "--full") {
            out.full = true;
        } else if (a == "--wait") {
            out.wait = true;
        } else if (a.rfind("--", 0) == 0) {
            out.error = "unknown option " + a;
            return out;
        } else {
            positional.push_back(a);
        }
    }
    if (positional.empty()) {
        out.error = "no command given";
        return out;
    }
    out.command = positional[0];
    std::size_t want = 1;
    if (out.command == "status" || out.command == "sync" || out.command == "clear" ||
        out.command == "purge") {
        want = 2;
    } else if (out.command != "serve" && out.command != "portals" && out.command != "rekey") {
        out.error = "unknown command " + out.command;
        return out;
    }
    if (positional.size() != want) {
        out.error = want == 2 ? out.command + " needs exactly one member_id"
                              : out.command + " takes no arguments";
        return out;
    }
    if (want == 2) {
        out.member_id = positional[1];
    }
    if ((out.full && out.command != "sync") ||
        (out.wait && out.command != "sync" && out.command != "clear")) {
        out.error = "--full belongs to sync, --wait to sync and clear";
        return out;
    }
    if (out.config.empty()) {
        out.error = "--config FILE is required";
    }
    return out;
}

int RunCli(const CliArgs& args, std::ostream& out, std::ostream& err) {
    if (args.command == "help") {
        out << CliUsage();
        return 0;
    }
    if (args.command == "version") {
        out << "b24seg " << B24SEG_VERSION << "\n";
        return 0;
    }
    if (!args.error.empty()) {
        err << "b24seg: " << args.error << "\n\n" << CliUsage();
        return 2;
    }
    Config config;
    try {
        config = LoadConfig(args.config);
    } catch (const std::exception& e) {
        err << "b24seg: " << e.what() << "\n";
        return 2;
    }
    SetUpLogging(config);
    try {
        if (args.command == "serve") {
            return Serve(config, err);
        }
        if (args.command == "portals") {
            return Portals(config, out, err);
        }
        if (args.command == "status") {
            return Status(config, args.member_id, out, err);
        }
        if (args.command == "sync") {
            return Sync(config, args, out, err);
        }
        if (args.command == "clear") {
            return Clear(config, args, out, err);
        }
        if (args.command == "purge") {
            return Purge(config, args.member_id, out, err);
        }
        if (args.command == "rekey") {
            return Rekey(config, out, err);
        }
    } catch (const std::exception& e) {
        err << "b24seg: " << e.what() << "\n";
        return 1;
    }
    err << "b24seg: unknown command\n";
    return 2;
}

}  // namespace server
