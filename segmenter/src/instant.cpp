#include "segmenter/instant.hpp"

#include <algorithm>
#include <cstdint>

#include "civil.hpp"

namespace segmenter {

namespace {

constexpr std::int32_t kMaxOffset = 18 * 3600;

// A tiny cursor over the text being parsed; every read checks bounds.
class Cursor {
public:
    explicit Cursor(std::string_view text) : text_(text) {}

    bool AtEnd() const { return pos_ == text_.size(); }
    char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
    bool Take(char c) {
        if (Peek() != c) {
            return false;
        }
        ++pos_;
        return true;
    }
    // Exactly `width` decimal digits.
    std::optional<std::int32_t> Digits(std::size_t width) {
        if (text_.size() - pos_ < width) {
            return std::nullopt;
        }
        std::int32_t value = 0;
        for (std::size_t i = 0; i < width; ++i) {
            const char c = text_[pos_ + i];
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            value = value * 10 + (c - '0');
        }
        pos_ += width;
        return value;
    }
    void SkipDigits() {
        while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
            ++pos_;
        }
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

void AppendDigits(std::string& out, std::int64_t value, int width) {
    char buffer[20];
    int n = 0;
    for (int i = 0; i < width; ++i) {
        buffer[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    while (n > 0) {
        out.push_back(buffer[--n]);
    }
}

}  // namespace

YearMonth FromMonthIndex(std::int32_t index) {
    const std::int32_t year = detail::FloorDiv(index, 12);
    return {year, index - year * 12 + 1};
}

YearMonth MonthOf(Instant instant) {
    const detail::CivilDate date = detail::CivilFromDays(detail::DayOf(instant.LocalSeconds()));
    return {date.year, date.month};
}

int DaysInMonth(std::int32_t year, std::int32_t month) {
    return detail::DaysInMonth(year, month);
}

std::optional<Instant> MakeInstant(std::int32_t year,
                                   std::int32_t month,
                                   std::int32_t day,
                                   std::int32_t hour,
                                   std::int32_t minute,
                                   std::int32_t second,
                                   std::int32_t offset) {
    if (month < 1 || month > 12 || day < 1 || day > detail::DaysInMonth(year, month) || hour < 0 ||
        hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 ||
        offset < -kMaxOffset || offset > kMaxOffset) {
        return std::nullopt;
    }
    const std::int64_t local = detail::DaysFromCivil(year, month, day) * detail::kSecondsPerDay +
                               hour * 3600 + minute * 60 + second;
    return Instant{local - offset, offset};
}

Instant AddMonths(Instant instant, std::int32_t months) {
    const std::int64_t local = instant.LocalSeconds();
    const std::int64_t day = detail::DayOf(local);
    const std::int64_t second_of_day = local - day * detail::kSecondsPerDay;
    const detail::CivilDate date = detail::CivilFromDays(day);
    // Month arithmetic in 64 bits, kept within years -9999..19999 so that nothing can overflow.
    const std::int64_t target_index = std::clamp<std::int64_t>(
        std::int64_t{MonthIndex({date.year, date.month})} + months, -9999 * 12, 19999 * 12 + 11);
    const YearMonth target = FromMonthIndex(static_cast<std::int32_t>(target_index));
    const std::int32_t target_day =
        std::min(date.day, detail::DaysInMonth(target.year, target.month));
    const std::int64_t target_local =
        detail::DaysFromCivil(target.year, target.month, target_day) * detail::kSecondsPerDay +
        second_of_day;
    return Instant{target_local - instant.offset, instant.offset};
}

Instant EndOfMonth(YearMonth month, std::int32_t offset) {
    const YearMonth next = FromMonthIndex(MonthIndex(month) + 1);
    const std::int64_t local =
        detail::DaysFromCivil(next.year, next.month, 1) * detail::kSecondsPerDay - 1;
    return Instant{local - offset, offset};
}

std::optional<Instant> ParseInstant(std::string_view text,
                                    std::optional<std::int32_t> default_offset) {
    Cursor in(text);
    const auto year = in.Digits(4);
    if (!year || !in.Take('-')) {
        return std::nullopt;
    }
    const auto month = in.Digits(2);
    if (!month || !in.Take('-')) {
        return std::nullopt;
    }
    const auto day = in.Digits(2);
    if (!day) {
        return std::nullopt;
    }
    if (in.AtEnd()) {
        if (!default_offset) {
            return std::nullopt;
        }
        return MakeInstant(*year, *month, *day, 0, 0, 0, *default_offset);
    }
    if (!in.Take('T') && !in.Take(' ')) {
        return std::nullopt;
    }
    const auto hour = in.Digits(2);
    if (!hour || !in.Take(':')) {
        return std::nullopt;
    }
    const auto minute = in.Digits(2);
    if (!minute || !in.Take(':')) {
        return std::nullopt;
    }
    const auto second = in.Digits(2);
    if (!second) {
        return std::nullopt;
    }
    if (in.Take('.')) {
        // Fractions of a second are dropped: the portal's precision is one second.
        if (!in.Digits(1)) {
            return std::nullopt;
        }
        in.SkipDigits();
    }
    std::optional<std::int32_t> offset;
    if (in.AtEnd()) {
        offset = default_offset;
    } else if (in.Take('Z') || in.Take('z')) {
        offset = 0;
    } else {
        const char sign = in.Peek();
        if (!in.Take('+') && !in.Take('-')) {
            return std::nullopt;
        }
        const auto hours = in.Digits(2);
        if (!hours) {
            return std::nullopt;
        }
        std::int32_t minutes = 0;
        if (!in.AtEnd()) {
            in.Take(':');
            const auto m = in.Digits(2);
            if (!m || *m > 59) {
                return std::nullopt;
            }
            minutes = *m;
        }
        const std::int32_t magnitude = *hours * 3600 + minutes * 60;
        offset = sign == '-' ? -magnitude : magnitude;
    }
    if (!offset || !in.AtEnd()) {
        return std::nullopt;
    }
    return MakeInstant(*year, *month, *day, *hour, *minute, *second, *offset);
}

std::string FormatInstant(Instant instant) {
    std::int64_t local = instant.LocalSeconds();
    // Clamp to 0000-01-01T00:00:00 .. 9999-12-31T23:59:59 so that the fixed width holds.
    const std::int64_t lowest = detail::DaysFromCivil(0, 1, 1) * detail::kSecondsPerDay;
    const std::int64_t highest = detail::DaysFromCivil(10000, 1, 1) * detail::kSecondsPerDay - 1;
    local = std::clamp(local, lowest, highest);
    const std::int64_t day = detail::DayOf(local);
    const std::int64_t second_of_day = local - day * detail::kSecondsPerDay;
    const detail::CivilDate date = detail::CivilFromDays(day);

    std::string out;
    out.reserve(25);
    AppendDigits(out, date.year, 4);
    out.push_back('-');
    AppendDigits(out, date.month, 2);
    out.push_back('-');
    AppendDigits(out, date.day, 2);
    out.push_back('T');
    AppendDigits(out, second_of_day / 3600, 2);
    out.push_back(':');
    AppendDigits(out, second_of_day / 60 % 60, 2);
    out.push_back(':');
    AppendDigits(out, second_of_day % 60, 2);
    std::int64_t offset = std::clamp<std::int64_t>(instant.offset, -kMaxOffset, kMaxOffset);
    out.push_back(offset < 0 ? '-' : '+');
    offset = offset < 0 ? -offset : offset;
    AppendDigits(out, offset / 3600, 2);
    out.push_back(':');
    AppendDigits(out, offset / 60 % 60, 2);
    return out;
}

std::string FormatYearMonth(YearMonth month) {
    std::string out;
    out.reserve(7);
    AppendDigits(out, std::clamp(month.year, 0, 9999), 4);
    out.push_back('-');
    AppendDigits(out, std::clamp(month.month, 1, 12), 2);
    return out;
}

std::optional<YearMonth> ParseYearMonth(std::string_view text) {
    Cursor in(text);
    const auto year = in.Digits(4);
    if (!year || !in.Take('-')) {
        return std::nullopt;
    }
    const auto month = in.Digits(2);
    if (!month || !in.AtEnd() || *month < 1 || *month > 12) {
        return std::nullopt;
    }
    return YearMonth{*year, *month};
}

}  // namespace segmenter
