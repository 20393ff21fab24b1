// The dataset generator: determinism, proportions and consistency.
#include "fakeportal/dataset.hpp"

#include <set>

#include <gtest/gtest.h>

#include "client.hpp"

namespace fakeportal::testing {
namespace {

DatasetOptions Small() {
    DatasetOptions o;
    o.companies = 120;
    o.contacts = 200;
    o.deals = 300;
    o.invoices = 150;
    o.old_invoices = 10;
    o.activities = 900;
    o.requisites = 60;
    o.xss_contact = true;
    o.end = 1'700'000'000;
    return o;
}

TEST(Dataset, SameSeedSamePortal) {
    PortalFixture a, b;
    DatasetSummary sa = GenerateDataset(*a.portal, Small());
    DatasetSummary sb = GenerateDataset(*b.portal, Small());
    EXPECT_EQ(sa.contacts, 200u);
    EXPECT_EQ(sa.companies, 120u);
    EXPECT_EQ(sa.deals, 300u);
    EXPECT_EQ(sa.invoices, 150u);
    EXPECT_EQ(sa.activities, 900u);
    EXPECT_EQ(sa.requisites, 60u);
    for (int64_t id : {1, 50, 150}) {
        EXPECT_EQ(a.portal->Get<Contact>(id)->last_name, b.portal->Get<Contact>(id)->last_name);
        EXPECT_EQ(a.portal->Get<Deal>(id)->stage_id, b.portal->Get<Deal>(id)->stage_id);
    }
    EXPECT_EQ(a.portal->Get<Contact>(sa.xss_contact_id)->name, "<img src=x onerror=alert(1)>");
}

TEST(Dataset, RowsAreConsistent) {
    PortalFixture f;
    DatasetSummary s = GenerateDataset(*f.portal, Small());
    f.portal->Read([&](const CrmData& crm) {
        const Company* mine = crm.companies.Find(s.my_company_id);
        ASSERT_NE(mine, nullptr);
        EXPECT_TRUE(mine->is_my_company);
        Time last = 0;
        int members = 0, employees = 0;
        for (const auto& c : crm.contacts.rows) {
            EXPECT_GE(c.date_create, last);  // ids grow with creation
            last = c.date_create;
            for (int64_t co : c.company_ids) {
                const Company* company = crm.companies.Find(co);
                ASSERT_NE(company, nullptr);
                EXPECT_LE(company->date_create, c.date_create);
            }
            members += !c.company_ids.empty() && c.company_ids[0] != s.my_company_id;
            employees += !c.company_ids.empty() && c.company_ids[0] == s.my_company_id;
            EXPECT_LE(c.date_create, 1'700'000'000);
        }
        EXPECT_GT(members, 40);
        EXPECT_GT(employees, 0);
        std::set<char> semantics;
        for (const auto& d : crm.deals.rows) {
            semantics.insert(crm.DealStageSemantics(d.category_id, d.stage_id));
            EXPECT_TRUE(d.company_id != 0 || !d.contact_ids.empty());
        }
        EXPECT_EQ(semantics, (std::set<char>{'P', 'S', 'F'}));
        std::set<int64_t> categories;
        for (const auto& d : crm.deals.rows) {
            categories.insert(d.category_id);
        }
        EXPECT_EQ(categories.size(), 2u);
        int paid = 0;
        for (const auto& inv : crm.invoices.rows) {
            const Deal* d = crm.deals.Find(inv.parent_id2);
            ASSERT_NE(d, nullptr);
            EXPECT_GE(inv.created_time, d->date_create);
            paid += crm.InvoiceStageSemantics(inv.category_id, inv.stage_id) == 'S';
        }
        EXPECT_GT(paid, 0);
        std::set<int> types;
        for (const auto& a : crm.activities.rows) {
            types.insert(a.type_id);
        }
        EXPECT_EQ(types, (std::set<int>{1, 2, 3, 4, 6}));
    });
    EXPECT_EQ(f.portal->Users().size(), 1u + 4u + 1u);
}

TEST(Dataset, ManagersSeeOnlyTheirClients) {
    PortalFixture f;
    DatasetSummary s = GenerateDataset(*f.portal, Small());
    TokenPair t = f.portal->IssueTokens(f.app.client_id, s.manager_ids[0]);
    Answer mine =
        f.CallAs(t.access_token, "crm.item.list", {{"entityTypeId", 4}, {"select", {"id"}}});
    Answer all = f.Call("crm.item.list", {{"entityTypeId", 4}, {"select", {"id"}}});
    EXPECT_GT(mine.body["total"].get<int>(), 0);
    EXPECT_LT(mine.body["total"].get<int>(), all.body["total"].get<int>());
}

}  // namespace
}  // namespace fakeportal::testing
