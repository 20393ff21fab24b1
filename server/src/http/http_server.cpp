#include "http/http_server.hpp"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api_error.hpp"
#include "db.hpp"
#include "http/util.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace server::http {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string CodeFor(int status) {
    switch (status) {
        case 400:
            return "bad_request";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not_found";
        case 405:
            return "method_not_allowed";
        case 409:
            return "conflict";
        case 413:
        case 414:
        case 431:
            return "too_large";
        case 415:
            return "unsupported_encoding";
        case 429:
            return "busy";
        case 503:
            return "overloaded";
        default:
            return status >= 500 ? "internal" : "bad_request";
    }
}

constexpr std::size_t kMaxSegment = 200;

// A body over its route's limit is answered 413. Up to this much of it is read (and dropped:
// nothing is kept) so that an honest client, still sending, hears the 413 instead of a reset;
// past it the connection is closed without reading further.
constexpr std::uint64_t kDrainBytes = 4u << 20;

bool SegmentChar(char c, bool first) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || (!first && (c == '.' || c == '_' || c == '-'));
}

struct RouteEntry {
    std::string method;
    std::string path;      // without the trailing "*"
    bool segment = false;  // one more path segment follows
    std::size_t max_body = 0;
    ErrorStyle errors = ErrorStyle::kJson;
    bool inline_handler = false;
    Handler handler;

    bool Matches(std::string_view request_path) const {
        if (!segment) {
            return request_path == path;
        }
        if (request_path.size() <= path.size() || request_path.substr(0, path.size()) != path) {
            return false;
        }
        std::string_view rest = request_path.substr(path.size());
        if (rest.size() > kMaxSegment) {
            return false;
        }
        for (std::size_t i = 0; i < rest.size(); ++i) {
            if (!SegmentChar(rest[i], i == 0)) {
                return false;
            }
        }
        return true;
    }
};

// What we keep per connection: when its current request started (accept, or the end of the
// previous answer) and whether it is still being read.
struct ConnState {
    int fd = -1;
    SteadyClock::time_point started;
    bool reading = true;
    bool shut = false;
    int requests = 0;
};

enum class Phase { kHeaders, kBody, kQueued, kDone, kAnswered };

struct ReqState {
    Request req;
    Response res;
    const RouteEntry* route = nullptr;
    ErrorStyle style = ErrorStyle::kJson;
    std::size_t limit = 0;
    bool too_large = false;  // over the limit: the rest is drained, then 413
    std::uint64_t seen = 0;  // body bytes received
    bool cut = false;        // past the drain allowance: connection closed
    std::atomic<Phase> phase{Phase::kHeaders};
    SteadyClock::time_point start = SteadyClock::now();
    MHD_Connection* connection = nullptr;
    ConnState* conn_state = nullptr;
};

}  // namespace

struct HttpServer::Impl {
    HttpLimits limits;
    std::vector<RouteEntry> routes;
    std::function<WorkKey(const Request&)> key_of;
    WorkPool pool;
    MHD_Daemon* daemon = nullptr;
    int listen_fd = -1;

    mutable std::mutex conns_mutex;
    std::set<ConnState*> conns;
    std::int64_t timed_out = 0;
    std::atomic<std::int64_t> refused_too_large{0};

    std::mutex sweep_mutex;
    std::condition_variable sweep_wake;
    bool sweep_stop = false;
    std::thread sweeper;

    explicit Impl(HttpLimits l) : limits(l), pool(l.pool) {}

    const RouteEntry* FindPath(const std::string& path) const {
        for (const auto& r : routes) {
            if (r.Matches(path)) {
                return &r;
            }
        }
        return nullptr;
    }

    const RouteEntry* Find(const std::string& method, const std::string& path) const {
        for (const auto& r : routes) {
            if (r.method == method && r.Matches(path)) {
                return &r;
            }
        }
        return nullptr;
    }

    std::string AllowFor(const std::string& path) const {
        std::set<std::string> allowed;
        for (const auto& r : routes) {
            if (r.Matches(path)) {
                allowed.insert(r.method);
            }
        }
        std::string allow;
        for (const auto& m : allowed) {
            allow += (allow.empty() ? "" : ", ") + m;
        }
        return allow;
    }

