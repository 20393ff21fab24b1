#include "b24client/client.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <spdlog/spdlog.h>

#include "b24client/json_util.hpp"
#include "client_impl.hpp"
#include "query.hpp"

namespace b24client {
namespace {

std::optional<nlohmann::json> ParseJson(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        return std::nullopt;
    }
    return j;
}

std::string ErrorCode(const nlohmann::json& body) {
    const auto* e = Find(body, "error");
    if (e == nullptr) {
        return {};
    }
    return ToString(*e).value_or("");
}

std::string ErrorDescription(const nlohmann::json& body) {
    const auto* d = Find(body, "error_description");
    if (d == nullptr) {
        return {};
    }
    std::string s = ToString(*d).value_or("");
    if (s.size() > 300) {
        s.resize(300);
    }
    return s;
}

std::optional<double> ResetAtOf(const nlohmann::json& body) {
    const auto* t = Find(body, "time");
    if (t == nullptr) {
        return std::nullopt;
    }
    const auto* r = Find(*t, "operating_reset_at");
    return r == nullptr ? std::nullopt : ToEpochSeconds(*r);
}

bool IsRedirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

std::string EndpointFromLocation(const std::string& location, const std::string& old_endpoint) {
    const auto rest = location.find("/rest/");
    if (location.find("://") != std::string::npos) {
        if (rest != std::string::npos) {
            return location.substr(0, rest + 6);
        }
        const auto scheme_end = location.find("://") + 3;
        const auto path = location.find('/', scheme_end);
        return location.substr(0, path) + "/rest/";
    }
    // A relative Location keeps the host of the old endpoint.
    const auto scheme_end = old_endpoint.find("://");
    const auto host_end = scheme_end == std::string::npos ? std::string::npos
                                                          : old_endpoint.find('/', scheme_end + 3);
    const std::string origin = old_endpoint.substr(0, host_end);
    if (rest != std::string::npos) {
        return origin + location.substr(0, rest + 6);
    }
    return old_endpoint;
}

bool IsAcceptableEndpoint(std::string_view endpoint, bool allow_http) {
    std::string_view rest;
    if (endpoint.substr(0, 8) == "https://") {
        rest = endpoint.substr(8);
    } else if (allow_http && endpoint.substr(0, 7) == "http://") {
        rest = endpoint.substr(7);
    } else {
        return false;
    }
    const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
    if (host.empty()) {
        return false;
    }
    // No user info ("https://evil@host/"), no spaces or control characters.
    for (char c : host) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '@' || c == '\\' || u <= 0x20 || u >= 0x7F) {
            return false;
        }
    }
    return true;
}

bool IsReadMethod(std::string_view method) {
    const std::string m = NormalizeMethod(method);
    static const std::set<std::string, std::less<>> kReads = {
        "profile",         "app.info",          "user.current",  "user.admin",     "user.access",
        "methods",         "method.get",        "scope",         "server.time",    "feature.get",
        "events",          "event.get",         "placement.get", "placement.list", "app.option.get",
        "user.option.get", "event.offline.list"};
    if (kReads.count(m) != 0) {
        return true;
    }
    if (m == "event.offline.get") {
        return false;  // clears what it returns by default
    }
    const auto dot = m.rfind('.');
    const std::string_view last =
        dot == std::string::npos ? std::string_view(m) : std::string_view(m).substr(dot + 1);
    return last == "list" || last == "get" || last == "fields" || last == "search";
}

TokenStore::TokenStore(Credentials credentials, std::shared_ptr<RefreshCoordinator> coordinator)
    : state_(std::make_unique<State>()), coordinator_(std::move(coordinator)) {
    Set(std::move(credentials));
}

TokenStore::~TokenStore() = default;

Credentials TokenStore::Get() const {
    std::lock_guard lock(state_->mu);
    return state_->creds;
}

void TokenStore::Set(Credentials credentials) {
    if (!credentials.endpoint.empty() && credentials.endpoint.back() != '/') {
        credentials.endpoint += '/';
    }
    std::lock_guard lock(state_->mu);
    state_->creds = std::move(credentials);
}

namespace {
detail::TransportOptions TransportOptionsOf(const ClientOptions& o) {
    detail::TransportOptions t;
    t.user_agent = o.user_agent;
    t.verify_tls = o.verify_tls;
    t.allow_http = o.allow_http;
    t.max_answer_bytes = o.max_answer_bytes;
    return t;
}
}  // namespace

