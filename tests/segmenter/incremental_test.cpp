// PortalIndex::Apply: any sequence of changes must leave the index exactly as a fresh Build of the
// changed portal, and must report every card whose values changed.

#include <algorithm>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "random_portal.hpp"
#include "reference_model.hpp"
#include "segmenter/segmenter.hpp"
#include "test_support.hpp"

namespace segtest {
namespace {

using namespace segmenter;

std::map<CardRef, CardValues> ByRef(const std::vector<Card>& cards) {
    std::map<CardRef, CardValues> map;
    for (const Card& card : cards) {
        map[card.ref] = card.values;
    }
    return map;
}

void ExpectSameState(const PortalIndex& index, const PortalData& portal, const Instant t) {
    const PortalIndex rebuilt = PortalIndex::Build(portal, index.settings());
    const auto cards = index.AllCards(t);
    ASSERT_EQ(cards, rebuilt.AllCards(t));
    ASSERT_EQ(cards, ReferenceCards(portal, t, index.settings()));
    ASSERT_EQ(index.Series(t), rebuilt.Series(t));
    for (const Card& card : cards) {
        ASSERT_EQ(index.Detail(card.ref, t), rebuilt.Detail(card.ref, t))
            << (card.ref.kind == CardKind::kCompany ? "company " : "contact ") << card.ref.id;
    }
    const auto a = index.counts();
    const auto b = rebuilt.counts();
    EXPECT_EQ(a.contacts, b.contacts);
    EXPECT_EQ(a.companies, b.companies);
    EXPECT_EQ(a.deals, b.deals);
    EXPECT_EQ(a.invoices, b.invoices);
    EXPECT_EQ(a.activities, b.activities);
    EXPECT_EQ(a.requisites, b.requisites);
    EXPECT_EQ(a.clients, b.clients);
    EXPECT_EQ(a.members, b.members);
}

// Apply promises to report every card whose eight fields, turnover or admin-set tier changed; tiers
// by rank move with every other client's turnover, so they are left out of that promise.
std::map<CardRef, CardValues> Promised(const std::vector<Card>& cards, const Settings& settings) {
    std::map<CardRef, CardValues> map = ByRef(cards);
    if (settings.tiers.empty()) {
        for (auto& [ref, values] : map) {
            values.tier.reset();
        }
    }
    return map;
}

void RunRandomEdits(std::uint64_t seed, const RandomOptions& options, int batches) {
    std::mt19937_64 rng(seed);
    PortalData portal = RandomPortal(rng, options);
    // Odd seeds: random windows and tiers; even seeds: the defaults (tiers by rank).
    const Settings settings = seed % 2 == 1 ? RandomSettings(rng) : Settings{};
    PortalIndex index = PortalIndex::Build(portal, settings);
    const Instant t = RandomInstant(rng, options);
    for (int batch = 0; batch < batches; ++batch) {
        SCOPED_TRACE("seed " + std::to_string(seed) + " batch " + std::to_string(batch));
        const auto before = Promised(index.AllCards(t), settings);
        const int edits = std::uniform_int_distribution<int>(1, 12)(rng);
        const std::vector<CardRef> touched = index.Apply(RandomEdit(rng, portal, options, edits));
        ASSERT_TRUE(std::is_sorted(touched.begin(), touched.end()));
        ExpectSameState(index, portal, t);

        // Every card that is new or whose values changed was reported.
        for (const auto& [ref, values] : Promised(index.AllCards(t), settings)) {
            const auto old = before.find(ref);
            if (old == before.end() || old->second != values) {
                EXPECT_TRUE(std::binary_search(touched.begin(), touched.end(), ref))
                    << (ref.kind == CardKind::kCompany ? "company " : "contact ") << ref.id
                    << " changed but was not reported";
            }
        }
        for (const CardRef& ref : touched) {
            EXPECT_TRUE(index.Card(ref, t)) << "reported card does not exist";
        }
    }
}

TEST(Incremental, RandomEditsEqualARebuild) {
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
        RunRandomEdits(seed, {}, 25);
    }
}

TEST(Incremental, RandomEditsEqualARebuildWithMixedOffsets) {
    RandomOptions options;
    options.mixed_offsets = true;
    for (std::uint64_t seed = 50; seed <= 53; ++seed) {
        RunRandomEdits(seed, options, 20);
    }
}

TEST(Incremental, DenseSmallPortalsWithManyCollisions) {
    // Few ids, many references: every edit touches shared companies, contacts and deals.
    RandomOptions options;
    options.companies = 5;
    options.contacts = 10;
    options.deals = 15;
    options.invoices = 12;
    options.activities = 20;
    options.requisites = 4;
    for (std::uint64_t seed = 70; seed <= 77; ++seed) {
        RunRandomEdits(seed, options, 30);
    }
}

TEST(Incremental, BuildIsApplyOnAnEmptyIndex) {
    std::mt19937_64 rng(3);
    const PortalData portal = RandomPortal(rng, {});
    PortalIndex applied;
    const auto touched = applied.Apply({portal, {}});
    const Instant t = At("2023-06-01T00:00:00");
    EXPECT_EQ(applied.AllCards(t), PortalIndex::Build(portal).AllCards(t));
    EXPECT_EQ(touched.size(), portal.contacts.size() + portal.companies.size());
}

TEST(Incremental, LoadingIntoANonEmptyIndexEqualsBuild) {
    // Build starts from an empty index and takes a shortcut; the same rows applied to an index
    // that already holds a row go through the general path. Both must agree.
    for (std::uint64_t seed = 20; seed <= 23; ++seed) {
        std::mt19937_64 rng(seed);
        RandomOptions options;
        options.mixed_offsets = seed % 2 == 0;
        const PortalData portal = RandomPortal(rng, options);
        PortalIndex general;
        const std::int64_t placeholder = 1'000'000;
        general.Apply({{.contacts = {{.id = placeholder, .created = At("2020-01-01")}}}, {}});
        general.Apply({portal, {.contacts = {placeholder}}});
        const Instant t = RandomInstant(rng, options);
        ExpectSameState(general, portal, t);
    }
}

// The same portal with every id (and reference) spread out to large values.
PortalData SpreadIds(PortalData p) {
    const auto spread = [](std::int64_t& id) {
        if (id > 0) {
            id = id * 1'000'003 + 12'345;  // up to ~2^34: several radix passes
        }
    };
    for (Contact& c : p.contacts) {
        spread(c.id);
        spread(c.company_id);
        std::for_each(c.company_ids.begin(), c.company_ids.end(), spread);
    }
    for (Company& c : p.companies) {
        spread(c.id);
    }
    for (Deal& d : p.deals) {
        spread(d.id);
        spread(d.company_id);
        std::for_each(d.contact_ids.begin(), d.contact_ids.end(), spread);
    }
    for (Invoice& v : p.invoices) {
        spread(v.id);
        spread(v.company_id);
        spread(v.deal_id);
        std::for_each(v.contact_ids.begin(), v.contact_ids.end(), spread);
    }
    for (Activity& a : p.activities) {
        spread(a.id);
        for (Binding& b : a.bindings) {
            spread(b.entity_id);
        }
    }
    for (Requisite& r : p.requisites) {
        spread(r.id);
        spread(r.entity_id);
    }
    return p;
}

TEST(Incremental, LargeBuildWithLargeIdsEqualsTheGeneralPath) {
    // Enough rows for the bulk load's radix sort (>= 512 entries per index) and ids that need
    // several of its passes.
    std::mt19937_64 rng(60);
    RandomOptions options;
    options.companies = 150;
    options.contacts = 400;
    options.deals = 700;
    options.invoices = 600;
    options.activities = 1500;
    options.requisites = 100;
    const PortalData portal = SpreadIds(RandomPortal(rng, options));
    PortalIndex general;
    general.Apply({{.contacts = {{.id = 1, .created = At("2020-01-01")}}}, {}});
    general.Apply({portal, {.contacts = {1}}});
    const Instant t = RandomInstant(rng, options);
    ExpectSameState(general, portal, t);  // compares with Build and the reference model
}

TEST(Incremental, DuplicateRowsInOneBatchKeepTheLastVersion) {
    std::mt19937_64 rng(40);
    RandomOptions options;
    const PortalData portal = RandomPortal(rng, options);
    // Every row twice: first a different random version, then the real one.
    const PortalData decoys = RandomPortal(rng, options);
    PortalData doubled = decoys;
    const auto append = [](auto& to, const auto& from) {
        to.insert(to.end(), from.begin(), from.end());
    };
    append(doubled.contacts, portal.contacts);
    append(doubled.companies, portal.companies);
    append(doubled.deals, portal.deals);
    append(doubled.invoices, portal.invoices);
    append(doubled.activities, portal.activities);
    append(doubled.requisites, portal.requisites);
    // The decoys' extra rows (ids the portal does not have) must go again.
    Changes cleanup;
    const auto has = [](const auto& rows, std::int64_t id) {
        return std::any_of(rows.begin(), rows.end(), [&](const auto& r) { return r.id == id; });
    };
    for (const Contact& c : decoys.contacts) {
        if (!has(portal.contacts, c.id)) {
            cleanup.remove.contacts.push_back(c.id);
        }
    }
    for (const Company& c : decoys.companies) {
        if (!has(portal.companies, c.id)) {
            cleanup.remove.companies.push_back(c.id);
        }
    }
    for (const Deal& d : decoys.deals) {
        if (!has(portal.deals, d.id)) {
            cleanup.remove.deals.push_back(d.id);
        }
    }
    for (const Invoice& v : decoys.invoices) {
        const bool kept =
            std::any_of(portal.invoices.begin(), portal.invoices.end(),
                        [&](const Invoice& p) { return p.id == v.id && p.legacy == v.legacy; });
        if (!kept) {
            cleanup.remove.invoices.push_back({v.id, v.legacy});
        }
    }
    for (const Activity& a : decoys.activities) {
        if (!has(portal.activities, a.id)) {
            cleanup.remove.activities.push_back(a.id);
        }
    }
    for (const Requisite& r : decoys.requisites) {
        if (!has(portal.requisites, r.id)) {
            cleanup.remove.requisites.push_back(r.id);
        }
    }
    PortalIndex index = PortalIndex::Build(doubled);
    index.Apply(std::move(cleanup));
    ExpectSameState(index, portal, RandomInstant(rng, options));
}

TEST(Incremental, ContactMovingBetweenCompanies) {
    PortalData p;
    p.companies = {{.id = 1, .created = At("2020-01-01")}, {.id = 2, .created = At("2020-01-01")}};
    p.contacts = {{.id = 5, .created = At("2020-01-01"), .company_id = 1},
                  {.id = 6, .created = At("2020-01-01"), .company_id = 1},
                  {.id = 7, .created = At("2020-01-01"), .company_id = 2}};
    p.deals = {{.id = 10,
                .created = At("2020-01-01"),
                .contact_ids = {5},
                .stage = StageSemantic::kWon,
                .moved_time = At("2024-05-01")}};
    PortalIndex index = PortalIndex::Build(p);
    const Instant t = At("2024-06-01T00:00:00");
    EXPECT_EQ(index.Card(CompanyCard(1), t)->payments, 1);

    Contact moved = p.contacts[0];
    moved.company_id = 2;
    const auto touched = index.Apply({{.contacts = {moved}}, {}});
    // Both companies and every member of either changed or may have.
    EXPECT_EQ(touched, (std::vector<CardRef>{ContactCard(5), ContactCard(6), ContactCard(7),
                                             CompanyCard(1), CompanyCard(2)}));
    EXPECT_EQ(index.Card(CompanyCard(1), t)->payments, 0);
    EXPECT_EQ(index.Card(CompanyCard(2), t)->payments, 1);
    EXPECT_EQ(index.Card(ContactCard(7), t)->payments, 1);
    EXPECT_EQ(index.Card(ContactCard(5), t)->parent_company, 2);
}

TEST(Incremental, InvoicePaidLaterReplacesTheDealsPayment) {
    PortalData p;
    p.companies = {{.id = 1, .created = At("2020-01-01")}};
    p.deals = {{.id = 10,
                .created = At("2020-01-01"),
                .company_id = 1,
                .stage = StageSemantic::kWon,
                .moved_time = At("2024-01-01")}};
    p.invoices = {{.id = 100, .created = At("2020-01-01"), .company_id = 1, .deal_id = 10},
                  {.id = 101, .created = At("2020-01-01"), .company_id = 1, .deal_id = 10}};
    PortalIndex index = PortalIndex::Build(p);
    const Instant t = At("2024-06-01T00:00:00");
    EXPECT_EQ(index.Card(CompanyCard(1), t)->last_payment, At("2024-01-01"));

    std::vector<Invoice> paid = p.invoices;
    for (Invoice& v : paid) {
        v.paid = true;
        v.paid_time = At("2024-02-01");
    }
    const auto touched = index.Apply({{.invoices = paid}, {}});
    EXPECT_EQ(touched, std::vector<CardRef>{CompanyCard(1)});
    EXPECT_EQ(index.Card(CompanyCard(1), t)->payments, 2);
    EXPECT_EQ(index.Card(CompanyCard(1), t)->last_payment, At("2024-02-01"));

    index.Apply({{}, {.invoices = {{100, false}, {101, false}}}});
    EXPECT_EQ(index.Card(CompanyCard(1), t)->payments, 1);
    EXPECT_EQ(index.Card(CompanyCard(1), t)->last_payment, At("2024-01-01"));
}

TEST(Incremental, CompanyBecomingTheOwnCompanyReleasesItsMembers) {
    PortalData p;
    p.companies = {{.id = 1, .created = At("2020-01-01")}};
    p.contacts = {{.id = 5, .created = At("2020-01-01"), .company_id = 1}};
    PortalIndex index = PortalIndex::Build(p);
    const Instant t = At("2024-06-01T00:00:00");
    EXPECT_EQ(index.Card(ContactCard(5), t)->role, Role::kMember);
    Company mine = p.companies[0];
    mine.is_my_company = true;
    index.Apply({{.companies = {mine}}, {}});
    EXPECT_EQ(index.Card(ContactCard(5), t)->role, Role::kClient);
    EXPECT_EQ(index.Card(CompanyCard(1), t)->role, Role::kNotClient);
    index.Apply({{}, {.companies = {1}}});
    EXPECT_FALSE(index.Card(CompanyCard(1), t));
    EXPECT_EQ(index.counts().clients, 1U);
}

TEST(Incremental, RemovingUnknownRowsChangesNothing) {
    PortalIndex index = PortalIndex::Build({.contacts = {{.id = 5, .created = At("2020-01-01")}}});
    const auto touched = index.Apply({{},
                                      {.contacts = {6},
                                       .companies = {1},
                                       .deals = {2},
                                       .invoices = {{3, true}},
                                       .activities = {4},
                                       .requisites = {5}}});
    EXPECT_TRUE(touched.empty());
    EXPECT_EQ(index.counts().contacts, 1U);
}

TEST(Incremental, SettingsNeedNoRebuild) {
    std::mt19937_64 rng(9);
    const PortalData portal = RandomPortal(rng, {});
    PortalIndex index = PortalIndex::Build(portal);
    const Instant t = At("2023-03-31T12:00:00");
    index.set_settings({2, 5});
    EXPECT_EQ(index.AllCards(t), PortalIndex::Build(portal, {2, 5}).AllCards(t));
    EXPECT_EQ(index.Series(t), PortalIndex::Build(portal, {2, 5}).Series(t));
    EXPECT_EQ(index.AllCards(t), ReferenceCards(portal, t, {2, 5}));
}

TEST(Incremental, MovedIndexKeepsItsState) {
    PortalIndex index = PortalIndex::Build({.contacts = {{.id = 5, .created = At("2020-01-01")}}});
    PortalIndex moved = std::move(index);
    EXPECT_EQ(moved.counts().contacts, 1U);
}

}  // namespace
}  // namespace segtest
