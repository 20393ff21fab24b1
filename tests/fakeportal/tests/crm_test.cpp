// CRM entities: user fields, writes, deals/stages, invoices, activities, requisites, mutations.
#include <gtest/gtest.h>

#include "client.hpp"
#include "util.hpp"

namespace fakeportal::testing {
namespace {

class Crm : public ::testing::Test {
protected:
    void SetUp() override {
        PortalOptions o;
        o.limits.enforce_bucket = false;
        fx = std::make_unique<PortalFixture>(o);
        Portal& p = *fx->portal;
        Company alpha;
        alpha.title = "Alpha";
        co1 = p.Add(alpha);
        Company beta;
        beta.title = "Beta";
        co2 = p.Add(beta);
        Contact c;
        c.name = "Ivan";
        c.company_ids = {co1};
        c1 = p.Add(c);
        c.name = "Olga";
        c.company_ids = {};
        c2 = p.Add(c);
        Deal d;
        d.title = "D1";
        d.company_id = co1;
        d.contact_ids = {c1};
        deal = p.Add(d);
        SmartInvoice inv;
        inv.parent_id2 = deal;
        inv.company_id = co1;
        invoice = p.Add(inv);
        Activity a;
        a.owner_type_id = kDeal;
        a.owner_id = deal;
        a.communications.push_back(Communication{0, kContact, c1, "PHONE", "+7 900"});
        activity = p.Add(a);
        Requisite r;
        r.entity_type_id = kCompany;
        r.entity_id = co2;
        p.Add(r);
    }
    Answer Call(const std::string& m, json params = json::object()) { return fx->Call(m, params); }

    std::unique_ptr<PortalFixture> fx;
    int64_t co1 = 0, co2 = 0, c1 = 0, c2 = 0, deal = 0, invoice = 0, activity = 0;
};

TEST_F(Crm, UserFieldsLifecycleAndValues) {
    Answer add =
        Call("crm.contact.userfield.add", {{"fields",
                                            {{"FIELD_NAME", "SEG_LIFECYCLE"},
                                             {"USER_TYPE_ID", "enumeration"},
                                             {"LABEL", "Lifecycle (Clients)"},
                                             {"SHOW_FILTER", "Y"},
                                             {"EDIT_IN_LIST", "N"},
                                             {"LIST",
                                              {{{"VALUE", "Active"}, {"XML_ID", "ACTIVE"}},
                                               {{"VALUE", "Lost"}, {"XML_ID", "LOST"}}}}}}});
    ASSERT_EQ(add.status, 200) << add.raw;
    const int64_t field_id = add.body["result"];
    Answer flag =
        Call("crm.contact.userfield.add",
             {{"fields", {{"FIELD_NAME", "UF_SEG_HAS_DIALOGS"}, {"USER_TYPE_ID", "boolean"}}}});
    ASSERT_EQ(flag.status, 200);
    Answer bad = Call("crm.contact.userfield.add",
                      {{"fields", {{"FIELD_NAME", "bad-name!"}, {"USER_TYPE_ID", "string"}}}});
    EXPECT_EQ(bad.body["error"], "ERROR_CORE");
    Answer list =
        Call("crm.contact.userfield.list", {{"filter", {{"FIELD_NAME", "UF_CRM_SEG_LIFECYCLE"}}}});
    ASSERT_EQ(list.body["result"].size(), 1u);
    const json& items = list.body["result"][0]["LIST"];
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[1]["XML_ID"], "LOST");
    const std::string lost_id = items[1]["ID"];
    EXPECT_EQ(
        Call("crm.contact.userfield.list", {{"filter", {{"FIELD_NAME", "UF_CRM_SEG_HAS_DIALOGS"}}}})
            .body["result"]
            .size(),
        1u);

