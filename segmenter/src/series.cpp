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
#include "timeline.hpp"

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

using detail::MonthLeavingWindow;
using detail::MonthStartLocal;
using detail::WindowBoundaryLocal;

struct State {
    Lifecycle lifecycle = Lifecycle::kNoContacts;
    Frequency frequency = Frequency::kNone;
    bool operator==(const State&) const = default;
};

class Sweep {
public:
    Sweep(std::int32_t first_month,
          std::int32_t month_of_t,
          const Settings& settings,
          std::size_t cells = 1)
        : first_(first_month),
          last_(month_of_t),
          active_months_(detail::WindowMonths(settings.active_months)),
          lost_months_(detail::WindowMonths(settings.lost_months)),
          delta_(cells) {
        for (auto& cell : delta_) {
            for (auto& delta : cell) {
                delta.assign(static_cast<std::size_t>(last_ - first_ + 1), 0);
            }
        }
    }

    // The breakdown cell that the following calls count in.
    void set_cell(std::size_t cell) { cell_ = cell; }

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
    void Accumulate(MonthlySeries& out, std::size_t cell) const {
        const std::size_t count = out.month_count;
        for (std::size_t s = 0; s < kSeriesCount; ++s) {
            std::int64_t running = 0;
            for (std::size_t i = 0; i + 1 < count; ++i) {
                running += delta_[cell][s][i];
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
        delta_[cell_][SeriesIndex(series)][static_cast<std::size_t>(month - first_)] += delta;
    }

    std::int32_t first_;
    std::int32_t last_;
    std::int32_t active_months_;
    std::int32_t lost_months_;
    std::vector<std::array<std::vector<std::int64_t>, kSeriesCount>> delta_;  // per cell
    std::size_t cell_ = 0;
    std::vector<std::int64_t> payments_;  // scratch: one client's payments, local seconds
    std::vector<std::int32_t> months_;    // scratch: one client's change months
};

}  // namespace

std::int32_t PortalIndex::Impl::FirstMonth(std::int32_t month_of_t) const {
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
    return first;
}

MonthlySeries PortalIndex::Impl::Series(Instant t) const {
    return SeriesByCell(t, 1,
                        [](const Contact*, const Company*, std::vector<std::size_t>& cells) {
                            cells.assign(1, 0);
                        })
        .front();
}

std::vector<MonthlySeries> PortalIndex::Impl::SeriesByCell(Instant t,
                                                           std::size_t cell_count,
                                                           const CellsOf& cells_of) const {
    const std::int32_t month_of_t = MonthIndex(MonthOf(t));
    const std::int32_t first = FirstMonth(month_of_t);

    std::vector<MonthlySeries> out(cell_count);
    for (MonthlySeries& series : out) {
        series.first_month = FromMonthIndex(first);
        series.month_count = static_cast<std::size_t>(month_of_t - first + 1);
        for (auto& values : series.values) {
            values.assign(series.month_count, 0);
        }
    }
    std::vector<std::array<std::int64_t, kSeriesCount>> today(cell_count);
    std::size_t cell = 0;
    const auto count_today = [&](segmenter::Series series) { ++today[cell][SeriesIndex(series)]; };

    Sweep sweep(first, month_of_t, settings_, cell_count);
    const detail::Windows windows = detail::WindowsAt(t, settings_);
    std::vector<std::size_t> cells;
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
        cells_of(&row.data, nullptr, cells);
        for (const std::size_t c : cells) {
            cell = c;
            sweep.set_cell(c);
            sweep.Created(segmenter::Series::kContacts, row.data.created);
            if (row.data.created.utc <= t.utc) {
                count_today(segmenter::Series::kContacts);
            }
            if (row.primary == 0) {
                client(segmenter::Series::kB2C, row.data.created, row.facts);
            }
        }
    }
    for (const detail::CompanyRow& row : companies_.rows()) {
        if (!row.alive || row.data.is_my_company) {
            continue;
        }
        cells_of(nullptr, &row.data, cells);
        for (const std::size_t c : cells) {
            cell = c;
            sweep.set_cell(c);
            sweep.Created(segmenter::Series::kCompanies, row.data.created);
            if (row.data.created.utc <= t.utc) {
                count_today(segmenter::Series::kCompanies);
            }
            client(segmenter::Series::kB2B, row.data.created, row.facts);
        }
    }

    for (std::size_t c = 0; c < cell_count; ++c) {
        sweep.Accumulate(out[c], c);
        for (std::size_t s = 0; s < kSeriesCount; ++s) {
            out[c].values[s].back() = today[c][s];
        }
    }
    return out;
}

}  // namespace segmenter
