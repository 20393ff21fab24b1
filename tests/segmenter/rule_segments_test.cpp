// Rule segments, breakdowns, drill-down selections, movement and histories (segmenter/README.md):
// every operator and attribute on a small portal written out by hand, and the monthly machinery
// against brute force on random portals (each month evaluated at T = that month's end on the
// portal moved to local time, as series_test.cpp does for the five modes).

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "random_portal.hpp"
#include "segmenter/segmenter.hpp"
#include "test_support.hpp"

namespace segtest {
namespace {

using namespace segmenter;

constexpr const char* kT = "2024-06-15T12:00:00+03:00";

struct CaseNameOf {
    template <class P>
    std::string operator()(const ::testing::TestParamInfo<P>& row) const {
        return row.param.name;
    }
};
constexpr CaseNameOf CaseName;

RuleSchema Schema(const Settings& settings = {}) {
    RuleSchema schema;
    schema.tiers = TierCodes(settings);
    schema.user_fields = {"UF_CRM_REGION"};
    return schema;
}

CompiledRule Compile(const std::string& text, const Settings& settings = {}) {
    const CompileResult result = CompileRule(text, Schema(settings));
    EXPECT_TRUE(result.ok()) << text << ": " << (result.error ? result.error->message : "");
    return *result.rule;
}

// Six clients with everything a rule can look at (values at T in the comments).
PortalData Portal() {
    PortalData p;
    p.currencies = {{"RUB", 1, 1, true}, {"USD", 90, 1, false}};
    // C1: ACTIVE, FIRST, paid 1 May 2024 (45 days), turnover 150,000.00, PLATINUM.
    p.companies.push_back({.id = 1,
                           .created = At("2020-01-01"),
                           .type_id = "CLIENT",
                           .industry = "IT",
                           .source_id = "WEB",
                           .assigned_by_id = 7,
                           .fields = {{"UF_CRM_REGION", {"N", "S"}}}});
    p.deals.push_back({.id = 100,
                       .created = At("2024-04-01"),
                       .company_id = 1,
                       .stage = StageSemantic::kWon,
                       .moved_time = At("2024-05-01T10:00:00"),
                       .opportunity = 150000});
    // C2: SLEEPING, REGULAR, last paid 1 June 2023 (380 days), 3,000.00 over 24 months, 0 over 12.
    p.companies.push_back({.id = 2,
                           .created = At("2021-03-10"),
                           .type_id = "SUPPLIER",
                           .industry = "MANUFACTURING",
                           .source_id = "CALL",
                           .assigned_by_id = 8});
    p.deals.push_back({.id = 200,
                       .created = At("2023-02-01"),
                       .company_id = 2,
                       .stage = StageSemantic::kWon,
                       .moved_time = At("2023-03-01T10:00:00"),
                       .opportunity = 1000});
    p.invoices.push_back({.id = 201,
                          .created = At("2023-05-01"),
                          .company_id = 2,
                          .paid = true,
                          .paid_time = At("2023-06-01T10:00:00"),
                          .opportunity = 2000.0 / 90,  // in dollars: 2,000.00 roubles
                          .currency_id = "USD"});
    // C3: created 1 June 2024, a member contact (31), so CONTACTS; the region field is empty.
    p.companies.push_back(
        {.id = 3, .created = At("2024-06-01"), .fields = {{"UF_CRM_REGION", {}}}});
    p.contacts.push_back({.id = 31, .created = At("2024-06-02"), .company_id = 3});
    // The portal's own company: never a client.
    p.companies.push_back({.id = 4, .created = At("2019-01-01"), .is_my_company = true});
    // P40: B2C, LOST (paid 10 January 2022), a dialog.
    p.contacts.push_back({.id = 40,
                          .created = At("2019-05-05"),
                          .type_id = "CLIENT",
                          .source_id = "1",
                          .assigned_by_id = 7,
                          .fields = {{"uf_crm_region", {"E"}}}});
    p.invoices.push_back({.id = 400,
                          .created = At("2021-12-01"),
                          .contact_ids = {40},
                          .paid = true,
                          .paid_time = At("2022-01-10T10:00:00"),
                          .opportunity = 500});
    p.activities.push_back({.id = 1, .created = At("2023-01-01"), .bindings = {{3, 40}}});
    // P41: B2C created 10 June 2024, nothing: NO_CONTACTS.
    p.contacts.push_back({.id = 41, .created = At("2024-06-10")});
    // P42: B2C with an open deal: REQUESTS.
    p.contacts.push_back({.id = 42, .created = At("2023-01-01")});
    p.deals.push_back({.id = 420, .created = At("2023-02-01"), .contact_ids = {42}});
    // P43: created after T: a card, but not counted at T.
    p.contacts.push_back({.id = 43, .created = At("2024-07-01")});
    return p;
}

const CardRef C1{CardKind::kCompany, 1};
const CardRef C2{CardKind::kCompany, 2};
const CardRef C3{CardKind::kCompany, 3};
const CardRef P40{CardKind::kContact, 40};
const CardRef P41{CardKind::kContact, 41};
const CardRef P42{CardKind::kContact, 42};

struct EvalCase {
    const char* name;
    const char* rule;
    std::vector<CardRef> members;
};

class Evaluates : public ::testing::TestWithParam<EvalCase> {};

TEST_P(Evaluates, OnTheHandWrittenPortal) {
    const PortalIndex index = PortalIndex::Build(Portal());
    const CompiledRule rule = Compile(GetParam().rule);
    std::vector<CardRef> expected = GetParam().members;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(index.RuleMembers(rule, At(kT)), expected) << GetParam().rule;
    EXPECT_EQ(index.RuleCount(rule, At(kT)), static_cast<std::int64_t>(expected.size()));
}

INSTANTIATE_TEST_SUITE_P(
    Operators,
    Evaluates,
    ::testing::Values(
        EvalCase{"Equal", "lifecycle = ACTIVE", {C1}},
        EvalCase{"NotEqual", "lifecycle != ACTIVE", {C2, C3, P40, P41, P42}},
        EvalCase{"In", "lifecycle in (SLEEPING, LOST)", {C2, P40}},
        EvalCase{"NotIn", "lifecycle not in (SLEEPING, lost)", {C1, C3, P41, P42}},
        EvalCase{"Requests", "lifecycle = REQUESTS", {P42}},
        EvalCase{"Contacts", "lifecycle in (CONTACTS, NO_CONTACTS)", {C3, P41}},
        EvalCase{"Frequency", "frequency = REGULAR", {C2}},
        EvalCase{"ClientType", "client_type = B2C", {P40, P41, P42}},
        EvalCase{"TierEqual", "tier = PLATINUM", {C1}},
        EvalCase{"TierNone", "tier = NONE", {C2, C3, P40, P41, P42}},
        EvalCase{"TierAtLeast", "tier >= GOLD", {C1}},
        EvalCase{"NoneIsBelowEveryTier", "tier < SILVER", {C2, C3, P40, P41, P42}},
        EvalCase{"TierBetween", "tier between SILVER and PLATINUM", {C1}},
        EvalCase{"PaymentsAtLeast", "payments >= 2", {C2}},
        EvalCase{"PaymentsZero", "payments = 0", {C3, P41, P42}},
        EvalCase{"PaymentsBetween", "payments between 1 and 1", {C1, P40}},
        EvalCase{"PaymentsFraction", "payments > 1.5", {C2}},
        EvalCase{"DaysSincePayment", "days_since_payment > 365", {C2, P40}},
        EvalCase{"DaysSincePaymentExact", "days_since_payment = 45", {C1}},
        EvalCase{"MissingValuesCompareFalse", "days_since_payment != 45", {C2, P40}},
        EvalCase{
            "NotOfAMissingValueIsTrue", "not days_since_payment = 45", {C2, C3, P40, P41, P42}},
        EvalCase{"LastPaymentBefore", "last_payment < 2023-01-01", {P40}},
        EvalCase{"LastPaymentFromQuotedDate", "last_payment >= '2023-06-01'", {C1, C2}},
        EvalCase{"LastPaymentOnADay", "last_payment = 2024-05-01", {C1}},
        EvalCase{"Turnover", "turnover >= 100000", {C1}},
        EvalCase{"TurnoverTwelveMonths", "turnover_12m >= 100000", {C1}},
        EvalCase{"TurnoverInOtherCurrencyConverted", "turnover_24m = 3000", {C2}},
        EvalCase{"TurnoverBelowACent", "turnover < 0.01", {C2, C3, P40, P41, P42}},
        EvalCase{"TurnoverLifetime", "turnover_lifetime > 400", {C1, C2, P40}},
        EvalCase{"TurnoverLifetimeBetween", "turnover_lifetime between 500 and 500.00", {P40}},
        EvalCase{
            "TurnoverNotBetween", "turnover_lifetime not between 1 and 200000", {C3, P41, P42}},
        EvalCase{"HasDialogs", "has_dialogs", {P40}},
        EvalCase{"NotHasDialogs", "not has_dialogs", {C1, C2, C3, P41, P42}},
        EvalCase{"HasDialogsFalse", "has_dialogs = false", {C1, C2, C3, P41, P42}},
        EvalCase{"HasChannels", "has_channels = true", {C3}},
        EvalCase{"Responsible", "responsible = 7", {C1, P40}},
        EvalCase{"ResponsibleNoneOrEight", "responsible in (8, 0)", {C2, C3, P41, P42}},
        EvalCase{"CreatedSince", "created >= 2024-01-01", {C3, P41}},
        EvalCase{"CreatedOnADay", "created = 2019-05-05", {P40}},
        EvalCase{"CreatedBetween", "created between 2020-01-01 and 2021-12-31", {C1, C2}},
        EvalCase{"DaysSinceCreated", "days_since_created < 30", {C3, P41}},
        EvalCase{"Type", "type = CLIENT", {C1, P40}},
        EvalCase{"TypeEmpty", "type = ''", {C3, P41, P42}},
        EvalCase{"IndustryIn", "industry in (\"IT\", \"MANUFACTURING\")", {C1, C2}},
        EvalCase{"ContactsHaveNoIndustry", "industry = ''", {C3, P40, P41, P42}},
        EvalCase{"SourceSpelledAsANumber", "source = 1", {P40}},
        EvalCase{"SourceNotEqual", "source != WEB", {C2, C3, P40, P41, P42}},
        EvalCase{"FieldAnyValue", "UF_CRM_REGION = N", {C1}},
        EvalCase{"FieldNoValue", "UF_CRM_REGION = ''", {C2, C3, P41, P42}},
        EvalCase{"FieldNotEqualIsNoValueEquals", "UF_CRM_REGION != N", {C2, C3, P40, P41, P42}},
        EvalCase{"FieldIn", "uf_crm_region in (S, E)", {C1, P40}},
        EvalCase{"FieldNotIn", "UF_CRM_REGION not in (S)", {C2, C3, P40, P41, P42}},
        EvalCase{"IssueExample",
                 "lifecycle = SLEEPING and turnover_24m >= 2000 and industry in (\"IT\", "
                 "\"MANUFACTURING\")",
                 {C2}},
        EvalCase{"AndBindsTighterThanOr",
                 "lifecycle = ACTIVE or lifecycle = LOST and client_type = B2B",
                 {C1}},
        EvalCase{"Parentheses",
                 "(lifecycle = ACTIVE or lifecycle = LOST) and not client_type = B2B",
                 {P40}},
        EvalCase{"True", "true", {C1, C2, C3, P40, P41, P42}},
        EvalCase{"False", "false or false", {}}),
    CaseName);

TEST(RuleSegments, CardFieldListsTheCodesAndMembersGetTheirCompanys) {
    const PortalIndex index = PortalIndex::Build(Portal());
    const std::vector<RuleSegment> rules = {{"REACHABLE", Compile("has_channels")},
                                            {"EVERYONE", Compile("true")},
                                            {"BIG", Compile("turnover > 100000")}};
    const auto cards = index.AllCards(At(kT), rules);
    std::map<CardRef, std::vector<std::string>> codes;
    for (const Card& card : cards) {
        codes[card.ref] = card.values.rule_segments;
    }
    EXPECT_EQ(codes[C1], (std::vector<std::string>{"EVERYONE", "BIG"}));
    EXPECT_EQ(codes[C3], (std::vector<std::string>{"REACHABLE", "EVERYONE"}));
    EXPECT_EQ(codes[(CardRef{CardKind::kContact, 31})], codes[C3]);  // the member's company's
    EXPECT_TRUE(codes[(CardRef{CardKind::kCompany, 4})].empty());    // the portal's own
    // A client created after T still has its card's values (like the other fields).
    EXPECT_EQ(codes[(CardRef{CardKind::kContact, 43})], (std::vector<std::string>{"EVERYONE"}));
    // Without rules, the field stays empty, and everything else is the same.
    const auto plain = index.AllCards(At(kT));
    ASSERT_EQ(plain.size(), cards.size());
    for (std::size_t i = 0; i < cards.size(); ++i) {
        CardValues values = cards[i].values;
        values.rule_segments.clear();
        EXPECT_EQ(plain[i].values, values);
    }
}

TEST(RuleSegments, DrillDownFromStoredCardValuesMatchesMembers) {
    // The server lists from stored card values: InTier and InRuleSegment must agree with Members.
    const PortalIndex index = PortalIndex::Build(Portal());
    const std::vector<RuleSegment> rules = {{"B2C", Compile("client_type = B2C")}};
    const auto cards = index.AllCards(At(kT), rules);
    for (const char* tier : {"PLATINUM", "GOLD", ""}) {
        Selection selection;
        selection.kind = Selection::Kind::kTier;
        selection.tier = tier;
        std::vector<CardRef> listed;
        for (const Card& card : cards) {
            if (InTier(card.values, tier) && index.Card(card.ref, At(kT)) &&
                card.ref != CardRef{CardKind::kContact, 43}) {  // created after T
                listed.push_back(card.ref);
            }
        }
        EXPECT_EQ(listed, index.Members(selection, At(kT))) << tier;
    }
    std::vector<CardRef> listed;
    for (const Card& card : cards) {
        if (InRuleSegment(card.values, "B2C") && card.ref != CardRef{CardKind::kContact, 43}) {
            listed.push_back(card.ref);
        }
    }
    EXPECT_EQ(listed, index.RuleMembers(rules[0].rule, At(kT)));
    // Members carry their company's codes but are not listed themselves.
    CardValues member;
    member.role = Role::kMember;
    member.rule_segments = {"B2C"};
    EXPECT_FALSE(InRuleSegment(member, "B2C"));
    EXPECT_FALSE(InTier(member, ""));
}

TEST(RuleSegments, RenamedTiersMatchNothing) {
    // A rule compiled against the default tiers, evaluated after the admin set other tiers.
    PortalData p = Portal();
    const CompiledRule rule = Compile("tier = PLATINUM or tier != GOLD");
    Settings admin;
    admin.tiers = {{"SMALL", 0}, {"LARGE", 10000000}};
    const PortalIndex index = PortalIndex::Build(p, admin);
    // C1 is LARGE (unknown to the rule): equal to nothing, and != too is false for it. Clients in
    // no tier are NONE, which is != GOLD.
    EXPECT_EQ(index.RuleMembers(rule, At(kT)), (std::vector<CardRef>{P40, P41, P42, C2, C3}));
}

// ---------------------------------------------------------------------------------------------
// Monthly series, breakdowns and selections against brute force.

Instant Localized(Instant t) {
    return {t.LocalSeconds(), 0};
}

PortalData Localize(PortalData p) {
    for (Contact& c : p.contacts) {
        c.created = Localized(c.created);
    }
    for (Company& c : p.companies) {
        c.created = Localized(c.created);
    }
    for (Deal& d : p.deals) {
        d.created = Localized(d.created);
        d.moved_time = d.moved_time ? std::optional(Localized(*d.moved_time)) : std::nullopt;
        d.close_date = d.close_date ? std::optional(Localized(*d.close_date)) : std::nullopt;
    }
    for (Invoice& v : p.invoices) {
        v.created = Localized(v.created);
        v.paid_time = v.paid_time ? std::optional(Localized(*v.paid_time)) : std::nullopt;
    }
    for (Activity& a : p.activities) {
        a.created = Localized(a.created);
    }
    return p;
}

// Rules that read every attribute, with and without history.
std::vector<RuleSegment> RandomPortalRules(const Settings& settings) {
    const std::vector<std::string> tiers = TierCodes(settings);
    const std::vector<std::pair<std::string, std::string>> texts = {
        {"SLIPPING", "lifecycle in (SLEEPING, LOST) and turnover_lifetime > 1000"},
        {"BUYERS", "frequency = REGULAR or payments between 1 and 1"},
        {"RECENT", "days_since_payment <= 45 or last_payment >= 2022-06-01"},
        {"WINDOWS", "turnover_3m > 500 or turnover > 2000 and turnover_18m < 5000"},
        {"TOP", "tier >= " + tiers[1] + " or tier = NONE and payments > 2"},
        {"TALKERS", "has_dialogs and not has_channels or lifecycle = DIALOGS"},
        {"NEW", "days_since_created < 100 and client_type = B2C"},
        {"STATIC",
         "type in (CLIENT, PARTNER) and industry != TELECOM and responsible in (1, 2) and "
         "UF_CRM_REGION != S"},
        {"OLD", "created < 2022-01-01 and source != WEB"},
    };
    std::vector<RuleSegment> rules;
    for (const auto& [code, text] : texts) {
        rules.push_back({code, Compile(text, settings)});
    }
    return rules;
}

struct RandomCase {
    PortalData portal;
    Settings settings;
    Instant t;
};

RandomCase MakeRandom(std::uint64_t seed, bool mixed_offsets) {
    std::mt19937_64 rng(seed);
    RandomOptions options;
    options.months = 30;
    options.companies = 20;
    options.contacts = 40;
    options.mixed_offsets = mixed_offsets;
    RandomCase c;
    c.portal = RandomPortal(rng, options);
    c.settings = seed % 2 == 0 ? Settings{} : RandomSettings(rng);
    c.t = RandomInstant(rng, options);
    return c;
}

TEST(RuleSegments, SeriesMatchBruteForce) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        const RandomCase c = MakeRandom(seed, seed > 4);
        const std::vector<RuleSegment> rules = RandomPortalRules(c.settings);
        const PortalIndex index = PortalIndex::Build(c.portal, c.settings);
        const RuleSegmentSeries series = index.RuleSeries(rules, c.t);
        const MonthlySeries fixed = index.Series(c.t);
        ASSERT_EQ(series.first_month, fixed.first_month);
        ASSERT_EQ(series.month_count, fixed.month_count);
        ASSERT_EQ(series.codes.size(), rules.size());
        const PortalIndex local = PortalIndex::Build(Localize(c.portal), c.settings);
        for (std::size_t m = 0; m < series.month_count; ++m) {
            const bool last = m + 1 == series.month_count;
            for (std::size_t r = 0; r < rules.size(); ++r) {
                const std::int64_t expected =
                    last ? index.RuleCount(rules[r].rule, c.t)
                         : local.RuleCount(rules[r].rule, EndOfMonth(series.Month(m), 0));
                ASSERT_EQ(series.values[r][m], expected)
                    << rules[r].code << " at " << FormatYearMonth(series.Month(m));
            }
        }
    }
}

