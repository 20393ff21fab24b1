// segmenter_bench: generates a large portal (85,000 contacts and companies, 100,000 deals,
// 50,000 invoices, 400,000 activities, 12 years of history, amounts in three currencies, list
// fields) and prints how long the segmenter takes to index it and compute every card's values, to
// compute every monthly series, and to apply an incremental batch of changes; then the same with
// turnover tiers and ten rule segments (all card values, the tiers and rule series, breakdowns,
// movement, a history, the rule preview); then the peak resident memory of the process (VmHWM).
//
//   build/release/tests/bench/segmenter/segmenter_bench [runs]
//
// The figures are printed, never asserted: this is not a test.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "segmenter/segmenter.hpp"

namespace {

using namespace segmenter;
using Clock = std::chrono::steady_clock;

constexpr int kContacts = 50'000;
constexpr int kCompanies = 35'000;
constexpr int kOwnCompanies = 3;
constexpr int kDeals = 100'000;
constexpr int kInvoices = 50'000;
constexpr int kActivities = 400'000;
constexpr int kRequisites = 20'000;
constexpr std::int32_t kOffset = 3 * 3600;
constexpr int kMonths = 12 * 12;
const YearMonth kFirstMonth{2014, 11};

double Ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// CPU time of this process in ms. The machine is shared: wall time also counts the time other
// processes held the core, CPU time does not. Both are printed.
double CpuMs() {
    return 1000.0 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

struct Span {
    double wall = 0;
    double cpu = 0;
};

class Timer {
public:
    Span Elapsed() const { return {Ms(Clock::now() - wall_), CpuMs() - cpu_}; }

private:
    Clock::time_point wall_ = Clock::now();
    double cpu_ = CpuMs();
};

// A field of /proc/self/status (VmRSS, VmHWM) in MiB.
double StatusMiB(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string prefix = std::string(field) + ":";
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) == 0) {
            return std::strtod(line.c_str() + prefix.size(), nullptr) / 1024.0;
        }
    }
    return -1;
}

class Generator {
public:
    explicit Generator(std::uint64_t seed) : rng_(seed) {}

    int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

    // A moment in the 12 years, denser in recent years (the base grows).
    Instant When() {
        const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
        const int month = std::min(kMonths - 1, static_cast<int>(kMonths * std::sqrt(u)));
        const YearMonth ym = FromMonthIndex(MonthIndex(kFirstMonth) + month);
        return *MakeInstant(ym.year, ym.month, Int(1, DaysInMonth(ym.year, ym.month)), Int(8, 20),
                            Int(0, 59), Int(0, 59), kOffset);
    }
    Instant Later(Instant from, int max_days) {
        Instant t = from;
        t.utc += static_cast<std::int64_t>(Int(0, max_days)) * 86400 + Int(0, 86399);
        return t;
    }
    double Amount() {
        // Mostly small sales, a few large ones.
        return Chance(0.1) ? Int(50'000, 2'000'000) : Int(500, 60'000) + Int(0, 99) / 100.0;
    }
    std::string CurrencyCode() { return Chance(0.8) ? "" : (Chance(0.7) ? "USD" : "EUR"); }
    std::string OneOf(std::initializer_list<const char*> values) {
        return *(values.begin() + Int(0, static_cast<int>(values.size()) - 1));
    }
    template <class Row>
    void Attributes(Row& row) {
        row.type_id = OneOf({"CLIENT", "CLIENT", "SUPPLIER", "PARTNER", "COMPETITOR", ""});
        row.source_id = OneOf({"WEB", "CALL", "EMAIL", "ADVERTISING", "PARTNER", ""});
        row.assigned_by_id = Int(1, 40);
        if (Chance(0.5)) {
            row.fields.push_back({"UF_CRM_REGION", {OneOf({"NORTH", "SOUTH", "EAST", "WEST"})}});
        }
    }

    std::uint8_t Channels() {
        unsigned flags = 0;
        flags |= Chance(0.55) ? unsigned{kChannelPhone} : 0U;
        flags |= Chance(0.45) ? unsigned{kChannelEmail} : 0U;
        flags |= Chance(0.05) ? unsigned{kChannelImol} : 0U;
        flags |= Chance(0.10) ? unsigned{kChannelWeb} : 0U;
        flags |= Chance(0.05) ? unsigned{kChannelIm} : 0U;
        return static_cast<std::uint8_t>(flags);
    }
    std::int64_t AnyCompany() { return Int(1, kCompanies); }
    std::int64_t AnyContact() { return Int(1, kContacts); }

