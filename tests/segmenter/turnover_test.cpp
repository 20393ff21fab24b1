// Turnover and tiers (segmenter/README.md "Turnover", "Tiers"): currency conversion, windows, tier
// boundaries and the default by rank, the tiers mode against brute force, b24seg's own activities.
// Card values are also checked against the naive reference model.

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "random_portal.hpp"
#include "reference_model.hpp"
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

Company Client(std::int64_t id, const char* created = "2020-01-01") {
    return {.id = id, .created = At(created)};
}
Contact Person(std::int64_t id, std::int64_t company = 0) {
    return {.id = id, .created = At("2020-01-01"), .company_id = company};
}
Deal Sale(std::int64_t id,
          std::int64_t company,
          const char* moved,
          double amount,
          const char* currency = "",
          std::vector<std::int64_t> contacts = {}) {
    return {.id = id,
            .created = At("2020-02-01"),
            .company_id = company,
            .contact_ids = std::move(contacts),
            .stage = StageSemantic::kWon,
            .moved_time = At(moved),
            .opportunity = amount,
            .currency_id = currency};
}
Invoice Paid(std::int64_t id,
             std::int64_t company,
             std::int64_t deal,
             const char* paid,
             double amount,
             const char* currency = "") {
    return {.id = id,
            .created = At("2020-02-01"),
            .company_id = company,
            .deal_id = deal,
            .paid = true,
            .paid_time = At(paid),
            .opportunity = amount,
            .currency_id = currency};
}

// Card values from the index, checked against the reference model.
CardValues CardOf(const PortalData& portal,
                  CardRef card,
                  Settings settings = {},
                  const char* t = kT) {
    const PortalIndex index = PortalIndex::Build(portal, settings);
    const auto values = index.Card(card, At(t));
    EXPECT_TRUE(values);
    for (const Card& expected : ReferenceCards(portal, At(t), settings)) {
        if (expected.ref == card && values) {
            EXPECT_EQ(*values, expected.values) << "index and reference model disagree";
        }
    }
    return values.value_or(CardValues{});
}

const std::vector<Currency> kRub = {
    {"RUB", 1, 1, true},   {"USD", 68.79, 1, false}, {"IDR", 54.8738, 10000, false},
    {"ZERO", 0, 1, false}, {"NEG", 5, -1, false},    {"NAN", std::nan(""), 1, false}};

// ---------------------------------------------------------------------------------------------
// Conversion.

struct ConvertCase {
    const char* name;
    double amount;
    const char* currency;
    std::vector<Currency> table;
    std::optional<std::int64_t> expected;
};

class Convert : public ::testing::TestWithParam<ConvertCase> {};

