#include "b24client/json_util.hpp"

#include <gtest/gtest.h>

using b24client::AsObject;
using b24client::IsEmptyValue;
using b24client::ToBool;
using b24client::ToDouble;
using b24client::ToEpochSeconds;
using b24client::ToInt64;
using b24client::ToString;
using nlohmann::json;

TEST(JsonUtil, IntegersFromEverySpellingThePlatformUses) {
    EXPECT_EQ(ToInt64(json(75)), 75);
    EXPECT_EQ(ToInt64(json("75")), 75);
    EXPECT_EQ(ToInt64(json(" 75 ")), 75);
    EXPECT_EQ(ToInt64(json(75.0)), 75);
    EXPECT_EQ(ToInt64(json("-3")), -3);
    EXPECT_EQ(ToInt64(json("9223372036854775807")), INT64_MAX);
}

TEST(JsonUtil, IntegersAreStrictAboutGarbage) {
    EXPECT_FALSE(ToInt64(json("7a")));
    EXPECT_FALSE(ToInt64(json("")));
    EXPECT_FALSE(ToInt64(json(nullptr)));
    EXPECT_FALSE(ToInt64(json(7.5)));
    EXPECT_FALSE(ToInt64(json("9223372036854775808")));
    EXPECT_FALSE(ToInt64(json::array()));
    EXPECT_FALSE(ToInt64(json(true)));
}

TEST(JsonUtil, DoublesAndBooleans) {
    EXPECT_DOUBLE_EQ(*ToDouble(json("19000.00")), 19000.0);
    EXPECT_DOUBLE_EQ(*ToDouble(json(0.25)), 0.25);
    EXPECT_FALSE(ToDouble(json("abc")));
    EXPECT_EQ(ToBool(json("Y")), true);
    EXPECT_EQ(ToBool(json("N")), false);
    EXPECT_EQ(ToBool(json("1")), true);
    EXPECT_EQ(ToBool(json(0)), false);
    EXPECT_EQ(ToBool(json(true)), true);
    EXPECT_FALSE(ToBool(json("maybe")));
    EXPECT_FALSE(ToBool(json(2)));
}

TEST(JsonUtil, StringsAndEmptyValues) {
    EXPECT_EQ(ToString(json(12)), "12");
    EXPECT_EQ(ToString(json(12.0)), "12");
    EXPECT_EQ(ToString(json(true)), "Y");
    EXPECT_FALSE(ToString(json::array()));
    EXPECT_TRUE(IsEmptyValue(json::array()));
    EXPECT_TRUE(IsEmptyValue(json::object()));
    EXPECT_TRUE(IsEmptyValue(json(nullptr)));
    EXPECT_TRUE(IsEmptyValue(json("")));
    EXPECT_FALSE(IsEmptyValue(json(0)));
}

TEST(JsonUtil, PhpEmptyArrayIsAnEmptyObjectButAListIsNot) {
    ASSERT_TRUE(AsObject(json::array()));
    EXPECT_TRUE(AsObject(json::array())->is_object());
    EXPECT_TRUE(AsObject(json(nullptr))->empty());
    EXPECT_FALSE(AsObject(json::array({1, 2})));
    EXPECT_FALSE(AsObject(json("x")));
    EXPECT_EQ((*AsObject(json{{"a", 1}}))["a"], 1);
}

TEST(JsonUtil, EpochSecondsFromNumbersStringsAndIsoDates) {
    EXPECT_DOUBLE_EQ(*ToEpochSeconds(json(1778747792)), 1778747792.0);
    EXPECT_DOUBLE_EQ(*ToEpochSeconds(json("1778747792")), 1778747792.0);
    // 2026-05-14T10:26:32+02:00 == 08:26:32Z
    EXPECT_DOUBLE_EQ(*ToEpochSeconds(json("2026-05-14T10:26:32+02:00")), 1778747192.0);
    EXPECT_DOUBLE_EQ(*ToEpochSeconds(json("2026-05-14T08:26:32Z")), 1778747192.0);
    EXPECT_DOUBLE_EQ(*ToEpochSeconds(json("1970-01-01T00:00:00+0000")), 0.0);
    EXPECT_FALSE(ToEpochSeconds(json("yesterday")));
    EXPECT_FALSE(ToEpochSeconds(json("2026-13-01T00:00:00Z")));
    EXPECT_FALSE(ToEpochSeconds(json(nullptr)));
}
