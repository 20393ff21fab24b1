// Sync benchmark (issue 4). Fills the test portal with 85,000 clients (50,000 contacts, 35,000
// companies, 100,000 deals, 50,000 invoices, 400,000 activities, 30,000 requisites, 12 years) and
// runs: a first run, a second run with nothing changed, and a run after 1% of the records changed.
// For each run it prints HTTP requests by method, nested calls, operating seconds by method, cards
// written, CPU seconds and peak RSS of the sync process, and the projected wall time on a
// standard-plan portal next to the floor for the same data.
//
// The test portal runs in a child process (forked before anything is loaded), so the CPU and
// memory figures are the sync's own. Both processes share a virtual clock: the portal enforces
// the standard plan's limits (bucket 50 / 2 per s, 480 s per method per 10 min, its simulated
// costs per call), and when our client waits for them it advances the shared clock instead of
// sleeping, so the runs take minutes of real time and are refused exactly as a real portal
// would refuse them. The projected wall time is computed from the portal's counters per phase
// (see Project and the comment at the projection); the real time is what the CPU work took.
//
//   sync_bench [--scale 1.0] [--no-offline-events] [--seed 42] [--update-cost 0.30]
//
// --update-cost sets the portal's simulated seconds per card update (its default, 0.30 s, is
// the pessimistic end of what users report); writes dominate the first run's projection.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "b24client/curl_global.hpp"
#include "fakeportal/cloud.hpp"
#include "fakeportal/dataset.hpp"
#include "jobs.hpp"
#include "portals.hpp"
#include "registry.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using nlohmann::json;

constexpr const char* kClientId = "local.b24seg.bench";
constexpr const char* kClientSecret = "bench-secret-0123456789";

// --- virtual time shared by both processes ----------------------------------------------------

struct SharedTime {
    std::atomic<std::int64_t> offset_us{0};
};
SharedTime* g_time = nullptr;

double RealNow() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double VirtualNow() {
    return RealNow() + static_cast<double>(g_time->offset_us.load()) / 1e6;
}

// Our client's clock: waiting moves the shared clock forward at once, to the sleeper's wake-up
// time (two threads sleeping at the same time move it once, to the later of the two).
class VirtualClock : public b24client::Clock {
public:
    double Now() override { return VirtualNow(); }
    void SleepFor(double seconds) override {
        if (seconds <= 0) {
            return;
        }
        const double real = RealNow();
        const double wake = real + static_cast<double>(g_time->offset_us.load()) / 1e6 + seconds;
        const auto needed = static_cast<std::int64_t>((wake - real) * 1e6);
        std::int64_t current = g_time->offset_us.load();
        while (current < needed && !g_time->offset_us.compare_exchange_weak(current, needed)) {
        }
    }
};

// --- a line protocol over a socketpair -------------------------------------------------------

void WriteLine(int fd, const std::string& line) {
    std::string data = line + "\n";
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n <= 0) {
            std::perror("write");
            std::exit(1);
        }
        off += static_cast<std::size_t>(n);
    }
}

std::string ReadLine(int fd) {
    std::string line;
    char c = 0;
    while (::read(fd, &c, 1) == 1) {
        if (c == '\n') {
            return line;
        }
        line.push_back(c);
    }
    return line;
}

// --- the portal process ----------------------------------------------------------------------

json Counters(fakeportal::Portal& portal) {
    auto c = portal.Counters();
    json methods = json::object();
    for (const auto& [name, m] : c.methods) {
        methods[name] = {{"http", m.http_requests},
                         {"nested", m.nested_calls},
                         {"direct", m.direct_calls},
                         {"rows", m.rows_returned},
                         {"operating", m.operating_seconds}};
    }
    json sizes = json::object();
    for (const auto& [size, n] : c.batch_sizes) {
        sizes[std::to_string(size)] = n;
    }
    return {{"http", c.http_requests},       {"methods", methods},
            {"batch_sizes", sizes},          {"writes", c.writes.size()},
            {"qle", c.query_limit_exceeded}, {"otl", c.operation_time_limit}};
}