std::size_t MembersOf(const PortalIndex& index, Selection selection, Instant t) {
    return index.Members(selection, t).size();
}

TEST(Breakdowns, EveryCellAndMonthMatchesTheDrillDownList) {
    const std::vector<Dimension> dimensions = {{DimensionKind::kType, ""},
                                               {DimensionKind::kIndustry, ""},
                                               {DimensionKind::kResponsible, ""},
                                               {DimensionKind::kField, "UF_CRM_REGION"}};
    for (std::uint64_t seed = 11; seed <= 12; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        const RandomCase c = MakeRandom(seed, false);
        const PortalIndex index = PortalIndex::Build(c.portal, c.settings);
        const PortalIndex local = PortalIndex::Build(Localize(c.portal), c.settings);
        const RuleSegment rule = RandomPortalRules(c.settings)[0];
        const MonthlySeries fixed = index.Series(c.t);
        for (const Dimension& dimension : dimensions) {
            SCOPED_TRACE(std::string(DimensionId(dimension.kind)));
            const Breakdown series = index.BreakdownSeries(dimension, c.t);
            const Breakdown tiers = index.BreakdownTiers(dimension, c.t);
            const Breakdown rules = index.BreakdownRule(rule, dimension, c.t);
            ASSERT_EQ(series.month_count, fixed.month_count);
            ASSERT_EQ(series.series.size(), kSeriesCount);
            EXPECT_EQ(series.series[5], "payments.active");
            EXPECT_EQ(tiers.series.back(), "");
            EXPECT_EQ(rules.series, std::vector<std::string>{rule.code});
            EXPECT_TRUE(std::is_sorted(series.cells.begin() + 1, series.cells.end()) ||
                        dimension.kind == DimensionKind::kResponsible);
            for (std::size_t m = 0; m < series.month_count; ++m) {
                const bool last = m + 1 == series.month_count;
                const Instant at = last ? c.t : EndOfMonth(series.Month(m), 0);
                const PortalIndex& judge = last ? index : local;
                for (std::size_t s = 0; s < kSeriesCount; ++s) {
                    std::int64_t total = 0;
                    for (std::size_t cell = 0; cell < series.cells.size(); ++cell) {
                        Selection selection;
                        selection.series = static_cast<Series>(s);
                        selection.dimension = dimension;
                        selection.value = series.cells[cell];
                        ASSERT_EQ(series.counts[cell][s][m],
                                  static_cast<std::int64_t>(MembersOf(judge, selection, at)))
                            << series.series[s] << " '" << series.cells[cell] << "' at "
                            << FormatYearMonth(series.Month(m));
                        total += series.counts[cell][s][m];
                    }
                    // A card is in exactly one cell, except for a field with several values.
                    if (dimension.kind != DimensionKind::kField) {
                        EXPECT_EQ(total, fixed.values[s][m]);
                    } else {
                        EXPECT_GE(total, fixed.values[s][m]);
                    }
                }
                for (std::size_t cell = 0; cell < tiers.cells.size(); ++cell) {
                    for (std::size_t k = 0; k < tiers.series.size(); ++k) {
                        Selection selection;
                        selection.kind = Selection::Kind::kTier;
                        selection.tier = tiers.series[k];
                        selection.dimension = dimension;
                        selection.value = tiers.cells[cell];
                        ASSERT_EQ(tiers.counts[cell][k][m],
                                  static_cast<std::int64_t>(MembersOf(judge, selection, at)))
                            << "tier '" << tiers.series[k] << "' in '" << tiers.cells[cell]
                            << "' at " << FormatYearMonth(tiers.Month(m));
                    }
                }
                for (std::size_t cell = 0; cell < rules.cells.size(); ++cell) {
                    Selection selection;
                    selection.kind = Selection::Kind::kRule;
                    selection.rule = rule.rule;
                    selection.dimension = dimension;
                    selection.value = rules.cells[cell];
                    ASSERT_EQ(rules.counts[cell][0][m],
                              static_cast<std::int64_t>(MembersOf(judge, selection, at)))
                        << "rule in '" << rules.cells[cell] << "' at "
                        << FormatYearMonth(rules.Month(m));
                }
            }
        }
    }
}

