#pragma once
// The server's configuration: a JSON file for everything, the environment for secrets.
// Every field has a safe default; deploy/config.example.json documents each key.

#include <cstddef>
#include <cstdint>
#include <string>

namespace server {

struct Config {
    // Where we listen. Behind the nginx TLS proxy of deploy/, loopback is right.
    std::string listen_host = "127.0.0.1";
    int listen_port = 8080;

    // The app's public base URL as the portals reach it (https://seg.example.com). Placement and
    // event handlers are bound to <public_url>/b24/app and <public_url>/b24/events.
    std::string public_url = "http://127.0.0.1:8080";

    // Registry database and one database per portal live here.
    std::string data_dir = "data";

    // The built frontend (frontend/dist): index.html and assets/.
    std::string frontend_dir = "frontend/dist";

    // Bitrix24's authorization server (token refresh). Tests point it at the test portal.
    std::string oauth_url = "https://oauth.bitrix.info/oauth/token/";

    // The app's credentials from the partner area. client_id may be in the file or in
    // B24SEG_CLIENT_ID; the secret only in the environment (B24SEG_CLIENT_SECRET).
    std::string client_id;
    std::string client_secret;

    // Key for the frontend's signed sessions (B24SEG_SESSION_KEY, at least 32 characters; only
    // from the environment). Empty: a random key per process start (sessions then end with the
    // process).
    std::string session_key;

    // Key that encrypts the tokens in the registry (B24SEG_TOKEN_KEY: 64 hex characters or the
    // base64 of 32 bytes; only from the environment), and the previous key during a rotation
    // (B24SEG_TOKEN_KEY_OLD, read for decryption only). As given; ParseTokenKey reads them.
    std::string token_key;
    std::string token_key_old;
    // Without a token key the server refuses to start unless this is on: tokens are then stored
    // in the clear. For tests and the demo only.
    bool insecure_plaintext_tokens = false;

    // Accept portals reached over plain http. Only for local test portals.
    bool allow_http_portals = false;

    // After a confirmed uninstall with "delete data" (CLEAN=1) the portal's data is kept this
    // long, so that a re-install gets it back; then the purge removes it.
    int uninstall_grace_hours = 72;

    // The largest answer accepted from a portal (after decompression); larger ones are cut off.
    std::size_t max_answer_bytes = 64u * 1024u * 1024u;

    // Background work.
    int max_parallel_jobs = 4;          // sync jobs of different portals at once
    int incremental_interval_s = 1800;  // scheduled incremental run per portal
    int recompute_interval_s = 86400;   // daily recompute (time-dependent values change)
    int event_debounce_s = 60;          // CRM events trigger an incremental run this much later
    int rights_cache_s = 300;           // how long a user's readable-ids set is reused

    // Portals whose segment index (for the card tab and lists) stays in memory; the least recently
    // used beyond this are dropped and rebuilt from storage when next needed. A portal of 85,000
    // clients holds about 165 MB.
    int max_cached_indexes = 16;

    // Client-side rate limits per plan (Bitrix24's documented values by default).
    double standard_drain_per_s = 2.0;
    int standard_burst = 50;
    double enterprise_drain_per_s = 5.0;
    int enterprise_burst = 250;

    // Request size limits.
    std::size_t max_api_body_bytes = 64 * 1024;
    std::size_t max_callback_body_bytes = 256 * 1024;

    // The listener's bounds (server/README.md "Robustness"). Connections at once, and from one
    // address (0: no per-address limit; behind the proxy every connection comes from it).
    int max_connections = 512;
    int max_connections_per_ip = 0;
    // Request line and headers together, and how many header fields.
    int max_header_bytes = 32 * 1024;
    int max_headers = 100;
    // A whole request must arrive within this many seconds of the connection's start (or of its
    // previous answer); a connection without traffic either way is closed after idle_timeout_s.
    int request_timeout_s = 10;
    int idle_timeout_s = 30;
    int keepalive_requests = 100;
    // Handler threads, queued requests, and how many handlers one portal / one user may run at
    // once (the rest of their requests wait their turn; the others' are not held up).
    int http_workers = 16;
    int http_max_queued = 512;
    int http_portal_workers = 6;
    int http_user_workers = 3;
    // A request still queued after this long is answered 503 (its client is about to give up).
    int http_queue_wait_ms = 5000;
    // The longest a user's request waits for the portal's limits (or for a shared call of the
    // same user) before it is answered 429 busy.
    int user_wait_ms = 1500;

    // spdlog level: trace, debug, info, warn, error.
    std::string log_level = "info";
};

// Reads the JSON file (missing keys keep defaults; unknown keys are an error, so typos surface;
// secret keys are refused with the name of the environment variable to use), applies environment
// overrides for secrets, and validates. Throws std::runtime_error with a message naming the
// offending key. An empty path means defaults plus environment.
Config LoadConfig(const std::string& path);

// Applies B24SEG_CLIENT_ID, B24SEG_CLIENT_SECRET, B24SEG_SESSION_KEY, B24SEG_TOKEN_KEY,
// B24SEG_TOKEN_KEY_OLD, B24SEG_DATA_DIR if set.
void ApplyEnvironment(Config& config);

// Throws std::runtime_error describing the first invalid value.
void Validate(const Config& config);

}  // namespace server
