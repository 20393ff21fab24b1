#pragma once
// Small pure helpers of the HTTP layer: form and query decoding, strict parameter parsing, JSON
// for embedding in HTML, portal-local times, origins. No I/O, no httplib; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace server::http {

// Decoded key/value pairs in the order they were sent (keys may repeat).
using Pairs = std::vector<std::pair<std::string, std::string>>;

// Percent-decoding with '+' as space (application/x-www-form-urlencoded). Malformed escapes
// ("%zz", a trailing "%") are kept literally rather than rejected: the portal's bodies are ours to
// read, not to judge byte by byte; the values that matter are validated by their users.
std::string UrlDecode(std::string_view text);
std::string UrlEncode(std::string_view text);

// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}. Empty pieces are skipped.
Pairs ParseUrlEncoded(std::string_view text);

// The query part of a request target ("/b24/app?DOMAIN=x" -> "DOMAIN=x"; "" if none).
std::string_view QueryOf(std::string_view target);

// The first value of `key`, or nullopt.
std::optional<std::string> Find(const Pairs& pairs, std::string_view key);
// The first value of `key`, or "".
std::string Get(const Pairs& pairs, std::string_view key);

// A strictly positive decimal integer of at most 18 digits (no sign, no spaces); nullopt otherwise.
std::optional<std::int64_t> ParsePositiveId(std::string_view text);

// True if `text` is valid UTF-8 without NUL or other C0 control characters except tab.
bool IsCleanUtf8(std::string_view text);

// JSON text safe to place inside <script type="application/json">: '<', '>', '&', U+2028 and
// U+2029 are written as \uXXXX escapes, so no byte sequence can end the element or start markup.
std::string HtmlSafeJson(const nlohmann::json& value);

// HTML text escaping (& < > " ').
std::string HtmlEscape(std::string_view text);

// An instant in the portal's offset: unix seconds -> "2024-09-09T02:00:00+03:00".
std::string PortalTime(std::int64_t unix_seconds, std::int32_t offset_seconds);

// "https://host:port/rest/" -> "https://host:port"; "" if not an http(s) URL.
std::string OriginOf(std::string_view url);
// "https://host:port/rest/" -> "host:port"; "" if not an http(s) URL.
std::string HostOf(std::string_view url);
// True for "http://..." (plain), false for anything else.
bool IsPlainHttp(std::string_view url);

// Lower-cases ASCII letters.
std::string AsciiLower(std::string_view text);
std::string AsciiUpper(std::string_view text);

// Replaces control characters by '?' and cuts to `max` bytes: for putting request-derived text
// (paths) into log lines.
std::string LogSafe(std::string_view text, std::size_t max = 200);

// The portal language mapped to one the pages speak: ru en de pl (ua/by/kz -> ru; else en).
std::string PageLang(std::string_view portal_lang);

}  // namespace server::http