TEST(Breakdowns, CellsOnTheHandWrittenPortal) {
    const PortalIndex index = PortalIndex::Build(Portal());
    const Breakdown by_type = index.BreakdownSeries({DimensionKind::kType, ""}, At(kT));
    EXPECT_EQ(by_type.cells, (std::vector<std::string>{"", "CLIENT", "SUPPLIER"}));
    const auto all = static_cast<std::size_t>(Series::kAllClients);
    EXPECT_EQ(by_type.Today(0, all), 3);  // C3, P41, P42 (P43 is after T)
    EXPECT_EQ(by_type.Today(1, all), 2);  // C1, P40
    EXPECT_EQ(by_type.Today(2, all), 1);  // C2
    // Member contact 31 is counted in the contacts directory under its own (empty) type.
    EXPECT_EQ(by_type.Today(0, static_cast<std::size_t>(Series::kContacts)), 3);  // 31, 41, 42
    const Breakdown by_user = index.BreakdownSeries({DimensionKind::kResponsible, ""}, At(kT));
    EXPECT_EQ(by_user.cells, (std::vector<std::string>{"", "7", "8"}));
    const Breakdown by_region =
        index.BreakdownTiers({DimensionKind::kField, "uf_crm_region"}, At(kT));
    EXPECT_EQ(by_region.cells, (std::vector<std::string>{"", "E", "N", "S"}));
    EXPECT_EQ(by_region.series, (std::vector<std::string>{"SILVER", "GOLD", "PLATINUM", ""}));
    EXPECT_EQ(by_region.Today(2, 2), 1);  // C1 is PLATINUM in N
    EXPECT_EQ(by_region.Today(3, 2), 1);  // and in S
    EXPECT_EQ(index.DimensionValues(C1, {DimensionKind::kField, "UF_CRM_REGION"}),
              (std::vector<std::string>{"N", "S"}));
    EXPECT_EQ(index.DimensionValues(P40, {DimensionKind::kIndustry, ""}),
              std::vector<std::string>{""});
    EXPECT_TRUE(index.DimensionValues({CardKind::kCompany, 99}, {}).empty());
    EXPECT_EQ(DimensionFromId("responsible"), DimensionKind::kResponsible);
    EXPECT_EQ(DimensionId(DimensionKind::kField), "field");
    EXPECT_EQ(DimensionFromId("colour"), std::nullopt);
}

