// The rule language (segmenter/README.md "Rule segments"): what compiles, every error with its
// column, and the limits. Evaluation is in rule_segments_test.cpp.

#include <string>

#include <gtest/gtest.h>

#include "segmenter/segmenter.hpp"

namespace segtest {
namespace {

using namespace segmenter;

struct CaseNameOf {
    template <class P>
    std::string operator()(const ::testing::TestParamInfo<P>& row) const {
        return row.param.name;
    }
};
constexpr CaseNameOf CaseName;

RuleSchema Schema() {
    RuleSchema schema;
    schema.tiers = {"SILVER", "GOLD", "PLATINUM"};
    schema.user_fields = {"UF_CRM_REGION"};
    schema.known_values = {{"industry", {"IT", "MANUFACTURING", "TELECOM"}}};
    return schema;
}

// ---------------------------------------------------------------------------------------------
// What compiles.

struct GoodCase {
    const char* name;
    const char* text;
    std::int64_t cost;
    std::vector<std::string> attributes;
    bool history;
};

class Compiles : public ::testing::TestWithParam<GoodCase> {};

TEST_P(Compiles, AndReportsCostAndAttributes) {
    const GoodCase& row = GetParam();
    const CompileResult result = CompileRule(row.text, Schema());
    ASSERT_TRUE(result.ok()) << row.text << "\n  column " << result.error->column << ": "
                             << result.error->message;
    EXPECT_FALSE(result.error);
    EXPECT_EQ(result.rule->text(), row.text);
    EXPECT_EQ(result.rule->cost(), row.cost);
    EXPECT_EQ(result.rule->attributes(), row.attributes);
    EXPECT_EQ(result.rule->has_history(), row.history);
}

INSTANTIATE_TEST_SUITE_P(
    Rules,
    Compiles,
    ::testing::Values(
        GoodCase{
            "IssueExample",
            R"(lifecycle = SLEEPING and turnover_12m >= 100000 and industry in ("IT", "MANUFACTURING"))",
            6,
            {"industry", "lifecycle", "turnover_12m"},
            true},
        GoodCase{"EveryComparison",
                 "payments = 1 or payments == 1 or payments != 1 or payments <> 1 or payments < 1 "
                 "or payments <= 1 or payments > 1 or payments >= 1",
                 9,
                 {"payments"},
                 true},
        GoodCase{"InAndNotIn",
                 "lifecycle in (ACTIVE, LOST) and lifecycle not in (REQUESTS)",
                 6,
                 {"lifecycle"},
                 true},
        GoodCase{"BetweenAndNotBetween",
                 "turnover between 1 and 2 and created not between 2024-01-01 and '2024-12-31'",
                 3,
                 {"created", "turnover"},
                 true},
        GoodCase{"KeywordsAndNamesIgnoreCase",
                 "NOT Lifecycle = active AND Client_Type = b2c OR TIER >= gold",
                 6,
                 {"client_type", "lifecycle", "tier"},
                 true},
        GoodCase{"BooleansAlone",
                 "has_dialogs and not has_channels",
                 4,
                 {"has_channels", "has_dialogs"},
                 true},
        GoodCase{
            "BooleanLiterals", "true or false or has_channels = false", 4, {"has_channels"}, false},
        GoodCase{"Parentheses",
                 "((lifecycle = LOST) or (lifecycle = SLEEPING)) and payments > 2",
                 5,
                 {"lifecycle", "payments"},
                 true},
        GoodCase{"TextsNamesAndNumbers",
                 "industry = IT and type = 'CLIENT' and source = 12 and type != \"\"",
                 5,
                 {"industry", "source", "type"},
                 false},
        GoodCase{
            "QuotesDoubled", "type = 'O''Brien' or type = \"say \"\"hi\"\"\"", 3, {"type"}, false},
        GoodCase{"UserFieldsIgnoreCase",
                 "uf_crm_region in (N, S) and UF_CRM_REGION != ''",
                 5,
                 {"UF_CRM_REGION"},
                 false},
        GoodCase{"ResponsibleUsers",
                 "responsible in (1, 7, 12) or responsible = 0",
                 6,
                 {"responsible"},
                 false},
        GoodCase{"AnyTurnoverWindow",
                 "turnover_1m > 0 or turnover_120M > -5.5",
                 3,
                 {"turnover_120m", "turnover_1m"},
                 true},
        GoodCase{"NumbersWithSeparatorsAndDecimals",
                 "turnover_lifetime >= 1_000_000.5 and turnover < 99.99",
                 3,
                 {"turnover", "turnover_lifetime"},
                 true},
        GoodCase{"DaysAndDates",
                 "days_since_payment > 90 and days_since_created <= 30 and last_payment < "
                 "2024-02-29",
                 4,
                 {"days_since_created", "days_since_payment", "last_payment"},
                 true},
        GoodCase{"TierNone", "tier = NONE or tier between silver and platinum", 3, {"tier"}, true},
        GoodCase{"Blanks", "\tlifecycle\n=\r\nACTIVE   ", 1, {"lifecycle"}, true},
        GoodCase{"UnknownIndustryAllowedWhenEmpty", "industry = ''", 1, {"industry"}, false}),
    CaseName);

// ---------------------------------------------------------------------------------------------
// Errors: the column (1-based, in characters), what was found and what was expected.

struct BadCase {
    const char* name;
    std::string text;
    RuleErrorCode code;
    std::int32_t column;
    const char* message_part;
    const char* found = nullptr;     // checked when set
    const char* expected = nullptr;  // one of error.expected, when set
    RuleLimits limits = {};
};

class Rejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(Rejects, WithColumnAndReason) {
    const BadCase& row = GetParam();
    const CompileResult result = CompileRule(row.text, Schema(), row.limits);
    ASSERT_FALSE(result.ok()) << row.text;
    const RuleError& error = *result.error;
    EXPECT_EQ(error.code, row.code) << error.message;
    EXPECT_EQ(error.column, row.column) << error.message;
    EXPECT_GE(error.length, 1);
    EXPECT_NE(error.message.find(row.message_part), std::string::npos)
        << "message: " << error.message;
    if (row.found != nullptr) {
        EXPECT_EQ(error.found, row.found);
    }
    if (row.expected != nullptr) {
        EXPECT_NE(std::find(error.expected.begin(), error.expected.end(), row.expected),
                  error.expected.end())
            << "expected list lacks " << row.expected;
    }
}

RuleLimits Limits(std::size_t length, std::int32_t depth, std::size_t values, std::int64_t cost) {
    RuleLimits limits;
    limits.max_length = length;
    limits.max_depth = depth;
    limits.max_list_values = values;
    limits.max_cost = cost;
    return limits;
}

INSTANTIATE_TEST_SUITE_P(
    Rules,
    Rejects,
    ::testing::Values(
        BadCase{"Empty", "", RuleErrorCode::kEmpty, 1, "empty"},
        BadCase{"Blank", "  \t ", RuleErrorCode::kEmpty, 1, "empty"},
        BadCase{"MisspelledAttribute", "lifecyle = ACTIVE", RuleErrorCode::kUnknownAttribute, 1,
                "did you mean 'lifecycle'", "lifecyle", "lifecycle"},
        BadCase{"UnknownValue", "lifecycle = SLEPING", RuleErrorCode::kUnknownValue, 13,
                "did you mean 'SLEEPING'", "SLEPING", "SLEEPING"},
        BadCase{"FarOffValueListsTheValues", "lifecycle = SLEEPY", RuleErrorCode::kUnknownValue, 13,
                "expected one of ACTIVE, SLEEPING, LOST", "SLEEPY", "SLEEPING"},
        BadCase{"NoOrderOnEnums", "lifecycle > ACTIVE", RuleErrorCode::kNoOrder, 11, "no order",
                ">", "in"},
        BadCase{"NoBetweenOnTexts", "industry between IT and TELECOM", RuleErrorCode::kNoOrder, 10,
                "no order"},
        BadCase{"TextForAnAmount", "turnover >= \"abc\"", RuleErrorCode::kTypeMismatch, 13,
                "expected an amount"},
        BadCase{"MissingValue", "turnover >= ", RuleErrorCode::kUnexpected, 13,
                "expected a value after '>='", ""},
        BadCase{"ThreeDecimals", "payments >= 1.234", RuleErrorCode::kBadNumber, 13,
                "two decimals"},
        BadCase{"NumberRunsIntoLetters", "payments > 10a", RuleErrorCode::kBadNumber, 12,
                "letters"},
        BadCase{"DoubleSeparator", "payments > 1__0", RuleErrorCode::kBadNumber, 12, "'_'"},
        BadCase{"NotADay", "created < 2024-02-30", RuleErrorCode::kBadDate, 11, "not a date"},
        BadCase{"ShortDate", "created < 2024-1-31 and payments > 1", RuleErrorCode::kBadDate, 11,
                "expected a date like 2024-01-31", "2024-1-31"},
        BadCase{"DateRunsIntoLetters", "created < 2024-01-31x", RuleErrorCode::kBadDate, 11,
                "expected a date"},
        BadCase{"NumberForADate", "created < 12", RuleErrorCode::kTypeMismatch, 11,
                "expected a date"},
        BadCase{"DanglingAnd", "lifecycle = ACTIVE and", RuleErrorCode::kUnexpected, 23,
                "expected a condition", "", "an attribute"},
        BadCase{"TwoValues", "lifecycle = ACTIVE ACTIVE", RuleErrorCode::kUnexpected, 20,
                "expected 'and', 'or' or the end", "ACTIVE", "and"},
        BadCase{"UnclosedParenthesis", "(lifecycle = ACTIVE", RuleErrorCode::kUnexpected, 20,
                "to close the '(' at column 1", "", ")"},
        BadCase{"UnclosedList", "lifecycle in (ACTIVE, LOST", RuleErrorCode::kUnexpected, 27,
                "expected ',' or ')'", "", ")"},
        BadCase{"ListWithoutParenthesis", "lifecycle in ACTIVE", RuleErrorCode::kUnexpected, 14,
                "expected '(' after 'in'", "ACTIVE", "("},
        BadCase{"EmptyRange", "turnover between 5 and 1", RuleErrorCode::kEmptyRange, 18,
                "lower bound"},
        BadCase{"BetweenWithoutAnd", "turnover between 1 or 5", RuleErrorCode::kUnexpected, 20,
                "expected 'and'", "or", "and"},
        BadCase{"UnterminatedText", "industry = 'IT", RuleErrorCode::kUnterminatedString, 12,
                "closing"},
        BadCase{"NoStatementsHere", "lifecycle = ACTIVE; drop table deals",
                RuleErrorCode::kBadCharacter, 19, "unexpected character ';'", ";"},
        BadCase{"AttributeAlone", "lifecycle", RuleErrorCode::kUnexpected, 10,
                "expected a comparison after 'lifecycle'", "", "="},
        BadCase{"NotWithoutInOrBetween", "lifecycle not = ACTIVE", RuleErrorCode::kUnexpected, 11,
                "expected a comparison", "not", "not in"},
        BadCase{"BooleanTakesTrueOrFalse", "has_dialogs = yes", RuleErrorCode::kTypeMismatch, 15,
                "true or false", "yes", "true"},
        BadCase{"UsersAreWholeNumbers", "responsible = 1.5", RuleErrorCode::kTypeMismatch, 15,
                "user id"},
        BadCase{"UnknownTier", "tier = DIAMOND", RuleErrorCode::kUnknownValue, 8,
                "not a value of tier", "DIAMOND", "PLATINUM"},
        BadCase{"FieldNotPicked", "UF_CRM_COLOR = RED", RuleErrorCode::kUnknownAttribute, 1,
                "picked for rules are: UF_CRM_REGION"},
        BadCase{"TurnoverWindowTooShort", "turnover_0m > 5", RuleErrorCode::kUnknownAttribute, 1,
                "turnover_<months>m"},
        BadCase{"TurnoverWindowTooLong", "turnover_121m > 5", RuleErrorCode::kUnknownAttribute, 1,
                "1 to 120 months"},
        BadCase{"KnownValuesCatchTypos", "industry = MANUFACTURNG", RuleErrorCode::kUnknownValue,
                12, "did you mean 'MANUFACTURING'"},
        BadCase{"KeywordIsNoAttribute", "and = 5", RuleErrorCode::kUnexpected, 1,
                "expected a condition", "and"},
        BadCase{"DateForAText", "type = 2024-01-01", RuleErrorCode::kTypeMismatch, 8, "text"},
        BadCase{"ColumnsCountCharactersNotBytes", "type = \"Связь\" and lifecycle = SLEEPY",
                RuleErrorCode::kUnknownValue, 32, "SLEEPING"},
        BadCase{"BadCharacterIsOneCharacter", "lifecycle = ACTIVE and ∑",
                RuleErrorCode::kBadCharacter, 24, "unexpected character '∑'", "∑"},
        // Limits.
        BadCase{"TooLong", std::string(30, ' ') + "has_dialogs", RuleErrorCode::kTooLong, 41,
                "longer than 40", nullptr, nullptr, Limits(40, 24, 200, 1000)},
        BadCase{"TooDeepNot", "not not not has_dialogs", RuleErrorCode::kTooDeep, 9,
                "nested too deeply", nullptr, nullptr, Limits(2000, 2, 200, 1000)},
        BadCase{"TooDeepParentheses", "((has_dialogs))", RuleErrorCode::kTooDeep, 2,
                "nested too deeply", nullptr, nullptr, Limits(2000, 1, 200, 1000)},
        BadCase{"TooManyValues", "lifecycle in (ACTIVE, LOST, SLEEPING)",
                RuleErrorCode::kTooManyValues, 29, "at most 2 values", nullptr, nullptr,
                Limits(2000, 24, 2, 1000)},
        BadCase{"TooCostly", "payments > 1 and payments > 2 and payments > 3",
                RuleErrorCode::kTooCostly, 1, "costs 4, at most 3", nullptr, nullptr,
                Limits(2000, 24, 200, 3)}),
    CaseName);

TEST(RuleLanguage, DefaultLimitsAcceptTheirOwnMaximum) {
    // k conditions joined by or cost k + 1: 999 of them are exactly at the cost limit.
    RuleLimits limits;
    limits.max_length = 100000;
    std::string text = "payments > 0";
    for (int k = 2; k <= 999; ++k) {
        text += " or payments > 0";
    }
    const CompileResult ok = CompileRule(text, Schema(), limits);
    ASSERT_TRUE(ok.ok()) << ok.error->message;
    EXPECT_EQ(ok.rule->cost(), limits.max_cost);
    const CompileResult over = CompileRule(text + " or payments > 0", Schema(), limits);
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.error->code, RuleErrorCode::kTooCostly);
}

TEST(RuleLanguage, DeepButAllowedNesting) {
    std::string text;
    for (int i = 0; i < 24; ++i) {
        text += "(";
    }
    text += "has_dialogs";
    for (int i = 0; i < 24; ++i) {
        text += ")";
    }
    EXPECT_TRUE(CompileRule(text, Schema()).ok());
    EXPECT_FALSE(CompileRule("(" + text + ")", Schema()).ok());
}

TEST(RuleLanguage, TiersComeFromTheSchema) {
    RuleSchema schema = Schema();
    schema.tiers = {"BRONZE", "GOLD"};
    const CompileResult result = CompileRule("tier >= bronze or tier = GOLD", schema);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.rule->tiers(), (std::vector<std::string>{"BRONZE", "GOLD"}));
    EXPECT_FALSE(CompileRule("tier = PLATINUM", schema).ok());
}

