// Secrets at rest and never-lost token pairs, below the HTTP layer: the token cipher, the
// configuration's secret rules, the registry's encryption, migration and rotation, file modes
// under umask 000, and the cross-process refresh coordinator over a scripted backend.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "b24client/error.hpp"
#include "config.hpp"
#include "crypto.hpp"
#include "db.hpp"
#include "portal_db.hpp"
#include "registry.hpp"
#include "token_sync.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

const std::string kKey(32, 'k');
const std::string kOtherKey(32, 'o');

class TrustStorageTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("b24seg-trust-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        for (const char* name : {"B24SEG_CLIENT_ID", "B24SEG_CLIENT_SECRET", "B24SEG_SESSION_KEY",
                                 "B24SEG_DATA_DIR", "B24SEG_TOKEN_KEY", "B24SEG_TOKEN_KEY_OLD"}) {
            ::unsetenv(name);
        }
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string Write(const std::string& text) {
        auto path = dir_ / "config.json";
        std::ofstream(path) << text;
        return path.string();
    }

    // Every byte the registry keeps on disk: the database, its WAL and its shared memory.
    std::string RegistryBytes() {
        std::string all;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            std::ifstream in((dir_ / "registry.db").string() + suffix, std::ios::binary);
            std::stringstream s;
            s << in.rdbuf();
            all += s.str();
        }
        return all;
    }

    server::PortalRecord Record(const std::string& member_id) {
        server::PortalRecord r;
        r.member_id = member_id;
        r.domain = "x.bitrix24.ru";
        r.endpoint = "https://x.bitrix24.ru/rest/";
        r.db_file = server::Registry::DbFileFor(member_id);
        r.application_token = "APPTOKEN-" + member_id + "-0123456789";
        r.access_token = "ACCESS-" + member_id + "-0123456789abcdef";
        r.refresh_token = "REFRESH-" + member_id + "-0123456789abcdef";
        r.access_expires_at = 1900000000;
        return r;
    }

    fs::path dir_;
};

int ModeOf(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
        return -1;
    }
    return static_cast<int>(st.st_mode & 0777);
}

// --- the cipher -------------------------------------------------------------------------------

TEST_F(TrustStorageTest, TokenCipherRoundTripsAndBindsEachValueToItsPlace) {
    server::TokenCipher cipher(kKey);
    std::string a = cipher.Encrypt("secret-token", "m1/access_token");
    std::string b = cipher.Encrypt("secret-token", "m1/access_token");
    EXPECT_NE(a, b);  // a fresh nonce per value
    EXPECT_EQ(a.find("secret-token"), std::string::npos);
    EXPECT_EQ(a.rfind("enc1:" + cipher.key_id() + ":", 0), 0u) << a;
    EXPECT_EQ(cipher.Decrypt(a, "m1/access_token"), "secret-token");
    EXPECT_TRUE(cipher.IsCurrent(a));
    EXPECT_EQ(cipher.Encrypt("", "x"), "");
    EXPECT_EQ(cipher.Decrypt("", "x"), "");
    // Moved to another row or column, altered, or under an unknown key: refused.
    EXPECT_THROW(cipher.Decrypt(a, "m2/access_token"), std::runtime_error);
    EXPECT_THROW(cipher.Decrypt(a, "m1/refresh_token"), std::runtime_error);
    std::string altered = a;
    altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
    EXPECT_THROW(cipher.Decrypt(altered, "m1/access_token"), std::runtime_error);
    server::TokenCipher other(kOtherKey);
    EXPECT_NE(other.key_id(), cipher.key_id());
    EXPECT_THROW(other.Decrypt(a, "m1/access_token"), std::runtime_error);
    EXPECT_FALSE(other.IsCurrent(a));
    // Rotation: the old key still decrypts, the new one encrypts.
    server::TokenCipher rotated(kOtherKey, {kKey});
    EXPECT_EQ(rotated.Decrypt(a, "m1/access_token"), "secret-token");
    EXPECT_FALSE(rotated.IsCurrent(a));
    EXPECT_TRUE(rotated.IsCurrent(rotated.Encrypt("t", "p")));
    EXPECT_THROW(server::TokenCipher("short"), std::invalid_argument);
}