Client::Impl::Impl(std::shared_ptr<TokenStore> tokens, ClientOptions options)
    : options_(std::move(options)),
      transport_(TransportOptionsOf(options_)),
      tokens_(std::move(tokens)),
      rng_(std::random_device{}()) {
    clock_ = options_.clock ? options_.clock
                            : (options_.limiter ? options_.limiter->clock() : SystemClock());
    if (options_.oauth) {
        AuthServerOptions a;
        a.allow_http = options_.allow_http;
        a.request_timeout_s = std::min(options_.request_timeout_s, 30.0);
        a.connect_timeout_s = options_.connect_timeout_s;
        a.verify_tls = options_.verify_tls;
        a.user_agent = options_.user_agent;
        a.clock = clock_;
        auth_ = std::make_unique<AuthServer>(*options_.oauth, std::move(a));
    }
    limiter_ = options_.limiter ? options_.limiter
                                : std::make_shared<PortalLimiter>(LimitPlan::Standard(), clock_);
    if (!tokens_) {
        tokens_ = std::make_shared<TokenStore>(Credentials{});
    }
}

Credentials Client::Impl::GetCredentials() const {
    return tokens_->Get();
}

Stats Client::Impl::GetStats() const {
    std::lock_guard lock(stats_mu_);
    return stats_;
}

void Client::Impl::AddStats(const Stats& delta) {
    {
        std::lock_guard lock(stats_mu_);
        stats_.MergeFrom(delta);
    }
    limiter_->AddStats(delta);
}

void Client::Impl::CheckCancelled() const {
    if (options_.cancel.IsCancelled()) {
        throw Error(ErrorKind::kCancelled, "", "", "cancelled by the caller");
    }
}

bool Client::Impl::ResolveRepeat(std::string_view method, Repeat r) const {
    switch (r) {
        case Repeat::kSafe:
            return true;
        case Repeat::kUnsafe:
            return false;
        case Repeat::kAuto:
            return IsReadMethod(method);
    }
    return false;
}

void Client::Impl::CheckWait(double seconds, const char* what) const {
    if (options_.max_wait_s && seconds > *options_.max_wait_s) {
        throw Error(ErrorKind::kWaitTooLong, "", "",
                    std::string("would wait ") + std::to_string(static_cast<int>(seconds)) +
                        " s for " + what + ", longer than the caller allows");
    }
}

double Client::Impl::WaitForBudgets(const std::vector<std::string>& methods) {
    if (options_.max_wait_s) {
        const double now = clock_->Now();
        double ready = now;
        for (const auto& m : methods) {
            ready = std::max(ready, limiter_->MethodReadyAt(m, 1));
        }
        CheckWait(ready - now, "a method's operating budget");
    }
    return limiter_->WaitForMethods(methods, &options_.cancel);
}

double Client::Impl::AcquireSlot() {
    if (!options_.max_wait_s) {
        return limiter_->AcquireRequest(&options_.cancel);
    }
    auto waited = limiter_->TryAcquireRequest(*options_.max_wait_s, &options_.cancel);
    if (!waited) {
        CheckWait(limiter_->BucketDelay(), "the portal's request bucket");
        throw Error(ErrorKind::kWaitTooLong, "", "", "the portal's request bucket is full");
    }
    return *waited;
}

void Client::Impl::Backoff(int attempt) {
    const auto& p = options_.retry;
    double delay = p.backoff_initial_s * std::pow(2.0, std::max(0, attempt - 1));
    delay = std::min(delay, p.backoff_max_s);
    {
        std::lock_guard lock(rng_mu_);
        std::uniform_real_distribution<double> dist(1.0 - p.jitter, 1.0 + p.jitter);
        delay *= dist(rng_);
    }
    CheckWait(delay, "a retry");
    const double start = clock_->Now();
    const double end = start + delay;
    // Waits shorter than a millisecond are done: a clock far from its epoch cannot resolve them.
    for (double now = start; end - now > 1e-3; now = clock_->Now()) {
        CheckCancelled();
        clock_->SleepFor(std::min(end - now, PortalLimiter::kWaitSliceSeconds));
    }
    Stats d;
    d.backoff_wait_seconds = std::max(0.0, clock_->Now() - start);
    AddStats(d);
}

