// Monthly series (SEGMENTS.md §6) by an event sweep.
//
// A client's state (lifecycle and frequency) is piecewise constant over months and can only change
// at a few months that its facts determine: its creation, each payment, the month each payment
// leaves the ACTIVE and the SLEEPING window, its first request and its first dialog. For every
// client we evaluate the state at those months only and record +1/-1 transitions in per-series
// difference arrays; a prefix sum then gives every month's counts. The cost is
// O(clients + payments * log(payments per client) + series * months), not clients * months.
//
// Months before the month of T are judged on the local time as written: a record belongs to the
// month of its local date, and "t = end of M" is the last second of M on that local clock. The last
// month is judged at T itself, exactly like the card values, so each series ends with today's
// counter.

#include <algorithm>
#include <array>

#include "civil.hpp"
#include "index_impl.hpp"

namespace segmenter {

namespace {

using detail::kNever;

constexpr Series LifecycleSeries(Lifecycle lifecycle) {
    switch (lifecycle) {
        case Lifecycle::kActive:
            return Series::kActive;
        case Lifecycle::kSleeping:
            return Series::kSleeping;
        case Lifecycle::kLost:
            return Series::kLost;
        case Lifecycle::kRequests:
            return Series::kRequests;
        case Lifecycle::kDialogs:
            return Series::kDialogs;
        case Lifecycle::kContacts:
            return Series::kWithContacts;
        case Lifecycle::kNoContacts:
            return Series::kNoContacts;
    }
    return Series::kNoContacts;
}

constexpr Series FrequencySeries(Frequency frequency) {
    switch (frequency) {
        case Frequency::kRegular:
            return Series::kRegular;
        case Frequency::kFirst:
            return Series::kFirst;
        case Frequency::kNone:
            return Series::kNone;
    }
    return Series::kNone;
}

// Local seconds of the first second of month `index`.
std::int64_t MonthStartLocal(std::int32_t index) {
    const YearMonth month = FromMonthIndex(index);
    return detail::DaysFromCivil(month.year, month.month, 1) * detail::kSecondsPerDay;
}

// Local seconds of (end of month `index`) - `months` calendar months: the window boundary of §4
// at month-end t, on the local clock.
std::int64_t WindowBoundaryLocal(std::int32_t index, std::int32_t months) {
    const Instant end_of_month{MonthStartLocal(index + 1) - 1, 0};
    return AddMonths(end_of_month, -months).utc;
}

// The first month M >= month_of_payment whose window boundary (end of M - months) is at or after
// the payment, i.e. from which the payment no longer lies inside the window.
std::int32_t MonthLeavingWindow(std::int64_t payment_local,
                                std::int32_t month_of_payment,
                                std::int32_t months) {
    // The boundary of month_of_payment + months lies in month_of_payment itself; one month later it
    // lies after it. So at most two steps.
    std::int32_t month = month_of_payment + months;
    while (WindowBoundaryLocal(month, months) < payment_local) {
        ++month;
    }
    return month;
}

struct State {
    Lifecycle lifecycle = Lifecycle::kNoContacts;
    Frequency frequency = Frequency::kNone;
    bool operator==(const State&) const = default;
};

class Sweep {
public:
    Sweep(std::int32_t first_month, std::int32_t month_of_t, const Settings& settings)
        : first_(first_month),
          last_(month_of_t),
          active_months_(detail::WindowMonths(settings.active_months)),
          lost_months_(detail::WindowMonths(settings.lost_months)) {
        for (auto& delta : delta_) {
            delta.assign(static_cast<std::size_t>(last_ - first_ + 1), 0);
        }
    }

    void Created(Series series, Instant created) {
        const std::int32_t month = detail::MonthIndexOfLocal(created.LocalSeconds());
        if (month < last_) {
            Add(series, std::max(month, first_), +1);
        }
    }

    void Client(Series type, Instant created, const detail::ClientFacts& facts) {
        const std::int32_t exists =
            std::max(first_, detail::MonthIndexOfLocal(created.LocalSeconds()));
        if (exists >= last_) {
            return;
        }
        Add(Series::kAllClients, exists, +1);
        Add(type, exists, +1);

        payments_.clear();
        for (const PaymentInfo& payment : facts.payments) {
            payments_.push_back(payment.date.LocalSeconds());
        }
        std::sort(payments_.begin(), payments_.end());

        // The months at which the state can change.
        months_.clear();
        months_.push_back(exists);
        for (const std::int64_t payment : payments_) {
            const std::int32_t month = detail::MonthIndexOfLocal(payment);
            months_.push_back(month);
            months_.push_back(MonthLeavingWindow(payment, month, active_months_));
            months_.push_back(MonthLeavingWindow(payment, month, lost_months_));
        }
        const std::int32_t request_month = MonthOfLocal(facts.first_request_local);
        const std::int32_t dialog_month = MonthOfLocal(facts.first_dialog_local);
        months_.push_back(request_month);
        months_.push_back(dialog_month);
        for (std::int32_t& month : months_) {
            month = std::max(month, exists);
        }
        std::sort(months_.begin(), months_.end());
        months_.erase(std::unique(months_.begin(), months_.end()), months_.end());

        State previous;
        bool counted = false;
        for (const std::int32_t month : months_) {
            if (month >= last_) {
                break;
            }
            const State state = At(month, request_month, dialog_month, facts.channels);
            if (counted && state == previous) {
                continue;
            }
            if (counted) {
                Add(LifecycleSeries(previous.lifecycle), month, -1);
                Add(FrequencySeries(previous.frequency), month, -1);
            }
            Add(LifecycleSeries(state.lifecycle), month, +1);
            Add(FrequencySeries(state.frequency), month, +1);
            previous = state;
            counted = true;
        }
    }

