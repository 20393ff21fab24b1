// Money conversion, amounts as text, and tier settings (README: "Turnover", "Tiers").

#include "segmenter/turnover.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

namespace segmenter {

namespace {

bool PositiveFinite(double x) {
    return std::isfinite(x) && x > 0;
}

bool ValidCode(std::string_view code) {
    if (code.empty() || code.size() > 50) {
        return false;
    }
    return std::all_of(code.begin(), code.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

constexpr std::array<RankShare, 3> kDefaultShares = {{
    {"PLATINUM", 5},
    {"GOLD", 20},
    {"SILVER", 50},
}};

}  // namespace

std::optional<std::int64_t> ToBaseAmount(double amount,
                                         std::string_view currency,
                                         std::span<const Currency> table) {
    double rate = 1;
    if (!table.empty()) {
        const Currency* row = nullptr;
        for (const Currency& candidate : table) {
            if (currency.empty() ? candidate.base : candidate.code == currency) {
                row = &candidate;
                break;
            }
        }
        if (row == nullptr && !currency.empty()) {
            return std::nullopt;  // not in the table
        }
        if (row != nullptr) {
            if (!PositiveFinite(row->amount) || !PositiveFinite(row->amount_cnt)) {
                return std::nullopt;
            }
            rate = row->amount / row->amount_cnt;
        }
    }
    if (!std::isfinite(amount) || amount <= 0) {
        return 0;
    }
    const double hundredths = amount * rate * 100.0;
    if (!std::isfinite(hundredths) || hundredths >= static_cast<double>(kMaxAmount)) {
        return kMaxAmount;
    }
    return static_cast<std::int64_t>(std::llround(hundredths));
}

std::string FormatAmount(std::int64_t hundredths) {
    // Work on the magnitude as unsigned, so that INT64_MIN needs no special case.
    const bool negative = hundredths < 0;
    const std::uint64_t magnitude = negative ? 0U - static_cast<std::uint64_t>(hundredths)
                                             : static_cast<std::uint64_t>(hundredths);
    const std::uint64_t cents = magnitude % 100;
    std::string out = negative ? "-" : "";
    out += std::to_string(magnitude / 100);
    out += '.';
    out += static_cast<char>('0' + cents / 10);
    out += static_cast<char>('0' + cents % 10);
    return out;
}

std::optional<std::int64_t> ParseAmount(std::string_view text) {
    bool negative = false;
    if (!text.empty() && text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    const std::size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction =
        dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (whole.empty() || whole.size() > 16 || fraction.size() > 2 ||
        (dot != std::string_view::npos && fraction.empty())) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (const char c : whole) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    std::int64_t cents = 0;
    for (std::size_t i = 0; i < 2; ++i) {
        cents *= 10;
        if (i < fraction.size()) {
            if (fraction[i] < '0' || fraction[i] > '9') {
                return std::nullopt;
            }
            cents += fraction[i] - '0';
        }
    }
    if (value > kMaxAmount / 100) {
        return std::nullopt;
    }
    const std::int64_t result = value * 100 + cents;
    if (result > kMaxAmount) {
        return std::nullopt;
    }
    return negative ? -result : result;
}

std::int64_t AddAmounts(std::int64_t a, std::int64_t b) {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    }
    return sum;
}

std::span<const RankShare> DefaultRankShares() {
    return kDefaultShares;
}

std::vector<std::string> TierCodes(const Settings& settings) {
    std::vector<std::string> codes;
    if (settings.tiers.empty()) {
        for (auto it = kDefaultShares.rbegin(); it != kDefaultShares.rend(); ++it) {
            codes.emplace_back(it->code);
        }
        return codes;
    }
    std::vector<Tier> sorted = settings.tiers;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Tier& a, const Tier& b) { return a.threshold < b.threshold; });
    for (const Tier& tier : sorted) {
        codes.push_back(tier.code);
    }
    return codes;
}

std::optional<std::string> ValidateTiers(const std::vector<Tier>& tiers) {
    if (tiers.empty() || tiers.size() > 20) {
        return "there must be 1 to 20 tiers";
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < tiers.size(); ++i) {
        const Tier& tier = tiers[i];
        const std::string which = "tier " + std::to_string(i + 1);
        if (!ValidCode(tier.code)) {
            return which + ": the code must be 1 to 50 characters A-Z, 0-9 or _";
        }
        if (tier.code == "NONE") {
            return which + ": NONE is reserved for clients in no tier";
        }
        if (!seen.insert(tier.code).second) {
            return which + ": the code " + tier.code + " is used twice";
        }
        if (tier.threshold < 0 || tier.threshold > kMaxAmount) {
            return which + ": the threshold must be between 0 and " + FormatAmount(kMaxAmount);
        }
        if (i > 0 && tier.threshold <= tiers[i - 1].threshold) {
            return which + ": thresholds must rise from each tier to the next";
        }
    }
    return std::nullopt;
}

std::int32_t TierScale::TierOf(std::int64_t turnover) const {
    if (turnover <= 0) {
        return -1;
    }
    for (std::size_t i = thresholds.size(); i > 0; --i) {
        if (turnover >= thresholds[i - 1]) {
            return static_cast<std::int32_t>(i - 1);
        }
    }
    return -1;
}

YearMonth TierSeries::Month(std::size_t i) const {
    return FromMonthIndex(MonthIndex(first_month) + static_cast<std::int32_t>(i));
}

}  // namespace segmenter