TEST(Selections, MembersOfSeriesTiersAndRules) {
    const PortalIndex index = PortalIndex::Build(Portal());
    Selection active;
    active.series = Series::kActive;
    EXPECT_EQ(index.Members(active, At(kT)), std::vector<CardRef>{C1});
    Selection contacts;
    contacts.series = Series::kContacts;
    EXPECT_EQ(index.Members(contacts, At(kT)).size(), 4U);  // 31, 40, 41, 42 (not 43)
    Selection companies;
    companies.series = Series::kCompanies;
    EXPECT_EQ(index.Members(companies, At(kT)), (std::vector<CardRef>{C1, C2, C3}));
    Selection none;
    none.kind = Selection::Kind::kTier;
    EXPECT_EQ(index.Members(none, At(kT)), (std::vector<CardRef>{P40, P41, P42, C2, C3}));
    Selection platinum = none;
    platinum.tier = "PLATINUM";
    EXPECT_EQ(index.Members(platinum, At(kT)), std::vector<CardRef>{C1});
    Selection rule;
    rule.kind = Selection::Kind::kRule;
    rule.rule = Compile("client_type = B2C");
    rule.dimension = Dimension{DimensionKind::kType, ""};
    rule.value = "CLIENT";
    EXPECT_EQ(index.Members(rule, At(kT)), std::vector<CardRef>{P40});
}

