#include "util.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace fakeportal::detail {

namespace {

// Days from civil (Howard Hinnant's algorithm), proleptic Gregorian.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2 ? 1 : 0);
}

bool ReadInt(std::string_view s, size_t pos, size_t len, int* out) {
    if (pos + len > s.size()) {
        return false;
    }
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int HexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Turns objects whose keys are exactly "0".."n-1" into arrays, recursively.
void Arrayify(json& value) {
    if (!value.is_object()) {
        return;
    }
    for (auto& [k, v] : value.items()) {
        Arrayify(v);
    }
    if (value.empty()) {
        return;
    }
    std::vector<json*> slots(value.size(), nullptr);
    for (auto it = value.begin(); it != value.end(); ++it) {
        const std::string& key = it.key();
        if (!IsIntegerText(key) || key[0] == '-' || (key.size() > 1 && key[0] == '0')) {
            return;
        }
        const auto idx = static_cast<size_t>(std::stoull(key));
        if (idx >= slots.size() || slots[idx] != nullptr) {
            return;
        }
        slots[idx] = &it.value();
    }
    json arr = json::array();
    for (json* slot : slots) {
        arr.push_back(std::move(*slot));
    }
    value = std::move(arr);
}

}  // namespace

Time MakeTime(int year, int month, int day, int hour, int minute, int second, int tz_minutes) {
    const int64_t days =
        DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return days * 86400 + hour * 3600 + minute * 60 + second - tz_minutes * 60;
}

std::string FormatIso(Time t, int tz_minutes) {
    const Time local = t + tz_minutes * 60;
    int64_t days = local / 86400;
    int64_t secs = local % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    int64_t y = 0;
    unsigned m = 0, d = 0;
    CivilFromDays(days, &y, &m, &d);
    const int off = std::abs(tz_minutes);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d%c%02d:%02d",
                  static_cast<long long>(y), m, d, static_cast<int>(secs / 3600),
                  static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                  tz_minutes < 0 ? '-' : '+', off / 60, off % 60);
    return buf;
}

Time StartOfDay(Time t, int tz_minutes) {
    const Time local = t + tz_minutes * 60;
    Time day = local / 86400;
    if (local % 86400 < 0) {
        day -= 1;
    }
    return day * 86400 - tz_minutes * 60;
}

std::optional<Time> ParseTime(std::string_view s, int tz_minutes) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    size_t pos = 0;
    if (s.size() >= 10 && s[2] == '.' && s[5] == '.') {  // DD.MM.YYYY
        if (!ReadInt(s, 0, 2, &d) || !ReadInt(s, 3, 2, &mo) || !ReadInt(s, 6, 4, &y)) {
            return std::nullopt;
        }
        pos = 10;
    } else {
        if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !ReadInt(s, 0, 4, &y) ||
            !ReadInt(s, 5, 2, &mo) || !ReadInt(s, 8, 2, &d)) {
            return std::nullopt;
        }
        pos = 10;
    }
    int offset = tz_minutes;
    if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
        ++pos;
        if (!ReadInt(s, pos, 2, &h) || pos + 2 >= s.size() || s[pos + 2] != ':' ||
            !ReadInt(s, pos + 3, 2, &mi)) {
            return std::nullopt;
        }
        pos += 5;
        if (pos < s.size() && s[pos] == ':') {
            if (!ReadInt(s, pos + 1, 2, &sec)) {
                return std::nullopt;
            }
            pos += 3;
        }
        if (pos < s.size() && s[pos] == '.') {
            ++pos;
            while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
                ++pos;
            }
        }
        if (pos < s.size()) {
            if (s[pos] == 'Z') {
                offset = 0;
                ++pos;
            } else if (s[pos] == '+' || s[pos] == '-') {
                const int sign = s[pos] == '-' ? -1 : 1;
                int oh = 0, om = 0;
                if (!ReadInt(s, pos + 1, 2, &oh)) {
                    return std::nullopt;
                }
                size_t p2 = pos + 3;
                if (p2 < s.size() && s[p2] == ':') {
                    ++p2;
                }
                if (p2 < s.size() && !ReadInt(s, p2, 2, &om)) {
                    return std::nullopt;
                }
                offset = sign * (oh * 60 + om);
                pos = p2 + (p2 < s.size() ? 2 : 0);
            }
        }
    }
    if (pos != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        return std::nullopt;
    }
    return MakeTime(y, mo, d, h, mi, sec, offset);
}

