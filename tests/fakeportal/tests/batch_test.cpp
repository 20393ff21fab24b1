// batch: references, chained keyset pages, short pages, errors, halt, limits of the batch itself.
#include <gtest/gtest.h>

#include "client.hpp"

namespace fakeportal::testing {
namespace {

class Batch : public ::testing::Test {
protected:
    void SetUp() override {
        f.portal->BulkLoad([](CrmData& crm) {
            for (int i = 1; i <= 120; ++i) {
                Contact c;
                c.name = "N" + std::to_string(i);
                c.date_create = 1'600'000'000 + i;
                crm.Insert(c);
            }
        });
    }
    PortalFixture f;
};

std::string Page(const std::string& prev) {
    return "crm.contact.list?order[ID]=ASC&select[0]=ID&start=-1&filter[>ID]=" +
           (prev.empty() ? std::string("0") : "$result[" + prev + "][49][ID]");
}

TEST_F(Batch, ChainedKeysetPagesResolveReferences) {
    json cmd = json::object();
    cmd["p0"] = Page("");
    cmd["p1"] = Page("p0");
    cmd["p2"] = Page("p1");
    Answer a = f.Call("batch", {{"halt", 0}, {"cmd", cmd}});
    ASSERT_EQ(a.status, 200) << a.raw;
    const json& r = a.body["result"];
    EXPECT_EQ(r["result"]["p0"].size(), 50u);
    EXPECT_EQ(r["result"]["p1"][0]["ID"], "51");
    EXPECT_EQ(r["result"]["p2"].size(), 20u);
    EXPECT_EQ(r["result"]["p2"][19]["ID"], "120");
    EXPECT_EQ(r["result_error"], json::array());
    EXPECT_EQ(r["result_next"], json::array());
    EXPECT_EQ(r["result_total"]["p0"], 0);
    EXPECT_TRUE(r["result_time"]["p1"].contains("operating"));
    const auto counters = f.portal->Counters();
    EXPECT_EQ(counters.Method("batch").http_requests, 1);
    EXPECT_EQ(counters.Method("crm.contact.list").nested_calls, 3);
    EXPECT_EQ(counters.Method("crm.contact.list").http_requests, 0);
    EXPECT_EQ(counters.Method("crm.contact.list").rows_returned, 120);
}

TEST_F(Batch, AReferencePastAShortPageRestartsFromTheBeginning) {
    // p2 is short (20 rows): $result[p2][49] does not exist, the reference becomes "" and
    // ">ID" of "" matches from the first row — a client that does not stop gets duplicates.
    json cmd = json::object();
    cmd["p0"] = "crm.contact.list?order[ID]=ASC&start=-1&filter[>ID]=50";
    cmd["p1"] = Page("p0");
    cmd["p2"] = Page("p1");
    Answer a = f.Call("batch", {{"cmd", cmd}});
    const json& r = a.body["result"]["result"];
    EXPECT_EQ(r["p1"].size(), 20u);
    EXPECT_EQ(r["p2"][0]["ID"], "1");
}

TEST_F(Batch, ItemListReferencesUseItemsPath) {
    json cmd = json::object();
    cmd["a"] = "crm.item.list?entityTypeId=3&order[id]=ASC&start=-1&select[]=id";
    cmd["b"] =
        "crm.item.list?entityTypeId=3&order[id]=ASC&start=-1&select[]=id&filter[>id]=$result[a]["
        "items][49][id]";
    Answer a = f.Call("batch", {{"cmd", cmd}});
    EXPECT_EQ(a.body["result"]["result"]["b"]["items"][0]["id"], 51);
}

TEST_F(Batch, ErrorsArePerCommandAndHaltStops) {
    json cmd =
        json::array({"crm.contact.get?id=1", "crm.contact.get?id=99999", "crm.contact.get?id=2"});
    Answer a = f.Call("batch", {{"halt", 0}, {"cmd", cmd}});
    ASSERT_EQ(a.status, 200);
    const json& r = a.body["result"];
    EXPECT_EQ(r["result"]["0"]["ID"], "1");
    EXPECT_EQ(r["result"]["2"]["ID"], "2");
    EXPECT_EQ(r["result_error"]["1"]["error_description"], "Not found");
    Answer h = f.Call("batch", {{"halt", 1}, {"cmd", cmd}});
    EXPECT_FALSE(h.body["result"]["result"].contains("2"));
    EXPECT_TRUE(h.body["result"]["result_error"].contains("1"));
}

TEST_F(Batch, ArrayCommandsGiveArrayResults) {
    Answer a = f.Call("batch", {{"cmd", json::array({"profile", "user.admin"})}});
    ASSERT_TRUE(a.body["result"]["result"].is_array()) << a.raw;
    EXPECT_EQ(a.body["result"]["result"][1], true);
}

TEST_F(Batch, NestedBatchAndTooManyCommandsAreRefused) {
    Answer nested = f.Call("batch", {{"cmd", {{"x", "batch?cmd[a]=profile"}}}});
    EXPECT_EQ(nested.status, 200);
    EXPECT_EQ(nested.body["result"]["result_error"]["x"]["error"],
              "ERROR_BATCH_METHOD_NOT_ALLOWED");
    json many = json::object();
    for (int i = 0; i < 51; ++i) {
        many["c" + std::to_string(i)] = "profile";
    }
    Answer too_many = f.Call("batch", {{"cmd", many}});
    EXPECT_EQ(too_many.status, 400);
    EXPECT_EQ(too_many.body["error"], "ERROR_BATCH_LENGTH_EXCEEDED");
}

TEST_F(Batch, FormEncodedBatchWithDoubleEncodedCommands) {
    // cmd values are query strings inside a form field: "&" inside them is %26, "[" is %5B.
    const std::string form =
        "auth=" + f.admin.access_token +
        "&halt=0&cmd%5Bfirst%5D=crm.contact.list%3Fselect%5B0%5D%3DID%26filter%5B%3EID%5D%3D118"
        "&cmd%5Bsecond%5D=crm.contact.get%3Fid%3D%24result%5Bfirst%5D%5B0%5D%5BID%5D";
    Answer a = PostForm(f.portal->base_url(), "/rest/batch", form);
    ASSERT_EQ(a.status, 200) << a.raw;
    EXPECT_EQ(a.body["result"]["result"]["first"].size(), 2u);
    EXPECT_EQ(a.body["result"]["result"]["second"]["ID"], "119");
    EXPECT_EQ(a.body["result"]["result_total"]["first"], 2);
}

TEST_F(Batch, WritesInsideABatchAreLogged) {
    json cmd = json::object();
    for (int i = 1; i <= 3; ++i) {
        cmd["u" + std::to_string(i)] = "crm.contact.update?id=" + std::to_string(i) +
                                       "&fields[NAME]=X&params[REGISTER_HISTORY_EVENT]=N";
    }
    Answer a = f.Call("batch", {{"cmd", cmd}});
    ASSERT_EQ(a.status, 200);
    const auto counters = f.portal->Counters();
    ASSERT_EQ(counters.writes.size(), 3u);
    EXPECT_EQ(counters.writes[0].entity_id, 1);
    EXPECT_EQ(counters.writes[0].register_history_event, "N");
    EXPECT_TRUE(counters.writes[0].nested);
    EXPECT_EQ(f.portal->Get<Contact>(2)->name, "X");
}

}  // namespace
}  // namespace fakeportal::testing
