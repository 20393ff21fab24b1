#pragma once

// Proleptic Gregorian calendar conversions between day numbers (days since 1970-01-01) and civil
// dates. Private to the segmenter.
//
// The conversion counts in 400-year eras (146097 days each) starting on 1 March, so that the leap
// day is the last day of the counted year and the month lengths from March onward follow a fixed
// pattern that a linear formula captures.

#include <cstdint>

namespace segmenter::detail {

inline constexpr std::int64_t kSecondsPerDay = 86400;
inline constexpr std::int64_t kDaysPerEra = 146097;  // 400 Gregorian years
inline constexpr std::int64_t kEpochShift = 719468;  // days from 0000-03-01 to 1970-01-01

struct CivilDate {
    std::int32_t year = 1970;
    std::int32_t month = 1;  // 1..12
    std::int32_t day = 1;    // 1..31
};

// Division rounding towards negative infinity (b > 0).
template <class T>
constexpr T FloorDiv(T a, T b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

constexpr bool IsLeapYear(std::int64_t year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

constexpr std::int32_t DaysInMonth(std::int32_t year, std::int32_t month) {
    constexpr std::int32_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12) {
        return 30;
    }
    return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

constexpr std::int64_t DaysFromCivil(std::int64_t year, std::int64_t month, std::int64_t day) {
    const std::int64_t y = month <= 2 ? year - 1 : year;  // years start on 1 March
    const std::int64_t era = FloorDiv<std::int64_t>(y, 400);
    const std::int64_t year_of_era = y - era * 400;                           // 0..399
    const std::int64_t month_from_march = month > 2 ? month - 3 : month + 9;  // 0..11
    const std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    const std::int64_t day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * kDaysPerEra + day_of_era - kEpochShift;
}

constexpr CivilDate CivilFromDays(std::int64_t days) {
    const std::int64_t z = days + kEpochShift;
    const std::int64_t era = FloorDiv<std::int64_t>(z, kDaysPerEra);
    const std::int64_t day_of_era = z - era * kDaysPerEra;  // 0..146096
    const std::int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const std::int64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
    const std::int64_t day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    const std::int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
    const std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
    return {static_cast<std::int32_t>(year), static_cast<std::int32_t>(month),
            static_cast<std::int32_t>(day)};
}

// The day number of a count of local seconds.
constexpr std::int64_t DayOf(std::int64_t local_seconds) {
    return FloorDiv(local_seconds, kSecondsPerDay);
}

// The month index (year * 12 + month - 1) of a count of local seconds.
constexpr std::int32_t MonthIndexOfLocal(std::int64_t local_seconds) {
    const CivilDate date = CivilFromDays(DayOf(local_seconds));
    return date.year * 12 + date.month - 1;
}

static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(DaysFromCivil(2000, 3, 1) == 11017);
static_assert(CivilFromDays(11016).day == 29 && CivilFromDays(11016).month == 2);
static_assert(CivilFromDays(-1).year == 1969 && CivilFromDays(-1).day == 31);

}  // namespace segmenter::detail