std::string ToLower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

std::string ToUpper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

bool IEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

std::string UrlDecode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
                   HexValue(text[i + 2]) >= 0) {
            out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::string UrlEncode(std::string_view text) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

json ParseQueryString(std::string_view query) {
    json root = json::object();
    size_t pos = 0;
    while (pos <= query.size()) {
        size_t amp = query.find('&', pos);
        if (amp == std::string_view::npos) {
            amp = query.size();
        }
        const std::string_view pair = query.substr(pos, amp - pos);
        pos = amp + 1;
        if (pair.empty()) {
            if (amp >= query.size()) {
                break;
            }
            continue;
        }
        const size_t eq = pair.find('=');
        const std::string key = UrlDecode(pair.substr(0, eq));
        const std::string value =
            eq == std::string_view::npos ? std::string() : UrlDecode(pair.substr(eq + 1));
        // Split "name[a][b][]" into the name and the bracket parts.
        const size_t br = key.find('[');
        std::string name = key.substr(0, br);
        if (name.empty()) {
            continue;
        }
        std::vector<std::string> parts;
        bool well_formed = true;
        if (br != std::string::npos) {
            size_t p = br;
            while (p < key.size() && key[p] == '[') {
                const size_t close = key.find(']', p);
                if (close == std::string::npos) {
                    well_formed = false;
                    break;
                }
                parts.push_back(key.substr(p + 1, close - p - 1));
                p = close + 1;
            }
            if (!well_formed) {
                parts.clear();
                name = key;
            }
        }
        json* node = &root;
        std::string current = name;
        for (const auto& part : parts) {
            json& child = (*node)[current];
            if (!child.is_object()) {
                child = json::object();
            }
            node = &child;
            current = part.empty() ? std::to_string(child.size()) : part;
        }
        (*node)[current] = value;
        if (amp >= query.size()) {
            break;
        }
    }
    Arrayify(root);
    return root;
}

void FlattenForm(const json& value,
                 const std::string& prefix,
                 std::vector<std::pair<std::string, std::string>>* out) {
    if (value.is_object()) {
        for (const auto& [k, v] : value.items()) {
            FlattenForm(v, prefix.empty() ? k : prefix + "[" + k + "]", out);
        }
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) {
            FlattenForm(value[i], prefix + "[" + std::to_string(i) + "]", out);
        }
    } else {
        out->emplace_back(prefix, StrVal(value));
    }
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& pairs) {
    std::string out;
    for (const auto& [k, v] : pairs) {
        if (!out.empty()) {
            out += '&';
        }
        out += UrlEncode(k);
        out += '=';
        out += UrlEncode(v);
    }
    return out;
}

std::string StrVal(const json& value) {
    switch (value.type()) {
        case json::value_t::string:
            return value.get<std::string>();
        case json::value_t::boolean:
            return value.get<bool>() ? "1" : "";
        case json::value_t::number_integer:
            return std::to_string(value.get<int64_t>());
        case json::value_t::number_unsigned:
            return std::to_string(value.get<uint64_t>());
        case json::value_t::number_float: {
            const double d = value.get<double>();
            if (std::floor(d) == d && std::fabs(d) < 1e15) {
                return std::to_string(static_cast<int64_t>(d));
            }
            char buf[64];
            std::snprintf(buf, sizeof(buf), "%.14g", d);
            return buf;
        }
        case json::value_t::null:
            return "";
        default:
            return value.is_array() ? "Array" : "";
    }
}

