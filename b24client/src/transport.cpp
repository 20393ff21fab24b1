#include "transport.hpp"

#include <cmath>

#include <curl/curl.h>

namespace b24client::detail {
namespace {

constexpr std::size_t kMaxIdleHandles = 16;

struct CurlDeleter {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

struct Sink {
    std::string* out = nullptr;
    std::size_t max = 0;
    bool overflow = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const size_t bytes = size * n;
    if (sink->out->size() + bytes > sink->max) {
        sink->overflow = true;
        return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    sink->out->append(data, bytes);
    return bytes;
}

long Millis(double seconds) {
    return static_cast<long>(std::ceil(std::max(seconds, 0.001) * 1000.0));
}

}  // namespace

struct Transport::Handle {
    std::unique_ptr<CURL, CurlDeleter> curl;
};

Transport::Transport(TransportOptions options) : options_(std::move(options)) {}

Transport::~Transport() = default;

std::unique_ptr<Transport::Handle> Transport::Borrow() {
    {
        std::lock_guard lock(mu_);
        if (!idle_.empty()) {
            auto h = std::move(idle_.back());
            idle_.pop_back();
            return h;
        }
    }
    auto h = std::make_unique<Handle>();
    h->curl.reset(curl_easy_init());
    return h;
}

void Transport::Return(std::unique_ptr<Handle> h) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(std::move(h));
    }
}

HttpResult Transport::Perform(const HttpRequest& request) {
    HttpResult result;
    auto handle = Borrow();
    CURL* c = handle->curl.get();
    if (c == nullptr) {
        result.failure = TransportFailure::kConnection;
        result.failure_detail = "curl_easy_init failed";
        return result;
    }
    // Reset keeps the connection cache, the DNS cache and TLS sessions of the handle.
    curl_easy_reset(c);
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    auto add_header = [&headers](const std::string& h) {
        curl_slist* l = curl_slist_append(headers.get(), h.c_str());
        if (l != nullptr) {
            headers.release();
            headers.reset(l);
        }
    };
    add_header("Accept: application/json");
    if (request.post) {
        add_header("Content-Type: " + request.content_type);
    }
    add_header("Expect:");  // no 100-continue round trip for larger bodies

    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
    // Only the schemes we call, also for redirects (not followed anyway; a second line of defence).
    const char* protocols = options_.allow_http ? "http,https" : "https";
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    // A declared Content-Length above the cap ends the transfer before the body is read.
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options_.max_answer_bytes));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, Millis(request.timeout_s));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, Millis(request.connect_timeout_s));
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    Sink sink{&result.body, options_.max_answer_bytes, false};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    if (request.post) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }

    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED) {
            result.failure = TransportFailure::kTooLarge;
        } else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
            result.failure = TransportFailure::kProtocol;
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            result.failure = TransportFailure::kTimeout;
        } else {
            result.failure = TransportFailure::kConnection;
        }
        result.failure_detail = curl_easy_strerror(rc);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
        result.body.clear();
        // A failed handle may hold a half-dead connection: drop it rather than reuse it.
        return result;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
    char* location = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location != nullptr) {
        result.location = location;
    }
    char* ctype = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != nullptr) {
        result.content_type = ctype;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    Return(std::move(handle));
    return result;
}

}  // namespace b24client::detail