void Client::Impl::RecordExecution(std::string_view method,
                                   const nlohmann::json& time,
                                   bool nested) {
    double duration = 0.0;
    std::optional<double> operating;
    std::optional<double> reset_at;
    if (time.is_object()) {
        if (const auto* d = Find(time, "duration")) {
            duration = ToDouble(*d).value_or(0.0);
        } else {
            const auto* s = Find(time, "start");
            const auto* f = Find(time, "finish");
            if (s != nullptr && f != nullptr) {
                duration = ToDouble(*f).value_or(0.0) - ToDouble(*s).value_or(0.0);
            }
        }
        if (const auto* o = Find(time, "operating")) {
            operating = ToDouble(*o);
        }
        if (const auto* r = Find(time, "operating_reset_at")) {
            reset_at = ToEpochSeconds(*r);
        }
    }
    limiter_->RecordCall(method, duration, operating, reset_at);
    Stats d;
    auto& m = d.methods[NormalizeMethod(method)];
    m.operating_seconds = std::max(0.0, duration);
    if (nested) {
        m.nested_calls = 1;
    }
    AddStats(d);
}

void Client::Impl::ChangeEndpoint(const std::string& endpoint) {
    {
        TokenStore::State& ts = tokens_->state();
        std::lock_guard lock(ts.mu);
        if (ts.creds.endpoint == endpoint) {
            return;
        }
        ts.creds.endpoint = endpoint;
    }
    spdlog::info("b24client: portal moved, new REST endpoint {}", endpoint);
    if (options_.on_endpoint_changed) {
        options_.on_endpoint_changed(endpoint);
    }
}

Credentials Client::Impl::Trade(const Credentials& from) {
    for (int attempt = 1;; ++attempt) {
        CheckCancelled();
        Stats d;
        d.refreshes = 1;
        AddStats(d);
        try {
            const TokenGrant grant = auth_->Refresh(from.refresh_token);
            Credentials fresh = from;
            fresh.access_token = grant.access_token;
            if (!grant.refresh_token.empty()) {
                fresh.refresh_token = grant.refresh_token;
            }
            fresh.access_expires_at = grant.expires_at;
            if (!grant.client_endpoint.empty()) {
                fresh.endpoint = grant.client_endpoint;
            }
            return fresh;
        } catch (const Error& e) {
            if (!AuthServer::IsTransient(e) ||
                attempt >= std::min(3, options_.retry.max_transient_attempts)) {
                spdlog::warn("b24client: token refresh failed: {} {}", ToString(e.kind()),
                             e.code());
                throw;
            }
        }
        Backoff(attempt);
    }
}

void Client::Impl::Refresh(const std::string& token_used) {
    TokenStore::State& ts = tokens_->state();
    std::lock_guard single_flight(ts.refresh_mu);
    Credentials current = GetCredentials();
    if (current.access_token != token_used) {
        return;  // another caller refreshed while we waited: use its token
    }
    if (ts.failed_refresh_error && ts.failed_refresh_token == token_used) {
        throw *ts.failed_refresh_error;
    }
    auto fail = [&](const Error& e) {
        ts.failed_refresh_token = token_used;
        ts.failed_refresh_error = e;
        throw e;
    };
    if (!auth_ || current.refresh_token.empty()) {
        fail(Error(ErrorKind::kExpiredToken, "oauth", "expired_token",
                   "access token expired and this client cannot refresh it", 401));
    }
    Credentials fresh;
    try {
        const auto& coordinator = tokens_->coordinator();
        fresh = coordinator ? coordinator->Refresh(
                                  current, [this](const Credentials& from) { return Trade(from); })
                            : Trade(current);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::kCancelled) {
            throw;
        }
        fail(e);
    }
    if (!fresh.endpoint.empty() && fresh.endpoint.back() != '/') {
        fresh.endpoint += '/';
    }
    if (fresh.endpoint.empty()) {
        fresh.endpoint = current.endpoint;
    }
    if (!IsAcceptableEndpoint(fresh.endpoint, options_.allow_http)) {
        fail(Error(ErrorKind::kUntrustedEndpoint, "oauth", "",
                   "the refreshed pair names a portal endpoint that is not https"));
    }
    {
        std::lock_guard lock(ts.mu);
        ts.creds.access_token = fresh.access_token;
        ts.creds.refresh_token = fresh.refresh_token;
        ts.creds.access_expires_at = fresh.access_expires_at;
    }
    if (fresh.endpoint != current.endpoint) {
        ChangeEndpoint(fresh.endpoint);
    }
    spdlog::info("b24client: access token refreshed");
    if (options_.on_tokens) {
        options_.on_tokens(fresh);
    }
}

