// A client's attributes at T or at a month end, and the sweep machinery on top of them.

#include "timeline.hpp"

#include <algorithm>
#include <cctype>

namespace segmenter::detail {

std::int64_t MonthStartLocal(std::int32_t index) {
    const YearMonth month = FromMonthIndex(index);
    return DaysFromCivil(month.year, month.month, 1) * kSecondsPerDay;
}

std::int64_t WindowBoundaryLocal(std::int32_t index, std::int32_t months) {
    const Instant end_of_month{MonthEndLocal(index), 0};
    return AddMonths(end_of_month, -months).utc;
}

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

// ---------------------------------------------------------------------------------------------

void LocalPayments::Load(const ClientFacts& facts) {
    const std::size_t n = facts.payments.size();
    local.resize(n);
    cumulative.resize(n);
    bool sorted = true;
    for (std::size_t i = 0; i < n; ++i) {
        local[i] = facts.payments[i].date.LocalSeconds();
        sorted = sorted && (i == 0 || local[i - 1] <= local[i]);
    }
    if (sorted) {
        for (std::size_t i = 0; i < n; ++i) {
            cumulative[i] = facts.payments[i].base_amount.value_or(0);
        }
    } else {
        // Offsets differ between payments: order them by local time, amounts with them.
        std::vector<std::pair<std::int64_t, std::int64_t>> pairs(n);
        for (std::size_t i = 0; i < n; ++i) {
            pairs[i] = {local[i], facts.payments[i].base_amount.value_or(0)};
        }
        std::stable_sort(pairs.begin(), pairs.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t i = 0; i < n; ++i) {
            local[i] = pairs[i].first;
            cumulative[i] = pairs[i].second;
        }
    }
    std::int64_t running = 0;
    for (std::int64_t& amount : cumulative) {
        running = AddAmounts(running, amount);
        amount = running;
    }
}

std::size_t LocalPayments::UpTo(std::int64_t end) const {
    return static_cast<std::size_t>(std::upper_bound(local.begin(), local.end(), end) -
                                    local.begin());
}

std::int64_t LocalPayments::Between(std::size_t from, std::size_t to) const {
    if (to <= from) {
        return 0;
    }
    return from == 0 ? cumulative[to - 1] : cumulative[to - 1] - cumulative[from - 1];
}

std::int64_t Boundaries::AtT(std::int32_t months) {
    const auto index = static_cast<std::size_t>(WindowMonths(months));
    if (index >= at_t_.size()) {
        at_t_.resize(index + 1, kUnset);
    }
    if (at_t_[index] == kUnset) {
        at_t_[index] = AddMonths(t_, -static_cast<std::int32_t>(index)).utc;
    }
    return at_t_[index];
}

Boundaries::Boundaries(Instant t) : t_(t), first_(MonthIndex(MonthOf(t)) + 2 - kSpan) {}

std::int64_t Boundaries::AtMonth(std::int32_t month, std::int32_t months) {
    if (month < first_ || month >= first_ + kSpan) {
        return WindowBoundaryLocal(month, months);  // far from T: not worth a cache
    }
    std::size_t entry = 0;
    while (entry < windows_.size() && windows_[entry] != months) {
        ++entry;
    }
    if (entry == windows_.size()) {
        windows_.push_back(months);
        at_month_.emplace_back(static_cast<std::size_t>(kSpan), kUnset);
    }
    std::int64_t& value = at_month_[entry][static_cast<std::size_t>(month - first_)];
    if (value == kUnset) {
        value = WindowBoundaryLocal(month, months);
    }
    return value;
}

std::int32_t Boundaries::Leaving(std::int64_t payment_local,
                                 std::int32_t month_of_payment,
                                 std::int32_t months) {
    std::int32_t month = month_of_payment + months;
    while (AtMonth(month, months) < payment_local) {
        ++month;
    }
    return month;
}

QueryContext MakeContext(const Settings& settings, Instant t) {
    QueryContext query;
    query.settings = &settings;
    query.t = t;
    query.windows = WindowsAt(t, settings);
    query.month_of_t = MonthIndex(MonthOf(t));
    query.boundaries = std::make_shared<Boundaries>(t);
    return query;
}

// ---------------------------------------------------------------------------------------------

Moment::Moment(const ClientView& client, const QueryContext& query, const TierScale& scale)
    : client_(client), query_(query), scale_(scale) {
    today_ = DayOf(query.t.LocalSeconds());
    count_ = PaymentsUpToUtc(client.facts->payments, query.t.utc);
}

Moment::Moment(const ClientView& client,
               const LocalPayments& local,
               std::int32_t month,
               const QueryContext& query,
               const TierScale& scale)
    : client_(client), query_(query), scale_(scale), local_(&local), month_(month) {
    end_local_ = MonthEndLocal(month);
    today_ = DayOf(end_local_);
    count_ = local.UpTo(end_local_);
}

Lifecycle Moment::lifecycle() {
    if (lifecycle_) {
        return *lifecycle_;
    }
    const ClientFacts& facts = *client_.facts;
    if (local_ == nullptr) {
        lifecycle_ = Evaluate(facts, query_.t, query_.windows).lifecycle;
        return *lifecycle_;
    }
    // As the series judge a month end (series.cpp, Sweep::At).
    const Settings& settings = *query_.settings;
    Lifecycle result = Lifecycle::kNoContacts;
    if (count_ > 0) {
        const std::int64_t last = local_->local[count_ - 1];
        Boundaries& boundaries = *query_.boundaries;
        if (last > boundaries.AtMonth(month_, WindowMonths(settings.active_months))) {
            result = Lifecycle::kActive;
        } else if (last > boundaries.AtMonth(month_, WindowMonths(settings.lost_months))) {
            result = Lifecycle::kSleeping;
        } else {
            result = Lifecycle::kLost;
        }
    } else if (facts.first_request_local <= end_local_) {
        result = Lifecycle::kRequests;
    } else if (facts.first_dialog_local <= end_local_) {
        result = Lifecycle::kDialogs;
    } else {
        result = facts.channels ? Lifecycle::kContacts : Lifecycle::kNoContacts;
    }
    lifecycle_ = result;
    return result;
}

Frequency Moment::frequency() {
    return count_ >= 2 ? Frequency::kRegular : (count_ == 1 ? Frequency::kFirst : Frequency::kNone);
}

std::int32_t Moment::scale_tier() {
    return scale_.TierOf(turnover(0));
}

std::int32_t Moment::tier() {
    const std::int32_t index = scale_tier();
    if (index < 0) {
        return -1;
    }
    return static_cast<std::size_t>(index) < tier_map_.size()
               ? tier_map_[static_cast<std::size_t>(index)]
               : -2;
}

std::optional<std::int64_t> Moment::last_payment_day() const {
    if (count_ == 0) {
        return std::nullopt;
    }
    if (local_ != nullptr) {
        return DayOf(local_->local[count_ - 1]);
    }
    return DayOf(client_.facts->payments[count_ - 1].date.LocalSeconds());
}

std::optional<std::int64_t> Moment::days_since_payment() const {
    const auto day = last_payment_day();
    return day ? std::optional<std::int64_t>(today_ - *day) : std::nullopt;
}

std::int64_t Moment::turnover(std::int32_t months) {
    const bool window = months == 0;
    if (window && window_turnover_) {
        return *window_turnover_;
    }
    const std::int32_t length = WindowMonths(window ? query_.settings->turnover_months : months);
    std::int64_t result = 0;
    if (local_ != nullptr) {
        result = local_->Between(local_->UpTo(query_.boundaries->AtMonth(month_, length)), count_);
    } else {
        result = TurnoverBetween(*client_.facts, query_.boundaries->AtT(length), query_.t.utc);
    }
    if (window) {
        window_turnover_ = result;
    }
    return result;
}

std::int64_t Moment::lifetime() const {
    return local_ != nullptr ? local_->Between(0, count_)
                             : AmountBetween(*client_.facts, 0, count_);
}

bool Moment::has_dialogs() const {
    return local_ != nullptr ? client_.facts->first_dialog_local <= end_local_
                             : client_.facts->first_dialog_utc <= query_.t.utc;
}

std::int64_t Moment::responsible() const {
    return client_.company != nullptr ? client_.company->assigned_by_id
                                      : client_.contact->assigned_by_id;
}

std::string_view Moment::type() const {
    return client_.company != nullptr ? client_.company->type_id : client_.contact->type_id;
}

std::string_view Moment::industry() const {
    return client_.company != nullptr ? std::string_view(client_.company->industry)
                                      : std::string_view();
}

std::string_view Moment::source() const {
    return client_.company != nullptr ? client_.company->source_id : client_.contact->source_id;
}

namespace {

bool SameName(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(a[i])) !=
            std::toupper(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

const std::vector<FieldValues>& FieldsOf(const Contact* contact, const Company* company) {
    return company != nullptr ? company->fields : contact->fields;
}

}  // namespace

std::span<const std::string> Moment::field(std::string_view name) const {
    for (const FieldValues& field : FieldsOf(client_.contact, client_.company)) {
        if (SameName(field.name, name)) {
            return field.values;
        }
    }
    return {};
}

void DimensionValuesOf(const Contact* contact,
                       const Company* company,
                       const Dimension& dimension,
                       std::vector<std::string>& out) {
    out.clear();
    switch (dimension.kind) {
        case DimensionKind::kType:
            out.push_back(company != nullptr ? company->type_id : contact->type_id);
            return;
        case DimensionKind::kIndustry:
            out.push_back(company != nullptr ? company->industry : std::string());
            return;
        case DimensionKind::kSource:
            out.push_back(company != nullptr ? company->source_id : contact->source_id);
            return;
        case DimensionKind::kResponsible: {
            const std::int64_t user =
                company != nullptr ? company->assigned_by_id : contact->assigned_by_id;
            out.push_back(user > 0 ? std::to_string(user) : std::string());
            return;
        }
        case DimensionKind::kField:
            for (const FieldValues& field : FieldsOf(contact, company)) {
                if (SameName(field.name, dimension.field)) {
                    out.insert(out.end(), field.values.begin(), field.values.end());
                }
            }
            // A value set twice is one cell.
            std::sort(out.begin(), out.end());
            out.erase(std::unique(out.begin(), out.end()), out.end());
            if (out.empty()) {
                out.emplace_back();
            }
            return;
    }
}

// ---------------------------------------------------------------------------------------------

CountSweep::CountSweep(std::int32_t first,
                       std::int32_t last,
                       std::size_t cells,
                       std::size_t categories)
    : first_(first), last_(last), categories_(categories) {
    counts_.assign(cells, std::vector<std::vector<std::int64_t>>(
                              categories, std::vector<std::int64_t>(
                                              static_cast<std::size_t>(last - first + 1), 0)));
}

void CountSweep::Change(std::size_t cell,
                        std::int32_t category,
                        std::int32_t month,
                        std::int64_t delta) {
    if (category < 0 || month >= last_) {
        return;
    }
    counts_[cell][static_cast<std::size_t>(category)][static_cast<std::size_t>(month - first_)] +=
        delta;
}

void CountSweep::Today(std::size_t cell, std::int32_t category) {
    if (category >= 0) {
        counts_[cell][static_cast<std::size_t>(category)].back() += 1;
    }
}

std::vector<std::vector<std::vector<std::int64_t>>> CountSweep::Finish() {
    for (auto& cell : counts_) {
        for (auto& values : cell) {
            std::int64_t running = 0;
            for (std::size_t i = 0; i + 1 < values.size(); ++i) {
                running += values[i];
                values[i] = running;
            }
        }
    }
    return std::move(counts_);
}

// ---------------------------------------------------------------------------------------------

Timing TierTiming(const Settings& settings) {
    Timing timing;
    if (settings.tiers.empty()) {
        timing.rank_window = WindowMonths(settings.turnover_months);
    } else {
        timing.windows.push_back(WindowMonths(settings.turnover_months));
    }
    return timing;
}

void Merge(Timing& into, const Timing& other) {
    into.lifecycle = into.lifecycle || other.lifecycle;
    into.payments = into.payments || other.payments;
    into.dialogs = into.dialogs || other.dialogs;
    into.every_month = into.every_month || other.every_month;
    into.every_month_after_payment =
        into.every_month_after_payment || other.every_month_after_payment;
    into.windows.insert(into.windows.end(), other.windows.begin(), other.windows.end());
    into.rank_window = std::max(into.rank_window, other.rank_window);
}

Timing TimingOf(const CompiledRule::Program& program, const Settings& settings) {
    const CompiledRule::Program::Timing& rule = program.timing;
    Timing timing;
    timing.lifecycle = rule.lifecycle;
    timing.payments = rule.payments;
    timing.dialogs = rule.dialogs;
    timing.every_month = rule.created_days;
    timing.every_month_after_payment = rule.payment_days;
    for (const std::int32_t months : rule.windows) {
        timing.windows.push_back(WindowMonths(months == 0 ? settings.turnover_months : months));
    }
    if (rule.tier) {
        Merge(timing, TierTiming(settings));
    }
    return timing;
}

void ChangeMonths(const ClientFacts& facts,
                  const LocalPayments& local,
                  std::int32_t exists,
                  std::int32_t last,
                  const Settings& settings,
                  const Timing& timing,
                  Boundaries& boundaries,
                  std::vector<std::int32_t>& out) {
    out.clear();
    out.push_back(exists);
    if (timing.every_month) {
        for (std::int32_t month = exists + 1; month < last; ++month) {
            out.push_back(month);
        }
        return;  // every month is in already (none at or after `last`)
    }
    const bool any_payment_month = timing.lifecycle || timing.payments || !timing.windows.empty() ||
                                   timing.rank_window > 0 || timing.every_month_after_payment;
    if (any_payment_month) {
        for (const std::int64_t payment : local.local) {
            out.push_back(MonthIndexOfLocal(payment));
        }
    }
    if (timing.every_month_after_payment && !local.local.empty()) {
        for (std::int32_t month = MonthIndexOfLocal(local.local.front()); month < last; ++month) {
            out.push_back(month);
        }
    }
    if (timing.lifecycle) {
        const std::int32_t active = WindowMonths(settings.active_months);
        const std::int32_t lost = WindowMonths(settings.lost_months);
        for (const std::int64_t payment : local.local) {
            const std::int32_t month = MonthIndexOfLocal(payment);
            out.push_back(boundaries.Leaving(payment, month, active));
            out.push_back(boundaries.Leaving(payment, month, lost));
        }
        out.push_back(MonthOfLocalOr(facts.first_request_local, last));
    }
    if (timing.lifecycle || timing.dialogs) {
        out.push_back(MonthOfLocalOr(facts.first_dialog_local, last));
    }
    for (const std::int32_t months : timing.windows) {
        for (const std::int64_t payment : local.local) {
            out.push_back(boundaries.Leaving(payment, MonthIndexOfLocal(payment), months));
        }
    }
    if (timing.rank_window > 0) {
        // Every month from a payment until it leaves the window: the ranking moves every month.
        std::int32_t done = exists - 1;
        for (const std::int64_t payment : local.local) {
            const std::int32_t from = std::max(done + 1, MonthIndexOfLocal(payment));
            const std::int32_t to = std::min(
                last - 1,
                boundaries.Leaving(payment, MonthIndexOfLocal(payment), timing.rank_window));
            for (std::int32_t month = from; month <= to; ++month) {
                out.push_back(month);
            }
            done = std::max(done, to);
        }
    }
    for (std::int32_t& month : out) {
        month = std::max(month, exists);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    while (!out.empty() && out.back() >= last) {
        out.pop_back();
    }
}

const TierScale& MonthlyScales::At(std::int32_t month) const {
    if (fixed) {
        return scales.front();
    }
    const auto index = static_cast<std::size_t>(
        std::clamp<std::int32_t>(month - first, 0, static_cast<std::int32_t>(scales.size()) - 1));
    return scales[index];
}

}  // namespace segmenter::detail
