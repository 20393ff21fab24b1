// Monthly series (§6): the event sweep against a brute-force evaluation of every client at every
// month end, plus the edges the brute force cannot see (first month, local months, empty portals).

#include <algorithm>
#include <climits>
#include <random>

#include <gtest/gtest.h>

#include "random_portal.hpp"
#include "reference_model.hpp"
#include "segmenter/segmenter.hpp"
#include "test_support.hpp"

namespace segtest {
namespace {

using namespace segmenter;

// The same portal with every instant moved to offset 0 at the same local wall-clock time: instant
// comparisons on it are local-time comparisons on the original.
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
        if (d.moved_time) {
            d.moved_time = Localized(*d.moved_time);
        }
        if (d.close_date) {
            d.close_date = Localized(*d.close_date);
        }
    }
    for (Invoice& v : p.invoices) {
        v.created = Localized(v.created);
        if (v.paid_time) {
            v.paid_time = Localized(*v.paid_time);
        }
    }
    for (Activity& a : p.activities) {
        a.created = Localized(a.created);
    }
    return p;
}

// Checks every month of the series against the brute-force counts: months before the month of T
// at the end of the month on the local clock, the last month at T itself.
void ExpectSeriesMatchBruteForce(const PortalData& portal, Instant t, const Settings& settings) {
    const MonthlySeries series = PortalIndex::Build(portal, settings).Series(t);
    const PortalData local = Localize(portal);
    ASSERT_GE(series.month_count, 1U);
    EXPECT_EQ(series.Month(series.month_count - 1), MonthOf(t));
    for (std::size_t i = 0; i < series.month_count; ++i) {
        const bool last = i + 1 == series.month_count;
        const auto expected =
            last ? ReferenceCountsAt(portal, t, settings)
                 : ReferenceCountsAt(local, EndOfMonth(series.Month(i), 0), settings);
        for (std::size_t s = 0; s < kSeriesCount; ++s) {
            ASSERT_EQ(series.values[s][i], expected[s])
                << ModeId(static_cast<Series>(s)) << "." << SeriesId(static_cast<Series>(s))
                << " at " << FormatYearMonth(series.Month(i)) << " (T " << FormatInstant(t) << ")";
        }
    }
}

TEST(Series, SweepMatchesBruteForceOnRandomPortals) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        std::mt19937_64 rng(seed);
        RandomOptions options;
        options.months = 40;
        const PortalData portal = RandomPortal(rng, options);
        for (int k = 0; k < 3; ++k) {
            SCOPED_TRACE("seed " + std::to_string(seed));
            ExpectSeriesMatchBruteForce(portal, RandomInstant(rng, options), {});
        }
    }
}

TEST(Series, SweepMatchesBruteForceWithMixedOffsetsAndOtherWindows) {
    for (std::uint64_t seed = 100; seed <= 108; ++seed) {
        std::mt19937_64 rng(seed);
        RandomOptions options;
        options.mixed_offsets = true;
        options.months = 36;
        const PortalData portal = RandomPortal(rng, options);
        const Settings settings = seed % 2 == 0 ? Settings{1, 2} : Settings{3, 11};
        SCOPED_TRACE("seed " + std::to_string(seed));
        ExpectSeriesMatchBruteForce(portal, RandomInstant(rng, options), settings);
    }
}

TEST(Series, LastMonthEqualsTodaysCardValues) {
    std::mt19937_64 rng(7);
    RandomOptions options;
    const PortalData portal = RandomPortal(rng, options);
    const Instant t = At("2024-01-01T00:00:00+03:00");  // after every record
    const PortalIndex index = PortalIndex::Build(portal);
    const MonthlySeries series = index.Series(t);
    const auto cards = index.AllCards(t);
    for (std::size_t s = 0; s < kSeriesCount; ++s) {
        std::int64_t listed = 0;
        for (const Card& card : cards) {
            listed += InSeries(static_cast<Series>(s), card.ref.kind, card.values) ? 1 : 0;
        }
        EXPECT_EQ(series.Today(static_cast<Series>(s)), listed)
            << ModeId(static_cast<Series>(s)) << "." << SeriesId(static_cast<Series>(s));
    }
    EXPECT_EQ(series.Today(Series::kAllClients),
              series.Today(Series::kB2B) + series.Today(Series::kB2C));
}

