#include "robust_world.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <httplib.h>

#include "fakeportal/dataset.hpp"
#include "support/wait.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace robust {

const char* const kTokenKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

namespace {

using Clock = std::chrono::steady_clock;

void WriteFile(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
}

std::string UrlEncode(const std::string& s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

std::string FormBody(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string body;
    for (const auto& [k, v] : fields) {
        body += (body.empty() ? "" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
    }
    return body;
}

Reply ToReply(const httplib::Result& r, Clock::time_point start) {
    Reply out;
    out.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (r) {
        out.status = r->status;
        out.body = r->body;
    }
    return out;
}

std::unique_ptr<httplib::Client> ClientFor(int port) {
    auto cli = std::make_unique<httplib::Client>("127.0.0.1", port);
    cli->set_connection_timeout(5, 0);
    cli->set_read_timeout(10, 0);
    cli->set_write_timeout(10, 0);
    return cli;
}

void AddSmallCrm(fakeportal::Portal& portal, std::uint64_t seed, int scale) {
    fakeportal::DatasetOptions data;
    data.seed = seed;
    data.companies = 30 * scale;
    data.contacts = 45 * scale;
    data.deals = 70 * scale;
    data.invoices = 35 * scale;
    data.old_invoices = 3;
    data.activities = 160 * scale;
    data.requisites = 15 * scale;
    data.years = 3;
    data.managers = 2;
    data.import_bursts = 1;
    fakeportal::GenerateDataset(portal, data);
}

}  // namespace

std::string SessionOf(const std::string& html) {
    const std::string open = R"(<script id="b24seg-boot" type="application/json">)";
    auto a = html.find(open);
    if (a == std::string::npos) {
        return {};
    }
    a += open.size();
    auto b = html.find("</script>", a);
    if (b == std::string::npos) {
        return {};
    }
    json boot = json::parse(html.substr(a, b - a), nullptr, false);
    return boot.is_object() ? boot.value("session", std::string()) : std::string();
}

RobustWorld::RobustWorld(std::string binary, WorldOptions options)
    : binary_(std::move(binary)), options_(std::move(options)) {}

RobustWorld::~RobustWorld() {
    Stop();
    if (cloud_) {
        cloud_->Stop();
    }
}

std::string RobustWorld::LogTail(std::size_t bytes) const {
    std::ifstream in(log_path_, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

void RobustWorld::Start() {
    dir_ = std::make_unique<support::TempDir>("b24seg-robust");
    const std::filesystem::path fe = dir_->path() / "frontend";
    WriteFile(fe / "index.html",
              "<!doctype html><html><head><meta charset=\"utf-8\"><title>b24seg</title></head>"
              "<body><script type=\"module\" src=\"/assets/app-r1.js\"></script></body></html>\n");
    WriteFile(fe / "assets" / "app-r1.js", "export const answer = 42;\n");

    cloud_ = std::make_unique<fakeportal::Cloud>();
    port_ = support::FreeLoopbackPort();
    const std::string base = "http://127.0.0.1:" + std::to_string(port_);
    json config = {{"listen_host", "127.0.0.1"},
                   {"listen_port", port_},
                   {"public_url", base},
                   {"data_dir", dir_->File("data")},
                   {"frontend_dir", fe.string()},
                   {"oauth_url", cloud_->token_url()},
                   {"allow_http_portals", true},
                   {"event_debounce_s", 0},
                   // The portal's request bucket as our limiter models it: small enough that a
                   // storm of one user's calls has to wait for it.
                   {"standard_drain_per_s", 5.0},
                   {"standard_burst", 60},
                   // Shorter than the default 10 s so that the probes see slow senders cut off.
                   {"request_timeout_s", 5},
                   {"log_level", "warn"}};
    config.update(options_.config);
    data_dir_ = config["data_dir"].get<std::string>();
    config_path_ = dir_->File("config.json");
    WriteFile(config_path_, config.dump(2));
    log_path_ = dir_->File("serve.log");

    fakeportal::AppRegistration reg;
    reg.client_id = client_id_;
    reg.client_secret = client_secret_;
    reg.name = "b24seg";
    reg.handler_url = base + "/b24/app";
    reg.installer_url = base + "/b24/install";
    reg.install_event_url = base + "/b24/events";
    reg.scopes = {"crm", "placement", "user_brief"};
    cloud_->RegisterApp(reg);

    StartServer();

    auto add = [&](WorldPortal& p, std::uint64_t seed) {
        fakeportal::PortalOptions options;
        options.limits.enforce_bucket = false;
        options.limits.enforce_operating = false;
        options.seed = seed;
        p.portal = &cloud_->AddPortal(options);
        AddSmallCrm(*p.portal, seed, options_.data_scale);
        p.member_id = p.portal->member_id();
        for (const auto& u : p.portal->Users()) {
            if (!u.admin && p.manager_id == 0) {
                p.manager_id = u.id;
            }
        }
        auto installed =
            p.portal->InstallApp(client_id_, p.admin_id, fakeportal::InstallFlow::kPageThenEvent);
        p.application_token = installed.application_token;
        p.portal->FinishInstall(client_id_);
    };
    std::vector<WorldPortal*> portals = {&first_, &second_};
    portals.resize(static_cast<std::size_t>(std::clamp(options_.portals, 0, 2)));
    for (std::size_t i = 0; i < portals.size(); ++i) {
        add(*portals[i], 11 + i);
    }
    if (options_.file_size_limit > 0) {
        return;  // the first runs are what a disk-full test watches fail
    }
    for (WorldPortal* p : portals) {
        if (!WaitSynced(*p, std::chrono::seconds(120))) {
            throw std::runtime_error("portal " + p->member_id + " did not finish its first run:\n" +
                                     LogTail());
        }
    }
}

bool RobustWorld::WaitSynced(WorldPortal& p, std::chrono::seconds timeout) {
    std::string session;
    return support::WaitUntil(
        [&] {
            if (session.empty()) {
                OpenPage(p, p.admin_id, &session);
                return false;
            }
            Reply r = Get("/api/status", session);
            json j = json::parse(r.body, nullptr, false);
            return r.status == 200 && j.is_object() && j.value("firstRunDone", false) &&
                   j.value("state", std::string()) == "idle";
        },
        timeout);
}

std::string RobustWorld::PortalDbPath(const WorldPortal& p) const {
    for (const auto& entry : std::filesystem::directory_iterator(data_dir_)) {
        std::string name = entry.path().filename().string();
        if (name.find(p.member_id) != std::string::npos && name.size() > 3 &&
            name.substr(name.size() - 3) == ".db") {
            return entry.path().string();
        }
    }
    return {};
}

namespace {

struct Argv {
    std::vector<std::string> text;
    std::vector<char*> ptrs;
    char** get() {
        ptrs.clear();
        for (auto& t : text) {
            ptrs.push_back(t.data());
        }
        ptrs.push_back(nullptr);
        return ptrs.data();
    }
};

}  // namespace

std::vector<std::string> RobustWorld::ChildEnvironment() const {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string v = *e;
        if (v.rfind("B24SEG_", 0) != 0) {
            env.push_back(v);
        }
    }
    env.push_back("B24SEG_CLIENT_ID=" + client_id_);
    env.push_back("B24SEG_CLIENT_SECRET=" + client_secret_);
    env.push_back("B24SEG_SESSION_KEY=robust-session-key-0123456789abcdef0123456789");
    env.push_back("B24SEG_TOKEN_KEY=" + std::string(kTokenKey));
    return env;
}

void RobustWorld::StartServer() {
    // The child: the shipped binary with its secrets in the environment, as systemd runs it.
    Argv env;
    env.text = ChildEnvironment();
    Argv args;
    args.text = {binary_, "serve", "--config", config_path_};
    char** argv = args.get();
    char** envp = env.get();
    // Everything the child needs is prepared: after fork it only calls async-signal-safe
    // functions (a test process has threads).
    const std::int64_t limit = options_.file_size_limit;
    const char* log = log_path_.c_str();
    const char* binary = binary_.c_str();
    pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("cannot fork");
    }
    if (pid == 0) {
        int fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (limit > 0) {
            ::signal(SIGXFSZ, SIG_IGN);
            rlimit rl{static_cast<rlim_t>(limit), static_cast<rlim_t>(limit)};
            ::setrlimit(RLIMIT_FSIZE, &rl);
        }
        ::execve(binary, argv, envp);
        ::_exit(127);
    }
    pid_ = pid;
    if (!support::WaitUntil([&] { return Get("/healthz").status != 0; },
                            std::chrono::seconds(30))) {
        throw std::runtime_error("b24seg serve did not answer /healthz:\n" + LogTail());
    }
}

void RobustWorld::Restart() {
    Stop();
    StartServer();
}

int RobustWorld::RunCli(const std::vector<std::string>& args, std::string* output) {
    std::string out_path = dir_->File("cli.out");
    Argv argv;
    argv.text.push_back(binary_);
    argv.text.insert(argv.text.end(), args.begin(), args.end());
    argv.text.push_back("--config");
    argv.text.push_back(config_path_);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    Argv env;
    env.text = ChildEnvironment();
    pid_t pid = 0;
    int rc = posix_spawn(&pid, binary_.c_str(), &actions, nullptr, argv.get(), env.get());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        return -1;
    }
    int status = 0;
    bool done = support::WaitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; },
                                   std::chrono::seconds(120));
    if (!done) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    if (output != nullptr) {
        std::ifstream in(out_path);
        std::stringstream text;
        text << in.rdbuf();
        *output = text.str();
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void RobustWorld::Stop() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool gone = support::WaitUntil([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; },
                                   std::chrono::seconds(30));
    if (!gone) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
    }
    pid_ = 0;
}

