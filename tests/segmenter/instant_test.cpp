// Instants: parsing the portal's forms, formatting, months, and calendar arithmetic (§4).

#include "segmenter/instant.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace segtest {
namespace {

using segmenter::AddMonths;
using segmenter::EndOfMonth;
using segmenter::FormatInstant;
using segmenter::Instant;
using segmenter::MakeInstant;
using segmenter::MonthOf;
using segmenter::ParseInstant;
using segmenter::YearMonth;

TEST(Instant, ParsesThePortalForm) {
    const auto t = ParseInstant("2024-09-09T02:00:00+03:00");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->utc, 1725836400);  // 2024-09-08T23:00:00Z
    EXPECT_EQ(t->offset, 3 * 3600);
    EXPECT_EQ(t->LocalSeconds(), 1725847200);
}

struct ParseCase {
    const char* text;
    std::int64_t utc;
    std::int32_t offset;
};

class ParseAccepted : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseAccepted, GivesTheInstant) {
    const ParseCase& c = GetParam();
    const auto t = ParseInstant(c.text, 7200);  // the default offset applies where none is written
    ASSERT_TRUE(t) << c.text;
    EXPECT_EQ(t->utc, c.utc) << c.text;
    EXPECT_EQ(t->offset, c.offset) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Forms,
    ParseAccepted,
    ::testing::Values(ParseCase{"2024-09-09T02:00:00+03:00", 1725836400, 10800},
                      ParseCase{"2024-09-09T02:00:00+0300", 1725836400, 10800},
                      ParseCase{"2024-09-09T02:00:00+03", 1725836400, 10800},
                      ParseCase{"2024-09-09 02:00:00+03:00", 1725836400, 10800},
                      ParseCase{"2024-09-09T02:00:00.987+03:00", 1725836400, 10800},
                      ParseCase{"2024-09-08T23:00:00Z", 1725836400, 0},
                      ParseCase{"2024-09-08T18:00:00-05:00", 1725836400, -18000},
                      ParseCase{"2024-09-09T05:30:00+05:30", 1725840000, 19800},
                      ParseCase{"2024-09-09T02:00:00", 1725840000, 7200},
                      ParseCase{"2024-09-09", 1725832800, 7200},
                      ParseCase{"1970-01-01T00:00:00+00:00", 0, 0},
                      ParseCase{"1969-12-31T23:59:59Z", -1, 0},
                      ParseCase{"2024-02-29T12:00:00Z", 1709208000, 0}));

TEST(Instant, RejectsMalformedText) {
    for (const char* text : {"",
                             "2024",
                             "2024-09",
                             "2024-9-09",
                             "2024-09-09T",
                             "2024-09-09T02:00",
                             "2024-09-09T2:00:00Z",
                             "2024-13-01T00:00:00Z",
                             "2024-00-01T00:00:00Z",
                             "2023-02-29T00:00:00Z",
                             "2024-04-31T00:00:00Z",
                             "2024-09-09T24:00:00Z",
                             "2024-09-09T23:60:00Z",
                             "2024-09-09T23:59:60Z",
                             "2024-09-09T02:00:00+19:00",
                             "2024-09-09T02:00:00+03:61",
                             "2024-09-09T02:00:00+03:00x",
                             "2024-09-09T02:00:00 +03:00",
                             "2024-09-09T02:00:00.+03:00",
                             "x2024-09-09",
                             "２０２４-09-09"}) {
        EXPECT_FALSE(ParseInstant(text, 0)) << text;
    }
}

TEST(Instant, NeedsAnOffsetWhenNoneIsWritten) {
    EXPECT_FALSE(ParseInstant("2024-09-09T02:00:00"));
    EXPECT_FALSE(ParseInstant("2024-09-09"));
    EXPECT_TRUE(ParseInstant("2024-09-09T02:00:00Z"));
}

TEST(Instant, FormatsInItsOwnOffset) {
    EXPECT_EQ(FormatInstant(At("2024-09-09T02:00:00+03:00")), "2024-09-09T02:00:00+03:00");
    EXPECT_EQ(FormatInstant(At("2024-01-01T00:00:00-05:30")), "2024-01-01T00:00:00-05:30");
    EXPECT_EQ(FormatInstant(Instant{0, 0}), "1970-01-01T00:00:00+00:00");
    EXPECT_EQ(FormatInstant(Instant{-1, 3600}), "1970-01-01T00:59:59+01:00");
}

TEST(Instant, FormatAndParseRoundTrip) {
    for (std::int64_t utc = -86400LL * 800; utc < 86400LL * 365 * 60; utc += 86400LL * 37 + 3607) {
        for (const std::int32_t offset : {0, 10800, -18000, 19800}) {
            const Instant t{utc, offset};
            const auto back = ParseInstant(FormatInstant(t));
            ASSERT_TRUE(back);
            EXPECT_EQ(*back, t);
        }
    }
}

TEST(Instant, EqualityIsRepresentationComparisonIsOnUtc) {
    const Instant moscow = At("2024-01-01T03:00:00+03:00");
    const Instant utc = At("2024-01-01T00:00:00Z");
    EXPECT_EQ(moscow.utc, utc.utc);
    EXPECT_NE(moscow, utc);
}

