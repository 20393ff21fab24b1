#include <algorithm>
#include <map>
#include <set>

#include "b24client/client.hpp"
#include "b24client/json_util.hpp"
#include "client_impl.hpp"
#include "query.hpp"

namespace b24client {
namespace detail {

BatchReply ParseBatchReply(nlohmann::json&& envelope) {
    BatchReply r;
    auto& outer = envelope["result"];
    auto inner = AsObject(outer);
    if (!inner) {
        throw Error(ErrorKind::kBadResponse, "batch", "", "batch result is not an object", 200);
    }
    auto take = [&](const char* name, nlohmann::json& into) {
        auto it = inner->find(name);
        if (it == inner->end()) {
            return;
        }
        if (auto obj = AsObject(*it)) {
            into = std::move(*obj);
        } else if (it->is_array()) {
            // A list-shaped cmd would answer with an array; we always send named keys, but
            // accept positional answers by index.
            nlohmann::json o = nlohmann::json::object();
            for (std::size_t i = 0; i < it->size(); ++i) {
                o[std::to_string(i)] = std::move((*it)[i]);
            }
            into = std::move(o);
        }
    };
    take("result", r.results);
    take("result_error", r.errors);
    take("result_total", r.totals);
    take("result_next", r.nexts);
    take("result_time", r.times);
    return r;
}

std::string CommandString(const std::string& method, const nlohmann::json& params) {
    const std::string q = EncodeQuery(params);
    return q.empty() ? method : method + "?" + q;
}

}  // namespace detail

namespace {

std::string Str(const nlohmann::json* v) {
    return v == nullptr ? std::string() : ToString(*v).value_or("");
}

}  // namespace

// A method's budget allows only part of the pending commands: when the whole group would fit a
// fresh window, wait for its budget instead of splitting the group over two requests (the budget,
// not the request count, limits that method anyway). Returns true after waiting.
bool Client::Impl::HoldBackFor(const std::string& method, int needed) {
    const LimitPlan& plan = limiter()->plan();
    const double cost = limiter()->AverageCallSeconds(method);
    if (needed <= 0 || options_.max_wait_s ||
        static_cast<double>(needed) * cost > plan.operating_limit_s - plan.operating_margin_s) {
        return false;  // (a caller who must not wait long gets a split group instead)
    }
    const double give_up_at = limiter()->clock()->Now() + plan.operating_window_s;
    bool waited = false;
    while (limiter()->Allowance(method) < needed && limiter()->clock()->Now() < give_up_at) {
        CheckCancelled();
        limiter()->clock()->SleepFor(1.0);
        Stats d;
        d.budget_wait_seconds = 1.0;
        AddStats(d);
        waited = true;
    }
    return waited;
}

namespace {
bool HoldBackForBudget(Client::Impl& impl,
                       const std::vector<Command>& commands,
                       const std::vector<std::size_t>& pending,
                       std::size_t take) {
    const std::string method = NormalizeMethod(commands[pending[take]].method);
    int needed = 0;
    for (const std::size_t i : pending) {
        needed += NormalizeMethod(commands[i].method) == method ? 1 : 0;
    }
    return impl.HoldBackFor(method, needed);
}
}  // namespace

std::vector<CommandResult> Client::Batch(const std::vector<Command>& commands) {
    std::vector<CommandResult> out(commands.size());
    std::vector<std::string> keys(commands.size());
    std::set<std::string> seen;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        keys[i] = commands[i].key.empty() ? "c" + std::to_string(i) : commands[i].key;
        if (!seen.insert(keys[i]).second) {
            throw Error(ErrorKind::kInvalidArgument, "batch", "",
                        "duplicate command key " + keys[i]);
        }
    }
    const auto& retry = impl_->options().retry;
    for (std::size_t begin = 0; begin < commands.size(); begin += 50) {
        const std::size_t end = std::min(commands.size(), begin + 50);
        std::vector<std::size_t> pending;
        for (std::size_t i = begin; i < end; ++i) {
            pending.push_back(i);
        }
        std::map<std::string, nlohmann::json> done;  // key -> result, for local substitution
        std::vector<int> transient_attempts(commands.size(), 0);
        std::vector<int> limit_attempts(commands.size(), 0);
        while (!pending.empty()) {
            impl_->CheckCancelled();
            // Send the longest prefix of the pending commands that fits every method's
            // operating allowance and the batch time budget (at least one command, after
            // waiting for its method's budget if need be).
            std::map<std::string, int> allowance;
            double time_left = impl_->options().target_batch_seconds;
            std::size_t take = 0;
            bool out_of_budget = false;
            for (; take < pending.size(); ++take) {
                const std::string m = NormalizeMethod(commands[pending[take]].method);
                if (allowance.count(m) == 0) {
                    allowance[m] = impl_->limiter()->Allowance(m);
                }
                const double cost = impl_->limiter()->AverageCallSeconds(m);
                if (allowance[m] <= 0) {
                    out_of_budget = true;
                    break;
                }
                if (take > 0 && time_left < cost) {
                    break;
                }
                --allowance[m];
                time_left -= cost;
            }
            if (take > 0 && out_of_budget && HoldBackForBudget(*impl_, commands, pending, take)) {
                continue;  // waited until the whole group fits: plan again
            }
            if (take == 0) {
                const double w = impl_->WaitForBudgets({commands[pending.front()].method});
                Stats d;
                d.budget_wait_seconds = w;
                impl_->AddStats(d);
                continue;
            }
            std::vector<std::size_t> later(pending.begin() + static_cast<std::ptrdiff_t>(take),
                                           pending.end());
            pending.resize(take);
            nlohmann::ordered_json cmd = nlohmann::ordered_json::object();
            bool all_safe = true;
            for (const std::size_t i : pending) {
                int unresolved = 0;
                const nlohmann::json params =
                    detail::SubstituteReferences(commands[i].params, done, unresolved);
                cmd[keys[i]] = detail::CommandString(commands[i].method, params);
                all_safe = all_safe && impl_->ResolveRepeat(commands[i].method, commands[i].repeat);
            }
            Impl::SendOptions so;
            so.safe = all_safe;
            nlohmann::ordered_json body = nlohmann::ordered_json::object();
            body["halt"] = 0;
            body["cmd"] = std::move(cmd);
            nlohmann::json env = impl_->Send("batch", std::move(body), so);
            detail::BatchReply reply = detail::ParseBatchReply(std::move(env));

            std::vector<std::size_t> again;
            bool transient_only = false;
            for (const std::size_t i : pending) {
                const std::string& key = keys[i];
                const std::string& method = commands[i].method;
                const nlohmann::json* time = Find(reply.times, key);
                const nlohmann::json* err = Find(reply.errors, key);
                const nlohmann::json* res = Find(reply.results, key);
                if (time != nullptr || res != nullptr || err != nullptr) {
                    impl_->RecordExecution(method, time ? *time : nlohmann::json(), true);
                }
                if (err == nullptr && res != nullptr) {
                    CommandResult& r = out[i];
                    r.ok = true;
                    r.result = *res;
                    if (const auto* t = Find(reply.totals, key)) {
                        r.total = ToInt64(*t);
                    }
                    if (const auto* n = Find(reply.nexts, key)) {
                        r.next = ToInt64(*n);
                    }
                    r.error.reset();
                    done[key] = *res;
                    continue;
                }
                std::string code;
                std::string desc;
                if (err != nullptr) {
                    if (err->is_object()) {
                        code = Str(Find(*err, "error"));
                        desc = Str(Find(*err, "error_description"));
                    } else {
                        code = Str(err);
                    }
                } else {
                    code = "";
                    desc = "command missing from the batch answer";
                }
                Classification cls = err == nullptr ? Classification{ErrorKind::kBadResponse,
                                                                     Disposition::kRetryIfSafe}
                                                    : ClassifyRestError(0, code, desc);
                const bool safe = impl_->ResolveRepeat(method, commands[i].repeat);
                bool retry_it = false;
                switch (cls.disposition) {
                    case Disposition::kWaitMethod: {
                        Stats d;
                        d.operation_limit_refusals = 1;
                        impl_->AddStats(d);
                        std::optional<double> reset;
                        if (time != nullptr) {
                            if (const auto* r = Find(*time, "operating_reset_at")) {
                                reset = ToEpochSeconds(*r);
                            }
                        }
                        impl_->limiter()->OnOperationLimit(method, reset);
                        retry_it = ++limit_attempts[i] < retry.max_limit_attempts;
                        break;
                    }
                    case Disposition::kWaitBucket:
                    case Disposition::kRetryRefused:
                    case Disposition::kRefreshToken:
                        retry_it = ++limit_attempts[i] < retry.max_limit_attempts;
                        break;
                    case Disposition::kRetryIfSafe:
                        retry_it = safe && ++transient_attempts[i] < retry.max_transient_attempts;
                        transient_only = transient_only || retry_it;
                        break;
                    case Disposition::kFinal:
                        break;
                }
                out[i].ok = false;
                out[i].error = Error(cls.kind, method, code, desc, 0);
                if (retry_it) {
                    again.push_back(i);
                }
            }
            if (!again.empty()) {
                Stats d;
                d.retries = again.size();
                impl_->AddStats(d);
                if (transient_only) {
                    int worst = 0;
                    for (const std::size_t i : again) {
                        worst = std::max(worst, transient_attempts[i]);
                    }
                    impl_->Backoff(std::max(1, worst));
                }
            }
            // Re-sent commands go first so that their dependants see their results.
            again.insert(again.end(), later.begin(), later.end());
            pending = std::move(again);
        }
    }
    return out;
}

