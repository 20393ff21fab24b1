// Lists: pages, start=-1, legacy vs crm.item forms, filters, order, rights, parameter encodings.
#include <gtest/gtest.h>

#include "client.hpp"
#include "query.hpp"
#include "util.hpp"

namespace fakeportal::testing {
namespace {

class Lists : public ::testing::Test {
protected:
    void SetUp() override {
        User manager;
        manager.name = "Maria";
        manager.last_name = "Manager";
        manager.crm_read = CrmRead::kOwn;
        manager_id = f.portal->AddUser(manager);
        base = detail::MakeTime(2020, 1, 1, 0, 0, 0, 180);
        f.portal->BulkLoad([&](CrmData& crm) {
            for (int i = 1; i <= 3; ++i) {
                Company co;
                co.title = "Company " + std::to_string(i);
                co.date_create = base + i;
                co.assigned_by_id = i == 3 ? manager_id : 1;
                crm.Insert(co);
            }
            for (int i = 1; i <= 120; ++i) {
                Contact c;
                c.name = i % 2 ? "Anna" : "Boris";
                c.last_name = "Person" + std::to_string(i);
                c.date_create = base + i * 86400;  // one per day
                c.date_modify = c.date_create;
                c.assigned_by_id = i <= 10 ? manager_id : 1;
                if (i % 3 == 0) {
                    c.company_ids = {1, 2};
                }
                if (i % 4 == 0) {
                    c.fm.push_back(
                        Multifield{0, "PHONE", "WORK", "+7 900 000 00 " + std::to_string(i)});
                }
                crm.Insert(c);
            }
        });
    }

    PortalFixture f;
    int64_t manager_id = 0;
    Time base = 0;
};

TEST_F(Lists, LegacyPagesOfFiftyWithTotalAndNext) {
    Answer p1 =
        f.Call("crm.contact.list", {{"order", {{"ID", "ASC"}}}, {"select", {"ID", "NAME"}}});
    ASSERT_EQ(p1.status, 200) << p1.raw;
    EXPECT_EQ(p1.body["result"].size(), 50u);
    EXPECT_EQ(p1.body["total"], 120);
    EXPECT_EQ(p1.body["next"], 50);
    EXPECT_EQ(p1.body["result"][0]["ID"], "1");  // legacy: numbers as strings
    EXPECT_FALSE(p1.body["result"][0].contains("LAST_NAME"));
    Answer p3 = f.Call("crm.contact.list", {{"start", 100}, {"select", {"ID"}}});
    EXPECT_EQ(p3.body["result"].size(), 20u);
    EXPECT_FALSE(p3.body.contains("next"));
    EXPECT_EQ(p3.body["result"][19]["ID"], "120");
    for (const char* key : {"start", "finish", "duration", "processing", "date_start",
                            "date_finish", "operating", "operating_reset_at"}) {
        EXPECT_TRUE(p1.body["time"].contains(key)) << key;
    }
}

TEST_F(Lists, StartMinusOneSkipsTheCount) {
    Answer a = f.Call("crm.contact.list",
                      {{"filter", {{">ID", 100}}}, {"order", {{"ID", "ASC"}}}, {"start", -1}});
    EXPECT_EQ(a.body["total"], 0);
    EXPECT_FALSE(a.body.contains("next"));
    EXPECT_EQ(a.body["result"].size(), 20u);
    EXPECT_EQ(a.body["result"][0]["ID"], "101");
}

TEST_F(Lists, ItemListUsesCamelCaseNumbersAndItems) {
    Answer a =
        f.Call("crm.item.list", {{"entityTypeId", 3},
                                 {"select", {"id", "companyId", "companyIds", "createdTime"}},
                                 {"filter", {{"@id", {3, 6}}}}});
    ASSERT_EQ(a.status, 200) << a.raw;
    const json& items = a.body["result"]["items"];
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0]["id"], 3);
    EXPECT_EQ(items[0]["companyId"], 1);
    EXPECT_EQ(items[0]["companyIds"], json::array({1, 2}));
    EXPECT_EQ(items[0]["createdTime"], "2020-01-04T00:00:00+03:00");
    EXPECT_FALSE(items[0].contains("fm"));
    Answer star =
        f.Call("crm.item.list", {{"entityTypeId", 3}, {"select", {"*"}}, {"filter", {{"id", 4}}}});
    const json& row = star.body["result"]["items"][0];
    EXPECT_EQ(row["hasPhone"], "Y");
    ASSERT_EQ(row["fm"].size(), 1u);
    EXPECT_EQ(row["fm"][0]["typeId"], "PHONE");
    EXPECT_EQ(row["entityTypeId"], 3);
}

