// The rule language: lexer, parser and type checker (README: "Rule segments").
//
//   rule      := or
//   or        := and { "or" and }
//   and       := unary { "and" unary }
//   unary     := "not" unary | primary
//   primary   := "(" or ")" | "true" | "false" | condition
//   condition := attribute ( op value
//                          | [ "not" ] "in" "(" value { "," value } ")"
//                          | [ "not" ] "between" value "and" value
//                          | <nothing, for a boolean attribute> )
//   op        := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//   value     := number | "-" number | date | 'text' | "text" | name
//
// Keywords, attribute names and enum names ignore case; texts compare exactly. Every error carries
// the 1-based column (in code points) of the token it is about.

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>
#include <utility>

#include "civil.hpp"
#include "rule_program.hpp"
#include "segmenter/results.hpp"
#include "segmenter/rules.hpp"

namespace segmenter {

namespace {

using Program = CompiledRule::Program;
using Node = Program::Node;

std::string Upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string Lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && Upper(a) == Upper(b);
}

// Edit distance, for "did you mean" suggestions (inputs are short).
std::size_t Distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The closest candidate within a distance of a third of the word (at least 1, at most 3).
std::optional<std::string> Suggest(std::string_view word, const std::vector<std::string>& options) {
    const std::size_t allowed = std::clamp<std::size_t>(word.size() / 3, 1, 3);
    std::optional<std::string> best;
    std::size_t best_distance = allowed + 1;
    for (const std::string& option : options) {
        const std::size_t d = Distance(word, option);
        if (d < best_distance) {
            best_distance = d;
            best = option;
        }
    }
    return best;
}

// YYYY-MM-DD to a day number; nullopt if malformed or not a real date.
std::optional<std::int64_t> DayOfText(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    std::int32_t parts[3] = {0, 0, 0};
    const std::size_t starts[3] = {0, 5, 8};
    const std::size_t lengths[3] = {4, 2, 2};
    for (int p = 0; p < 3; ++p) {
        for (std::size_t i = 0; i < lengths[p]; ++i) {
            const char c = text[starts[p] + i];
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            parts[p] = parts[p] * 10 + (c - '0');
        }
    }
    if (parts[1] < 1 || parts[1] > 12 || parts[2] < 1 ||
        parts[2] > detail::DaysInMonth(parts[0], parts[1])) {
        return std::nullopt;
    }
    return detail::DaysFromCivil(parts[0], parts[1], parts[2]);
}

// ---------------------------------------------------------------------------------------------
// Attributes.

struct AttributeSpec {
    std::string_view name;
    AttributeId id;
    ValueType type;
    bool history;
};

constexpr AttributeSpec kAttributes[] = {
    {"lifecycle", AttributeId::kLifecycle, ValueType::kEnum, true},
    {"frequency", AttributeId::kFrequency, ValueType::kEnum, true},
    {"client_type", AttributeId::kClientType, ValueType::kEnum, false},
    {"tier", AttributeId::kTier, ValueType::kTier, true},
    {"payments", AttributeId::kPayments, ValueType::kNumber, true},
    {"days_since_payment", AttributeId::kDaysSincePayment, ValueType::kNumber, true},
    {"last_payment", AttributeId::kLastPayment, ValueType::kDate, true},
    {"turnover", AttributeId::kTurnover, ValueType::kMoney, true},
    {"turnover_lifetime", AttributeId::kTurnoverLifetime, ValueType::kMoney, true},
    {"has_dialogs", AttributeId::kHasDialogs, ValueType::kBool, true},
    {"has_channels", AttributeId::kHasChannels, ValueType::kBool, false},
    {"responsible", AttributeId::kResponsible, ValueType::kUser, false},
    {"created", AttributeId::kCreated, ValueType::kDate, false},
    {"days_since_created", AttributeId::kDaysSinceCreated, ValueType::kNumber, true},
    {"type", AttributeId::kType, ValueType::kText, false},
    {"industry", AttributeId::kIndustry, ValueType::kText, false},
    {"source", AttributeId::kSource, ValueType::kText, false},
};

const char* TypeName(ValueType type) {
    switch (type) {
        case ValueType::kEnum:
            return "enum";
        case ValueType::kTier:
            return "tier";
        case ValueType::kNumber:
            return "number";
        case ValueType::kMoney:
            return "money";
        case ValueType::kDate:
            return "date";
        case ValueType::kBool:
            return "bool";
        case ValueType::kUser:
            return "user";
        case ValueType::kText:
            return "text";
    }
    return "text";
}

std::vector<std::string> EnumValues(AttributeId id) {
    std::vector<std::string> values;
    switch (id) {
        case AttributeId::kLifecycle:
            for (int i = 0; i <= static_cast<int>(Lifecycle::kNoContacts); ++i) {
                values.emplace_back(XmlId(static_cast<Lifecycle>(i)));
            }
            break;
        case AttributeId::kFrequency:
            for (int i = 0; i <= static_cast<int>(Frequency::kNone); ++i) {
                values.emplace_back(XmlId(static_cast<Frequency>(i)));
            }
            break;
        default:
            values = {"B2B", "B2C"};
            break;
    }
    return values;
}

// turnover_<N>m with N in 1..120.
std::optional<std::int32_t> TurnoverMonths(std::string_view lower) {
    constexpr std::string_view kPrefix = "turnover_";
    if (lower.size() < kPrefix.size() + 2 || lower.substr(0, kPrefix.size()) != kPrefix ||
        lower.back() != 'm') {
        return std::nullopt;
    }
    const std::string_view digits = lower.substr(kPrefix.size(), lower.size() - kPrefix.size() - 1);
    if (digits.empty() || digits.size() > 3 || digits[0] == '0') {
        return std::nullopt;
    }
    std::int32_t months = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        months = months * 10 + (c - '0');
    }
    return months >= 1 && months <= 120 ? std::optional<std::int32_t>(months) : std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Lexer.

enum class Tok : std::uint8_t {
    kName,
    kNumber,
    kDate,
    kString,
    kLParen,
    kRParen,
    kComma,
    kOp,
    kEnd,
};

struct Token {
    Tok kind = Tok::kEnd;
    std::size_t begin = 0;  // byte offsets into the text
    std::size_t end = 0;
    std::string value;        // a string's contents, a name as written
    std::int64_t number = 0;  // a number in hundredths
    bool integral = true;     // a number without decimals
    std::int64_t day = 0;     // a date's day number
    Op op = Op::kEq;
};

struct Failure {
    RuleError error;
};

class Lexer {
public:
    explicit Lexer(std::string_view text) : text_(text) {}

