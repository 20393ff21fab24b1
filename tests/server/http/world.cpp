#include "world.hpp"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include <httplib.h>

#include "http/api.hpp"
#include "http/util.hpp"
#include "portal_db.hpp"
#include "support/wait.hpp"

namespace httptest {

namespace {

std::unique_ptr<World>& Instance() {
    static std::unique_ptr<World> world;
    return world;
}

std::mutex& InstanceMutex() {
    static std::mutex m;
    return m;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
}

// Splits "http://host:port/path?q" into ("http://host:port", "/path?q").
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
    auto scheme = url.find("://");
    auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (slash == std::string::npos) {
        return {url, "/"};
    }
    return {url.substr(0, slash), url.substr(slash)};
}

Answer ToAnswer(const httplib::Result& r) {
    Answer a;
    if (!r) {
        return a;
    }
    a.status = r->status;
    a.body = r->body;
    for (const auto& [k, v] : r->headers) {
        a.headers.emplace_back(k, v);
    }
    return a;
}

std::string FormBody(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string body;
    for (const auto& [k, v] : fields) {
        if (!body.empty()) {
            body += '&';
        }
        body += server::http::UrlEncode(k) + "=" + server::http::UrlEncode(v);
    }
    return body;
}

void Flatten(const json& value,
             const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
    if (value.is_object()) {
        for (const auto& [k, v] : value.items()) {
            Flatten(v, prefix.empty() ? k : prefix + "[" + k + "]", out);
        }
    } else if (value.is_string()) {
        out.emplace_back(prefix, value.get<std::string>());
    } else {
        out.emplace_back(prefix, value.dump());
    }
}

}  // namespace

std::string Answer::Header(const std::string& name) const {
    std::string want = server::http::AsciiLower(name);
    for (const auto& [k, v] : headers) {
        if (server::http::AsciiLower(k) == want) {
            return v;
        }
    }
    return {};
}

json Answer::Json() const {
    return json::parse(body, nullptr, false);
}

json BootOf(const std::string& html) {
    const std::string open = R"(<script id="b24seg-boot" type="application/json">)";
    auto a = html.find(open);
    if (a == std::string::npos) {
        return nullptr;
    }
    a += open.size();
    auto b = html.find("</script>", a);
    if (b == std::string::npos) {
        return nullptr;
    }
    return json::parse(html.substr(a, b - a), nullptr, false);
}

std::vector<std::pair<std::string, std::string>> EventForm(const std::string& event,
                                                           const std::string& member_id,
                                                           const std::string& application_token,
                                                           const json& data,
                                                           const json& extra_auth) {
    json payload = {{"event", event},
                    {"event_handler_id", "1"},
                    {"data", data},
                    {"ts", "1700000000"},
                    {"auth",
                     {{"member_id", member_id},
                      {"application_token", application_token},
                      {"domain", "example.bitrix24.ru"}}}};
    for (const auto& [k, v] : extra_auth.items()) {
        payload["auth"][k] = v;
    }
    std::vector<std::pair<std::string, std::string>> out;
    Flatten(payload, "", out);
    return out;
}

World& World::Get() {
    std::lock_guard lock(InstanceMutex());
    if (!Instance()) {
        Instance() = std::make_unique<World>();
    }
    return *Instance();
}

void World::Shutdown() {
    std::lock_guard lock(InstanceMutex());
    Instance().reset();
}

World::World() {
    dir_ = std::make_unique<support::TempDir>("b24seg-http-test");
    data_dir_ = dir_->File("data");
    const std::filesystem::path fe = dir_->path() / "frontend";
    WriteFile(fe / "index.html",
              "<!doctype html><html><head><meta charset=\"utf-8\"><title>b24seg</title>"
              "<link rel=\"stylesheet\" href=\"/assets/app-test1.css\"></head><body>"
              "<script type=\"module\" src=\"/assets/app-test1.js\"></script></body></html>\n");
    WriteFile(fe / "assets" / "app-test1.js", "export const answer = 42;\n");
    WriteFile(fe / "assets" / "app-test1.css", "body { margin: 0; }\n");
    WriteFile(fe / "assets" / "chunk-test2.js", "export {};\n");

    cloud_ = std::make_unique<fakeportal::Cloud>();
    server::Config config;
    config.listen_host = "127.0.0.1";
    config.listen_port = 0;
    config.data_dir = data_dir_;
    config.frontend_dir = fe.string();
    config.oauth_url = cloud_->token_url();
    config.client_id = client_id_;
    config.client_secret = client_secret_;
    config.session_key = "test-session-key-0123456789abcdef0123456789";
    config.token_key = kTokenKeyHex;
    config.allow_http_portals = true;
    config.event_debounce_s = 0;
    config.standard_drain_per_s = 1000;
    config.standard_burst = 1000;
    config.enterprise_drain_per_s = 1000;
    config.enterprise_burst = 1000;
    server::Validate(config);
    app_ = std::make_unique<server::App>(config);
    int port = app_->Bind();
    base_url_ = "http://127.0.0.1:" + std::to_string(port);
    app_->SetPublicUrl(base_url_);
    app_->Start();

    fakeportal::AppRegistration reg;
    reg.client_id = client_id_;
    reg.client_secret = client_secret_;
    reg.name = "b24seg";
    reg.handler_url = base_url_ + "/b24/app";
    reg.installer_url = base_url_ + "/b24/install";
    reg.install_event_url = base_url_ + "/b24/events";
    reg.scopes = {"crm", "placement", "user_brief"};
    cloud_->RegisterApp(reg);
}

