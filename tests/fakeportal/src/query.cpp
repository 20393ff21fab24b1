#include "query.hpp"

#include <cmath>
#include <cstdio>

namespace fakeportal::detail {

namespace {

std::string LowerText(const Value& v, int tz) {
    switch (v.kind) {
        case Kind::kString:
            return ToLower(v.s);
        case Kind::kInt:
            return std::to_string(v.i);
        case Kind::kDouble:
            return StrVal(json(v.d));
        case Kind::kTime:
        case Kind::kDate:
            return FormatIso(v.i, tz);
        case Kind::kYN:
            return v.i ? "y" : "n";
        default:
            return "";
    }
}

// SQL LIKE with % and _ (case-insensitive, input already lower-cased).
bool Like(const std::string& text, const std::string& pattern, size_t ti = 0, size_t pi = 0) {
    while (pi < pattern.size()) {
        const char p = pattern[pi];
        if (p == '%') {
            for (size_t k = ti; k <= text.size(); ++k) {
                if (Like(text, pattern, k, pi + 1)) {
                    return true;
                }
            }
            return false;
        }
        if (ti >= text.size() || (p != '_' && p != text[ti])) {
            return false;
        }
        ++ti;
        ++pi;
    }
    return ti == text.size();
}

// -1/0/1 comparison of a (non-null, scalar) row value with a filter operand.
int CompareOperand(const Value& v, const json& operand, int tz) {
    switch (v.kind) {
        case Kind::kInt:
        case Kind::kDouble: {
            const double a = v.kind == Kind::kInt ? static_cast<double>(v.i) : v.d;
            const double b = FloatVal(operand);
            return a < b ? -1 : (a > b ? 1 : 0);
        }
        case Kind::kTime:
        case Kind::kDate: {
            // An operand that is not a date compares as the epoch: "" then matches every
            // ">DATE" and no "<DATE" (the unforgiving reading of an empty reference).
            int64_t b = 0;
            if (operand.is_number()) {
                b = IntVal(operand);
            } else if (auto t = ParseTime(StrVal(operand), tz)) {
                b = *t;
            }
            return v.i < b ? -1 : (v.i > b ? 1 : 0);
        }
        case Kind::kYN: {
            const int64_t b = TruthyYN(operand) ? 1 : 0;
            return v.i < b ? -1 : (v.i > b ? 1 : 0);
        }
        case Kind::kString: {
            const std::string a = ToLower(v.s);
            const std::string b = ToLower(StrVal(operand));
            // PHP/MySQL compare numeric strings as numbers.
            if (IsIntegerText(a) && IsIntegerText(b)) {
                const double x = std::stod(a), y = std::stod(b);
                return x < y ? -1 : (x > y ? 1 : 0);
            }
            return a < b ? -1 : (a > b ? 1 : 0);
        }
        default:
            return 1;
    }
}

bool MatchScalar(const Value& v, const std::string& op, const json& operand, int tz) {
    if (v.kind == Kind::kIntList) {
        const bool negative = op == "!=";
        bool any = false;
        for (int64_t e : v.list) {
            if (MatchScalar(Value::Int(e), negative ? "=" : op, operand, tz)) {
                any = true;
                break;
            }
        }
        if (v.list.empty()) {
            const bool empty_operand = StrVal(operand).empty() || IntVal(operand) == 0;
            return op == "=" ? empty_operand : (negative ? !empty_operand : false);
        }
        return negative ? !any : any;
    }
    if (v.kind == Kind::kJson) {
        // Multifields (PHONE, EMAIL …) and similar arrays of objects: match on VALUE, exact.
        bool any = false;
        const std::string needle = ToLower(StrVal(operand));
        if (v.j.is_array()) {
            for (const auto& e : v.j) {
                const json* val = nullptr;
                if (e.is_object() && e.contains("VALUE")) {
                    val = &e["VALUE"];
                } else if (e.is_object() && e.contains("value")) {
                    val = &e["value"];
                }
                const std::string text = val ? ToLower(StrVal(*val)) : ToLower(StrVal(e));
                if (op == "%" ? text.find(needle) != std::string::npos : text == needle) {
                    any = true;
                }
            }
        }
        if (op == "!=" || op == "!%") {
            return !any;
        }
        return (op == "=" || op == "%") && any;
    }
    if (v.null) {
        const bool empty_operand = operand.is_null() || StrVal(operand).empty();
        if (op == "=") {
            return empty_operand;
        }
        if (op == "!=") {
            return !empty_operand;
        }
        if (op == "!%" || op == "!=%") {
            return true;
        }
        return false;
    }
    if (op == "%" || op == "!%") {
        const std::string needle = ToLower(StrVal(operand));
        const bool found = LowerText(v, tz).find(needle) != std::string::npos;
        return op == "%" ? found : !found;
    }
    if (op == "=%" || op == "%=" || op == "!=%") {
        const bool like = Like(LowerText(v, tz), ToLower(StrVal(operand)));
        return op == "!=%" ? !like : like;
    }
    const int c = CompareOperand(v, operand, tz);
    if (op == "=") {
        return c == 0;
    }
    if (op == "!=") {
        return c != 0;
    }
    if (op == ">") {
        return c > 0;
    }
    if (op == ">=") {
        return c >= 0;
    }
    if (op == "<") {
        return c < 0;
    }
    if (op == "<=") {
        return c <= 0;
    }
    return false;
}

}  // namespace

std::pair<std::string, std::string> SplitFilterKey(const std::string& key) {
    static const char* kOps[] = {"!=%", ">=", "<=", "!=", "!@", "!%", "=%",
                                 "%=",  ">",  "<",  "!",  "@",  "%",  "="};
    for (const char* op : kOps) {
        const std::string o(op);
        if (key.size() > o.size() && key.compare(0, o.size(), o) == 0) {
            std::string norm = o == "!" ? "!=" : o;
            return {norm, key.substr(o.size())};
        }
    }
    return {"=", key};
}

void PrepareCondition(Condition& c, Kind kind, int tz_minutes) {
    if (c.value.is_array() || c.value.is_object()) {
        return;
    }
    if (kind == Kind::kTime || kind == Kind::kDate) {
        c.has_time = true;
        if (c.value.is_number()) {
            c.time = IntVal(c.value);
        } else if (auto t = ParseTime(StrVal(c.value), tz_minutes)) {
            c.time = *t;
        } else {
            c.time = 0;
        }
    } else if (kind == Kind::kInt || kind == Kind::kDouble) {
        c.has_number = true;
        c.number = FloatVal(c.value);
    }
}

bool FastMatch(const Condition& c, const Value& v, bool* result) {
    if (v.null || (!c.has_time && !c.has_number)) {
        return false;
    }
    int cmp = 0;
    if (c.has_time && (v.kind == Kind::kTime || v.kind == Kind::kDate)) {
        cmp = v.i < c.time ? -1 : (v.i > c.time ? 1 : 0);
    } else if (c.has_number && (v.kind == Kind::kInt || v.kind == Kind::kDouble)) {
        const double a = v.kind == Kind::kInt ? static_cast<double>(v.i) : v.d;
        cmp = a < c.number ? -1 : (a > c.number ? 1 : 0);
    } else {
        return false;
    }
    const std::string& op = c.op;
    if (op == "=") {
        *result = cmp == 0;
    } else if (op == "!=") {
        *result = cmp != 0;
    } else if (op == ">") {
        *result = cmp > 0;
    } else if (op == ">=") {
        *result = cmp >= 0;
    } else if (op == "<") {
        *result = cmp < 0;
    } else if (op == "<=") {
        *result = cmp <= 0;
    } else if (op == "@") {
        *result = cmp == 0;
    } else if (op == "!@") {
        *result = cmp != 0;
    } else {
        return false;
    }
    return true;
}

bool MatchCondition(const Value& v, const std::string& op, const json& operand, int tz) {
    if (operand.is_array() || operand.is_object()) {
        std::vector<json> elements;
        for (const auto& e : operand) {
            elements.push_back(e);
        }
        const bool negative = op == "!=" || op == "!@" || op == "!%";
        const std::string base =
            op == "@" || op == "!@" || op == "!=" ? "=" : (op == "!%" ? "%" : op);
        bool any = false;
        for (const auto& e : elements) {
            if (MatchScalar(v, base, e, tz)) {
                any = true;
                break;
            }
        }
        return negative ? !any : any;
    }
    if (op == "@") {
        return MatchScalar(v, "=", operand, tz);
    }
    if (op == "!@") {
        return !MatchScalar(v, "=", operand, tz);
    }
    return MatchScalar(v, op, operand, tz);
}

int CompareValues(const Value& a, const Value& b) {
    if (a.null || b.null) {
        return a.null == b.null ? 0 : (a.null ? -1 : 1);
    }
    switch (a.kind) {
        case Kind::kString: {
            const std::string x = ToLower(a.s), y = ToLower(b.s);
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        case Kind::kDouble:
            return a.d < b.d ? -1 : (a.d > b.d ? 1 : 0);
        case Kind::kIntList: {
            const int64_t x = a.list.empty() ? 0 : a.list[0];
            const int64_t y = b.list.empty() ? 0 : b.list[0];
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        case Kind::kJson:
            return 0;
        default:
            return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
    }
}

json RenderValue(Value&& v, const Dialect& d) {
    if (v.null) {
        if (v.kind == Kind::kIntList || v.kind == Kind::kJson) {
            return json::array();
        }
        return nullptr;
    }
    switch (v.kind) {
        case Kind::kInt:
            return d.legacy ? json(std::to_string(v.i)) : json(v.i);
        case Kind::kDouble:
            return d.legacy ? json(MoneyText(v.d)) : json(v.d);
        case Kind::kString:
            return std::move(v.s);
        case Kind::kTime:
        case Kind::kDate:
            return FormatIso(v.i, d.tz_minutes);
        case Kind::kYN:
            return v.i ? "Y" : "N";
        case Kind::kIntList: {
            json arr = json::array();
            for (int64_t e : v.list) {
                arr.push_back(d.legacy ? json(std::to_string(e)) : json(e));
            }
            return arr;
        }
        case Kind::kJson:
            return std::move(v.j);
    }
    return nullptr;
}

ListRequest ReadListRequest(const json& params) {
    ListRequest req;
    auto get = [&](const char* upper, const char* lower) -> const json* {
        if (params.contains(lower)) {
            return &params[lower];
        }
        if (params.contains(upper)) {
            return &params[upper];
        }
        return nullptr;
    };
    if (const json* f = get("FILTER", "filter"); f && f->is_object()) {
        req.filter = *f;
    }
    if (const json* o = get("ORDER", "order"); o && o->is_object()) {
        req.order = *o;
    }
    if (const json* s = get("SELECT", "select")) {
        req.select = *s;
    }
    if (const json* st = get("START", "start")) {
        req.start = IntVal(*st);
        if (req.start < 0) {
            req.start = -1;
        }
    }
    return req;
}

std::vector<std::string> NormalizeUfWrite(const UserField& field, const json& value, int tz) {
    std::vector<json> inputs;
    if (value.is_array() || value.is_object()) {
        for (const auto& e : value) {
            inputs.push_back(e);
            if (!field.multiple) {
                break;
            }
        }
    } else {
        inputs.push_back(value);
    }
    std::vector<std::string> out;
    for (const auto& in : inputs) {
        if (in.is_null() || (in.is_string() && in.get<std::string>().empty())) {
            continue;
        }
        const std::string& type = field.user_type_id;
        if (type == "integer") {
            out.push_back(std::to_string(IntVal(in)));
        } else if (type == "double") {
            out.push_back(StrVal(json(FloatVal(in))));
        } else if (type == "boolean") {
            out.push_back(TruthyYN(in) ? "1" : "0");
        } else if (type == "date" || type == "datetime") {
            auto t = ParseTime(StrVal(in), tz);
            if (!t) {
                continue;  // an unreadable date clears the value
            }
            out.push_back(std::to_string(type == "date" ? StartOfDay(*t, tz) : *t));
        } else if (type == "enumeration") {
            const int64_t id = IntVal(in);
            bool known = false;
            for (const auto& item : field.list) {
                known = known || item.id == id;
            }
            if (known) {
                out.push_back(std::to_string(id));
            }
        } else {
            out.push_back(StrVal(in));
        }
    }
    return out;
}

Value UfFieldValue(const UserField& field, const UfValues& values, bool legacy) {
    const std::vector<std::string>* stored = nullptr;
    for (const auto& slot : values) {
        if (slot.field_id == field.id) {
            stored = &slot.values;
            break;
        }
    }
    const std::string& type = field.user_type_id;
    if (field.multiple) {
        if (type == "integer" || type == "enumeration") {
            std::vector<int64_t> list;
            if (stored) {
                for (const auto& s : *stored) {
                    list.push_back(std::stoll(s));
                }
            }
            return Value::List(std::move(list));
        }
        json arr = json::array();
        if (stored) {
            for (const auto& s : *stored) {
                arr.push_back(s);
            }
        }
        return Value::Json(std::move(arr));
    }
    if (type == "integer" || type == "enumeration") {
        return stored ? Value::Int(std::stoll(stored->front())) : Value::Null(Kind::kInt);
    }
    if (type == "double") {
        return stored ? Value::Double(std::stod(stored->front())) : Value::Null(Kind::kDouble);
    }
    if (type == "boolean") {
        if (!stored) {
            return Value::Null(legacy ? Kind::kString : Kind::kYN);
        }
        const bool b = stored->front() == "1";
        return legacy ? Value::Str(b ? "1" : "0") : Value::YN(b);
    }
    if (type == "date") {
        return stored ? Value::Date(std::stoll(stored->front())) : Value::Null(Kind::kDate);
    }
    if (type == "datetime") {
        return stored ? Value::Time(std::stoll(stored->front())) : Value::Null(Kind::kTime);
    }
    return stored ? Value::Str(stored->front()) : Value::Null(Kind::kString);
}

}  // namespace fakeportal::detail