// ---------------------------------------------------------------------------------------------
// Movement and history.

ClientState State(CardRef client, Lifecycle lifecycle, const char* tier = "") {
    return {client, lifecycle, Frequency::kNone, tier};
}

TEST(Movement, MatrixCountsAndCellsIncludingNewAndGone) {
    StateSnapshot from;
    from.clients = {State(C1, Lifecycle::kActive, "GOLD"), State(C2, Lifecycle::kActive),
                    State(P40, Lifecycle::kSleeping, "OLDTIER")};
    StateSnapshot to;
    // Unsorted on purpose: the functions do not rely on the order.
    to.clients = {State(P41, Lifecycle::kNoContacts), State(C2, Lifecycle::kSleeping),
                  State(C1, Lifecycle::kActive, "PLATINUM")};
    const TransitionMatrix lifecycle = Transitions(from, to, StateKind::kLifecycle);
    ASSERT_EQ(lifecycle.states.size(), 7U);
    const std::size_t absent = lifecycle.states.size();
    const auto at = [](Lifecycle l) { return static_cast<std::size_t>(l); };
    EXPECT_EQ(lifecycle.At(at(Lifecycle::kActive), at(Lifecycle::kActive)), 1);
    EXPECT_EQ(lifecycle.At(at(Lifecycle::kActive), at(Lifecycle::kSleeping)), 1);
    EXPECT_EQ(lifecycle.At(at(Lifecycle::kSleeping), absent), 1);    // P40 is gone
    EXPECT_EQ(lifecycle.At(absent, at(Lifecycle::kNoContacts)), 1);  // P41 is new
    std::int64_t total = 0;
    for (const std::int64_t count : lifecycle.counts) {
        total += count;
    }
    EXPECT_EQ(total, 4);
    EXPECT_EQ(
        TransitionMembers(from, to, lifecycle, at(Lifecycle::kActive), at(Lifecycle::kSleeping)),
        std::vector<CardRef>{C2});
    EXPECT_EQ(TransitionMembers(from, to, lifecycle, absent, at(Lifecycle::kNoContacts)),
              std::vector<CardRef>{P41});

    const std::vector<std::string> codes = {"SILVER", "GOLD", "PLATINUM"};
    const TransitionMatrix tiers = Transitions(from, to, StateKind::kTier, codes);
    EXPECT_EQ(tiers.states,
              (std::vector<std::string>{"SILVER", "GOLD", "PLATINUM", "OLDTIER", ""}));
    EXPECT_EQ(tiers.At(1, 2), 1);  // GOLD -> PLATINUM
    EXPECT_EQ(tiers.At(4, 4), 1);  // no tier -> no tier
    EXPECT_EQ(tiers.At(3, 5), 1);  // OLDTIER -> gone
    EXPECT_EQ(TransitionMembers(from, to, tiers, 1, 2), std::vector<CardRef>{C1});

    const TransitionMatrix frequency = Transitions(from, to, StateKind::kFrequency);
    EXPECT_EQ(frequency.states, (std::vector<std::string>{"REGULAR", "FIRST", "NONE"}));
    EXPECT_EQ(frequency.At(2, 2), 2);
}