TEST(Instant, MonthIsTheLocalMonthAsWritten) {
    // The same moment is in February in Moscow and in March in Tokyo.
    EXPECT_EQ(MonthOf(At("2024-02-29T20:00:00+03:00")), (YearMonth{2024, 2}));
    EXPECT_EQ(MonthOf(At("2024-03-01T02:00:00+09:00")), (YearMonth{2024, 3}));
    EXPECT_EQ(MonthOf(At("1969-12-31T23:59:59Z")), (YearMonth{1969, 12}));
}

TEST(Instant, MonthIndexRoundTrips) {
    for (std::int32_t index = 0; index < 12 * 3000; index += 7) {
        EXPECT_EQ(segmenter::MonthIndex(segmenter::FromMonthIndex(index)), index);
    }
    EXPECT_EQ(segmenter::FromMonthIndex(2024 * 12 + 1), (YearMonth{2024, 2}));
}

struct AddMonthsCase {
    const char* from;
    std::int32_t months;
    const char* expected;
};

class AddMonthsTable : public ::testing::TestWithParam<AddMonthsCase> {};

TEST_P(AddMonthsTable, IsCalendarArithmeticWithClamping) {
    const AddMonthsCase& c = GetParam();
    EXPECT_EQ(FormatInstant(AddMonths(At(c.from), c.months)), c.expected)
        << c.from << " + " << c.months;
}

INSTANTIATE_TEST_SUITE_P(
    Calendar,
    AddMonthsTable,
    ::testing::Values(
        // 31 March - 1 month is the last day of February, leap year or not.
        AddMonthsCase{"2024-03-31T10:00:00+03:00", -1, "2024-02-29T10:00:00+03:00"},
        AddMonthsCase{"2023-03-31T10:00:00+03:00", -1, "2023-02-28T10:00:00+03:00"},
        AddMonthsCase{"2100-03-31T10:00:00+03:00", -1, "2100-02-28T10:00:00+03:00"},
        AddMonthsCase{"2000-03-31T10:00:00+03:00", -1, "2000-02-29T10:00:00+03:00"},
        // The default windows from month ends.
        AddMonthsCase{"2024-08-31T23:59:59+03:00", -6, "2024-02-29T23:59:59+03:00"},
        AddMonthsCase{"2024-08-31T23:59:59+03:00", -18, "2023-02-28T23:59:59+03:00"},
        AddMonthsCase{"2024-04-30T23:59:59+03:00", -6, "2023-10-30T23:59:59+03:00"},
        AddMonthsCase{"2024-12-31T23:59:59+03:00", -6, "2024-06-30T23:59:59+03:00"},
        // Across years, forwards and backwards, and nothing to clamp.
        AddMonthsCase{"2024-01-15T12:00:00+03:00", -1, "2023-12-15T12:00:00+03:00"},
        AddMonthsCase{"2024-01-15T12:00:00+03:00", -18, "2022-07-15T12:00:00+03:00"},
        AddMonthsCase{"2024-01-31T00:00:00+03:00", 1, "2024-02-29T00:00:00+03:00"},
        AddMonthsCase{"2024-11-30T08:00:00+03:00", 3, "2025-02-28T08:00:00+03:00"},
        AddMonthsCase{"2024-05-10T08:00:00+03:00", 0, "2024-05-10T08:00:00+03:00"},
        // The local date is what moves; the offset is kept.
        AddMonthsCase{"2024-03-31T01:00:00+05:00", -1, "2024-02-29T01:00:00+05:00"},
        AddMonthsCase{"2024-03-01T00:30:00-08:00", -1, "2024-02-01T00:30:00-08:00"}));

TEST(Instant, EndOfMonthIsTheLastLocalSecond) {
    EXPECT_EQ(FormatInstant(EndOfMonth({2024, 2}, 10800)), "2024-02-29T23:59:59+03:00");
    EXPECT_EQ(FormatInstant(EndOfMonth({2023, 2}, 0)), "2023-02-28T23:59:59+00:00");
    EXPECT_EQ(FormatInstant(EndOfMonth({2024, 12}, -3600)), "2024-12-31T23:59:59-01:00");
}

TEST(Instant, MakeInstantValidates) {
    EXPECT_TRUE(MakeInstant(2024, 2, 29, 23, 59, 59, 0));
    EXPECT_FALSE(MakeInstant(2023, 2, 29, 0, 0, 0, 0));
    EXPECT_FALSE(MakeInstant(2024, 1, 1, 0, 0, 0, 19 * 3600));
    EXPECT_FALSE(MakeInstant(2024, 1, 1, -1, 0, 0, 0));
}

TEST(Instant, YearMonthText) {
    EXPECT_EQ(segmenter::FormatYearMonth({2024, 3}), "2024-03");
    EXPECT_EQ(segmenter::ParseYearMonth("2014-11"), (YearMonth{2014, 11}));
    EXPECT_FALSE(segmenter::ParseYearMonth("2014-13"));
    EXPECT_FALSE(segmenter::ParseYearMonth("2014-1"));
    EXPECT_FALSE(segmenter::ParseYearMonth("2014-01x"));
}

}  // namespace
}  // namespace segtest
