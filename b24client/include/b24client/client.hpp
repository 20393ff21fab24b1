#pragma once
// b24client::Client: one portal, one set of credentials (README "API in brief").
//
// Ownership and threading
//  - A Client is thread-safe: any number of threads may call it at once. It keeps a small pool
//    of persistent HTTP connections (one per concurrent caller).
//  - The rate limits belong to the portal: pass the portal's shared PortalLimiter in
//    ClientOptions::limiter so that every Client of a portal (admin token, user tokens) spends
//    one budget. Without one, the Client makes a private limiter with the standard plan.
//  - Callbacks (on_tokens, on_endpoint_changed) may run on any thread that calls the Client;
//    they must not call back into the same Client.
//
// Errors: every call throws b24client::Error when its outcome is final (see error.hpp and the
// README's retry policy). Retries, token refresh, portal renames, bucket and budget waits happen
// inside. A set CancelToken ends the call between requests with ErrorKind::kCancelled.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "b24client/clock.hpp"
#include "b24client/error.hpp"
#include "b24client/limiter.hpp"
#include "b24client/walk.hpp"

namespace b24client {

// What the server stores per portal. `endpoint` is the REST base, e.g.
// "https://example.bitrix24.ru/rest/" (client_endpoint of the OAuth answer).
struct Credentials {
    std::string endpoint;
    std::string access_token;
    std::string refresh_token;  // may be empty: the client then cannot refresh
    std::int64_t access_expires_at =
        0;  // unix seconds, as the authorization server said; 0 unknown
};

// A seam around every refresh of a TokenStore's pair, after the store's in-process single flight:
// the owner of the tokens can serialise refreshes across processes (a lock beside the portal's
// files, an advisory lock in a shared database), adopt a pair another process stored meanwhile,
// and store the new pair durably before it is used. Implementations must be thread-safe.
class RefreshCoordinator {
public:
    virtual ~RefreshCoordinator() = default;

    // `held`: the pair whose access token the portal refused as expired. `trade` exchanges the
    // refresh token of the pair it is given at the authorization server (with the client's retries)
    // and returns the new pair, or throws Error. Returns the pair to continue with: a newer one
    // found in storage (no trade), or the traded one once it is stored. Throws Error when no
    // working pair can be had (kReinstallNeeded only after the freshest stored pair failed).
    virtual Credentials Refresh(const Credentials& held,
                                const std::function<Credentials(const Credentials&)>& trade) = 0;
};

// One portal user's token pair, shared by every Client that works with it (say, the sync job's
// and the event handler's clients of the installing admin's token). Refreshes are single-flight
// per store: however many clients and threads hit an expired token at once, one refresh is made
// and all of them continue with its result. Thread-safe.
class TokenStore {
public:
    // `coordinator` (optional) wraps every refresh of this store (see RefreshCoordinator).
    explicit TokenStore(Credentials credentials,
                        std::shared_ptr<RefreshCoordinator> coordinator = nullptr);
    ~TokenStore();
    TokenStore(const TokenStore&) = delete;
    TokenStore& operator=(const TokenStore&) = delete;

    Credentials Get() const;
    // Replaces the pair, e.g. when the server received new tokens from an install event.
    void Set(Credentials credentials);

