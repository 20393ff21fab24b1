#pragma once

// Instants as the portal writes them, and calendar arithmetic on its local dates.
//
// Bitrix24 writes every date with the offset of the portal's time zone
// (`2024-09-09T02:00:00+03:00`). An Instant keeps both parts: the moment itself (UTC seconds) and
// the offset it was written with. Comparisons between instants are on `utc` only (two instants with
// the same `utc` are the same moment, whatever their offsets); the calendar month an instant
// belongs to is the month of its local date (`utc + offset`), i.e. the month as written.
//
// Valid instants lie in the years 0000..9999 (what ParseInstant produces); functions given others
// return unspecified values.
//
// Everything here is pure, allocation-free except for the string results, and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace segmenter {

struct Instant {
    std::int64_t utc = 0;     // seconds since 1970-01-01T00:00:00Z
    std::int32_t offset = 0;  // seconds east of UTC that the portal wrote the instant with

    // Seconds since 1970-01-01T00:00:00 of the local wall clock as written (utc + offset).
    constexpr std::int64_t LocalSeconds() const { return utc + offset; }

    // Representation equality: the same moment written with the same offset. To compare moments,
    // compare `utc`.
    bool operator==(const Instant&) const = default;
};

// A calendar month. `month` is 1..12.
struct YearMonth {
    std::int32_t year = 1970;
    std::int32_t month = 1;

    bool operator==(const YearMonth&) const = default;
};

// Months counted from year 0: year * 12 + (month - 1). Consecutive months have consecutive indices.
constexpr std::int32_t MonthIndex(YearMonth ym) {
    return ym.year * 12 + (ym.month - 1);
}
YearMonth FromMonthIndex(std::int32_t index);

// The calendar month of the instant's local date (as written).
YearMonth MonthOf(Instant instant);

// Number of days in a month (28..31), Gregorian calendar.
int DaysInMonth(std::int32_t year, std::int32_t month);

// Builds an instant from a local date and time written with `offset` seconds east of UTC.
// Returns nullopt if a field is out of range (month 1..12, day within the month,
// 00:00:00..23:59:59, |offset| <= 18 h).
std::optional<Instant> MakeInstant(std::int32_t year,
                                   std::int32_t month,
                                   std::int32_t day,
                                   std::int32_t hour,
                                   std::int32_t minute,
                                   std::int32_t second,
                                   std::int32_t offset);

// Calendar arithmetic (SEGMENTS.md §4): the same local day and time `months` months later
// (earlier if negative), with the day clamped to the last day of the target month
// (31 March - 1 month = 28/29 February). The result keeps the offset of `instant`.
Instant AddMonths(Instant instant, std::int32_t months);

// The last second of `month` on a local clock `offset` seconds east of UTC
// (e.g. 2024-02-29T23:59:59+03:00).
Instant EndOfMonth(YearMonth month, std::int32_t offset);

// Parses the portal's date forms:
//   2024-09-09T02:00:00+03:00   (also `Z`, `+0300`, `+03`, a space instead of `T`, and a fractional
//                                second part, which is dropped)
//   2024-09-09T02:00:00          (no offset: `default_offset` is used; nullopt if none is given)
//   2024-09-09                   (a date: local midnight, with `default_offset` likewise)
// Returns nullopt for anything else, including out-of-range fields. Never throws.
std::optional<Instant> ParseInstant(std::string_view text,
                                    std::optional<std::int32_t> default_offset = std::nullopt);

// Formats as `YYYY-MM-DDTHH:MM:SS+HH:MM` in the instant's own offset (the form the portal accepts).
// Years outside 0..9999 are not representable and are clamped to that range.
std::string FormatInstant(Instant instant);

// `YYYY-MM`, as used by the server API for months.
std::string FormatYearMonth(YearMonth month);

// Parses `YYYY-MM`; nullopt if malformed.
std::optional<YearMonth> ParseYearMonth(std::string_view text);

}  // namespace segmenter
