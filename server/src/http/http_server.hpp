#pragma once
// The HTTP listener and what every route shares (server/README.md "Request flow" and
// "Robustness"). It is built on GNU libmicrohttpd (epoll event threads); handlers run on a
// bounded, fair worker pool (work_pool.hpp), never on the event threads, so a slow handler or a
// slow client never stops the others from being read and answered.
//
//  - routes are exact paths, per method; a path ending in "*" takes one more path segment of
//    letters, digits, '.', '_' and '-' (starting with a letter or digit), which the handler reads
//    as req.matches[1];
//  - limits hold before anything is buffered: at most `max_connections` connections (and
//    `max_connections_per_ip` from one address, if set); request line and headers together within
//    `max_header_bytes` (414/431 past it) and at most `max_headers` headers (431); each route's
//    body limit checked against Content-Length before the body is read (413), and a chunked body
//    cut off (connection closed) the moment it passes the limit; Content-Encoding other than
//    identity refused (415: nothing is inflated); a request must arrive whole within
//    `request_timeout_s` of the connection's start or of its previous answer, else the
//    connection is closed; `idle_timeout_s` without any traffic closes it too; at most
//    `keepalive_requests` requests per connection;
//  - handlers of one portal, and of one user, hold at most a share of the workers; a full queue
//    is 503 `overloaded` (one user's full queue: 429 `busy`), with Retry-After;
//  - one error renderer: ApiError -> its status and {"error":{"code","message"}} (or a small HTML
//    page for page routes); any other exception -> 500 "internal", logged, message not shown;
//    unknown paths -> 404, a known path with another method -> 405 with Allow;
//  - an access log line per request: method, path (never the query string), status, duration.
//
// libmicrohttpd stays out of this header. Thread-safety: register routes and the work-key
// function before Start(); handlers run on the worker threads ("inline" routes on an event
// thread: they must not block).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "http/work_pool.hpp"

namespace server::http {

enum class ErrorStyle { kJson, kHtml };

using Handler = std::function<void(const Request&, Response&)>;

struct HttpLimits {
    int max_connections = 512;
    int max_connections_per_ip = 0;  // 0: no per-address limit (behind a proxy all share one)
    std::size_t max_header_bytes = 32 * 1024;
    int max_headers = 100;
    double request_timeout_s = 10.0;
    int idle_timeout_s = 30;
    int keepalive_requests = 100;
    int event_threads = 2;
    WorkPoolLimits pool;
};

class HttpServer {
public:
    explicit HttpServer(HttpLimits limits = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // method: GET, POST or PUT. path: "/api/list" or "/assets/*" (see above). An inline route's
    // handler runs on the event thread (only for handlers that never block: /healthz).
    void Route(const std::string& method,
               const std::string& path,
               std::size_t max_body,
               ErrorStyle errors,
               Handler handler,
               bool inline_handler = false);

    // Who a request is for (portal, user), for the worker pool's fairness. Runs on an event
    // thread with the complete request: must be cheap and must not throw. Default: anonymous.
    void SetWorkKey(std::function<WorkKey(const Request&)> key_of);

    // Binds host:port (port 0: any free port) and listens. Returns the bound port; throws
    // std::runtime_error naming the address and the reason (address in use, permission, ...).
    int Bind(const std::string& host, int port);
    // Starts the event threads and the workers; returns at once, serving. Throws
    // std::runtime_error if the server cannot start.
    void Start();
    // Stops accepting, answers queued requests 503, waits for running handlers, closes every
    // connection. Idempotent, any thread but a handler's.
    void Stop();
    bool running() const { return running_.load(); }
    int port() const { return port_; }

    struct Stats {
        int connections = 0;                 // open now
        std::int64_t timed_out = 0;          // connections closed by request_timeout_s
        std::int64_t refused_too_large = 0;  // 413, 414, 415, 431 and bodies cut off
        WorkPool::Stats pool;
    };
    Stats stats() const;

    // Renders an error the way routes do (used by handlers that answer early).
    static void RenderError(Response& res,
                            int status,
                            const std::string& code,
                            const std::string& message,
                            ErrorStyle style);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
    std::atomic<bool> running_{false};
    int port_ = 0;
};

}  // namespace server::http