    // Fills `tokens`, or returns the first lexical error.
    std::optional<RuleError> Run(std::vector<Token>& tokens) {
        while (true) {
            SkipBlanks();
            Token token;
            token.begin = pos_;
            if (pos_ >= text_.size()) {
                token.kind = Tok::kEnd;
                token.end = pos_;
                tokens.push_back(token);
                return std::nullopt;
            }
            const char c = text_[pos_];
            if (IsNameStart(c)) {
                while (pos_ < text_.size() && IsNameChar(text_[pos_])) {
                    ++pos_;
                }
                token.kind = Tok::kName;
                token.value = std::string(text_.substr(token.begin, pos_ - token.begin));
            } else if (IsDigit(c) ||
                       (c == '-' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1]))) {
                if (auto error = Number(token)) {
                    return error;
                }
            } else if (c == '"' || c == '\'') {
                if (auto error = String(token, c)) {
                    return error;
                }
            } else if (c == '(' || c == ')' || c == ',') {
                token.kind = c == '(' ? Tok::kLParen : (c == ')' ? Tok::kRParen : Tok::kComma);
                ++pos_;
            } else if (auto op = Operator()) {
                token.kind = Tok::kOp;
                token.op = *op;
            } else {
                // One code point, whatever its length in bytes.
                std::size_t end = pos_ + 1;
                while (end < text_.size() &&
                       (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) {
                    ++end;
                }
                return Error(
                    RuleErrorCode::kBadCharacter, pos_, end,
                    "unexpected character '" + std::string(text_.substr(pos_, end - pos_)) + "'");
            }
            token.end = pos_;
            tokens.push_back(std::move(token));
        }
    }

    RuleError Error(RuleErrorCode code,
                    std::size_t begin,
                    std::size_t end,
                    std::string message) const {
        RuleError error;
        error.code = code;
        error.message = std::move(message);
        error.found = std::string(text_.substr(begin, end - begin));
        error.column = Column(begin);
        error.length = std::max(1, Column(end) - error.column);
        return error;
    }

    // 1-based column of a byte offset, in code points.
    std::int32_t Column(std::size_t offset) const {
        std::int32_t column = 1;
        for (std::size_t i = 0; i < offset && i < text_.size(); ++i) {
            if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
                ++column;
            }
        }
        return column;
    }