World::~World() {
    // The app first (it calls the portals), then the portals.
    app_->Stop();
    app_.reset();
    cloud_->Stop();
    cloud_.reset();
}

TestPortal World::NewPortal(std::uint64_t seed) {
    fakeportal::PortalOptions options;
    options.limits.enforce_bucket = false;
    options.limits.enforce_operating = false;
    options.seed = seed;
    fakeportal::Portal& portal = cloud_->AddPortal(options);
    fakeportal::DatasetOptions data;
    data.seed = seed;
    data.companies = 30;
    data.contacts = 45;
    data.deals = 70;
    data.invoices = 35;
    data.old_invoices = 3;
    data.activities = 160;
    data.requisites = 15;
    data.years = 3;
    data.managers = 2;
    data.import_bursts = 1;
    data.xss_contact = true;
    TestPortal p;
    p.portal = &portal;
    p.data = fakeportal::GenerateDataset(portal, data);
    p.member_id = portal.member_id();
    p.manager_id = p.data.manager_ids.at(0);
    // Names a spreadsheet would run as formulas, and CSV metacharacters, owned by the manager.
    fakeportal::Contact formula;
    formula.name = "=HYPERLINK(\"http://evil.example\";\"x\")";
    formula.last_name = "";
    formula.assigned_by_id = p.manager_id;
    formula.date_create = static_cast<fakeportal::Time>(portal.Now()) - 86400 * 40;
    formula.fm.push_back({0, "PHONE", "WORK", "+7 (495) 765-43-21"});
    portal.Add(formula);
    fakeportal::Contact quoted;
    quoted.name = "Anna \"Quote\"; Semicolon";
    quoted.assigned_by_id = p.manager_id;
    quoted.date_create = static_cast<fakeportal::Time>(portal.Now()) - 86400 * 41;
    quoted.fm.push_back({0, "EMAIL", "WORK", "anna.quote@example.com"});
    portal.Add(quoted);
    return p;
}

fakeportal::InstallResult World::Install(TestPortal& p, fakeportal::InstallFlow flow) {
    fakeportal::InstallResult r = p.portal->InstallApp(client_id_, p.admin_id, flow, "en");
    p.application_token = r.application_token;
    p.portal->FinishInstall(client_id_);
    return r;
}

bool World::WaitFirstRun(const std::string& member_id, std::chrono::seconds timeout) {
    return support::WaitUntil(
        [&] {
            if (!app_->registry().Find(member_id)) {
                return false;
            }
            auto db = app_->portals().Db(member_id);
            auto latest = db->LatestRun();
            return latest && latest->state == "done" && server::http::FirstRunDone(*db) &&
                   app_->jobs().StateOf(member_id).empty();
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}

bool World::WaitIdle(const std::string& member_id, std::chrono::seconds timeout) {
    return support::WaitUntil(
        [&] {
            if (!app_->jobs().StateOf(member_id).empty()) {
                return false;
            }
            auto latest = app_->portals().Db(member_id)->LatestRun();
            return !latest || latest->state != "running";
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}

TestPortal& World::Main() {
    if (!main_) {
        TestPortal p = NewPortal(7);
        Install(p);
        if (!WaitFirstRun(p.member_id)) {
            throw std::runtime_error("the main test portal's first run did not finish");
        }
        main_ = p;
    }
    return *main_;
}

Page World::Open(TestPortal& p,
                 std::int64_t user,
                 const std::string& placement,
                 const json& options,
                 const std::string& lang) {
    fakeportal::AppLaunch launch = p.portal->OpenApp(client_id_, user, placement, options, lang);
    Page page;
    page.answer = PostForm(launch.url, launch.fields);
    page.boot = BootOf(page.answer.body);
    return page;
}

Answer World::PostForm(const std::string& url_or_path,
                       const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string url = url_or_path.rfind("http", 0) == 0 ? url_or_path : base_url_ + url_or_path;
    auto [host, path] = SplitUrl(url);
    httplib::Client cli(host);
    cli.set_read_timeout(30, 0);
    return ToAnswer(cli.Post(path, FormBody(fields), "application/x-www-form-urlencoded"));
}

Answer World::PostRaw(const std::string& path, const std::string& body, const std::string& type) {
    httplib::Client cli(base_url_);
    cli.set_read_timeout(30, 0);
    return ToAnswer(cli.Post(path, body, type));
}

Answer World::Api(const std::string& method,
                  const std::string& path,
                  const std::string& session,
                  const std::string& body,
                  const std::string& content_type) {
    httplib::Client cli(base_url_);
    cli.set_read_timeout(60, 0);
    httplib::Headers headers;
    if (!session.empty()) {
        headers.emplace("Authorization", "Bearer " + session);
    }
    if (method == "GET") {
        return ToAnswer(cli.Get(path, headers));
    }
    if (method == "POST") {
        return ToAnswer(cli.Post(path, headers, body, content_type));
    }
    if (method == "PUT") {
        return ToAnswer(cli.Put(path, headers, body, content_type));
    }
    if (method == "DELETE") {
        return ToAnswer(cli.Delete(path, headers));
    }
    throw std::invalid_argument("World::Api: method " + method);
}

}  // namespace httptest
