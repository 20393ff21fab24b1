#pragma once
// HTTP over libcurl: persistent connections (a pool of easy handles, each keeping its own
// connection cache), gzip, timeouts, no automatic redirects (the client handles portal
// renames itself so that a POST stays a POST). Thread-safe: each Perform borrows a handle.
//
// Restrictions, the same for every request of the process's two kinds of callers (the portal's
// REST client and the authorization-server client): libcurl may speak https only (plus plain
// http when `allow_http`), for requests and for redirects; answers are capped at
// `max_answer_bytes` after decompression (kTooLarge, the transfer is cut off).

#include <cstddef>
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

enum class TransportFailure {
    kNone,
    kTimeout,
    kConnection,
    kTooLarge,  // the answer passed max_answer_bytes; the transfer was cut off
    kProtocol,  // a URL whose scheme is not allowed (libcurl refused it)
};

struct TransportOptions {
    std::string user_agent = "b24seg-b24client/0.1";
    bool verify_tls = true;
    bool allow_http = false;  // plain http next to https (local test portals only)
    std::size_t max_answer_bytes = 64u * 1024u * 1024u;
};

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
    explicit Transport(TransportOptions options);
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    HttpResult Perform(const HttpRequest& request);
    const TransportOptions& options() const { return options_; }

private:
    struct Handle;
    std::unique_ptr<Handle> Borrow();
    void Return(std::unique_ptr<Handle> h);

    TransportOptions options_;
    std::mutex mu_;
    std::vector<std::unique_ptr<Handle>> idle_;
};

}  // namespace b24client::detail
