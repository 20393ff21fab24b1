#include "session.hpp"

#include <string>

#include <gtest/gtest.h>

#include "crypto.hpp"

namespace {

const std::string kKey(40, 'k');

server::Session Sample() {
    server::Session s;
    s.member_id = "a223c6b3710f85df22e9377d6c4f7553";
    s.user_id = 42;
    s.is_admin = true;
    s.expires_at = 2000;
    s.sid = "sid-1";
    s.lang = "de";
    return s;
}

TEST(SessionTest, IssuedTokenVerifiesAndCarriesItsFields) {
    server::SessionSigner signer(kKey);
    server::Session out;
    ASSERT_EQ(signer.Verify(signer.Issue(Sample()), 1000, &out), server::SessionCheck::kValid);
    EXPECT_EQ(out.member_id, "a223c6b3710f85df22e9377d6c4f7553");
    EXPECT_EQ(out.user_id, 42);
    EXPECT_TRUE(out.is_admin);
    EXPECT_EQ(out.sid, "sid-1");
    EXPECT_EQ(out.lang, "de");
}

TEST(SessionTest, ExpiredTokenIsReportedAsExpired) {
    server::SessionSigner signer(kKey);
    EXPECT_EQ(signer.Verify(signer.Issue(Sample()), 2000, nullptr), server::SessionCheck::kExpired);
}

TEST(SessionTest, TamperedPayloadIsInvalid) {
    server::SessionSigner signer(kKey);
    server::Session s = Sample();
    std::string token = signer.Issue(s);
    s.is_admin = false;
    s.user_id = 1;
    std::string other = signer.Issue(s);
    // Graft the other payload onto this signature: an attempt to become someone else.
    std::string forged = other.substr(0, other.find('.')) + token.substr(token.find('.'));
    EXPECT_EQ(signer.Verify(forged, 1000, nullptr), server::SessionCheck::kInvalid);
}

TEST(SessionTest, TokenFromAnotherKeyIsInvalid) {
    server::SessionSigner a(kKey);
    server::SessionSigner b(std::string(40, 'x'));
    EXPECT_EQ(b.Verify(a.Issue(Sample()), 1000, nullptr), server::SessionCheck::kInvalid);
}

TEST(SessionTest, GarbageIsInvalid) {
    server::SessionSigner signer(kKey);
    for (const char* token : {"", ".", "abc", "abc.def", "!!!.###", "e30.e30"}) {
        EXPECT_EQ(signer.Verify(token, 1000, nullptr), server::SessionCheck::kInvalid) << token;
    }
}

TEST(SessionTest, ShortKeyIsRefused) {
    EXPECT_THROW(server::SessionSigner("short"), std::invalid_argument);
}

TEST(CryptoTest, Base64UrlRoundTripsEveryLength) {
    std::string bytes;
    for (int n = 0; n < 40; ++n) {
        std::string decoded;
        ASSERT_TRUE(server::Base64UrlDecode(server::Base64UrlEncode(bytes), decoded));
        EXPECT_EQ(decoded, bytes);
        bytes.push_back(static_cast<char>(n * 37 + 200));
    }
}

TEST(CryptoTest, Base64UrlAcceptsOnlyTheCanonicalSpelling) {
    std::string decoded;
    EXPECT_TRUE(server::Base64UrlDecode("AQ", decoded));  // 000000 010000: one byte, 0x01
    EXPECT_EQ(decoded, std::string(1, '\x01'));
    EXPECT_FALSE(server::Base64UrlDecode("AR", decoded));   // the same byte with a stray low bit
    EXPECT_FALSE(server::Base64UrlDecode("AAB", decoded));  // two bytes, stray bits after them
    EXPECT_TRUE(server::Base64UrlDecode("AAA", decoded));
}

TEST(SessionTest, ChangingTheLastCharacterOfASessionAlwaysBreaksIt) {
    server::SessionSigner signer("0123456789abcdef0123456789abcdef");
    server::Session s;
    s.member_id = "m";
    s.user_id = 7;
    s.expires_at = 2000;
    s.sid = "sid";
    const std::string token = signer.Issue(s);
    ASSERT_EQ(signer.Verify(token, 1000, nullptr), server::SessionCheck::kValid);
    const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (char c : alphabet) {
        if (c == token.back()) {
            continue;
        }
        std::string forged = token;
        forged.back() = c;
        EXPECT_EQ(signer.Verify(forged, 1000, nullptr), server::SessionCheck::kInvalid) << c;
    }
}

TEST(CryptoTest, HmacMatchesTheRfc4231TestVector) {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    std::string mac = server::HmacSha256("Jefe", "what do ya want for nothing?");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (char ch : mac) {
        auto c = static_cast<unsigned char>(ch);
        hex.push_back(kHex[c >> 4]);
        hex.push_back(kHex[c & 15]);
    }
    EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, RedactShowsOnlyAPrefix) {
    EXPECT_EQ(server::Redact("abcdefghijkl"), "abcd…");
    EXPECT_EQ(server::Redact(""), "(none)");
}

}  // namespace
