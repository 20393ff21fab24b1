#pragma once

// Rule segments: a small, safe expression language over a client's attributes
// (segmenter/README.md "Rule segments" has the language and every attribute), e.g.
//
//   lifecycle = SLEEPING and turnover_12m >= 100000 and industry in ("IT", "MANUFACTURING")
//
// CompileRule lexes, parses and type-checks a rule once (when the admin saves it, and on every
// keystroke for the editor); errors point at a 1-based column and say what was expected there.
// A CompiledRule is then evaluated by PortalIndex (RuleCount, RuleMembers, RuleSeries, AllCards
// with rules, BreakdownRule) over the index in memory: no text ever reaches a database.
//
// The language has no loops, no functions and no variables, so evaluating a rule on one client
// costs at most its `cost()`: the limits on length, nesting, list sizes, cost per rule and total
// cost per portal bound the evaluation time (README: "Limits").
//
// Everything here is pure. A CompiledRule is immutable and cheap to copy (it shares its program);
// copies may be used from several threads at once.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace segmenter {

enum class RuleErrorCode : std::uint8_t {
    kEmpty,               // nothing but blanks
    kTooLong,             // longer than RuleLimits::max_length characters
    kTooDeep,             // nested deeper than RuleLimits::max_depth
    kTooManyValues,       // a list longer than RuleLimits::max_list_values
    kTooCostly,           // cost above RuleLimits::max_cost
    kBadCharacter,        // a character that starts no token
    kUnterminatedString,  // a quote without its closing quote
    kBadNumber,           // a malformed or too large number, or more than two decimals
    kBadDate,             // not a real date (2024-02-30), or not YYYY-MM-DD
    kUnexpected,          // a token where another was expected (see `expected`)
    kUnknownAttribute,    // a name that is no attribute
    kUnknownValue,        // a value the attribute cannot have
    kTypeMismatch,        // a value of the wrong kind (a text where a number belongs, ...)
    kNoOrder,             // < <= > >= or between on an attribute without an order
    kEmptyRange,          // between with the lower bound above the upper one
};

// Where and why a rule was rejected.
struct RuleError {
    RuleErrorCode code = RuleErrorCode::kUnexpected;
    std::int32_t column = 1;  // 1-based, in characters (Unicode code points) of the rule text
    std::int32_t length = 1;  // characters covered, >= 1 (1 at the end of the text)
    std::string message;      // English, without the column: "expected a value after '>='"
    std::string found;        // the text at the error ("" at the end of the text)
    std::vector<std::string> expected{};  // what would have been accepted there, if a short list

    bool operator==(const RuleError&) const = default;
};

// Limits on rules (README: "Limits"). The defaults keep the evaluation of all rules of a portal of
// 100,000 clients within a few hundred milliseconds.
struct RuleLimits {
    std::size_t max_length = 2000;        // characters of one rule
    std::int32_t max_depth = 24;          // nesting of parentheses, and, or, not
    std::size_t max_list_values = 200;    // values in one in (...) list
    std::int64_t max_cost = 1000;         // per rule: 1 per condition and operator, 1 per value
    std::size_t max_rules = 50;           // rule segments per portal
    std::int64_t max_total_cost = 10000;  // per portal: the sum of the rules' costs
};

// A vocabulary for a text attribute: when given, values outside it are rejected (with a
// suggestion), which catches typos such as "MANUFACTURNG".
struct KnownValues {
    std::string attribute;            // type, industry, source, or a user field's FIELD_NAME
    std::vector<std::string> values;  // e.g. the STATUS_IDs of crm.status.list ENTITY_ID=INDUSTRY
};

// What a rule may refer to besides the fixed attributes.
struct RuleSchema {
    // The tier codes, lowest first (TierCodes(settings)); `tier` compares in this order.
    std::vector<std::string> tiers{};
    // The FIELD_NAMEs of the user fields the admin picked (UF_CRM_...); names compare ignoring
    // case.
    std::vector<std::string> user_fields{};
    std::vector<KnownValues> known_values{};
};

// One attribute a rule can read, for the editor's help and completion.
struct RuleAttributeInfo {
    std::string name;          // as written in rules: lifecycle, turnover_12m, UF_CRM_REGION, ...
    std::string type;          // enum, tier, number, money, date, bool, user, text
    bool has_history = false;  // false: monthly series use today's value for every month
    std::vector<std::string> values{};  // the values of an enum or tier (and known text values)
};

// The attributes a rule can read under `schema` (turnover_<N>m is listed once, as turnover_12m).
std::vector<RuleAttributeInfo> RuleAttributes(const RuleSchema& schema);

// A parsed and type-checked rule.
class CompiledRule {
public:
    struct Program;  // private to the segmenter

    explicit CompiledRule(std::shared_ptr<const Program> program);

    const std::string& text() const;
    // 1 per condition and per and/or/not, plus 1 per value in a list.
    std::int64_t cost() const;
    // The canonical names of the attributes it reads, sorted, once each.
    const std::vector<std::string>& attributes() const;
    // Whether any of them has history. If not, every month of the rule's series is judged on
    // today's values of those attributes (only the clients' existence changes from month to month).
    bool has_history() const;
    // The tier codes it names, as written in the schema (for checking them against new settings).
    const std::vector<std::string>& tiers() const;

    const Program& program() const { return *program_; }

private:
    std::shared_ptr<const Program> program_;
};

// Either a rule or the first error in it.
struct CompileResult {
    std::optional<CompiledRule> rule{};
    std::optional<RuleError> error{};

    bool ok() const { return rule.has_value(); }
};

// Compiles one rule. Never throws for bad text (only std::bad_alloc can escape).
CompileResult CompileRule(std::string_view text,
                          const RuleSchema& schema,
                          const RuleLimits& limits = {});

// A portal's named rule segment. `code` is the XML_ID of its item in the rule segments card field.
struct RuleSegment {
    std::string code;
    CompiledRule rule;
};

// Why a set of rule segments is refused: which one (its index; the size of the set for the set as
// a whole) and why, in English.
struct RuleSetError {
    std::size_t index = 0;
    std::string message;

    bool operator==(const RuleSetError&) const = default;
};

// Checks a portal's rule segments together: at most max_rules of them, codes of 1 to 50 characters
// A-Z, 0-9 and _, unique, and a total cost of at most max_total_cost. nullopt when they are fine.
std::optional<RuleSetError> ValidateRuleSet(std::span<const RuleSegment> rules,
                                            const RuleLimits& limits = {});

}  // namespace segmenter
