#include "walk_planner.hpp"

#include <algorithm>
#include <cmath>

namespace b24client::detail {

int PagesNeeded(std::int64_t remaining_rows) {
    if (remaining_rows <= 0) {
        return 1;
    }
    const std::int64_t pages = remaining_rows / kPageSize + 1;
    return static_cast<int>(std::min<std::int64_t>(pages, 1'000'000));
}

std::vector<PlanEntry> PlanBatch(const std::vector<PlanInput>& walks,
                                 std::map<std::string, int> allowance,
                                 int capacity,
                                 double time_budget_s) {
    capacity = std::clamp(capacity, 0, kMaxBatchCommands);
    std::vector<PlanEntry> plan;
    std::vector<std::size_t> plan_input;  // index into `walks` for each plan entry
    int slots = capacity;
    double time_left = time_budget_s;
    auto allowed = [&allowance](const std::string& m) {
        const auto it = allowance.find(m);
        return it == allowance.end() ? kMaxBatchCommands : std::max(0, it->second);
    };
    auto take = [&allowance](const std::string& m, int n) {
        const auto it = allowance.find(m);
        if (it != allowance.end()) {
            it->second -= n;
        }
    };
    auto by_time = [&](const PlanInput& w) {
        const double cost = std::max(w.call_cost_s, 1e-6);
        return static_cast<int>(std::floor(std::max(0.0, time_left) / cost));
    };

    for (std::size_t i = 0; i < walks.size() && slots > 0; ++i) {
        const PlanInput& w = walks[i];
        int n = std::min({std::max(1, w.need), slots, allowed(w.method)});
        int t = by_time(w);
        if (plan.empty()) {
            t = std::max(t, 1);
        }
        n = std::min(n, t);
        if (n <= 0) {
            continue;
        }
        plan.push_back({w.walk, n});
        plan_input.push_back(i);
        slots -= n;
        take(w.method, n);
        time_left -= n * std::max(w.call_cost_s, 1e-6);
    }

    std::vector<std::size_t> uncertain;
    for (std::size_t p = 0; p < plan.size(); ++p) {
        if (walks[plan_input[p]].uncertain) {
            uncertain.push_back(p);
        }
    }
    while (slots > 0 && !uncertain.empty()) {
        const int share = std::max(1, slots / static_cast<int>(uncertain.size()));
        bool gave = false;
        for (const std::size_t p : uncertain) {
            const PlanInput& w = walks[plan_input[p]];
            int n = std::min({share, slots, allowed(w.method), by_time(w)});
            if (n <= 0) {
                continue;
            }
            plan[p].pages += n;
            slots -= n;
            take(w.method, n);
            time_left -= n * std::max(w.call_cost_s, 1e-6);
            gave = true;
            if (slots == 0) {
                break;
            }
        }
        if (!gave) {
            break;
        }
    }
    return plan;
}

}  // namespace b24client::detail