TEST_F(TrustStorageTest, TokenKeysAreHexOrBase64OfThirtyTwoBytes) {
    const std::string hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    std::string key = server::ParseTokenKey(hex, "B24SEG_TOKEN_KEY");
    ASSERT_EQ(key.size(), 32u);
    EXPECT_EQ(static_cast<unsigned char>(key[31]), 0x1f);
    EXPECT_EQ(server::ParseTokenKey(hex + "\n", "K"), key);
    // base64 of the same 32 bytes, standard with padding, and URL-safe without.
    EXPECT_EQ(server::ParseTokenKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "K"), key);
    EXPECT_EQ(server::ParseTokenKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "K"), key);
    for (const char* bad :
         {"", "short", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="}) {
        try {
            server::ParseTokenKey(bad, "B24SEG_TOKEN_KEY");
            ADD_FAILURE() << "accepted " << bad;
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("B24SEG_TOKEN_KEY"), std::string::npos);
            EXPECT_EQ(
                std::string(bad).empty() || std::string(e.what()).find(bad) == std::string::npos,
                true)
                << "the message repeats the key";
        }
    }
}

// --- configuration ----------------------------------------------------------------------------

TEST_F(TrustStorageTest, TheConfigFileRefusesSecretsAndNamesTheVariableToUse) {
    const std::pair<const char*, const char*> cases[] = {{"client_secret", "B24SEG_CLIENT_SECRET"},
                                                         {"session_key", "B24SEG_SESSION_KEY"},
                                                         {"token_key", "B24SEG_TOKEN_KEY"},
                                                         {"token_key_old", "B24SEG_TOKEN_KEY_OLD"}};
    for (const auto& [key, variable] : cases) {
        try {
            server::LoadConfig(Write(std::string("{\"") + key + "\": \"value-that-is-secret\"}"));
            ADD_FAILURE() << key << " accepted in the file";
        } catch (const std::runtime_error& e) {
            std::string what = e.what();
            EXPECT_NE(what.find(key), std::string::npos) << what;
            EXPECT_NE(what.find(variable), std::string::npos) << what;
            EXPECT_EQ(what.find("value-that-is-secret"), std::string::npos) << what;
        }
    }
    ::setenv("B24SEG_TOKEN_KEY", std::string(64, 'a').c_str(), 1);
    ::setenv("B24SEG_TOKEN_KEY_OLD", std::string(64, 'b').c_str(), 1);
    server::Config c = server::LoadConfig(Write(R"({"uninstall_grace_hours": 24})"));
    EXPECT_EQ(c.token_key, std::string(64, 'a'));
    EXPECT_EQ(c.token_key_old, std::string(64, 'b'));
    EXPECT_EQ(c.uninstall_grace_hours, 24);
    EXPECT_EQ(c.max_answer_bytes, 64u * 1024u * 1024u);
    ::setenv("B24SEG_TOKEN_KEY", "not-a-key", 1);
    EXPECT_THROW(server::LoadConfig(""), std::runtime_error);
    ::unsetenv("B24SEG_TOKEN_KEY");
    ::unsetenv("B24SEG_TOKEN_KEY_OLD");
    EXPECT_THROW(server::LoadConfig(Write(R"({"uninstall_grace_hours": -1})")), std::runtime_error);
    EXPECT_THROW(server::LoadConfig(Write(R"({"max_answer_bytes": 1000})")), std::runtime_error);
}

