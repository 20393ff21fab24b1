#pragma once
// Small cryptographic helpers over OpenSSL: keyed hashes, random tokens, encodings, and the
// encryption of secrets at rest (TokenCipher).

#include <string>
#include <string_view>
#include <vector>

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

// Lower-case hex of bytes.
std::string HexEncode(std::string_view bytes);

// A 32-byte key as written in B24SEG_TOKEN_KEY: 64 hex characters, or base64 of 32 bytes
// (standard or URL-safe alphabet, padding optional). Throws std::runtime_error naming `variable`
// (never the value).
std::string ParseTokenKey(std::string_view text, std::string_view variable);

// AES-256-GCM (OpenSSL EVP) for secrets stored in the registry: access, refresh and application
// tokens. A stored value is
//     "enc1:" <key id> ":" base64url( nonce[12] | ciphertext | tag[16] )
// with a fresh random nonce per value. The key id is 8 hex characters of
// SHA-256("b24seg token key id" | key): it names the key (for rotation) without revealing it.
// `aad` binds a value to its place (e.g. "<member_id>/refresh_token"): a blob moved to another row
// or column fails to decrypt, as does any change to it.
//
// Rotation: the cipher holds the current key (used to encrypt) and any number of old keys (used
// only to decrypt); values under an old key are re-encrypted under the current one by whoever
// rewrites them (the registry does it for every row when it opens).
// Immutable after construction, so thread-safe.
class TokenCipher {
public:
    // `key` and each of `old_keys`: 32 raw bytes. Throws std::invalid_argument otherwise.
    explicit TokenCipher(std::string key, std::vector<std::string> old_keys = {});
    ~TokenCipher();
    TokenCipher(const TokenCipher&) = delete;
    TokenCipher& operator=(const TokenCipher&) = delete;

    // "" stays "" (nothing secret to hide). Throws std::runtime_error if OpenSSL fails.
    std::string Encrypt(std::string_view plain, std::string_view aad) const;
    // The plain text of a stored value. Throws std::runtime_error for a value under an unknown
    // key, a tampered or misplaced value, or a malformed one. "" gives "".
    std::string Decrypt(std::string_view stored, std::string_view aad) const;

    // Whether a stored value has the encrypted form (any key).
    static bool IsEncrypted(std::string_view stored);
    // Whether a stored value is encrypted under the current key ("" counts as current).
    bool IsCurrent(std::string_view stored) const;
    const std::string& key_id() const { return key_id_; }

private:
    struct Key {
        std::string id;
        std::string bytes;
    };
    const Key* FindKey(std::string_view id) const;

    std::string key_id_;
    std::vector<Key> keys_;  // keys_[0] is the current key
};

}  // namespace server