    Answer write =
        Call("crm.contact.update",
             {{"id", c1},
              {"fields", {{"UF_CRM_SEG_LIFECYCLE", lost_id}, {"UF_CRM_SEG_HAS_DIALOGS", "Y"}}},
              {"params", {{"REGISTER_HISTORY_EVENT", "N"}}}});
    ASSERT_EQ(write.status, 200) << write.raw;
    Answer legacy = Call("crm.contact.get", {{"id", c1}});
    EXPECT_EQ(legacy.body["result"]["UF_CRM_SEG_LIFECYCLE"], lost_id);
    EXPECT_EQ(legacy.body["result"]["UF_CRM_SEG_HAS_DIALOGS"], "1");
    Answer item = Call("crm.item.get", {{"entityTypeId", 3}, {"id", c1}});
    EXPECT_EQ(item.body["result"]["item"]["ufCrmSegLifecycle"], std::stoll(lost_id));
    EXPECT_EQ(item.body["result"]["item"]["ufCrmSegHasDialogs"], "Y");
    Answer original = Call("crm.item.list", {{"entityTypeId", 3},
                                             {"useOriginalUfNames", "Y"},
                                             {"select", {"id", "UF_CRM_SEG_LIFECYCLE"}},
                                             {"filter", {{"UF_CRM_SEG_HAS_DIALOGS", 1}}}});
    ASSERT_EQ(original.body["result"]["items"].size(), 1u) << original.raw;
    EXPECT_TRUE(original.body["result"]["items"][0].contains("UF_CRM_SEG_LIFECYCLE"));
    EXPECT_EQ(fx->portal->UfValueOf(kContact, c1, "UF_CRM_SEG_LIFECYCLE"), lost_id);

    // Deleting the list item via update, then the field: values go with them.
    Answer upd =
        Call("crm.contact.userfield.update",
             {{"id", field_id}, {"fields", {{"LIST", {{{"ID", lost_id}, {"DEL", "Y"}}}}}}});
    EXPECT_EQ(upd.status, 200);
    EXPECT_EQ(Call("crm.contact.userfield.get", {{"id", field_id}}).body["result"]["LIST"].size(),
              1u);
    EXPECT_EQ(Call("crm.contact.userfield.delete", {{"id", field_id}}).status, 200);
    EXPECT_FALSE(fx->portal->UfValueOf(kContact, c1, "UF_CRM_SEG_LIFECYCLE").has_value());
    EXPECT_FALSE(
        Call("crm.contact.get", {{"id", c1}}).body["result"].contains("UF_CRM_SEG_LIFECYCLE"));

    const auto writes = fx->portal->Counters().writes;
    auto it = std::find_if(writes.begin(), writes.end(),
                           [](const WriteRecord& w) { return w.method == "crm.contact.update"; });
    ASSERT_NE(it, writes.end());
    EXPECT_EQ(it->register_history_event, "N");
    EXPECT_EQ(it->entity_type_id, kContact);
}

TEST_F(Crm, OnlyAdminsManageUserFields) {
    User u;
    u.name = "Not";
    u.last_name = "Admin";
    const int64_t uid = fx->portal->AddUser(u);
    TokenPair t = fx->portal->IssueTokens(fx->app.client_id, uid);
    Answer a = fx->CallAs(t.access_token, "crm.company.userfield.add",
                          {{"fields", {{"FIELD_NAME", "X"}, {"USER_TYPE_ID", "string"}}}});
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.body["error_description"], "Access denied.");
}

TEST_F(Crm, UpdatesBumpModificationAndDeletedRowsAreNotFound) {
    fx->clock.Advance(100);
    Answer before = Call("crm.contact.get", {{"id", c2}});
    Call("crm.contact.update", {{"id", c2}, {"fields", {{"LAST_NAME", "Petrova"}}}});
    Answer after = Call("crm.contact.get", {{"id", c2}});
    EXPECT_NE(before.body["result"]["DATE_MODIFY"], after.body["result"]["DATE_MODIFY"]);
    EXPECT_EQ(after.body["result"]["LAST_NAME"], "Petrova");
    Answer since = Call("crm.contact.list",
                        {{"filter", {{">DATE_MODIFY", before.body["result"]["DATE_MODIFY"]}}}});
    EXPECT_EQ(since.body["total"], 1);
    ASSERT_TRUE(fx->portal->Delete<Contact>(c2));
    EXPECT_EQ(Call("crm.contact.get", {{"id", c2}}).body["error_description"], "Not found");
    EXPECT_EQ(Call("crm.contact.update", {{"id", c2}, {"fields", {{"NAME", "x"}}}}).status, 400);
    EXPECT_EQ(Call("crm.contact.update", {{"id", 0}}).body["error_description"],
              "ID is not defined or invalid.");
}