TEST_F(TrustStorageTest, NoKeyMeansNoStartUnlessThePlaintextSwitchIsOn) {
    server::Config c;
    try {
        server::TokenCipherFor(c);
        FAIL() << "started without a key";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("B24SEG_TOKEN_KEY"), std::string::npos);
    }
    c.insecure_plaintext_tokens = true;
    EXPECT_EQ(server::TokenCipherFor(c), nullptr);
    c.token_key = std::string(64, 'c');
    ASSERT_NE(server::TokenCipherFor(c), nullptr);
}

// --- the registry -----------------------------------------------------------------------------

TEST_F(TrustStorageTest, TheRegistryFileHoldsNoTokenInTheClear) {
    auto cipher = std::make_shared<const server::TokenCipher>(kKey);
    server::PortalRecord r = Record("m1");
    {
        server::Registry registry((dir_ / "registry.db").string(), cipher);
        registry.Upsert(r);
        registry.UpdateTokens("m1", "ACCESS-rotated-0123456789", "REFRESH-rotated-0123456789",
                              1900000100);
        registry.SetApplicationToken("m1", "APPTOKEN-new-0123456789");
        auto back = registry.Find("m1");
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(back->access_token, "ACCESS-rotated-0123456789");
        EXPECT_EQ(back->refresh_token, "REFRESH-rotated-0123456789");
        EXPECT_EQ(back->application_token, "APPTOKEN-new-0123456789");
        EXPECT_EQ(back->access_expires_at, 1900000100);
        std::string bytes = RegistryBytes();
        ASSERT_NE(bytes.find("x.bitrix24.ru"), std::string::npos);  // the files were read
        for (const std::string& secret :
             {r.access_token, r.refresh_token, r.application_token,
              std::string("ACCESS-rotated-0123456789"), std::string("REFRESH-rotated-0123456789"),
              std::string("APPTOKEN-new-0123456789")}) {
            EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
        }
        EXPECT_EQ(registry.List().at(0).refresh_token, "REFRESH-rotated-0123456789");
    }
    // Without the key nothing is read; with another key neither.
    EXPECT_THROW(server::Registry((dir_ / "registry.db").string()), std::runtime_error);
    auto other = std::make_shared<const server::TokenCipher>(kOtherKey);
    EXPECT_THROW(server::Registry((dir_ / "registry.db").string(), other), std::runtime_error);
}

TEST_F(TrustStorageTest, APlaintextRegistryIsEncryptedAtFirstStartAndRotatedLater) {
    server::PortalRecord r1 = Record("m1");
    server::PortalRecord r2 = Record("m2");
    {
        server::Registry plain((dir_ / "registry.db").string());  // as before encryption
        plain.Upsert(r1);
        plain.Upsert(r2);
        plain.UpdateTokens("m2", "ACCESS-m2-second-0123456789", "REFRESH-m2-second-0123456789", 5);
    }
    ASSERT_NE(RegistryBytes().find(r1.refresh_token), std::string::npos);  // the clear "before"
    auto cipher = std::make_shared<const server::TokenCipher>(kKey);
    {
        server::Registry registry((dir_ / "registry.db").string(), cipher);
        EXPECT_EQ(registry.reencrypted_at_open(), 6);
        EXPECT_EQ(registry.Find("m1")->refresh_token, r1.refresh_token);
        EXPECT_EQ(registry.Find("m2")->access_token, "ACCESS-m2-second-0123456789");
    }
    std::string bytes = RegistryBytes();
    for (const std::string& secret :
         {r1.access_token, r1.refresh_token, r1.application_token, r2.access_token,
          r2.refresh_token, r2.application_token, std::string("ACCESS-m2-second-0123456789"),
          std::string("REFRESH-m2-second-0123456789")}) {
        EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
    }
    {
        server::Registry again((dir_ / "registry.db").string(), cipher);
        EXPECT_EQ(again.reencrypted_at_open(), 0);  // nothing left to do
    }
    // Rotation: the new key with the old one for decryption re-encrypts everything ...
    auto rotated = std::make_shared<const server::TokenCipher>(kOtherKey, std::vector{kKey});
    {
        server::Registry registry((dir_ / "registry.db").string(), rotated);
        EXPECT_EQ(registry.reencrypted_at_open(), 6);
    }
    // ... after which the old key is no longer needed.
    auto only_new = std::make_shared<const server::TokenCipher>(kOtherKey);
    server::Registry registry((dir_ / "registry.db").string(), only_new);
    EXPECT_EQ(registry.Find("m1")->application_token, r1.application_token);
    EXPECT_THROW(server::Registry((dir_ / "registry.db").string(), cipher), std::runtime_error);
}