std::vector<CommandResult> Client::Write(std::vector<Command> commands,
                                         const std::string& auth_connector) {
    for (auto& c : commands) {
        c.repeat = Repeat::kSafe;
        if (!auth_connector.empty()) {
            if (!c.params.is_object()) {
                c.params = nlohmann::json::object();
            }
            c.params["auth_connector"] = auth_connector;
        }
    }
    return Batch(commands);
}

Command Client::MakeUpdate(std::string update_method, std::int64_t id, nlohmann::json fields) {
    Command c;
    c.method = std::move(update_method);
    c.params = nlohmann::json{
        {"id", id}, {"fields", std::move(fields)}, {"params", {{"REGISTER_HISTORY_EVENT", "N"}}}};
    c.repeat = Repeat::kSafe;
    return c;
}

void Client::FetchByIds(const IdFetchSpec& spec,
                        const std::function<void(std::vector<nlohmann::json>&&)>& on_rows) {
    std::vector<std::int64_t> ids = spec.ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    constexpr std::size_t kIdsPerCall = 50;
    constexpr std::size_t kCallsPerBatch = 50;
    const std::size_t per_batch = kIdsPerCall * kCallsPerBatch;
    for (std::size_t b = 0; b < ids.size(); b += per_batch) {
        std::vector<Command> cmds;
        for (std::size_t c = b; c < std::min(ids.size(), b + per_batch); c += kIdsPerCall) {
            Command cmd;
            cmd.method = spec.method;
            cmd.params = spec.params.is_object() ? spec.params : nlohmann::json::object();
            auto& filter = cmd.params["filter"];
            if (!filter.is_object()) {
                filter = nlohmann::json::object();
            }
            nlohmann::json list = nlohmann::json::array();
            for (std::size_t k = c; k < std::min(ids.size(), c + kIdsPerCall); ++k) {
                list.push_back(ids[k]);
            }
            filter["@" + spec.id_field] = std::move(list);
            cmd.params["start"] = -1;
            if (auto sel = cmd.params.find("select");
                sel != cmd.params.end() && sel->is_array() && !sel->empty()) {
                const bool has_id = std::any_of(sel->begin(), sel->end(), [&](const auto& f) {
                    return f == spec.id_field || f == "*";
                });
                if (!has_id) {
                    sel->push_back(spec.id_field);  // rows are sorted by id
                }
            }
            cmd.repeat = Repeat::kSafe;
            cmds.push_back(std::move(cmd));
        }
        auto results = Batch(cmds);
        std::vector<nlohmann::json> rows;
        for (auto& r : results) {
            if (!r.ok) {
                throw *r.error;
            }
            nlohmann::json* list = &r.result;
            if (!spec.items_key.empty()) {
                auto obj = AsObject(r.result);
                if (!obj) {
                    throw Error(ErrorKind::kBadResponse, spec.method, "", "rows are not an object");
                }
                r.result = std::move(*obj);
                auto it = r.result.find(spec.items_key);
                if (it == r.result.end()) {
                    continue;
                }
                list = &*it;
            }
            if (list->is_object() && list->empty()) {
                continue;
            }
            if (!list->is_array()) {
                throw Error(ErrorKind::kBadResponse, spec.method, "", "rows are not a list");
            }
            for (auto& row : *list) {
                rows.push_back(std::move(row));
            }
        }
        std::sort(rows.begin(), rows.end(), [&](const nlohmann::json& x, const nlohmann::json& y) {
            const auto* ia = Find(x, spec.id_field);
            const auto* ib = Find(y, spec.id_field);
            return (ia ? ToInt64(*ia).value_or(0) : 0) < (ib ? ToInt64(*ib).value_or(0) : 0);
        });
        if (!rows.empty()) {
            on_rows(std::move(rows));
        }
    }
}

}  // namespace b24client
