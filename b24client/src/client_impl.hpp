#pragma once
// Private: the Client's state and its one request loop (Send), shared by client.cpp (Call,
// refresh, redirects), batch.cpp (Batch, Write, FetchByIds) and walk.cpp (Walk).

#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "b24client/client.hpp"
#include "b24client/oauth.hpp"
#include "transport.hpp"

namespace b24client {

struct TokenStore::State {
    mutable std::mutex mu;
    Credentials creds;
    std::mutex refresh_mu;             // single flight for refreshes
    std::string failed_refresh_token;  // access token whose refresh failed for good
    std::optional<Error> failed_refresh_error;
};

class Client::Impl {
public:
    Impl(std::shared_ptr<TokenStore> tokens, ClientOptions options);

    struct SendOptions {
        bool safe = true;                         // may repeat after an ambiguous failure
        int max_transient_attempts = -1;          // -1: options_.retry.max_transient_attempts
        std::vector<std::string> budget_methods;  // wait for these methods' budgets first
        std::string limit_method;                 // whose budget a 429 blocks ("" = the method)
    };

    // One REST request with every retry, refresh, redirect and limit wait. Returns the parsed
    // success envelope (an object with "result"). Throws Error when final.
    // `params` is ordered: batch commands run in the order they are written.
    nlohmann::json Send(std::string_view method,
                        nlohmann::ordered_json params,
                        const SendOptions& send_options);

    // Records a nested or single call's execution time in the ledger and the statistics.
    void RecordExecution(std::string_view method, const nlohmann::json& time, bool nested);

    void CheckCancelled() const;
    // Waits until `method` may run `needed` calls in one batch, when a fresh window would allow
    // them; returns whether it waited (batch.cpp).
    bool HoldBackFor(const std::string& method, int needed);
    void Backoff(int attempt);  // sleeps per RetryPolicy, counts the wait
    // Throws Error{kWaitTooLong} when options().max_wait_s is set and `seconds` exceeds it.
    void CheckWait(double seconds, const char* what) const;
    // Waits for the methods' operating budgets (within max_wait_s); returns the seconds waited.
    double WaitForBudgets(const std::vector<std::string>& methods);
    // Takes a request slot from the bucket (within max_wait_s); returns the seconds waited.
    double AcquireSlot();
    void AddStats(const Stats& delta);  // to this client's and the limiter's counters
    bool ResolveRepeat(std::string_view method, Repeat r) const;

    const ClientOptions& options() const { return options_; }
    const std::shared_ptr<PortalLimiter>& limiter() const { return limiter_; }
    const std::shared_ptr<Clock>& clock() const { return clock_; }
    Credentials GetCredentials() const;
    Stats GetStats() const;

private:
    void Refresh(const std::string& token_used);
    // One trade of `from`'s refresh token at the authorization server, with retries.
    Credentials Trade(const Credentials& from);
    void ChangeEndpoint(const std::string& endpoint);

    ClientOptions options_;
    std::shared_ptr<PortalLimiter> limiter_;
    std::shared_ptr<Clock> clock_;
    detail::Transport transport_;
    std::unique_ptr<AuthServer> auth_;  // null without options_.oauth

    std::shared_ptr<TokenStore> tokens_;

    mutable std::mutex stats_mu_;
    Stats stats_;

    std::mutex rng_mu_;
    std::mt19937_64 rng_;
};

// "https://new.example/rest/crm.contact.list" -> "https://new.example/rest/".
std::string EndpointFromLocation(const std::string& location, const std::string& old_endpoint);

}  // namespace b24client

namespace b24client::detail {

// The parts of a batch answer, each an object keyed by command key (PHP's [] read as {}).
struct BatchReply {
    nlohmann::json results = nlohmann::json::object();
    nlohmann::json errors = nlohmann::json::object();
    nlohmann::json totals = nlohmann::json::object();
    nlohmann::json nexts = nlohmann::json::object();
    nlohmann::json times = nlohmann::json::object();
};

// Splits a batch success envelope; throws Error{kBadResponse} if it is not shaped like one.
BatchReply ParseBatchReply(nlohmann::json&& envelope);

// "method?query" for one command.
std::string CommandString(const std::string& method, const nlohmann::json& params);

}  // namespace b24client::detail
