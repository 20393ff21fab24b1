#pragma once

// A compiled rule (private to the segmenter): a tree of nodes over typed attributes, and its
// evaluation against any source of a client's attribute values.
//
// Values are integers, whatever the attribute's type: numbers and money in hundredths (payments = 3
// is 300), dates as day numbers (days since 1970-01-01 of the local date), enums as their ordinal,
// tiers as an index into Program::tiers (-1 = NONE), users as their id. Texts are strings.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "segmenter/results.hpp"
#include "segmenter/rules.hpp"

namespace segmenter {

enum class AttributeId : std::uint8_t {
    kLifecycle,
    kFrequency,
    kClientType,
    kTier,
    kPayments,
    kDaysSincePayment,
    kLastPayment,
    kTurnover,        // the settings' window
    kTurnoverMonths,  // turnover_<N>m: Node::parameter = N
    kTurnoverLifetime,
    kHasDialogs,
    kHasChannels,
    kResponsible,
    kCreated,
    kDaysSinceCreated,
    kType,
    kIndustry,
    kSource,
    kField,  // Node::parameter = index into Program::fields
};

enum class ValueType : std::uint8_t { kEnum, kTier, kNumber, kMoney, kDate, kBool, kUser, kText };

enum class Op : std::uint8_t {
    kEq,
    kNe,
    kLt,
    kLe,
    kGt,
    kGe,
    kIn,
    kNotIn,
    kBetween,
    kNotBetween,
    kTruth,  // a boolean attribute on its own
};

struct CompiledRule::Program {
    struct Node {
        enum class Kind : std::uint8_t { kAnd, kOr, kNot, kCompare, kConst };
        Kind kind = Kind::kConst;
        // kAnd, kOr: children[first .. first + count); kNot: children[first].
        std::uint32_t first = 0;
        std::uint32_t count = 0;
        bool constant = false;  // kConst
        // kCompare.
        AttributeId attribute = AttributeId::kLifecycle;
        ValueType type = ValueType::kEnum;
        std::int32_t parameter = 0;
        Op op = Op::kEq;
        std::vector<std::int64_t> numbers{};  // one value; two for between; sorted for in
        std::vector<std::string> texts{};     // the same for text attributes
    };

    std::string text;
    std::vector<Node> nodes;
    std::vector<std::uint32_t> children;
    std::uint32_t root = 0;
    std::int64_t cost = 0;
    std::vector<std::string> attributes;  // canonical names, sorted, unique
    bool has_history = false;
    std::vector<std::string> tiers;        // the schema's tier codes, lowest first
    std::vector<std::string> named_tiers;  // the codes the rule names
    std::vector<std::string> fields;       // FIELD_NAMEs the rule reads, as in the schema

    // What can make the rule's value change from month to month (README: "Rule segments").
    struct Timing {
        bool lifecycle = false;  // lifecycle: creation, payments, window exits, requests, dialogs
        bool payments = false;   // payments, frequency, last_payment, turnover_lifetime
        bool dialogs = false;    // has_dialogs
        bool tier = false;       // tier: the turnover window (every month under the ranking)
        bool payment_days = false;  // days_since_payment: every month after the first payment
        bool created_days = false;  // days_since_created: every month
        std::vector<std::int32_t> windows;  // turnover windows in months (0 = the settings')
    };
    Timing timing;
};

// Attribute values of one client at one time. `Source` provides:
//   Lifecycle lifecycle(); Frequency frequency(); ClientType client_type(); std::int32_t tier();
//   std::int64_t payments(); std::optional<std::int64_t> days_since_payment();
//   std::optional<std::int64_t> last_payment_day(); std::int64_t turnover(std::int32_t months);
//   std::int64_t lifetime(); bool has_dialogs(); bool has_channels(); std::int64_t responsible();
//   std::int64_t created_day(); std::int64_t days_since_created(); std::string_view type();
//   std::string_view industry(); std::string_view source();
//   std::span<const std::string> field(std::string_view name);
// where tier() is an index into the program's tiers (-1 none, -2 a tier the program does not know),
// turnover(0) is the settings' window, and days are local calendar days.
template <class Source>
class RuleEvaluator {
public:
    RuleEvaluator(const CompiledRule::Program& program, Source& source)
        : program_(program), source_(source) {}

    bool Run() { return Eval(program_.root); }

private:
    using Node = CompiledRule::Program::Node;

    bool Eval(std::uint32_t index) {
        const Node& node = program_.nodes[index];
        switch (node.kind) {
            case Node::Kind::kConst:
                return node.constant;
            case Node::Kind::kNot:
                return !Eval(program_.children[node.first]);
            case Node::Kind::kAnd:
                for (std::uint32_t i = 0; i < node.count; ++i) {
                    if (!Eval(program_.children[node.first + i])) {
                        return false;
                    }
                }
                return true;
            case Node::Kind::kOr:
                for (std::uint32_t i = 0; i < node.count; ++i) {
                    if (Eval(program_.children[node.first + i])) {
                        return true;
                    }
                }
                return false;
            case Node::Kind::kCompare:
                return Compare(node);
        }
        return false;
    }