TEST(Movement, StatesHistoriesAndCardsAgree) {
    for (std::uint64_t seed = 21; seed <= 24; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        const RandomCase c = MakeRandom(seed, seed % 2 == 0);
        const PortalIndex index = PortalIndex::Build(c.portal, c.settings);
        const PortalIndex local = PortalIndex::Build(Localize(c.portal), c.settings);
        const MonthlySeries fixed = index.Series(c.t);
        const TierSeries tiers = index.Tiers(c.t);
        std::map<CardRef, ClientHistory> histories;
        for (const Card& card : index.AllCards(c.t)) {
            if (card.values.role == Role::kNotClient) {
                EXPECT_FALSE(index.History(card.ref, c.t));
                continue;
            }
            const auto history = index.History(card.ref, c.t);
            ASSERT_TRUE(history);
            if (card.values.role == Role::kMember) {
                EXPECT_EQ(history->client,
                          (CardRef{CardKind::kCompany, card.values.parent_company}));
                continue;
            }
            EXPECT_EQ(history->client, card.ref);
            histories[card.ref] = *history;
            if (!history->months.empty() && history->months.back().month == MonthOf(c.t)) {
                // The last month is today's card.
                const HistoryMonth& today = history->months.back();
                EXPECT_EQ(today.state.lifecycle, card.values.lifecycle);
                EXPECT_EQ(today.state.frequency, card.values.frequency);
                EXPECT_EQ(today.state.tier, card.values.tier.value_or(""));
                EXPECT_EQ(today.payments, card.values.payments);
                EXPECT_EQ(today.turnover, card.values.turnover);
            }
        }
        for (std::size_t m = 0; m < fixed.month_count; ++m) {
            const YearMonth month = fixed.Month(m);
            const bool last = m + 1 == fixed.month_count;
            const auto snapshot = index.States(month, c.t);
            ASSERT_TRUE(snapshot);
            // Everyone existing then, as the series count them.
            ASSERT_EQ(static_cast<std::int64_t>(snapshot->clients.size()),
                      fixed.At(Series::kAllClients, m));
            std::int64_t platinum_or_top = 0;
            for (const ClientState& state : snapshot->clients) {
                platinum_or_top += state.tier == tiers.codes.back() ? 1 : 0;
                // The client's history has the same state that month.
                const ClientHistory& history = histories.at(state.client);
                const auto entry =
                    std::find_if(history.months.begin(), history.months.end(),
                                 [&](const HistoryMonth& h) { return h.month == month; });
                ASSERT_NE(entry, history.months.end());
                EXPECT_EQ(entry->state, state);
                // And brute force agrees: the card at that month's end on the local clock.
                const Instant at = last ? c.t : EndOfMonth(month, 0);
                const auto card = (last ? index : local).Card(state.client, at);
                ASSERT_TRUE(card);
                EXPECT_EQ(state.lifecycle, card->lifecycle);
                EXPECT_EQ(state.frequency, card->frequency);
                EXPECT_EQ(state.tier, card->tier.value_or(""));
                EXPECT_EQ(entry->turnover, card->turnover);
                EXPECT_EQ(entry->payments, card->payments);
            }
            EXPECT_EQ(platinum_or_top, tiers.values[tiers.codes.size() - 1][m]);
        }
        // Movement between the first and the last month: row sums are the clients then, column
        // sums the clients now; nobody is gone when both come from today's data.
        const auto first = index.States(fixed.first_month, c.t);
        const auto now = index.States(MonthOf(c.t), c.t);
        const TransitionMatrix matrix = Transitions(*first, *now, StateKind::kLifecycle);
        const std::size_t n = matrix.Size();
        std::int64_t rows_present = 0;
        std::int64_t columns_present = 0;
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < n; ++j) {
                rows_present += i + 1 < n ? matrix.At(i, j) : 0;
                columns_present += j + 1 < n ? matrix.At(i, j) : 0;
            }
            EXPECT_EQ(matrix.At(i, n - 1), 0);
        }
        EXPECT_EQ(rows_present, static_cast<std::int64_t>(first->clients.size()));
        EXPECT_EQ(columns_present, static_cast<std::int64_t>(now->clients.size()));
        EXPECT_FALSE(index.States(FromMonthIndex(MonthIndex(MonthOf(c.t)) + 1), c.t));
    }
}