TEST_F(TrustStorageTest, FilesAreCreatedPrivateUnderUmaskZero) {
    const mode_t previous = ::umask(0);
    const fs::path data = dir_ / "data" / "nested";
    {
        server::EnsurePrivateDirectory(data.string());
        auto cipher = std::make_shared<const server::TokenCipher>(kKey);
        server::Registry registry((data / "registry.db").string(), cipher);
        registry.Upsert(Record("m1"));
        server::PortalDb db((data / "portal-m1.db").string());
        db.SetMeta("k", "v");
        server::EnsurePrivateFile((data / "portal-m1.db.lock").string());
        EXPECT_EQ(ModeOf(data), 0700);
        for (const char* name :
             {"registry.db", "registry.db-wal", "registry.db-shm", "portal-m1.db",
              "portal-m1.db-wal", "portal-m1.db-shm", "portal-m1.db.lock"}) {
            ASSERT_TRUE(fs::exists(data / name)) << name;
            EXPECT_EQ(ModeOf(data / name), 0600) << name;
        }
    }
    // Files left too open by an older version are closed at the next open.
    ::chmod((data / "portal-m1.db").c_str(), 0644);
    ::chmod(data.c_str(), 0755);
    server::EnsurePrivateDirectory(data.string());
    { server::PortalDb db((data / "portal-m1.db").string()); }
    EXPECT_EQ(ModeOf(data / "portal-m1.db"), 0600);
    EXPECT_EQ(ModeOf(data), 0700);
    ::umask(previous);
}

// --- the refresh coordinator -----------------------------------------------------------------

// A backend whose storage is a variable and whose writes fail as scripted.
class ScriptedBackend : public server::TokenBackend {
public:
    class NoLease : public Lease {};
    std::unique_ptr<Lease> Acquire(const std::string&) override {
        ++leases;
        return std::make_unique<NoLease>();
    }
    std::optional<b24client::Credentials> Read(const std::string&) override {
        ++reads;
        if (on_read) {
            on_read();
        }
        return stored;
    }
    void Write(const std::string&, const b24client::Credentials& tokens) override {
        ++writes;
        if (failing_writes > 0) {
            --failing_writes;
            throw std::runtime_error("disk I/O error");
        }
        stored = tokens;
    }
    std::optional<b24client::Credentials> stored;
    int failing_writes = 0;
    int leases = 0;
    int reads = 0;
    int writes = 0;
    std::function<void()> on_read;
};

b24client::Credentials Pair(const std::string& n) {
    return {"https://x.bitrix24.ru/rest/", "access-" + n, "refresh-" + n, 1900000000};
}

server::PortalRefreshCoordinator::Options Fast() {
    server::PortalRefreshCoordinator::Options o;
    o.write_attempts = 3;
    o.write_backoff = std::chrono::milliseconds(1);
    return o;
}

TEST_F(TrustStorageTest, CoordinatorAdoptsANewerStoredPairWithoutRefreshing) {
    auto backend = std::make_shared<ScriptedBackend>();
    backend->stored = Pair("2");  // another process refreshed pair 1 meanwhile
    server::PortalRefreshCoordinator coordinator(backend, "m1", Fast());
    int trades = 0;
    auto got = coordinator.Refresh(Pair("1"), [&](const b24client::Credentials&) {
        ++trades;
        return Pair("x");
    });
    EXPECT_EQ(got.refresh_token, "refresh-2");
    EXPECT_EQ(trades, 0);
    EXPECT_EQ(backend->leases, 1);
    EXPECT_EQ(backend->writes, 0);
}

