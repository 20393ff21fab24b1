#pragma once
// Small helpers shared by the fake portal's sources: time text, PHP-style parameters, form
// encoding, lenient PHP-like conversions, random tokens.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakeportal/crm.hpp"

namespace fakeportal::detail {

using json = nlohmann::ordered_json;

/// Conversions between the ordered JSON used inside and nlohmann::json of the public API.
inline json ToOrdered(const nlohmann::json& v) {
    return json::parse(v.dump());
}
inline nlohmann::json ToPlain(const json& v) {
    return nlohmann::json::parse(v.dump());
}

/// "2024-09-09T02:00:00+03:00" for an epoch time in a zone of tz_minutes east of UTC.
std::string FormatIso(Time t, int tz_minutes);
/// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS][.fff][Z|±HH:MM|±HHMM]", "YYYY-MM-DD HH:MM:SS",
/// "DD.MM.YYYY[ HH:MM:SS]". A value without an offset is read in the portal's zone.
std::optional<Time> ParseTime(std::string_view text, int tz_minutes);
/// Midnight (portal zone) of the day containing t.
Time StartOfDay(Time t, int tz_minutes);
/// Epoch seconds of a civil date-time in the given zone.
Time MakeTime(int year, int month, int day, int hour, int minute, int second, int tz_minutes);

std::string ToLower(std::string s);
std::string ToUpper(std::string s);
bool IEquals(std::string_view a, std::string_view b);

std::string UrlDecode(std::string_view text);
std::string UrlEncode(std::string_view text);
/// Parses "a[b][c]=1&d[]=x" into nested JSON the way PHP does (objects; an object whose keys are
/// exactly 0..n-1 becomes an array). Key order of the input is kept.
json ParseQueryString(std::string_view query);
/// Flattens JSON into PHP-bracket form pairs: {"auth":{"a":1}} -> auth[a]=1.
void FlattenForm(const json& value,
                 const std::string& prefix,
                 std::vector<std::pair<std::string, std::string>>* out);
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& pairs);

/// PHP strval of a scalar (true -> "1", false/null -> "", numbers without trailing zeros).
std::string StrVal(const json& value);
/// PHP intval: leading integer of a string, 0 when none; bools 1/0; floats truncated.
int64_t IntVal(const json& value);
double FloatVal(const json& value);
/// "Y"/"N"-like truthiness: Y, y, 1, true, "true" -> true.
bool TruthyYN(const json& value);
/// Whether the string is an integer literal (optional sign, digits only).
bool IsIntegerText(std::string_view text);

/// Random lower-case hex string of n characters.
std::string RandomHex(std::mt19937_64& rng, size_t n);

/// The camelCase name crm.item.* uses for a UF_CRM_* field (documented conversion rules).
std::string UfCamelName(const std::string& field_name);

/// Number text the way legacy methods render doubles ("1000000.00").
std::string MoneyText(double value);

/// An HTML error page like the ones a front-end proxy returns.
std::string HtmlErrorPage(int status, const std::string& title);

}  // namespace fakeportal::detail
