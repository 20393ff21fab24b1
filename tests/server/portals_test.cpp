// PortalManager's cache of segment indexes: bounded, least recently used dropped first.
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "config.hpp"
#include "portals.hpp"
#include "registry.hpp"

namespace {

class PortalsTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("b24seg-portals-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        config_.data_dir = dir_.string();
        config_.max_cached_indexes = 2;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static server::PortalSnapshot Empty() {
        server::PortalSnapshot s;
        s.index = std::make_shared<segmenter::PortalIndex>(
            segmenter::PortalIndex::Build(segmenter::PortalData{}, segmenter::Settings{}));
        return s;
    }

    std::filesystem::path dir_;
    server::Config config_;
};

TEST_F(PortalsTest, CachedIndexesAreCappedAndTheLeastRecentlyUsedGoFirst) {
    server::Registry registry((dir_ / "registry.db").string());
    server::PortalManager portals(config_, registry);
    portals.SetSnapshot("a", Empty());
    portals.SetSnapshot("b", Empty());
    std::weak_ptr<const server::PortalSnapshot> a = portals.Snapshot("a");  // a is now the newest
    std::weak_ptr<const server::PortalSnapshot> b = portals.Snapshot("b");
    portals.Snapshot("a");
    portals.SetSnapshot("c", Empty());  // over the cap of 2: b, the least recently used, goes

    EXPECT_TRUE(b.expired());
    EXPECT_FALSE(a.expired());
    EXPECT_EQ(portals.Snapshot("a"), a.lock());  // still cached: no rebuild
    EXPECT_NO_THROW(portals.Snapshot("c"));
    // Dropped: the next lookup rebuilds from storage, which needs a stored portal ("b" is not).
    EXPECT_THROW(portals.Snapshot("b"), std::runtime_error);
}

TEST_F(PortalsTest, AnIndexInUseOutlivesItsEviction) {
    server::Registry registry((dir_ / "registry.db").string());
    config_.max_cached_indexes = 1;
    server::PortalManager portals(config_, registry);
    portals.SetSnapshot("a", Empty());
    auto held = portals.Snapshot("a");
    portals.SetSnapshot("b", Empty());
    ASSERT_NE(held, nullptr);
    EXPECT_NE(held->index, nullptr);
    EXPECT_EQ(held.use_count(), 1);  // only this holder keeps it
    EXPECT_THROW(portals.Snapshot("a"), std::runtime_error);
}

}  // namespace