    Contact MakeContact(std::int64_t id) {
        Contact c;
        c.id = id;
        c.created = When();
        if (Chance(0.4)) {  // 40% work for a company
            c.company_id = AnyCompany();
            c.company_ids.push_back(c.company_id);
            if (Chance(0.1)) {
                c.company_ids.push_back(AnyCompany());
            }
        }
        c.channels = Chance(0.85) ? Channels() : std::uint8_t{0};
        Attributes(c);
        return c;
    }

    PortalData Portal() {
        PortalData p;
        p.companies.reserve(kCompanies);
        for (int i = 1; i <= kCompanies; ++i) {
            const bool own = i <= kOwnCompanies;
            const std::uint8_t channels = Chance(0.8) ? Channels() : std::uint8_t{0};
            Company c{i, When(), own, channels};
            Attributes(c);
            c.industry = OneOf({"IT", "MANUFACTURING", "TELECOM", "BANKING", "RETAIL", ""});
            p.companies.push_back(std::move(c));
        }
        p.contacts.reserve(kContacts);
        for (int i = 1; i <= kContacts; ++i) {
            p.contacts.push_back(MakeContact(i));
        }
        p.deals.reserve(kDeals);
        for (int i = 1; i <= kDeals; ++i) {
            p.deals.push_back(MakeDeal(i));
        }
        p.invoices.reserve(kInvoices);
        for (int i = 1; i <= kInvoices; ++i) {
            p.invoices.push_back(MakeInvoice(i));
        }
        p.activities.reserve(kActivities);
        for (int i = 1; i <= kActivities; ++i) {
            p.activities.push_back(MakeActivity(i));
        }
        p.requisites.reserve(kRequisites);
        for (int i = 1; i <= kRequisites; ++i) {
            p.requisites.push_back(Chance(0.7) ? Requisite{i, kEntityTypeCompany, AnyCompany()}
                                               : Requisite{i, kEntityTypeContact, AnyContact()});
        }
        p.currencies = {{"RUB", 1, 1, true}, {"USD", 92.5, 1, false}, {"EUR", 99.8, 1, false}};
        return p;
    }

    Deal MakeDeal(std::int64_t id) {
        Deal d;
        d.id = id;
        d.created = When();
        if (Chance(0.5)) {
            d.company_id = AnyCompany();
        }
        for (int n = Int(d.company_id != 0 ? 0 : 1, 2); n > 0; --n) {
            d.contact_ids.push_back(AnyContact());
        }
        const int stage = Int(0, 99);
        d.stage = stage < 55 ? StageSemantic::kWon
                             : (stage < 85 ? StageSemantic::kInProgress : StageSemantic::kFailed);
        d.moved_time = Later(d.created, 90);
        if (Chance(0.7)) {
            d.close_date = Later(d.created, 120);
        }
        d.opportunity = Amount();
        d.currency_id = CurrencyCode();
        return d;
    }

    Invoice MakeInvoice(std::int64_t id) {
        Invoice v;
        v.id = id;
        v.legacy = Chance(0.1);
        if (Chance(0.6)) {  // issued for a deal, to the deal's client
            v.deal_id = Int(1, kDeals);
        }
        v.created = When();
        if (Chance(0.6)) {
            v.company_id = AnyCompany();
        } else {
            v.contact_ids.push_back(AnyContact());
        }
        v.paid = Chance(0.7);
        if (v.paid) {
            v.paid_time = Later(v.created, 30);
        }
        v.opportunity = Amount();
        v.currency_id = CurrencyCode();
        return v;
    }

    Activity MakeActivity(std::int64_t id) {
        Activity a;
        a.id = id;
        a.created = When();
        a.app_created = Chance(0.01);
        const int kind = Int(0, 9);
        if (kind < 5) {
            a.bindings.push_back({kEntityTypeContact, AnyContact()});
        } else if (kind < 8) {
            a.bindings.push_back({kEntityTypeCompany, AnyCompany()});
        } else {
            a.bindings.push_back({kEntityTypeDeal, Int(1, kDeals)});
            a.bindings.push_back({kEntityTypeContact, AnyContact()});
        }
        if (Chance(0.2)) {
            a.bindings.push_back({kEntityTypeCompany, AnyCompany()});
        }
        return a;
    }