int64_t IntVal(const json& value) {
    switch (value.type()) {
        case json::value_t::number_integer:
            return value.get<int64_t>();
        case json::value_t::number_unsigned:
            return static_cast<int64_t>(value.get<uint64_t>());
        case json::value_t::number_float:
            return static_cast<int64_t>(value.get<double>());
        case json::value_t::boolean:
            return value.get<bool>() ? 1 : 0;
        case json::value_t::string: {
            const std::string& s = value.get_ref<const std::string&>();
            size_t i = 0;
            while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) {
                ++i;
            }
            int64_t out = 0;
            const char* begin = s.data() + i;
            if (i < s.size() && s[i] == '+') {
                ++begin;
            }
            std::from_chars(begin, s.data() + s.size(), out);
            return out;
        }
        default:
            return 0;
    }
}

double FloatVal(const json& value) {
    if (value.is_number()) {
        return value.get<double>();
    }
    if (value.is_boolean()) {
        return value.get<bool>() ? 1 : 0;
    }
    if (value.is_string()) {
        const std::string& s = value.get_ref<const std::string&>();
        char* end = nullptr;
        const double d = std::strtod(s.c_str(), &end);
        return end == s.c_str() ? 0 : d;
    }
    return 0;
}

bool TruthyYN(const json& value) {
    if (value.is_boolean()) {
        return value.get<bool>();
    }
    if (value.is_number()) {
        return value.get<double>() != 0;
    }
    if (value.is_string()) {
        const std::string s = ToLower(value.get<std::string>());
        return s == "y" || s == "1" || s == "true";
    }
    return false;
}

bool IsIntegerText(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    size_t i = text[0] == '-' || text[0] == '+' ? 1 : 0;
    if (i == text.size()) {
        return false;
    }
    for (; i < text.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
            return false;
        }
    }
    return true;
}

std::string RandomHex(std::mt19937_64& rng, size_t n) {
    static const char* kHex = "0123456789abcdef";
    std::string out;
    out.reserve(n);
    while (out.size() < n) {
        uint64_t v = rng();
        for (int i = 0; i < 16 && out.size() < n; ++i) {
            out += kHex[v & 15];
            v >>= 4;
        }
    }
    return out;
}

std::string UfCamelName(const std::string& field_name) {
    static const std::string kPrefix = "UF_CRM_";
    if (field_name.rfind(kPrefix, 0) != 0) {
        return field_name;
    }
    const std::string rest = field_name.substr(kPrefix.size());
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= rest.size()) {
        const size_t us = rest.find('_', start);
        parts.push_back(
            rest.substr(start, us == std::string::npos ? std::string::npos : us - start));
        if (us == std::string::npos) {
            break;
        }
        start = us + 1;
    }
    auto all_digits = [](const std::string& p) {
        return !p.empty() && std::all_of(p.begin(), p.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
        });
    };
    auto all_letters = [](const std::string& p) {
        return !p.empty() && std::all_of(p.begin(), p.end(), [](char c) {
            return std::isalpha(static_cast<unsigned char>(c));
        });
    };
    bool ambiguous = parts.size() == 1 && all_digits(parts[0]);
    for (const auto& p : parts) {
        if (!all_digits(p) && !all_letters(p)) {
            ambiguous = true;
        }
    }
    if (ambiguous) {
        return "ufCrm_" + rest;
    }
    std::string out = "ufCrm";
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i > 0 && all_digits(parts[i]) && all_digits(parts[i - 1])) {
            out += '_';
        }
        if (all_digits(parts[i])) {
            out += parts[i];
        } else {
            std::string lower = ToLower(parts[i]);
            lower[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(lower[0])));
            out += lower;
        }
    }
    return out;
}

std::string MoneyText(double value) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.2f", value);
    return buf;
}

std::string HtmlErrorPage(int status, const std::string& title) {
    return "<html>\r\n<head><title>" + std::to_string(status) + " " + title +
           "</title></head>\r\n<body>\r\n<center><h1>" + std::to_string(status) + " " + title +
           "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
}

}  // namespace fakeportal::detail