TEST(History, OfTheHandWrittenPortal) {
    const PortalIndex index = PortalIndex::Build(Portal());
    const auto member = index.History({CardKind::kContact, 31}, At(kT));
    ASSERT_TRUE(member);
    EXPECT_EQ(member->client, C3);
    ASSERT_EQ(member->months.size(), 1U);  // C3 was created in June 2024
    EXPECT_EQ(member->months[0].state.lifecycle, Lifecycle::kContacts);
    const auto c2 = index.History(C2, At(kT));
    ASSERT_TRUE(c2);
    ASSERT_EQ(c2->months.front().month, (YearMonth{2021, 3}));
    ASSERT_EQ(c2->months.back().month, (YearMonth{2024, 6}));
    // March 2023: first payment; June 2023: second; then sleeping from December 2023.
    const auto at = [&](std::int32_t year, std::int32_t month) {
        return c2
            ->months[static_cast<std::size_t>(MonthIndex({year, month}) - MonthIndex({2021, 3}))];
    };
    EXPECT_EQ(at(2023, 2).state.lifecycle, Lifecycle::kRequests);  // the deal of February
    EXPECT_EQ(at(2023, 3).state.frequency, Frequency::kFirst);
    EXPECT_EQ(at(2023, 6).state.frequency, Frequency::kRegular);
    EXPECT_EQ(at(2023, 6).turnover, 300000);
    EXPECT_EQ(at(2023, 11).state.lifecycle, Lifecycle::kActive);
    EXPECT_EQ(at(2023, 12).state.lifecycle, Lifecycle::kSleeping);
    EXPECT_EQ(at(2024, 6).turnover, 0);
    EXPECT_FALSE(index.History({CardKind::kCompany, 4}, At(kT)));   // the portal's own
    EXPECT_FALSE(index.History({CardKind::kCompany, 99}, At(kT)));  // not in the index
    const auto later = index.History({CardKind::kContact, 43}, At(kT));
    ASSERT_TRUE(later);
    EXPECT_TRUE(later->months.empty());  // created after T
}

}  // namespace
}  // namespace segtest