TEST_P(Convert, ToBaseAmount) {
    const ConvertCase& row = GetParam();
    EXPECT_EQ(ToBaseAmount(row.amount, row.currency, row.table), row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Currencies,
    Convert,
    ::testing::Values(ConvertCase{"BaseCurrencyAsWritten", 1234.56, "RUB", kRub, 123456},
                      ConvertCase{"EmptyCurrencyIsTheBase", 10, "", kRub, 1000},
                      ConvertCase{"RateTimesAmount", 1000, "USD", kRub, 6879000},
                      ConvertCase{"FaceValueDivides", 10000, "IDR", kRub,
                                  5487},  // 54.8738 -> 54.87
                      ConvertCase{"TinyAmountRoundsToZero", 0.5, "IDR", kRub, 0},  // 0.0027 -> 0.00
                      ConvertCase{"HalfACentRoundsAwayFromZero",
                                  1,
                                  "EIGHTH",
                                  {{"EIGHTH", 0.125, 1, false}},
                                  13},  // 12.5 hundredths
                      ConvertCase{"UnknownCurrency", 10, "EUR", kRub, std::nullopt},
                      ConvertCase{"CodesAreExact", 10, "usd", kRub, std::nullopt},
                      ConvertCase{"ZeroRateIsUnknown", 10, "ZERO", kRub, std::nullopt},
                      ConvertCase{"NegativeFaceValueIsUnknown", 10, "NEG", kRub, std::nullopt},
                      ConvertCase{"NanRateIsUnknown", 10, "NAN", kRub, std::nullopt},
                      ConvertCase{"EmptyTableTakesAmountsAsWritten", 12.34, "USD", {}, 1234},
                      ConvertCase{"NoBaseRowMeansRateOne", 7, "", {{"USD", 68.79, 1, false}}, 700},
                      ConvertCase{"NegativeAmountIsZero", -50, "RUB", kRub, 0},
                      ConvertCase{"NanAmountIsZero", std::nan(""), "RUB", kRub, 0},
                      ConvertCase{"InfiniteAmountIsZero", std::numeric_limits<double>::infinity(),
                                  "RUB", kRub, 0},
                      ConvertCase{"HugeAmountIsClamped", 1e300, "USD", kRub, kMaxAmount}),
    CaseName);

TEST(Amounts, FormatAndParse) {
    EXPECT_EQ(FormatAmount(123456), "1234.56");
    EXPECT_EQ(FormatAmount(-5), "-0.05");
    EXPECT_EQ(FormatAmount(0), "0.00");
    EXPECT_EQ(FormatAmount(std::numeric_limits<std::int64_t>::min()), "-92233720368547758.08");
    EXPECT_EQ(ParseAmount("1234.56"), 123456);
    EXPECT_EQ(ParseAmount("1234.5"), 123450);
    EXPECT_EQ(ParseAmount("-7"), -700);
    EXPECT_EQ(ParseAmount("0.01"), 1);
    for (const char* bad :
         {"", "-", "1.", ".5", "1.234", "1e5", "12a", "1 000", "--1", "99999999999999999"}) {
        EXPECT_FALSE(ParseAmount(bad)) << bad;
    }
    EXPECT_EQ(AddAmounts(std::numeric_limits<std::int64_t>::max(), 1),
              std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(AddAmounts(std::numeric_limits<std::int64_t>::min(), -1),
              std::numeric_limits<std::int64_t>::min());
}

// ---------------------------------------------------------------------------------------------
// Which amount a payment has, and the windows.

TEST(Turnover, PaymentAmountIsTheInvoicesOrTheDealsConverted) {
    PortalData p;
    p.currencies = kRub;
    p.companies = {Client(1), Client(2), Client(3)};
    // A won deal without invoice: the deal's amount, in dollars.
    p.deals = {Sale(10, 1, "2024-05-01T10:00:00", 100, "USD"),
               // A won deal with two paid instalments: the invoices' amounts, not the deal's.
               Sale(20, 2, "2024-04-01T10:00:00", 999999),
               // A deal in a currency the portal does not have: a payment worth nothing.
               Sale(30, 3, "2024-04-01T10:00:00", 500, "EUR")};
    p.invoices = {Paid(21, 2, 20, "2024-04-02T10:00:00", 300),
                  Paid(22, 2, 20, "2024-05-02T10:00:00", 200.5)};
    EXPECT_EQ(CardOf(p, {CardKind::kCompany, 1}).turnover, 687900);
    EXPECT_EQ(CardOf(p, {CardKind::kCompany, 2}).turnover, 50050);
    const CardValues three = CardOf(p, {CardKind::kCompany, 3});
    EXPECT_EQ(three.turnover, 0);
    EXPECT_EQ(three.payments, 1);  // still a payment

    const PortalIndex index = PortalIndex::Build(p);
    const auto detail = index.Detail({CardKind::kCompany, 3}, At(kT));
    ASSERT_TRUE(detail);
    ASSERT_EQ(detail->payments.size(), 1U);
    EXPECT_EQ(detail->payments[0].amount, 500);
    EXPECT_EQ(detail->payments[0].currency, "EUR");
    EXPECT_EQ(detail->payments[0].base_amount, std::nullopt);
    EXPECT_EQ(detail->unconverted_payments, 1);
    const auto two = index.Detail({CardKind::kCompany, 2}, At(kT));
    ASSERT_TRUE(two);
    EXPECT_EQ(two->lifetime_turnover, 50050);
    EXPECT_EQ(two->payments[1].base_amount, 20050);
}

struct WindowCase {
    const char* name;
    const char* paid;
    std::int32_t months;
    bool inside;
};

class TurnoverWindow : public ::testing::TestWithParam<WindowCase> {};

TEST_P(TurnoverWindow, PaymentsLaterThanTMinusTheWindow) {
    const WindowCase& row = GetParam();
    PortalData p;
    p.companies = {Client(1)};
    p.deals = {Sale(10, 1, row.paid, 100)};
    Settings settings;
    settings.turnover_months = row.months;
    const CardValues v = CardOf(p, {CardKind::kCompany, 1}, settings);
    EXPECT_EQ(v.turnover, row.inside ? 10000 : 0);
    // The lifetime turnover counts every payment up to T.
    const auto detail = PortalIndex::Build(p, settings).Detail({CardKind::kCompany, 1}, At(kT));
    ASSERT_TRUE(detail);
    const bool paid_by_t = At(row.paid).utc <= At(kT).utc;
    EXPECT_EQ(detail->lifetime_turnover, paid_by_t ? 10000 : 0);
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries,
    TurnoverWindow,
    ::testing::Values(WindowCase{"ExactlyTwelveMonthsBeforeIsOut", "2023-06-15T12:00:00+03:00", 12,
                                 false},
                      WindowCase{"OneSecondLaterIsIn", "2023-06-15T12:00:01+03:00", 12, true},
                      WindowCase{"AtTIsIn", "2024-06-15T12:00:00+03:00", 12, true},
                      WindowCase{"AfterTIsOut", "2024-06-15T12:00:01+03:00", 12, false},
                      WindowCase{"OtherOffsetSameMoment", "2023-06-15T09:00:01+00:00", 12, true},
                      WindowCase{"OneMonthWindow", "2024-05-15T12:00:01+03:00", 1, true},
                      WindowCase{"OneMonthWindowEdge", "2024-05-15T12:00:00+03:00", 1, false},
                      WindowCase{"LongWindow", "2014-06-15T12:00:01+03:00", 120, true}),
    CaseName);

TEST(Turnover, MembersShowTheirCompanysTurnoverAndTier) {
    PortalData p;
    p.companies = {Client(1)};
    p.contacts = {Person(5, 1), Person(6)};
    // The member's own deal is its company's payment.
    p.deals = {Sale(10, 0, "2024-05-01T10:00:00", 1000, "", {5}),
               Sale(11, 0, "2024-05-01T10:00:00", 10, "", {6})};
    const CardValues member = CardOf(p, {CardKind::kContact, 5});
    EXPECT_EQ(member.turnover, 100000);
    EXPECT_EQ(member.tier, "PLATINUM");
    const CardValues company = CardOf(p, {CardKind::kCompany, 1});
    EXPECT_EQ(company.turnover, member.turnover);
    EXPECT_EQ(company.tier, member.tier);
    // Two ranked: ceil(2 * 5 %) = ceil(2 * 20 %) = ceil(2 * 50 %) = 1, so only the first has a
    // tier.
    EXPECT_EQ(CardOf(p, {CardKind::kContact, 6}).tier, std::nullopt);
}

TEST(Turnover, OwnCompanyHasNoTurnoverField) {
    PortalData p;
    p.companies = {{.id = 1, .created = At("2019-01-01"), .is_my_company = true}};
    const CardValues v = CardOf(p, {CardKind::kCompany, 1});
    EXPECT_EQ(v.turnover, std::nullopt);
    EXPECT_EQ(v.tier, std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Tiers.

// Company i pays amounts[i - 1] (in units) within the window.
PortalData Paying(const std::vector<double>& amounts) {
    PortalData p;
    for (std::size_t i = 0; i < amounts.size(); ++i) {
        const auto id = static_cast<std::int64_t>(i + 1);
        p.companies.push_back(Client(id));
        if (amounts[i] != 0.0) {
            p.deals.push_back(Sale(100 + id, id, "2024-05-01T10:00:00", amounts[i]));
        }
    }
    return p;
}

std::vector<std::string> TiersOf(const PortalData& p, const Settings& settings = {}) {
    std::vector<std::string> tiers;
    for (std::size_t i = 0; i < p.companies.size(); ++i) {
        const CardValues v =
            CardOf(p, {CardKind::kCompany, static_cast<std::int64_t>(i + 1)}, settings);
        tiers.push_back(v.tier.value_or("-"));
    }
    return tiers;
}

struct RankCase {
    const char* name;
    std::vector<double> amounts;
    std::vector<std::string> tiers;
};

class RankTiers : public ::testing::TestWithParam<RankCase> {};

TEST_P(RankTiers, ByDefault) {
    EXPECT_EQ(TiersOf(Paying(GetParam().amounts)), GetParam().tiers);
}

INSTANTIATE_TEST_SUITE_P(
    Default,
    RankTiers,
    ::testing::Values(
        // N = 1: ceil(5 %), ceil(20 %) and ceil(50 %) of one client are all that client.
        RankCase{"OneClientIsPlatinum", {10}, {"PLATINUM"}},
        // Zero turnover is never ranked nor tiered.
        RankCase{"ZeroTurnoverHasNoTier", {10, 0, 0}, {"PLATINUM", "-", "-"}},
        // N = 4: ceil(0.2) = 1 platinum; ceil(0.8) = 1, so gold adds nobody; ceil(2) = 2 silver.
        RankCase{"FourClients", {40, 30, 20, 10}, {"PLATINUM", "SILVER", "-", "-"}},
        // N = 10: 1 platinum, ranks 2 gold, 3-5 silver, 6-10 none.
        RankCase{"TenClients",
                 {100, 90, 80, 70, 60, 50, 40, 30, 20, 10},
                 {"PLATINUM", "GOLD", "SILVER", "SILVER", "SILVER", "-", "-", "-", "-", "-"}},
        // Ties at a boundary go up: both second places are gold.
        RankCase{"TiesGoUp",
                 {100, 90, 90, 70, 60, 50, 40, 30, 20, 10},
                 {"PLATINUM", "GOLD", "GOLD", "SILVER", "SILVER", "-", "-", "-", "-", "-"}},
        // Everyone tied: everyone is platinum.
        RankCase{"AllTied", {5, 5, 5, 5}, {"PLATINUM", "PLATINUM", "PLATINUM", "PLATINUM"}},
        // Negative amounts count as zero.
        RankCase{"NegativeAmountIsNoTurnover", {-5, 10}, {"-", "PLATINUM"}}),
    CaseName);

TEST(Tiers, TwentyOneClientsGiveTwoPlatinum) {
    std::vector<double> amounts;
    for (int i = 21; i >= 1; --i) {
        amounts.push_back(i * 10.0);
    }
    const auto tiers = TiersOf(Paying(amounts));
    // ceil(21 * 5 %) = 2, ceil(21 * 20 %) = 5, ceil(21 * 50 %) = 11.
    EXPECT_EQ(std::count(tiers.begin(), tiers.end(), "PLATINUM"), 2);
    EXPECT_EQ(std::count(tiers.begin(), tiers.end(), "GOLD"), 3);
    EXPECT_EQ(std::count(tiers.begin(), tiers.end(), "SILVER"), 6);
    EXPECT_EQ(std::count(tiers.begin(), tiers.end(), "-"), 10);
}

TEST(Tiers, RankingCountsOnlyClientsExistingAtT) {
    // Company 2 is created after T: it has a card but is not ranked.
    PortalData p = Paying({10, 1000});
    p.companies[1].created = At("2024-07-01");
    const PortalIndex index = PortalIndex::Build(p);
    const TierScale scale = index.TiersAt(At(kT));
    EXPECT_TRUE(scale.by_rank);
    EXPECT_EQ(scale.ranked, 1);
    EXPECT_EQ(scale.codes, (std::vector<std::string>{"SILVER", "GOLD", "PLATINUM"}));
    EXPECT_EQ(scale.thresholds, (std::vector<std::int64_t>{1000, 1000, 1000}));
}

TEST(Tiers, NobodyRankedGivesUnreachableThresholds) {
    const PortalIndex index = PortalIndex::Build(Paying({0, 0}));
    const TierScale scale = index.TiersAt(At(kT));
    EXPECT_EQ(scale.ranked, 0);
    for (const std::int64_t threshold : scale.thresholds) {
        EXPECT_EQ(threshold, TierScale::kUnreachable);
    }
    EXPECT_EQ(scale.TierOf(std::numeric_limits<std::int64_t>::max() - 1), -1);
}

struct AdminCase {
    const char* name;
    double amount;
    const char* tier;
};

class AdminTiers : public ::testing::TestWithParam<AdminCase> {};

TEST_P(AdminTiers, AtLeastTheThreshold) {
    Settings settings;
    settings.tiers = {{"BASIC", 0}, {"SILVER", 100000}, {"GOLD", 500000}};
    EXPECT_EQ(TiersOf(Paying({GetParam().amount}), settings),
              std::vector<std::string>{GetParam().tier});
}

INSTANTIATE_TEST_SUITE_P(Thresholds,
                         AdminTiers,
                         ::testing::Values(AdminCase{"ZeroTurnoverIsNoTierEvenAtThresholdZero", 0,
                                                     "-"},
                                           AdminCase{"OneCentIsTheLowest", 0.01, "BASIC"},
                                           AdminCase{"OneCentBelowSilver", 999.99, "BASIC"},
                                           AdminCase{"ExactlySilver", 1000, "SILVER"},
                                           AdminCase{"ExactlyGold", 5000, "GOLD"},
                                           AdminCase{"AboveTheTop", 1e6, "GOLD"}),
                         CaseName);

TEST(Tiers, UnsortedAdminTiersAreUsedInThresholdOrder) {
    Settings settings;
    settings.tiers = {{"GOLD", 500000}, {"SILVER", 100000}};
    EXPECT_EQ(TierCodes(settings), (std::vector<std::string>{"SILVER", "GOLD"}));
    EXPECT_EQ(TiersOf(Paying({2000, 6000}), settings),
              (std::vector<std::string>{"SILVER", "GOLD"}));
    EXPECT_EQ(TierCodes(Settings{}), (std::vector<std::string>{"SILVER", "GOLD", "PLATINUM"}));
}

TEST(Tiers, ValidateTiers) {
    EXPECT_EQ(ValidateTiers({{"SILVER", 0}, {"GOLD", 100}}), std::nullopt);
    EXPECT_TRUE(ValidateTiers({}));
    EXPECT_TRUE(ValidateTiers({{"gold", 0}}));                // lower case
    EXPECT_TRUE(ValidateTiers({{"", 0}}));                    // empty
    EXPECT_TRUE(ValidateTiers({{"NONE", 0}}));                // reserved
    EXPECT_TRUE(ValidateTiers({{"A", 0}, {"A", 5}}));         // twice
    EXPECT_TRUE(ValidateTiers({{"A", 5}, {"B", 5}}));         // not rising
    EXPECT_TRUE(ValidateTiers({{"A", -1}}));                  // negative
    EXPECT_TRUE(ValidateTiers({{"A", kMaxAmount + 1}}));      // too large
    EXPECT_TRUE(ValidateTiers({{std::string(51, 'A'), 0}}));  // too long
    std::vector<Tier> many;
    for (int i = 0; i < 21; ++i) {
        many.push_back({"T" + std::to_string(i), i});
    }
    EXPECT_TRUE(ValidateTiers(many));
    EXPECT_NE(ValidateTiers({{"A", 0}, {"A", 5}})->find("twice"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Currencies and activities through Apply.

TEST(Turnover, NewRatesConvertEveryAmountAndTouchEveryCard) {
    PortalData p;
    p.currencies = {{"RUB", 1, 1, true}, {"USD", 60, 1, false}};
    p.companies = {Client(1), Client(2)};
    p.deals = {Sale(10, 1, "2024-05-01T10:00:00", 10, "USD"),
               Sale(20, 2, "2024-05-01T10:00:00", 10, "EUR")};
    PortalIndex index = PortalIndex::Build(p);
    EXPECT_EQ(index.Card({CardKind::kCompany, 1}, At(kT))->turnover, 60000);
    EXPECT_EQ(index.Card({CardKind::kCompany, 2}, At(kT))->turnover, 0);

    Changes changes;
    changes.upsert.currencies = {{"USD", 70, 1, false}, {"EUR", 80, 1, false}};
    const auto touched = index.Apply(changes);
    EXPECT_EQ(touched.size(), 2U);
    EXPECT_EQ(index.Card({CardKind::kCompany, 1}, At(kT))->turnover, 70000);
    EXPECT_EQ(index.Card({CardKind::kCompany, 2}, At(kT))->turnover, 80000);

    Changes removal;
    removal.remove.currencies = {"USD"};
    index.Apply(removal);
    EXPECT_EQ(index.Card({CardKind::kCompany, 1}, At(kT))->turnover, 0);
    p.currencies = {{"RUB", 1, 1, true}, {"EUR", 80, 1, false}};
    EXPECT_EQ(index.AllCards(At(kT)), PortalIndex::Build(p).AllCards(At(kT)));
}

TEST(Activities, OurOwnActivitiesAreNoDialogs) {
    PortalData p;
    p.companies = {Client(1)};
    p.contacts = {Person(5)};
    p.activities = {{.id = 1,
                     .created = At("2021-01-01"),
                     .bindings = {{kEntityTypeCompany, 1}},
                     .app_created = true},
                    {.id = 2, .created = At("2021-01-01"), .bindings = {{kEntityTypeContact, 5}}}};
    EXPECT_EQ(CardOf(p, {CardKind::kCompany, 1}).has_dialogs, false);
    EXPECT_EQ(CardOf(p, {CardKind::kCompany, 1}).lifecycle, Lifecycle::kNoContacts);
    EXPECT_EQ(CardOf(p, {CardKind::kContact, 5}).has_dialogs, true);
    PortalIndex index = PortalIndex::Build(p);
    EXPECT_EQ(index.Detail({CardKind::kCompany, 1}, At(kT))->dialog_count, 0);

    // Turning an activity into ours (and back) through Apply.
    Changes ours;
    ours.upsert.activities = {p.activities[1]};
    ours.upsert.activities[0].app_created = true;
    index.Apply(ours);
    EXPECT_EQ(index.Card({CardKind::kContact, 5}, At(kT))->has_dialogs, false);
    Changes theirs;
    theirs.upsert.activities = {p.activities[0]};
    theirs.upsert.activities[0].app_created = false;
    index.Apply(theirs);
    EXPECT_EQ(index.Card({CardKind::kCompany, 1}, At(kT))->has_dialogs, true);
    Changes removal;
    removal.remove.activities = {1, 2};
    index.Apply(removal);
    EXPECT_EQ(index.Card({CardKind::kCompany, 1}, At(kT))->has_dialogs, false);
}

// ---------------------------------------------------------------------------------------------
// The tiers mode against brute force: every month on the localized portal (see series_test.cpp).

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

void ExpectTiersMatchBruteForce(const PortalData& portal, Instant t, const Settings& settings) {
    const PortalIndex index = PortalIndex::Build(portal, settings);
    const TierSeries series = index.Tiers(t);
    const MonthlySeries fixed = index.Series(t);
    ASSERT_EQ(series.first_month, fixed.first_month);
    ASSERT_EQ(series.month_count, fixed.month_count);
    EXPECT_EQ(series.codes, TierCodes(settings));
    const PortalData local = Localize(portal);
    for (std::size_t m = 0; m < series.month_count; ++m) {
        const bool last = m + 1 == series.month_count;
        const std::vector<std::int64_t> expected =
            last ? ReferenceTierCountsAt(portal, t, settings)
                 : ReferenceTierCountsAt(local, EndOfMonth(series.Month(m), 0), settings);
        std::int64_t total = 0;
        for (std::size_t i = 0; i < expected.size(); ++i) {
            ASSERT_EQ(series.values[i][m], expected[i])
                << (i < series.codes.size() ? series.codes[i] : "none") << " at "
                << FormatYearMonth(series.Month(m));
            total += series.values[i][m];
        }
        EXPECT_EQ(total, fixed.At(Series::kAllClients, m));
    }
}

TEST(Tiers, SeriesMatchBruteForceOnRandomPortals) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        std::mt19937_64 rng(seed);
        RandomOptions options;
        options.months = 30;
        const PortalData portal = RandomPortal(rng, options);
        const Settings settings = seed <= 3 ? Settings{} : RandomSettings(rng);
        SCOPED_TRACE("seed " + std::to_string(seed));
        ExpectTiersMatchBruteForce(portal, RandomInstant(rng, options), settings);
    }
}

TEST(Tiers, SeriesMatchBruteForceWithMixedOffsets) {
    for (std::uint64_t seed = 40; seed <= 43; ++seed) {
        std::mt19937_64 rng(seed);
        RandomOptions options;
        options.mixed_offsets = true;
        options.months = 30;
        const PortalData portal = RandomPortal(rng, options);
        Settings settings = RandomSettings(rng);
        if (seed % 2 == 0) {
            settings.tiers.clear();  // by rank
        }
        SCOPED_TRACE("seed " + std::to_string(seed));
        ExpectTiersMatchBruteForce(portal, RandomInstant(rng, options), settings);
    }
}

TEST(Tiers, LastMonthEqualsTodaysCards) {
    std::mt19937_64 rng(9);
    const PortalData portal = RandomPortal(rng, {});
    const Instant t = At("2024-01-01T00:00:00+03:00");
    const PortalIndex index = PortalIndex::Build(portal);
    const TierSeries series = index.Tiers(t);
    std::vector<std::int64_t> counted(series.codes.size() + 1, 0);
    for (const Card& card : index.AllCards(t)) {
        if (card.values.role != Role::kClient) {
            continue;
        }
        const auto at = card.values.tier ? std::find(series.codes.begin(), series.codes.end(),
                                                     *card.values.tier) -
                                               series.codes.begin()
                                         : static_cast<std::ptrdiff_t>(series.codes.size());
        ++counted[static_cast<std::size_t>(at)];
    }
    for (std::size_t i = 0; i < counted.size(); ++i) {
        EXPECT_EQ(series.Today(i), counted[i]);
    }
}

}  // namespace
}  // namespace segtest
