#pragma once
// The list engine: field descriptors per entity, filters (operators, PHP-like lenient
// comparison, OR groups), select, order, 50-row pages, and rendering in the legacy form (numbers
// as strings, UPPER_CASE names) or the crm.item form (real numbers, camelCase names).
#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakeportal/crm.hpp"
#include "util.hpp"

namespace fakeportal::detail {

enum class Kind { kInt, kDouble, kString, kTime, kDate, kYN, kIntList, kJson };

/// A field value of one row, as the filter and the renderer see it.
struct Value {
    Kind kind = Kind::kString;
    bool null = false;
    int64_t i = 0;
    double d = 0;
    std::string s;
    std::vector<int64_t> list;
    json j;

    static Value Int(int64_t v) { return Value{Kind::kInt, false, v, 0, {}, {}, {}}; }
    static Value OptInt(int64_t v) {  // 0 means "not set" (null)
        Value out = Int(v);
        out.null = v == 0;
        return out;
    }
    static Value Double(double v) { return Value{Kind::kDouble, false, 0, v, {}, {}, {}}; }
    static Value Str(std::string v) {
        return Value{Kind::kString, false, 0, 0, std::move(v), {}, {}};
    }
    static Value Time(int64_t t) { return Value{Kind::kTime, t == 0, t, 0, {}, {}, {}}; }
    static Value OptTime(const std::optional<int64_t>& t) {
        return t ? Time(*t) : Value{Kind::kTime, true, 0, 0, {}, {}, {}};
    }
    static Value Date(int64_t t) { return Value{Kind::kDate, t == 0, t, 0, {}, {}, {}}; }
    static Value YN(bool b) { return Value{Kind::kYN, false, b ? 1 : 0, 0, {}, {}, {}}; }
    static Value List(std::vector<int64_t> v) {
        return Value{Kind::kIntList, false, 0, 0, {}, std::move(v), {}};
    }
    static Value Json(json v) {
        return Value{Kind::kJson, v.is_null(), 0, 0, {}, {}, std::move(v)};
    }
    static Value Null(Kind k) { return Value{k, true, 0, 0, {}, {}, {}}; }
};

/// How a row is rendered and how names are matched.
struct Dialect {
    bool legacy = true;        // UPPER names, numbers as strings
    bool original_uf = false;  // crm.item.* with useOriginalUfNames=Y
    int tz_minutes = 180;
};

template <class T>
struct FieldDef {
    std::string upper;  // legacy name ("" = not available in legacy methods)
    std::string camel;  // crm.item name ("" = not available in crm.item.*)
    Kind kind = Kind::kString;
    std::function<Value(const T&, const CrmData&)> get;
    bool in_star = true;         // returned for "*" / default select
    bool explicit_only = false;  // legacy multifields: only when named in select
    bool is_uf = false;
    bool filterable = true;
};

/// The static (non-UF) fields of an entity type; defined in fields.cpp.
template <class T>
const std::vector<FieldDef<T>>& StaticFields();
template <>
const std::vector<FieldDef<Contact>>& StaticFields<Contact>();
template <>
const std::vector<FieldDef<Company>>& StaticFields<Company>();
template <>
const std::vector<FieldDef<Deal>>& StaticFields<Deal>();
template <>
const std::vector<FieldDef<SmartInvoice>>& StaticFields<SmartInvoice>();
template <>
const std::vector<FieldDef<OldInvoice>>& StaticFields<OldInvoice>();
template <>
const std::vector<FieldDef<Activity>>& StaticFields<Activity>();
template <>
const std::vector<FieldDef<Requisite>>& StaticFields<Requisite>();

/// Static fields plus one descriptor per user field of `uf_entity` (CRM_CONTACT, …).
/// `legacy` picks how UF booleans read ("1"/"0" in legacy methods, "Y"/"N" in crm.item.*).
template <class T>
std::vector<FieldDef<T>> FieldsFor(const CrmData& data, const std::string& uf_entity, bool legacy);

/// Renders a Value in the given dialect.
json RenderValue(Value&& v, const Dialect& dialect);

/// Name of a field in the dialect (camel for items, or UPPER when original_uf and is_uf).
template <class T>
const std::string& NameOf(const FieldDef<T>& f, const Dialect& d) {
    if (d.legacy || (f.is_uf && d.original_uf)) {
        return f.upper;
    }
    return f.camel;
}

/// Index of the field named `name` (legacy: case-insensitive UPPER names; item: camelCase or
/// UPPER_CASE, both exact), or -1.
template <class T>
int FindField(const std::vector<FieldDef<T>>& defs, const std::string& name, const Dialect& d) {
    for (size_t i = 0; i < defs.size(); ++i) {
        const auto& f = defs[i];
        if (d.legacy) {
            if (!f.upper.empty() && IEquals(f.upper, name)) {
                return static_cast<int>(i);
            }
        } else if ((!f.camel.empty() && f.camel == name) || (!f.upper.empty() && f.upper == name)) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

// ---- filters -------------------------------------------------------------------------------

struct Condition {
    std::string op;  // "=", "!=", ">", ">=", "<", "<=", "@", "!@", "%", "!%", "=%", "%=", "!=%"
    int field = -1;
    json value;
    // The operand read once for the field's kind (a filter is matched against many rows).
    bool has_time = false;  // time/date fields: the operand as an instant
    int64_t time = 0;
    bool has_number = false;  // numeric fields: the operand as a number
    double number = 0;
};

/// Reads a scalar operand once for a field of this kind (same rules as MatchCondition).
void PrepareCondition(Condition& c, Kind kind, int tz_minutes);
/// Compares without re-reading the operand when possible; false when the slow path is needed.
bool FastMatch(const Condition& c, const Value& v, bool* result);

struct FilterNode {
    bool is_or = false;
    std::vector<Condition> conditions;
    std::vector<FilterNode> children;
};

/// Thrown for a filter/order/select that the method rejects.
struct QueryError {
    std::string code;  // "" for legacy methods, INVALID_ARG_VALUE for crm.item.list
    std::string description;
};

/// Splits a filter key into operator and field name ("!>=X" is not a thing; longest prefix wins).
std::pair<std::string, std::string> SplitFilterKey(const std::string& key);

/// Compares a row value with a filter operand; see README "Filters" for the PHP-like rules.
bool MatchCondition(const Value& v, const std::string& op, const json& operand, int tz_minutes);

template <class T>
FilterNode ParseFilter(const json& filter,
                       const std::vector<FieldDef<T>>& defs,
                       const Dialect& d,
                       const std::vector<std::string>& special_keys,
                       bool allow_or) {
    FilterNode node;
    if (!filter.is_object()) {
        return node;  // arrays/scalars: an empty filter, as PHP sees a non-array
    }
    for (auto it = filter.begin(); it != filter.end(); ++it) {
        const std::string& key = it.key();
        if (IEquals(key, "logic")) {
            if (allow_or) {
                node.is_or = IEquals(StrVal(*it), "OR");
            }
            continue;
        }
        if (std::find(special_keys.begin(), special_keys.end(), ToUpper(key)) !=
            special_keys.end()) {
            continue;
        }
        if (allow_or && (it->is_object() || it->is_array()) && IsIntegerText(key)) {
            json sub = *it;
            if (sub.is_array()) {  // [ {..}, {..} ] inside a numbered key is unusual; treat as AND
                json obj = json::object();
                for (size_t i = 0; i < sub.size(); ++i) {
                    obj[std::to_string(i)] = sub[i];
                }
                sub = obj;
            }
            node.children.push_back(ParseFilter(sub, defs, d, special_keys, allow_or));
            continue;
        }
        auto [op, name] = SplitFilterKey(key);
        const int idx = FindField(defs, name, d);
        if (idx < 0 || !defs[static_cast<size_t>(idx)].filterable) {
            throw QueryError{d.legacy ? "" : "INVALID_ARG_VALUE",
                             "Filter field \"" + name + "\" is not allowed"};
        }
        Condition cond;
        cond.op = op;
        cond.field = idx;
        cond.value = *it;
        PrepareCondition(cond, defs[static_cast<size_t>(idx)].kind, d.tz_minutes);
        node.conditions.push_back(std::move(cond));
    }
    return node;
}

template <class T>
bool MatchNode(const FilterNode& node,
               const T& row,
               const std::vector<FieldDef<T>>& defs,
               const CrmData& data,
               int tz) {
    auto match = [&](const Condition& c) {
        const Value v = defs[static_cast<size_t>(c.field)].get(row, data);
        bool result = false;
        if (FastMatch(c, v, &result)) {
            return result;
        }
        return MatchCondition(v, c.op, c.value, tz);
    };
    if (node.is_or) {
        for (const auto& c : node.conditions) {
            if (match(c)) {
                return true;
            }
        }
        for (const auto& child : node.children) {
            if (MatchNode(child, row, defs, data, tz)) {
                return true;
            }
        }
        return node.conditions.empty() && node.children.empty();
    }
    for (const auto& c : node.conditions) {
        if (!match(c)) {
            return false;
        }
    }
    for (const auto& child : node.children) {
        if (!MatchNode(child, row, defs, data, tz)) {
            return false;
        }
    }
    return true;
}

// ---- order ---------------------------------------------------------------------------------

struct OrderKey {
    int field = -1;
    bool desc = false;
};

int CompareValues(const Value& a, const Value& b);

template <class T>
std::vector<OrderKey> ParseOrder(const json& order,
                                 const std::vector<FieldDef<T>>& defs,
                                 const Dialect& d) {
    std::vector<OrderKey> keys;
    if (!order.is_object()) {
        return keys;
    }
    for (auto it = order.begin(); it != order.end(); ++it) {
        const int idx = FindField(defs, it.key(), d);
        if (idx < 0) {
            if (d.legacy) {
                continue;  // legacy methods ignore unknown order fields
            }
            throw QueryError{"INVALID_ARG_VALUE",
                             "Order field \"" + it.key() + "\" is not allowed"};
        }
        keys.push_back(OrderKey{idx, IEquals(StrVal(*it), "DESC")});
    }
    return keys;
}

// ---- select --------------------------------------------------------------------------------

struct Selection {
    std::vector<int> fields;  // in output order
};

template <class T>
Selection ParseSelect(const json& select, const std::vector<FieldDef<T>>& defs, const Dialect& d) {
    Selection out;
    std::vector<bool> taken(defs.size(), false);
    auto take = [&](size_t i) {
        if (!taken[i]) {
            taken[i] = true;
            out.fields.push_back(static_cast<int>(i));
        }
    };
    std::vector<std::string> names;
    if (select.is_array()) {
        for (const auto& s : select) {
            names.push_back(StrVal(s));
        }
    } else if (select.is_object()) {
        for (const auto& [k, v] : select.items()) {
            names.push_back(StrVal(v));
        }
    } else if (select.is_string() && !select.get<std::string>().empty()) {
        names.push_back(select.get<std::string>());
    }
    if (!d.legacy) {
        take(0);  // crm.item.* always returns the id
    }
    if (names.empty()) {
        names = d.legacy ? std::vector<std::string>{"*", "UF_*"} : std::vector<std::string>{"*"};
    }
    for (const auto& name : names) {
        if (name == "*") {
            for (size_t i = 0; i < defs.size(); ++i) {
                if (defs[i].in_star && !defs[i].explicit_only && (!defs[i].is_uf || !d.legacy) &&
                    !NameOf(defs[i], d).empty()) {
                    take(i);
                }
            }
        } else if (IEquals(name, "UF_*") || name == "ufCrm*" || IEquals(name, "UF_CRM_*")) {
            for (size_t i = 0; i < defs.size(); ++i) {
                if (defs[i].is_uf) {
                    take(i);
                }
            }
        } else {
            const int idx = FindField(defs, name, d);
            if (idx >= 0 && !NameOf(defs[static_cast<size_t>(idx)], d).empty() &&
                !(d.legacy == false && defs[static_cast<size_t>(idx)].camel == "fm")) {
                take(static_cast<size_t>(idx));
            }
        }
    }
    return out;
}

template <class T>
json RenderRow(const T& row,
               const std::vector<FieldDef<T>>& defs,
               const Selection& sel,
               const CrmData& data,
               const Dialect& d) {
    json out = json::object();
    for (int idx : sel.fields) {
        const auto& f = defs[static_cast<size_t>(idx)];
        const std::string& name = NameOf(f, d);
        Value v = f.get(row, data);
        if (d.legacy && f.explicit_only && (v.null || (v.kind == Kind::kJson && v.j.empty()))) {
            continue;  // multifields appear only when they have values
        }
        out[name] = RenderValue(std::move(v), d);
    }
    return out;
}

// ---- the list itself ---------------------------------------------------------------------------

struct ListRequest {
    json filter = json::object();
    json order = json::object();
    json select = json::array();
    int64_t start = 0;  // -1: no count
};

ListRequest ReadListRequest(const json& params);

template <class T>
struct ListResult {
    std::vector<const T*> rows;  // page rows (may contain duplicates, see multiplicity)
    int64_t total = 0;           // 0 when start = -1
    std::optional<int64_t> next;
    int64_t table_size = 0;  // rows in the table (for the COUNT cost)
};

/// Runs filter + visibility + order + paging over a table.
/// multiplicity(row) returns how many times a row matches (0 = no match; >1 for the activity
/// BINDINGS filter, which joins); pass nullptr for 1.
template <class T>
ListResult<T> RunList(const Table<T>& table,
                      const std::vector<FieldDef<T>>& defs,
                      const FilterNode& filter,
                      const std::vector<OrderKey>& order_in,
                      int64_t start,
                      const CrmData& data,
                      int tz,
                      const std::function<bool(const T&)>& visible,
                      const std::function<int(const T&)>& multiplicity,
                      size_t page_size = 50) {
    ListResult<T> out;
    out.table_size = static_cast<int64_t>(table.rows.size());
    const bool counted = start >= 0;
    const int64_t offset = counted ? start : 0;
    std::vector<OrderKey> order = order_in;
    const int id_field = 0;  // every table lists ID first
    const bool by_id = order.empty() || (order.size() == 1 && order[0].field == id_field);
    const bool desc = !order.empty() && order[0].desc;

    auto count_of = [&](const T& row) -> int {
        if (!MatchNode(filter, row, defs, data, tz) || (visible && !visible(row))) {
            return 0;
        }
        return multiplicity ? multiplicity(row) : 1;
    };

    if (by_id) {
        // Rows are stored by id: walk in order, no sort needed. For a top-level >ID / <ID bound
        // start the walk at the bound (keyset paging stays O(page)).
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        if (!filter.is_or) {
            for (const auto& c : filter.conditions) {
                if (c.field != id_field || c.value.is_array() || c.value.is_object()) {
                    continue;
                }
                const int64_t v = IntVal(c.value);
                if (c.op == ">") {
                    lo = std::max(lo, v + 1);
                } else if (c.op == ">=") {
                    lo = std::max(lo, v);
                } else if (c.op == "<") {
                    hi = std::min(hi, v - 1);
                } else if (c.op == "<=") {
                    hi = std::min(hi, v);
                }
            }
        }
        const auto& rows = table.rows;
        auto first = std::lower_bound(rows.begin(), rows.end(), lo,
                                      [](const T& r, int64_t id) { return r.id < id; });
        auto last = std::upper_bound(rows.begin(), rows.end(), hi,
                                     [](int64_t id, const T& r) { return id < r.id; });
        if (first > last) {
            first = last;
        }
        int64_t matched = 0;
        auto visit = [&](const T& row) -> bool {  // false = stop
            const int n = count_of(row);
            for (int k = 0; k < n; ++k) {
                if (matched >= offset && out.rows.size() < page_size) {
                    out.rows.push_back(&row);
                }
                ++matched;
            }
            // Without a count, stop as soon as the page is full.
            return counted || out.rows.size() < page_size;
        };
        if (!desc) {
            for (auto it = first; it != last; ++it) {
                if (!visit(*it)) {
                    break;
                }
            }
        } else {
            for (auto it = last; it != first;) {
                --it;
                if (!visit(*it)) {
                    break;
                }
            }
        }
        if (counted) {
            out.total = matched;
            if (offset + static_cast<int64_t>(page_size) < matched) {
                out.next = offset + static_cast<int64_t>(page_size);
            }
        }
        return out;
    }

    // General order: collect all matches, sort, slice.
    struct Item {
        const T* row;
        std::vector<Value> keys;
    };
    std::vector<Item> items;
    for (const auto& row : table.rows) {
        const int n = count_of(row);
        if (n == 0) {
            continue;
        }
        Item item{&row, {}};
        for (const auto& k : order) {
            item.keys.push_back(defs[static_cast<size_t>(k.field)].get(row, data));
        }
        for (int k = 0; k < n; ++k) {
            items.push_back(item);
        }
    }
    std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
        for (size_t i = 0; i < order.size(); ++i) {
            const int c = CompareValues(a.keys[i], b.keys[i]);
            if (c != 0) {
                return order[i].desc ? c > 0 : c < 0;
            }
        }
        return a.row->id < b.row->id;
    });
    const auto total = static_cast<int64_t>(items.size());
    for (int64_t i = offset; i < total && out.rows.size() < page_size; ++i) {
        out.rows.push_back(items[static_cast<size_t>(i)].row);
    }
    if (counted) {
        out.total = total;
        if (offset + static_cast<int64_t>(page_size) < total) {
            out.next = offset + static_cast<int64_t>(page_size);
        }
    }
    return out;
}

// ---- user-field values -------------------------------------------------------------------------

/// Canonical stored form of a value written to a UF (see UfValue). Empty = clear.
std::vector<std::string> NormalizeUfWrite(const UserField& field, const json& value, int tz);
/// Value of a UF on a row for filters and rendering.
Value UfFieldValue(const UserField& field, const UfValues& values, bool legacy);

template <class T>
void SetUf(T& row, int64_t field_id, std::vector<std::string> values) {
    for (auto it = row.uf.begin(); it != row.uf.end(); ++it) {
        if (it->field_id == field_id) {
            if (values.empty()) {
                row.uf.erase(it);
            } else {
                it->values = std::move(values);
            }
            return;
        }
    }
    if (!values.empty()) {
        row.uf.push_back(UfValue{field_id, std::move(values)});
    }
}

}  // namespace fakeportal::detail
