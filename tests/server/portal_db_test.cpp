#include "portal_db.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "text.hpp"

namespace {

class PortalDbTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("b24seg-portaldb-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        db_ = std::make_unique<server::PortalDb>((dir_ / "p.db").string());
    }
    void TearDown() override {
        db_.reset();
        std::filesystem::remove_all(dir_);
    }
    std::filesystem::path dir_;
    std::unique_ptr<server::PortalDb> db_;
};

TEST_F(PortalDbTest, RowsRoundTripWithTheirListsAndUpsertReplaces) {
    server::ContactRow c;
    c.id = 7;
    c.name = "Анна Смирнова";
    c.company_id = 3;
    c.company_ids = {3, 9};
    c.created = "2024-09-09T02:00:00+03:00";
    c.channels = server::kChannelPhone | server::kChannelEmail;
    c.phones = {"+7 495 123-45-67"};
    c.emails = {"Anna@Example.com"};
    db_->Upsert(std::vector{c});
    c.company_ids = {9};
    db_->Upsert(std::vector{c});

    std::vector<server::ContactRow> got;
    db_->ForEach([&](const server::ContactRow& r) { got.push_back(r); });
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].name, "Анна Смирнова");
    EXPECT_EQ(got[0].company_ids, std::vector<std::int64_t>{9});
    EXPECT_EQ(got[0].phones, std::vector<std::string>{"+7 495 123-45-67"});
    EXPECT_EQ(got[0].channels, 3);

    server::ActivityRow a;
    a.id = 1;
    a.bindings = {{2, 10}, {3, 7}, {4, 3}};
    a.created = "2024-09-10T00:00:00+03:00";
    db_->Upsert(std::vector{a});
    std::vector<server::ActivityRow> acts;
    db_->ForEach([&](const server::ActivityRow& r) { acts.push_back(r); });
    ASSERT_EQ(acts.size(), 1u);
    EXPECT_EQ(acts[0].bindings, a.bindings);
}

TEST_F(PortalDbTest, SearchTextFoldsCyrillicAndKeepsPhoneDigits) {
    server::ContactRow c;
    c.id = 1;
    c.name = "ЁЛКА Ödön Łukasz";
    c.created = "2024-01-01T00:00:00+03:00";
    c.phones = {"+7 (495) 123-45-67"};
    c.emails = {"BOSS@Example.COM"};
    db_->Upsert(std::vector{c});
    std::lock_guard lock(db_->mutex());
    std::string search = db_->raw().execAndGet("SELECT search FROM contact").getString();
    EXPECT_NE(search.find("ёлка ödön łukasz"), std::string::npos) << search;
    EXPECT_NE(search.find("boss@example.com"), std::string::npos);
    EXPECT_NE(search.find("74951234567"), std::string::npos);
}

TEST_F(PortalDbTest, DeletingAContactDropsItsCard) {
    server::ContactRow c;
    c.id = 5;
    c.created = "2024-01-01T00:00:00+03:00";
    db_->Upsert(std::vector{c});
    server::CardValues v;
    v.lifecycle = "ACTIVE";
    v.payments = 2;
    db_->SetCards({{{server::CardKind::kContact, 5}, v}});
    EXPECT_EQ(db_->Cards().size(), 1u);
    db_->Delete("contact", {5});
    EXPECT_EQ(db_->Count("contact"), 0);
    EXPECT_TRUE(db_->Cards().empty());
    EXPECT_THROW(db_->Delete("nonsense", {1}), std::invalid_argument);
}

TEST_F(PortalDbTest, CardValuesKeepNullsApart) {
    server::CardValues v;
    v.lifecycle = "NO_CONTACTS";
    v.has_dialogs = false;
    server::CardKey key{server::CardKind::kCompany, 4};
    db_->ReplaceTargets({{key, v}});
    auto t = db_->Target(key);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(*t, v);
    EXPECT_FALSE(t->payments.has_value());
    ASSERT_TRUE(t->has_dialogs.has_value());
    EXPECT_FALSE(*t->has_dialogs);
}

TEST_F(PortalDbTest, CheckpointsRunsDirtyAndClear) {
    db_->InTransaction([&] { db_->MarkMonthDone("2020-01", 10); });
    EXPECT_TRUE(db_->MonthDone("2020-01"));
    EXPECT_FALSE(db_->MonthDone("2020-02"));

    EXPECT_THROW(db_->InTransaction([&] {
        db_->MarkMonthDone("2020-02", 1);
        throw std::runtime_error("killed");
    }),
                 std::runtime_error);
    EXPECT_FALSE(db_->MonthDone("2020-02"));  // rolled back with the failure

    auto id = db_->CreateRun("first", 100);
    auto run = db_->FindRun(id);
    ASSERT_TRUE(run.has_value());
    run->phase = "write";
    run->cards_written = 12;
    db_->SaveRun(*run);
    EXPECT_EQ(db_->LatestRun()->cards_written, 12);
    EXPECT_EQ(db_->LatestRun()->phase, "write");

    db_->AddDirty("contact", 3);
    db_->AddDirty("contact", 3);
    db_->AddDirty("deal", 8);
    auto dirty = db_->TakeDirty();
    EXPECT_EQ(dirty["contact"], std::vector<std::int64_t>{3});
    EXPECT_EQ(dirty["deal"], std::vector<std::int64_t>{8});
    EXPECT_TRUE(db_->TakeDirty().empty());

    db_->SetMeta("pull.first_month", "2014-03");
    db_->SetMeta("settings.other", "kept");
    db_->ClearPulledData();
    EXPECT_FALSE(db_->MonthDone("2020-01"));
    EXPECT_FALSE(db_->GetMeta("pull.first_month").has_value());
    EXPECT_EQ(db_->GetMeta("settings.other").value_or(""), "kept");
    EXPECT_EQ(db_->ListRuns(10).size(), 1u);  // history survives
}

TEST(TextTest, CsvFieldQuotesAndDefusesFormulas) {
    EXPECT_EQ(server::CsvField("plain", ';'), "plain");
    EXPECT_EQ(server::CsvField("a;b", ';'), "\"a;b\"");
    EXPECT_EQ(server::CsvField("say \"hi\"", ';'), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(server::CsvField("=HYPERLINK(\"x\")", ';'), "\"'=HYPERLINK(\"\"x\"\")\"");
    EXPECT_EQ(server::CsvField("+7 495", ';'), "'+7 495");
}

TEST(TextTest, FoldCaseLeavesInvalidBytesAlone) {
    std::string bad =
        "A\xff\xfe"
        "B";
    EXPECT_EQ(server::FoldCase(bad),
              "a\xff\xfe"
              "b");
    EXPECT_EQ(server::FoldCase("ŻÓŁW ÄÖÜ"), "żółw äöü");
}

}  // namespace