TEST_F(Lists, LegacyMultifieldsOnlyWhenSelected) {
    Answer plain = f.Call("crm.contact.list", {{"filter", {{"ID", 4}}}});
    EXPECT_FALSE(plain.body["result"][0].contains("PHONE"));
    EXPECT_EQ(plain.body["result"][0]["HAS_PHONE"], "Y");
    EXPECT_EQ(plain.body["result"][0]["COMPANY_ID"], nullptr);
    Answer phones =
        f.Call("crm.contact.list", {{"filter", {{"ID", 4}}}, {"select", {"ID", "PHONE"}}});
    EXPECT_EQ(phones.body["result"][0]["PHONE"][0]["VALUE"], "+7 900 000 00 4");
}

TEST_F(Lists, DateFiltersCompareInstantsAcrossOffsets) {
    // Contact 10 was created 2020-01-11T00:00:00+03:00 = 2020-01-10T21:00:00Z.
    Answer a = f.Call("crm.contact.list", {{"filter",
                                            {{">=DATE_CREATE", "2020-01-10T21:00:00Z"},
                                             {"<DATE_CREATE", "2020-01-12T00:00:00+03:00"}}},
                                           {"select", {"ID"}}});
    ASSERT_EQ(a.body["result"].size(), 1u) << a.raw;
    EXPECT_EQ(a.body["result"][0]["ID"], "10");
}

TEST_F(Lists, OperatorsAndOrder) {
    auto ids = [](const Answer& a) {
        std::vector<std::string> out;
        for (const auto& r : a.body["result"]) {
            out.push_back(r["ID"]);
        }
        return out;
    };
    EXPECT_EQ(
        ids(f.Call("crm.contact.list", {{"filter", {{"@ID", {5, 7, 500}}}}, {"select", {"ID"}}})),
        (std::vector<std::string>{"5", "7"}));
    EXPECT_EQ(f.Call("crm.contact.list", {{"filter", {{"!NAME", "anna"}}}}).body["total"], 60);
    EXPECT_EQ(f.Call("crm.contact.list", {{"filter", {{"%LAST_NAME", "son11"}}}}).body["total"],
              11);
    EXPECT_EQ(f.Call("crm.contact.list", {{"filter", {{"!@ID", {1, 2, 3}}}}}).body["total"], 117);
    EXPECT_EQ(f.Call("crm.contact.list", {{"filter", {{"<=ID", "3"}, {">ID", 1}}}}).body["total"],
              2);
    Answer desc =
        f.Call("crm.contact.list", {{"order", {{"DATE_CREATE", "DESC"}}}, {"select", {"ID"}}});
    EXPECT_EQ(desc.body["result"][0]["ID"], "120");
    Answer by_name = f.Call("crm.contact.list", {{"order", {{"NAME", "DESC"}, {"ID", "DESC"}}},
                                                 {"select", {"ID", "NAME"}}});
    EXPECT_EQ(by_name.body["result"][0]["NAME"], "Boris");
    EXPECT_EQ(by_name.body["result"][0]["ID"], "120");
}

TEST_F(Lists, EmptyReferenceValueMatchesFromTheBeginning) {
    // What an unresolved batch reference turns into: ">ID" of "" compares as 0.
    Answer a = f.Call("crm.contact.list", {{"filter", {{">ID", ""}}}, {"start", -1}});
    EXPECT_EQ(a.body["result"][0]["ID"], "1");
}

TEST_F(Lists, ItemListOrGroups) {
    Answer a = f.Call("crm.item.list",
                      {{"entityTypeId", 3},
                       {"filter", {{"logic", "OR"}, {"0", {{"id", 2}}}, {"1", {{">id", 118}}}}},
                       {"select", {"id"}}});
    ASSERT_EQ(a.status, 200) << a.raw;
    EXPECT_EQ(a.body["total"], 3);
    Answer bad = f.Call("crm.item.list", {{"entityTypeId", 3}, {"filter", {{"noSuchField", 1}}}});
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.body["error"], "INVALID_ARG_VALUE");
}

TEST_F(Lists, FormEncodedParametersWithBrackets) {
    Answer a = PostForm(f.portal->base_url(), "/rest/crm.contact.list.json",
                        "auth=" + f.admin.access_token +
                            "&filter%5B%3EID%5D=115&select[0]=ID&select[1]=NAME&order[ID]=DESC");
    ASSERT_EQ(a.status, 200) << a.raw;
    EXPECT_EQ(a.body["result"].size(), 5u);
    EXPECT_EQ(a.body["result"][0]["ID"], "120");
    Answer q = Get(f.portal->base_url(),
                   "/rest/crm.contact.list?auth=" + f.admin.access_token + "&filter[ID]=7");
    EXPECT_EQ(q.body["result"][0]["ID"], "7");
}

