#include "config.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace {

class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("b24seg-config-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        for (const char* name : {"B24SEG_CLIENT_ID", "B24SEG_CLIENT_SECRET", "B24SEG_SESSION_KEY",
                                 "B24SEG_DATA_DIR"}) {
            ::unsetenv(name);
        }
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string Write(const std::string& text) {
        auto path = dir_ / "config.json";
        std::ofstream(path) << text;
        return path.string();
    }

    std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsAreValidAndSafe) {
    server::Config c = server::LoadConfig("");
    EXPECT_EQ(c.listen_host, "127.0.0.1");
    EXPECT_FALSE(c.allow_http_portals);
    EXPECT_EQ(c.oauth_url, "https://oauth.bitrix.info/oauth/token/");
    EXPECT_EQ(c.standard_burst, 50);
    EXPECT_DOUBLE_EQ(c.standard_drain_per_s, 2.0);
    EXPECT_EQ(c.enterprise_burst, 250);
}

// The shipped example (deploy/) is a valid config that names every key the server knows: an
// operator who copies it gets no "unknown key" error and sees each setting.
TEST_F(ConfigTest, TheDeployExampleLoadsAndSetsTheProductionPaths) {
    server::Config c = server::LoadConfig(B24SEG_EXAMPLE_CONFIG);
    EXPECT_EQ(c.data_dir, "/var/lib/b24seg");
    EXPECT_EQ(c.frontend_dir, "/usr/share/b24seg/frontend");
    EXPECT_FALSE(c.allow_http_portals);
    EXPECT_EQ(c.max_cached_indexes, 16);
    EXPECT_TRUE(c.client_secret.empty());  // secrets come from the environment only
}

TEST_F(ConfigTest, FileValuesOverrideDefaultsAndMissingKeysKeepThem) {
    server::Config c =
        server::LoadConfig(Write(R"({"listen_port": 9000, "public_url": "https://seg.example.com",
                  // comments are allowed
                  "allow_http_portals": true})"));
    EXPECT_EQ(c.listen_port, 9000);
    EXPECT_EQ(c.public_url, "https://seg.example.com");
    EXPECT_TRUE(c.allow_http_portals);
    EXPECT_EQ(c.data_dir, "data");
}

TEST_F(ConfigTest, UnknownKeyIsRejectedByName) {
    try {
        server::LoadConfig(Write(R"({"listen_prot": 9000})"));
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("listen_prot"), std::string::npos);
    }
}

TEST_F(ConfigTest, WrongTypeIsRejectedByName) {
    try {
        server::LoadConfig(Write(R"({"listen_port": "eighty"})"));
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("listen_port"), std::string::npos);
    }
}

TEST_F(ConfigTest, MalformedFileIsRejected) {
    EXPECT_THROW(server::LoadConfig(Write("{not json")), std::runtime_error);
    EXPECT_THROW(server::LoadConfig((dir_ / "missing.json").string()), std::runtime_error);
}

TEST_F(ConfigTest, SecretsComeFromTheEnvironment) {
    ::setenv("B24SEG_CLIENT_ID", "app.123", 1);
    ::setenv("B24SEG_CLIENT_SECRET", "s3cret", 1);
    server::Config c = server::LoadConfig(Write(R"({"client_id": "from-file"})"));
    EXPECT_EQ(c.client_id, "app.123");
    EXPECT_EQ(c.client_secret, "s3cret");
}

TEST_F(ConfigTest, InvalidValuesAreRejected) {
    EXPECT_THROW(server::LoadConfig(Write(R"({"listen_port": 70000})")), std::runtime_error);
    EXPECT_THROW(server::LoadConfig(Write(R"({"public_url": "seg.example.com"})")),
                 std::runtime_error);
    EXPECT_THROW(server::LoadConfig(Write(R"({"public_url": "https://x.com/"})")),
                 std::runtime_error);
    EXPECT_THROW(server::LoadConfig(Write(R"({"session_key": "short"})")), std::runtime_error);
    EXPECT_THROW(server::LoadConfig(Write(R"({"log_level": "loud"})")), std::runtime_error);
    EXPECT_THROW(server::LoadConfig(Write(R"({"standard_burst": 0})")), std::runtime_error);
    EXPECT_THROW(server::LoadConfig(Write(R"({"max_cached_indexes": 0})")), std::runtime_error);
    EXPECT_EQ(server::LoadConfig(Write(R"({"max_cached_indexes": 3})")).max_cached_indexes, 3);
}

}  // namespace
