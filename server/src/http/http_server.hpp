#pragma once
// The HTTP listener and what every route shares (server/README.md "Request flow"):
//  - routes are exact paths, per method; a path ending in "*" takes one more path segment of
//    letters, digits, '.', '_' and '-' (starting with a letter or digit), which the handler reads
//    as req.matches[1];
//  - each route has its own body limit (config max_api_body_bytes / max_callback_body_bytes):
//    a larger Content-Length is refused with 413 before the body is read, and a body that turns
//    out larger is refused too;
//  - one error renderer: ApiError -> its status and {"error":{"code","message"}} (or a small HTML
//    page for page routes); any other exception -> 500 "internal", logged, message not shown;
//    unknown paths -> 404, a known path with another method -> 405 with Allow;
//  - an access log line per request: method, path (never the query string), status, duration.
//
// httplib stays out of this header. Thread-safety: register routes before Listen(); handlers run
// on the server's worker threads.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace server::http {

enum class ErrorStyle { kJson, kHtml };

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

class HttpServer {
public:
    // max_payload: the largest body httplib reads at all (the largest route limit).
    explicit HttpServer(std::size_t max_payload, int threads = 16);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // method: GET, POST or PUT. path: "/api/list" or "/assets/*" (see above).
    void Route(const std::string& method,
               const std::string& path,
               std::size_t max_body,
               ErrorStyle errors,
               Handler handler);

    // Binds host:port (port 0: any free port). Returns the bound port; throws std::runtime_error.
    int Bind(const std::string& host, int port);
    // Serves until Stop(); call after Bind, usually on its own thread.
    void Listen();
    // Stops accepting and returns once the listener has stopped (idempotent, any thread).
    void Stop();
    bool running() const;
    int port() const { return port_; }

    // Renders an error the way routes do (used by handlers that answer early).
    static void RenderError(httplib::Response& res,
                            int status,
                            const std::string& code,
                            const std::string& message,
                            ErrorStyle style);

private:
    struct RouteEntry {
        std::string method;
        std::string path;      // without the trailing "*"
        bool segment = false;  // one more path segment follows
        std::size_t max_body = 0;
        ErrorStyle errors = ErrorStyle::kJson;
        bool Matches(std::string_view request_path) const;
    };
    const RouteEntry* FindPath(const std::string& path) const;

    std::unique_ptr<httplib::Server> server_;
    std::vector<RouteEntry> routes_;
    int port_ = 0;
};

}  // namespace server::http
