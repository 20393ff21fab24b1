#pragma once
// HTTP over libcurl: persistent connections (a pool of easy handles, each keeping its own
// connection cache), gzip, timeouts, no automatic redirects (the client handles portal
// renames itself so that a POST stays a POST). Thread-safe: each Perform borrows a handle.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace b24client::detail {

struct HttpRequest {
    std::string url;
    std::string body;  // POST body; ignored for GET
    bool post = true;
    std::string content_type = "application/json";
    double timeout_s = 75.0;
    double connect_timeout_s = 10.0;
};

enum class TransportFailure { kNone, kTimeout, kConnection };

struct HttpResult {
    TransportFailure failure = TransportFailure::kNone;
    std::string failure_detail;  // curl's message (never contains the body)
    long status = 0;
    std::string body;
    std::string location;  // redirect target, if any
    std::string content_type;
};

class Transport {
public:
    Transport(std::string user_agent, bool verify_tls);
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    HttpResult Perform(const HttpRequest& request);

private:
    struct Handle;
    std::unique_ptr<Handle> Borrow();
    void Return(std::unique_ptr<Handle> h);

    std::string user_agent_;
    bool verify_tls_;
    std::mutex mu_;
    std::vector<std::unique_ptr<Handle>> idle_;
};

}  // namespace b24client::detail