private:
    static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
    static bool IsNameStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }
    static bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

    void SkipBlanks() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\n' || text_[pos_] == '\r')) {
            ++pos_;
        }
    }

    std::optional<Op> Operator() {
        const std::string_view rest = text_.substr(pos_);
        const auto take = [&](std::string_view symbol, Op op) -> std::optional<Op> {
            if (rest.substr(0, symbol.size()) == symbol) {
                pos_ += symbol.size();
                return op;
            }
            return std::nullopt;
        };
        for (const auto& [symbol, op] : {std::pair<std::string_view, Op>{"==", Op::kEq},
                                         {"!=", Op::kNe},
                                         {"<>", Op::kNe},
                                         {"<=", Op::kLe},
                                         {">=", Op::kGe},
                                         {"=", Op::kEq},
                                         {"<", Op::kLt},
                                         {">", Op::kGt}}) {
            if (auto found = take(symbol, op)) {
                return found;
            }
        }
        return std::nullopt;
    }

    // 123, 1_000_000, 99.95, -5; or a date 2024-01-31.
    std::optional<RuleError> Number(Token& token) {
        const std::size_t begin = pos_;
        const bool negative = text_[pos_] == '-';
        if (negative) {
            ++pos_;
        }
        // A date: four digits, '-', two digits, '-', two digits. Four digits and a '-' before a
        // digit can only be meant as a date, so any other shape is a malformed date.
        const bool dated =
            !negative && pos_ + 5 < text_.size() &&
            std::all_of(text_.begin() + static_cast<std::ptrdiff_t>(pos_),
                        text_.begin() + static_cast<std::ptrdiff_t>(pos_ + 4), IsDigit) &&
            text_[pos_ + 4] == '-' && IsDigit(text_[pos_ + 5]);
        if (dated) {
            const std::string_view candidate = text_.substr(pos_, 10);
            const bool shape = candidate.size() == 10 && candidate[7] == '-' &&
                               std::all_of(candidate.begin(), candidate.end(),
                                           [](char c) { return IsDigit(c) || c == '-'; });
            if (!shape) {
                pos_ += 5;
                return Error(RuleErrorCode::kBadDate, begin, End(),
                             "expected a date like 2024-01-31");
            }
            pos_ += 10;
            if (pos_ < text_.size() && IsNameChar(text_[pos_])) {
                return Error(RuleErrorCode::kBadDate, begin, End(),
                             "expected a date like 2024-01-31");
            }
            const auto day = DayOfText(candidate);
            if (!day) {
                return Error(RuleErrorCode::kBadDate, begin, pos_,
                             "'" + std::string(candidate) + "' is not a date");
            }
            token.kind = Tok::kDate;
            token.day = *day;
            return std::nullopt;
        }
        std::int64_t whole = 0;
        bool overflow = false;
        bool digit_before = false;
        while (pos_ < text_.size() && (IsDigit(text_[pos_]) || text_[pos_] == '_')) {
            if (text_[pos_] == '_') {
                if (!digit_before || pos_ + 1 >= text_.size() || !IsDigit(text_[pos_ + 1])) {
                    return Error(RuleErrorCode::kBadNumber, begin, End(),
                                 "'_' may only separate digits, as in 1_000_000");
                }
            } else {
                whole = whole * 10 + (text_[pos_] - '0');
                overflow = overflow || whole > 10'000'000'000'000;
                digit_before = true;
            }
            ++pos_;
        }
        std::int64_t fraction = 0;
        std::size_t decimals = 0;
        if (pos_ < text_.size() && text_[pos_] == '.') {
            ++pos_;
            while (pos_ < text_.size() && IsDigit(text_[pos_])) {
                if (decimals < 2) {
                    fraction = fraction * 10 + (text_[pos_] - '0');
                } else if (text_[pos_] != '0') {
                    return Error(RuleErrorCode::kBadNumber, begin, End(),
                                 "at most two decimals are allowed");
                }
                ++decimals;
                ++pos_;
            }
            if (decimals == 0) {
                return Error(RuleErrorCode::kBadNumber, begin, pos_, "expected digits after '.'");
            }
        }
        if (pos_ < text_.size() && IsNameChar(text_[pos_])) {
            return Error(RuleErrorCode::kBadNumber, begin, End(),
                         "a number must not run into letters");
        }
        if (overflow) {
            return Error(RuleErrorCode::kBadNumber, begin, pos_, "the number is too large");
        }
        for (std::size_t i = decimals; i < 2; ++i) {
            fraction *= 10;
        }
        token.kind = Tok::kNumber;
        token.number = (whole * 100 + fraction) * (negative ? -1 : 1);
        token.integral = fraction == 0;
        return std::nullopt;
    }

    // The end of the word at pos_, for errors about a whole malformed word.
    std::size_t End() const {
        std::size_t end = pos_;
        while (end < text_.size() &&
               (IsNameChar(text_[end]) || text_[end] == '.' || text_[end] == '-')) {
            ++end;
        }
        return end;
    }

    // 'text' or "text"; the quote is written twice inside to stand for itself.
    std::optional<RuleError> String(Token& token, char quote) {
        const std::size_t begin = pos_;
        ++pos_;
        std::string value;
        while (true) {
            if (pos_ >= text_.size()) {
                return Error(RuleErrorCode::kUnterminatedString, begin, pos_,
                             std::string("the text has no closing ") + quote);
            }
            if (text_[pos_] == quote) {
                if (pos_ + 1 < text_.size() && text_[pos_ + 1] == quote) {
                    value.push_back(quote);
                    pos_ += 2;
                    continue;
                }
                ++pos_;
                break;
            }
            value.push_back(text_[pos_++]);
        }
        token.kind = Tok::kString;
        token.value = std::move(value);
        return std::nullopt;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Parser and type checker.

struct Attribute {
    AttributeId id = AttributeId::kLifecycle;
    ValueType type = ValueType::kEnum;
    std::int32_t parameter = 0;
    std::string name;  // canonical
    bool history = false;
};

class Parser {
public:
    Parser(std::string_view text,
           const std::vector<Token>& tokens,
           const Lexer& lexer,
           const RuleSchema& schema,
           const RuleLimits& limits,
           Program& program)
        : text_(text),
          tokens_(tokens),
          lexer_(lexer),
          schema_(schema),
          limits_(limits),
          program_(program) {}

    std::optional<RuleError> Run() {
        try {
            program_.root = Or(0);
            if (Peek().kind != Tok::kEnd) {
                Unexpected(Peek(), "expected 'and', 'or' or the end of the rule",
                           {"and", "or", "end"});
            }
        } catch (const Failure& failure) {
            return failure.error;
        }
        return std::nullopt;
    }

private:
    const Token& Peek() const { return tokens_[pos_]; }
    const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

    bool IsKeyword(const Token& token, std::string_view word) const {
        return token.kind == Tok::kName && EqualsIgnoringCase(token.value, word);
    }

    std::string Describe(const Token& token) const {
        if (token.kind == Tok::kEnd) {
            return "the end of the rule";
        }
        return "'" + std::string(text_.substr(token.begin, token.end - token.begin)) + "'";
    }

    [[noreturn]] void Fail(RuleErrorCode code,
                           const Token& token,
                           std::string message,
                           std::vector<std::string> expected = {}) const {
        RuleError error = lexer_.Error(code, token.begin, token.end, std::move(message));
        error.expected = std::move(expected);
        throw Failure{std::move(error)};
    }

    [[noreturn]] void Unexpected(const Token& token,
                                 const std::string& what,
                                 std::vector<std::string> expected = {}) const {
        Fail(RuleErrorCode::kUnexpected, token, what + ", found " + Describe(token),
             std::move(expected));
    }

    void CheckDepth(std::int32_t depth, const Token& token) const {
        if (depth > limits_.max_depth) {
            Fail(RuleErrorCode::kTooDeep, token,
                 "the rule is nested too deeply (at most " + std::to_string(limits_.max_depth) +
                     " levels of parentheses and not)");
        }
    }

    std::uint32_t Add(Node node) {
        program_.cost += 1;
        program_.nodes.push_back(std::move(node));
        return static_cast<std::uint32_t>(program_.nodes.size() - 1);
    }

    std::uint32_t List(Node::Kind kind, const std::vector<std::uint32_t>& items) {
        Node node;
        node.kind = kind;
        node.first = static_cast<std::uint32_t>(program_.children.size());
        node.count = static_cast<std::uint32_t>(items.size());
        program_.children.insert(program_.children.end(), items.begin(), items.end());
        return Add(std::move(node));
    }

    std::uint32_t Or(std::int32_t depth) {
        std::vector<std::uint32_t> items{And(depth)};
        while (IsKeyword(Peek(), "or")) {
            Next();
            items.push_back(And(depth));
        }
        return items.size() == 1 ? items[0] : List(Node::Kind::kOr, items);
    }

    std::uint32_t And(std::int32_t depth) {
        std::vector<std::uint32_t> items{Unary(depth)};
        while (IsKeyword(Peek(), "and")) {
            Next();
            items.push_back(Unary(depth));
        }
        return items.size() == 1 ? items[0] : List(Node::Kind::kAnd, items);
    }

    std::uint32_t Unary(std::int32_t depth) {
        if (IsKeyword(Peek(), "not")) {
            const Token& token = Next();
            CheckDepth(depth + 1, token);
            const std::uint32_t child = Unary(depth + 1);
            Node node;
            node.kind = Node::Kind::kNot;
            node.first = static_cast<std::uint32_t>(program_.children.size());
            node.count = 1;
            program_.children.push_back(child);
            return Add(std::move(node));
        }
        return Primary(depth);
    }

    std::uint32_t Primary(std::int32_t depth) {
        const Token& token = Peek();
        if (token.kind == Tok::kLParen) {
            Next();
            CheckDepth(depth + 1, token);
            const std::uint32_t inner = Or(depth + 1);
            if (Peek().kind != Tok::kRParen) {
                Unexpected(Peek(),
                           "expected ')' to close the '(' at column " +
                               std::to_string(lexer_.Column(token.begin)),
                           {")", "and", "or"});
            }
            Next();
            return inner;
        }
        if (IsKeyword(token, "true") || IsKeyword(token, "false")) {
            Next();
            Node node;
            node.kind = Node::Kind::kConst;
            node.constant = IsKeyword(token, "true");
            return Add(std::move(node));
        }
        if (token.kind != Tok::kName || IsReserved(token)) {
            Unexpected(token, "expected a condition such as lifecycle = ACTIVE",
                       {"an attribute", "not", "("});
        }
        return Condition();
    }

    bool IsReserved(const Token& token) const {
        for (const char* word : {"and", "or", "not", "in", "between"}) {
            if (IsKeyword(token, word)) {
                return true;
            }
        }
        return false;
    }

    std::vector<std::string> AttributeNames() const {
        std::vector<std::string> names;
        for (const AttributeSpec& spec : kAttributes) {
            names.emplace_back(spec.name);
        }
        names.emplace_back("turnover_12m");
        for (const std::string& field : schema_.user_fields) {
            names.push_back(field);
        }
        return names;
    }

    Attribute Resolve(const Token& token) {
        const std::string lower = Lower(token.value);
        Attribute attribute;
        for (const AttributeSpec& spec : kAttributes) {
            if (spec.name == lower) {
                attribute.id = spec.id;
                attribute.type = spec.type;
                attribute.name = std::string(spec.name);
                attribute.history = spec.history;
                return attribute;
            }
        }
        if (auto months = TurnoverMonths(lower)) {
            attribute.id = AttributeId::kTurnoverMonths;
            attribute.type = ValueType::kMoney;
            attribute.parameter = *months;
            attribute.name = "turnover_" + std::to_string(*months) + "m";
            attribute.history = true;
            return attribute;
        }
        for (const std::string& field : schema_.user_fields) {
            if (EqualsIgnoringCase(field, token.value)) {
                attribute.id = AttributeId::kField;
                attribute.type = ValueType::kText;
                attribute.name = field;
                const auto known = std::find(program_.fields.begin(), program_.fields.end(), field);
                attribute.parameter = static_cast<std::int32_t>(known - program_.fields.begin());
                if (known == program_.fields.end()) {
                    program_.fields.push_back(field);
                }
                return attribute;
            }
        }
        std::string message = "unknown attribute '" + token.value + "'";
        if (Upper(token.value).rfind("UF_", 0) == 0) {
            message += schema_.user_fields.empty()
                           ? "; no user field has been picked for rules"
                           : "; the user fields picked for rules are: " + Join(schema_.user_fields);
        } else if (lower.rfind("turnover_", 0) == 0) {
            message += "; write turnover_<months>m with 1 to 120 months, e.g. turnover_12m";
        } else if (auto suggestion = Suggest(token.value, AttributeNames())) {
            message += "; did you mean '" + *suggestion + "'?";
        }
        Fail(RuleErrorCode::kUnknownAttribute, token, message, AttributeNames());
    }

    static std::string Join(const std::vector<std::string>& items) {
        std::string out;
        for (const std::string& item : items) {
            out += (out.empty() ? "" : ", ") + item;
        }
        return out;
    }

    static bool Ordered(ValueType type) {
        return type == ValueType::kTier || type == ValueType::kNumber ||
               type == ValueType::kMoney || type == ValueType::kDate;
    }

    std::uint32_t Condition() {
        const Token& name = Next();
        const Attribute attribute = Resolve(name);
        Note(attribute);
        Node node;
        node.kind = Node::Kind::kCompare;
        node.attribute = attribute.id;
        node.type = attribute.type;
        node.parameter = attribute.parameter;

        const Token& token = Peek();
        bool negated = false;
        if (IsKeyword(token, "not")) {
            const Token& after = tokens_[pos_ + 1];
            if (IsKeyword(after, "in") || IsKeyword(after, "between")) {
                Next();
                negated = true;
            }
        }
        const Token& verb = Peek();
        if (verb.kind == Tok::kOp) {
            if (negated) {
                Unexpected(verb, "expected 'in' or 'between' after 'not'", {"in", "between"});
            }
            Next();
            node.op = verb.op;
            const bool ordering = verb.op == Op::kLt || verb.op == Op::kLe || verb.op == Op::kGt ||
                                  verb.op == Op::kGe;
            if (ordering && !Ordered(attribute.type)) {
                NoOrder(verb, attribute);
            }
            Value(attribute, node, Describe(verb));
            return Add(std::move(node));
        }
        if (IsKeyword(verb, "in")) {
            Next();
            node.op = negated ? Op::kNotIn : Op::kIn;
            if (Peek().kind != Tok::kLParen) {
                Unexpected(Peek(), "expected '(' after 'in'", {"("});
            }
            const Token& open = Next();
            std::size_t values = 0;
            while (true) {
                if (++values > limits_.max_list_values) {
                    Fail(RuleErrorCode::kTooManyValues, Peek(),
                         "a list may hold at most " + std::to_string(limits_.max_list_values) +
                             " values");
                }
                Value(attribute, node, values == 1 ? "'('" : "','");
                program_.cost += 1;
                if (Peek().kind == Tok::kComma) {
                    Next();
                    continue;
                }
                if (Peek().kind == Tok::kRParen) {
                    Next();
                    break;
                }
                Unexpected(Peek(),
                           "expected ',' or ')' in the list opened at column " +
                               std::to_string(lexer_.Column(open.begin)),
                           {",", ")"});
            }
            std::sort(node.numbers.begin(), node.numbers.end());
            node.numbers.erase(std::unique(node.numbers.begin(), node.numbers.end()),
                               node.numbers.end());
            std::sort(node.texts.begin(), node.texts.end());
            node.texts.erase(std::unique(node.texts.begin(), node.texts.end()), node.texts.end());
            return Add(std::move(node));
        }
        if (IsKeyword(verb, "between")) {
            Next();
            if (!Ordered(attribute.type)) {
                NoOrder(verb, attribute);
            }
            node.op = negated ? Op::kNotBetween : Op::kBetween;
            const Token& low = Peek();
            Value(attribute, node, "'between'");
            if (!IsKeyword(Peek(), "and")) {
                Unexpected(Peek(), "expected 'and' between the two bounds of 'between'", {"and"});
            }
            Next();
            Value(attribute, node, "'and'");
            if (node.numbers[0] > node.numbers[1]) {
                RuleError error =
                    lexer_.Error(RuleErrorCode::kEmptyRange, low.begin, tokens_[pos_ - 1].end,
                                 "the lower bound of 'between' is above the upper bound");
                throw Failure{std::move(error)};
            }
            return Add(std::move(node));
        }
        if (attribute.type == ValueType::kBool && !negated) {
            node.op = Op::kTruth;
            return Add(std::move(node));
        }
        std::vector<std::string> expected = {"=", "!="};
        if (Ordered(attribute.type)) {
            expected.insert(expected.end(), {"<", "<=", ">", ">="});
        }
        expected.insert(expected.end(), {"in", "not in"});
        if (Ordered(attribute.type)) {
            expected.insert(expected.end(), {"between", "not between"});
        }
        Unexpected(verb, "expected a comparison after '" + name.value + "'", expected);
    }

    [[noreturn]] void NoOrder(const Token& verb, const Attribute& attribute) const {
        Fail(RuleErrorCode::kNoOrder, verb,
             attribute.name + " has no order: use =, !=, in or not in",
             {"=", "!=", "in", "not in"});
    }

    void Note(const Attribute& attribute) {
        program_.attributes.push_back(attribute.name);
        program_.has_history = program_.has_history || attribute.history;
        Program::Timing& timing = program_.timing;
        switch (attribute.id) {
            case AttributeId::kLifecycle:
                timing.lifecycle = true;
                break;
            case AttributeId::kFrequency:
            case AttributeId::kPayments:
            case AttributeId::kLastPayment:
            case AttributeId::kTurnoverLifetime:
                timing.payments = true;
                break;
            case AttributeId::kDaysSincePayment:
                timing.payment_days = true;
                break;
            case AttributeId::kTurnover:
                timing.windows.push_back(0);
                break;
            case AttributeId::kTurnoverMonths:
                timing.windows.push_back(attribute.parameter);
                break;
            case AttributeId::kTier:
                timing.tier = true;
                break;
            case AttributeId::kHasDialogs:
                timing.dialogs = true;
                break;
            case AttributeId::kDaysSinceCreated:
                timing.created_days = true;
                break;
            default:
                break;
        }
    }

    const std::vector<std::string>* Known(const Attribute& attribute) const {
        for (const KnownValues& known : schema_.known_values) {
            if (attribute.id == AttributeId::kField
                    ? EqualsIgnoringCase(known.attribute, attribute.name)
                    : Lower(known.attribute) == attribute.name) {
                return &known.values;
            }
        }
        return nullptr;
    }

    [[noreturn]] void Mismatch(const Token& token,
                               const Attribute& attribute,
                               const std::string& after,
                               const std::string& wanted,
                               std::vector<std::string> expected = {}) const {
        Fail(RuleErrorCode::kTypeMismatch, token,
             "expected " + wanted + " after " + after + " (" + attribute.name + " is " +
                 Article(attribute.type) + "), found " + Describe(token),
             std::move(expected));
    }

    static std::string Article(ValueType type) {
        switch (type) {
            case ValueType::kEnum:
                return "a list of names";
            case ValueType::kTier:
                return "a tier";
            case ValueType::kNumber:
                return "a number";
            case ValueType::kMoney:
                return "an amount";
            case ValueType::kDate:
                return "a date";
            case ValueType::kBool:
                return "true or false";
            case ValueType::kUser:
                return "a user id";
            case ValueType::kText:
                return "a text";
        }
        return "a value";
    }

    // Reads one value for `attribute` into node.numbers or node.texts.
    void Value(const Attribute& attribute, Node& node, const std::string& after) {
        const Token& token = Peek();
        if (token.kind == Tok::kEnd || token.kind == Tok::kRParen || token.kind == Tok::kComma ||
            token.kind == Tok::kLParen || token.kind == Tok::kOp) {
            Unexpected(token, "expected a value after " + after);
        }
        Next();
        switch (attribute.type) {
            case ValueType::kEnum: {
                if (token.kind != Tok::kName && token.kind != Tok::kString) {
                    Mismatch(token, attribute, after, "one of " + Join(EnumValues(attribute.id)),
                             EnumValues(attribute.id));
                }
                const std::vector<std::string> values = EnumValues(attribute.id);
                for (std::size_t i = 0; i < values.size(); ++i) {
                    if (EqualsIgnoringCase(values[i], token.value)) {
                        node.numbers.push_back(static_cast<std::int64_t>(i));
                        return;
                    }
                }
                UnknownValue(token, attribute, values);
            }
            case ValueType::kTier: {
                if (token.kind != Tok::kName && token.kind != Tok::kString) {
                    Mismatch(token, attribute, after, "a tier", TierNames());
                }
                if (EqualsIgnoringCase(token.value, "NONE")) {
                    node.numbers.push_back(-1);
                    return;
                }
                for (std::size_t i = 0; i < schema_.tiers.size(); ++i) {
                    if (EqualsIgnoringCase(schema_.tiers[i], token.value)) {
                        node.numbers.push_back(static_cast<std::int64_t>(i));
                        if (std::find(program_.named_tiers.begin(), program_.named_tiers.end(),
                                      schema_.tiers[i]) == program_.named_tiers.end()) {
                            program_.named_tiers.push_back(schema_.tiers[i]);
                        }
                        return;
                    }
                }
                UnknownValue(token, attribute, TierNames());
            }
            case ValueType::kNumber:
            case ValueType::kMoney:
                if (token.kind != Tok::kNumber) {
                    Mismatch(token, attribute, after,
                             attribute.type == ValueType::kMoney ? "an amount such as 100000"
                                                                 : "a number");
                }
                node.numbers.push_back(token.number);
                return;
            case ValueType::kDate: {
                std::optional<std::int64_t> day;
                if (token.kind == Tok::kDate) {
                    day = token.day;
                } else if (token.kind == Tok::kString) {
                    day = DayOfText(token.value);
                }
                if (!day) {
                    Mismatch(token, attribute, after, "a date like 2024-01-31");
                }
                node.numbers.push_back(*day);
                return;
            }
            case ValueType::kBool:
                if (IsKeyword(token, "true") || IsKeyword(token, "false")) {
                    node.numbers.push_back(IsKeyword(token, "true") ? 1 : 0);
                    return;
                }
                Mismatch(token, attribute, after, "true or false", {"true", "false"});
            case ValueType::kUser:
                if (token.kind != Tok::kNumber || !token.integral || token.number < 0) {
                    Mismatch(token, attribute, after, "a user id such as 12 (0 for none)");
                }
                node.numbers.push_back(token.number / 100);
                return;
            case ValueType::kText: {
                if (token.kind == Tok::kDate) {
                    Mismatch(token, attribute, after, "a text in quotes");
                }
                // Names and numbers stand for their spelling: industry = IT, source = 12.
                std::string value =
                    token.kind == Tok::kString
                        ? token.value
                        : std::string(text_.substr(token.begin, token.end - token.begin));
                if (const auto* known = Known(attribute);
                    known != nullptr && !value.empty() &&
                    std::find(known->begin(), known->end(), value) == known->end()) {
                    UnknownValue(token, attribute, *known);
                }
                node.texts.push_back(std::move(value));
                return;
            }
        }
    }

    std::vector<std::string> TierNames() const {
        std::vector<std::string> names = schema_.tiers;
        names.insert(names.begin(), "NONE");
        return names;
    }

    [[noreturn]] void UnknownValue(const Token& token,
                                   const Attribute& attribute,
                                   const std::vector<std::string>& values) const {
        const std::string written =
            token.kind == Tok::kString
                ? token.value
                : std::string(text_.substr(token.begin, token.end - token.begin));
        std::string message = "'" + written + "' is not a value of " + attribute.name;
        if (auto suggestion = Suggest(written, values)) {
            message += "; did you mean '" + *suggestion + "'?";
        } else if (values.size() <= 12) {
            message += "; expected one of " + Join(values);
        }
        Fail(RuleErrorCode::kUnknownValue, token, message,
             values.size() <= 50 ? values : std::vector<std::string>{});
    }

    std::string_view text_;
    const std::vector<Token>& tokens_;
    const Lexer& lexer_;
    const RuleSchema& schema_;
    const RuleLimits& limits_;
    Program& program_;
    std::size_t pos_ = 0;
};

}  // namespace