    void Sweep() {
        std::unique_lock lock(sweep_mutex);
        while (!sweep_stop) {
            sweep_wake.wait_for(lock, std::chrono::milliseconds(200));
            if (sweep_stop) {
                return;
            }
            auto now = SteadyClock::now();
            std::lock_guard conns_lock(conns_mutex);
            for (ConnState* c : conns) {
                if (c->reading && !c->shut &&
                    std::chrono::duration<double>(now - c->started).count() >
                        limits.request_timeout_s) {
                    // The event thread sees the connection end and closes it; its CLOSED
                    // notification (which takes conns_mutex) comes before the fd is reused.
                    ::shutdown(c->fd, SHUT_RDWR);
                    c->shut = true;
                    ++timed_out;
                }
            }
        }
    }
};

namespace {

// Sends st->res (or an error) as the answer. Returns what MHD_queue_response returned.
MHD_Result QueueAnswer(HttpServer::Impl& impl, ReqState& st) {
    st.phase = Phase::kAnswered;
    const std::string& body = st.res.body;
    MHD_Response* response = MHD_create_response_from_buffer(
        body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) {
        return MHD_NO;
    }
    for (const auto& [name, value] : st.res.headers) {
        // MHD refuses values with CR/LF: a header injection cannot pass.
        MHD_add_response_header(response, name.c_str(), value.c_str());
    }
    bool close = false;
    if (st.conn_state != nullptr) {
        std::lock_guard lock(impl.conns_mutex);
        close = ++st.conn_state->requests >= impl.limits.keepalive_requests;
    }
    if (close) {
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    MHD_Result ok =
        MHD_queue_response(st.connection, static_cast<unsigned int>(st.res.status), response);
    MHD_destroy_response(response);
    return ok;
}

MHD_Result AnswerError(HttpServer::Impl& impl, ReqState& st, int status, const std::string& msg) {
    if (status == 413 || status == 415 || status == 431) {
        ++impl.refused_too_large;
    }
    st.res = Response{};
    HttpServer::RenderError(st.res, status, CodeFor(status), msg, st.style);
    return QueueAnswer(impl, st);
}

// Runs the route's handler with the shared error handling; never throws.
void RunHandler(const RouteEntry& route, const Request& req, Response& res) {
    try {
        route.handler(req, res);
    } catch (const ApiError& e) {
        if (e.status() >= 500) {
            spdlog::warn("{} {}: {} {}", route.method, LogSafe(req.path), e.status(), e.what());
        }
        res.headers.clear();
        HttpServer::RenderError(res, e.status(), e.code(), e.what(), route.errors);
    } catch (const StorageError& e) {
        // The server's own storage failed (full disk, damaged portal database): the operator's
        // problem, shown as such (and in /healthz), never as the raw SQLite text.
        spdlog::error("{} {}: storage: {} ({})", route.method, LogSafe(req.path), e.code(),
                      e.what());
        res.headers.clear();
        HttpServer::RenderError(res, 503, e.code(),
                                e.code() == "disk_full"
                                    ? "the server's disk is full; try again later"
                                    : "the server cannot read this portal's data now",
                                route.errors);
    } catch (const std::exception& e) {
        spdlog::error("{} {}: internal error: {}", route.method, LogSafe(req.path), e.what());
        res.headers.clear();
        HttpServer::RenderError(res, 500, "internal", "internal error", route.errors);
    } catch (...) {
        spdlog::error("{} {}: internal error (non-standard exception)", route.method,
                      LogSafe(req.path));
        res.headers.clear();
        HttpServer::RenderError(res, 500, "internal", "internal error", route.errors);
    }
}

MHD_Result CollectHeader(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto* headers = static_cast<Headers*>(cls);
    headers->emplace(key != nullptr ? key : "", value != nullptr ? value : "");
    return MHD_YES;
}

void ParseTarget(Request& req) {
    std::string_view target = req.target;
    auto q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    req.path = UrlDecode(raw_path);
    req.params.clear();
    if (q != std::string_view::npos) {
        for (auto& [k, v] : ParseUrlEncoded(target.substr(q + 1))) {
            req.params.emplace(std::move(k), std::move(v));
        }
    }
    req.matches = {req.path};
}

std::string PeerAddress(MHD_Connection* connection) {
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == nullptr || info->client_addr == nullptr) {
        return {};
    }
    char text[INET6_ADDRSTRLEN] = {0};
    const sockaddr* addr = info->client_addr;
    if (addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text,
                  sizeof text);
    } else if (addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text,
                  sizeof text);
    }
    return text;
}

// The request line has arrived: our per-request state begins here, with the target as sent.
void* OnUri(void* cls, const char* uri, MHD_Connection* connection) {
    auto* impl = static_cast<HttpServer::Impl*>(cls);
    auto* st = new ReqState();
    st->req.target = uri != nullptr ? uri : "";
    st->connection = connection;
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info != nullptr && info->socket_context != nullptr) {
        st->conn_state = static_cast<ConnState*>(info->socket_context);
    }
    (void)impl;
    return st;
}

