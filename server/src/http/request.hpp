#pragma once
// The request and response a route handler sees. HttpServer fills a Request only once the whole
// request has arrived within its limits (server/README.md "Request flow"), and turns the Response
// into the answer. The member names follow cpp-httplib's, which the handlers were first written
// against.
//
// Plain values: no synchronisation; one handler owns them while it runs.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace server::http {

// ASCII case-insensitive ordering for header names.
struct HeaderNameLess {
    bool operator()(const std::string& a, const std::string& b) const;
};

using Headers = std::multimap<std::string, std::string, HeaderNameLess>;
using Params = std::multimap<std::string, std::string>;

struct Request {
    std::string method;                // "GET", "POST", "PUT", ...
    std::string path;                  // percent-decoded path, without the query string
    std::string target;                // the request target as sent: path and query, undecoded
    Headers headers;                   // as sent (names compared case-insensitively)
    Params params;                     // query parameters, decoded ('+' is a space)
    std::string body;                  // the whole body (at most the route's limit)
    std::vector<std::string> matches;  // [0] the path; [1] the segment of a "/prefix/*" route
    std::string remote_addr;           // the peer's address (the proxy's, behind nginx)

    bool has_header(const std::string& name) const;
    // The id-th value of a header, "" if absent.
    std::string get_header_value(const std::string& name, std::size_t id = 0) const;
    bool has_param(const std::string& key) const;
    std::string get_param_value(const std::string& key, std::size_t id = 0) const;
};

struct Response {
    int status = 200;
    Headers headers;
    std::string body;

    // Replaces every value of the header.
    void set_header(const std::string& name, const std::string& value);
    bool has_header(const std::string& name) const;
    std::string get_header_value(const std::string& name) const;
    // Sets the body and its Content-Type.
    void set_content(std::string content, const std::string& content_type);
};

}  // namespace server::http
