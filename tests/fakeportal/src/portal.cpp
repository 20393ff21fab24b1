// The portal's protocol core: HTTP server(s), parameter parsing, envelopes, auth, the bucket,
// the operating ledger, the request cap, batch with references, faults, counters, tokens, the
// app lifecycle and event delivery.
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "portal_impl.hpp"

namespace fakeportal {

using detail::FormatIso;
using detail::IntVal;
using detail::StrVal;
using detail::ToLower;
using detail::ToPlain;

double SystemNow() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

Plan StandardPlan() {
    return Plan{};
}

Plan EnterprisePlan() {
    Plan p;
    p.burst = 250;
    p.drain_per_second = 5;
    p.license = "ru_ent250";
    p.license_type = "ent250";
    p.license_family = "ent";
    return p;
}

const MethodCounters& CountersSnapshot::Method(const std::string& name) const {
    static const MethodCounters kZero;
    auto it = methods.find(ToLower(name));
    return it == methods.end() ? kZero : it->second;
}

double CountersSnapshot::TotalOperatingSeconds() const {
    double sum = 0;
    for (const auto& [name, m] : methods) {
        sum += m.operating_seconds;
    }
    return sum;
}

namespace {

std::string ErrorBody(const std::string& code, const std::string& description) {
    return json{{"error", code}, {"error_description", description}}.dump();
}

// PHP's json_encode of an array: [] when empty, a list when keys are 0..n-1, else an object.
json PhpArray(json obj) {
    if (obj.empty()) {
        return json::array();
    }
    size_t i = 0;
    for (auto it = obj.begin(); it != obj.end(); ++it, ++i) {
        if (it.key() != std::to_string(i)) {
            return obj;
        }
    }
    json arr = json::array();
    for (auto& [key, value] : obj.items()) {
        arr.push_back(std::move(value));
    }
    return arr;
}

// ---- batch references ---------------------------------------------------------------------

struct BatchState {
    json results = json::object();
    json totals = json::object();
    json nexts = json::object();
    json errors = json::object();
};

const json* Navigate(const json& base, const std::vector<std::string>& parts) {
    const json* node = &base;
    for (const auto& part : parts) {
        if (node->is_object()) {
            auto it = node->find(part);
            if (it == node->end()) {
                return nullptr;
            }
            node = &*it;
        } else if (node->is_array()) {
            if (!detail::IsIntegerText(part) || part[0] == '-') {
                return nullptr;
            }
            const auto idx = static_cast<size_t>(std::stoull(part));
            if (idx >= node->size()) {
                return nullptr;
            }
            node = &(*node)[idx];
        } else {
            return nullptr;
        }
    }
    return node;
}

// Parses a reference at text[pos] ("$result[a][b]"); returns its length (0 if none).
size_t ParseRef(const std::string& text, size_t pos, const BatchState& state, json* value) {
    static const std::pair<const char*, int> kNames[] = {
        {"$result_total", 1}, {"$result_next", 2}, {"$result_error", 3}, {"$result", 0}};
    for (const auto& [name, which] : kNames) {
        const size_t len = std::char_traits<char>::length(name);
        if (text.compare(pos, len, name) != 0 || pos + len >= text.size() ||
            text[pos + len] != '[') {
            continue;
        }
        std::vector<std::string> parts;
        size_t p = pos + len;
        while (p < text.size() && text[p] == '[') {
            const size_t close = text.find(']', p);
            if (close == std::string::npos) {
                break;
            }
            parts.push_back(text.substr(p + 1, close - p - 1));
            p = close + 1;
        }
        const json& base = which == 0   ? state.results
                           : which == 1 ? state.totals
                           : which == 2 ? state.nexts
                                        : state.errors;
        const json* found = Navigate(base, parts);
        // An unresolved reference becomes an empty string (see README: batch references).
        *value = found && !found->is_null() ? *found : json("");
        return p - pos;
    }
    return 0;
}

json ResolveRefs(const json& v, const BatchState& state) {
    if (v.is_object() || v.is_array()) {
        json out = v;
        for (auto& e : out) {
            e = ResolveRefs(e, state);
        }
        return out;
    }
    if (!v.is_string()) {
        return v;
    }
    const std::string& text = v.get_ref<const std::string&>();
    if (text.find("$result") == std::string::npos) {
        return v;
    }
    json whole;
    if (const size_t len = ParseRef(text, 0, state, &whole); len == text.size()) {
        return whole;
    }
    std::string out;
    for (size_t i = 0; i < text.size();) {
        json value;
        const size_t len = text[i] == '$' ? ParseRef(text, i, state, &value) : 0;
        if (len > 0) {
            out += StrVal(value);
            i += len;
        } else {
            out += text[i++];
        }
    }
    return out;
}

}  // namespace

// ---- construction ------------------------------------------------------------------------------

Portal::Impl::Impl(Clock clk, PortalOptions opts)
    : clock(std::move(clk)), options(std::move(opts)) {
    // Portals of one process never share member ids or tokens, even with the same seed.
    static std::atomic<uint64_t> portals_created{0};
    rng.seed(options.seed * 7919 + 17 + portals_created.fetch_add(1) * 1'000'003);
    fault_rng.seed(options.seed);
    member_id = options.member_id.empty() ? detail::RandomHex(rng, 32) : options.member_id;
    shell_dir = options.shell_dir;
    crm.CreateDefaultDirectories();
    if (options.create_default_users) {
        User admin;
        admin.id = next_user_id++;
        admin.name = "Admin";
        admin.last_name = "Adminov";
        admin.email = "admin@example.com";
        admin.admin = true;
        admin.work_position = "Director";
        users.push_back(admin);
    }
    RegisterCrmMethods();
    RegisterAppMethods();
}

Portal::Impl::~Impl() {
    Stop();
}

std::string Portal::Impl::Random(size_t n) {
    std::lock_guard lock(stats_mu);
    return detail::RandomHex(rng, n);
}

int Portal::Impl::StartServer() {
    auto server = std::make_unique<httplib::Server>();
    const int threads = std::max(1, options.threads);
    server->new_task_queue = [threads] {
        return new httplib::ThreadPool(static_cast<size_t>(threads));
    };
    server->set_keep_alive_max_count(100000);
    // Without it, small answers wait for the client's delayed ACK (Nagle): ~40 ms per request.
    server->set_tcp_nodelay(true);
    // Idle keep-alive connections hold a worker thread each: let them go soon.
    server->set_keep_alive_timeout(2);
    server->set_payload_max_length(64 * 1024 * 1024);
    const int port = server->bind_to_any_port("127.0.0.1");
    if (port <= 0) {
        throw std::runtime_error("fakeportal: cannot bind a loopback port");
    }
    httplib::Server* raw = server.get();
    raw->set_pre_routing_handler([this, port](const httplib::Request& req, httplib::Response& res) {
        if (port == active_port.load()) {
            return httplib::Server::HandlerResponse::Unhandled;
        }
        // A renamed portal: the old host answers everything with a redirect.
        {
            std::lock_guard lock(stats_mu);
            counters.redirects++;
            if (req.path.rfind("/rest/", 0) == 0) {
                counters.http_requests++;
            }
        }
        res.status = 302;
        res.set_header("Location", "http://" + Domain() + req.target);
        res.set_content("", "text/html");
        return httplib::Server::HandlerResponse::Handled;
    });
    auto rest = [this, port](const httplib::Request& req, httplib::Response& res) {
        HandleRest(req, res, port);
    };
    raw->Get(R"(/rest/.*)", rest);
    raw->Post(R"(/rest/.*)", rest);
    raw->Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.status = 302;
        res.set_header("Location", "/shell/index.html");
    });
    RegisterShellRoutes(*raw);
    Server entry;
    entry.port = port;
    entry.thread = std::thread([raw] { raw->listen_after_bind(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!raw->is_running() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    entry.server = std::move(server);
    {
        std::lock_guard lock(servers_mu);
        servers.push_back(std::move(entry));
    }
    active_port = port;
    return port;
}

void Portal::Impl::Start() {
    StartServer();
    event_thread = std::thread([this] { EventLoop(); });
}

void Portal::Impl::Stop() {
    {
        std::lock_guard lock(events_mu);
        if (stopping) {
            return;
        }
        stopping = true;
    }
    events_cv.notify_all();
    if (event_thread.joinable()) {
        event_thread.join();
    }
    std::lock_guard lock(servers_mu);
    for (auto& s : servers) {
        s.server->stop();
    }
    for (auto& s : servers) {
        if (s.thread.joinable()) {
            s.thread.join();
        }
    }
}

// ---- HTTP
// ----------------------------------------------------------------------------------------

void Portal::Impl::HandleRest(const httplib::Request& req, httplib::Response& res, int) {
    std::string method = ToLower(req.path.substr(6));
    for (const char* suffix : {".json", ".xml"}) {
        const std::string s(suffix);
        if (method.size() > s.size() &&
            method.compare(method.size() - s.size(), s.size(), s) == 0) {
            method.resize(method.size() - s.size());
        }
    }
    std::optional<Fault> fault;
    {
        std::lock_guard lock(stats_mu);
        counters.http_requests++;
        for (auto it = scripted_faults.begin(); it != scripted_faults.end(); ++it) {
            if (it->method.empty() || it->method == method) {
                fault = *it;
                scripted_faults.erase(it);
                break;
            }
        }
        if (!fault && random_faults) {
            std::uniform_real_distribution<double> u(0, 1);
            double x = u(fault_rng);
            const RandomFaults& rf = *random_faults;
            const std::pair<double, FaultKind> table[] = {
                {rf.p_html500, FaultKind::kHtml500},
                {rf.p_html503, FaultKind::kHtml503},
                {rf.p_drop_before, FaultKind::kDropBeforeRun},
                {rf.p_drop_after, FaultKind::kDropAfterRun},
                {rf.p_slow, FaultKind::kSlow}};
            for (const auto& [p, kind] : table) {
                if (x < p) {
                    fault = Fault{kind, rf.slow_seconds, ""};
                    break;
                }
                x -= p;
            }
        }
        if (fault) {
            counters.faults_injected++;
        }
    }
    auto send_truncated = [&res](std::string body) {
        auto shared = std::make_shared<std::string>(std::move(body));
        res.status = 200;
        res.set_content_provider(shared->size(), "application/json; charset=utf-8",
                                 [shared](size_t offset, size_t length, httplib::DataSink& sink) {
                                     const size_t half = shared->size() / 2;
                                     if (offset < half) {
                                         sink.write(shared->data() + offset,
                                                    std::min(length, half - offset));
                                         return true;
                                     }
                                     return false;  // cut the connection mid-body
                                 });
    };
    if (fault) {
        switch (fault->kind) {
            case FaultKind::kHtml500:
                res.status = 500;
                res.set_content(detail::HtmlErrorPage(500, "Internal Server Error"), "text/html");
                return;
            case FaultKind::kHtml503:
                res.status = 503;
                res.set_content(detail::HtmlErrorPage(503, "Service Temporarily Unavailable"),
                                "text/html");
                return;
            case FaultKind::kDropBeforeRun:
                send_truncated(
                    R"({"result":[{"ID":"1","NAME":"cut off before the method ran"}],"total":1,"time":{"start":0}})");
                return;
            default:
                break;
        }
    }

    // Parameters: query string, then the body (JSON or form) on top.
    json params = json::object();
    const size_t q = req.target.find('?');
    if (q != std::string::npos) {
        params = detail::ParseQueryString(std::string_view(req.target).substr(q + 1));
    }
    HttpAnswer answer;
    bool bad_body = false;
    if (!req.body.empty()) {
        const std::string ctype = ToLower(req.get_header_value("Content-Type"));
        if (ctype.find("application/json") != std::string::npos) {
            json body = json::parse(req.body, nullptr, false);
            if (body.is_discarded()) {
                bad_body = true;
            } else if (body.is_object()) {
                for (auto& [k, v] : body.items()) {
                    params[k] = v;
                }
            }
        } else if (ctype.find("multipart/form-data") != std::string::npos) {
            std::string joined;
            for (const auto& [name, file] : req.files) {
                joined += detail::UrlEncode(name) + "=" + detail::UrlEncode(file.content) + "&";
            }
            const json parsed = detail::ParseQueryString(joined);
            for (auto& [k, v] : parsed.items()) {
                params[k] = v;
            }
        } else {
            const json parsed = detail::ParseQueryString(req.body);
            for (auto& [k, v] : parsed.items()) {
                params[k] = v;
            }
        }
    }
    if (bad_body) {
        answer.status = 400;
        answer.body = ErrorBody("INVALID_REQUEST", "Invalid JSON in the request body");
    } else {
        answer = ExecuteTopLevel(method, params);
    }
    if (fault && fault->kind == FaultKind::kDropAfterRun) {
        send_truncated(answer.body);
        return;
    }
    if (fault && fault->kind == FaultKind::kSlow) {
        // The one real sleep of the fake: a slow answer.
        std::this_thread::sleep_for(std::chrono::duration<double>(fault->delay_seconds));
    }
    res.status = answer.status;
    if (!answer.location.empty()) {
        res.set_header("Location", answer.location);
    }
    res.set_content(answer.body, answer.content_type);
}

json Portal::Impl::TimeObject(double start,
                              double processing,
                              const std::string& client_id,
                              const std::string& method,
                              bool with_operating) {
    const double finish = start + processing;
    json t = {{"start", start},
              {"finish", finish},
              {"duration", finish - start},
              {"processing", processing},
              {"date_start", FormatIso(static_cast<Time>(start), tz())},
              {"date_finish", FormatIso(static_cast<Time>(finish), tz())}};
    if (with_operating) {
        std::lock_guard lock(stats_mu);
        auto& ledger = ledgers[client_id + "|" + method];
        const double now = Now();
        const double window = options.limits.operating_window_seconds;
        t["operating_reset_at"] = static_cast<int64_t>(ledger.ResetAt(now, window));
        t["operating"] = ledger.Sum(now, window);
    }
    return t;
}

std::pair<User, std::string> Portal::Impl::Authenticate(const json& params) {
    std::string token;
    if (params.contains("auth")) {
        token = StrVal(params["auth"]);
    } else if (params.contains("access_token")) {
        token = StrVal(params["access_token"]);
    }
    if (token.empty()) {
        Fail(401, "NO_AUTH_FOUND", "Wrong authorization data");
    }
    std::shared_lock lock(data_mu);
    auto it = access_tokens.find(token);
    if (it == access_tokens.end() || it->second.revoked) {
        Fail(401, "invalid_token", "The access token provided is invalid.");
    }
    if (Now() >= it->second.expires_at) {
        Fail(401, "expired_token", "The access token provided has expired.");
    }
    auto app = apps.find(it->second.client_id);
    if (app == apps.end() || !app->second.installed) {
        Fail(401, "invalid_token", "The access token provided is invalid.");
    }
    const User* user = FindUserLocked(it->second.user_id);
    if (!user || !user->active) {
        Fail(401, "authorization_error", "Unable to authorize user");
    }
    return {*user, it->second.client_id};
}

HttpAnswer Portal::Impl::ExecuteTopLevel(const std::string& method, const json& params) {
    const double started = Now();
    {
        std::lock_guard lock(stats_mu);
        counters.methods[method].http_requests++;
    }
    auto error_answer = [&](const RestError& e) {
        HttpAnswer a;
        a.status = e.status;
        a.body = ErrorBody(e.code, e.description);
        std::lock_guard lock(stats_mu);
        counters.methods[method].errors++;
        return a;
    };
    try {
        if (method != "batch" && methods.find(method) == methods.end()) {
            Fail(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
        }
        auto [user, client_id] = Authenticate(params);
        {
            std::lock_guard lock(stats_mu);
            if (options.limits.enforce_bucket &&
                !bucket.Admit(Now(), options.plan.burst, options.plan.drain_per_second)) {
                counters.query_limit_exceeded++;
                Fail(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
            }
            if (!options.limits.enforce_bucket) {
                bucket.Admit(Now(), 1 << 30, options.plan.drain_per_second);
            }
        }
        if (method == "batch") {
            return RunBatch(params, user, client_id, started);
        }
        Call call;
        call.method = method;
        call.params = params;
        call.user = user;
        call.client_id = client_id;
        json result = RunCall(call);
        const LimitOptions limits = LimitsNow();
        if (limits.enforce_request_cap && call.cost > limits.request_cap_seconds) {
            std::lock_guard lock(stats_mu);
            counters.request_cap_exceeded++;
            return HttpAnswer{504, detail::HtmlErrorPage(504, "Gateway Time-out"), "text/html", ""};
        }
        json body = json::object();
        body["result"] = std::move(result);
        if (call.total) {
            body["total"] = *call.total;
        }
        if (call.next) {
            body["next"] = *call.next;
        }
        body["time"] = TimeObject(started, call.cost, client_id, method, true);
        return HttpAnswer{200, body.dump(), "application/json; charset=utf-8", ""};
    } catch (const RestError& e) {
        return error_answer(e);
    }
}

json Portal::Impl::RunCall(Call& call) {
    auto it = methods.find(call.method);
    if (it == methods.end()) {
        Fail(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    }
    const MethodSpec& spec = it->second;
    if (!spec.scope.empty()) {
        auto app = find_app(call.client_id);
        bool ok = false;
        if (app) {
            for (const auto& s : app->scopes) {
                ok = ok || s == spec.scope ||
                     (spec.scope == "user" && (s == "user_brief" || s == "user_basic"));
            }
        }
        if (!ok) {
            std::lock_guard lock(stats_mu);
            counters.methods[call.method].errors++;
            Fail(403, "insufficient_scope",
                 "The request requires higher privileges than provided by the access token");
        }
    }
    const std::string key = call.client_id + "|" + call.method;
    const double now = Now();
    {
        std::lock_guard lock(stats_mu);
        auto& ledger = ledgers[key];
        if (options.limits.enforce_operating &&
            ledger.Sum(now, options.limits.operating_window_seconds) >=
                options.limits.operating_limit_seconds) {
            counters.operation_time_limit++;
            counters.methods[call.method].errors++;
            Fail(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.");
        }
    }
    json result;
    bool failed = false;
    RestError error;
    try {
        result = spec.handler(*this, call);
    } catch (const RestError& e) {
        failed = true;
        error = e;
    }
    if (call.cost <= 0) {
        call.cost = Costs().cheap;
    }
    {
        std::lock_guard lock(stats_mu);
        ledgers[key].Charge(now, options.limits.operating_window_seconds, call.cost);
        auto& mc = counters.methods[call.method];
        if (call.nested) {
            mc.nested_calls++;
        } else {
            mc.direct_calls++;
        }
        mc.rows_returned += call.rows;
        mc.operating_seconds += call.cost;
        if (failed) {
            mc.errors++;
        }
    }
    if (failed) {
        throw error;
    }
    return result;
}

HttpAnswer Portal::Impl::RunBatch(const json& params,
                                  const User& user,
                                  const std::string& client_id,
                                  double started) {
    json cmd = params.contains("cmd") ? params["cmd"] : json::object();
    std::vector<std::pair<std::string, std::string>> commands;
    if (cmd.is_object()) {
        for (auto& [k, v] : cmd.items()) {
            commands.emplace_back(k, StrVal(v));
        }
    } else if (cmd.is_array()) {
        for (size_t i = 0; i < cmd.size(); ++i) {
            commands.emplace_back(std::to_string(i), StrVal(cmd[i]));
        }
    }
    if (commands.size() > 50) {
        Fail(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded");
    }
    const bool halt = params.contains("halt") && detail::TruthyYN(params["halt"]);
    {
        std::lock_guard lock(stats_mu);
        counters.batch_sizes[static_cast<int>(commands.size())]++;
    }
    const LimitOptions limits = LimitsNow();
    BatchState state;
    json times = json::object();
    double elapsed = 0;
    for (const auto& [key, text] : commands) {
        const size_t q = text.find('?');
        std::string method = ToLower(text.substr(0, q));
        if (method.size() > 5 && method.compare(method.size() - 5, 5, ".json") == 0) {
            method.resize(method.size() - 5);
        }
        json cparams = q == std::string::npos
                           ? json::object()
                           : detail::ParseQueryString(std::string_view(text).substr(q + 1));
        cparams = ResolveRefs(cparams, state);
        Call call;
        call.method = method;
        call.params = cparams;
        call.user = user;
        call.client_id = client_id;
        call.nested = true;
        bool failed = false;
        const double cstart = started + elapsed;
        try {
            if (method == "batch") {
                Fail(405, "ERROR_BATCH_METHOD_NOT_ALLOWED",
                     "Method is not allowed for batch usage");
            }
            json r = RunCall(call);
            state.results[key] = std::move(r);
            if (call.total) {
                state.totals[key] = *call.total;
            }
            if (call.next) {
                state.nexts[key] = *call.next;
            }
        } catch (const RestError& e) {
            failed = true;
            state.errors[key] = {{"error", e.code}, {"error_description", e.description}};
        }
        times[key] = TimeObject(cstart, call.cost, client_id, method, !failed);
        elapsed += call.cost;
        if (limits.enforce_request_cap && elapsed > limits.request_cap_seconds) {
            std::lock_guard lock(stats_mu);
            counters.request_cap_exceeded++;
            return HttpAnswer{504, detail::HtmlErrorPage(504, "Gateway Time-out"), "text/html", ""};
        }
        if (failed && halt) {
            break;
        }
    }
    json inner = json::object();
    inner["result"] = PhpArray(std::move(state.results));
    inner["result_error"] = PhpArray(std::move(state.errors));
    inner["result_total"] = PhpArray(std::move(state.totals));
    inner["result_next"] = PhpArray(std::move(state.nexts));
    inner["result_time"] = PhpArray(std::move(times));
    json body = json::object();
    body["result"] = std::move(inner);
    body["time"] = TimeObject(started, elapsed, client_id, "batch", false);
    return HttpAnswer{200, body.dump(), "application/json; charset=utf-8", ""};
}

// ---- tokens and users
// ------------------------------------------------------------------------------

const User* Portal::Impl::FindUserLocked(int64_t id) const {
    for (const auto& u : users) {
        if (u.id == id) {
            return &u;
        }
    }
    return nullptr;
}

TokenPair Portal::Impl::IssueTokensLocked(const std::string& client_id, int64_t user_id) {
    TokenPair pair;
    {
        std::lock_guard lock(stats_mu);
        pair.access_token = detail::RandomHex(rng, 48);
        pair.refresh_token = detail::RandomHex(rng, 48);
    }
    const double now = Now();
    pair.expires_in = static_cast<int64_t>(options.access_token_lifetime);
    pair.expires_at = now + options.access_token_lifetime;
    pair.user_id = user_id;
    access_tokens[pair.access_token] = AccessToken{client_id, user_id, pair.expires_at, false};
    refresh_tokens[pair.refresh_token] =
        RefreshToken{client_id, user_id, now + options.refresh_token_lifetime};
    return pair;
}

void Portal::Impl::RecordWrite(const Call& call, int entity_type, int64_t id, const json& fields) {
    WriteRecord w;
    w.method = call.method;
    w.entity_type_id = entity_type;
    w.entity_id = id;
    w.fields = ToPlain(fields);
    if (call.params.contains("params") && call.params["params"].is_object() &&
        call.params["params"].contains("REGISTER_HISTORY_EVENT")) {
        w.register_history_event = StrVal(call.params["params"]["REGISTER_HISTORY_EVENT"]);
    }
    if (call.params.contains("auth_connector")) {
        w.auth_connector = StrVal(call.params["auth_connector"]);
    }
    w.user_id = call.user.id;
    w.client_id = call.client_id;
    w.at = Now();
    w.nested = call.nested;
    std::lock_guard lock(stats_mu);
    counters.writes.push_back(std::move(w));
}

// ---- events
// --------------------------------------------------------------------------------------

json Portal::Impl::EventAuthLocked(const AppInstall& app, int64_t user_id, bool with_refresh) {
    auto reg = find_app(app.client_id);
    TokenPair tokens = IssueTokensLocked(app.client_id, user_id);
    std::string scope;
    if (reg) {
        for (const auto& s : reg->scopes) {
            scope += (scope.empty() ? "" : ",") + s;
        }
    }
    json auth = {{"access_token", tokens.access_token},
                 {"expires", static_cast<int64_t>(tokens.expires_at)},
                 {"expires_in", tokens.expires_in},
                 {"scope", scope},
                 {"domain", Domain()},
                 {"server_endpoint", server_endpoint},
                 {"status", reg ? reg->status : "F"},
                 {"client_endpoint", Endpoint()},
                 {"member_id", member_id},
                 {"user_id", user_id},
                 {"application_token", app.application_token}};
    if (with_refresh) {
        auth["refresh_token"] = tokens.refresh_token;
    }
    return auth;
}

void Portal::Impl::FireEventLocked(const std::string& event,
                                   const json& fields,
                                   const MutationContext& ctx) {
    const double now = Now();
    for (auto& [client_id, app] : apps) {
        if (!app.installed) {
            continue;
        }
        for (const auto& binding : app.events) {
            if (binding.event != event) {
                continue;
            }
            if (binding.offline) {
                if (!binding.auth_connector.empty() &&
                    binding.auth_connector == ctx.auth_connector) {
                    continue;  // the app's own change: kept out of its queue
                }
                const std::string key = event + "|" + StrVal(fields.value("ID", json(0)));
                OfflineRecord* existing = nullptr;
                for (auto& r : app.offline) {
                    if (r.key == key && r.process_id.empty() && !r.error &&
                        r.connector == binding.auth_connector) {
                        existing = &r;
                    }
                }
                if (existing) {
                    existing->timestamp = now;
                    existing->additional = {{"user_id", ctx.user_id}};
                    continue;
                }
                OfflineRecord rec;
                rec.id = app.next_offline_id++;
                rec.timestamp = now;
                rec.event_name = event;
                rec.data = {{"FIELDS", fields}};
                rec.additional = {{"user_id", ctx.user_id}};
                rec.key = key;
                rec.connector = binding.auth_connector;
                {
                    std::lock_guard lock(stats_mu);
                    rec.message_id = detail::RandomHex(rng, 32);
                }
                app.offline.push_back(std::move(rec));
                continue;
            }
            if (!app.finished) {
                continue;  // events are not delivered until installFinish
            }
            const int64_t auth_user = binding.auth_type != 0 ? binding.auth_type : ctx.user_id;
            json payload = {{"event", event},
                            {"event_handler_id", binding.id},
                            {"data", {{"FIELDS", fields}}},
                            {"ts", static_cast<int64_t>(now)},
                            {"auth", EventAuthLocked(app, auth_user, false)}};
            std::vector<std::pair<std::string, std::string>> pairs;
            detail::FlattenForm(payload, "", &pairs);
            std::lock_guard lock(events_mu);
            event_queue.push_back(PendingEvent{binding.handler, detail::FormEncode(pairs), event});
            events_cv.notify_all();
        }
    }
}

int Portal::Impl::PostForm(const std::string& url,
                           const std::string& body,
                           std::string* response_body) {
    // Split "http://host:port/path?query".
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos) {
        return 0;
    }
    const size_t path_start = url.find('/', scheme + 3);
    const std::string host = url.substr(0, path_start);
    const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
    httplib::Client cli(host);
    cli.set_connection_timeout(2, 0);
    cli.set_read_timeout(10, 0);
    cli.set_write_timeout(10, 0);
    auto res = cli.Post(path, body, "application/x-www-form-urlencoded");
    if (!res) {
        return 0;
    }
    if (response_body) {
        *response_body = res->body;
    }
    return res->status;
}

void Portal::Impl::EventLoop() {
    while (true) {
        PendingEvent ev;
        {
            std::unique_lock lock(events_mu);
            events_cv.wait(lock, [this] { return stopping || !event_queue.empty(); });
            if (stopping) {
                return;
            }
            ev = std::move(event_queue.front());
            event_queue.pop_front();
            events_in_flight++;
        }
        const int status = PostForm(ev.url, ev.body, nullptr);  // no retries, like the platform
        {
            std::lock_guard lock(stats_mu);
            if (status >= 200 && status < 300) {
                counters.events_delivered++;
            } else {
                counters.event_delivery_failures++;
            }
        }
        {
            std::lock_guard lock(events_mu);
            delivered.push_back(DeliveredEvent{ev.event, ev.url, ev.body, status, Now()});
            events_in_flight--;
        }
        events_cv.notify_all();
    }
}

// ---- Portal: public API ------------------------------------------------------------------------

Portal::Portal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Portal::~Portal() = default;

std::string Portal::domain() const {
    return impl_->Domain();
}
std::string Portal::endpoint() const {
    return impl_->Endpoint();
}
std::string Portal::base_url() const {
    return "http://" + impl_->Domain();
}
int Portal::port() const {
    return impl_->active_port.load();
}
const std::string& Portal::member_id() const {
    return impl_->member_id;
}
int Portal::tz_offset_minutes() const {
    return impl_->tz();
}
double Portal::Now() const {
    return impl_->Now();
}
std::string Portal::FormatTime(Time t) const {
    return FormatIso(t, impl_->tz());
}

int64_t Portal::AddUser(User user) {
    std::unique_lock lock(impl_->data_mu);
    if (user.id == 0) {
        user.id = impl_->next_user_id;
    }
    impl_->next_user_id = std::max(impl_->next_user_id, user.id + 1);
    impl_->users.push_back(user);
    return user.id;
}

std::vector<User> Portal::Users() const {
    std::shared_lock lock(impl_->data_mu);
    return impl_->users;
}

std::optional<User> Portal::FindUser(int64_t id) const {
    std::shared_lock lock(impl_->data_mu);
    const User* u = impl_->FindUserLocked(id);
    return u ? std::optional<User>(*u) : std::nullopt;
}

void Portal::UpdateUser(const User& user) {
    std::unique_lock lock(impl_->data_mu);
    for (auto& u : impl_->users) {
        if (u.id == user.id) {
            u = user;
        }
    }
}

namespace {

std::string ScopeString(const AppRegistration& reg) {
    std::string scope;
    for (const auto& s : reg.scopes) {
        scope += (scope.empty() ? "" : ",") + s;
    }
    return scope;
}

}  // namespace

InstallResult Portal::InstallApp(const std::string& client_id,
                                 int64_t admin_user_id,
                                 InstallFlow flow,
                                 const std::string& lang) {
    auto reg = impl_->find_app(client_id);
    if (!reg) {
        throw std::runtime_error("InstallApp: unknown client_id");
    }
    InstallResult result;
    TokenPair page_tokens, event_tokens;
    {
        std::unique_lock lock(impl_->data_mu);
        const User* admin = impl_->FindUserLocked(admin_user_id);
        if (!admin || !admin->admin) {
            throw std::runtime_error("InstallApp: the installing user must be an admin");
        }
        AppInstall& app = impl_->apps[client_id];
        app.client_id = client_id;
        app.installed = true;
        app.finished = flow == InstallFlow::kSilent || flow == InstallFlow::kEventOnly;
        app.version = reg->version;
        app.installer_user_id = admin_user_id;
        {
            std::lock_guard slock(impl_->stats_mu);
            app.application_token = detail::RandomHex(impl_->rng, 32);
        }
        page_tokens = impl_->IssueTokensLocked(client_id, admin_user_id);
        event_tokens = impl_->IssueTokensLocked(client_id, admin_user_id);
        result.application_token = app.application_token;
    }
    result.admin_tokens = flow == InstallFlow::kEventOnly ? event_tokens : page_tokens;
    if (flow == InstallFlow::kSilent) {
        return result;
    }
    auto send_page = [&] {
        AppLaunch launch;
        {
            std::string sid;
            {
                std::lock_guard slock(impl_->stats_mu);
                sid = detail::RandomHex(impl_->rng, 32);
            }
            const std::string base =
                reg->installer_url.empty() ? reg->handler_url : reg->installer_url;
            launch.url = base + (base.find('?') == std::string::npos ? "?" : "&") +
                         "DOMAIN=" + detail::UrlEncode(domain()) + "&PROTOCOL=0&LANG=" + lang +
                         "&APP_SID=" + sid;
            launch.fields = {{"AUTH_ID", page_tokens.access_token},
                             {"AUTH_EXPIRES", std::to_string(page_tokens.expires_in)},
                             {"REFRESH_ID", page_tokens.refresh_token},
                             {"SERVER_ENDPOINT", impl_->server_endpoint},
                             {"member_id", impl_->member_id},
                             {"status", reg->status},
                             {"PLACEMENT", "DEFAULT"},
                             {"PLACEMENT_OPTIONS", "{}"},
                             {"APPLICATION_TOKEN", result.application_token},
                             {"APPLICATION_SCOPE", ScopeString(*reg)}};
        }
        result.page_status =
            impl_->PostForm(launch.url, detail::FormEncode(launch.fields), &result.page_body);
    };
    auto send_event = [&] {
        if (reg->install_event_url.empty()) {
            return;
        }
        json auth = {{"access_token", event_tokens.access_token},
                     {"expires", static_cast<int64_t>(event_tokens.expires_at)},
                     {"expires_in", event_tokens.expires_in},
                     {"scope", ScopeString(*reg)},
                     {"domain", domain()},
                     {"server_endpoint", impl_->server_endpoint},
                     {"status", reg->status},
                     {"client_endpoint", endpoint()},
                     {"member_id", impl_->member_id},
                     {"user_id", admin_user_id},
                     {"refresh_token", event_tokens.refresh_token},
                     {"application_token", result.application_token}};
        json payload = {{"event", "ONAPPINSTALL"},
                        {"event_handler_id", 0},
                        {"data",
                         {{"VERSION", reg->version},
                          {"ACTIVE", "Y"},
                          {"INSTALLED", "Y"},
                          {"LANGUAGE_ID", lang}}},
                        {"ts", static_cast<int64_t>(Now())},
                        {"auth", auth}};
        std::vector<std::pair<std::string, std::string>> pairs;
        detail::FlattenForm(payload, "", &pairs);
        result.event_status =
            impl_->PostForm(reg->install_event_url, detail::FormEncode(pairs), nullptr);
    };
    switch (flow) {
        case InstallFlow::kPageThenEvent:
            send_page();
            send_event();
            break;
        case InstallFlow::kEventThenPage:
            send_event();
            send_page();
            break;
        case InstallFlow::kPageOnly:
            send_page();
            break;
        case InstallFlow::kEventOnly:
            send_event();
            break;
        case InstallFlow::kSilent:
            break;
    }
    return result;
}

void Portal::FinishInstall(const std::string& client_id) {
    std::unique_lock lock(impl_->data_mu);
    auto it = impl_->apps.find(client_id);
    if (it != impl_->apps.end() && it->second.installed) {
        it->second.finished = true;
    }
}

std::string Portal::UpdateApp(const std::string& client_id, const std::string& new_version) {
    auto reg = impl_->find_app(client_id);
    std::string body;
    std::string token;
    {
        std::unique_lock lock(impl_->data_mu);
        auto it = impl_->apps.find(client_id);
        if (it == impl_->apps.end() || !it->second.installed || !reg) {
            throw std::runtime_error("UpdateApp: app not installed");
        }
        AppInstall& app = it->second;
        const std::string previous = app.version;
        app.version = new_version;
        {
            std::lock_guard slock(impl_->stats_mu);
            app.application_token = detail::RandomHex(impl_->rng, 32);
        }
        token = app.application_token;
        json payload = {{"event", "ONAPPUPDATE"},
                        {"event_handler_id", 0},
                        {"data",
                         {{"VERSION", new_version},
                          {"PREVIOUS_VERSION", previous},
                          {"LANGUAGE_ID", impl_->options.language}}},
                        {"ts", static_cast<int64_t>(Now())},
                        {"auth", impl_->EventAuthLocked(app, app.installer_user_id, true)}};
        std::vector<std::pair<std::string, std::string>> pairs;
        detail::FlattenForm(payload, "", &pairs);
        body = detail::FormEncode(pairs);
    }
    if (!reg->install_event_url.empty()) {
        impl_->PostForm(reg->install_event_url, body, nullptr);
    }
    return token;
}

void Portal::UninstallApp(const std::string& client_id, bool clean) {
    auto reg = impl_->find_app(client_id);
    std::string body;
    {
        std::unique_lock lock(impl_->data_mu);
        auto it = impl_->apps.find(client_id);
        if (it == impl_->apps.end() || !it->second.installed) {
            return;
        }
        AppInstall& app = it->second;
        json payload = {
            {"event", "ONAPPUNINSTALL"},
            {"event_handler_id", 0},
            {"data", {{"LANGUAGE_ID", impl_->options.language}, {"CLEAN", clean ? 1 : 0}}},
            {"ts", static_cast<int64_t>(Now())},
            {"auth",
             {{"domain", domain()},
              {"server_endpoint", impl_->server_endpoint},
              {"client_endpoint", endpoint()},
              {"member_id", impl_->member_id},
              {"application_token", app.application_token}}}};
        std::vector<std::pair<std::string, std::string>> pairs;
        detail::FlattenForm(payload, "", &pairs);
        body = detail::FormEncode(pairs);
        app.installed = false;
        app.finished = false;
        app.placements.clear();
        app.events.clear();
        app.offline.clear();
        if (clean) {
            app.options = json::object();
        }
        for (auto& [tok, info] : impl_->access_tokens) {
            if (info.client_id == client_id) {
                info.revoked = true;
            }
        }
        for (auto rt = impl_->refresh_tokens.begin(); rt != impl_->refresh_tokens.end();) {
            rt =
                rt->second.client_id == client_id ? impl_->refresh_tokens.erase(rt) : std::next(rt);
        }
    }
    if (reg && !reg->install_event_url.empty()) {
        impl_->PostForm(reg->install_event_url, body, nullptr);
    }
}

bool Portal::IsInstalled(const std::string& client_id) const {
    std::shared_lock lock(impl_->data_mu);
    auto it = impl_->apps.find(client_id);
    return it != impl_->apps.end() && it->second.installed;
}

bool Portal::IsInstallFinished(const std::string& client_id) const {
    std::shared_lock lock(impl_->data_mu);
    auto it = impl_->apps.find(client_id);
    return it != impl_->apps.end() && it->second.installed && it->second.finished;
}

std::string Portal::ApplicationToken(const std::string& client_id) const {
    std::shared_lock lock(impl_->data_mu);
    auto it = impl_->apps.find(client_id);
    return it != impl_->apps.end() && it->second.installed ? it->second.application_token : "";
}

TokenPair Portal::IssueTokens(const std::string& client_id, int64_t user_id) {
    std::unique_lock lock(impl_->data_mu);
    auto it = impl_->apps.find(client_id);
    if (it == impl_->apps.end() || !it->second.installed) {
        throw std::runtime_error("IssueTokens: app not installed");
    }
    if (!impl_->FindUserLocked(user_id)) {
        throw std::runtime_error("IssueTokens: unknown user");
    }
    return impl_->IssueTokensLocked(client_id, user_id);
}

void Portal::ExpireAccessTokens() {
    std::unique_lock lock(impl_->data_mu);
    const double now = impl_->Now();
    for (auto& [tok, info] : impl_->access_tokens) {
        info.expires_at = std::min(info.expires_at, now);
    }
}

void Portal::SetSubscriptionEnded(bool ended) {
    std::unique_lock lock(impl_->data_mu);
    impl_->subscription_ended = ended;
}

std::optional<TokenPair> Portal::RotateRefreshToken(const std::string& client_id,
                                                    const std::string& client_secret,
                                                    const std::string& refresh_token,
                                                    std::string* error) {
    auto fail = [&](const char* code) -> std::optional<TokenPair> {
        if (error) {
            *error = code;
        }
        std::lock_guard lock(impl_->stats_mu);
        impl_->counters.refresh_failures++;
        return std::nullopt;
    };
    auto reg = impl_->find_app(client_id);
    if (!reg || reg->client_secret != client_secret) {
        return fail("invalid_client");
    }
    std::unique_lock lock(impl_->data_mu);
    auto it = impl_->refresh_tokens.find(refresh_token);
    if (it == impl_->refresh_tokens.end() || it->second.client_id != client_id) {
        const bool reused = impl_->used_refresh_tokens.count(refresh_token) != 0;
        lock.unlock();
        if (reused) {
            std::lock_guard slock(impl_->stats_mu);
            impl_->counters.refresh_reuses++;
        }
        return fail("invalid_grant");
    }
    auto app = impl_->apps.find(client_id);
    if (app == impl_->apps.end() || !app->second.installed) {
        lock.unlock();
        return fail("invalid_client");
    }
    if (impl_->Now() >= it->second.expires_at) {
        impl_->refresh_tokens.erase(it);
        lock.unlock();
        return fail("invalid_grant");
    }
    if (impl_->subscription_ended) {
        lock.unlock();
        return fail("PAYMENT_REQUIRED");
    }
    const int64_t user_id = it->second.user_id;
    impl_->used_refresh_tokens.insert(refresh_token);
    impl_->refresh_tokens.erase(it);  // a refresh token works once
    TokenPair pair = impl_->IssueTokensLocked(client_id, user_id);
    lock.unlock();
    std::lock_guard slock(impl_->stats_mu);
    impl_->counters.refreshes++;
    return pair;
}

bool Portal::OwnsRefreshToken(const std::string& refresh_token) const {
    std::shared_lock lock(impl_->data_mu);
    return impl_->refresh_tokens.count(refresh_token) > 0 ||
           impl_->used_refresh_tokens.count(refresh_token) > 0;
}

bool Portal::OwnsAccessToken(const std::string& access_token) const {
    std::shared_lock lock(impl_->data_mu);
    return impl_->access_tokens.count(access_token) > 0;
}

std::vector<PlacementBinding> Portal::Placements(const std::string& client_id) const {
    std::shared_lock lock(impl_->data_mu);
    auto it = impl_->apps.find(client_id);
    return it == impl_->apps.end() ? std::vector<PlacementBinding>{} : it->second.placements;
}

std::vector<EventBinding> Portal::EventBindings(const std::string& client_id) const {
    std::shared_lock lock(impl_->data_mu);
    auto it = impl_->apps.find(client_id);
    return it == impl_->apps.end() ? std::vector<EventBinding>{} : it->second.events;
}

nlohmann::json Portal::AppOptions(const std::string& client_id) const {
    std::shared_lock lock(impl_->data_mu);
    auto it = impl_->apps.find(client_id);
    return it == impl_->apps.end() ? nlohmann::json::object() : ToPlain(it->second.options);
}

bool Portal::WaitForEventsDelivered(std::chrono::milliseconds timeout) {
    std::unique_lock lock(impl_->events_mu);
    return impl_->events_cv.wait_for(lock, timeout, [this] {
        return impl_->event_queue.empty() && impl_->events_in_flight == 0;
    });
}

std::vector<DeliveredEvent> Portal::DeliveredEvents() const {
    std::lock_guard lock(impl_->events_mu);
    return impl_->delivered;
}

size_t Portal::OfflineQueueSize(const std::string& client_id) const {
    std::shared_lock lock(impl_->data_mu);
    auto it = impl_->apps.find(client_id);
    return it == impl_->apps.end() ? 0 : it->second.offline.size();
}

void Portal::SetLimits(const LimitOptions& limits) {
    std::lock_guard lock(impl_->stats_mu);
    impl_->options.limits = limits;
}

LimitOptions Portal::Limits() const {
    std::lock_guard lock(impl_->stats_mu);
    return impl_->options.limits;
}

void Portal::SetCostModel(const CostModel& costs) {
    std::lock_guard lock(impl_->stats_mu);
    impl_->options.costs = costs;
}

void Portal::SetPlan(const Plan& plan) {
    std::lock_guard lock(impl_->stats_mu);
    impl_->options.plan = plan;
}

void Portal::FailNext(int count, const Fault& fault) {
    std::lock_guard lock(impl_->stats_mu);
    for (int i = 0; i < count; ++i) {
        Fault f = fault;
        f.method = ToLower(f.method);
        impl_->scripted_faults.push_back(f);
    }
}

void Portal::SetRandomFaults(const RandomFaults& faults) {
    std::lock_guard lock(impl_->stats_mu);
    impl_->random_faults = faults;
    impl_->fault_rng.seed(faults.seed);
}

void Portal::ClearFaults() {
    std::lock_guard lock(impl_->stats_mu);
    impl_->scripted_faults.clear();
    impl_->random_faults.reset();
}

double Portal::OperatingSeconds(const std::string& client_id, const std::string& method) const {
    std::lock_guard lock(impl_->stats_mu);
    auto it = impl_->ledgers.find(client_id + "|" + ToLower(method));
    if (it == impl_->ledgers.end()) {
        return 0;
    }
    return it->second.Sum(impl_->Now(), impl_->options.limits.operating_window_seconds);
}

double Portal::BucketLevel() const {
    std::lock_guard lock(impl_->stats_mu);
    return impl_->bucket.Level(impl_->Now(), impl_->options.plan.drain_per_second);
}

void Portal::ResetLimits() {
    std::lock_guard lock(impl_->stats_mu);
    impl_->bucket.Reset();
    impl_->ledgers.clear();
}

CountersSnapshot Portal::Counters() const {
    std::lock_guard lock(impl_->stats_mu);
    return impl_->counters;
}

void Portal::ResetCounters() {
    std::lock_guard lock(impl_->stats_mu);
    impl_->counters = CountersSnapshot{};
}

std::string Portal::Rename() {
    impl_->StartServer();
    return impl_->Domain();
}

void Portal::SetShellApp(const std::string& client_id) {
    std::unique_lock lock(impl_->data_mu);
    impl_->shell_client_id = client_id;
}

void Portal::SetShellDir(const std::string& dir) {
    std::unique_lock lock(impl_->data_mu);
    impl_->shell_dir = dir;
}

}  // namespace fakeportal
