#pragma once
// Small cryptographic helpers over OpenSSL: keyed hashes, random tokens, encodings.

#include <string>
#include <string_view>

namespace server {

// HMAC-SHA256 of data under key, raw 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// SHA-256 of data as 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

// n cryptographically random bytes. Throws std::runtime_error if the RNG fails.
std::string RandomBytes(std::size_t n);

// URL-safe base64 without padding, and back. Decode returns false on malformed input, including
// a non-canonical last character (unused low bits set).
std::string Base64UrlEncode(std::string_view bytes);
bool Base64UrlDecode(std::string_view text, std::string& out);

// Compares two secrets in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Shows a secret in logs as its first four characters and a mark ("ab12…"), never more.
std::string Redact(std::string_view secret);

}  // namespace server
