// CRM REST methods: legacy crm.{contact,company,deal}.list/get/update/add, crm.item.*,
// crm.invoice.list/get, crm.activity.*, crm.requisite.list, link methods, directories and user
// fields.
#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "entity_traits.hpp"
#include "portal_impl.hpp"
#include "query.hpp"

namespace fakeportal {

using namespace detail;
using Impl = Portal::Impl;

namespace {

int64_t IdParam(const json& params) {
    const json* id = Param(params, "id", "ID");
    return id ? IntVal(*id) : 0;
}

MutationContext CtxOf(const Call& c) {
    MutationContext ctx;
    ctx.user_id = c.user.id;
    if (c.params.contains("auth_connector")) {
        ctx.auth_connector = StrVal(c.params["auth_connector"]);
    }
    return ctx;
}

template <class T>
bool CanReadRow(const Impl& p, const User& u, const T& row) {
    if (u.admin || u.crm_read == CrmRead::kAll) {
        return true;
    }
    if constexpr (std::is_same_v<T, Requisite>) {
        if (row.entity_type_id == kContact) {
            const Contact* c = p.crm.contacts.Find(row.entity_id);
            return c && c->assigned_by_id == u.id;
        }
        const Company* c = p.crm.companies.Find(row.entity_id);
        return c && c->assigned_by_id == u.id;
    } else if constexpr (std::is_same_v<T, Activity>) {
        if (row.responsible_id == u.id) {
            return true;
        }
        if (row.owner_type_id == kContact) {
            const Contact* c = p.crm.contacts.Find(row.owner_id);
            return c && c->assigned_by_id == u.id;
        }
        if (row.owner_type_id == kCompany) {
            const Company* c = p.crm.companies.Find(row.owner_id);
            return c && c->assigned_by_id == u.id;
        }
        if (row.owner_type_id == kDeal) {
            const Deal* d = p.crm.deals.Find(row.owner_id);
            return d && d->assigned_by_id == u.id;
        }
        return false;
    } else {
        return Traits<T>::Owner(row) == u.id;
    }
}

bool CanReadEntity(const Impl& p, const User& u, int type, int64_t id) {
    switch (type) {
        case kContact: {
            const Contact* r = p.crm.contacts.Find(id);
            return r && CanReadRow(p, u, *r);
        }
        case kCompany: {
            const Company* r = p.crm.companies.Find(id);
            return r && CanReadRow(p, u, *r);
        }
        case kDeal: {
            const Deal* r = p.crm.deals.Find(id);
            return r && CanReadRow(p, u, *r);
        }
        case kSmartInvoice: {
            const SmartInvoice* r = p.crm.invoices.Find(id);
            return r && CanReadRow(p, u, *r);
        }
        default:
            return u.admin || u.crm_read == CrmRead::kAll;
    }
}

Dialect MakeDialect(const Impl& p, bool legacy, const json& params) {
    Dialect d;
    d.legacy = legacy;
    d.tz_minutes = p.options.tz_offset_minutes;
    if (!legacy) {
        const json* o = Param(params, "useOriginalUfNames", "USE_ORIGINAL_UF_NAMES");
        d.original_uf = o && TruthyYN(*o);
    }
    return d;
}

double ListCost(const CostModel& m, int64_t rows, bool counted, int64_t table_size) {
    double cost = m.list_base + m.list_per_row * static_cast<double>(rows);
    if (counted) {
        cost += m.count_base + m.count_per_row * static_cast<double>(table_size);
    }
    return cost;
}

/// Shared list implementation (caller holds the shared lock).
template <class T>
json DoList(Impl& p,
            Call& c,
            bool legacy,
            const std::function<int(const T&)>& multiplicity = {},
            const std::vector<std::string>& special_keys = {},
            const json& default_order = json::object()) {
    const Table<T>& table = Traits<T>::Of(p.crm);
    const Dialect d = MakeDialect(p, legacy, c.params);
    const auto defs = FieldsFor<T>(p.crm, Traits<T>::kUf, legacy);
    const ListRequest req = ReadListRequest(c.params);
    FilterNode filter;
    std::vector<OrderKey> order;
    Selection sel;
    try {
        filter = ParseFilter(req.filter, defs, d, special_keys, !legacy);
        order = ParseOrder(req.order.empty() ? default_order : req.order, defs, d);
        sel = ParseSelect(req.select, defs, d);
    } catch (const QueryError& e) {
        Fail(400, e.code, e.description);
    }
    std::function<bool(const T&)> visible;
    if (!c.user.admin && c.user.crm_read != CrmRead::kAll) {
        visible = [&p, &c](const T& row) { return CanReadRow(p, c.user, row); };
    }
    const auto res =
        RunList(table, defs, filter, order, req.start, p.crm, p.tz(), visible, multiplicity);
    json rows = json::array();
    for (const T* row : res.rows) {
        rows.push_back(RenderRow(*row, defs, sel, p.crm, d));
    }
    c.rows = static_cast<int64_t>(rows.size());
    c.total = res.total;
    c.next = res.next;
    c.cost = ListCost(p.Costs(), c.rows, req.start >= 0, res.table_size);
    if (legacy) {
        return rows;
    }
    json out = json::object();  // not an initializer list: that would copy every row
    out["items"] = std::move(rows);
    return out;
}

/// The row rendered with every field (get methods).
template <class T>
json RenderFull(const Impl& p, const T& row, bool legacy, const json& params) {
    const Dialect d = MakeDialect(p, legacy, params);
    const auto defs = FieldsFor<T>(p.crm, Traits<T>::kUf, legacy);
    json select = legacy ? json::array({"*", "UF_*"}) : json::array({"*"});
    if (legacy) {
        for (const char* m : {"PHONE", "EMAIL", "WEB", "IM", "LINK", "COMMUNICATIONS"}) {
            select.push_back(m);
        }
    }
    return RenderRow(row, defs, ParseSelect(select, defs, d), p.crm, d);
}

// ---- writing fields -------------------------------------------------------------------------

void ApplyMultifields(std::vector<Multifield>& fm,
                      const std::string& type,
                      const json& value,
                      CrmData& crm,
                      bool item_form) {
    if (!value.is_array() && !value.is_object()) {
        return;
    }
    for (const auto& e : value) {
        if (!e.is_object()) {
            continue;
        }
        auto get = [&](const char* upper, const char* camel) -> std::string {
            if (e.contains(upper)) {
                return StrVal(e[upper]);
            }
            if (e.contains(camel)) {
                return StrVal(e[camel]);
            }
            return "";
        };
        const std::string mtype = type.empty() ? ToUpper(get("TYPE_ID", "typeId")) : type;
        const std::string val = get("VALUE", "value");
        const std::string vtype = get("VALUE_TYPE", "valueType");
        const int64_t id = item_form ? 0 : IntVal(json(get("ID", "id")));
        if (id > 0) {
            auto it =
                std::find_if(fm.begin(), fm.end(), [&](const Multifield& m) { return m.id == id; });
            if (it == fm.end()) {
                continue;
            }
            if (val.empty() || TruthyYN(json(get("DELETE", "delete")))) {
                fm.erase(it);
            } else {
                it->value = val;
                if (!vtype.empty()) {
                    it->value_type = vtype;
                }
            }
            continue;
        }
        if (val.empty() || mtype.empty()) {
            continue;
        }
        fm.push_back(
            Multifield{crm.next_multifield_id++, mtype, vtype.empty() ? "WORK" : vtype, val});
    }
}

std::vector<int64_t> IdList(const json& v) {
    std::vector<int64_t> out;
    if (v.is_array() || v.is_object()) {
        for (const auto& e : v) {
            const int64_t id = IntVal(e);
            if (id > 0 && std::find(out.begin(), out.end(), id) == out.end()) {
                out.push_back(id);
            }
        }
    } else if (IntVal(v) > 0) {
        out.push_back(IntVal(v));
    }
    return out;
}

template <class T>
bool ApplyUf(T& row, const std::string& key, const json& value, const CrmData& crm, int tz) {
    if constexpr (requires(T t) { t.uf; }) {
        if (key.rfind("UF_", 0) != 0) {
            return false;
        }
        const UserField* f = crm.FindUserField(Traits<T>::kUf, key);
        if (f) {
            SetUf(row, f->id, NormalizeUfWrite(*f, value, tz));
        }
        return true;
    }
    return false;
}

// Applies one UPPER_CASE field. Unknown and read-only fields are ignored, like the platform.
void Apply(Contact& r, const std::string& k, const json& v, CrmData& crm, int tz, const Call&) {
    if (k == "NAME") {
        r.name = StrVal(v);
    } else if (k == "LAST_NAME") {
        r.last_name = StrVal(v);
    } else if (k == "SECOND_NAME") {
        r.second_name = StrVal(v);
    } else if (k == "POST") {
        r.post = StrVal(v);
    } else if (k == "TYPE_ID") {
        r.type_id = StrVal(v);
    } else if (k == "SOURCE_ID") {
        r.source_id = StrVal(v);
    } else if (k == "ASSIGNED_BY_ID") {
        r.assigned_by_id = IntVal(v);
    } else if (k == "OPENED") {
        r.opened = TruthyYN(v);
    } else if (k == "EXPORT") {
        r.export_allowed = TruthyYN(v);
    } else if (k == "BIRTHDATE") {
        auto t = ParseTime(StrVal(v), tz);
        r.birthdate = t ? std::optional<Time>(StartOfDay(*t, tz)) : std::nullopt;
    } else if (k == "COMPANY_ID") {
        const int64_t id = IntVal(v);
        auto& ids = r.company_ids;
        ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
        if (id > 0) {
            ids.insert(ids.begin(), id);
        } else if (!ids.empty()) {
            ids.erase(ids.begin());
        }
    } else if (k == "COMPANY_IDS") {
        r.company_ids = IdList(v);
    } else if (k == "PHONE" || k == "EMAIL" || k == "WEB" || k == "IM" || k == "LINK") {
        ApplyMultifields(r.fm, k, v, crm, false);
    } else if (k == "FM") {
        ApplyMultifields(r.fm, "", v, crm, true);
    } else {
        ApplyUf(r, k, v, crm, tz);
    }
}

void Apply(Company& r, const std::string& k, const json& v, CrmData& crm, int tz, const Call&) {
    if (k == "TITLE") {
        r.title = StrVal(v);
    } else if (k == "COMPANY_TYPE") {
        r.company_type = StrVal(v);
    } else if (k == "INDUSTRY") {
        r.industry = StrVal(v);
    } else if (k == "EMPLOYEES") {
        r.employees = StrVal(v);
    } else if (k == "REVENUE") {
        r.revenue = FloatVal(v);
    } else if (k == "CURRENCY_ID") {
        r.currency_id = StrVal(v);
    } else if (k == "ASSIGNED_BY_ID") {
        r.assigned_by_id = IntVal(v);
    } else if (k == "OPENED") {
        r.opened = TruthyYN(v);
    } else if (k == "PHONE" || k == "EMAIL" || k == "WEB" || k == "IM" || k == "LINK") {
        ApplyMultifields(r.fm, k, v, crm, false);
    } else if (k == "FM") {
        ApplyMultifields(r.fm, "", v, crm, true);
    } else {
        ApplyUf(r, k, v, crm, tz);
    }
}

void Apply(Deal& r, const std::string& k, const json& v, CrmData& crm, int tz, const Call&) {
    if (k == "TITLE") {
        r.title = StrVal(v);
    } else if (k == "STAGE_ID") {
        r.stage_id = StrVal(v);  // moved time: see Stamp()
    } else if (k == "CATEGORY_ID") {
        r.category_id = IntVal(v);
    } else if (k == "OPPORTUNITY") {
        r.opportunity = FloatVal(v);
    } else if (k == "CURRENCY_ID") {
        r.currency_id = StrVal(v);
    } else if (k == "COMPANY_ID") {
        r.company_id = IntVal(v);
    } else if (k == "CONTACT_ID") {
        const int64_t id = IntVal(v);
        auto& ids = r.contact_ids;
        ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
        if (id > 0) {
            ids.insert(ids.begin(), id);
        }
    } else if (k == "CONTACT_IDS") {
        r.contact_ids = IdList(v);
    } else if (k == "ASSIGNED_BY_ID") {
        r.assigned_by_id = IntVal(v);
    } else if (k == "TYPE_ID") {
        r.type_id = StrVal(v);
    } else if (k == "SOURCE_ID") {
        r.source_id = StrVal(v);
    } else if (k == "OPENED") {
        r.opened = TruthyYN(v);
    } else if (k == "BEGINDATE" || k == "CLOSEDATE") {
        auto t = ParseTime(StrVal(v), tz);
        (k == "BEGINDATE" ? r.begindate : r.closedate) = t ? StartOfDay(*t, tz) : 0;
    } else {
        ApplyUf(r, k, v, crm, tz);
    }
}

void Apply(
    SmartInvoice& r, const std::string& k, const json& v, CrmData& crm, int tz, const Call&) {
    if (k == "TITLE") {
        r.title = StrVal(v);
    } else if (k == "ACCOUNT_NUMBER") {
        r.account_number = StrVal(v);
    } else if (k == "STAGE_ID") {
        r.stage_id = StrVal(v);
    } else if (k == "CATEGORY_ID") {
        r.category_id = IntVal(v);
    } else if (k == "OPPORTUNITY") {
        r.opportunity = FloatVal(v);
    } else if (k == "CURRENCY_ID") {
        r.currency_id = StrVal(v);
    } else if (k == "COMPANY_ID") {
        r.company_id = IntVal(v);
    } else if (k == "CONTACT_ID") {
        const int64_t id = IntVal(v);
        auto& ids = r.contact_ids;
        ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
        if (id > 0) {
            ids.insert(ids.begin(), id);
        }
    } else if (k == "CONTACT_IDS") {
        r.contact_ids = IdList(v);
    } else if (k == "PARENT_ID_2") {
        r.parent_id2 = IntVal(v);
    } else if (k == "MYCOMPANY_ID") {
        r.mycompany_id = IntVal(v);
    } else if (k == "ASSIGNED_BY_ID") {
        r.assigned_by_id = IntVal(v);
    } else if (k == "BEGINDATE" || k == "CLOSEDATE") {
        auto t = ParseTime(StrVal(v), tz);
        (k == "BEGINDATE" ? r.begindate : r.closedate) = t ? StartOfDay(*t, tz) : 0;
    } else {
        ApplyUf(r, k, v, crm, tz);
    }
}

/// Maps a crm.item field name (camelCase or UPPER_CASE) to the UPPER_CASE name Apply() knows.
template <class T>
std::string UpperName(const std::vector<FieldDef<T>>& defs, const std::string& name) {
    if (name == "companyIds" || name == "COMPANY_IDS") {
        return "COMPANY_IDS";
    }
    if (name == "contactIds" || name == "CONTACT_IDS") {
        return "CONTACT_IDS";
    }
    if (name == "fm") {
        return "FM";
    }
    if (name == "parentId2") {
        return "PARENT_ID_2";
    }
    if (name == "typeId" && std::is_same_v<T, Company>) {
        return "COMPANY_TYPE";
    }
    for (const auto& f : defs) {
        if ((!f.camel.empty() && f.camel == name) || (!f.upper.empty() && f.upper == name)) {
            return f.upper;
        }
    }
    return ToUpper(name);
}

template <class T>
void ApplyAll(Impl& p, T& row, const json& fields, bool item_form, const Call& c) {
    if (!fields.is_object()) {
        return;
    }
    const auto defs = FieldsFor<T>(p.crm, Traits<T>::kUf, !item_form);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        const std::string key = item_form ? UpperName(defs, it.key()) : ToUpper(it.key());
        Apply(row, key, *it, p.crm, p.tz(), c);
    }
}

void AfterContactChange(Impl& p) {
    p.crm.RebuildCompanyContacts();
}

// Fixes "moved" stamps after Apply (which cannot see the clock) and bumps modification.
template <class T>
void Stamp(Impl& p, T& row, const Call& c, const std::string& stage_before) {
    const Time now = static_cast<Time>(p.Now());
    if constexpr (std::is_same_v<T, Deal> || std::is_same_v<T, SmartInvoice>) {
        if (row.stage_id != stage_before) {
            row.moved_time = now;
            row.moved_by_id = c.user.id;
        }
    }
    Traits<T>::Touched(row, now, c.user.id);
}

template <class T>
std::vector<int64_t> CompanyBindings(const T& row) {
    if constexpr (std::is_same_v<T, Contact>) {
        return row.company_ids;
    } else {
        return {};
    }
}

template <class T>
std::string StageOf(const T& row) {
    if constexpr (std::is_same_v<T, Deal> || std::is_same_v<T, SmartInvoice>) {
        return row.stage_id;
    } else {
        return "";
    }
}

/// Legacy crm.X.update {id, fields, params}.
template <class T>
json DoLegacyUpdate(Impl& p, Call& c) {
    const int64_t id = IdParam(c.params);
    c.cost = p.Costs().update;
    if (id <= 0) {
        Fail(400, "", "ID is not defined or invalid.");
    }
    const json* fields = Param(c.params, "fields", "FIELDS");
    const json f = fields && fields->is_object() ? *fields : json::object();
    std::unique_lock lock(p.data_mu);
    T* row = Traits<T>::Of(p.crm).Find(id);
    if (!row) {
        Fail(400, "", "Not found");
    }
    if (!CanReadRow(p, c.user, *row)) {
        Fail(400, "", "Access denied.");
    }
    const std::string stage = StageOf(*row);
    const std::vector<int64_t> bindings = CompanyBindings(*row);
    ApplyAll(p, *row, f, false, c);
    Stamp(p, *row, c, stage);
    if (CompanyBindings(*row) != bindings) {
        AfterContactChange(p);
    }
    p.RecordWrite(c, Traits<T>::kType, id, f);
    p.FireEventLocked(std::string(Traits<T>::kEvent) + "UPDATE", EventFields<T>(id), CtxOf(c));
    return true;
}

template <class T>
json DoLegacyAdd(Impl& p, Call& c) {
    c.cost = p.Costs().add;
    const json* fields = Param(c.params, "fields", "FIELDS");
    const json f = fields && fields->is_object() ? *fields : json::object();
    std::unique_lock lock(p.data_mu);
    T row;
    if constexpr (requires(T t) { t.assigned_by_id; }) {
        row.assigned_by_id = c.user.id;
    }
    ApplyAll(p, row, f, false, c);
    const Time now = static_cast<Time>(p.Now());
    Traits<T>::Created(row, now, c.user.id);
    const int64_t id = p.crm.Insert(std::move(row));
    p.RecordWrite(c, Traits<T>::kType, id, f);
    p.FireEventLocked(std::string(Traits<T>::kEvent) + "ADD", EventFields<T>(id), CtxOf(c));
    return id;
}

template <class T>
json DoLegacyGet(Impl& p, Call& c) {
    const int64_t id = IdParam(c.params);
    c.cost = p.Costs().get;
    if (id <= 0) {
        Fail(400, "", "ID is not defined or invalid.");
    }
    std::shared_lock lock(p.data_mu);
    const T* row = Traits<T>::Of(p.crm).Find(id);
    if (!row) {
        Fail(400, "", "Not found");
    }
    if (!CanReadRow(p, c.user, *row)) {
        Fail(400, "", "Access denied.");
    }
    return RenderFull(p, *row, true, c.params);
}

// ---- crm.item.* --------------------------------------------------------------------------------

int EntityTypeParam(const Call& c) {
    const json* t = Param(c.params, "entityTypeId", "ENTITY_TYPE_ID");
    const int64_t type = t ? IntVal(*t) : 0;
    if (type == kOldInvoice) {
        Fail(400, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type 5 is not supported");
    }
    if (type != kDeal && type != kContact && type != kCompany && type != kSmartInvoice) {
        Fail(400, "NOT_FOUND", "Smart process not found");
    }
    return static_cast<int>(type);
}

template <class T>
json ItemGet(Impl& p, Call& c) {
    const int64_t id = IdParam(c.params);
    c.cost = p.Costs().get;
    std::shared_lock lock(p.data_mu);
    const T* row = Traits<T>::Of(p.crm).Find(id);
    if (!row) {
        Fail(400, "NOT_FOUND", "Element not found");
    }
    if (!CanReadRow(p, c.user, *row)) {
        Fail(400, "ACCESS_DENIED", "You do not have permission to view this item");
    }
    return json{{"item", RenderFull(p, *row, false, c.params)}};
}

template <class T>
json ItemUpdate(Impl& p, Call& c) {
    const int64_t id = IdParam(c.params);
    c.cost = p.Costs().update;
    const json* fields = Param(c.params, "fields", "FIELDS");
    const json f = fields && fields->is_object() ? *fields : json::object();
    if (f.contains("id")) {
        Fail(400, "", "Setting value for Primary ID is not allowed, it is read-only field");
    }
    std::unique_lock lock(p.data_mu);
    T* row = Traits<T>::Of(p.crm).Find(id);
    if (!row) {
        Fail(400, "NOT_FOUND", "Element not found");
    }
    if (!CanReadRow(p, c.user, *row)) {
        Fail(400, "ACCESS_DENIED", "You do not have permission to update this item");
    }
    const std::string stage = StageOf(*row);
    const std::vector<int64_t> bindings = CompanyBindings(*row);
    ApplyAll(p, *row, f, true, c);
    Stamp(p, *row, c, stage);
    if (CompanyBindings(*row) != bindings) {
        AfterContactChange(p);
    }
    p.RecordWrite(c, Traits<T>::kType, id, f);
    p.FireEventLocked(std::string(Traits<T>::kEvent) + "UPDATE", EventFields<T>(id), CtxOf(c));
    return json{{"item", RenderFull(p, *row, false, c.params)}};
}

template <class T>
json ItemAdd(Impl& p, Call& c) {
    c.cost = p.Costs().add;
    const json* fields = Param(c.params, "fields", "FIELDS");
    const json f = fields && fields->is_object() ? *fields : json::object();
    std::unique_lock lock(p.data_mu);
    T row;
    row.assigned_by_id = c.user.id;
    ApplyAll(p, row, f, true, c);
    Traits<T>::Created(row, static_cast<Time>(p.Now()), c.user.id);
    const int64_t id = p.crm.Insert(std::move(row));
    if constexpr (std::is_same_v<T, Contact>) {
        AfterContactChange(p);
    }
    p.RecordWrite(c, Traits<T>::kType, id, f);
    p.FireEventLocked(std::string(Traits<T>::kEvent) + "ADD", EventFields<T>(id), CtxOf(c));
    return json{{"item", RenderFull(p, *Traits<T>::Of(p.crm).Find(id), false, c.params)}};
}

template <template <class> class Op>
json DispatchItem(Impl& p, Call& c) {
    switch (EntityTypeParam(c)) {
        case kContact:
            return Op<Contact>::Run(p, c);
        case kCompany:
            return Op<Company>::Run(p, c);
        case kDeal:
            return Op<Deal>::Run(p, c);
        default:
            return Op<SmartInvoice>::Run(p, c);
    }
}

template <class T>
struct ListOp {
    static json Run(Impl& p, Call& c) {
        std::shared_lock lock(p.data_mu);
        return DoList<T>(p, c, false);
    }
};
template <class T>
struct GetOp {
    static json Run(Impl& p, Call& c) { return ItemGet<T>(p, c); }
};
template <class T>
struct UpdateOp {
    static json Run(Impl& p, Call& c) { return ItemUpdate<T>(p, c); }
};
template <class T>
struct AddOp {
    static json Run(Impl& p, Call& c) { return ItemAdd<T>(p, c); }
};

// ---- activities ------------------------------------------------------------------------------

json ActivityList(Impl& p, Call& c) {
    std::shared_lock lock(p.data_mu);
    // The BINDINGS filter joins: an activity matching k of the listed pairs comes back k times.
    std::vector<std::pair<int, int64_t>> pairs;  // owner id 0 = any
    bool has_bindings = false;
    if (const json* f = Param(c.params, "filter", "FILTER"); f && f->is_object()) {
        for (auto it = f->begin(); it != f->end(); ++it) {
            if (ToUpper(it.key()) != "BINDINGS") {
                continue;
            }
            has_bindings = true;
            for (const auto& e : *it) {
                if (!e.is_object()) {
                    continue;
                }
                const json* t = Param(e, "ownerTypeId", "OWNER_TYPE_ID");
                const json* o = Param(e, "ownerId", "OWNER_ID");
                pairs.emplace_back(t ? static_cast<int>(IntVal(*t)) : 0, o ? IntVal(*o) : 0);
            }
        }
    }
    std::function<int(const Activity&)> mult;
    if (has_bindings) {
        mult = [pairs](const Activity& a) {
            const auto bindings = ActivityBindings(a);
            int n = 0;
            for (const auto& [type, id] : pairs) {
                for (const auto& b : bindings) {
                    if (b.first == type && (id == 0 || b.second == id)) {
                        ++n;
                        break;
                    }
                }
            }
            return n;
        };
    }
    return DoList<Activity>(p, c, true, mult, {"BINDINGS"}, json{{"START_TIME", "ASC"}});
}

json ActivityBindingList(Impl& p, Call& c) {
    c.cost = p.Costs().link_get;
    const json* id = Param(c.params, "activityId", "ACTIVITY_ID");
    std::shared_lock lock(p.data_mu);
    const Activity* a = p.crm.activities.Find(id ? IntVal(*id) : 0);
    if (!a) {
        Fail(400, "NOT_FOUND", "Activity not found");
    }
    json out = json::array();
    for (const auto& [type, eid] : ActivityBindings(*a)) {
        if (CanReadEntity(p, c.user, type, eid)) {
            out.push_back({{"entityTypeId", type}, {"entityId", eid}});
        }
    }
    c.rows = static_cast<int64_t>(out.size());
    return out;
}

// ---- links --------------------------------------------------------------------------------------

json ContactCompanyItems(Impl& p, Call& c) {
    c.cost = p.Costs().link_get;
    std::shared_lock lock(p.data_mu);
    const Contact* r = p.crm.contacts.Find(IdParam(c.params));
    if (!r) {
        Fail(400, "", "Not found");
    }
    if (!CanReadRow(p, c.user, *r)) {
        Fail(400, "", "Access denied.");
    }
    json out = json::array();
    int sort = 10;
    for (size_t i = 0; i < r->company_ids.size(); ++i) {
        out.push_back({{"COMPANY_ID", r->company_ids[i]},
                       {"SORT", sort},
                       {"ROLE_ID", 0},
                       {"IS_PRIMARY", i == 0 ? "Y" : "N"}});
        sort += 10;
    }
    c.rows = static_cast<int64_t>(out.size());
    return out;
}

json CompanyContactItems(Impl& p, Call& c) {
    c.cost = p.Costs().link_get;
    std::shared_lock lock(p.data_mu);
    const Company* r = p.crm.companies.Find(IdParam(c.params));
    if (!r) {
        Fail(400, "", "Not found");
    }
    if (!CanReadRow(p, c.user, *r)) {
        Fail(400, "", "Access denied.");
    }
    json out = json::array();
    auto it = p.crm.company_contacts.find(r->id);
    if (it != p.crm.company_contacts.end()) {
        int sort = 10;
        for (size_t i = 0; i < it->second.size(); ++i) {
            out.push_back({{"CONTACT_ID", it->second[i]},
                           {"SORT", sort},
                           {"ROLE_ID", 0},
                           {"IS_PRIMARY", i == 0 ? "Y" : "N"}});
            sort += 10;
        }
    }
    c.rows = static_cast<int64_t>(out.size());
    return out;
}

json DealContactItems(Impl& p, Call& c) {
    c.cost = p.Costs().link_get;
    std::shared_lock lock(p.data_mu);
    const Deal* r = p.crm.deals.Find(IdParam(c.params));
    if (!r) {
        Fail(400, "", "Not found");
    }
    if (!CanReadRow(p, c.user, *r)) {
        Fail(400, "", "Access denied.");
    }
    json out = json::array();
    int sort = 10;
    for (size_t i = 0; i < r->contact_ids.size(); ++i) {
        out.push_back({{"CONTACT_ID", r->contact_ids[i]},
                       {"SORT", sort},
                       {"ROLE_ID", 0},
                       {"IS_PRIMARY", i == 0 ? "Y" : "N"}});
        sort += 10;
    }
    c.rows = static_cast<int64_t>(out.size());
    return out;
}

// ---- directories
// ---------------------------------------------------------------------------------

json StatusList(Impl& p, Call& c) {
    c.cost = p.Costs().directory;
    std::shared_lock lock(p.data_mu);
    const json* f = Param(c.params, "filter", "FILTER");
    json out = json::array();
    std::vector<const Status*> rows;
    for (const auto& s : p.crm.statuses) {
        bool ok = true;
        if (f && f->is_object()) {
            for (auto it = f->begin(); it != f->end(); ++it) {
                auto [op, name] = SplitFilterKey(it.key());
                const std::string field = ToUpper(name);
                Value v;
                if (field == "ENTITY_ID") {
                    v = Value::Str(s.entity_id);
                } else if (field == "STATUS_ID") {
                    v = Value::Str(s.status_id);
                } else if (field == "CATEGORY_ID") {
                    v = Value::Int(s.category_id);
                } else if (field == "ID") {
                    v = Value::Int(s.id);
                } else if (field == "NAME") {
                    v = Value::Str(s.name);
                } else if (field == "SEMANTICS") {
                    v = Value::Str(std::string(1, s.semantics));
                } else {
                    continue;
                }
                ok = ok && MatchCondition(v, op, *it, p.tz());
            }
        }
        if (ok) {
            rows.push_back(&s);
        }
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Status* a, const Status* b) {
        return a->entity_id == b->entity_id ? a->sort < b->sort : false;
    });
    for (const Status* s : rows) {
        const char* extra =
            s->semantics == 'S' ? "success"
            : s->semantics == 'F'
                ? (s->status_id.find("APOLOGY") != std::string::npos ? "apology" : "failure")
                : "process";
        json row = {
            {"ID", std::to_string(s->id)},
            {"ENTITY_ID", s->entity_id},
            {"STATUS_ID", s->status_id},
            {"NAME", s->name},
            {"NAME_INIT", s->system ? s->name : ""},
            {"SORT", std::to_string(s->sort)},
            {"SYSTEM", s->system ? "Y" : "N"},
            {"CATEGORY_ID", s->category_id ? json(std::to_string(s->category_id)) : json()},
            {"COLOR", s->color},
            {"SEMANTICS", s->semantics == 'P' ? json() : json(std::string(1, s->semantics))},
            {"EXTRA", {{"SEMANTICS", extra}, {"COLOR", s->color}}}};
        out.push_back(std::move(row));
    }
    c.rows = static_cast<int64_t>(out.size());
    c.total = c.rows;
    return out;
}

json CategoryList(Impl& p, Call& c) {
    c.cost = p.Costs().directory;
    const json* t = Param(c.params, "entityTypeId", "ENTITY_TYPE_ID");
    const int64_t type = t ? IntVal(*t) : 0;
    if (type != kDeal && type != kSmartInvoice) {
        Fail(400, "NOT_FOUND", "Entity type does not support categories");
    }
    std::shared_lock lock(p.data_mu);
    json cats = json::array();
    for (const auto& cat : p.crm.categories) {
        if (cat.entity_type_id == type) {
            cats.push_back({{"id", cat.id},
                            {"name", cat.name},
                            {"sort", cat.sort},
                            {"entityTypeId", cat.entity_type_id},
                            {"isDefault", cat.is_default ? "Y" : "N"}});
        }
    }
    c.total = static_cast<int64_t>(cats.size());
    c.rows = *c.total;
    return json{{"categories", cats}};
}

// ---- user fields
// -----------------------------------------------------------------------------------

json RenderUserField(const UserField& f) {
    json row = {{"ID", std::to_string(f.id)},
                {"ENTITY_ID", f.entity_id},
                {"FIELD_NAME", f.field_name},
                {"USER_TYPE_ID", f.user_type_id},
                {"XML_ID", f.xml_id.empty() ? json() : json(f.xml_id)},
                {"SORT", std::to_string(f.sort)},
                {"MULTIPLE", f.multiple ? "Y" : "N"},
                {"MANDATORY", f.mandatory ? "Y" : "N"},
                {"SHOW_FILTER", f.show_filter},
                {"SHOW_IN_LIST", f.show_in_list},
                {"EDIT_IN_LIST", f.edit_in_list},
                {"IS_SEARCHABLE", f.is_searchable},
                {"SETTINGS", f.settings.empty() ? json::array() : ToOrdered(f.settings)}};
    for (const char* key : {"EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL",
                            "ERROR_MESSAGE", "HELP_MESSAGE"}) {
        auto it = f.labels.find(key);
        row[key] = it == f.labels.end() ? json() : ToOrdered(it->second);
    }
    if (f.user_type_id == "enumeration") {
        json list = json::array();
        for (const auto& item : f.list) {
            list.push_back({{"ID", std::to_string(item.id)},
                            {"SORT", std::to_string(item.sort)},
                            {"VALUE", item.value},
                            {"DEF", item.def ? "Y" : "N"},
                            {"XML_ID", item.xml_id}});
        }
        row["LIST"] = list;
    }
    return row;
}

json LabelValue(const json& v) {
    if (v.is_object()) {
        return v;
    }
    return json{{"en", StrVal(v)}};
}

void ApplyUserFieldList(Impl& p, UserField& f, const json& list, bool update) {
    if (!list.is_array() && !list.is_object()) {
        return;
    }
    for (const auto& e : list) {
        if (!e.is_object()) {
            continue;
        }
        const int64_t id = update && e.contains("ID") ? IntVal(e["ID"]) : 0;
        const std::string xml = e.contains("XML_ID") ? StrVal(e["XML_ID"]) : std::string();
        if (id > 0) {
            auto it = std::find_if(f.list.begin(), f.list.end(),
                                   [&](const EnumItem& i) { return i.id == id; });
            if (it == f.list.end()) {
                continue;
            }
            if (e.contains("DEL") && TruthyYN(e["DEL"])) {
                f.list.erase(it);
                continue;
            }
            if (e.contains("VALUE")) {
                it->value = StrVal(e["VALUE"]);
            }
            if (e.contains("SORT")) {
                it->sort = static_cast<int>(IntVal(e["SORT"]));
            }
            if (e.contains("DEF")) {
                it->def = TruthyYN(e["DEF"]);
            }
            if (!xml.empty()) {
                for (const auto& other : f.list) {
                    if (other.id != id && other.xml_id == xml) {
                        Fail(400, "", "A list item with XML_ID=" + xml + " already exists");
                    }
                }
                it->xml_id = xml;
            }
            continue;
        }
        EnumItem item;
        item.id = p.crm.next_enum_item_id++;
        item.value = e.contains("VALUE") ? StrVal(e["VALUE"]) : "";
        item.sort = e.contains("SORT") ? static_cast<int>(IntVal(e["SORT"])) : 500;
        item.def = e.contains("DEF") && TruthyYN(e["DEF"]);
        item.xml_id = xml.empty() ? std::to_string(item.id) : xml;
        for (const auto& other : f.list) {
            if (other.xml_id == item.xml_id) {
                Fail(400, "", "A list item with XML_ID=" + item.xml_id + " already exists");
            }
        }
        if (item.value.empty()) {
            continue;
        }
        f.list.push_back(item);
    }
}

void ApplyUserFieldProps(UserField& f, const json& fields) {
    auto yn = [&](const char* key, std::string* out) {
        if (fields.contains(key)) {
            *out = TruthyYN(fields[key]) ? "Y" : "N";
        }
    };
    if (fields.contains("MANDATORY")) {
        f.mandatory = TruthyYN(fields["MANDATORY"]);
    }
    if (fields.contains("SORT")) {
        f.sort = static_cast<int>(IntVal(fields["SORT"]));
    }
    if (fields.contains("XML_ID")) {
        f.xml_id = StrVal(fields["XML_ID"]);
    }
    if (fields.contains("SETTINGS") && fields["SETTINGS"].is_object()) {
        f.settings = ToPlain(fields["SETTINGS"]);
    }
    yn("SHOW_FILTER", &f.show_filter);
    yn("SHOW_IN_LIST", &f.show_in_list);
    yn("EDIT_IN_LIST", &f.edit_in_list);
    yn("IS_SEARCHABLE", &f.is_searchable);
    if (fields.contains("LABEL")) {
        for (const char* key : {"EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL"}) {
            f.labels[key] = ToPlain(LabelValue(fields["LABEL"]));
        }
    }
    for (const char* key : {"EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL",
                            "ERROR_MESSAGE", "HELP_MESSAGE"}) {
        if (fields.contains(key)) {
            f.labels[key] = ToPlain(LabelValue(fields[key]));
        }
    }
}

Handler UserFieldMethod(const std::string& entity, const std::string& op) {
    return [entity, op](Impl& p, Call& c) -> json {
        const json* fields_p = Param(c.params, "fields", "FIELDS");
        const json fields = fields_p && fields_p->is_object() ? *fields_p : json::object();
        if (op == "list") {
            c.cost = p.Costs().directory;
            std::shared_lock lock(p.data_mu);
            const json* f = Param(c.params, "filter", "FILTER");
            std::vector<const UserField*> rows;
            for (const auto& uf : p.crm.user_fields) {
                if (uf.entity_id != entity) {
                    continue;
                }
                bool ok = true;
                if (f && f->is_object()) {
                    const json rendered = RenderUserField(uf);
                    for (auto it = f->begin(); it != f->end(); ++it) {
                        auto [fop, name] = SplitFilterKey(it.key());
                        const std::string key = ToUpper(name);
                        if (key == "LANG") {
                            continue;
                        }
                        if (!rendered.contains(key)) {
                            continue;
                        }
                        ok = ok &&
                             MatchCondition(Value::Str(StrVal(rendered[key])), fop, *it, p.tz());
                    }
                }
                if (ok) {
                    rows.push_back(&uf);
                }
            }
            std::stable_sort(rows.begin(), rows.end(), [](const UserField* a, const UserField* b) {
                return a->sort != b->sort ? a->sort < b->sort : a->id < b->id;
            });
            json out = json::array();
            for (const UserField* uf : rows) {
                out.push_back(RenderUserField(*uf));
            }
            c.rows = static_cast<int64_t>(out.size());
            c.total = c.rows;
            return out;
        }
        if (op == "get") {
            c.cost = p.Costs().directory;
            std::shared_lock lock(p.data_mu);
            const UserField* uf = p.crm.FindUserField(IdParam(c.params));
            if (!uf || uf->entity_id != entity) {
                Fail(
                    400, "",
                    "The entity with ID '" + std::to_string(IdParam(c.params)) + "' is not found.");
            }
            return RenderUserField(*uf);
        }
        c.cost = p.Costs().userfield_write;
        if (!c.user.admin) {
            Fail(400, "", "Access denied.");
        }
        std::unique_lock lock(p.data_mu);
        if (op == "add") {
            std::string name =
                ToUpper(fields.contains("FIELD_NAME") ? StrVal(fields["FIELD_NAME"]) : "");
            const std::string type =
                fields.contains("USER_TYPE_ID") ? StrVal(fields["USER_TYPE_ID"]) : "";
            if (name.empty()) {
                Fail(400, "", "The 'FIELD_NAME' field is not found");
            }
            if (type.empty()) {
                Fail(400, "", "The 'USER_TYPE_ID' field is not found");
            }
            if (name.rfind("UF_CRM_", 0) != 0) {
                name = name.rfind("UF_", 0) == 0 ? "UF_CRM_" + name.substr(3) : "UF_CRM_" + name;
            }
            const bool valid_chars = std::all_of(name.begin(), name.end(), [](char ch) {
                return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
            });
            if (!valid_chars || name.size() > 50 || name.size() <= 7) {
                Fail(400, "ERROR_CORE", "Invalid field name " + name);
            }
            if (p.crm.FindUserField(entity, name)) {
                Fail(400, "ERROR_CORE", "A field named " + name + " already exists");
            }
            static const char* kTypes[] = {
                "string",     "integer",        "double",         "boolean",
                "datetime",   "date",           "money",          "url",
                "address",    "enumeration",    "file",           "employee",
                "crm_status", "iblock_section", "iblock_element", "crm"};
            const bool known_type =
                std::find(std::begin(kTypes), std::end(kTypes), type) != std::end(kTypes) ||
                type.rfind("rest_", 0) == 0;
            if (!known_type) {
                Fail(400, "ERROR_CORE", "Unknown USER_TYPE_ID " + type);
            }
            UserField uf;
            uf.entity_id = entity;
            uf.field_name = name;
            uf.user_type_id = type;
            uf.multiple =
                fields.contains("MULTIPLE") && TruthyYN(fields["MULTIPLE"]) && type != "boolean";
            ApplyUserFieldProps(uf, fields);
            if (fields.contains("LIST")) {
                ApplyUserFieldList(p, uf, fields["LIST"], false);
            }
            uf.id = p.crm.next_user_field_id++;
            p.crm.user_fields.push_back(uf);
            p.RecordWrite(c, 0, uf.id, fields);
            return uf.id;
        }
        const int64_t id = IdParam(c.params);
        auto it =
            std::find_if(p.crm.user_fields.begin(), p.crm.user_fields.end(),
                         [&](const UserField& f) { return f.id == id && f.entity_id == entity; });
        if (it == p.crm.user_fields.end()) {
            Fail(400, "", "The entity with ID '" + std::to_string(id) + "' is not found.");
        }
        if (op == "update") {
            UserField updated = *it;
            ApplyUserFieldProps(updated, fields);
            if (fields.contains("LIST")) {
                ApplyUserFieldList(p, updated, fields["LIST"], true);
            }
            *it = updated;
            p.RecordWrite(c, 0, id, fields);
            return true;
        }
        // delete: the field and every stored value go away.
        const int64_t field_id = it->id;
        p.crm.user_fields.erase(it);
        auto strip = [field_id](auto& table) {
            for (auto& row : table.rows) {
                row.uf.erase(
                    std::remove_if(row.uf.begin(), row.uf.end(),
                                   [&](const UfValue& v) { return v.field_id == field_id; }),
                    row.uf.end());
            }
        };
        strip(p.crm.contacts);
        strip(p.crm.companies);
        p.RecordWrite(c, 0, id, json::object());
        return true;
    };
}

}  // namespace

