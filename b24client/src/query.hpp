#pragma once
// Batch command strings: "method?query" with PHP-style bracket encoding, and the $result[...]
// references that chain commands. Pure functions, thread-safe.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace b24client::detail {

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string PercentEncode(std::string_view s);

// True for a string of the form $result[key][...] (a batch reference).
bool IsReference(std::string_view s);

// "$result[<key>]" followed by one "[<p>]" per path element.
std::string MakeReference(std::string_view key, std::initializer_list<std::string_view> path);

// PHP http_build_query of `params`: nested objects and arrays become key[sub][0]=...; null and
// empty containers are left out; booleans are 1/0; reference strings are kept verbatim so the
// portal substitutes them.
std::string EncodeQuery(const nlohmann::json& params);

// The value a reference points to in `results` (command key -> result), or nullopt if the key
// is absent or the path does not exist.
std::optional<nlohmann::json> ResolveReference(
    std::string_view reference, const std::map<std::string, nlohmann::json>& results);

// The key a reference points to ("" if `reference` is not one).
std::string ReferenceKey(std::string_view reference);

// Copy of `params` with every reference whose command is in `results` replaced by its value.
// References to commands not in `results` stay; `unresolved` counts them.
nlohmann::json SubstituteReferences(const nlohmann::json& params,
                                    const std::map<std::string, nlohmann::json>& results,
                                    int& unresolved);

}  // namespace b24client::detail
