#pragma once
// Lenient readers for the platform's JSON. Legacy methods send numbers as strings ("75"),
// booleans as "Y"/"N", empty objects as [] and nulls anywhere; crm.item.* sends real numbers.
// These helpers accept every spelling the platform uses and nothing else: "abc" is not a number.
// All functions are pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace b24client {

// 75, 75.0, "75", " 75 " -> 75. Fractions, overflow, "", "7a", null -> nullopt.
std::optional<std::int64_t> ToInt64(const nlohmann::json& v);
// Numbers and numeric strings ("19000.00") -> double; anything else -> nullopt.
std::optional<double> ToDouble(const nlohmann::json& v);
// true/false, "Y"/"N", "y"/"n", "1"/"0", 1/0, "true"/"false" -> bool; anything else -> nullopt.
std::optional<bool> ToBool(const nlohmann::json& v);
// Strings as they are, numbers printed without exponent or trailing ".0" for integers,
// booleans as "Y"/"N"; null, arrays and objects -> nullopt.
std::optional<std::string> ToString(const nlohmann::json& v);

// True for null, [], {} and "": the platform's ways of saying "nothing here".
bool IsEmptyValue(const nlohmann::json& v);

// `v` if it is an object; an empty object for null and [] (PHP's empty array); nullopt for
// anything else (a non-empty array or a scalar is not an object in disguise).
std::optional<nlohmann::json> AsObject(const nlohmann::json& v);

// Member `key` of an object, or nullptr when `v` is not an object or has no such key.
const nlohmann::json* Find(const nlohmann::json& v, std::string_view key);

// Parses a Unix time given as a number, a numeric string or an ISO 8601 date-time with offset
// ("2026-05-14T10:26:32+02:00", "...Z"). Returns seconds since the epoch, or nullopt.
std::optional<double> ToEpochSeconds(const nlohmann::json& v);

}  // namespace b24client
