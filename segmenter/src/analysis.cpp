// Tiers over time, rule segments, breakdowns, drill-down selections, movement and histories
// (README: "Tiers", "Rule segments", "Breakdowns", "Movement", "History").

#include <algorithm>
#include <cassert>
#include <map>
#include <unordered_map>

#include "index_impl.hpp"
#include "rule_program.hpp"
#include "timeline.hpp"

namespace segmenter {

using detail::ClientView;
using detail::CompanyKey;
using detail::ContactKey;
using detail::CountSweep;
using detail::LocalPayments;
using detail::Moment;
using detail::MonthlyScales;
using detail::QueryContext;

namespace {

// For a rule, the index of each scale tier among the tiers the rule was compiled with (-2 if the
// rule does not know it: then it equals no tier the rule names).
std::vector<std::int32_t> TierMap(const CompiledRule::Program& program, const TierScale& scale) {
    std::vector<std::int32_t> map(scale.codes.size(), -2);
    for (std::size_t i = 0; i < scale.codes.size(); ++i) {
        const auto found = std::find(program.tiers.begin(), program.tiers.end(), scale.codes[i]);
        if (found != program.tiers.end()) {
            map[i] = static_cast<std::int32_t>(found - program.tiers.begin());
        }
    }
    return map;
}

bool Meets(const CompiledRule::Program& program,
           std::span<const std::int32_t> tier_map,
           Moment& moment) {
    moment.set_tier_map(tier_map);
    return RuleEvaluator<Moment>(program, moment).Run();
}

// Breakdown cells: every value that occurs, "" first, responsible users by number.
class Cells {
public:
    explicit Cells(const Dimension& dimension) : dimension_(dimension) {}

    void Collect(const Contact* contact, const Company* company) {
        detail::DimensionValuesOf(contact, company, dimension_, scratch_);
        for (std::string& value : scratch_) {
            index_.emplace(std::move(value), 0);
        }
    }

    // Fixes the order; call after every Collect.
    void Seal() {
        names_.clear();
        for (const auto& entry : index_) {
            names_.push_back(entry.first);
        }
        const bool numeric = dimension_.kind == DimensionKind::kResponsible;
        std::sort(names_.begin(), names_.end(), [&](const std::string& a, const std::string& b) {
            if (a.empty() != b.empty()) {
                return a.empty();
            }
            if (numeric && a.size() != b.size()) {
                return a.size() < b.size();
            }
            return a < b;
        });
        for (std::size_t i = 0; i < names_.size(); ++i) {
            index_[names_[i]] = i;
        }
    }

    void Of(const Contact* contact, const Company* company, std::vector<std::size_t>& out) {
        detail::DimensionValuesOf(contact, company, dimension_, scratch_);
        out.clear();
        for (const std::string& value : scratch_) {
            out.push_back(index_.at(value));
        }
    }

