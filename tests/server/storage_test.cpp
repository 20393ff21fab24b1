#include <filesystem>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include "db.hpp"
#include "migrations.hpp"
#include "registry.hpp"

namespace {

class StorageTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("b24seg-storage-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

TEST_F(StorageTest, MigrationsBringAFreshDatabaseToTheNewestVersionOnce) {
    auto path = (dir_ / "p.db").string();
    {
        SQLite::Database db = server::OpenDatabase(path);
        server::ApplyMigrations(db, server::PortalMigrations());
        EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(),
                  server::PortalMigrations().back().version);
        EXPECT_TRUE(db.tableExists("contact"));
        EXPECT_TRUE(db.tableExists("pull_month"));
        EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
    }
    // Re-opening applies nothing and keeps data.
    SQLite::Database db = server::OpenDatabase(path);
    db.exec("INSERT INTO meta(key, value) VALUES ('k', 'v')");
    server::ApplyMigrations(db, server::PortalMigrations());
    EXPECT_EQ(db.execAndGet("SELECT value FROM meta WHERE key='k'").getString(), "v");
}

TEST_F(StorageTest, FailingMigrationLeavesTheLastGoodVersion) {
    SQLite::Database db = server::OpenDatabase((dir_ / "m.db").string());
    std::vector<server::Migration> ms = {{1, "001_ok", "CREATE TABLE a(x);"},
                                         {2, "002_bad", "CREATE TABLE b(x); NOT SQL;"}};
    EXPECT_THROW(server::ApplyMigrations(db, ms), std::runtime_error);
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), 1);
    EXPECT_TRUE(db.tableExists("a"));
    EXPECT_FALSE(db.tableExists("b"));
}

TEST_F(StorageTest, DatabaseNewerThanTheProgramIsRefused) {
    SQLite::Database db = server::OpenDatabase((dir_ / "n.db").string());
    db.exec("PRAGMA user_version = 99");
    EXPECT_THROW(server::ApplyMigrations(db, server::RegistryMigrations()), std::runtime_error);
}

TEST_F(StorageTest, RegistryStoresAndUpdatesPortals) {
    server::Registry registry((dir_ / "registry.db").string());
    EXPECT_FALSE(registry.Find("m1").has_value());

    server::PortalRecord r;
    r.member_id = "m1";
    r.domain = "one.bitrix24.ru";
    r.endpoint = "https://one.bitrix24.ru/rest/";
    r.db_file = server::Registry::DbFileFor("m1");
    r.application_token = "apptoken";
    r.access_token = "a1";
    r.refresh_token = "r1";
    registry.Upsert(r);

    registry.UpdateTokens("m1", "a2", "r2", 1234);
    registry.UpdateEndpoint("m1", "https://renamed.bitrix24.ru/rest/", "renamed.bitrix24.ru");
    registry.SetState("m1", "blocked", "reinstall_needed", "refresh token refused");
    registry.SetSettings("m1", 3, 12);

    auto got = registry.Find("m1");
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->access_token, "a2");
    EXPECT_EQ(got->refresh_token, "r2");
    EXPECT_EQ(got->access_expires_at, 1234);
    EXPECT_EQ(got->endpoint, "https://renamed.bitrix24.ru/rest/");
    EXPECT_EQ(got->state, "blocked");
    EXPECT_EQ(got->block_code, "reinstall_needed");
    EXPECT_EQ(got->active_months, 3);
    EXPECT_EQ(got->lost_months, 12);
    EXPECT_GT(got->created_at, 0);
    EXPECT_EQ(registry.List().size(), 1u);

    registry.Delete("m1");
    EXPECT_FALSE(registry.Find("m1").has_value());
    EXPECT_TRUE(registry.List().empty());
}

TEST_F(StorageTest, DatabaseFileNamesAreSafe) {
    EXPECT_EQ(server::Registry::DbFileFor("a223c6b3710f85df"), "portal-a223c6b3710f85df.db");
    std::string hostile = server::Registry::DbFileFor("../../etc/passwd");
    EXPECT_EQ(hostile.find('/'), std::string::npos);
    EXPECT_EQ(hostile.find(".."), std::string::npos);
    EXPECT_NE(server::Registry::DbFileFor("x/y"), server::Registry::DbFileFor("x/z"));
}

}  // namespace