CompiledRule::CompiledRule(std::shared_ptr<const Program> program) : program_(std::move(program)) {}

const std::string& CompiledRule::text() const {
    return program_->text;
}

std::int64_t CompiledRule::cost() const {
    return program_->cost;
}

const std::vector<std::string>& CompiledRule::attributes() const {
    return program_->attributes;
}

bool CompiledRule::has_history() const {
    return program_->has_history;
}

const std::vector<std::string>& CompiledRule::tiers() const {
    return program_->named_tiers;
}

CompileResult CompileRule(std::string_view text,
                          const RuleSchema& schema,
                          const RuleLimits& limits) {
    CompileResult result;
    Lexer lexer(text);
    const std::int32_t characters = lexer.Column(text.size()) - 1;
    if (static_cast<std::size_t>(characters) > limits.max_length) {
        std::size_t cut = 0;
        for (std::int32_t seen = 0; cut < text.size(); ++cut) {
            if ((static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80 &&
                seen++ == static_cast<std::int32_t>(limits.max_length)) {
                break;
            }
        }
        result.error = lexer.Error(
            RuleErrorCode::kTooLong, cut, text.size(),
            "the rule is longer than " + std::to_string(limits.max_length) + " characters");
        result.error->found.clear();
        return result;
    }
    std::vector<Token> tokens;
    if (auto error = lexer.Run(tokens)) {
        result.error = std::move(error);
        return result;
    }
    if (tokens.size() == 1) {
        result.error = lexer.Error(RuleErrorCode::kEmpty, 0, text.size(), "the rule is empty");
        result.error->expected = {"a condition such as lifecycle = ACTIVE"};
        return result;
    }
    auto program = std::make_shared<Program>();
    program->text = std::string(text);
    program->tiers = schema.tiers;
    Parser parser(text, tokens, lexer, schema, limits, *program);
    if (auto error = parser.Run()) {
        result.error = std::move(error);
        return result;
    }
    if (program->cost > limits.max_cost) {
        result.error = lexer.Error(
            RuleErrorCode::kTooCostly, 0, text.size(),
            "the rule is too complex: it costs " + std::to_string(program->cost) + ", at most " +
                std::to_string(limits.max_cost) +
                " are allowed (each condition, and, or, not and each listed value costs 1)");
        result.error->found.clear();
        return result;
    }
    std::sort(program->attributes.begin(), program->attributes.end());
    program->attributes.erase(std::unique(program->attributes.begin(), program->attributes.end()),
                              program->attributes.end());
    std::vector<std::int32_t>& windows = program->timing.windows;
    std::sort(windows.begin(), windows.end());
    windows.erase(std::unique(windows.begin(), windows.end()), windows.end());
    result.rule = CompiledRule(std::move(program));
    return result;
}

std::optional<RuleSetError> ValidateRuleSet(std::span<const RuleSegment> rules,
                                            const RuleLimits& limits) {
    if (rules.size() > limits.max_rules) {
        return RuleSetError{rules.size(), "at most " + std::to_string(limits.max_rules) +
                                              " rule segments are allowed, there are " +
                                              std::to_string(rules.size())};
    }
    std::set<std::string> codes;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const std::string& code = rules[i].code;
        const bool valid =
            !code.empty() && code.size() <= 50 && std::all_of(code.begin(), code.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            });
        if (!valid) {
            return RuleSetError{i,
                                "the code '" + code + "' must be 1 to 50 characters A-Z, 0-9 or _"};
        }
        if (!codes.insert(code).second) {
            return RuleSetError{i, "the code " + code + " is used twice"};
        }
        total += rules[i].rule.cost();
    }
    if (total > limits.max_total_cost) {
        return RuleSetError{rules.size(), "the rule segments together cost " +
                                              std::to_string(total) + ", at most " +
                                              std::to_string(limits.max_total_cost) +
                                              " are allowed"};
    }
    return std::nullopt;
}

std::vector<RuleAttributeInfo> RuleAttributes(const RuleSchema& schema) {
    std::vector<RuleAttributeInfo> out;
    const auto known = [&](std::string_view attribute) {
        for (const KnownValues& values : schema.known_values) {
            if (EqualsIgnoringCase(values.attribute, attribute)) {
                return values.values;
            }
        }
        return std::vector<std::string>{};
    };
    for (const AttributeSpec& spec : kAttributes) {
        RuleAttributeInfo info{std::string(spec.name), TypeName(spec.type), spec.history, {}};
        if (spec.type == ValueType::kEnum) {
            info.values = EnumValues(spec.id);
        } else if (spec.type == ValueType::kTier) {
            info.values = schema.tiers;
            info.values.insert(info.values.begin(), "NONE");
        } else if (spec.type == ValueType::kText) {
            info.values = known(spec.name);
        }
        out.push_back(std::move(info));
        if (spec.id == AttributeId::kTurnover) {
            out.push_back({"turnover_12m", "money", true, {}});
        }
    }
    for (const std::string& field : schema.user_fields) {
        out.push_back({field, "text", false, known(field)});
    }
    return out;
}

}  // namespace segmenter