TEST_F(TrustStorageTest, CoordinatorStoresTheNewPairBeforeHandingItOutAndRetriesTheWrite) {
    auto backend = std::make_shared<ScriptedBackend>();
    backend->stored = Pair("1");
    backend->failing_writes = 2;
    server::PortalRefreshCoordinator coordinator(backend, "m1", Fast());
    b24client::Credentials traded_from;
    auto got = coordinator.Refresh(Pair("1"), [&](const b24client::Credentials& from) {
        traded_from = from;
        return Pair("2");
    });
    EXPECT_EQ(traded_from.refresh_token, "refresh-1");  // the stored (freshest) pair was traded
    EXPECT_EQ(got.refresh_token, "refresh-2");
    EXPECT_EQ(backend->writes, 3);
    ASSERT_TRUE(backend->stored.has_value());
    EXPECT_EQ(backend->stored->refresh_token, "refresh-2");
    EXPECT_FALSE(coordinator.unsaved().has_value());
}

TEST_F(TrustStorageTest, CoordinatorKeepsAPairTheDiskRefusedAndWritesItFirstNextTime) {
    auto backend = std::make_shared<ScriptedBackend>();
    backend->stored = Pair("1");
    backend->failing_writes = 3;  // every attempt of the first refresh
    server::PortalRefreshCoordinator coordinator(backend, "m1", Fast());
    auto got =
        coordinator.Refresh(Pair("1"), [](const b24client::Credentials&) { return Pair("2"); });
    EXPECT_EQ(got.refresh_token, "refresh-2");  // not lost: the process goes on with it
    ASSERT_TRUE(coordinator.unsaved().has_value());
    EXPECT_EQ(backend->stored->refresh_token, "refresh-1");
    // Pair 2 expires later: it is stored first, then traded (never the dead pair 1).
    b24client::Credentials traded_from;
    got = coordinator.Refresh(Pair("2"), [&](const b24client::Credentials& from) {
        traded_from = from;
        return Pair("3");
    });
    EXPECT_EQ(traded_from.refresh_token, "refresh-2");
    EXPECT_EQ(got.refresh_token, "refresh-3");
    EXPECT_EQ(backend->stored->refresh_token, "refresh-3");
    EXPECT_FALSE(coordinator.unsaved().has_value());
}

TEST_F(TrustStorageTest, CoordinatorGivesUpOnlyAfterTheFreshestPairWasRefused) {
    auto backend = std::make_shared<ScriptedBackend>();
    backend->stored = Pair("1");
    server::PortalRefreshCoordinator coordinator(backend, "m1", Fast());
    auto refused = [](const b24client::Credentials&) -> b24client::Credentials {
        throw b24client::Error(b24client::ErrorKind::kReinstallNeeded, "oauth", "invalid_grant", "",
                               400);
    };
    // A process that does not take the lease (an older version) stores pair 2 while we trade 1:
    // the refusal is not final, pair 2 is adopted.
    backend->on_read = [&] {
        if (backend->reads == 2) {
            backend->stored = Pair("2");
        }
    };
    EXPECT_EQ(coordinator.Refresh(Pair("1"), refused).refresh_token, "refresh-2");
    // Nothing newer: the refusal stands (the portal then needs a re-install).
    backend->on_read = nullptr;
    try {
        coordinator.Refresh(Pair("2"), refused);
        FAIL() << "expected the refusal";
    } catch (const b24client::Error& e) {
        EXPECT_EQ(e.kind(), b24client::ErrorKind::kReinstallNeeded);
    }
    // A portal without tokens (uninstalled) cannot refresh at all.
    backend->stored = b24client::Credentials{"https://x.bitrix24.ru/rest/", "", "", 0};
    EXPECT_THROW(coordinator.Refresh(Pair("2"), refused), b24client::Error);
}

}  // namespace