    // A sync's worth of changes: new and updated deals and invoices, new activities, contacts
    // moving to other companies, a few deletions.
    Changes Batch(const PortalData& portal, int size) {
        Changes c;
        for (int i = 0; i < size / 4; ++i) {
            Deal d = MakeDeal(Chance(0.5) ? Int(1, kDeals) : kDeals + 1 + i);
            c.upsert.deals.push_back(std::move(d));
        }
        for (int i = 0; i < size / 8; ++i) {
            Invoice v = portal.invoices[static_cast<std::size_t>(Int(0, kInvoices - 1))];
            v.paid = true;
            v.paid_time = Later(v.created, 10);
            c.upsert.invoices.push_back(v);
        }
        for (int i = 0; i < size / 2; ++i) {
            c.upsert.activities.push_back(MakeActivity(kActivities + 1 + i));
        }
        for (int i = 0; i < size / 10; ++i) {
            Contact moved = portal.contacts[static_cast<std::size_t>(Int(0, kContacts - 1))];
            moved.company_id = AnyCompany();
            moved.company_ids = {moved.company_id};
            c.upsert.contacts.push_back(moved);
        }
        for (int i = 0; i < size / 40; ++i) {
            c.remove.deals.push_back(Int(1, kDeals));
            c.remove.activities.push_back(Int(1, kActivities));
        }
        return c;
    }

private:
    std::mt19937_64 rng_;
};

struct Run {
    Span build;
    Span cards;
    Span series;
    // With tiers and ten rule segments.
    Span rule_cards;   // AllCards(t, rules)
    Span tiers;        // Tiers(t)
    Span rule_series;  // RuleSeries(rules, t)
};

// Ten rule segments of the kind an admin writes (README "Rule segments").
std::vector<RuleSegment> TenRules() {
    const char* texts[][2] = {
        {"SLEEPING_IT",
         R"(lifecycle = SLEEPING and turnover_12m >= 100000 and industry in ("IT", "MANUFACTURING"))"},
        {"LOYAL", "lifecycle = ACTIVE and frequency = REGULAR"},
        {"VIP", "tier >= GOLD"},
        {"COOLING", "days_since_payment between 180 and 365"},
        {"TALKERS", "has_dialogs and not has_channels"},
        {"BIG_B2B", "turnover_lifetime > 1000000 and client_type = B2B"},
        {"FIRST_TEAM", "responsible in (1, 2, 3, 4, 5) and lifecycle in (REQUESTS, DIALOGS)"},
        {"NEW_LEADS", "created >= 2025-01-01 and payments = 0"},
        {"NORTH_EAST", "UF_CRM_REGION in (NORTH, EAST) and type = CLIENT"},
        {"WIN_BACK",
         "source = WEB and turnover_3m > 0 or lifecycle = LOST and turnover_24m > 50000"},
    };
    RuleSchema schema;
    schema.tiers = TierCodes(Settings{});
    schema.user_fields = {"UF_CRM_REGION"};
    std::vector<RuleSegment> rules;
    for (const auto& text : texts) {
        CompileResult compiled = CompileRule(text[1], schema);
        if (!compiled.ok()) {
            std::fprintf(stderr, "rule %s: %s\n", text[0], compiled.error->message.c_str());
            std::exit(1);
        }
        rules.push_back({text[0], *compiled.rule});
    }
    return rules;
}

// The slowest rule the default limits let through: 100 distinct turnover windows (each one a sum
// over the payments in its own window), none of them met, so that every one is evaluated.
CompiledRule CostliestRule() {
    std::string text;
    for (int months = 1; months <= 100; ++months) {
        text += (months == 1 ? "" : " or ") + std::string("turnover_") + std::to_string(months) +
                "m < 0";
    }
    const CompileResult compiled = CompileRule(text, {});
    if (!compiled.ok()) {
        std::fprintf(stderr, "costliest rule: %s\n", compiled.error->message.c_str());
        std::exit(1);
    }
    return *compiled.rule;
}

std::string Both(Span x) {
    char out[40];
    std::snprintf(out, sizeof out, "%7.1f / %7.1f", x.wall, x.cpu);
    return out;
}