    // Running sums for the months before the month of T.
    void Accumulate(MonthlySeries& out) const {
        const std::size_t count = out.month_count;
        for (std::size_t s = 0; s < kSeriesCount; ++s) {
            std::int64_t running = 0;
            for (std::size_t i = 0; i + 1 < count; ++i) {
                running += delta_[s][i];
                out.values[s][i] = running;
            }
        }
    }

private:
    // A month index for a local time, or a month after every month of the sweep for kNever.
    std::int32_t MonthOfLocal(std::int64_t local) const {
        return local == kNever ? last_ : detail::MonthIndexOfLocal(local);
    }

    State At(std::int32_t month,
             std::int32_t request_month,
             std::int32_t dialog_month,
             bool channels) const {
        const std::int64_t next_month_start = MonthStartLocal(month + 1);
        const auto paid_end =
            std::lower_bound(payments_.begin(), payments_.end(), next_month_start);
        const auto count = static_cast<std::size_t>(paid_end - payments_.begin());
        State state;
        if (count > 0) {
            const std::int64_t last = payments_[count - 1];
            if (last > WindowBoundaryLocal(month, active_months_)) {
                state.lifecycle = Lifecycle::kActive;
            } else if (last > WindowBoundaryLocal(month, lost_months_)) {
                state.lifecycle = Lifecycle::kSleeping;
            } else {
                state.lifecycle = Lifecycle::kLost;
            }
        } else if (request_month <= month) {
            state.lifecycle = Lifecycle::kRequests;
        } else if (dialog_month <= month) {
            state.lifecycle = Lifecycle::kDialogs;
        } else {
            state.lifecycle = channels ? Lifecycle::kContacts : Lifecycle::kNoContacts;
        }
        state.frequency = count >= 2   ? Frequency::kRegular
                          : count == 1 ? Frequency::kFirst
                                       : Frequency::kNone;
        return state;
    }

    void Add(Series series, std::int32_t month, std::int64_t delta) {
        delta_[SeriesIndex(series)][static_cast<std::size_t>(month - first_)] += delta;
    }

    std::int32_t first_;
    std::int32_t last_;
    std::int32_t active_months_;
    std::int32_t lost_months_;
    std::array<std::vector<std::int64_t>, kSeriesCount> delta_;
    std::vector<std::int64_t> payments_;  // scratch: one client's payments, local seconds
    std::vector<std::int32_t> months_;    // scratch: one client's change months
};

}  // namespace

MonthlySeries PortalIndex::Impl::Series(Instant t) const {
    const std::int32_t month_of_t = MonthIndex(MonthOf(t));

    // The charts start with the first contact or client company (README: "First month").
    std::int32_t first = month_of_t;
    for (const detail::ContactRow& row : contacts_.rows()) {
        if (row.alive) {
            first = std::min(first, detail::MonthIndexOfLocal(row.data.created.LocalSeconds()));
        }
    }
    for (const detail::CompanyRow& row : companies_.rows()) {
        if (row.alive && !row.data.is_my_company) {
            first = std::min(first, detail::MonthIndexOfLocal(row.data.created.LocalSeconds()));
        }
    }

    MonthlySeries out;
    out.first_month = FromMonthIndex(first);
    out.month_count = static_cast<std::size_t>(month_of_t - first + 1);
    for (auto& values : out.values) {
        values.assign(out.month_count, 0);
    }
    std::array<std::int64_t, kSeriesCount> today{};
    const auto count_today = [&](segmenter::Series series) { ++today[SeriesIndex(series)]; };

    Sweep sweep(first, month_of_t, settings_);
    const detail::Windows windows = detail::WindowsAt(t, settings_);
    const auto client = [&](segmenter::Series type, Instant created,
                            const detail::ClientFacts& facts) {
        sweep.Client(type, created, facts);
        if (created.utc <= t.utc) {
            const detail::Evaluation now = detail::Evaluate(facts, t, windows);
            count_today(segmenter::Series::kAllClients);
            count_today(type);
            count_today(LifecycleSeries(now.lifecycle));
            count_today(FrequencySeries(now.frequency));
        }
    };

    for (const detail::ContactRow& row : contacts_.rows()) {
        if (!row.alive) {
            continue;
        }
        sweep.Created(segmenter::Series::kContacts, row.data.created);
        if (row.data.created.utc <= t.utc) {
            count_today(segmenter::Series::kContacts);
        }
        if (row.primary == 0) {
            client(segmenter::Series::kB2C, row.data.created, row.facts);
        }
    }
    for (const detail::CompanyRow& row : companies_.rows()) {
        if (!row.alive || row.data.is_my_company) {
            continue;
        }
        sweep.Created(segmenter::Series::kCompanies, row.data.created);
        if (row.data.created.utc <= t.utc) {
            count_today(segmenter::Series::kCompanies);
        }
        client(segmenter::Series::kB2B, row.data.created, row.facts);
    }

    sweep.Accumulate(out);
    for (std::size_t s = 0; s < kSeriesCount; ++s) {
        out.values[s].back() = today[s];
    }
    return out;
}

}  // namespace segmenter