TEST_F(Lists, UsersWithOwnRightsSeeOnlyTheirRows) {
    TokenPair t = f.portal->IssueTokens(f.app.client_id, manager_id);
    Answer a = f.CallAs(t.access_token, "crm.item.list", {{"entityTypeId", 3}, {"select", {"id"}}});
    EXPECT_EQ(a.body["total"], 10);
    Answer legacy = f.CallAs(t.access_token, "crm.contact.list", {{"select", {"ID"}}});
    EXPECT_EQ(legacy.body["total"], 10);
    Answer denied = f.CallAs(t.access_token, "crm.contact.get", {{"id", 50}});
    EXPECT_EQ(denied.status, 400);
    EXPECT_EQ(denied.body["error"], "");
    Answer item_denied =
        f.CallAs(t.access_token, "crm.item.get", {{"entityTypeId", 3}, {"id", 50}});
    EXPECT_EQ(item_denied.body["error"], "ACCESS_DENIED");
    Answer companies = f.CallAs(t.access_token, "crm.company.list", json::object());
    EXPECT_EQ(companies.body["total"], 1);
}

TEST_F(Lists, ErrorsHaveTheDocumentedShapes) {
    Answer missing = f.Call("crm.contact.get", {{"id", 9999}});
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.body["error"], "");
    EXPECT_EQ(missing.body["error_description"], "Not found");
    Answer no_method = f.Call("crm.nothing.here");
    EXPECT_EQ(no_method.status, 404);
    EXPECT_EQ(no_method.body["error"], "ERROR_METHOD_NOT_FOUND");
    Answer item_missing = f.Call("crm.item.get", {{"entityTypeId", 3}, {"id", 9999}});
    EXPECT_EQ(item_missing.body["error"], "NOT_FOUND");
    Answer old_type = f.Call("crm.item.list", {{"entityTypeId", 5}});
    EXPECT_EQ(old_type.body["error"], "ENTITY_TYPE_NOT_SUPPORTED");
}

TEST_F(Lists, CompanyLinksInPortalOrder) {
    Answer a = f.Call("crm.contact.company.items.get", {{"id", 3}});
    ASSERT_EQ(a.body["result"].size(), 2u);
    EXPECT_EQ(a.body["result"][0]["COMPANY_ID"], 1);
    EXPECT_EQ(a.body["result"][0]["IS_PRIMARY"], "Y");
    Answer b = f.Call("crm.company.contact.items.get", {{"id", 2}});
    EXPECT_EQ(b.body["result"].size(), 40u);
}

TEST(FilterKeys, SplitAndUfNames) {
    EXPECT_EQ(detail::SplitFilterKey(">=DATE_CREATE"),
              std::make_pair(std::string(">="), std::string("DATE_CREATE")));
    EXPECT_EQ(detail::SplitFilterKey("!ID"), std::make_pair(std::string("!="), std::string("ID")));
    EXPECT_EQ(detail::SplitFilterKey("ID"), std::make_pair(std::string("="), std::string("ID")));
    EXPECT_EQ(detail::UfCamelName("UF_CRM_SEG_LIFECYCLE"), "ufCrmSegLifecycle");
    EXPECT_EQ(detail::UfCamelName("UF_CRM_3_DIGIT"), "ufCrm3Digit");
    EXPECT_EQ(detail::UfCamelName("UF_CRM_3_DIGIT10"), "ufCrm_3_DIGIT10");
    EXPECT_EQ(detail::UfCamelName("UF_CRM_3_1747309727"), "ufCrm3_1747309727");
    EXPECT_EQ(detail::UfCamelName("UF_CRM_1747309879"), "ufCrm_1747309879");
}

TEST(QueryString, PhpBrackets) {
    json q =
        detail::ParseQueryString("filter%5B%3EID%5D=5&select[]=ID&select[]=NAME&cmd[b]=x&cmd[a]=y");
    EXPECT_EQ(q["filter"][">ID"], "5");
    EXPECT_EQ(q["select"], json::array({"ID", "NAME"}));
    EXPECT_EQ(q["cmd"].begin().key(), "b");  // keeps the order of the input
    // PHP splits a pair at its first '=': an unencoded ">=" in a key loses the filter.
    detail::json split = detail::ParseQueryString("filter[>=ID]=5");
    EXPECT_FALSE(split.contains("filter"));
    detail::json encoded = detail::ParseQueryString("filter[%3E%3DID]=5");
    EXPECT_EQ(encoded["filter"][">=ID"], "5");
}

TEST(Times, FormatAndParse) {
    EXPECT_EQ(detail::FormatIso(detail::MakeTime(2024, 9, 9, 2, 0, 0, 180), 180),
              "2024-09-09T02:00:00+03:00");
    EXPECT_EQ(*detail::ParseTime("2024-09-08T23:00:00Z", 180),
              *detail::ParseTime("2024-09-09T02:00:00+03:00", 0));
    EXPECT_EQ(*detail::ParseTime("09.09.2024", 180), *detail::ParseTime("2024-09-09", 180));
    EXPECT_FALSE(detail::ParseTime("not a date", 180).has_value());
}

}  // namespace
}  // namespace fakeportal::testing