TEST_F(Crm, DealsStagesAndDirectories) {
    Answer item =
        Call("crm.item.list",
             {{"entityTypeId", 2},
              {"select", {"id", "stageId", "stageSemanticId", "contactIds", "companyId"}}});
    ASSERT_EQ(item.body["result"]["items"].size(), 1u);
    EXPECT_EQ(item.body["result"]["items"][0]["stageId"], "NEW");
    EXPECT_EQ(item.body["result"]["items"][0]["stageSemanticId"], "P");
    EXPECT_EQ(item.body["result"]["items"][0]["contactIds"], json::array({c1}));
    fx->clock.Advance(50);
    ASSERT_TRUE(fx->portal->MoveDealToStage(deal, "WON"));
    Answer legacy = Call("crm.deal.get", {{"id", deal}});
    EXPECT_EQ(legacy.body["result"]["STAGE_SEMANTIC_ID"], "S");
    EXPECT_EQ(legacy.body["result"]["CLOSED"], "Y");
    EXPECT_EQ(legacy.body["result"]["MOVED_TIME"],
              fx->portal->FormatTime(static_cast<Time>(fx->portal->Now())));
    EXPECT_EQ(legacy.body["result"]["COMPANY_ID"], std::to_string(co1));
    Answer stages = Call("crm.status.list", {{"filter", {{"ENTITY_ID", "DEAL_STAGE"}}}});
    ASSERT_EQ(stages.body["result"].size(), 8u);
    for (const auto& s : stages.body["result"]) {
        if (s["STATUS_ID"] == "WON") {
            EXPECT_EQ(s["SEMANTICS"], "S");
            EXPECT_EQ(s["EXTRA"]["SEMANTICS"], "success");
        }
        if (s["STATUS_ID"] == "NEW") {
            EXPECT_EQ(s["SEMANTICS"], nullptr);
        }
    }
    Answer cats = Call("crm.category.list", {{"entityTypeId", 31}});
    ASSERT_EQ(cats.body["result"]["categories"].size(), 1u);
    const int64_t cat = cats.body["result"]["categories"][0]["id"];
    Answer inv_stages =
        Call("crm.status.list",
             {{"filter", {{"ENTITY_ID", "SMART_INVOICE_STAGE_" + std::to_string(cat)}}}});
    ASSERT_EQ(inv_stages.body["result"].size(), 4u);
    EXPECT_EQ(inv_stages.body["result"][2]["STATUS_ID"], "DT31_" + std::to_string(cat) + ":P");
    EXPECT_EQ(inv_stages.body["result"][2]["SEMANTICS"], "S");
}