void OnConnection(void* cls,
                  MHD_Connection* connection,
                  void** socket_context,
                  MHD_ConnectionNotificationCode code) {
    auto* impl = static_cast<HttpServer::Impl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        auto* c = new ConnState();
        const MHD_ConnectionInfo* info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = info != nullptr ? info->connect_fd : -1;
        c->started = SteadyClock::now();
        *socket_context = c;
        std::lock_guard lock(impl->conns_mutex);
        impl->conns.insert(c);
        return;
    }
    auto* c = static_cast<ConnState*>(*socket_context);
    if (c != nullptr) {
        std::lock_guard lock(impl->conns_mutex);
        impl->conns.erase(c);
        delete c;
        *socket_context = nullptr;
    }
}

void OnCompleted(void* cls, MHD_Connection*, void** req_cls, MHD_RequestTerminationCode toe) {
    auto* impl = static_cast<HttpServer::Impl*>(cls);
    auto* st = static_cast<ReqState*>(*req_cls);
    if (st == nullptr) {
        return;
    }
    if (st->phase.load() == Phase::kAnswered || toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        double ms =
            std::chrono::duration<double, std::milli>(SteadyClock::now() - st->start).count();
        // req.path never holds the query string; tokens travel in bodies and headers only.
        spdlog::info("http {} {} {} {:.1f}ms", LogSafe(st->req.method, 16), LogSafe(st->req.path),
                     st->res.status, ms);
    }
    if (st->conn_state != nullptr) {
        std::lock_guard lock(impl->conns_mutex);
        st->conn_state->reading = true;  // the next request's time starts now
        st->conn_state->started = SteadyClock::now();
    }
    delete st;
    *req_cls = nullptr;
}

// The first call: headers are in. Everything that can be refused without the body is refused
// here, before a byte of it is read.
MHD_Result OnHeaders(HttpServer::Impl& impl,
                     MHD_Connection* connection,
                     ReqState& st,
                     const char* method) {
    st.phase = Phase::kBody;
    st.req.method = method != nullptr ? method : "";
    int count =
        MHD_get_connection_values(connection, MHD_HEADER_KIND, &CollectHeader, &st.req.headers);
    st.req.remote_addr = PeerAddress(connection);
    ParseTarget(st.req);
    const RouteEntry* any = impl.FindPath(st.req.path);
    st.style = any != nullptr ? any->errors : ErrorStyle::kJson;
    if (count > impl.limits.max_headers) {
        return AnswerError(
            impl, st, 431,
            "too many header fields (at most " + std::to_string(impl.limits.max_headers) + ")");
    }
    st.route = impl.Find(st.req.method, st.req.path);
    if (st.route == nullptr) {
        if (any != nullptr) {
            std::string allow = impl.AllowFor(st.req.path);
            st.res = Response{};
            st.res.set_header("Allow", allow);
            HttpServer::RenderError(st.res, 405, "method_not_allowed",
                                    "method not allowed here; use " + allow, st.style);
            return QueueAnswer(impl, st);
        }
        return AnswerError(impl, st, 404, "no such resource");
    }
    st.limit = st.route->max_body;
    std::string encoding = AsciiLower(st.req.get_header_value("Content-Encoding"));
    if (!encoding.empty() && encoding != "identity") {
        return AnswerError(impl, st, 415, "compressed request bodies are not accepted");
    }
    std::string length = st.req.get_header_value("Content-Length");
    if (!length.empty()) {
        auto n = ParsePositiveId(length);
        if (length != "0" && !n) {
            return AnswerError(impl, st, 400, "bad Content-Length");
        }
        if (n && static_cast<std::uint64_t>(*n) > st.limit) {
            if (static_cast<std::uint64_t>(*n) > kDrainBytes) {
                return AnswerError(
                    impl, st, 413,
                    "request body too large (at most " + std::to_string(st.limit) + " bytes)");
            }
            st.too_large = true;  // read and dropped, then answered 413
        }
    }
    return MHD_YES;
}