nlohmann::json Client::Impl::Send(std::string_view method,
                                  nlohmann::ordered_json params,
                                  const SendOptions& so) {
    if (!params.is_object()) {
        params = nlohmann::ordered_json::object();
    }
    const std::string method_name(method);
    const std::string limit_method = so.limit_method.empty() ? method_name : so.limit_method;
    const int max_transient = so.max_transient_attempts > 0 ? so.max_transient_attempts
                                                            : options_.retry.max_transient_attempts;
    int transient_attempts = 0;
    int limit_attempts = 0;
    int refreshes = 0;
    int redirects = 0;
    bool first = true;

    while (true) {
        CheckCancelled();
        if (!so.budget_methods.empty()) {
            const double w = WaitForBudgets(so.budget_methods);
            if (w > 0) {
                Stats d;
                d.budget_wait_seconds = w;
                AddStats(d);
            }
        }
        const Credentials creds = GetCredentials();
        if (!IsAcceptableEndpoint(creds.endpoint, options_.allow_http)) {
            // Nothing, and no token, goes to an endpoint that is not https.
            throw Error(ErrorKind::kUntrustedEndpoint, method_name, "",
                        "the portal endpoint is not https (plain http needs allow_http)");
        }
        const double bw = AcquireSlot();
        params["auth"] = creds.access_token;

        detail::HttpRequest req;
        req.url = creds.endpoint + method_name;
        req.body = params.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        req.timeout_s = options_.request_timeout_s;
        req.connect_timeout_s = options_.connect_timeout_s;
        const detail::HttpResult res = transport_.Perform(req);
        {
            Stats d;
            d.http_requests = 1;
            d.methods[NormalizeMethod(method_name)].http_requests = 1;
            d.bucket_wait_seconds = bw;
            d.retries = first ? 0 : 1;
            AddStats(d);
        }
        first = false;

        auto transient = [&](ErrorKind kind, std::string code, std::string desc, int status) {
            Stats d;
            d.transient_failures = 1;
            AddStats(d);
            ++transient_attempts;
            if (!so.safe || transient_attempts >= max_transient) {
                throw Error(kind, method_name, std::move(code), std::move(desc), status);
            }
            spdlog::warn("b24client: {} failed ({} {}), retrying (attempt {})", method_name,
                         ToString(kind), status, transient_attempts);
            Backoff(transient_attempts);
        };

        if (res.failure == detail::TransportFailure::kTooLarge) {
            throw Error(ErrorKind::kAnswerTooLarge, method_name, "",
                        "the answer exceeded " + std::to_string(options_.max_answer_bytes) +
                            " bytes and was cut off",
                        static_cast<int>(res.status));
        }
        if (res.failure == detail::TransportFailure::kProtocol) {
            throw Error(ErrorKind::kUntrustedEndpoint, method_name, "",
                        "the endpoint's scheme is not allowed");
        }
        if (res.failure != detail::TransportFailure::kNone) {
            transient(res.failure == detail::TransportFailure::kTimeout ? ErrorKind::kTimeout
                                                                        : ErrorKind::kTransport,
                      "", res.failure_detail, 0);
            continue;
        }
        const int status = static_cast<int>(res.status);
        if (IsRedirect(res.status) && !res.location.empty()) {
            if (++redirects > 5) {
                throw Error(ErrorKind::kApi, method_name, "", "too many redirects", status);
            }
            const std::string moved = EndpointFromLocation(res.location, creds.endpoint);
            if (!IsAcceptableEndpoint(moved, options_.allow_http)) {
                // A portal's rename redirect may not lead anywhere but to another https host.
                spdlog::warn("b24client: {} redirected to an endpoint that is not https; refused",
                             method_name);
                throw Error(ErrorKind::kUntrustedEndpoint, method_name, "",
                            "redirect to an endpoint that is not https refused", status);
            }
            ChangeEndpoint(moved);
            Stats d;
            d.redirects = 1;
            AddStats(d);
            continue;
        }
        auto parsed = ParseJson(res.body);
        if (!parsed || !parsed->is_object()) {
            // An HTML error page or a truncated body: the request may have run.
            if (status == 429) {
                parsed = nlohmann::json{{"error", "OPERATION_TIME_LIMIT"}};
            } else if (status == 503 &&
                       res.body.find("QUERY_LIMIT_EXCEEDED") != std::string::npos) {
                parsed = nlohmann::json{{"error", "QUERY_LIMIT_EXCEEDED"}};
            } else if (status >= 500 || (status >= 200 && status < 300)) {
                transient(status >= 500 ? ErrorKind::kServerError : ErrorKind::kBadResponse, "",
                          "response is not JSON", status);
                continue;
            } else {
                throw Error(ErrorKind::kBadResponse, method_name, "", "response is not JSON",
                            status);
            }
        }
        const nlohmann::json& j = *parsed;
        if (Find(j, "error") == nullptr && Find(j, "result") != nullptr && status < 300) {
            if (method_name != "batch") {
                if (const auto* t = Find(j, "time")) {
                    RecordExecution(method_name, *t, false);
                }
            }
            return std::move(*parsed);
        }
        const std::string code = ErrorCode(j);
        const std::string desc = ErrorDescription(j);
        const Classification cls = ClassifyRestError(status, code, desc);
        switch (cls.disposition) {
            case Disposition::kWaitBucket: {
                Stats d;
                d.query_limit_refusals = 1;
                AddStats(d);
                limiter_->OnQueryLimitExceeded();
                if (++limit_attempts >= options_.retry.max_limit_attempts) {
                    throw Error(cls.kind, method_name, code, desc, status);
                }
                spdlog::warn("b24client: {} refused by the rate limit, waiting", method_name);
                continue;
            }
            case Disposition::kWaitMethod: {
                Stats d;
                d.operation_limit_refusals = 1;
                AddStats(d);
                limiter_->OnOperationLimit(limit_method, ResetAtOf(j));
                if (++limit_attempts >= options_.retry.max_limit_attempts) {
                    throw Error(cls.kind, method_name, code, desc, status);
                }
                spdlog::warn("b24client: {} over its operating budget, waiting for the reset",
                             limit_method);
                const double w = WaitForBudgets({limit_method});
                Stats d2;
                d2.budget_wait_seconds = w;
                AddStats(d2);
                continue;
            }
            case Disposition::kRefreshToken: {
                if (++refreshes > 2) {
                    throw Error(ErrorKind::kExpiredToken, method_name, code, desc, status);
                }
                Refresh(creds.access_token);
                continue;
            }
            case Disposition::kRetryIfSafe:
                transient(cls.kind, code, desc, status);
                continue;
            case Disposition::kRetryRefused:
                if (++limit_attempts >= options_.retry.max_limit_attempts) {
                    throw Error(cls.kind, method_name, code, desc, status);
                }
                Backoff(limit_attempts);
                continue;
            case Disposition::kFinal:
                throw Error(cls.kind, method_name, code, desc, status);
        }
    }
}