    struct State;
    State& state() const { return *state_; }  // for the Client's implementation
    const std::shared_ptr<RefreshCoordinator>& coordinator() const { return coordinator_; }

private:
    std::unique_ptr<State> state_;
    std::shared_ptr<RefreshCoordinator> coordinator_;
};

// The application's OAuth identity, needed to refresh tokens.
struct OAuthApp {
    std::string client_id;
    std::string client_secret;
    std::string token_url = "https://oauth.bitrix.info/oauth/token/";
};

// Whether a call may be repeated after an ambiguous failure (timeout, dropped connection, 5xx,
// HTML page), i.e. when it may already have run. Refusals (QUERY_LIMIT_EXCEEDED,
// OPERATION_TIME_LIMIT, expired_token) are always repeated: the portal did not run the call.
enum class Repeat {
    kAuto,    // reads (*.list, *.get, *.fields, profile, app.info, ...) yes; other writes no
    kSafe,    // yes: a read, or a write that sets fixed values (crm.contact.update of UF values)
    kUnsafe,  // no: e.g. *.add, which would create a duplicate
};

struct RetryPolicy {
    int max_transient_attempts = 6;  // attempts for 5xx/HTML/dropped/timeout (safe calls)
    int max_limit_attempts = 30;     // attempts for QUERY_LIMIT_EXCEEDED / OPERATION_TIME_LIMIT
    double backoff_initial_s = 0.5;  // first backoff; doubles per attempt
    double backoff_max_s = 16.0;
    double jitter = 0.2;  // +-20 % randomisation of every backoff
};

struct ClientOptions {
    std::shared_ptr<PortalLimiter> limiter;  // the portal's limiter (shared); null: private one
    std::shared_ptr<Clock> clock;            // null: the limiter's clock
    std::optional<OAuthApp> oauth;           // null: no refresh (user-token clients)
    // Receives every refreshed (or, through a RefreshCoordinator, adopted) pair: the refresh token
    // rotates, store both. Called before the failed call is repeated; an exception from it fails
    // that call. With a coordinator the pair is already stored when this runs.
    std::function<void(const Credentials&)> on_tokens;
    // Receives the new REST endpoint after the portal answered 301/302/307/308 (renamed) or a
    // refresh returned another client_endpoint. A new endpoint that is not https (plain http
    // only with allow_http) is refused (ErrorKind::kUntrustedEndpoint) and never reported.
    std::function<void(const std::string& endpoint)> on_endpoint_changed;
    CancelToken cancel;  // checked between requests and while waiting
    // The longest any one wait of a call may last: for the request bucket, a method's operating
    // budget, or a retry's backoff. A wait that would be longer is not started: the call throws
    // Error{kWaitTooLong} (nothing more is sent). Unset: wait as long as the limits need (the
    // right thing for background work; work a person waits for sets a few seconds).
    std::optional<double> max_wait_s;
    RetryPolicy retry;
    double connect_timeout_s = 10.0;
    double request_timeout_s = 75.0;     // the portal itself cuts requests at 60 s
    double target_batch_seconds = 20.0;  // chain lengths aim at batches of about this long
    std::string user_agent = "b24seg-b24client/0.1";
    bool verify_tls = true;
    // Plain http endpoints (and token URL) next to https: only for local test portals. Without it
    // the client sends nothing to an http:// endpoint and libcurl may speak https only.
    bool allow_http = false;
    // Largest answer accepted (after decompression); a larger one is cut off and the call fails
    // with ErrorKind::kAnswerTooLarge (not retried).
    std::size_t max_answer_bytes = 64u * 1024u * 1024u;
};

// The answer of one successful call.
struct Response {
    nlohmann::json result;              // the `result` member as sent
    std::optional<std::int64_t> total;  // `total` of list methods
    std::optional<std::int64_t> next;   // `next` of list methods
    nlohmann::json time;                // the `time` member (may be null)
};

// One command of a batch. Parameters are encoded as a PHP-style query string; string values of
// the form "$result[key][...]" are passed through verbatim as references to earlier commands.
struct Command {
    std::string method;
    nlohmann::json params = nlohmann::json::object();
    std::string key;  // "" -> "c<index>"; must be unique within one Batch call
    Repeat repeat = Repeat::kAuto;
};

struct CommandResult {
    bool ok = false;
    nlohmann::json result;              // on success
    std::optional<std::int64_t> total;  // result_total[key]
    std::optional<std::int64_t> next;   // result_next[key]
    std::optional<Error> error;         // on failure: kind, method, portal code
};

class Client {
public:
    // A client with its own token pair.
    Client(Credentials credentials, ClientOptions options = {});
    // A client sharing `tokens` with other clients (single-flight refresh across all of them).
    // The client that performs a refresh reports it through its own on_tokens.
    Client(std::shared_ptr<TokenStore> tokens, ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // One REST call (`app.info`, `crm.status.list`, `profile`, `event.offline.get`, ...).
    Response Call(std::string_view method,
                  const nlohmann::json& params = nlohmann::json::object(),
                  Repeat repeat = Repeat::kAuto);

    // Runs the commands in batches of up to 50 (halt=0), in order, and returns one result per
    // command in input order. A command that fails with a refusal or a transient error is sent
    // again in a later batch (alone with its unresolved references; resolved references are
    // substituted from earlier results) when its Repeat allows; commands that failed for good
    // (NOT_FOUND of a deleted card, ACCESS_DENIED, ...) come back with ok=false and do not fail
    // the others. References ($result[...]) must not cross a 50-command boundary.
    // Throws only when a whole request fails for good (auth, transport after retries, cancel).
    std::vector<CommandResult> Batch(const std::vector<Command>& commands);

    // Batched writes: like Batch, with every command marked safe to repeat (fixed-value writes)
    // and, when `auth_connector` is not empty, `auth_connector` added to each command's params.
    std::vector<CommandResult> Write(std::vector<Command> commands,
                                     const std::string& auth_connector = "");

    // crm.contact.update / crm.company.update (per `update_method`) of one card's fields, with
    // params.REGISTER_HISTORY_EVENT = "N". Use with Write().
    static Command MakeUpdate(std::string update_method, std::int64_t id, nlohmann::json fields);

    // Runs all walks to their end (or failure), packing their chains into shared batches.
    // See walk.hpp for the callback contract. Throws on a request-level final failure
    // (auth, cancellation, transport after retries) and, without on_error, on a walk's error.
    void Walk(const std::vector<WalkSpec>& walks,
              const WalkHandlers& handlers,
              const WalkOptions& options = {});

    // One walk, rows to `on_rows` in id order. Returns the last id seen.
    std::int64_t List(const WalkSpec& walk,
                      const std::function<void(std::vector<nlohmann::json>&&)>& on_rows,
                      const WalkOptions& options = {});

    // Rows whose id is in spec.ids (ids the portal does not have, or the token may not read,
    // are simply absent). Rows of each batch are delivered sorted by id.
    void FetchByIds(const IdFetchSpec& spec,
                    const std::function<void(std::vector<nlohmann::json>&&)>& on_rows);

    Credentials GetCredentials() const;  // current (possibly refreshed/redirected) credentials
    Stats GetStats() const;              // this client's counters
    const std::shared_ptr<PortalLimiter>& limiter() const;
    const CancelToken& cancel_token() const;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// True for "https://<host>..." and, when `allow_http`, "http://<host>...": an endpoint the client
// may send a request (with a token) to.
bool IsAcceptableEndpoint(std::string_view endpoint, bool allow_http);

// True if `method` only reads (its name's last part is list/get/fields/..., or it is one of
// profile, app.info, user.current, user.admin, batch of reads ...). Used by Repeat::kAuto.
bool IsReadMethod(std::string_view method);

}  // namespace b24client