    std::size_t size() const { return names_.size(); }
    const std::vector<std::string>& names() const { return names_; }

private:
    Dimension dimension_;
    std::unordered_map<std::string, std::size_t> index_;
    std::vector<std::string> names_;
    std::vector<std::string> scratch_;
};

std::string SeriesName(Series series) {
    return std::string(ModeId(series)) + "." + std::string(SeriesId(series));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Scales and the generic sweep.

namespace detail {

// Sweeps every client over the months of [sweep.first(), the month of T]: evaluates
// category(Moment&) at the months `timing` says it can change, and at T itself.
template <class CellsFn, class CategoryFn>
void SweepClients(const PortalIndex::Impl& impl,
                  const QueryContext& query,
                  const MonthlyScales& scales,
                  const Timing& timing,
                  CountSweep& sweep,
                  CellsFn&& cells_of,
                  CategoryFn&& category) {
    LocalPayments local;
    std::vector<std::int32_t> months;
    std::vector<std::size_t> cells;
    impl.ForEachClient([&](const ClientView& client) {
        cells_of(client, cells);
        const std::int32_t exists =
            std::max(sweep.first(), MonthIndexOfLocal(client.created.LocalSeconds()));
        if (exists < sweep.last()) {
            local.Load(*client.facts);
            ChangeMonths(*client.facts, local, exists, sweep.last(), *query.settings, timing,
                         *query.boundaries, months);
            std::int32_t previous = -1;
            bool counted = false;
            for (const std::int32_t month : months) {
                Moment moment(client, local, month, query, scales.At(month));
                const std::int32_t now = category(moment);
                if (counted && now == previous) {
                    continue;
                }
                for (const std::size_t cell : cells) {
                    if (counted) {
                        sweep.Change(cell, previous, month, -1);
                    }
                    sweep.Change(cell, now, month, +1);
                }
                previous = now;
                counted = true;
            }
        }
        if (client.created.utc <= query.t.utc) {
            Moment moment(client, query, scales.At(query.month_of_t));
            const std::int32_t now = category(moment);
            for (const std::size_t cell : cells) {
                sweep.Today(cell, now);
            }
        }
    });
}

}  // namespace detail

namespace {

// The tier scales of every month from `first` to the month of T.
MonthlyScales ScalesFrom(const PortalIndex::Impl& impl,
                         const Settings& settings,
                         std::int32_t first,
                         const QueryContext& query) {
    MonthlyScales out;
    out.first = first;
    if (!settings.tiers.empty()) {
        out.fixed = true;
        out.scales.push_back(detail::AdminScale(settings.tiers));
        return out;
    }
    const std::int32_t last = query.month_of_t;
    const std::int32_t window = detail::WindowMonths(settings.turnover_months);
    const auto months = static_cast<std::size_t>(std::max(0, last - first));
    std::vector<std::int64_t> boundary(months);
    std::vector<std::int64_t> end(months);
    for (std::size_t i = 0; i < months; ++i) {
        const std::int32_t month = first + static_cast<std::int32_t>(i);
        boundary[i] = detail::WindowBoundaryLocal(month, window);
        end[i] = detail::MonthEndLocal(month);
    }
    // (month offset, turnover) of every client and month with turnover > 0, then bucketed.
    std::vector<std::pair<std::uint32_t, std::int64_t>> entries;
    LocalPayments local;
    impl.ForEachClient([&](const ClientView& client) {
        if (client.facts->payments.empty()) {
            return;
        }
        const std::int32_t exists =
            std::max(first, detail::MonthIndexOfLocal(client.created.LocalSeconds()));
        local.Load(*client.facts);
        std::int32_t done = exists - 1;
        for (const std::int64_t payment : local.local) {
            const std::int32_t month = detail::MonthIndexOfLocal(payment);
            const std::int32_t from = std::max(done + 1, month);
            const std::int32_t to =
                std::min(last - 1, detail::MonthLeavingWindow(payment, month, window) - 1);
            for (std::int32_t m = from; m <= to; ++m) {
                const auto i = static_cast<std::size_t>(m - first);
                const std::int64_t turnover =
                    local.Between(local.UpTo(boundary[i]), local.UpTo(end[i]));
                if (turnover > 0) {
                    entries.emplace_back(static_cast<std::uint32_t>(i), turnover);
                }
            }
            done = std::max(done, to);
        }
    });
    std::vector<std::size_t> start(months + 1, 0);
    for (const auto& entry : entries) {
        ++start[entry.first + 1];
    }
    for (std::size_t i = 0; i < months; ++i) {
        start[i + 1] += start[i];
    }
    std::vector<std::int64_t> values(entries.size());
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (const auto& entry : entries) {
        values[fill[entry.first]++] = entry.second;
    }
    out.scales.reserve(months + 1);
    for (std::size_t i = 0; i < months; ++i) {
        out.scales.push_back(detail::RankScale(
            std::span<std::int64_t>(values.data() + start[i], start[i + 1] - start[i])));
    }
    out.scales.push_back(impl.TiersAt(query.t));
    return out;
}

// The scale at the end of one month before the month of T.
TierScale ScaleAtMonth(const PortalIndex::Impl& impl,
                       const Settings& settings,
                       std::int32_t month) {
    if (!settings.tiers.empty()) {
        return detail::AdminScale(settings.tiers);
    }
    const std::int32_t window = detail::WindowMonths(settings.turnover_months);
    const std::int64_t boundary = detail::WindowBoundaryLocal(month, window);
    const std::int64_t end = detail::MonthEndLocal(month);
    std::vector<std::int64_t> positive;
    LocalPayments local;
    impl.ForEachClient([&](const ClientView& client) {
        if (client.facts->payments.empty() ||
            detail::MonthIndexOfLocal(client.created.LocalSeconds()) > month) {
            return;
        }
        local.Load(*client.facts);
        const std::int64_t turnover = local.Between(local.UpTo(boundary), local.UpTo(end));
        if (turnover > 0) {
            positive.push_back(turnover);
        }
    });
    return detail::RankScale(positive);
}

Breakdown MakeBreakdown(std::int32_t first,
                        std::int32_t last,
                        std::vector<std::string> cells,
                        std::vector<std::string> series) {
    Breakdown out;
    out.first_month = FromMonthIndex(first);
    out.month_count = static_cast<std::size_t>(last - first + 1);
    out.cells = std::move(cells);
    out.series = std::move(series);
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Tiers.

TierSeries PortalIndex::Impl::Tiers(Instant t) const {
    const QueryContext query = detail::MakeContext(settings_, t);
    const std::int32_t first = FirstMonth(query.month_of_t);
    const MonthlyScales scales = ScalesFrom(*this, settings_, first, query);
    const std::vector<std::string> codes = scales.At(query.month_of_t).codes;
    const auto none = static_cast<std::int32_t>(codes.size());
    CountSweep sweep(first, query.month_of_t, 1, codes.size() + 1);
    detail::SweepClients(
        *this, query, scales, detail::TierTiming(settings_), sweep,
        [](const ClientView&, std::vector<std::size_t>& cells) { cells.assign(1, 0); },
        [&](Moment& moment) {
            const std::int32_t tier = moment.scale_tier();
            return tier < 0 ? none : tier;
        });
    TierSeries out;
    out.first_month = FromMonthIndex(first);
    out.month_count = static_cast<std::size_t>(query.month_of_t - first + 1);
    out.codes = codes;
    out.values = std::move(sweep.Finish().front());
    return out;
}

// ---------------------------------------------------------------------------------------------
// Rule segments.

std::vector<segmenter::Card> PortalIndex::Impl::AllCards(Instant t,
                                                         std::span<const RuleSegment> rules) const {
    std::vector<segmenter::Card> cards = AllCards(t);
    if (rules.empty()) {
        return cards;
    }
    const QueryContext query = detail::MakeContext(settings_, t);
    const TierScale scale = TiersAt(t);
    std::vector<std::vector<std::int32_t>> maps;
    for (const RuleSegment& rule : rules) {
        maps.push_back(TierMap(rule.rule.program(), scale));
    }
    // Client key -> the indices of the rules it meets.
    detail::FlatMap<std::vector<std::uint32_t>> met;
    ForEachClient([&](const ClientView& client) {
        Moment moment(client, query, scale);
        for (std::size_t r = 0; r < rules.size(); ++r) {
            if (Meets(rules[r].rule.program(), maps[r], moment)) {
                met[client.key].push_back(static_cast<std::uint32_t>(r));
            }
        }
    });
    for (segmenter::Card& card : cards) {
        std::int64_t key = detail::kNoKey;
        if (card.values.role == Role::kClient) {
            key = card.ref.kind == CardKind::kCompany ? CompanyKey(card.ref.id)
                                                      : ContactKey(card.ref.id);
        } else if (card.values.role == Role::kMember) {
            key = CompanyKey(card.values.parent_company);
        }
        if (key == detail::kNoKey) {
            continue;
        }
        if (const std::vector<std::uint32_t>* found = met.find(key)) {
            for (const std::uint32_t r : *found) {
                card.values.rule_segments.push_back(rules[r].code);
            }
        }
    }
    return cards;
}

std::vector<CardRef> PortalIndex::Impl::RuleMembers(const CompiledRule& rule, Instant t) const {
    const QueryContext query = detail::MakeContext(settings_, t);
    const TierScale scale = TiersAt(t);
    const std::vector<std::int32_t> map = TierMap(rule.program(), scale);
    std::vector<CardRef> members;
    ForEachClient([&](const ClientView& client) {
        if (client.created.utc > t.utc) {
            return;
        }
        Moment moment(client, query, scale);
        if (Meets(rule.program(), map, moment)) {
            members.push_back(client.card);
        }
    });
    std::sort(members.begin(), members.end());
    return members;
}

std::int64_t PortalIndex::Impl::RuleCount(const CompiledRule& rule, Instant t) const {
    return static_cast<std::int64_t>(RuleMembers(rule, t).size());
}

RuleSegmentSeries PortalIndex::Impl::RuleSeries(std::span<const RuleSegment> rules,
                                                Instant t) const {
    const QueryContext query = detail::MakeContext(settings_, t);
    const std::int32_t first = FirstMonth(query.month_of_t);
    RuleSegmentSeries out;
    out.first_month = FromMonthIndex(first);
    out.month_count = static_cast<std::size_t>(query.month_of_t - first + 1);
    const bool tiers = std::any_of(rules.begin(), rules.end(), [](const RuleSegment& rule) {
        return rule.rule.program().timing.tier;
    });
    MonthlyScales scales;
    if (tiers) {
        scales = ScalesFrom(*this, settings_, first, query);
    } else {
        scales.fixed = true;  // no rule reads it: any scale will do
        scales.scales.push_back(TierScale{});
    }
    for (const RuleSegment& rule : rules) {
        const CompiledRule::Program& program = rule.rule.program();
        const std::vector<std::int32_t> map = TierMap(program, scales.At(query.month_of_t));
        CountSweep sweep(first, query.month_of_t, 1, 1);
        detail::SweepClients(
            *this, query, scales, detail::TimingOf(program, settings_), sweep,
            [](const ClientView&, std::vector<std::size_t>& cells) { cells.assign(1, 0); },
            [&](Moment& moment) { return Meets(program, map, moment) ? 0 : -1; });
        out.codes.push_back(rule.code);
        out.values.push_back(std::move(sweep.Finish().front().front()));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Breakdowns.

Breakdown PortalIndex::Impl::BreakdownSeries(const Dimension& dimension, Instant t) const {
    Cells cells(dimension);
    for (const detail::ContactRow& row : contacts_.rows()) {
        if (row.alive) {
            cells.Collect(&row.data, nullptr);
        }
    }
    for (const detail::CompanyRow& row : companies_.rows()) {
        if (row.alive && !row.data.is_my_company) {
            cells.Collect(nullptr, &row.data);
        }
    }
    cells.Seal();
    std::vector<MonthlySeries> series =
        SeriesByCell(t, std::max<std::size_t>(cells.size(), 1),
                     [&](const Contact* contact, const Company* company,
                         std::vector<std::size_t>& out) { cells.Of(contact, company, out); });
    std::vector<std::string> names;
    for (std::size_t s = 0; s < kSeriesCount; ++s) {
        names.push_back(SeriesName(static_cast<segmenter::Series>(s)));
    }
    const std::int32_t last = MonthIndex(MonthOf(t));
    Breakdown out = MakeBreakdown(MonthIndex(series.front().first_month), last, cells.names(),
                                  std::move(names));
    for (std::size_t c = 0; c < cells.size(); ++c) {
        out.counts.emplace_back(series[c].values.begin(), series[c].values.end());
    }
    return out;
}

Breakdown PortalIndex::Impl::BreakdownTiers(const Dimension& dimension, Instant t) const {
    const QueryContext query = detail::MakeContext(settings_, t);
    const std::int32_t first = FirstMonth(query.month_of_t);
    Cells cells(dimension);
    ForEachClient([&](const ClientView& client) { cells.Collect(client.contact, client.company); });
    cells.Seal();
    const MonthlyScales scales = ScalesFrom(*this, settings_, first, query);
    std::vector<std::string> codes = scales.At(query.month_of_t).codes;
    const auto none = static_cast<std::int32_t>(codes.size());
    CountSweep sweep(first, query.month_of_t, cells.size(), codes.size() + 1);
    detail::SweepClients(
        *this, query, scales, detail::TierTiming(settings_), sweep,
        [&](const ClientView& client, std::vector<std::size_t>& out) {
            cells.Of(client.contact, client.company, out);
        },
        [&](Moment& moment) {
            const std::int32_t tier = moment.scale_tier();
            return tier < 0 ? none : tier;
        });
    codes.emplace_back();
    Breakdown out = MakeBreakdown(first, query.month_of_t, cells.names(), std::move(codes));
    out.counts = sweep.Finish();
    return out;
}

Breakdown PortalIndex::Impl::BreakdownRule(const RuleSegment& rule,
                                           const Dimension& dimension,
                                           Instant t) const {
    const QueryContext query = detail::MakeContext(settings_, t);
    const std::int32_t first = FirstMonth(query.month_of_t);
    Cells cells(dimension);
    ForEachClient([&](const ClientView& client) { cells.Collect(client.contact, client.company); });
    cells.Seal();
    const CompiledRule::Program& program = rule.rule.program();
    MonthlyScales scales;
    if (program.timing.tier) {
        scales = ScalesFrom(*this, settings_, first, query);
    } else {
        scales.fixed = true;
        scales.scales.push_back(TierScale{});
    }
    const std::vector<std::int32_t> map = TierMap(program, scales.At(query.month_of_t));
    CountSweep sweep(first, query.month_of_t, cells.size(), 1);
    detail::SweepClients(
        *this, query, scales, detail::TimingOf(program, settings_), sweep,
        [&](const ClientView& client, std::vector<std::size_t>& out) {
            cells.Of(client.contact, client.company, out);
        },
        [&](Moment& moment) { return Meets(program, map, moment) ? 0 : -1; });
    Breakdown out = MakeBreakdown(first, query.month_of_t, cells.names(), {rule.code});
    out.counts = sweep.Finish();
    return out;
}

std::vector<std::string> PortalIndex::Impl::DimensionValues(CardRef card,
                                                            const Dimension& dimension) const {
    std::vector<std::string> values;
    if (card.kind == CardKind::kCompany) {
        if (const detail::CompanyRow* row = companies_.get(card.id)) {
            detail::DimensionValuesOf(nullptr, &row->data, dimension, values);
        }
    } else if (const detail::ContactRow* row = contacts_.get(card.id)) {
        detail::DimensionValuesOf(&row->data, nullptr, dimension, values);
    }
    return values;
}

std::vector<CardRef> PortalIndex::Impl::Members(const Selection& selection, Instant t) const {
    std::vector<CardRef> out;
    std::vector<std::string> values;
    const auto in_cell = [&](const Contact* contact, const Company* company) {
        if (!selection.dimension) {
            return true;
        }
        detail::DimensionValuesOf(contact, company, *selection.dimension, values);
        return std::find(values.begin(), values.end(), selection.value) != values.end();
    };
    const QueryContext query = detail::MakeContext(settings_, t);
    const TierScale scale = TiersAt(t);

    if (selection.kind == Selection::Kind::kSeries &&
        (selection.series == Series::kContacts || selection.series == Series::kCompanies)) {
        // The directories list cards, members included.
        if (selection.series == Series::kContacts) {
            for (const detail::ContactRow& row : contacts_.rows()) {
                if (row.alive && row.data.created.utc <= t.utc && in_cell(&row.data, nullptr)) {
                    out.push_back({CardKind::kContact, row.data.id});
                }
            }
        } else {
            for (const detail::CompanyRow& row : companies_.rows()) {
                if (row.alive && !row.data.is_my_company && row.data.created.utc <= t.utc &&
                    in_cell(nullptr, &row.data)) {
                    out.push_back({CardKind::kCompany, row.data.id});
                }
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::vector<std::int32_t> map;
    if (selection.kind == Selection::Kind::kRule && selection.rule) {
        map = TierMap(selection.rule->program(), scale);
    }
    ForEachClient([&](const ClientView& client) {
        if (client.created.utc > t.utc || !in_cell(client.contact, client.company)) {
            return;
        }
        bool member = false;
        switch (selection.kind) {
            case Selection::Kind::kSeries: {
                const std::optional<CardValues> card = Card(client.card, t, scale);
                member = card && InSeries(selection.series, client.card.kind, *card);
                break;
            }
            case Selection::Kind::kTier: {
                Moment moment(client, query, scale);
                const std::int32_t tier = moment.scale_tier();
                member = tier < 0 ? selection.tier.empty()
                                  : scale.codes[static_cast<std::size_t>(tier)] == selection.tier;
                break;
            }
            case Selection::Kind::kRule: {
                if (selection.rule) {
                    Moment moment(client, query, scale);
                    member = Meets(selection.rule->program(), map, moment);
                }
                break;
            }
        }
        if (member) {
            out.push_back(client.card);
        }
    });
    std::sort(out.begin(), out.end());
    return out;
}

// ---------------------------------------------------------------------------------------------
// Movement and history.

std::optional<StateSnapshot> PortalIndex::Impl::States(YearMonth month, Instant t) const {
    const QueryContext query = detail::MakeContext(settings_, t);
    const std::int32_t index = MonthIndex(month);
    if (index > query.month_of_t) {
        return std::nullopt;
    }
    const bool today = index == query.month_of_t;
    const TierScale scale = today ? TiersAt(t) : ScaleAtMonth(*this, settings_, index);
    StateSnapshot out;
    out.month = month;
    LocalPayments local;
    ForEachClient([&](const ClientView& client) {
        const bool exists = today
                                ? client.created.utc <= t.utc
                                : detail::MonthIndexOfLocal(client.created.LocalSeconds()) <= index;
        if (!exists) {
            return;
        }
        ClientState state;
        state.client = client.card;
        const auto fill = [&](Moment& moment) {
            state.lifecycle = moment.lifecycle();
            state.frequency = moment.frequency();
            const std::int32_t tier = moment.scale_tier();
            if (tier >= 0) {
                state.tier = scale.codes[static_cast<std::size_t>(tier)];
            }
        };
        if (today) {
            Moment moment(client, query, scale);
            fill(moment);
        } else {
            local.Load(*client.facts);
            Moment moment(client, local, index, query, scale);
            fill(moment);
        }
        out.clients.push_back(std::move(state));
    });
    std::sort(out.clients.begin(), out.clients.end(),
              [](const ClientState& a, const ClientState& b) { return a.client < b.client; });
    return out;
}

std::optional<ClientHistory> PortalIndex::Impl::History(CardRef card, Instant t) const {
    // The client whose history the card shows.
    std::optional<ClientView> found;
    if (card.kind == CardKind::kCompany) {
        const detail::CompanyRow* row = companies_.get(card.id);
        if (row == nullptr || row->data.is_my_company) {
            return std::nullopt;
        }
        found = ClientView{CompanyKey(card.id), card,    row->data.created,
                           &row->facts,         nullptr, &row->data,
                           ClientType::kB2B};
    } else {
        const detail::ContactRow* row = contacts_.get(card.id);
        if (row == nullptr) {
            return std::nullopt;
        }
        if (row->primary == 0) {
            found = ClientView{ContactKey(card.id), card,    row->data.created, &row->facts,
                               &row->data,          nullptr, ClientType::kB2C};
        } else {
            const detail::CompanyRow* company = companies_.get(row->primary);
            if (company == nullptr) {
                return std::nullopt;  // unreachable: a primary company always exists
            }
            found = ClientView{CompanyKey(row->primary),
                               {CardKind::kCompany, row->primary},
                               company->data.created,
                               &company->facts,
                               nullptr,
                               &company->data,
                               ClientType::kB2B};
        }
    }
    const ClientView& client = *found;
    const QueryContext query = detail::MakeContext(settings_, t);
    ClientHistory out;
    out.card = card;
    out.client = client.card;
    const std::int32_t exists = detail::MonthIndexOfLocal(client.created.LocalSeconds());
    if (exists > query.month_of_t || (exists == query.month_of_t && client.created.utc > t.utc)) {
        return out;
    }
    const MonthlyScales scales = ScalesFrom(*this, settings_, exists, query);
    LocalPayments local;
    local.Load(*client.facts);
    for (std::int32_t month = exists; month <= query.month_of_t; ++month) {
        const TierScale& scale = scales.At(month);
        const bool today = month == query.month_of_t;
        std::optional<Moment> moment;
        if (today) {
            moment.emplace(client, query, scale);
        } else {
            moment.emplace(client, local, month, query, scale);
        }
        HistoryMonth entry;
        entry.month = FromMonthIndex(month);
        entry.state.client = client.card;
        entry.state.lifecycle = moment->lifecycle();
        entry.state.frequency = moment->frequency();
        const std::int32_t tier = moment->scale_tier();
        if (tier >= 0) {
            entry.state.tier = scale.codes[static_cast<std::size_t>(tier)];
        }
        entry.payments = moment->payments();
        entry.turnover = moment->turnover(0);
        out.months.push_back(std::move(entry));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Pure functions on snapshots.

namespace {

std::vector<std::string> StateLabels(const StateSnapshot& from,
                                     const StateSnapshot& to,
                                     StateKind kind,
                                     std::span<const std::string> tier_codes) {
    std::vector<std::string> labels;
    switch (kind) {
        case StateKind::kLifecycle:
            for (int i = 0; i <= static_cast<int>(Lifecycle::kNoContacts); ++i) {
                labels.emplace_back(XmlId(static_cast<Lifecycle>(i)));
            }
            return labels;
        case StateKind::kFrequency:
            for (int i = 0; i <= static_cast<int>(Frequency::kNone); ++i) {
                labels.emplace_back(XmlId(static_cast<Frequency>(i)));
            }
            return labels;
        case StateKind::kTier: {
            labels.assign(tier_codes.begin(), tier_codes.end());
            std::vector<std::string> extra;
            for (const StateSnapshot* snapshot : {&from, &to}) {
                for (const ClientState& state : snapshot->clients) {
                    if (!state.tier.empty() &&
                        std::find(labels.begin(), labels.end(), state.tier) == labels.end()) {
                        extra.push_back(state.tier);
                    }
                }
            }
            std::sort(extra.begin(), extra.end());
            extra.erase(std::unique(extra.begin(), extra.end()), extra.end());
            labels.insert(labels.end(), extra.begin(), extra.end());
            labels.emplace_back();  // no tier
            return labels;
        }
    }
    return labels;
}

std::size_t StateIndex(const ClientState& state,
                       StateKind kind,
                       const std::vector<std::string>& labels) {
    switch (kind) {
        case StateKind::kLifecycle:
            return static_cast<std::size_t>(state.lifecycle);
        case StateKind::kFrequency:
            return static_cast<std::size_t>(state.frequency);
        case StateKind::kTier:
            return static_cast<std::size_t>(std::find(labels.begin(), labels.end(), state.tier) -
                                            labels.begin());
    }
    return 0;
}

// Calls f(from state or nullptr, to state or nullptr) for every client in either snapshot.
template <class F>
void Pair(const StateSnapshot& from, const StateSnapshot& to, F&& f) {
    const auto sorted = [](const StateSnapshot& snapshot) {
        std::vector<const ClientState*> states;
        for (const ClientState& state : snapshot.clients) {
            states.push_back(&state);
        }
        std::sort(states.begin(), states.end(),
                  [](const ClientState* a, const ClientState* b) { return a->client < b->client; });
        return states;
    };
    const std::vector<const ClientState*> a = sorted(from);
    const std::vector<const ClientState*> b = sorted(to);
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() || j < b.size()) {
        if (j == b.size() || (i < a.size() && a[i]->client < b[j]->client)) {
            f(a[i++], nullptr);
        } else if (i == a.size() || b[j]->client < a[i]->client) {
            f(nullptr, b[j++]);
        } else {
            f(a[i++], b[j++]);
        }
    }
}

}  // namespace

TransitionMatrix Transitions(const StateSnapshot& from,
                             const StateSnapshot& to,
                             StateKind kind,
                             std::span<const std::string> tier_codes) {
    TransitionMatrix matrix;
    matrix.kind = kind;
    matrix.states = StateLabels(from, to, kind, tier_codes);
    const std::size_t n = matrix.Size();
    const std::size_t absent = n - 1;
    matrix.counts.assign(n * n, 0);
    Pair(from, to, [&](const ClientState* a, const ClientState* b) {
        const std::size_t row = a != nullptr ? StateIndex(*a, kind, matrix.states) : absent;
        const std::size_t column = b != nullptr ? StateIndex(*b, kind, matrix.states) : absent;
        ++matrix.counts[row * n + column];
    });
    return matrix;
}

std::vector<CardRef> TransitionMembers(const StateSnapshot& from,
                                       const StateSnapshot& to,
                                       const TransitionMatrix& matrix,
                                       std::size_t from_state,
                                       std::size_t to_state) {
    std::vector<CardRef> out;
    const std::size_t absent = matrix.Size() - 1;
    Pair(from, to, [&](const ClientState* a, const ClientState* b) {
        const std::size_t row = a != nullptr ? StateIndex(*a, matrix.kind, matrix.states) : absent;
        const std::size_t column =
            b != nullptr ? StateIndex(*b, matrix.kind, matrix.states) : absent;
        if (row == from_state && column == to_state) {
            out.push_back(a != nullptr ? a->client : b->client);
        }
    });
    return out;
}

YearMonth Breakdown::Month(std::size_t i) const {
    return FromMonthIndex(MonthIndex(first_month) + static_cast<std::int32_t>(i));
}

YearMonth RuleSegmentSeries::Month(std::size_t i) const {
    return FromMonthIndex(MonthIndex(first_month) + static_cast<std::int32_t>(i));
}

namespace {
constexpr std::string_view kDimensionIds[] = {"type", "industry", "source", "responsible", "field"};
}  // namespace

std::string_view DimensionId(DimensionKind kind) {
    return kDimensionIds[static_cast<std::size_t>(kind)];
}

std::optional<DimensionKind> DimensionFromId(std::string_view id) {
    for (std::size_t i = 0; i < std::size(kDimensionIds); ++i) {
        if (kDimensionIds[i] == id) {
            return static_cast<DimensionKind>(i);
        }
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// PortalIndex: the shell.

TierScale PortalIndex::TiersAt(Instant t) const {
    return impl_->TiersAt(t);
}
TierSeries PortalIndex::Tiers(Instant t) const {
    return impl_->Tiers(t);
}
std::vector<segmenter::Card> PortalIndex::AllCards(Instant t,
                                                   std::span<const RuleSegment> rules) const {
    return impl_->AllCards(t, rules);
}
std::int64_t PortalIndex::RuleCount(const CompiledRule& rule, Instant t) const {
    return impl_->RuleCount(rule, t);
}
std::vector<CardRef> PortalIndex::RuleMembers(const CompiledRule& rule, Instant t) const {
    return impl_->RuleMembers(rule, t);
}
RuleSegmentSeries PortalIndex::RuleSeries(std::span<const RuleSegment> rules, Instant t) const {
    return impl_->RuleSeries(rules, t);
}
Breakdown PortalIndex::BreakdownSeries(const Dimension& dimension, Instant t) const {
    return impl_->BreakdownSeries(dimension, t);
}
Breakdown PortalIndex::BreakdownTiers(const Dimension& dimension, Instant t) const {
    return impl_->BreakdownTiers(dimension, t);
}
Breakdown PortalIndex::BreakdownRule(const RuleSegment& rule,
                                     const Dimension& dimension,
                                     Instant t) const {
    return impl_->BreakdownRule(rule, dimension, t);
}
std::vector<CardRef> PortalIndex::Members(const Selection& selection, Instant t) const {
    return impl_->Members(selection, t);
}
std::vector<std::string> PortalIndex::DimensionValues(CardRef card,
                                                      const Dimension& dimension) const {
    return impl_->DimensionValues(card, dimension);
}
std::optional<StateSnapshot> PortalIndex::States(YearMonth month, Instant t) const {
    return impl_->States(month, t);
}
std::optional<ClientHistory> PortalIndex::History(CardRef card, Instant t) const {
    return impl_->History(card, t);
}

}  // namespace segmenter
