#include "config.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "crypto.hpp"

namespace server {

namespace {

template <typename T>
void Read(const nlohmann::json& j, const char* key, T& out) {
    if (auto it = j.find(key); it != j.end()) {
        try {
            out = it->get<T>();
        } catch (const nlohmann::json::exception&) {
            throw std::runtime_error(std::string("config: key '") + key + "' has the wrong type");
        }
    }
}

const std::set<std::string>& KnownKeys() {
    static const std::set<std::string> keys = {"listen_host",
                                               "listen_port",
                                               "public_url",
                                               "data_dir",
                                               "frontend_dir",
                                               "oauth_url",
                                               "client_id",
                                               "allow_http_portals",
                                               "insecure_plaintext_tokens",
                                               "uninstall_grace_hours",
                                               "max_answer_bytes",
                                               "max_parallel_jobs",
                                               "incremental_interval_s",
                                               "recompute_interval_s",
                                               "event_debounce_s",
                                               "rights_cache_s",
                                               "max_cached_indexes",
                                               "standard_drain_per_s",
                                               "standard_burst",
                                               "enterprise_drain_per_s",
                                               "enterprise_burst",
                                               "max_api_body_bytes",
                                               "max_callback_body_bytes",
                                               "max_connections",
                                               "max_connections_per_ip",
                                               "max_header_bytes",
                                               "max_headers",
                                               "request_timeout_s",
                                               "idle_timeout_s",
                                               "keepalive_requests",
                                               "http_workers",
                                               "http_max_queued",
                                               "http_portal_workers",
                                               "http_user_workers",
                                               "http_queue_wait_ms",
                                               "user_wait_ms",
                                               "log_level"};
    return keys;
}

// Secrets never belong in a file that is copied, versioned and readable by the service's admins.
const std::map<std::string, std::string>& SecretKeys() {
    static const std::map<std::string, std::string> keys = {
        {"client_secret", "B24SEG_CLIENT_SECRET"},
        {"session_key", "B24SEG_SESSION_KEY"},
        {"token_key", "B24SEG_TOKEN_KEY"},
        {"token_key_old", "B24SEG_TOKEN_KEY_OLD"},
    };
    return keys;
}

}  // namespace

void ApplyEnvironment(Config& config) {
    auto env = [](const char* name, std::string& out) {
        if (const char* v = std::getenv(name); v != nullptr && *v != '\0') {
            out = v;
        }
    };
    env("B24SEG_CLIENT_ID", config.client_id);
    env("B24SEG_CLIENT_SECRET", config.client_secret);
    env("B24SEG_SESSION_KEY", config.session_key);
    env("B24SEG_TOKEN_KEY", config.token_key);
    env("B24SEG_TOKEN_KEY_OLD", config.token_key_old);
    env("B24SEG_DATA_DIR", config.data_dir);
}

void Validate(const Config& c) {
    auto fail = [](const std::string& what) { throw std::runtime_error("config: " + what); };
    if (c.listen_port < 0 || c.listen_port > 65535) {
        fail("listen_port must be 0..65535");
    }
    if (c.public_url.rfind("http://", 0) != 0 && c.public_url.rfind("https://", 0) != 0) {
        fail("public_url must start with http:// or https://");
    }
    if (!c.public_url.empty() && c.public_url.back() == '/') {
        fail("public_url must not end with '/'");
    }
    if (c.data_dir.empty()) {
        fail("data_dir must not be empty");
    }
    if (c.oauth_url.rfind("http://", 0) != 0 && c.oauth_url.rfind("https://", 0) != 0) {
        fail("oauth_url must be an http(s) URL");
    }
    if (!c.session_key.empty() && c.session_key.size() < 32) {
        fail("session_key (B24SEG_SESSION_KEY) must be at least 32 characters");
    }
    if (c.max_parallel_jobs < 1 || c.max_parallel_jobs > 64) {
        fail("max_parallel_jobs must be 1..64");
    }
    if (c.incremental_interval_s < 60 || c.recompute_interval_s < 600 || c.event_debounce_s < 0 ||
        c.rights_cache_s < 0) {
        fail("intervals are too small (incremental >= 60 s, recompute >= 600 s)");
    }
    if (c.max_cached_indexes < 1 || c.max_cached_indexes > 10000) {
        fail("max_cached_indexes must be 1..10000");
    }
    if (c.standard_drain_per_s <= 0 || c.enterprise_drain_per_s <= 0 || c.standard_burst < 1 ||
        c.enterprise_burst < 1) {
        fail("rate limits must be positive");
    }
    if (c.max_api_body_bytes < 1024 || c.max_callback_body_bytes < 4096) {
        fail("body limits are too small");
    }
    if (c.max_api_body_bytes > (64u << 20) || c.max_callback_body_bytes > (64u << 20)) {
        fail("body limits are too large (at most 64 MiB)");
    }
    if (c.max_connections < 16 || c.max_connections > 100000 || c.max_connections_per_ip < 0) {
        fail("max_connections must be 16..100000 and max_connections_per_ip >= 0");
    }
    if (c.max_header_bytes < 4096 || c.max_header_bytes > (1 << 20) || c.max_headers < 16 ||
        c.max_headers > 10000) {
        fail("max_header_bytes must be 4096..1048576 and max_headers 16..10000");
    }
    if (c.request_timeout_s < 1 || c.request_timeout_s > 600 || c.idle_timeout_s < 1 ||
        c.idle_timeout_s > 3600 || c.keepalive_requests < 1) {
        fail("request_timeout_s (1..600), idle_timeout_s (1..3600) and keepalive_requests (>= 1)");
    }
    if (c.http_workers < 1 || c.http_workers > 1024 || c.http_max_queued < 1 ||
        c.http_portal_workers < 1 || c.http_user_workers < 1) {
        fail("http_workers must be 1..1024; queue and per-portal/per-user shares at least 1");
    }
    if (c.http_queue_wait_ms < 100 || c.http_queue_wait_ms > 600000) {
        fail("http_queue_wait_ms must be 100..600000");
    }
    if (c.user_wait_ms < 0 || c.user_wait_ms > 60000) {
        fail("user_wait_ms must be 0..60000");
    }
    if (c.uninstall_grace_hours < 0 || c.uninstall_grace_hours > 24 * 365) {
        fail("uninstall_grace_hours must be 0..8760");
    }
    if (c.max_answer_bytes < (1u << 20)) {
        fail("max_answer_bytes must be at least 1 MiB");
    }
    if (!c.token_key.empty()) {
        ParseTokenKey(c.token_key, "config: B24SEG_TOKEN_KEY");
    }
    if (!c.token_key_old.empty()) {
        ParseTokenKey(c.token_key_old, "config: B24SEG_TOKEN_KEY_OLD");
    }
    static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error"};
    if (levels.count(c.log_level) == 0) {
        fail("log_level must be one of trace, debug, info, warn, error");
    }
}

Config LoadConfig(const std::string& path) {
    Config c;
    if (!path.empty()) {
        std::ifstream in(path);
        if (!in) {
            throw std::runtime_error("config: cannot open " + path);
        }
        std::stringstream text;
        text << in.rdbuf();
        nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions*/ false,
                                                 /*ignore_comments*/ true);
        if (j.is_discarded() || !j.is_object()) {
            throw std::runtime_error("config: " + path + " is not a JSON object");
        }
        for (const auto& [key, value] : j.items()) {
            if (auto secret = SecretKeys().find(key); secret != SecretKeys().end()) {
                throw std::runtime_error(
                    "config: '" + key + "' is a secret and is not read from the config file; set " +
                    secret->second + " in the environment instead");
            }
            if (KnownKeys().count(key) == 0) {
                throw std::runtime_error("config: unknown key '" + key + "'");
            }
        }
        Read(j, "listen_host", c.listen_host);
        Read(j, "listen_port", c.listen_port);
        Read(j, "public_url", c.public_url);
        Read(j, "data_dir", c.data_dir);
        Read(j, "frontend_dir", c.frontend_dir);
        Read(j, "oauth_url", c.oauth_url);
        Read(j, "client_id", c.client_id);
        Read(j, "allow_http_portals", c.allow_http_portals);
        Read(j, "insecure_plaintext_tokens", c.insecure_plaintext_tokens);
        Read(j, "uninstall_grace_hours", c.uninstall_grace_hours);
        Read(j, "max_answer_bytes", c.max_answer_bytes);
        Read(j, "max_parallel_jobs", c.max_parallel_jobs);
        Read(j, "incremental_interval_s", c.incremental_interval_s);
        Read(j, "recompute_interval_s", c.recompute_interval_s);
        Read(j, "event_debounce_s", c.event_debounce_s);
        Read(j, "rights_cache_s", c.rights_cache_s);
        Read(j, "max_cached_indexes", c.max_cached_indexes);
        Read(j, "standard_drain_per_s", c.standard_drain_per_s);
        Read(j, "standard_burst", c.standard_burst);
        Read(j, "enterprise_drain_per_s", c.enterprise_drain_per_s);
        Read(j, "enterprise_burst", c.enterprise_burst);
        Read(j, "max_api_body_bytes", c.max_api_body_bytes);
        Read(j, "max_callback_body_bytes", c.max_callback_body_bytes);
        Read(j, "max_connections", c.max_connections);
        Read(j, "max_connections_per_ip", c.max_connections_per_ip);
        Read(j, "max_header_bytes", c.max_header_bytes);
        Read(j, "max_headers", c.max_headers);
        Read(j, "request_timeout_s", c.request_timeout_s);
        Read(j, "idle_timeout_s", c.idle_timeout_s);
        Read(j, "keepalive_requests", c.keepalive_requests);
        Read(j, "http_workers", c.http_workers);
        Read(j, "http_max_queued", c.http_max_queued);
        Read(j, "http_portal_workers", c.http_portal_workers);
        Read(j, "http_user_workers", c.http_user_workers);
        Read(j, "http_queue_wait_ms", c.http_queue_wait_ms);
        Read(j, "user_wait_ms", c.user_wait_ms);
        Read(j, "log_level", c.log_level);
    }
    ApplyEnvironment(c);
    Validate(c);
    return c;
}

}  // namespace server