TEST(Series, ModesPartitionTheClients) {
    std::mt19937_64 rng(11);
    const PortalData portal = RandomPortal(rng, {});
    const MonthlySeries series = PortalIndex::Build(portal).Series(At("2023-09-15T00:00:00"));
    for (std::size_t i = 0; i < series.month_count; ++i) {
        const auto at = [&](Series s) { return series.At(s, i); };
        const std::int64_t all = at(Series::kAllClients);
        EXPECT_EQ(all, at(Series::kB2B) + at(Series::kB2C));
        EXPECT_EQ(all, at(Series::kRegular) + at(Series::kFirst) + at(Series::kNone));
        EXPECT_EQ(at(Series::kNone), at(Series::kRequests) + at(Series::kDialogs) +
                                         at(Series::kWithContacts) + at(Series::kNoContacts));
        EXPECT_EQ(all - at(Series::kNone),
                  at(Series::kActive) + at(Series::kSleeping) + at(Series::kLost));
        EXPECT_GE(at(Series::kCompanies), at(Series::kB2B));
        if (i > 0) {
            EXPECT_GE(at(Series::kContacts), series.At(Series::kContacts, i - 1));
            EXPECT_GE(all, series.At(Series::kAllClients, i - 1));  // nothing is deleted here
        }
    }
}

TEST(Series, EmptyPortalHasOneMonthOfZeros) {
    const MonthlySeries series = PortalIndex::Build({}).Series(At("2024-06-15T12:00:00"));
    EXPECT_EQ(series.month_count, 1U);
    EXPECT_EQ(series.first_month, (YearMonth{2024, 6}));
    for (const auto& values : series.values) {
        EXPECT_EQ(values, std::vector<std::int64_t>{0});
    }
}

TEST(Series, StartsWithTheFirstContactOrClientCompany) {
    PortalData p;
    p.companies = {{.id = 1, .created = At("2015-01-01"), .is_my_company = true},
                   {.id = 2, .created = At("2021-03-10")}};
    p.contacts = {{.id = 5, .created = At("2020-11-30T23:59:59")}};
    p.deals = {{.id = 9, .created = At("2012-01-01"), .company_id = 2}};
    const MonthlySeries series = PortalIndex::Build(p).Series(At("2021-05-01T00:00:00"));
    EXPECT_EQ(series.first_month, (YearMonth{2020, 11}));
    EXPECT_EQ(series.month_count, 7U);
    EXPECT_EQ(series.values[SeriesIndex(Series::kContacts)],
              (std::vector<std::int64_t>{1, 1, 1, 1, 1, 1, 1}));
    EXPECT_EQ(series.values[SeriesIndex(Series::kCompanies)],
              (std::vector<std::int64_t>{0, 0, 0, 0, 1, 1, 1}));
    // The deal is a request from the company's first month on (it exists before the company).
    EXPECT_EQ(series.values[SeriesIndex(Series::kRequests)],
              (std::vector<std::int64_t>{0, 0, 0, 0, 1, 1, 1}));
    EXPECT_EQ(series.values[SeriesIndex(Series::kNoContacts)],
              (std::vector<std::int64_t>{1, 1, 1, 1, 1, 1, 1}));
}

TEST(Series, RecordsAfterTAreNotCounted) {
    PortalData p;
    p.contacts = {{.id = 5, .created = At("2024-01-01")},
                  {.id = 6, .created = At("2025-01-01")},
                  {.id = 7, .created = At("2024-06-15T12:00:01")}};
    const MonthlySeries series = PortalIndex::Build(p).Series(At("2024-06-15T12:00:00"));
    EXPECT_EQ(series.first_month, (YearMonth{2024, 1}));
    EXPECT_EQ(series.Today(Series::kContacts), 1);
    EXPECT_EQ(series.Today(Series::kB2C), 1);
}

TEST(Series, AllRecordsAfterTGiveTheMonthOfT) {
    PortalData p;
    p.contacts = {{.id = 5, .created = At("2025-01-01")}};
    const MonthlySeries series = PortalIndex::Build(p).Series(At("2024-06-15T12:00:00"));
    EXPECT_EQ(series.first_month, (YearMonth{2024, 6}));
    EXPECT_EQ(series.month_count, 1U);
    EXPECT_EQ(series.Today(Series::kContacts), 0);
}

TEST(Series, MonthsAreTheLocalMonthsAsWritten) {
    // A summer-time portal: written at +02:00 in April, at +01:00 when T is taken. 00:30 on
    // 1 April local is 22:30 UTC on 31 March, yet it belongs to April.
    PortalData p;
    p.contacts = {{.id = 5, .created = At("2024-03-15T10:00:00+01:00")},
                  {.id = 6, .created = At("2024-04-01T00:30:00+02:00")},
                  {.id = 7, .created = At("2024-03-31T23:30:00+02:00")}};
    const MonthlySeries series = PortalIndex::Build(p).Series(At("2024-12-10T10:00:00+01:00"));
    EXPECT_EQ(series.first_month, (YearMonth{2024, 3}));
    EXPECT_EQ(series.At(Series::kContacts, 0), 2);  // March: 5 and 7
    EXPECT_EQ(series.At(Series::kContacts, 1), 3);  // April: and 6
}

