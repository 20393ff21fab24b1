#include "query.hpp"

#include <gtest/gtest.h>

using namespace b24client::detail;
using nlohmann::json;

TEST(Query, EncodesNestedParamsPhpStyle) {
    const json params = {{"filter", {{">ID", 10}, {"@TYPE_ID", {"A", "B"}}}},
                         {"order", {{"ID", "ASC"}}},
                         {"select", {"ID", "NAME"}},
                         {"start", -1}};
    EXPECT_EQ(EncodeQuery(params),
              "filter[%3EID]=10&filter[%40TYPE_ID][0]=A&filter[%40TYPE_ID][1]=B&order[ID]=ASC&"
              "select[0]=ID&select[1]=NAME&start=-1");
}

TEST(Query, EscapesValuesAndSkipsNullsAndEmptyContainers) {
    const json params = {{"q", "a&b=c d+e/[x]"}, {"n", nullptr}, {"e", json::array()}, {"b", true}};
    EXPECT_EQ(EncodeQuery(params), "b=1&q=a%26b%3Dc%20d%2Be%2F%5Bx%5D");
}

TEST(Query, KeepsReferencesVerbatim) {
    const std::string ref = MakeReference("w0p3", {"items", "49", "id"});
    EXPECT_EQ(ref, "$result[w0p3][items][49][id]");
    EXPECT_TRUE(IsReference(ref));
    EXPECT_FALSE(IsReference("$result"));
    EXPECT_FALSE(IsReference("$result[a]x"));
    EXPECT_EQ(EncodeQuery(json{{"filter", {{">id", ref}}}}),
              "filter[%3Eid]=$result[w0p3][items][49][id]");
    EXPECT_EQ(ReferenceKey(ref), "w0p3");
}

TEST(Query, ResolvesReferencesAgainstEarlierResults) {
    std::map<std::string, json> results;
    results["a"] = json::array({{{"ID", "5"}}, {{"ID", "9"}}});
    results["b"] = {{"items", json::array({{{"id", 77}}})}};
    EXPECT_EQ(*ResolveReference("$result[a][1][ID]", results), "9");
    EXPECT_EQ(*ResolveReference("$result[b][items][0][id]", results), 77);
    EXPECT_FALSE(ResolveReference("$result[a][49][ID]", results));
    EXPECT_FALSE(ResolveReference("$result[zz][0]", results));

    int unresolved = 0;
    const json params = {{"filter", {{">ID", "$result[a][1][ID]"}, {"X", "$result[c][0]"}}}};
    const json out = SubstituteReferences(params, results, unresolved);
    EXPECT_EQ(out["filter"][">ID"], "9");
    EXPECT_EQ(out["filter"]["X"], "$result[c][0]");
    EXPECT_EQ(unresolved, 1);
}