TEST_F(Crm, InvoicesNewAndOld) {
    Answer inv = Call("crm.item.list", {{"entityTypeId", 31}, {"filter", {{"parentId2", deal}}}});
    ASSERT_EQ(inv.body["result"]["items"].size(), 1u) << inv.raw;
    const json& row = inv.body["result"]["items"][0];
    EXPECT_EQ(row["parentId2"], deal);
    EXPECT_EQ(row["companyId"], co1);
    EXPECT_TRUE(row["stageId"].get<std::string>().find(":N") != std::string::npos);
    OldInvoice old;
    old.payed = true;
    old.date_payed = 1'650'000'000;
    old.uf_deal_id = deal;
    fx->portal->Add(old);
    Answer olds = Call("crm.invoice.list", {{"filter", {{"PAYED", "Y"}}}});
    ASSERT_EQ(olds.body["result"].size(), 1u);
    EXPECT_EQ(olds.body["result"][0]["UF_DEAL_ID"], std::to_string(deal));
    EXPECT_EQ(olds.body["result"][0]["DATE_PAYED"], fx->portal->FormatTime(1'650'000'000));
}

TEST_F(Crm, ActivitiesBindingsAndCommunications) {
    Answer by_owner =
        Call("crm.activity.list", {{"filter", {{"OWNER_TYPE_ID", 3}, {"OWNER_ID", c1}}}});
    EXPECT_EQ(by_owner.body["total"], 0);  // owner is the deal
    Answer by_binding =
        Call("crm.activity.list",
             {{"filter", {{"BINDINGS", {{{"OWNER_TYPE_ID", 3}, {"OWNER_ID", c1}}}}}},
              {"select", {"ID", "COMMUNICATIONS"}}});
    ASSERT_EQ(by_binding.body["total"], 1) << by_binding.raw;
    EXPECT_EQ(by_binding.body["result"][0]["COMMUNICATIONS"][0]["ENTITY_ID"], std::to_string(c1));
    // Two matching pairs: the same activity twice (a join).
    Answer twice = Call(
        "crm.activity.list",
        {{"filter",
          {{"BINDINGS", {{{"OWNER_TYPE_ID", 3}, {"OWNER_ID", c1}}, {{"OWNER_TYPE_ID", 2}}}}}}});
    EXPECT_EQ(twice.body["total"], 2);
    Answer bindings = Call("crm.activity.binding.list", {{"activityId", activity}});
    ASSERT_EQ(bindings.body["result"].size(), 2u);
    EXPECT_EQ(bindings.body["result"][1]["entityTypeId"], 3);
    Answer reqs = Call("crm.requisite.list", {{"filter", {{"ENTITY_TYPE_ID", 4}}}});
    ASSERT_EQ(reqs.body["result"].size(), 1u);
    EXPECT_EQ(reqs.body["result"][0]["ENTITY_ID"], std::to_string(co2));
}

TEST_F(Crm, MergeAndMoveContacts) {
    Contact dup;
    dup.name = "Ivan duplicate";
    dup.company_ids = {co2};
    const int64_t c3 = fx->portal->Add(dup);
    Deal d;
    d.contact_ids = {c3};
    const int64_t deal2 = fx->portal->Add(d);
    ASSERT_TRUE(fx->portal->MergeContacts({c1, c3}));
    EXPECT_FALSE(fx->portal->Get<Contact>(c3).has_value());
    EXPECT_EQ(fx->portal->Get<Deal>(deal2)->contact_ids, std::vector<int64_t>{c1});
    EXPECT_EQ(fx->portal->Get<Contact>(c1)->company_ids, (std::vector<int64_t>{co1, co2}));
    ASSERT_TRUE(fx->portal->MoveContactToCompany(c1, co1, co2));
    Answer links = Call("crm.contact.company.items.get", {{"id", c1}});
    ASSERT_EQ(links.body["result"].size(), 1u);
    EXPECT_EQ(links.body["result"][0]["COMPANY_ID"], co2);
    EXPECT_EQ(Call("crm.company.contact.items.get", {{"id", co1}}).body["result"].size(), 0u);
}

TEST_F(Crm, ItemUpdateTakesCamelCaseAndReturnsTheItem) {
    Answer a = Call("crm.item.update",
                    {{"entityTypeId", 4}, {"id", co2}, {"fields", {{"title", "Beta 2"}}}});
    ASSERT_EQ(a.status, 200) << a.raw;
    EXPECT_EQ(a.body["result"]["item"]["title"], "Beta 2");
    Answer added =
        Call("crm.item.add",
             {{"entityTypeId", 3}, {"fields", {{"name", "New"}, {"companyIds", {co1, co2}}}}});
    ASSERT_EQ(added.status, 200) << added.raw;
    EXPECT_EQ(added.body["result"]["item"]["companyId"], co1);
    EXPECT_GT(added.body["result"]["item"]["id"].get<int64_t>(), c2);
}

}  // namespace
}  // namespace fakeportal::testing