    std::optional<std::int64_t> Number(const Node& node) {
        switch (node.attribute) {
            case AttributeId::kLifecycle:
                return static_cast<std::int64_t>(source_.lifecycle());
            case AttributeId::kFrequency:
                return static_cast<std::int64_t>(source_.frequency());
            case AttributeId::kClientType:
                return static_cast<std::int64_t>(source_.client_type());
            case AttributeId::kTier:
                return source_.tier();
            case AttributeId::kPayments:
                return source_.payments() * 100;
            case AttributeId::kDaysSincePayment: {
                const auto days = source_.days_since_payment();
                return days ? std::optional<std::int64_t>(*days * 100) : std::nullopt;
            }
            case AttributeId::kLastPayment:
                return source_.last_payment_day();
            case AttributeId::kTurnover:
                return source_.turnover(0);
            case AttributeId::kTurnoverMonths:
                return source_.turnover(node.parameter);
            case AttributeId::kTurnoverLifetime:
                return source_.lifetime();
            case AttributeId::kHasDialogs:
                return source_.has_dialogs() ? 1 : 0;
            case AttributeId::kHasChannels:
                return source_.has_channels() ? 1 : 0;
            case AttributeId::kResponsible:
                return source_.responsible();
            case AttributeId::kCreated:
                return source_.created_day();
            case AttributeId::kDaysSinceCreated:
                return source_.days_since_created() * 100;
            default:
                return std::nullopt;
        }
    }

    std::string_view Text(const Node& node) {
        switch (node.attribute) {
            case AttributeId::kType:
                return source_.type();
            case AttributeId::kIndustry:
                return source_.industry();
            default:
                return source_.source();
        }
    }

    template <class T, class V>
    static bool InSorted(const std::vector<T>& sorted, const V& value) {
        return std::binary_search(sorted.begin(), sorted.end(), value);
    }

    bool Compare(const Node& node) {
        if (node.type == ValueType::kText) {
            if (node.attribute == AttributeId::kField) {
                return CompareField(
                    node, source_.field(program_.fields[static_cast<std::size_t>(node.parameter)]));
            }
            const std::string_view value = Text(node);
            switch (node.op) {
                case Op::kEq:
                    return value == node.texts[0];
                case Op::kNe:
                    return value != node.texts[0];
                case Op::kIn:
                    return InSorted(node.texts, value);
                case Op::kNotIn:
                    return !InSorted(node.texts, value);
                default:
                    return false;
            }
        }
        const std::optional<std::int64_t> found = Number(node);
        if (!found) {
            return false;  // a missing value: every comparison with it is false
        }
        const std::int64_t value = *found;
        if (node.type == ValueType::kTier && value == -2) {
            return false;  // a tier unknown to the rule compares with nothing
        }
        const std::int64_t first = node.numbers.empty() ? 0 : node.numbers[0];
        switch (node.op) {
            case Op::kTruth:
                return value != 0;
            case Op::kEq:
                return value == first;
            case Op::kNe:
                return value != first;
            case Op::kLt:
                return value < first;
            case Op::kLe:
                return value <= first;
            case Op::kGt:
                return value > first;
            case Op::kGe:
                return value >= first;
            case Op::kIn:
                return InSorted(node.numbers, value);
            case Op::kNotIn:
                return !InSorted(node.numbers, value);
            case Op::kBetween:
                return value >= node.numbers[0] && value <= node.numbers[1];
            case Op::kNotBetween:
                return value < node.numbers[0] || value > node.numbers[1];
        }
        return false;
    }

    // A field with several values: = and in hold if any value matches; != and not in are their
    // negations. A field with no value matches "".
    static bool CompareField(const Node& node, std::span<const std::string> values) {
        const auto any = [&](auto&& matches) {
            if (values.empty()) {
                return matches(std::string_view());
            }
            for (const std::string& value : values) {
                if (matches(std::string_view(value))) {
                    return true;
                }
            }
            return false;
        };
        const auto equal = [&](std::string_view v) { return v == node.texts[0]; };
        const auto in = [&](std::string_view v) { return InSorted(node.texts, v); };
        switch (node.op) {
            case Op::kEq:
                return any(equal);
            case Op::kNe:
                return !any(equal);
            case Op::kIn:
                return any(in);
            case Op::kNotIn:
                return !any(in);
            default:
                return false;
        }
    }

    const CompiledRule::Program& program_;
    Source& source_;
};

}  // namespace segmenter
