#pragma once

// A client's attributes over time (private to the segmenter): at T itself with instant comparisons,
// or at the end of a month before the month of T on the local clock as written (README: "Month ends
// in the series"). Everything beyond the fifteen fixed series is built on this: tiers, rule
// segments, breakdowns, movement and histories.

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "civil.hpp"
#include "index_impl.hpp"
#include "rule_program.hpp"

namespace segmenter::detail {

// Local seconds of the first second of month `index` (MonthIndex numbering).
std::int64_t MonthStartLocal(std::int32_t index);
// Local seconds of the last second of month `index`.
inline std::int64_t MonthEndLocal(std::int32_t index) {
    return MonthStartLocal(index + 1) - 1;
}
// Local seconds of (end of month `index`) - `months` calendar months: a window boundary at that
// month end.
std::int64_t WindowBoundaryLocal(std::int32_t index, std::int32_t months);
// The first month M >= month_of_payment whose window boundary is at or after the payment: from M on
// the payment is no longer inside a window of `months` months.
std::int32_t MonthLeavingWindow(std::int64_t payment_local,
                                std::int32_t month_of_payment,
                                std::int32_t months);
// The month of local seconds, or `never` for kNever.
inline std::int32_t MonthOfLocalOr(std::int64_t local, std::int32_t never) {
    return local == kNever ? never : MonthIndexOfLocal(local);
}

// One client's payments ordered by local time, with running base amounts.
struct LocalPayments {
    std::vector<std::int64_t> local;
    std::vector<std::int64_t> cumulative;

    void Load(const ClientFacts& facts);
    // How many payments are at or before local second `end`.
    std::size_t UpTo(std::int64_t end) const;
    // The base amounts of payments [from, to).
    std::int64_t Between(std::size_t from, std::size_t to) const;
};

// Window boundaries, computed once per query: the same few windows are asked for by every client.
// Not thread-safe; one per query.
class Boundaries {
public:
    // Months from 110 years before the month of T to the month after it are cached.
    explicit Boundaries(Instant t);
    // (T - months) in UTC seconds.
    std::int64_t AtT(std::int32_t months);
    // WindowBoundaryLocal(month, months).
    std::int64_t AtMonth(std::int32_t month, std::int32_t months);
    // MonthLeavingWindow with the cached boundaries.
    std::int32_t Leaving(std::int64_t payment_local,
                         std::int32_t month_of_payment,
                         std::int32_t months);

private:
    static constexpr std::int64_t kUnset = std::numeric_limits<std::int64_t>::min();
    static constexpr std::int32_t kSpan = 110 * 12 + 2;
    Instant t_;
    std::int32_t first_ = 0;          // the first month cached
    std::vector<std::int64_t> at_t_;  // by months
    // For each window length asked for: the boundaries of months first_ .. first_ + kSpan.
    std::vector<std::int32_t> windows_;
    std::vector<std::vector<std::int64_t>> at_month_;
};

// What a query needs at every moment it evaluates: the settings and T.
struct QueryContext {
    const Settings* settings = nullptr;
    Instant t{};
    Windows windows{};  // at T
    std::int32_t month_of_t = 0;
    std::shared_ptr<Boundaries> boundaries;  // the query's cache
};

QueryContext MakeContext(const Settings& settings, Instant t);

// A client's attributes at one moment; the source of attribute values for RuleEvaluator.
class Moment {
public:
    // At T (instant comparisons, like the card values).
    Moment(const ClientView& client, const QueryContext& query, const TierScale& scale);
    // At the end of `month` < the month of T, on the local clock (like the series).
    Moment(const ClientView& client,
           const LocalPayments& local,
           std::int32_t month,
           const QueryContext& query,
           const TierScale& scale);

    // For rules: tier() is an index into the rule's tiers; set the mapping before evaluating.
    void set_tier_map(std::span<const std::int32_t> scale_to_rule) { tier_map_ = scale_to_rule; }