TEST(RuleLanguage, AttributesForTheEditor) {
    const auto attributes = RuleAttributes(Schema());
    const auto find = [&](const std::string& name) -> const RuleAttributeInfo* {
        for (const RuleAttributeInfo& info : attributes) {
            if (info.name == name) {
                return &info;
            }
        }
        return nullptr;
    };
    ASSERT_TRUE(find("lifecycle"));
    EXPECT_EQ(find("lifecycle")->values.size(), 7U);
    EXPECT_TRUE(find("lifecycle")->has_history);
    ASSERT_TRUE(find("tier"));
    EXPECT_EQ(find("tier")->values,
              (std::vector<std::string>{"NONE", "SILVER", "GOLD", "PLATINUM"}));
    ASSERT_TRUE(find("industry"));
    EXPECT_EQ(find("industry")->values.size(), 3U);
    EXPECT_FALSE(find("industry")->has_history);
    ASSERT_TRUE(find("UF_CRM_REGION"));
    EXPECT_EQ(find("UF_CRM_REGION")->type, "text");
    ASSERT_TRUE(find("turnover_12m"));
    EXPECT_EQ(find("turnover_12m")->type, "money");
    // Every listed attribute compiles in a rule.
    for (const RuleAttributeInfo& info : attributes) {
        const std::string value = info.type == "bool"    ? "true"
                                  : info.type == "date"  ? "2024-01-01"
                                  : !info.values.empty() ? info.values.back()
                                  : info.type == "text"  ? "'x'"
                                                         : "1";
        EXPECT_TRUE(CompileRule(info.name + " = " + value, Schema()).ok()) << info.name;
    }
}