// Changes `fraction` of every kind of record the way users do: renames and new phones on
// contacts and companies, a contact moving to another company, deals and invoices moving stage,
// activities edited, requisites edited.
json Mutate(fakeportal::Portal& portal, double fraction, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::int64_t> contacts, companies, deals, invoices, activities, requisites;
    portal.Read([&](const fakeportal::CrmData& crm) {
        for (const auto& r : crm.contacts.rows)
            contacts.push_back(r.id);
        for (const auto& r : crm.companies.rows)
            if (!r.is_my_company)
                companies.push_back(r.id);
        for (const auto& r : crm.deals.rows)
            deals.push_back(r.id);
        for (const auto& r : crm.invoices.rows)
            invoices.push_back(r.id);
        for (const auto& r : crm.activities.rows)
            activities.push_back(r.id);
        for (const auto& r : crm.requisites.rows)
            requisites.push_back(r.id);
    });
    auto pick = [&](std::vector<std::int64_t>& ids) {
        std::shuffle(ids.begin(), ids.end(), rng);
        ids.resize(static_cast<std::size_t>(std::ceil(static_cast<double>(ids.size()) * fraction)));
        return ids;
    };
    json changed = json::object();
    fakeportal::MutationContext user;
    user.user_id = 1;
    std::size_t n = 0;
    for (std::int64_t id : pick(contacts)) {
        if (n++ % 3 == 0 && !companies.empty()) {
            portal.MoveContactToCompany(id, 0, companies[n % companies.size()], true, user);
        } else {
            portal.Update<fakeportal::Contact>(
                id,
                [&](fakeportal::Contact& c) {
                    c.fm.push_back({0, "PHONE", "WORK", "+7 900 " + std::to_string(1000000 + n)});
                },
                user);
        }
    }
    changed["contacts"] = contacts.size();
    for (std::int64_t id : pick(companies)) {
        portal.Update<fakeportal::Company>(
            id, [&](fakeportal::Company& c) { c.title += " Ltd"; }, user);
    }
    changed["companies"] = companies.size();
    n = 0;
    for (std::int64_t id : pick(deals)) {
        portal.MoveDealToStage(id, (n++ % 2 == 0) ? "WON" : "LOSE", user);
    }
    changed["deals"] = deals.size();
    for (std::int64_t id : pick(invoices)) {
        portal.Update<fakeportal::SmartInvoice>(
            id, [](fakeportal::SmartInvoice& i) { i.title += " (corrected)"; }, user);
    }
    changed["invoices"] = invoices.size();
    for (std::int64_t id : pick(activities)) {
        portal.Update<fakeportal::Activity>(
            id, [](fakeportal::Activity& a) { a.subject += " (follow-up)"; }, user);
    }
    changed["activities"] = activities.size();
    for (std::int64_t id : pick(requisites)) {
        portal.Update<fakeportal::Requisite>(
            id, [](fakeportal::Requisite& r) { r.rq_inn = "7700000000"; }, user);
    }
    changed["requisites"] = requisites.size();
    return changed;
}