    Lifecycle lifecycle();
    Frequency frequency();
    ClientType client_type() const { return client_.type; }
    std::int32_t tier();        // as mapped by set_tier_map (-1 none, -2 unknown)
    std::int32_t scale_tier();  // an index into the scale, -1 none
    std::int64_t payments() const { return static_cast<std::int64_t>(count_); }
    std::optional<std::int64_t> last_payment_day() const;
    std::optional<std::int64_t> days_since_payment() const;
    std::int64_t turnover(std::int32_t months);  // 0: the settings' window
    std::int64_t lifetime() const;
    bool has_dialogs() const;
    bool has_channels() const { return client_.facts->channels; }
    std::int64_t responsible() const;
    std::int64_t created_day() const { return DayOf(client_.created.LocalSeconds()); }
    std::int64_t days_since_created() const { return today_ - created_day(); }
    std::string_view type() const;
    std::string_view industry() const;
    std::string_view source() const;
    std::span<const std::string> field(std::string_view name) const;

    const ClientView& client() const { return client_; }

private:
    const ClientView& client_;
    const QueryContext& query_;
    const TierScale& scale_;
    const LocalPayments* local_ = nullptr;  // month mode
    std::int32_t month_ = 0;
    std::int64_t end_local_ = 0;  // month mode: the last second of the month
    std::int64_t today_ = 0;      // local day number of the moment
    std::size_t count_ = 0;       // payments at the moment
    std::optional<Lifecycle> lifecycle_;
    std::optional<std::int64_t> window_turnover_;
    std::span<const std::int32_t> tier_map_;
};

// The values of a card's own attribute for a dimension (one for most; any number for a field, "" if
// it has none).
void DimensionValuesOf(const Contact* contact,
                       const Company* company,
                       const Dimension& dimension,
                       std::vector<std::string>& out);

// Counts per cell, per category and per month: +1/-1 transitions at months before the month of T,
// summed up at the end; the month of T is counted directly.
class CountSweep {
public:
    CountSweep(std::int32_t first, std::int32_t last, std::size_t cells, std::size_t categories);

    void Change(std::size_t cell, std::int32_t category, std::int32_t month, std::int64_t delta);
    void Today(std::size_t cell, std::int32_t category);
    // counts[cell][category][month - first].
    std::vector<std::vector<std::vector<std::int64_t>>> Finish();

    std::int32_t first() const { return first_; }
    std::int32_t last() const { return last_; }

private:
    std::int32_t first_;
    std::int32_t last_;
    std::size_t categories_;
    std::vector<std::vector<std::vector<std::int64_t>>> counts_;
};

// When a client's category can change: the months to evaluate (README: "Rule segments", "Tiers").
struct Timing {
    bool lifecycle = false;  // creation, payments, window exits, first request, first dialog
    bool payments = false;   // the month of each payment
    bool dialogs = false;    // the first dialog
    bool every_month = false;
    bool every_month_after_payment = false;
    std::vector<std::int32_t> windows;  // the month each payment enters and leaves the window
    std::int32_t rank_window = 0;       // > 0: every month some payment is inside this window
};

Timing TimingOf(const CompiledRule::Program& program, const Settings& settings);
Timing TierTiming(const Settings& settings);
void Merge(Timing& into, const Timing& other);

// The months >= exists and < last at which the category of a client with these facts can change,
// sorted and unique; always includes `exists`.
void ChangeMonths(const ClientFacts& facts,
                  const LocalPayments& local,
                  std::int32_t exists,
                  std::int32_t last,
                  const Settings& settings,
                  const Timing& timing,
                  Boundaries& boundaries,
                  std::vector<std::int32_t>& out);

// The tier scales of every month from `first` to the month of T (the last at T itself): the admin's
// for every month, or the ranking of each month's existing clients.
class MonthlyScales {
public:
    const TierScale& At(std::int32_t month) const;

    std::int32_t first = 0;
    std::vector<TierScale> scales;  // one per month (one in all when the admin set tiers)
    bool fixed = false;
};

}  // namespace segmenter::detail
