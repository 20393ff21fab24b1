// The sync engine against the fake portal: first runs, resumption, incremental runs, rights of
// concurrency. Card values are checked against a reference computed straight from the portal's
// own rows, and writes against the portal's write log.

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "harness.hpp"
#include "jobs.hpp"

namespace synctest {
namespace {

using server::CardKey;
using server::CardKind;
using server::CardValues;
using server::sync::RunKind;

void ExpectCardsEqual(const std::map<CardKey, CardValues>& expected,
                      const std::map<CardKey, CardValues>& actual) {
    ASSERT_EQ(expected.size(), actual.size());
    int mismatches = 0;
    for (const auto& [key, want] : expected) {
        auto it = actual.find(key);
        ASSERT_NE(it, actual.end()) << Describe(key, want);
        if (!(it->second == want) && ++mismatches <= 10) {
            ADD_FAILURE() << "expected " << Describe(key, want) << "\n     got "
                          << Describe(key, it->second);
        }
    }
    EXPECT_EQ(mismatches, 0);
}

TEST(SyncEngine, FirstRunWritesWhatTheSegmenterComputesFromThePortalsOwnRows) {
    Harness h;
    Installed p = h.AddPortal(SmallDataset());
    server::RunRecord run = h.Sync(p.member_id, RunKind::kFirst);
    EXPECT_EQ(run.state, "done");
    EXPECT_EQ(run.phase, "done");
    EXPECT_GT(run.months_total, 30);
    EXPECT_EQ(run.months_done, run.months_total);

    auto expected = ReferenceCards(*p.portal, kNow);
    ExpectCardsEqual(expected, PortalCards(*p.portal));

    // Every write carries REGISTER_HISTORY_EVENT = N, and no card was written twice.
    auto counters = p.portal->Counters();
    ASSERT_FALSE(counters.writes.empty());
    for (const auto& w : counters.writes) {
        if (w.method.find("userfield") == std::string::npos) {
            EXPECT_EQ(w.register_history_event, "N") << w.method << " " << w.entity_id;
        }
    }
    for (const auto& [key, n] : WrittenCards(*p.portal)) {
        EXPECT_EQ(n, 1) << Describe(key, {});
    }
    // Cards of the portal's own company carry nothing and are not written at all.
    std::size_t non_empty = 0;
    for (const auto& [key, v] : expected) {
        non_empty += (v == CardValues{}) ? 0U : 1U;
    }
    EXPECT_EQ(run.cards_written, static_cast<std::int64_t>(non_empty));
}

TEST(SyncEngine, ASecondRunWithNothingChangedWritesNothingAndCostsLittle) {
    Harness h;
    Installed p = h.AddPortal(SmallDataset(11));
    h.Sync(p.member_id, RunKind::kFirst);
    p.portal->ResetCounters();
    server::RunRecord second = h.Sync(p.member_id, RunKind::kIncremental);
    EXPECT_EQ(second.kind, "incremental");
    EXPECT_EQ(second.cards_written, 0);
    EXPECT_TRUE(p.portal->Counters().writes.empty());
    // Our own writes bumped every card's modification time: the walk re-reads them once
    // (two cards per request or better), and nothing else.
    EXPECT_LT(p.portal->Counters().http_requests, 30);
}

TEST(SyncEngine, MonthsFinishedBeforeAFailureAreNotPulledAgain) {
    Harness h;
    Installed p = h.AddPortal(SmallDataset(3));
    // The first run dies after some requests: the portal starts refusing the admin's token.
    std::atomic<bool> failed{false};
    server::PortalDb db(h.portals().DbPath(p.member_id));
    b24client::CancelToken cancel;
    int progress_calls = 0;
    try {
        server::RunPortalSync(
            h.portals(), p.member_id, RunKind::kFirst, cancel, [] { return kNow; },
            [&](const server::RunRecord& r) {
                if (r.phase == "pull" && r.months_done >= 10 && !failed) {
                    failed = true;
                    cancel.Cancel();  // the process is told to stop
                }
                ++progress_calls;
            });
        FAIL() << "the run should have stopped";
    } catch (const b24client::Error& e) {
        EXPECT_EQ(e.kind(), b24client::ErrorKind::kCancelled);
    }
    auto done_before = db.DoneMonths();
    ASSERT_GE(done_before.size(), 10u);
    auto interrupted = db.LatestRun();
    ASSERT_TRUE(interrupted);
    EXPECT_EQ(interrupted->state, "running");  // resumable

    p.portal->ResetCounters();
    server::RunRecord resumed = h.Sync(p.member_id, RunKind::kIncremental);
    EXPECT_EQ(resumed.id, interrupted->id);  // the same run continues
    EXPECT_EQ(resumed.kind, "first");
    EXPECT_EQ(resumed.state, "done");
    // The months already stored were not pulled again: every row was committed exactly once,
    // under one month, and the rows pulled after resuming are exactly those of the other months.
    auto months = db.MonthCheckpoints();
    std::int64_t all_rows = 0, rows_of_done_before = 0;
    for (const auto& [month, rows] : months) {
        all_rows += rows;
        if (std::find(done_before.begin(), done_before.end(), month) != done_before.end()) {
            rows_of_done_before += rows;
        }
    }
    std::int64_t portal_rows = 0;
    p.portal->Read([&](const fakeportal::CrmData& crm) {
        portal_rows = static_cast<std::int64_t>(
            crm.contacts.rows.size() + crm.companies.rows.size() + crm.deals.rows.size() +
            crm.invoices.rows.size() + crm.old_invoices.rows.size() + crm.activities.rows.size() +
            crm.requisites.rows.size());
    });
    EXPECT_EQ(all_rows, portal_rows);
    EXPECT_EQ(resumed.rows - interrupted->rows, all_rows - rows_of_done_before);
    EXPECT_GT(rows_of_done_before, 0);
    ExpectCardsEqual(ReferenceCards(*p.portal, kNow), PortalCards(*p.portal));
    for (const auto& [key, n] : WrittenCards(*p.portal)) {
        EXPECT_EQ(n, 1) << Describe(key, {});
    }
}

TEST(SyncEngine, ARunIsRefusedWhileAnotherHoldsThePortal) {
    Harness h;
    Installed p = h.AddPortal(SmallDataset(5));
    server::FileLock held(h.portals().LockPath(p.member_id));
    ASSERT_TRUE(held.locked());
    EXPECT_THROW(h.Sync(p.member_id, RunKind::kFirst), std::runtime_error);
    EXPECT_EQ(p.portal->Counters().http_requests, 0);
}

// The four collisions of the issue: each changes exactly the cards whose values change.
class Incremental : public ::testing::TestWithParam<bool> {};

TEST_P(Incremental, EachChangeRewritesExactlyTheAffectedCards) {
    const bool offline = GetParam();
    Harness h;
    Installed p = h.AddPortal(SmallDataset(21), false, offline);
    h.Sync(p.member_id, RunKind::kFirst);
    // A quiet run first, so that our own writes are behind us.
    h.Sync(p.member_id, RunKind::kIncremental);

    // Pick the subjects from the portal's data.
    std::int64_t b2c_contact = 0, member = 0, other_company = 0, merge_a = 0, merge_b = 0,
                 open_deal = 0;
    p.portal->Read([&](const fakeportal::CrmData& crm) {
        std::set<std::int64_t> my;
        for (const auto& c : crm.companies.rows) {
            if (c.is_my_company) {
                my.insert(c.id);
            }
        }
        for (const auto& c : crm.contacts.rows) {
            if (c.company_ids.empty()) {
                if (b2c_contact == 0) {
                    b2c_contact = c.id;
                } else if (merge_a == 0) {
                    merge_a = c.id;
                } else if (merge_b == 0) {
                    merge_b = c.id;
                }
            } else if (member == 0 && my.count(c.company_ids.front()) == 0) {
                member = c.id;
            }
        }
        for (const auto& c : crm.companies.rows) {
            if (!c.is_my_company && other_company == 0) {
                bool is_current = false;
                for (const auto& ct : crm.contacts.rows) {
                    if (ct.id == member && !ct.company_ids.empty() &&
                        ct.company_ids.front() == c.id) {
                        is_current = true;
                    }
                }
                if (!is_current) {
                    other_company = c.id;
                }
            }
        }
        for (const auto& d : crm.deals.rows) {
            if (crm.DealStageSemantics(d.category_id, d.stage_id) == 'P' && d.category_id == 0 &&
                (d.company_id != 0 || !d.contact_ids.empty())) {
                open_deal = d.id;
                break;
            }
        }
    });
    ASSERT_NE(b2c_contact, 0);
    ASSERT_NE(member, 0);
    ASSERT_NE(other_company, 0);
    ASSERT_NE(merge_b, 0);
    ASSERT_NE(open_deal, 0);

    auto before = ReferenceCards(*p.portal, kNow);
    ASSERT_TRUE(p.portal->Delete<fakeportal::Contact>(b2c_contact));
    ASSERT_TRUE(p.portal->MergeContacts({merge_a, merge_b}));
    ASSERT_TRUE(p.portal->MoveContactToCompany(member, 0, other_company, true));
    ASSERT_TRUE(p.portal->MoveDealToStage(open_deal, "WON"));
    auto after = ReferenceCards(*p.portal, kNow);

    std::set<CardKey> expected;
    for (const auto& [key, v] : after) {
        auto it = before.find(key);
        if (it == before.end() || !(it->second == v)) {
            expected.insert(key);
        }
    }
    ASSERT_FALSE(expected.empty());

    p.portal->ResetCounters();
    server::RunRecord run = h.Sync(p.member_id, RunKind::kIncremental);
    EXPECT_EQ(run.state, "done");
    std::set<CardKey> written;
    for (const auto& [key, n] : WrittenCards(*p.portal)) {
        EXPECT_EQ(n, 1);
        written.insert(key);
    }
    EXPECT_EQ(written, expected);
    ExpectCardsEqual(after, PortalCards(*p.portal));

    // Our store forgot the deleted and merged-away contacts.
    server::PortalDb db(h.portals().DbPath(p.member_id));
    std::set<std::int64_t> stored;
    db.ForEach([&](const server::ContactRow& r) { stored.insert(r.id); });
    EXPECT_EQ(stored.count(b2c_contact), 0u);
    EXPECT_EQ(stored.count(merge_b), 0u);
    EXPECT_EQ(stored.count(merge_a), 1u);
    if (offline) {
        for (const auto& w : p.portal->Counters().writes) {
            EXPECT_EQ(w.auth_connector, "b24seg") << w.method;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         Incremental,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                             return param_info.param ? "OfflineEvents" : "ModifiedWalk";
                         });

TEST(SyncEngine, AHandEditedFieldIsOverwrittenAtTheNextRun) {
    Harness h;
    Installed p = h.AddPortal(SmallDataset(9));
    h.Sync(p.member_id, RunKind::kFirst);
    h.Sync(p.member_id, RunKind::kIncremental);
    auto cards = PortalCards(*p.portal);
    CardKey victim{};
    for (const auto& [key, v] : cards) {
        if (key.kind == CardKind::kCompany && v.payments) {
            victim = key;
            break;
        }
    }
    ASSERT_NE(victim.id, 0);
    // Someone sets the number of payments by hand through the REST API.
    auto user_client = h.portals().AdminClient(p.member_id);
    user_client->Call("crm.company.update",
                      {{"id", victim.id}, {"fields", {{"UF_CRM_SEG_PAYMENTS", 999}}}},
                      b24client::Repeat::kSafe);
    ASSERT_EQ(PortalCards(*p.portal)[victim].payments.value_or(0), 999);
    p.portal->ResetCounters();
    h.Sync(p.member_id, RunKind::kIncremental);
    EXPECT_EQ(PortalCards(*p.portal)[victim], cards[victim]);
    EXPECT_EQ(WrittenCards(*p.portal).size(), 1u);
}

TEST(SyncEngine, TimePassingTurnsActiveClientsSleepingWithoutAnyChangeInThePortal) {
    Harness h;
    Installed p = h.AddPortal(SmallDataset(13));
    h.Sync(p.member_id, RunKind::kFirst);
    const std::int64_t half_year = 200 * 86400;
    auto later = ReferenceCards(*p.portal, kNow + half_year);
    auto now = PortalCards(*p.portal);
    std::size_t changed = 0;
    for (const auto& [key, v] : later) {
        changed += (now[key] == v) ? 0U : 1U;
    }
    ASSERT_GT(changed, 0u);
    p.portal->ResetCounters();
    server::RunRecord run = h.Sync(p.member_id, RunKind::kIncremental, half_year);
    EXPECT_EQ(run.cards_written, static_cast<std::int64_t>(changed));
    ExpectCardsEqual(later, PortalCards(*p.portal));
}

}  // namespace
}  // namespace synctest
