#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "b24client/client.hpp"
#include "b24client/json_util.hpp"
#include "client_impl.hpp"
#include "query.hpp"
#include "walk_planner.hpp"

namespace b24client {

WalkSpec WalkSpec::Legacy(std::string method, nlohmann::json filter, nlohmann::json select) {
    WalkSpec w;
    w.method = std::move(method);
    w.params = nlohmann::json::object();
    if (!filter.is_null() && !filter.empty()) {
        w.params["filter"] = std::move(filter);
    }
    if (!select.is_null() && !select.empty()) {
        w.params["select"] = std::move(select);
    }
    w.id_field = "ID";
    return w;
}

WalkSpec WalkSpec::Items(int entity_type_id, nlohmann::json filter, nlohmann::json select) {
    WalkSpec w = Legacy("crm.item.list", std::move(filter), std::move(select));
    w.params["entityTypeId"] = entity_type_id;
    w.id_field = "id";
    w.items_key = "items";
    return w;
}

namespace {

// The portal cuts a request after this much execution time (cloud).
constexpr double kPortalRequestCapSeconds = 60.0;

struct WalkState {
    std::string method_key;
    std::int64_t last_id = 0;
    std::optional<std::int64_t> remaining;  // rows left after last_id (estimate)
    bool from_count = false;                // `remaining` came from a count, not a hint
    int counts = 0;
    int growth = 1;
    std::int64_t full_pages = 0;  // full pages seen so far
    bool finished = false;
    int transient_errors = 0;
    int limit_errors = 0;
};

bool IsTransientKind(ErrorKind k) {
    return k == ErrorKind::kTimeout || k == ErrorKind::kTransport || k == ErrorKind::kServerError ||
           k == ErrorKind::kBadResponse;
}

// Rows of one list answer; nullopt if the answer is not shaped like a list page.
std::optional<nlohmann::json> ExtractRows(nlohmann::json& result, const std::string& items_key) {
    nlohmann::json* list = &result;
    if (!items_key.empty()) {
        if (result.is_array() && result.empty()) {
            return nlohmann::json::array();
        }
        if (!result.is_object()) {
            return std::nullopt;
        }
        const auto it = result.find(items_key);
        if (it == result.end()) {
            return std::nullopt;
        }
        list = &*it;
    }
    if (list->is_array()) {
        return std::move(*list);
    }
    if (IsEmptyValue(*list)) {
        return nlohmann::json::array();
    }
    return std::nullopt;
}

// Zero-padded so that even a key-sorting JSON writer keeps a chain's pages in order.
// A walk needs the id of every row: add the id field to a non-empty select that lacks it
// (legacy methods return only the fields named).
void EnsureIdSelected(nlohmann::json& params, const std::string& id_field) {
    auto it = params.find("select");
    if (it == params.end() || !it->is_array() || it->empty()) {
        return;
    }
    for (const auto& f : *it) {
        if (f.is_string() && (f.get_ref<const std::string&>() == id_field ||
                              f.get_ref<const std::string&>() == "*")) {
            return;
        }
    }
    it->push_back(id_field);
}

std::string PageKey(std::size_t walk, int page) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "w%zup%02d", walk, page);
    return buf;
}

}  // namespace