TEST(RuleSets, CountCodesAndTotalCost) {
    const CompiledRule rule =
        *CompileRule("payments > 1 and has_dialogs", Schema()).rule;  // cost 3
    std::vector<RuleSegment> rules = {{"BIG_SPENDERS", rule}, {"AT_RISK", rule}};
    EXPECT_EQ(ValidateRuleSet(rules), std::nullopt);

    RuleLimits limits;
    limits.max_rules = 1;
    const auto too_many = ValidateRuleSet(rules, limits);
    ASSERT_TRUE(too_many);
    EXPECT_EQ(too_many->index, 2U);
    EXPECT_NE(too_many->message.find("at most 1"), std::string::npos);

    limits = {};
    limits.max_total_cost = 5;
    const auto costly = ValidateRuleSet(rules, limits);
    ASSERT_TRUE(costly);
    EXPECT_NE(costly->message.find("cost 6"), std::string::npos);

    rules[1].code = "BIG_SPENDERS";
    EXPECT_EQ(ValidateRuleSet(rules)->index, 1U);
    for (const char* bad : {"", "lower", "WITH SPACE", "ДА"}) {
        rules[1].code = bad;
        EXPECT_TRUE(ValidateRuleSet(rules)) << bad;
    }
    rules[1].code = std::string(51, 'A');
    EXPECT_TRUE(ValidateRuleSet(rules));
}

TEST(RuleLanguage, ErrorsNeverThrowOnGarbage) {
    // Every prefix of a valid rule, and a few hostile strings, compile or fail cleanly.
    const std::string text =
        R"(not (lifecycle in (ACTIVE, 'LOST') or turnover_24m between -1.5 and 2_000) and created >= 2024-01-31 and UF_CRM_REGION != "N")";
    for (std::size_t n = 0; n <= text.size(); ++n) {
        const CompileResult result = CompileRule(text.substr(0, n), Schema());
        EXPECT_NE(result.ok(), result.error.has_value());
        if (result.error) {
            EXPECT_GE(result.error->column, 1);
            EXPECT_LE(result.error->column, static_cast<std::int32_t>(n) + 1);
        }
    }
    for (const std::string& hostile :
         {std::string("\0\0", 2), std::string("\xff\xfe"), std::string(5000, '('),
          std::string("lifecycle = '") + std::string(1990, 'x')}) {
        const CompileResult result = CompileRule(hostile, Schema());
        EXPECT_FALSE(result.ok());
    }
}

}  // namespace
}  // namespace segtest
