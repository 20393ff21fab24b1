#include "text.hpp"

#include <cstdint>

namespace server {

namespace {

char32_t LowerCodePoint(char32_t c) {
    if (c >= U'A' && c <= U'Z') {
        return c + 32;
    }
    if ((c >= 0xC0 && c <= 0xDE) && c != 0xD7) {  // Latin-1 capitals except ×
        return c + 32;
    }
    if (c >= 0x100 && c <= 0x17F) {  // Latin Extended-A: mostly even upper / odd lower pairs
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
            return (c % 2 == 1) ? c + 1 : c;
        }
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) {
            return c;
        }
        return (c % 2 == 0) ? c + 1 : c;
    }
    if (c >= 0x410 && c <= 0x42F) {  // А..Я
        return c + 32;
    }
    if (c >= 0x400 && c <= 0x40F) {  // Ѐ..Џ (Ё among them)
        return c + 80;
    }
    return c;
}

void AppendUtf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

}  // namespace

std::string FoldCase(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        auto b0 = static_cast<unsigned char>(s[i]);
        std::size_t len = b0 < 0x80         ? 1
                          : (b0 >> 5) == 6  ? 2
                          : (b0 >> 4) == 14 ? 3
                          : (b0 >> 3) == 30 ? 4
                                            : 0;
        if (len == 0 || i + len > s.size()) {
            out.push_back(s[i]);
            ++i;
            continue;
        }
        char32_t c = 0;
        if (len == 1) {
            c = b0;
        } else {
            c = b0 & (0xFF >> (len + 1));
            bool ok = true;
            for (std::size_t k = 1; k < len; ++k) {
                auto b = static_cast<unsigned char>(s[i + k]);
                if ((b >> 6) != 2) {
                    ok = false;
                    break;
                }
                c = (c << 6) | (b & 0x3F);
            }
            if (!ok) {
                out.push_back(s[i]);
                ++i;
                continue;
            }
        }
        AppendUtf8(out, LowerCodePoint(c));
        i += len;
    }
    return out;
}

std::string Digits(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            out.push_back(c);
        }
    }
    return out;
}

std::string CsvField(std::string_view value, char sep) {
    std::string v(value);
    if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' ||
                       v[0] == '\r')) {
        v.insert(v.begin(), '\'');
    }
    bool quote = v.find_first_of(std::string("\"\r\n") + sep) != std::string::npos;
    if (!quote) {
        return v;
    }
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') {
            out.push_back('"');
        }
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

}  // namespace server