[[noreturn]] void PortalProcess(
    int fd, double scale, bool offline, std::uint64_t seed, double update_cost) {
    fakeportal::CloudOptions cloud_options;
    cloud_options.clock = VirtualNow;
    fakeportal::Cloud cloud(cloud_options);
    fakeportal::AppRegistration app;
    app.client_id = kClientId;
    app.client_secret = kClientSecret;
    app.handler_url = "http://127.0.0.1:9/b24/app";
    app.installer_url = app.handler_url;
    app.install_event_url = "http://127.0.0.1:9/b24/events";
    cloud.RegisterApp(app);
    fakeportal::PortalOptions options;
    options.offline_events_feature = offline;
    options.plan = fakeportal::StandardPlan();  // limits enforced, as on a real standard plan
    if (update_cost > 0) {
        options.costs.update = update_cost;
    }
    options.threads = 2;
    fakeportal::Portal& portal = cloud.AddPortal(options);
    fakeportal::DatasetOptions data = fakeportal::BenchPreset();
    data.seed = seed;
    auto scaled = [&](int v) { return std::max(1, static_cast<int>(v * scale)); };
    data.contacts = scaled(data.contacts);
    data.companies = scaled(data.companies);
    data.deals = scaled(data.deals);
    data.invoices = scaled(data.invoices);
    data.old_invoices = scaled(data.old_invoices);
    data.activities = scaled(data.activities);
    data.requisites = scaled(data.requisites);
    auto summary = fakeportal::GenerateDataset(portal, data);
    auto installed = portal.InstallApp(kClientId, 1, fakeportal::InstallFlow::kSilent);
    json ready = {{"endpoint", portal.endpoint()},
                  {"domain", portal.domain()},
                  {"member_id", portal.member_id()},
                  {"application_token", installed.application_token},
                  {"access_token", installed.admin_tokens.access_token},
                  {"refresh_token", installed.admin_tokens.refresh_token},
                  {"token_url", cloud.token_url()},
                  {"rows",
                   {{"contact", summary.contacts},
                    {"company", summary.companies},
                    {"deal", summary.deals},
                    {"invoice", summary.invoices},
                    {"old_invoice", summary.old_invoices},
                    {"activity", summary.activities},
                    {"requisite", summary.requisites}}},
                  {"generate_s", summary.seconds}};
    WriteLine(fd, ready.dump());
    while (true) {
        std::string cmd = ReadLine(fd);
        if (cmd == "counters") {
            WriteLine(fd, Counters(portal).dump());
        } else if (cmd == "reset") {
            portal.ResetCounters();
            WriteLine(fd, "ok");
        } else if (cmd.rfind("mutate ", 0) == 0) {
            WriteLine(fd, Mutate(portal, std::stod(cmd.substr(7)), seed + 1).dump());
        } else {
            cloud.Stop();
            std::_Exit(0);
        }
    }
}

// --- the sync process --------------------------------------------------------------------------

double ThreadCpuSeconds() {
    rusage u{};
    ::getrusage(RUSAGE_THREAD, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double PeakRssMb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stod(line.substr(6)) / 1024.0;
        }
    }
    return 0;
}

// Time to spend `operating` seconds of one method's execution time with 480 s allowed per
// 10-minute window, calls back to back.
double MethodWallSeconds(double operating) {
    const double limit = 480, window = 600;
    if (operating <= limit) {
        return operating;
    }
    double full = std::floor(operating / limit);
    double rest = operating - full * limit;
    return rest > 0 ? full * window + rest : (full - 1) * window + limit;
}

// The standard plan's bucket: 50 at once, then 2 per second.
double BucketWallSeconds(double requests) {
    return std::max(0.0, (requests - 50) / 2.0);
}

struct Projection {
    double bucket = 0, busiest_method = 0, wall = 0;
    std::string busiest;
};

Projection Project(const json& delta) {
    Projection p;
    p.bucket = BucketWallSeconds(delta["http"].get<double>());
    for (const auto& [method, m] : delta["methods"].items()) {
        double t = MethodWallSeconds(m["operating"].get<double>());
        if (t > p.busiest_method) {
            p.busiest_method = t;
            p.busiest = method;
        }
    }
    p.wall = std::max(p.bucket, p.busiest_method);
    return p;
}

