#pragma once

// Money, turnover and tiers (segmenter/README.md "Turnover" and "Tiers").
//
// Amounts in the portal's base currency are whole hundredths (kopecks, cents) in an int64: sums are
// exact and do not depend on the order of the payments. Everything here is pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "segmenter/instant.hpp"
#include "segmenter/model.hpp"

namespace segmenter {

// The largest amount one payment converts to (10^13 units of the base currency); larger ones are
// clamped to it. Sums of amounts saturate at the int64 range instead of overflowing.
inline constexpr std::int64_t kMaxAmount = 1'000'000'000'000'000;

// Converts `amount`, written in `currency`, to hundredths of the base currency with the portal's
// currency table (crm.currency.list): amount * AMOUNT / AMOUNT_CNT, rounded to the nearest
// hundredth, halves away from zero (in double precision).
//   - An empty `currency` is the base currency (the row with base = true; rate 1 if none is).
//   - An empty table takes every amount as written (rate 1): a portal whose currencies were not
//     loaded is treated as having one currency.
//   - nullopt: the currency is not in the (non-empty) table, or its AMOUNT or AMOUNT_CNT is not a
//     positive finite number. Codes compare exactly (USD is not usd).
//   - A negative or non-finite amount converts to 0.
// The table is searched linearly (portals have a handful of currencies); the first row with the
// code wins.
std::optional<std::int64_t> ToBaseAmount(double amount,
                                         std::string_view currency,
                                         std::span<const Currency> table);

// Hundredths as a decimal number with two decimals: 123456 -> "1234.56", -5 -> "-0.05".
std::string FormatAmount(std::int64_t hundredths);

// Parses "1234", "1234.5", "1234.56", with an optional leading '-'; nullopt for anything else
// (more than two decimals, other characters, more than kMaxAmount in absolute value).
std::optional<std::int64_t> ParseAmount(std::string_view text);

// Adds amounts, saturating at the int64 range.
std::int64_t AddAmounts(std::int64_t a, std::int64_t b);

// ---------------------------------------------------------------------------------------------
// Tiers.

// A default tier by rank: the clients ranked within the top `cumulative_percent` percent by
// turnover, below the tiers before it.
struct RankShare {
    std::string_view code;
    std::int32_t cumulative_percent = 0;
};

// The default tiers while the admin has set none, highest first: PLATINUM (top 5 %), GOLD (the next
// 15 %), SILVER (the next 30 %). README "Tiers" has the exact rule, ties and zero turnovers.
std::span<const RankShare> DefaultRankShares();

// The tier codes in effect for `settings`, lowest first: the admin's in ascending order of
// threshold, or SILVER GOLD PLATINUM.
std::vector<std::string> TierCodes(const Settings& settings);

// nullopt if `tiers` is a valid admin setting; otherwise why not, in English. Valid: 1 to 20 tiers;
// codes of 1 to 50 characters A-Z, 0-9 and _, unique, not NONE; thresholds from 0 to kMaxAmount,
// strictly ascending in the order given.
std::optional<std::string> ValidateTiers(const std::vector<Tier>& tiers);

// The tiers in effect at one time: the admin's thresholds, or those the ranking gives then.
struct TierScale {
    // A threshold no turnover reaches (the ranking of a time when no client has turnover).
    static constexpr std::int64_t kUnreachable = std::numeric_limits<std::int64_t>::max();

    std::vector<std::string> codes;        // lowest first
    std::vector<std::int64_t> thresholds;  // minimum turnover of each tier, non-decreasing
    bool by_rank = false;                  // the default tiers
    std::int64_t ranked = 0;  // by rank: the clients with turnover > 0 that were ranked

    // The index of the tier of a turnover (the highest tier whose threshold it reaches), or -1:
    // a turnover of zero or less is in no tier.
    std::int32_t TierOf(std::int64_t turnover) const;

    bool operator==(const TierScale&) const = default;
};

// The monthly counts of the tiers mode, over the same months as MonthlySeries.
struct TierSeries {
    YearMonth first_month{};
    std::size_t month_count = 0;     // >= 1
    std::vector<std::string> codes;  // lowest first
    // values[i][m] for i < codes.size(): clients existing at month m in tier i;
    // values[codes.size()][m]: clients existing at month m in no tier. The last month is at T.
    std::vector<std::vector<std::int64_t>> values;

    // Today's count of tier i (codes.size() for "no tier").
    std::int64_t Today(std::size_t tier) const { return values[tier].back(); }
    YearMonth Month(std::size_t i) const;

    bool operator==(const TierSeries&) const = default;
};

}  // namespace segmenter