Client::Client(Credentials credentials, ClientOptions options)
    : Client(std::make_shared<TokenStore>(std::move(credentials)), std::move(options)) {}

Client::Client(std::shared_ptr<TokenStore> tokens, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(tokens), std::move(options))) {}

Client::~Client() = default;

Response Client::Call(std::string_view method, const nlohmann::json& params, Repeat repeat) {
    Impl::SendOptions so;
    so.safe = impl_->ResolveRepeat(method, repeat);
    so.budget_methods = {std::string(method)};
    nlohmann::json j = impl_->Send(method, nlohmann::ordered_json(params), so);
    Response r;
    r.result = std::move(j["result"]);
    if (const auto* t = Find(j, "total")) {
        r.total = ToInt64(*t);
    }
    if (const auto* n = Find(j, "next")) {
        r.next = ToInt64(*n);
    }
    if (const auto* t = Find(j, "time")) {
        r.time = *t;
    }
    return r;
}

Credentials Client::GetCredentials() const {
    return impl_->GetCredentials();
}
Stats Client::GetStats() const {
    return impl_->GetStats();
}
const std::shared_ptr<PortalLimiter>& Client::limiter() const {
    return impl_->limiter();
}
const CancelToken& Client::cancel_token() const {
    return impl_->options().cancel;
}

}  // namespace b24client