std::int64_t RobustWorld::ServerRss() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stoll(line.substr(6)) * 1024;
        }
    }
    return 0;
}

Reply RobustWorld::Get(const std::string& path, const std::string& session) {
    auto start = Clock::now();
    auto cli = ClientFor(port_);
    httplib::Headers headers;
    if (!session.empty()) {
        headers.emplace("Authorization", "Bearer " + session);
    }
    return ToReply(cli->Get(path, headers), start);
}

Reply RobustWorld::PostJson(const std::string& path,
                            const std::string& body,
                            const std::string& session) {
    auto start = Clock::now();
    auto cli = ClientFor(port_);
    httplib::Headers headers;
    if (!session.empty()) {
        headers.emplace("Authorization", "Bearer " + session);
    }
    return ToReply(cli->Post(path, headers, body, "application/json"), start);
}

Reply RobustWorld::PostForm(const std::string& url_or_path,
                            const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string path = url_or_path;
    if (path.rfind("http", 0) == 0) {
        auto scheme = path.find("://");
        auto slash = path.find('/', scheme + 3);
        path = slash == std::string::npos ? "/" : path.substr(slash);
    }
    auto start = Clock::now();
    auto cli = ClientFor(port_);
    return ToReply(cli->Post(path, FormBody(fields), "application/x-www-form-urlencoded"), start);
}

Reply RobustWorld::OpenPage(WorldPortal& p, std::int64_t user, std::string* session) {
    fakeportal::AppLaunch launch = p.portal->OpenApp(client_id_, user);
    Reply r = PostForm(launch.url, launch.fields);
    if (session != nullptr) {
        *session = r.status == 200 ? SessionOf(r.body) : std::string();
    }
    return r;
}

}  // namespace robust