MHD_Result OnRequest(void* cls,
                     MHD_Connection* connection,
                     const char*,
                     const char* method,
                     const char*,
                     const char* upload_data,
                     size_t* upload_data_size,
                     void** req_cls) {
    auto* impl = static_cast<HttpServer::Impl*>(cls);
    auto* st = static_cast<ReqState*>(*req_cls);
    if (st == nullptr) {
        return MHD_NO;  // OnUri always runs first
    }
    switch (st->phase.load()) {
        case Phase::kHeaders:
            return OnHeaders(*impl, connection, *st, method);
        case Phase::kBody:
            break;
        case Phase::kQueued:
            return MHD_YES;  // resumed early (cannot happen): wait for the worker
        case Phase::kDone:
            return QueueAnswer(*impl, *st);
        case Phase::kAnswered:
            return MHD_YES;
    }
    if (*upload_data_size > 0) {
        st->seen += *upload_data_size;
        if (st->seen > st->limit && !st->too_large) {
            st->too_large = true;
            std::string().swap(st->req.body);  // nothing of it is kept
        }
        if (st->seen > kDrainBytes) {
            // A body that goes on and on (chunked): stop reading and close.
            ++impl->refused_too_large;
            spdlog::info("http {} {}: body past {} bytes, connection closed",
                         LogSafe(st->req.method, 16), LogSafe(st->req.path), kDrainBytes);
            st->cut = true;
            return MHD_NO;
        }
        if (!st->too_large) {
            st->req.body.append(upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_large) {
        return AnswerError(
            *impl, *st, 413,
            "request body too large (at most " + std::to_string(st->limit) + " bytes)");
    }
    // The whole request is here.
    if (st->conn_state != nullptr) {
        std::lock_guard lock(impl->conns_mutex);
        st->conn_state->reading = false;
    }
    const RouteEntry& route = *st->route;
    if (st->req.matches.size() < 2 && route.segment) {
        st->req.matches.push_back(st->req.path.substr(route.path.size()));
    }
    if (route.inline_handler) {
        RunHandler(route, st->req, st->res);
        return QueueAnswer(*impl, *st);
    }
    WorkKey key{"", "anon"};
    if (impl->key_of) {
        try {
            key = impl->key_of(st->req);
        } catch (...) {
            key = WorkKey{"", "anon"};
        }
    }
    st->phase = Phase::kQueued;
    MHD_suspend_connection(connection);
    auto finish = [connection, st] {
        st->phase = Phase::kDone;
        MHD_resume_connection(connection);
    };
    auto admit = impl->pool.Submit(
        key,
        [st, finish] {
            RunHandler(*st->route, st->req, st->res);
            finish();
        },
        [st, finish] {
            st->res = Response{};
            st->res.set_header("Retry-After", "2");
            HttpServer::RenderError(st->res, 503, "overloaded",
                                    "the server is busy; try again in a moment", st->style);
            finish();
        });
    if (admit != WorkPool::Admit::kQueued) {
        st->res = Response{};
        st->res.set_header("Retry-After", "2");
        if (admit == WorkPool::Admit::kUserFull) {
            HttpServer::RenderError(st->res, 429, "busy",
                                    "too many requests at once; try again in a moment", st->style);
        } else {
            HttpServer::RenderError(st->res, 503, "overloaded",
                                    "the server is busy; try again in a moment", st->style);
        }
        st->phase = Phase::kDone;
        MHD_resume_connection(connection);
    }
    return MHD_YES;
}

void LogFromMhd(void*, const char* format, va_list args) {
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    std::string line(text);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.pop_back();
    }
    spdlog::debug("http: {}", LogSafe(line));
}

}  // namespace

void HttpServer::RenderError(Response& res,
                             int status,
                             const std::string& code,
                             const std::string& message,
                             ErrorStyle style) {
    res.status = status;
    res.headers.erase("Content-Disposition");
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    if (style == ErrorStyle::kHtml) {
        // Shown inside the portal's frame; nothing in it acts, so any page may frame it.
        res.set_header("Content-Security-Policy",
                       "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *");
        res.set_content(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>b24seg</title>"
            "</head><body style=\"font-family:sans-serif;padding:16px\"><p>" +
                HtmlEscape(message) + "</p><p style=\"color:#888\">" + HtmlEscape(code) + " (" +
                std::to_string(status) + ")</p></body></html>",
            "text/html; charset=utf-8");
        return;
    }
    nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json; charset=utf-8");
}

HttpServer::HttpServer(HttpLimits limits) : impl_(std::make_unique<Impl>(limits)) {}

HttpServer::~HttpServer() {
    Stop();
    if (impl_->listen_fd >= 0) {
        ::close(impl_->listen_fd);
        impl_->listen_fd = -1;
    }
}

