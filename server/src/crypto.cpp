#include "crypto.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace server {

std::string HmacSha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
             &len) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string Sha256Hex(std::string_view data) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(digest.size() * 2);
    for (unsigned char b : digest) {
        hex.push_back(kHex[b >> 4]);
        hex.push_back(kHex[b & 0x0f]);
    }
    return hex;
}

std::string RandomBytes(std::size_t n) {
    std::string out(n, '\0');
    if (n > 0 &&
        RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        throw std::runtime_error("the random number generator failed");
    }
    return out;
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int DecodeChar(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}
}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    while (i + 3 <= bytes.size()) {
        unsigned v = (static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16) |
                     (static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                     static_cast<unsigned char>(bytes[i + 2]);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
        out.push_back(kAlphabet[v & 63]);
        i += 3;
    }
    std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        unsigned v = static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16;
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
    } else if (rest == 2) {
        unsigned v = (static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16) |
                     (static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
    }
    return out;
}

bool Base64UrlDecode(std::string_view text, std::string& out) {
    out.clear();
    if (text.size() % 4 == 1) {
        return false;
    }
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        int v = DecodeChar(c);
        if (v < 0) {
            return false;
        }
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xff));
        }
    }
    // Only the canonical spelling: the bits left over after the last byte must be zero, so no two
    // texts decode to the same bytes (a signed session cannot be re-spelled and still verify).
    return (buffer & ((1u << bits) - 1u)) == 0;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Redact(std::string_view secret) {
    if (secret.empty()) {
        return "(none)";
    }
    return std::string(secret.substr(0, std::min<std::size_t>(4, secret.size()))) + "…";
}

std::string HexEncode(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (char c : bytes) {
        auto b = static_cast<unsigned char>(c);
        hex.push_back(kHex[b >> 4]);
        hex.push_back(kHex[b & 0x0f]);
    }
    return hex;
}

namespace {

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

constexpr std::string_view kEncryptedPrefix = "enc1:";
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kKeyBytes = 32;

struct CipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

std::string KeyId(const std::string& key) {
    return Sha256Hex(std::string("b24seg token key id") + key).substr(0, 8);
}

const unsigned char* Bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string ParseTokenKey(std::string_view text, std::string_view variable) {
    auto fail = [&]() -> std::string {
        throw std::runtime_error(std::string(variable) +
                                 " must be 64 hex characters or the base64 of 32 bytes (e.g. "
                                 "`openssl rand -hex 32`)");
    };
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    if (text.size() == 64 &&
        std::all_of(text.begin(), text.end(), [](char c) { return HexValue(c) >= 0; })) {
        std::string key(kKeyBytes, '\0');
        for (std::size_t i = 0; i < kKeyBytes; ++i) {
            key[i] = static_cast<char>(HexValue(text[2 * i]) * 16 + HexValue(text[2 * i + 1]));
        }
        return key;
    }
    std::string url(text);
    while (!url.empty() && url.back() == '=') {
        url.pop_back();
    }
    for (char& c : url) {
        if (c == '+') {
            c = '-';
        } else if (c == '/') {
            c = '_';
        }
    }
    std::string key;
    if (!Base64UrlDecode(url, key) || key.size() != kKeyBytes) {
        return fail();
    }
    return key;
}

TokenCipher::TokenCipher(std::string key, std::vector<std::string> old_keys) {
    if (key.size() != kKeyBytes) {
        throw std::invalid_argument("TokenCipher: the key must be 32 bytes");
    }
    key_id_ = KeyId(key);
    keys_.push_back({key_id_, std::move(key)});
    for (auto& old : old_keys) {
        if (old.size() != kKeyBytes) {
            throw std::invalid_argument("TokenCipher: an old key must be 32 bytes");
        }
        std::string id = KeyId(old);
        if (FindKey(id) == nullptr) {
            keys_.push_back({std::move(id), std::move(old)});
        }
    }
}

TokenCipher::~TokenCipher() {
    for (auto& k : keys_) {
        OPENSSL_cleanse(k.bytes.data(), k.bytes.size());
    }
}

const TokenCipher::Key* TokenCipher::FindKey(std::string_view id) const {
    for (const auto& k : keys_) {
        if (k.id == id) {
            return &k;
        }
    }
    return nullptr;
}

bool TokenCipher::IsEncrypted(std::string_view stored) {
    return stored.substr(0, kEncryptedPrefix.size()) == kEncryptedPrefix;
}

bool TokenCipher::IsCurrent(std::string_view stored) const {
    if (stored.empty()) {
        return true;
    }
    if (!IsEncrypted(stored)) {
        return false;
    }
    std::string_view rest = stored.substr(kEncryptedPrefix.size());
    return rest.substr(0, rest.find(':')) == key_id_;
}

std::string TokenCipher::Encrypt(std::string_view plain, std::string_view aad) const {
    if (plain.empty()) {
        return {};
    }
    const Key& key = keys_.front();
    std::string nonce = RandomBytes(kNonceBytes);
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    std::string out(plain.size() + 16, '\0');
    int len = 0;
    int total = 0;
    bool ok =
        ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes),
                            nullptr) == 1 &&
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key.bytes), Bytes(nonce)) == 1 &&
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) ==
            1 &&
        EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                          Bytes(plain), static_cast<int>(plain.size())) == 1;
    total = len;
    ok = ok && EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + total,
                                   &len) == 1;
    total += len;
    std::string tag(kTagBytes, '\0');
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                                   tag.data()) == 1;
    if (!ok) {
        throw std::runtime_error("token encryption failed");
    }
    out.resize(static_cast<std::size_t>(total));
    return std::string(kEncryptedPrefix) + key.id + ":" + Base64UrlEncode(nonce + out + tag);
}

std::string TokenCipher::Decrypt(std::string_view stored, std::string_view aad) const {
    if (stored.empty()) {
        return {};
    }
    if (!IsEncrypted(stored)) {
        throw std::runtime_error("a stored token is not encrypted");
    }
    std::string_view rest = stored.substr(kEncryptedPrefix.size());
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
        throw std::runtime_error("a stored token is malformed");
    }
    const Key* key = FindKey(rest.substr(0, colon));
    if (key == nullptr) {
        throw std::runtime_error("a stored token is encrypted with key " +
                                 std::string(rest.substr(0, colon)) +
                                 ", which is neither B24SEG_TOKEN_KEY nor B24SEG_TOKEN_KEY_OLD");
    }
    std::string raw;
    if (!Base64UrlDecode(rest.substr(colon + 1), raw) || raw.size() < kNonceBytes + kTagBytes) {
        throw std::runtime_error("a stored token is malformed");
    }
    const std::string_view nonce = std::string_view(raw).substr(0, kNonceBytes);
    const std::string_view body =
        std::string_view(raw).substr(kNonceBytes, raw.size() - kNonceBytes - kTagBytes);
    std::string tag = raw.substr(raw.size() - kTagBytes);
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    std::string out(body.size() + 16, '\0');
    int len = 0;
    int total = 0;
    bool ok =
        ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes),
                            nullptr) == 1 &&
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key->bytes), Bytes(nonce)) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) ==
            1 &&
        EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                          Bytes(body), static_cast<int>(body.size())) == 1;
    total = len;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                                   tag.data()) == 1;
    ok = ok && EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + total,
                                   &len) == 1;
    if (!ok) {
        throw std::runtime_error(
            "a stored token failed its integrity check (wrong key or altered)");
    }
    total += len;
    out.resize(static_cast<std::size_t>(total));
    return out;
}

}  // namespace server