void Client::Walk(const std::vector<WalkSpec>& walks,
                  const WalkHandlers& handlers,
                  const WalkOptions& options) {
    std::vector<WalkState> st(walks.size());
    for (std::size_t i = 0; i < walks.size(); ++i) {
        st[i].method_key = NormalizeMethod(walks[i].method);
        st[i].last_id = walks[i].last_id;
        st[i].remaining = walks[i].expected_rows;
    }
    const RetryPolicy& retry = impl_->options().retry;
    const int capacity = std::clamp(options.max_commands, 1, detail::kMaxBatchCommands);
    double chain_scale = 1.0;
    int consecutive_failures = 0;
    std::optional<Error> deferred;

    auto fail_walk = [&](std::size_t i, const Error& e) {
        st[i].finished = true;
        spdlog::warn("b24client: walk {} ({}) failed: {}", i, walks[i].method, e.what());
        if (handlers.on_error) {
            handlers.on_error(i, e);
        } else if (!deferred) {
            deferred = e;
        }
    };

    while (true) {
        std::vector<std::size_t> active;
        for (std::size_t i = 0; i < st.size(); ++i) {
            if (!st[i].finished) {
                active.push_back(i);
            }
        }
        if (active.empty() || deferred) {
            break;
        }
        impl_->CheckCancelled();

        // Plan the next batch.
        std::map<std::string, int> allowance;
        std::vector<detail::PlanInput> inputs;
        std::map<std::size_t, bool> counting;  // walk -> first page counts
        for (const std::size_t i : active) {
            WalkState& w = st[i];
            if (allowance.count(w.method_key) == 0) {
                allowance[w.method_key] = impl_->limiter()->Allowance(w.method_key);
            }
            detail::PlanInput in;
            in.walk = i;
            in.method = w.method_key;
            // A walk of unknown size is counted only once it proved larger than one page:
            // small windows never pay for a COUNT.
            const bool count_now =
                !w.remaining && options.count_unknown && w.counts < 2 && w.full_pages > 0;
            counting[i] = count_now;
            in.need = w.remaining ? detail::PagesNeeded(*w.remaining) : w.growth;
            in.uncertain = !w.remaining;
            in.call_cost_s = impl_->limiter()->AverageCallSeconds(w.method_key);
            inputs.push_back(std::move(in));
        }
        // A method whose budget allows only part of what its walks want right now is held
        // back until it allows all of it (or a full batch): partial chains would cost extra
        // requests and buy no operating time, which is what limits that method anyway.
        std::map<std::string, int> desired;
        for (const auto& in : inputs) {
            desired[in.method] = std::min(capacity, desired[in.method] + in.need);
        }
        for (auto& [m, want] : desired) {
            const double cost = std::max(1e-3, impl_->limiter()->AverageCallSeconds(m));
            const int by_time =
                static_cast<int>(impl_->options().target_batch_seconds * chain_scale / cost);
            want = std::clamp(std::min(want, impl_->limiter()->MaxAllowance(m)), 1,
                              std::max(1, by_time));
            if (allowance[m] < want) {
                allowance[m] = 0;
            }
        }
        const auto plan = detail::PlanBatch(inputs, allowance, capacity,
                                            impl_->options().target_batch_seconds * chain_scale);
        if (plan.empty()) {
            // Every active walk's method is held back: wait for the first one to free.
            double ready = 0.0;
            bool any = false;
            for (const auto& [m, want] : desired) {
                const double r = impl_->limiter()->MethodReadyAt(m, want);
                ready = any ? std::min(ready, r) : r;
                any = true;
            }
            const double start = impl_->clock()->Now();
            impl_->CheckWait(ready - start, "a method's operating budget");
            // At least one short sleep, so that rounding at the edge never spins.
            ready = std::max(ready, start + 0.01);
            while (ready - impl_->clock()->Now() > 1e-3) {
                impl_->CheckCancelled();
                impl_->clock()->SleepFor(
                    std::min(ready - impl_->clock()->Now(), PortalLimiter::kWaitSliceSeconds));
            }
            Stats d;
            d.budget_wait_seconds = std::max(0.0, impl_->clock()->Now() - start);
            impl_->AddStats(d);
            continue;
        }

        nlohmann::ordered_json cmd = nlohmann::ordered_json::object();
        for (const auto& e : plan) {
            const WalkSpec& spec = walks[e.walk];
            for (int k = 0; k < e.pages; ++k) {
                nlohmann::json params =
                    spec.params.is_object() ? spec.params : nlohmann::json::object();
                params["order"] = nlohmann::json{{spec.id_field, "ASC"}};
                EnsureIdSelected(params, spec.id_field);
                auto& filter = params["filter"];
                if (!filter.is_object()) {
                    filter = nlohmann::json::object();
                }
                if (k == 0) {
                    filter[">" + spec.id_field] = st[e.walk].last_id;
                    params["start"] = counting[e.walk] ? 0 : -1;
                } else {
                    const std::string prev = PageKey(e.walk, k - 1);
                    filter[">" + spec.id_field] =
                        spec.items_key.empty()
                            ? detail::MakeReference(prev, {"49", spec.id_field})
                            : detail::MakeReference(prev, {spec.items_key, "49", spec.id_field});
                    params["start"] = -1;
                }
                cmd[PageKey(e.walk, k)] = detail::CommandString(spec.method, params);
            }
        }

        Impl::SendOptions so;
        so.safe = true;
        so.max_transient_attempts = 1;  // transient failures are handled here, to resize chains
        nlohmann::json env;
        try {
            nlohmann::ordered_json body = nlohmann::ordered_json::object();
            body["halt"] = 0;
            body["cmd"] = std::move(cmd);
            env = impl_->Send("batch", std::move(body), so);
        } catch (const Error& e) {
            if (!IsTransientKind(e.kind())) {
                throw;
            }
            ++consecutive_failures;
            if (consecutive_failures >= retry.max_transient_attempts) {
                throw;
            }
            if (e.kind() == ErrorKind::kTimeout || e.http_status() == 504) {
                // The batch ran too long (our timeout, or the portal's 60 s cap answered by a
                // gateway timeout). Its pages cost at least cap / pages each: plan with that,
                // and with a smaller time budget for a while.
                int pages = 0;
                for (const auto& entry : plan) {
                    pages += entry.pages;
                }
                for (const auto& entry : plan) {
                    impl_->limiter()->NoteMinimumCallCost(
                        st[entry.walk].method_key, kPortalRequestCapSeconds / std::max(1, pages));
                }
                chain_scale = std::max(0.05, chain_scale * 0.75);
            }
            Stats d;
            d.retries = 1;
            impl_->AddStats(d);
            impl_->Backoff(consecutive_failures);
            continue;
        }
        consecutive_failures = 0;
        chain_scale = std::min(1.0, chain_scale * 1.25);
        detail::BatchReply reply = detail::ParseBatchReply(std::move(env));

        for (const auto& e : plan) {
            const std::size_t i = e.walk;
            const WalkSpec& spec = walks[i];
            WalkState& w = st[i];
            std::vector<nlohmann::json> out;
            bool stop = false;
            bool reached_end = false;
            bool all_full = true;
            for (int k = 0; k < e.pages; ++k) {
                const std::string key = PageKey(i, k);
                const nlohmann::json* time = Find(reply.times, key);
                const nlohmann::json* err = Find(reply.errors, key);
                nlohmann::json* res = reply.results.is_object() && reply.results.contains(key)
                                          ? &reply.results[key]
                                          : nullptr;
                if (time != nullptr || err != nullptr || res != nullptr) {
                    impl_->RecordExecution(spec.method, time ? *time : nlohmann::json(), true);
                }
                if (stop) {
                    // After a short page or an error the chain's rest is garbage, but a
                    // refusal still tells that the method is blocked.
                    if (err != nullptr && err->is_object() &&
                        err->value("error", nlohmann::json("")) == "OPERATION_TIME_LIMIT") {
                        Stats d;
                        d.operation_limit_refusals = 1;
                        impl_->AddStats(d);
                    }
                    continue;
                }
                stop = true;
                all_full = false;
                if (err != nullptr) {
                    const std::string code =
                        err->is_object()
                            ? ToString(err->value("error", nlohmann::json(""))).value_or("")
                            : ToString(*err).value_or("");
                    const std::string desc =
                        err->is_object()
                            ? ToString(err->value("error_description", nlohmann::json("")))
                                  .value_or("")
                            : "";
                    const Classification cls = ClassifyRestError(0, code, desc);
                    Error error(cls.kind, spec.method, code, desc, 0);
                    if (cls.disposition == Disposition::kWaitMethod) {
                        Stats d;
                        d.operation_limit_refusals = 1;
                        impl_->AddStats(d);
                        std::optional<double> reset;
                        if (time != nullptr) {
                            if (const auto* r = Find(*time, "operating_reset_at")) {
                                reset = ToEpochSeconds(*r);
                            }
                        }
                        impl_->limiter()->OnOperationLimit(spec.method, reset);
                        if (++w.limit_errors >= retry.max_limit_attempts) {
                            fail_walk(i, error);
                        }
                    } else if (cls.disposition == Disposition::kFinal) {
                        fail_walk(i, error);
                    } else if (++w.transient_errors >= retry.max_transient_attempts) {
                        fail_walk(i, error);
                    } else {
                        Stats d;
                        d.retries = 1;
                        impl_->AddStats(d);
                    }
                    continue;
                }
                if (res == nullptr) {
                    if (++w.transient_errors >= retry.max_transient_attempts) {
                        fail_walk(i, Error(ErrorKind::kBadResponse, spec.method, "",
                                           "page missing from the batch answer"));
                    }
                    continue;
                }
                auto rows = ExtractRows(*res, spec.items_key);
                std::vector<std::int64_t> ids;
                bool valid = rows.has_value();
                if (valid) {
                    ids.reserve(rows->size());
                    std::int64_t prev = w.last_id;
                    for (const auto& row : *rows) {
                        const auto* idv = Find(row, spec.id_field);
                        const auto id = idv ? ToInt64(*idv) : std::nullopt;
                        if (!id || *id <= prev) {
                            valid = false;
                            break;
                        }
                        ids.push_back(*id);
                        prev = *id;
                    }
                }
                if (!valid) {
                    if (k == 0) {
                        // Our own literal cursor was not honoured: the method ignores the
                        // keyset filter or order, and walking on would loop or skip rows.
                        fail_walk(i, Error(ErrorKind::kProtocol, spec.method, "",
                                           "page is not in ascending id order after the cursor"));
                    }
                    continue;  // a later page with an unresolved reference: garbage
                }
                if (k == 0 && counting[i]) {
                    ++w.counts;
                    if (const auto* t = Find(reply.totals, key)) {
                        if (auto total = ToInt64(*t)) {
                            w.remaining = std::max<std::int64_t>(0, *total);
                            w.from_count = true;
                        }
                    }
                }
                const auto n = static_cast<std::int64_t>(ids.size());
                if (w.remaining) {
                    if (*w.remaining == 0 && n == detail::kPageSize) {
                        // More rows than the hint/count promised: the estimate is off.
                        w.remaining.reset();
                    } else {
                        *w.remaining = std::max<std::int64_t>(0, *w.remaining - n);
                    }
                }
                w.transient_errors = 0;
                for (auto& row : *rows) {
                    out.push_back(std::move(row));
                }
                if (n > 0) {
                    w.last_id = ids.back();
                }
                if (n < detail::kPageSize) {
                    reached_end = true;
                    continue;  // stop stays true
                }
                ++w.full_pages;
                stop = false;
                all_full = true;
            }
            if (!out.empty() && handlers.on_rows) {
                handlers.on_rows(i, std::move(out), w.last_id);
            }
            if (reached_end && !w.finished) {
                w.finished = true;
                if (handlers.on_done) {
                    handlers.on_done(i, w.last_id);
                }
            } else if (all_full && !w.remaining) {
                // No estimate: grow the next chain (doubling, bounded by one batch).
                w.growth = std::min(detail::kMaxBatchCommands, std::max(w.growth, e.pages) * 2);
            }
        }
    }
    if (deferred) {
        throw *deferred;
    }
}

std::int64_t Client::List(const WalkSpec& walk,
                          const std::function<void(std::vector<nlohmann::json>&&)>& on_rows,
                          const WalkOptions& options) {
    std::int64_t last = walk.last_id;
    WalkHandlers h;
    h.on_rows = [&](std::size_t, std::vector<nlohmann::json>&& rows, std::int64_t last_id) {
        last = last_id;
        if (on_rows) {
            on_rows(std::move(rows));
        }
    };
    h.on_done = [&](std::size_t, std::int64_t last_id) { last = last_id; };
    Walk({walk}, h, options);
    return last;
}

}  // namespace b24client
