// Tier scales: the admin's thresholds, or the default tiers by rank (README: "Tiers").

#include <algorithm>

#include "index_impl.hpp"
#include "segmenter/turnover.hpp"

namespace segmenter::detail {

TierScale AdminScale(const std::vector<Tier>& tiers) {
    std::vector<Tier> sorted = tiers;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Tier& a, const Tier& b) { return a.threshold < b.threshold; });
    TierScale scale;
    for (Tier& tier : sorted) {
        scale.codes.push_back(std::move(tier.code));
        scale.thresholds.push_back(tier.threshold);
    }
    return scale;
}

// With N clients of positive turnover, the tier with cumulative share p % takes the clients ranked
// within the first ceil(N * p / 100); its threshold is the turnover of the last of them, so that
// clients tied with it are in the tier too (ties go up).
TierScale RankScale(std::span<std::int64_t> positive) {
    TierScale scale;
    scale.by_rank = true;
    scale.ranked = static_cast<std::int64_t>(positive.size());
    const auto shares = DefaultRankShares();
    scale.codes.resize(shares.size());
    scale.thresholds.assign(shares.size(), TierScale::kUnreachable);
    const auto count = static_cast<std::int64_t>(positive.size());
    // Highest tier first, with growing ranks: each nth_element only needs the part after the last.
    auto begin = positive.begin();
    for (std::size_t k = 0; k < shares.size(); ++k) {
        const std::size_t tier = shares.size() - 1 - k;  // lowest first in the scale
        scale.codes[tier] = std::string(shares[k].code);
        const std::int64_t take = (count * shares[k].cumulative_percent + 99) / 100;
        if (take == 0) {
            continue;
        }
        const auto nth = positive.begin() + (take - 1);
        if (nth >= begin) {
            std::nth_element(begin, nth, positive.end(), std::greater<>());
            begin = nth;
        }
        scale.thresholds[tier] = *nth;
    }
    return scale;
}

std::int64_t TurnoverAt(const ClientFacts& facts, Instant t, std::int32_t months) {
    return TurnoverBetween(facts, AddMonths(t, -WindowMonths(months)).utc, t.utc);
}

std::int64_t TurnoverBetween(const ClientFacts& facts, std::int64_t after, std::int64_t upto) {
    if (facts.payments.empty()) {
        return 0;
    }
    return AmountBetween(facts, PaymentsUpToUtc(facts.payments, after),
                         PaymentsUpToUtc(facts.payments, upto));
}

std::int64_t LifetimeAt(const ClientFacts& facts, Instant t) {
    return AmountBetween(facts, 0, PaymentsUpToUtc(facts.payments, t.utc));
}

}  // namespace segmenter::detail