void Portal::Impl::RegisterCrmMethods() {
    auto reg = [this](const std::string& name, Handler h) {
        methods[name] = MethodSpec{std::move(h), "crm"};
    };
    // Legacy entity methods.
    reg("crm.contact.list", [](Impl& p, Call& c) {
        std::shared_lock lock(p.data_mu);
        return DoList<Contact>(p, c, true);
    });
    reg("crm.company.list", [](Impl& p, Call& c) {
        std::shared_lock lock(p.data_mu);
        return DoList<Company>(p, c, true);
    });
    reg("crm.deal.list", [](Impl& p, Call& c) {
        std::shared_lock lock(p.data_mu);
        return DoList<Deal>(p, c, true);
    });
    reg("crm.invoice.list", [](Impl& p, Call& c) {
        std::shared_lock lock(p.data_mu);
        return DoList<OldInvoice>(p, c, true);
    });
    reg("crm.requisite.list", [](Impl& p, Call& c) {
        std::shared_lock lock(p.data_mu);
        return DoList<Requisite>(p, c, true);
    });
    reg("crm.activity.list", ActivityList);
    reg("crm.contact.get", DoLegacyGet<Contact>);
    reg("crm.company.get", DoLegacyGet<Company>);
    reg("crm.deal.get", DoLegacyGet<Deal>);
    reg("crm.invoice.get", DoLegacyGet<OldInvoice>);
    reg("crm.activity.get", DoLegacyGet<Activity>);
    reg("crm.requisite.get", DoLegacyGet<Requisite>);
    reg("crm.contact.update", DoLegacyUpdate<Contact>);
    reg("crm.company.update", DoLegacyUpdate<Company>);
    reg("crm.deal.update", DoLegacyUpdate<Deal>);
    reg("crm.contact.add", DoLegacyAdd<Contact>);
    reg("crm.company.add", DoLegacyAdd<Company>);
    reg("crm.deal.add", DoLegacyAdd<Deal>);
    // Universal methods.
    reg("crm.item.list", DispatchItem<ListOp>);
    reg("crm.item.get", DispatchItem<GetOp>);
    reg("crm.item.update", DispatchItem<UpdateOp>);
    reg("crm.item.add", DispatchItem<AddOp>);
    // Links.
    reg("crm.contact.company.items.get", ContactCompanyItems);
    reg("crm.company.contact.items.get", CompanyContactItems);
    reg("crm.deal.contact.items.get", DealContactItems);
    reg("crm.activity.binding.list", ActivityBindingList);
    // crm.entity.mergeBatch {params:{entityTypeId, entityIds}}: the first id survives.
    reg("crm.entity.mergebatch", [](Impl& p, Call& c) -> json {
        c.cost = p.Costs().update * 2;
        const json* params = Param(c.params, "params", "PARAMS");
        if (!params || !params->is_object()) {
            Fail(400, "ERROR_ARGUMENT", "params are required");
        }
        const json* type = Param(*params, "entityTypeId", "ENTITY_TYPE_ID");
        const json* ids_p = Param(*params, "entityIds", "ENTITY_IDS");
        std::vector<int64_t> ids;
        if (ids_p && (ids_p->is_array() || ids_p->is_object())) {
            for (const auto& e : *ids_p) {
                ids.push_back(IntVal(e));
            }
        }
        const int64_t t = type ? IntVal(*type) : 0;
        if ((t != kContact && t != kCompany) || ids.size() < 2) {
            return json{{"STATUS", "ERROR"}, {"ENTITY_IDS", json::array()}};
        }
        if (!c.user.admin && c.user.crm_read != CrmRead::kAll) {
            return json{{"STATUS", "CONFLICT"}, {"ENTITY_IDS", json::array()}};
        }
        const MutationContext ctx = CtxOf(c);
        const bool ok =
            t == kContact ? p.self->MergeContacts(ids, ctx) : p.self->MergeCompanies(ids, ctx);
        json gone = json::array();
        for (size_t i = 1; i < ids.size(); ++i) {
            gone.push_back(ids[i]);
        }
        return json{{"STATUS", ok ? "SUCCESS" : "ERROR"},
                    {"ENTITY_IDS", ok ? gone : json::array()}};
    });
    // Directories.
    reg("crm.status.list", StatusList);
    reg("crm.category.list", CategoryList);
    // User fields.
    for (const auto& [prefix, entity] :
         {std::pair<std::string, std::string>{"crm.contact.userfield.", "CRM_CONTACT"},
          {"crm.company.userfield.", "CRM_COMPANY"}}) {
        for (const char* op : {"add", "list", "get", "update", "delete"}) {
            reg(prefix + op, UserFieldMethod(entity, op));
        }
    }
}

}  // namespace fakeportal
