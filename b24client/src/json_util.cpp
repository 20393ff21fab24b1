#include "b24client/json_util.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace b24client {
namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
    s = Trim(s);
    if (s.empty()) {
        return std::nullopt;
    }
    if (s.front() == '+') {
        s.remove_prefix(1);
    }
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || ptr != s.data() + s.size()) {
        return std::nullopt;
    }
    return value;
}

std::optional<double> ParseDouble(std::string_view s) {
    s = Trim(s);
    if (s.empty()) {
        return std::nullopt;
    }
    double value = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

std::optional<double> ParseIso(std::string_view s) {
    s = Trim(s);
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!Digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, month) ||
        s[7] != '-' || !Digits(s, 8, 2, day)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31) {
        return std::nullopt;
    }
    std::size_t pos = 10;
    double fraction = 0;
    if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
        if (!Digits(s, pos + 1, 2, hour) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !Digits(s, pos + 4, 2, minute)) {
            return std::nullopt;
        }
        pos += 6;
        if (pos < s.size() && s[pos] == ':') {
            if (!Digits(s, pos + 1, 2, second)) {
                return std::nullopt;
            }
            pos += 3;
            if (pos < s.size() && s[pos] == '.') {
                std::size_t end = pos + 1;
                while (end < s.size() && s[end] >= '0' && s[end] <= '9') {
                    ++end;
                }
                fraction = ParseDouble(s.substr(pos, end - pos)).value_or(0);
                pos = end;
            }
        }
    }
    int offset_seconds = 0;
    if (pos < s.size()) {
        if (s[pos] == 'Z' && pos + 1 == s.size()) {
            pos += 1;
        } else if (s[pos] == '+' || s[pos] == '-') {
            const int sign = s[pos] == '-' ? -1 : 1;
            int oh = 0, om = 0;
            if (!Digits(s, pos + 1, 2, oh)) {
                return std::nullopt;
            }
            std::size_t p = pos + 3;
            if (p < s.size() && s[p] == ':') {
                ++p;
            }
            if (!Digits(s, p, 2, om) || p + 2 != s.size()) {
                return std::nullopt;
            }
            offset_seconds = sign * (oh * 3600 + om * 60);
        } else {
            return std::nullopt;
        }
    }
    const std::int64_t days =
        DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
    return static_cast<double>(secs) + fraction;
}

}  // namespace

std::optional<std::int64_t> ToInt64(const nlohmann::json& v) {
    if (v.is_number_integer()) {
        if (v.is_number_unsigned()) {
            const auto u = v.get<std::uint64_t>();
            if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                return std::nullopt;
            }
            return static_cast<std::int64_t>(u);
        }
        return v.get<std::int64_t>();
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9.0e18) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(d);
    }
    if (v.is_string()) {
        return ParseInt(v.get_ref<const std::string&>());
    }
    return std::nullopt;
}

std::optional<double> ToDouble(const nlohmann::json& v) {
    if (v.is_number()) {
        return v.get<double>();
    }
    if (v.is_string()) {
        return ParseDouble(v.get_ref<const std::string&>());
    }
    return std::nullopt;
}

std::optional<bool> ToBool(const nlohmann::json& v) {
    if (v.is_boolean()) {
        return v.get<bool>();
    }
    if (v.is_number_integer()) {
        const auto i = v.get<std::int64_t>();
        if (i == 0 || i == 1) {
            return i == 1;
        }
        return std::nullopt;
    }
    if (v.is_string()) {
        const std::string_view s = Trim(v.get_ref<const std::string&>());
        if (s == "Y" || s == "y" || s == "1" || s == "true") {
            return true;
        }
        if (s == "N" || s == "n" || s == "0" || s == "false") {
            return false;
        }
    }
    return std::nullopt;
}

std::optional<std::string> ToString(const nlohmann::json& v) {
    if (v.is_string()) {
        return v.get<std::string>();
    }
    if (v.is_number_integer()) {
        return v.dump();
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::floor(d) == d && std::fabs(d) < 1e15) {
            return std::to_string(static_cast<std::int64_t>(d));
        }
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.15g", d);
        return std::string(buf);
    }
    if (v.is_boolean()) {
        return v.get<bool>() ? "Y" : "N";
    }
    return std::nullopt;
}

bool IsEmptyValue(const nlohmann::json& v) {
    return v.is_null() || ((v.is_array() || v.is_object()) && v.empty()) ||
           (v.is_string() && v.get_ref<const std::string&>().empty());
}

std::optional<nlohmann::json> AsObject(const nlohmann::json& v) {
    if (v.is_object()) {
        return v;
    }
    if (v.is_null() || (v.is_array() && v.empty())) {
        return nlohmann::json::object();
    }
    return std::nullopt;
}

const nlohmann::json* Find(const nlohmann::json& v, std::string_view key) {
    if (!v.is_object()) {
        return nullptr;
    }
    const auto it = v.find(key);
    return it == v.end() ? nullptr : &*it;
}

std::optional<double> ToEpochSeconds(const nlohmann::json& v) {
    if (v.is_number()) {
        return v.get<double>();
    }
    if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        if (auto d = ParseDouble(s)) {
            return d;
        }
        return ParseIso(s);
    }
    return std::nullopt;
}

}  // namespace b24client