TEST(Series, WindowEdgesAtMonthEndsFollowCalendarArithmetic) {
    // End of April - 6 months = 30 October 23:59:59: a payment on 31 October is still ACTIVE at the
    // end of April, one on 30 October is not.
    PortalData p;
    p.companies = {{.id = 1, .created = At("2023-10-01")}, {.id = 2, .created = At("2023-10-01")}};
    p.deals = {{.id = 10,
                .created = At("2023-10-01"),
                .company_id = 1,
                .stage = StageSemantic::kWon,
                .moved_time = At("2023-10-31T10:00:00")},
               {.id = 11,
                .created = At("2023-10-01"),
                .company_id = 2,
                .stage = StageSemantic::kWon,
                .moved_time = At("2023-10-30T10:00:00")}};
    const MonthlySeries series = PortalIndex::Build(p).Series(At("2024-06-10T00:00:00"));
    ASSERT_EQ(series.first_month, (YearMonth{2023, 10}));
    // Oct Nov Dec Jan Feb Mar Apr May Jun
    EXPECT_EQ(series.values[SeriesIndex(Series::kActive)],
              (std::vector<std::int64_t>{2, 2, 2, 2, 2, 2, 1, 0, 0}));
    EXPECT_EQ(series.values[SeriesIndex(Series::kSleeping)],
              (std::vector<std::int64_t>{0, 0, 0, 0, 0, 0, 1, 2, 2}));
    ExpectSeriesMatchBruteForce(p, At("2024-06-10T00:00:00"), {});
}

TEST(Series, ClientsWithPaymentsBeforeTheirCreationCountFromTheirCreation) {
    PortalData p;
    p.companies = {{.id = 1, .created = At("2024-03-05")}};
    p.contacts = {{.id = 5, .created = At("2024-01-05"), .company_id = 1}};
    p.deals = {{.id = 10,
                .created = At("2024-01-10"),
                .contact_ids = {5},
                .stage = StageSemantic::kWon,
                .moved_time = At("2024-01-20")}};
    const MonthlySeries series = PortalIndex::Build(p).Series(At("2024-04-10T00:00:00"));
    ASSERT_EQ(series.first_month, (YearMonth{2024, 1}));
    // The member is no client; the company exists from March and has had its payment since January.
    EXPECT_EQ(series.values[SeriesIndex(Series::kAllClients)],
              (std::vector<std::int64_t>{0, 0, 1, 1}));
    EXPECT_EQ(series.values[SeriesIndex(Series::kActive)], (std::vector<std::int64_t>{0, 0, 1, 1}));
    EXPECT_EQ(series.values[SeriesIndex(Series::kFirst)], (std::vector<std::int64_t>{0, 0, 1, 1}));
    EXPECT_EQ(series.values[SeriesIndex(Series::kContacts)],
              (std::vector<std::int64_t>{1, 1, 1, 1}));
}

}  // namespace
}  // namespace segtest

namespace segtest {
namespace {

TEST(Series, OutOfRangeSettingsStayDefined) {
    std::mt19937_64 rng(31);
    const PortalData portal = RandomPortal(rng, {});
    const Instant t = At("2023-06-30T12:00:00");
    for (const Settings& settings : {Settings{0, 0}, Settings{-5, 3}, Settings{200, 5000},
                                     Settings{INT32_MIN, INT32_MAX}, Settings{18, 6}}) {
        const PortalIndex index = PortalIndex::Build(portal, settings);
        const MonthlySeries series = index.Series(t);
        std::int64_t with_payments = 0;
        for (const Card& card : index.AllCards(t)) {
            with_payments += InSeries(Series::kActive, card.ref.kind, card.values) ||
                                     InSeries(Series::kSleeping, card.ref.kind, card.values) ||
                                     InSeries(Series::kLost, card.ref.kind, card.values)
                                 ? 1
                                 : 0;
        }
        EXPECT_EQ(series.Today(Series::kActive) + series.Today(Series::kSleeping) +
                      series.Today(Series::kLost),
                  with_payments);
        // Clamped like the documented 0..1200.
        const Settings clamped{std::clamp(settings.active_months, 0, 1200),
                               std::clamp(settings.lost_months, 0, 1200)};
        EXPECT_EQ(series, PortalIndex::Build(portal, clamped).Series(t));
    }
}

}  // namespace
}  // namespace segtest
