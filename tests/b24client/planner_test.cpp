#include <numeric>

#include <gtest/gtest.h>

#include "walk_planner.hpp"

using namespace b24client::detail;

namespace {
PlanInput W(std::size_t i, int need, bool uncertain = false, const char* m = "crm.contact.list") {
    PlanInput p;
    p.walk = i;
    p.method = m;
    p.need = need;
    p.uncertain = uncertain;
    p.call_cost_s = 0.25;
    return p;
}
int Total(const std::vector<PlanEntry>& plan) {
    return std::accumulate(plan.begin(), plan.end(), 0,
                           [](int s, const PlanEntry& e) { return s + e.pages; });
}
}  // namespace

TEST(Planner, PagesNeededCountsTheProvingShortPage) {
    EXPECT_EQ(PagesNeeded(0), 1);
    EXPECT_EQ(PagesNeeded(1), 1);
    EXPECT_EQ(PagesNeeded(49), 1);
    EXPECT_EQ(PagesNeeded(50), 2);
    EXPECT_EQ(PagesNeeded(10000), 201);
}

TEST(Planner, OneBigWalkFillsTheBatch) {
    const auto plan = PlanBatch({W(0, 201)}, {}, 50, 100.0);
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].pages, 50);
}

TEST(Planner, SmallWalksShareOneBatchInOrder) {
    std::vector<PlanInput> in;
    for (std::size_t i = 0; i < 30; ++i) {
        in.push_back(W(i, 2));
    }
    const auto plan = PlanBatch(in, {}, 50, 100.0);
    ASSERT_EQ(plan.size(), 25u);  // 25 walks x 2 pages
    EXPECT_EQ(Total(plan), 50);
    EXPECT_EQ(plan.front().walk, 0u);
    EXPECT_EQ(plan.back().walk, 24u);
}

TEST(Planner, LastWalkGetsAPartialChain) {
    const auto plan = PlanBatch({W(0, 30), W(1, 30)}, {}, 50, 100.0);
    ASSERT_EQ(plan.size(), 2u);
    EXPECT_EQ(plan[0].pages, 30);
    EXPECT_EQ(plan[1].pages, 20);
}

TEST(Planner, MethodAllowanceCapsItsPagesAndOthersGoOn) {
    std::map<std::string, int> allowance{{"crm.contact.list", 0}, {"crm.deal.list", 5}};
    const auto plan = PlanBatch(
        {W(0, 10), W(1, 10, false, "crm.deal.list"), W(2, 10, false, "crm.activity.list")},
        allowance, 50, 100.0);
    ASSERT_EQ(plan.size(), 2u);
    EXPECT_EQ(plan[0].walk, 1u);
    EXPECT_EQ(plan[0].pages, 5);
    EXPECT_EQ(plan[1].walk, 2u);
    EXPECT_EQ(plan[1].pages, 10);
}

TEST(Planner, TimeBudgetShortensChainsButAlwaysProgresses) {
    auto slow = W(0, 100);
    slow.call_cost_s = 2.0;
    auto plan = PlanBatch({slow}, {}, 50, 20.0);
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].pages, 10);
    slow.call_cost_s = 100.0;
    plan = PlanBatch({slow}, {}, 50, 20.0);
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].pages, 1);
}

TEST(Planner, LeftoverSlotsGoToWalksOfUnknownSize) {
    const auto plan = PlanBatch({W(0, 1, true), W(1, 3, false), W(2, 1, true)}, {}, 50, 100.0);
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_EQ(plan[1].pages, 3);  // sized exactly, no speculation
    EXPECT_EQ(Total(plan), 50);   // the rest went to the unknown ones
    EXPECT_GE(plan[0].pages, 23);
    EXPECT_GE(plan[2].pages, 23);
}

TEST(Planner, NothingFitsWhenEveryMethodIsOutOfBudget) {
    std::map<std::string, int> allowance{{"crm.contact.list", 0}};
    EXPECT_TRUE(PlanBatch({W(0, 10), W(1, 3)}, allowance, 50, 100.0).empty());
}