json Delta(const json& after, const json& before) {
    json d = {
        {"http", after["http"].get<std::int64_t>() - before["http"].get<std::int64_t>()},
        {"writes", after["writes"].get<std::int64_t>() - before["writes"].get<std::int64_t>()},
        {"qle", after["qle"].get<std::int64_t>() - before["qle"].get<std::int64_t>()},
        {"methods", json::object()}};
    for (const auto& [method, m] : after["methods"].items()) {
        json b = before["methods"].value(
            method,
            json{{"http", 0}, {"nested", 0}, {"direct", 0}, {"rows", 0}, {"operating", 0.0}});
        json x = {{"http", m["http"].get<std::int64_t>() - b["http"].get<std::int64_t>()},
                  {"nested", m["nested"].get<std::int64_t>() - b["nested"].get<std::int64_t>()},
                  {"direct", m["direct"].get<std::int64_t>() - b["direct"].get<std::int64_t>()},
                  {"rows", m["rows"].get<std::int64_t>() - b["rows"].get<std::int64_t>()},
                  {"operating", m["operating"].get<double>() - b["operating"].get<double>()}};
        if (x["http"] != 0 || x["nested"] != 0 || x["direct"] != 0) {
            d["methods"][method] = x;
        }
    }
    return d;
}

std::string Minutes(double seconds) {
    char buf[64];
    if (seconds < 90) {
        std::snprintf(buf, sizeof buf, "%.0f s", seconds);
    } else if (seconds < 5400) {
        std::snprintf(buf, sizeof buf, "%.1f min", seconds / 60);
    } else {
        std::snprintf(buf, sizeof buf, "%.2f h", seconds / 3600);
    }
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    double scale = 1.0;
    bool offline = true;
    std::uint64_t seed = 42;
    double update_cost = 0;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--scale" && i + 1 < argc) {
            scale = std::stod(argv[++i]);
        } else if (a == "--no-offline-events") {
            offline = false;
        } else if (a == "--update-cost" && i + 1 < argc) {
            update_cost = std::stod(argv[++i]);
        } else if (a == "--seed" && i + 1 < argc) {
            seed = std::stoull(argv[++i]);
        } else {
            std::fprintf(stderr,
                         "usage: sync_bench [--scale F] [--no-offline-events] [--seed N] "
                         "[--update-cost S]\n");
            return 2;
        }
    }
    void* page = ::mmap(nullptr, sizeof(SharedTime), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        std::perror("mmap");
        return 1;
    }
    g_time = new (page) SharedTime();
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        std::perror("socketpair");
        return 1;
    }
    pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[0]);
        PortalProcess(fds[1], scale, offline, seed, update_cost);
    }
    ::close(fds[1]);
    int fd = fds[0];
    b24client::CurlGlobal curl;
    spdlog::set_level(spdlog::level::warn);

    json ready = json::parse(ReadLine(fd));
    std::printf("portal: %s rows generated in %.1f s (%s)\n", ready["rows"].dump().c_str(),
                ready["generate_s"].get<double>(),
                offline ? "offline events" : "modified-since walks");

    auto dir =
        std::filesystem::temp_directory_path() / ("b24seg-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    server::Config config;
    config.data_dir = dir.string();
    config.oauth_url = ready["token_url"];
    config.client_id = kClientId;
    config.client_secret = kClientSecret;
    config.allow_http_portals = true;
    server::Registry registry(config.data_dir + "/registry.db");
    server::PortalRecord r;
    r.member_id = ready["member_id"];
    r.domain = ready["domain"];
    r.endpoint = ready["endpoint"];
    r.db_file = server::Registry::DbFileFor(r.member_id);
    r.application_token = ready["application_token"];
    r.access_token = ready["access_token"];
    r.refresh_token = ready["refresh_token"];
    r.state = "active";
    registry.Upsert(r);
    auto clock = std::make_shared<VirtualClock>();
    server::PortalManager portals(config, registry, clock);
    if (offline) {
        auto client = portals.AdminClient(r.member_id);
        std::vector<b24client::Command> cmds;
        for (const char* ev :
             {"ONCRMCONTACTADD", "ONCRMCONTACTUPDATE", "ONCRMCONTACTDELETE", "ONCRMCOMPANYADD",
              "ONCRMCOMPANYUPDATE", "ONCRMCOMPANYDELETE", "ONCRMDEALADD", "ONCRMDEALUPDATE",
              "ONCRMDEALDELETE", "ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE",
              "ONCRMDYNAMICITEMDELETE", "ONCRMACTIVITYADD", "ONCRMACTIVITYUPDATE",
              "ONCRMACTIVITYDELETE", "ONCRMREQUISITEADD", "ONCRMREQUISITEUPDATE",
              "ONCRMREQUISITEDELETE"}) {
            b24client::Command c;
            c.method = "event.bind";
            c.params = {{"event", ev}, {"event_type", "offline"}, {"auth_connector", "b24seg"}};
            cmds.push_back(c);
        }
        client->Batch(cmds);
        portals.Db(r.member_id)->SetMeta("offline.enabled", "1");
    }

    auto counters = [&] {
        WriteLine(fd, "counters");
        return json::parse(ReadLine(fd));
    };
    auto now = [] { return static_cast<std::int64_t>(VirtualNow()); };
    // T of the segment values, the same for all runs: what changes between runs is the data, not
    // the calendar (the first run takes hours of portal time).
    const std::int64_t t = now();

    struct Step {
        const char* name;
        server::sync::RunKind kind;
        double mutate;
    };
    const Step steps[] = {{"first run", server::sync::RunKind::kFirst, 0},
                          {"nothing changed", server::sync::RunKind::kIncremental, 0},
                          {"1% changed", server::sync::RunKind::kIncremental, 0.01}};
    for (const Step& step : steps) {
        json mutated;
        if (step.mutate > 0) {
            WriteLine(fd, "mutate " + std::to_string(step.mutate));
            mutated = json::parse(ReadLine(fd));
        }
        json before = counters();
        double cpu0 = ThreadCpuSeconds();
        auto t0 = std::chrono::steady_clock::now();
        // Counters at the start of each phase: the projection models the pull as one stream of
        // requests and the write phase as two (one per update method), as the engine runs them.
        std::map<std::string, json> phase_start;
        std::string phase;
        auto on_progress = [&](const server::RunRecord& progress) {
            if (progress.phase != phase) {
                phase = progress.phase;
                phase_start[phase] = counters();
            }
        };
        server::RunRecord run;
        try {
            run = server::RunPortalSync(portals, r.member_id, step.kind, b24client::CancelToken{},
                                        now, on_progress, [t] { return t; });
        } catch (const std::exception& e) {
            std::printf("\n== %s: the run failed: %s\n", step.name, e.what());
            WriteLine(fd, "quit");
            ::waitpid(child, nullptr, 0);
            return 1;
        }
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double cpu = ThreadCpuSeconds() - cpu0;
        json after_counters = counters();
        json d = Delta(after_counters, before);

        std::printf("\n== %s (run %lld, %s)%s\n", step.name, static_cast<long long>(run.id),
                    run.kind.c_str(),
                    mutated.is_null() ? "" : (" changed: " + mutated.dump()).c_str());
        std::printf("  %-32s %8s %8s %8s %10s %12s\n", "method", "http", "direct", "nested", "rows",
                    "operating s");
        for (const auto& [method, m] : d["methods"].items()) {
            std::printf("  %-32s %8lld %8lld %8lld %10lld %12.1f\n", method.c_str(),
                        static_cast<long long>(m["http"].get<std::int64_t>()),
                        static_cast<long long>(m["direct"].get<std::int64_t>()),
                        static_cast<long long>(m["nested"].get<std::int64_t>()),
                        static_cast<long long>(m["rows"].get<std::int64_t>()),
                        m["operating"].get<double>());
        }
        // The floor: every stored row once at 2,500 rows per request, and the changed cards at 50
        // per request. For the first run every row is read; later runs need only the changes.
        double floor_reads = 0;
        if (step.kind == server::sync::RunKind::kFirst) {
            for (const auto& [entity, rows] : ready["rows"].items()) {
                floor_reads += std::ceil(rows.get<double>() / 2500.0);
            }
        } else if (!mutated.is_null()) {
            double rows = 0;
            for (const auto& [entity, n] : mutated.items()) {
                rows += n.get<double>();
            }
            floor_reads = std::ceil(rows / 2500.0);
        }
        double floor_writes = std::ceil(static_cast<double>(run.cards_written) / 50.0);
        double floor = floor_reads + floor_writes;
        Projection p = Project(d);
        std::printf("  HTTP requests: %lld (floor %.0f = %.0f reads + %.0f writes; ratio %.3f)\n",
                    static_cast<long long>(d["http"].get<std::int64_t>()), floor, floor_reads,
                    floor_writes, floor > 0 ? d["http"].get<double>() / floor : 0.0);
        std::printf(
            "  cards written: %lld (portal saw %lld card writes); QUERY_LIMIT_EXCEEDED: %lld\n",
            static_cast<long long>(run.cards_written),
            static_cast<long long>(d["writes"].get<std::int64_t>()),
            static_cast<long long>(d["qle"].get<std::int64_t>()));
        std::printf("  sync CPU: %.1f s   wall here: %.1f s   peak RSS: %.0f MB\n", cpu, wall,
                    PeakRssMb());
        {
            // How full the batches were (commands per batch: count), for judging the packing.
            std::map<int, std::int64_t> hist;
            for (const auto& [size, n] : after_counters["batch_sizes"].items()) {
                hist[std::stoi(size)] += n.get<std::int64_t>();
            }
            for (const auto& [size, n] : before["batch_sizes"].items()) {
                hist[std::stoi(size)] -= n.get<std::int64_t>();
            }
            std::string line;
            for (const auto& [size, n] : hist) {
                if (n > 0) {
                    line += " " + std::to_string(size) + ":" + std::to_string(n);
                }
            }
            std::printf("  batches by size (commands:count):%s\n", line.c_str());
        }
        // Projection: the phases run one after another; within the pull one request follows
        // the other, so its time is its processing, or a method's budget, or the bucket,
        // whichever binds; in the write phase two streams (contacts, companies) run side by side
        // and each is bound by its method's budget.
        auto phase_delta = [&](const char* from, const char* to) -> json {
            if (phase_start.count(from) == 0) {
                return Delta(before, before);
            }
            const json& end = phase_start.count(to) != 0 ? phase_start[to] : after_counters;
            return Delta(end, phase_start[from]);
        };
        auto processing = [](const json& delta) {
            double sum = 0;
            for (const auto& [method, m] : delta["methods"].items()) {
                sum += m["operating"].get<double>();
            }
            return sum;
        };
        json pull = phase_delta("pull", "compute");
        json write = phase_delta("write", "done");
        double pull_time = std::max(processing(pull), Project(pull).wall);
        double write_time = Project(write).wall;
        double other_time = std::max(0.0, processing(d) - processing(pull) - processing(write));
        std::printf(
            "  projected wall time on a standard plan: %s (pull %s: one stream, %s of "
            "processing; write %s: two streams, bound by %s; the rest %s)\n",
            Minutes(other_time + pull_time + write_time).c_str(), Minutes(pull_time).c_str(),
            Minutes(processing(pull)).c_str(), Minutes(write_time).c_str(),
            Project(write).busiest.empty() ? "-" : Project(write).busiest.c_str(),
            Minutes(other_time).c_str());
        std::printf("  the floor's %0.f requests alone take %s of bucket at 2 requests/s\n", floor,
                    Minutes(BucketWallSeconds(floor)).c_str());
    }
    WriteLine(fd, "quit");
    ::waitpid(child, nullptr, 0);
    std::filesystem::remove_all(dir);
    return 0;
}
