#include "query.hpp"

#include <cstdio>
#include <vector>

#include "b24client/json_util.hpp"

namespace b24client::detail {
namespace {

bool Unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

// Splits "$result[a][b][c]" into {"a","b","c"}; empty on malformed input.
std::vector<std::string> ReferencePath(std::string_view s) {
    constexpr std::string_view kPrefix = "$result";
    std::vector<std::string> parts;
    if (s.substr(0, kPrefix.size()) != kPrefix) {
        return {};
    }
    std::size_t pos = kPrefix.size();
    while (pos < s.size()) {
        if (s[pos] != '[') {
            return {};
        }
        const std::size_t close = s.find(']', pos);
        if (close == std::string_view::npos || close == pos + 1) {
            return {};
        }
        parts.emplace_back(s.substr(pos + 1, close - pos - 1));
        pos = close + 1;
    }
    return parts;
}

void Encode(const std::string& prefix, const nlohmann::json& v, std::string& out) {
    if (v.is_null()) {
        return;
    }
    if (v.is_object()) {
        for (const auto& [k, sub] : v.items()) {
            Encode(prefix.empty() ? PercentEncode(k) : prefix + "[" + PercentEncode(k) + "]", sub,
                   out);
        }
        return;
    }
    if (v.is_array()) {
        std::size_t i = 0;
        for (const auto& sub : v) {
            Encode(prefix + "[" + std::to_string(i++) + "]", sub, out);
        }
        return;
    }
    std::string value;
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        value = IsReference(s) ? s : PercentEncode(s);
    } else if (v.is_boolean()) {
        value = v.get<bool>() ? "1" : "0";
    } else {
        value = PercentEncode(ToString(v).value_or(""));
    }
    if (!out.empty()) {
        out += '&';
    }
    out += prefix;
    out += '=';
    out += value;
}

nlohmann::json Substitute(const nlohmann::json& v,
                          const std::map<std::string, nlohmann::json>& results,
                          int& unresolved) {
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (!IsReference(s)) {
            return v;
        }
        if (results.count(ReferenceKey(s)) == 0) {
            ++unresolved;
            return v;
        }
        auto resolved = ResolveReference(s, results);
        return resolved ? *resolved : nlohmann::json(nullptr);
    }
    if (v.is_object()) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [k, sub] : v.items()) {
            out[k] = Substitute(sub, results, unresolved);
        }
        return out;
    }
    if (v.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& sub : v) {
            out.push_back(Substitute(sub, results, unresolved));
        }
        return out;
    }
    return v;
}

}  // namespace

std::string PercentEncode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (Unreserved(c)) {
            out += ch;
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

bool IsReference(std::string_view s) {
    return !ReferencePath(s).empty();
}

std::string MakeReference(std::string_view key, std::initializer_list<std::string_view> path) {
    std::string s = "$result[";
    s += key;
    s += ']';
    for (const auto p : path) {
        s += '[';
        s += p;
        s += ']';
    }
    return s;
}

std::string EncodeQuery(const nlohmann::json& params) {
    std::string out;
    if (params.is_object()) {
        Encode("", params, out);
    }
    return out;
}

std::string ReferenceKey(std::string_view reference) {
    const auto parts = ReferencePath(reference);
    return parts.empty() ? std::string() : parts.front();
}

std::optional<nlohmann::json> ResolveReference(
    std::string_view reference, const std::map<std::string, nlohmann::json>& results) {
    const auto parts = ReferencePath(reference);
    if (parts.empty()) {
        return std::nullopt;
    }
    const auto it = results.find(parts.front());
    if (it == results.end()) {
        return std::nullopt;
    }
    const nlohmann::json* cur = &it->second;
    for (std::size_t i = 1; i < parts.size(); ++i) {
        if (cur->is_object()) {
            const auto f = cur->find(parts[i]);
            if (f == cur->end()) {
                return std::nullopt;
            }
            cur = &*f;
        } else if (cur->is_array()) {
            const auto idx = ToInt64(nlohmann::json(parts[i]));
            if (!idx || *idx < 0 || static_cast<std::size_t>(*idx) >= cur->size()) {
                return std::nullopt;
            }
            cur = &(*cur)[static_cast<std::size_t>(*idx)];
        } else {
            return std::nullopt;
        }
    }
    return *cur;
}

nlohmann::json SubstituteReferences(const nlohmann::json& params,
                                    const std::map<std::string, nlohmann::json>& results,
                                    int& unresolved) {
    return Substitute(params, results, unresolved);
}

}  // namespace b24client::detail