void KeepBest(Span& best, Span x) {
    best.wall = std::min(best.wall, x.wall);
    best.cpu = std::min(best.cpu, x.cpu);
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
    const Instant t = *ParseInstant("2026-11-22T10:00:00+03:00");
    constexpr int kBatchRows = 2'000;

    std::vector<Run> results;
    PortalIndex::Counts counts;
    std::int64_t b2b = 0;
    std::int64_t payments = 0;
    std::size_t months = 0;
    double generated_rss = 0;
    Span incremental;
    Span incremental_cards;
    std::size_t touched = 0;
    const std::vector<RuleSegment> rules = TenRules();
    std::int64_t with_tier = 0;
    std::int64_t in_rules = 0;
    // Single measurements on the first run.
    Span breakdown_series;
    Span breakdown_tiers;
    Span breakdown_rule;
    Span movement;
    Span history;
    Span preview;
    Span costliest;
    std::size_t cells = 0;
    std::size_t history_months = 0;
    std::int64_t moved = 0;

    for (int run = 0; run < runs; ++run) {
        PortalData portal = Generator(42).Portal();  // the same portal every run
        if (run == 0) {
            generated_rss = StatusMiB("VmRSS");
        }
        Run r;
        Timer timer;
        PortalIndex index = PortalIndex::Build(std::move(portal));
        r.build = timer.Elapsed();
        timer = Timer();
        const std::vector<Card> cards = index.AllCards(t);
        r.cards = timer.Elapsed();
        timer = Timer();
        const MonthlySeries series = index.Series(t);
        r.series = timer.Elapsed();
        timer = Timer();
        const std::vector<Card> rule_cards = index.AllCards(t, rules);
        r.rule_cards = timer.Elapsed();
        timer = Timer();
        const TierSeries tier_series = index.Tiers(t);
        r.tiers = timer.Elapsed();
        timer = Timer();
        const RuleSegmentSeries rule_series = index.RuleSeries(rules, t);
        r.rule_series = timer.Elapsed();
        results.push_back(r);
        if (rule_cards.size() != cards.size() || tier_series.month_count != series.month_count ||
            rule_series.month_count != series.month_count) {
            return 1;
        }

        if (run == 0) {
            for (const Card& card : rule_cards) {
                with_tier += card.values.tier ? 1 : 0;
                in_rules += card.values.rule_segments.empty() ? 0 : 1;
            }
            timer = Timer();
            cells = index.BreakdownSeries({DimensionKind::kIndustry, ""}, t).cells.size();
            breakdown_series = timer.Elapsed();
            timer = Timer();
            index.BreakdownTiers({DimensionKind::kResponsible, ""}, t);
            breakdown_tiers = timer.Elapsed();
            timer = Timer();
            index.BreakdownRule(rules[0], {DimensionKind::kField, "UF_CRM_REGION"}, t);
            breakdown_rule = timer.Elapsed();
            timer = Timer();
            const auto before = index.States({2025, 11}, t);
            const auto now = index.States(MonthOf(t), t);
            const TransitionMatrix matrix = Transitions(*before, *now, StateKind::kLifecycle);
            movement = timer.Elapsed();
            moved = matrix.At(static_cast<std::size_t>(Lifecycle::kActive),
                              static_cast<std::size_t>(Lifecycle::kSleeping));
            timer = Timer();
            history_months = index.History({CardKind::kCompany, 100}, t)->months.size();
            history = timer.Elapsed();
            timer = Timer();
            index.RuleCount(rules[0].rule, t);
            preview = timer.Elapsed();
            const CompiledRule slow = CostliestRule();
            timer = Timer();
            index.RuleCount(slow, t);
            costliest = timer.Elapsed();
        }

        if (run == 0) {
            counts = index.counts();
            months = series.month_count;
            b2b = series.Today(Series::kB2B);
            for (const Card& card : cards) {
                if (card.values.role == Role::kClient) {
                    payments += card.values.payments.value_or(0);
                }
            }
            // One incremental sync on top of the built index.
            const PortalData again = Generator(42).Portal();
            Changes batch = Generator(7).Batch(again, kBatchRows);
            timer = Timer();
            touched = index.Apply(std::move(batch)).size();
            incremental = timer.Elapsed();
            timer = Timer();
            const std::vector<Card> after = index.AllCards(t);
            incremental_cards = timer.Elapsed();
            if (after.size() < cards.size()) {
                return 1;
            }
        }
    }

    std::printf(
        "segmenter_bench: %d contacts, %d companies (%d own), %d deals, %d invoices, "
        "%d activities, %d requisites\n",
        kContacts, kCompanies, kOwnCompanies, kDeals, kInvoices, kActivities, kRequisites);
    std::printf(
        "  %zu clients (%lld B2B, %lld B2C), %zu member contacts, %lld payments, %zu months\n",
        counts.clients, static_cast<long long>(b2b),
        static_cast<long long>(counts.clients) - static_cast<long long>(b2b), counts.members,
        static_cast<long long>(payments), months);
    std::printf("\n  ms, wall / cpu\n");
    std::printf(
        "  run             index         card values       index + cards             series\n");
    Span best_build{1e18, 1e18};
    Span best_cards{1e18, 1e18};
    Span best_total{1e18, 1e18};
    Span best_series{1e18, 1e18};
    for (std::size_t i = 0; i < results.size(); ++i) {
        const Run& r = results[i];
        const Span total{r.build.wall + r.cards.wall, r.build.cpu + r.cards.cpu};
        std::printf("  %3zu  %s   %s   %s   %s\n", i + 1, Both(r.build).c_str(),
                    Both(r.cards).c_str(), Both(total).c_str(), Both(r.series).c_str());
        KeepBest(best_build, r.build);
        KeepBest(best_cards, r.cards);
        KeepBest(best_total, total);
        KeepBest(best_series, r.series);
    }
    std::printf("  best %s   %s   %s   %s\n\n", Both(best_build).c_str(), Both(best_cards).c_str(),
                Both(best_total).c_str(), Both(best_series).c_str());
    std::printf("  all card values from raw rows (index + cards), best: %s ms  (target < 500)\n",
                Both(best_total).c_str());
    std::printf("  all monthly series, best:                          %s ms  (target < 1500)\n",
                Both(best_series).c_str());
    std::printf("  incremental sync of %d changed rows: Apply %s ms, %zu cards touched;\n",
                kBatchRows, Both(incremental).c_str(), touched);
    std::printf("    then all card values again %s ms\n", Both(incremental_cards).c_str());

    std::printf("\n  with turnover tiers (by rank) and ten rule segments\n");
    std::printf(
        "  run    cards with rules        tiers series         rule series     all cards, total"
        "   all series, total\n");
    Span best_rule_total{1e18, 1e18};
    Span best_all_series{1e18, 1e18};
    Span best_rule_cards{1e18, 1e18};
    Span best_tiers{1e18, 1e18};
    Span best_rule_series{1e18, 1e18};
    for (std::size_t i = 0; i < results.size(); ++i) {
        const Run& r = results[i];
        const Span total{r.build.wall + r.rule_cards.wall, r.build.cpu + r.rule_cards.cpu};
        const Span all_series{r.series.wall + r.tiers.wall + r.rule_series.wall,
                              r.series.cpu + r.tiers.cpu + r.rule_series.cpu};
        std::printf("  %3zu  %s   %s   %s   %s   %s\n", i + 1, Both(r.rule_cards).c_str(),
                    Both(r.tiers).c_str(), Both(r.rule_series).c_str(), Both(total).c_str(),
                    Both(all_series).c_str());
        KeepBest(best_rule_cards, r.rule_cards);
        KeepBest(best_tiers, r.tiers);
        KeepBest(best_rule_series, r.rule_series);
        KeepBest(best_rule_total, total);
        KeepBest(best_all_series, all_series);
    }
    std::printf("  best %s   %s   %s   %s   %s\n\n", Both(best_rule_cards).c_str(),
                Both(best_tiers).c_str(), Both(best_rule_series).c_str(),
                Both(best_rule_total).c_str(), Both(best_all_series).c_str());
    std::printf(
        "  all card values incl. tiers and ten rule segments, from raw rows, best: %s ms  "
        "(target < 1000 cpu)\n",
        Both(best_rule_total).c_str());
    std::printf(
        "  all series (five modes, tiers, ten rule segments), best:               %s ms  "
        "(target < 2000)\n",
        Both(best_all_series).c_str());
    std::printf("  %lld cards with a tier, %lld in at least one rule segment\n",
                static_cast<long long>(with_tier), static_cast<long long>(in_rules));
    std::printf("  breakdown of the fifteen series by industry (%zu cells): %s ms\n", cells,
                Both(breakdown_series).c_str());
    std::printf("  breakdown of the tiers by responsible user: %s ms\n",
                Both(breakdown_tiers).c_str());
    std::printf("  breakdown of a rule segment by a user field: %s ms\n",
                Both(breakdown_rule).c_str());
    std::printf(
        "  movement 2025-11 -> today (two snapshots and the matrix): %s ms, %lld ACTIVE -> "
        "SLEEPING\n",
        Both(movement).c_str(), static_cast<long long>(moved));
    std::printf("  one client's history (%zu months, ranking every month): %s ms\n", history_months,
                Both(history).c_str());
    std::printf("  rule preview (RuleCount): %s ms; the costliest rule the limits allow: %s ms\n",
                Both(preview).c_str(), Both(costliest).c_str());
    std::printf(
        "  peak RSS (VmHWM): %.1f MiB  (target < 500 MB; the generated rows alone: %.1f MiB)\n",
        StatusMiB("VmHWM"), generated_rss);
    return 0;
}