void HttpServer::Route(const std::string& method,
                       const std::string& path,
                       std::size_t max_body,
                       ErrorStyle errors,
                       Handler handler,
                       bool inline_handler) {
    if (method != "GET" && method != "POST" && method != "PUT") {
        throw std::invalid_argument("HttpServer::Route: unsupported method " + method);
    }
    RouteEntry entry;
    entry.method = method;
    entry.segment = !path.empty() && path.back() == '*';
    entry.path = entry.segment ? path.substr(0, path.size() - 1) : path;
    entry.max_body = max_body;
    entry.errors = errors;
    entry.inline_handler = inline_handler;
    entry.handler = std::move(handler);
    impl_->routes.push_back(std::move(entry));
}

void HttpServer::SetWorkKey(std::function<WorkKey(const Request&)> key_of) {
    impl_->key_of = std::move(key_of);
}

int HttpServer::Bind(const std::string& host, int port) {
    const std::string where = host + ":" + std::to_string(port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
        rc != 0) {
        throw std::runtime_error("cannot listen on " + where + ": " + gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
    int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
    if (fd < 0) {
        throw std::runtime_error("cannot listen on " + where + ": " + std::strerror(errno));
    }
    // SO_REUSEADDR lets a restart bind while old connections linger in TIME_WAIT; on Linux it
    // does not let two listeners share the port (no SO_REUSEPORT: a second server must fail).
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 511) != 0) {
        int err = errno;
        ::close(fd);
        throw std::runtime_error("cannot listen on " + where + ": " + std::strerror(err));
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    if (impl_->listen_fd >= 0) {
        ::close(impl_->listen_fd);
    }
    impl_->listen_fd = fd;
    return port_;
}

void HttpServer::Start() {
    if (running_.load()) {
        return;
    }
    if (impl_->listen_fd < 0) {
        throw std::runtime_error("HttpServer::Start before Bind");
    }
    const HttpLimits& l = impl_->limits;
    impl_->pool.Start();
    // Request line and headers share the connection's memory pool with the read buffer: twice
    // the header budget leaves room for both, and nothing larger is ever buffered.
    auto memory = static_cast<size_t>(std::max<std::size_t>(16 * 1024, 2 * l.max_header_bytes));
    unsigned int flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    MHD_OptionItem ops[] = {
        {MHD_OPTION_LISTEN_SOCKET, impl_->listen_fd, nullptr},
        {MHD_OPTION_THREAD_POOL_SIZE, std::max(1, l.event_threads), nullptr},
        {MHD_OPTION_CONNECTION_LIMIT, std::max(1, l.max_connections), nullptr},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, std::max(0, l.max_connections_per_ip), nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, std::max(1, l.idle_timeout_s), nullptr},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(memory), nullptr},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 511, nullptr},
        {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&OnUri), impl_.get()},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&OnCompleted), impl_.get()},
        {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&OnConnection), impl_.get()},
        {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&LogFromMhd), nullptr},
        {MHD_OPTION_END, 0, nullptr}};
    impl_->daemon = MHD_start_daemon(flags, 0, nullptr, nullptr, &OnRequest, impl_.get(),
                                     MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
    if (impl_->daemon == nullptr) {
        impl_->pool.Stop();
        throw std::runtime_error("the HTTP server did not start (libmicrohttpd refused)");
    }
    // MHD owns the listening socket from here on (it closes it when stopped).
    impl_->listen_fd = -1;
    impl_->sweep_stop = false;
    impl_->sweeper = std::thread([this] { impl_->Sweep(); });
    running_ = true;
}

void HttpServer::Stop() {
    if (!impl_ || impl_->daemon == nullptr) {
        return;
    }
    {
        std::lock_guard lock(impl_->sweep_mutex);
        impl_->sweep_stop = true;
    }
    impl_->sweep_wake.notify_all();
    if (impl_->sweeper.joinable()) {
        impl_->sweeper.join();
    }
    // No new connections; then every queued request is answered (503) and every running handler
    // finishes, which resumes its connection; then the daemon closes them all.
    MHD_socket listen = MHD_quiesce_daemon(impl_->daemon);
    impl_->pool.Stop();
    MHD_stop_daemon(impl_->daemon);
    if (listen != MHD_INVALID_SOCKET) {
        ::close(listen);
    }
    impl_->daemon = nullptr;
    running_ = false;
}

HttpServer::Stats HttpServer::stats() const {
    Stats s;
    {
        std::lock_guard lock(impl_->conns_mutex);
        s.connections = static_cast<int>(impl_->conns.size());
        s.timed_out = impl_->timed_out;
    }
    s.refused_too_large = impl_->refused_too_large.load();
    s.pool = impl_->pool.stats();
    return s;
}

}  // namespace server::http
