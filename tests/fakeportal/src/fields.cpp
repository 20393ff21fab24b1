// Field tables of every entity: legacy UPPER_CASE name, crm.item camelCase name, kind, getter.
// ID is always the first field (the list engine relies on it).
#include "query.hpp"

namespace fakeportal::detail {

namespace {

template <class T>
using Get = std::function<Value(const T&, const CrmData&)>;

template <class T>
FieldDef<T> F(std::string upper, std::string camel, Kind kind, Get<T> get) {
    FieldDef<T> f;
    f.upper = std::move(upper);
    f.camel = std::move(camel);
    f.kind = kind;
    f.get = std::move(get);
    return f;
}

template <class T>
FieldDef<T> Hidden(FieldDef<T> f) {  // not part of "*": only when named
    f.in_star = false;
    return f;
}

template <class T>
FieldDef<T> ExplicitMulti(FieldDef<T> f) {
    f.explicit_only = true;
    f.in_star = false;
    return f;
}

template <class T>
FieldDef<T> NoFilter(FieldDef<T> f) {
    f.filterable = false;
    return f;
}

bool HasType(const std::vector<Multifield>& fm, const char* type) {
    for (const auto& m : fm) {
        if (m.type_id == type && !m.value.empty()) {
            return true;
        }
    }
    return false;
}

bool HasImol(const std::vector<Multifield>& fm) {
    for (const auto& m : fm) {
        if (m.type_id == "IM" && (m.value_type == "IMOL" || m.value_type == "OPENLINE")) {
            return true;
        }
    }
    return false;
}

json LegacyMulti(const std::vector<Multifield>& fm, const char* type) {
    json arr = json::array();
    for (const auto& m : fm) {
        if (m.type_id == type) {
            arr.push_back({{"ID", std::to_string(m.id)},
                           {"VALUE_TYPE", m.value_type},
                           {"VALUE", m.value},
                           {"TYPE_ID", m.type_id}});
        }
    }
    return arr;
}

json ItemFm(const std::vector<Multifield>& fm) {
    json arr = json::array();
    for (const auto& m : fm) {
        arr.push_back(
            {{"id", m.id}, {"typeId", m.type_id}, {"valueType", m.value_type}, {"value", m.value}});
    }
    return arr;
}

template <class T>
void AddMultifields(std::vector<FieldDef<T>>& v) {
    for (const char* type : {"PHONE", "EMAIL", "WEB", "IM", "LINK"}) {
        std::string t(type);
        v.push_back(ExplicitMulti(F<T>(t, "", Kind::kJson, [t](const T& r, const CrmData&) {
            return Value::Json(LegacyMulti(r.fm, t.c_str()));
        })));
    }
    v.push_back(NoFilter(F<T>("", "fm", Kind::kJson, [](const T& r, const CrmData&) {
        return Value::Json(ItemFm(r.fm));
    })));
    v.push_back(F<T>("HAS_PHONE", "hasPhone", Kind::kYN,
                     [](const T& r, const CrmData&) { return Value::YN(HasType(r.fm, "PHONE")); }));
    v.push_back(F<T>("HAS_EMAIL", "hasEmail", Kind::kYN,
                     [](const T& r, const CrmData&) { return Value::YN(HasType(r.fm, "EMAIL")); }));
    v.push_back(F<T>("HAS_IMOL", "hasImol", Kind::kYN,
                     [](const T& r, const CrmData&) { return Value::YN(HasImol(r.fm)); }));
}

template <class T>
FieldDef<T> EntityTypeField(int type) {
    return NoFilter(F<T>("", "entityTypeId", Kind::kInt,
                         [type](const T&, const CrmData&) { return Value::Int(type); }));
}

}  // namespace

template <>
const std::vector<FieldDef<Contact>>& StaticFields<Contact>() {
    using T = Contact;
    static const std::vector<FieldDef<T>> fields = [] {
        std::vector<FieldDef<T>> v;
        v.push_back(F<T>("ID", "id", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.id); }));
        v.push_back(F<T>("NAME", "name", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.name); }));
        v.push_back(F<T>("SECOND_NAME", "secondName", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.second_name); }));
        v.push_back(F<T>("LAST_NAME", "lastName", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.last_name); }));
        v.push_back(F<T>("POST", "post", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.post); }));
        v.push_back(F<T>("TYPE_ID", "typeId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.type_id); }));
        v.push_back(F<T>("SOURCE_ID", "sourceId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.source_id); }));
        v.push_back(F<T>("COMPANY_ID", "companyId", Kind::kInt, [](const T& r, const CrmData&) {
            return Value::OptInt(r.company_ids.empty() ? 0 : r.company_ids.front());
        }));
        // COMPANY_IDS is write-only in the legacy methods; crm.item.* returns companyIds.
        v.push_back(F<T>("", "companyIds", Kind::kIntList,
                         [](const T& r, const CrmData&) { return Value::List(r.company_ids); }));
        v.push_back(F<T>("BIRTHDATE", "birthdate", Kind::kDate, [](const T& r, const CrmData&) {
            return r.birthdate ? Value::Date(*r.birthdate) : Value::Null(Kind::kDate);
        }));
        v.push_back(F<T>("OPENED", "opened", Kind::kYN,
                         [](const T& r, const CrmData&) { return Value::YN(r.opened); }));
        v.push_back(F<T>("EXPORT", "export", Kind::kYN,
                         [](const T& r, const CrmData&) { return Value::YN(r.export_allowed); }));
        v.push_back(F<T>("ASSIGNED_BY_ID", "assignedById", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.assigned_by_id); }));
        v.push_back(F<T>("CREATED_BY_ID", "createdBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.created_by_id); }));
        v.push_back(F<T>("MODIFY_BY_ID", "updatedBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.modify_by_id); }));
        v.push_back(F<T>("DATE_CREATE", "createdTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.date_create); }));
        v.push_back(F<T>("DATE_MODIFY", "updatedTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.date_modify); }));
        v.push_back(
            F<T>("LAST_ACTIVITY_TIME", "lastActivityTime", Kind::kTime,
                 [](const T& r, const CrmData&) { return Value::OptTime(r.last_activity_time); }));
        AddMultifields(v);
        v.push_back(EntityTypeField<T>(kContact));
        return v;
    }();
    return fields;
}

template <>
const std::vector<FieldDef<Company>>& StaticFields<Company>() {
    using T = Company;
    static const std::vector<FieldDef<T>> fields = [] {
        std::vector<FieldDef<T>> v;
        v.push_back(F<T>("ID", "id", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.id); }));
        v.push_back(F<T>("TITLE", "title", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.title); }));
        v.push_back(F<T>("COMPANY_TYPE", "typeId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.company_type); }));
        v.push_back(F<T>("INDUSTRY", "industry", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.industry); }));
        v.push_back(F<T>("EMPLOYEES", "employees", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.employees); }));
        v.push_back(F<T>("REVENUE", "revenue", Kind::kDouble,
                         [](const T& r, const CrmData&) { return Value::Double(r.revenue); }));
        v.push_back(F<T>("CURRENCY_ID", "currencyId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.currency_id); }));
        v.push_back(F<T>("IS_MY_COMPANY", "isMyCompany", Kind::kYN,
                         [](const T& r, const CrmData&) { return Value::YN(r.is_my_company); }));
        auto contacts = [](const T& r, const CrmData& d) {
            auto it = d.company_contacts.find(r.id);
            return Value::List(it == d.company_contacts.end() ? std::vector<int64_t>{}
                                                              : it->second);
        };
        v.push_back(Hidden(F<T>("CONTACT_ID", "", Kind::kIntList, contacts)));
        v.push_back(F<T>("", "contactIds", Kind::kIntList, contacts));
        v.push_back(F<T>("OPENED", "opened", Kind::kYN,
                         [](const T& r, const CrmData&) { return Value::YN(r.opened); }));
        v.push_back(F<T>("ASSIGNED_BY_ID", "assignedById", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.assigned_by_id); }));
        v.push_back(F<T>("CREATED_BY_ID", "createdBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.created_by_id); }));
        v.push_back(F<T>("MODIFY_BY_ID", "updatedBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.modify_by_id); }));
        v.push_back(F<T>("DATE_CREATE", "createdTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.date_create); }));
        v.push_back(F<T>("DATE_MODIFY", "updatedTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.date_modify); }));
        v.push_back(
            F<T>("LAST_ACTIVITY_TIME", "lastActivityTime", Kind::kTime,
                 [](const T& r, const CrmData&) { return Value::OptTime(r.last_activity_time); }));
        AddMultifields(v);
        v.push_back(EntityTypeField<T>(kCompany));
        return v;
    }();
    return fields;
}

template <>
const std::vector<FieldDef<Deal>>& StaticFields<Deal>() {
    using T = Deal;
    static const std::vector<FieldDef<T>> fields = [] {
        std::vector<FieldDef<T>> v;
        v.push_back(F<T>("ID", "id", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.id); }));
        v.push_back(F<T>("TITLE", "title", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.title); }));
        v.push_back(F<T>("TYPE_ID", "typeId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.type_id); }));
        v.push_back(F<T>("CATEGORY_ID", "categoryId", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.category_id); }));
        v.push_back(F<T>("STAGE_ID", "stageId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.stage_id); }));
        v.push_back(F<T>("STAGE_SEMANTIC_ID", "stageSemanticId", Kind::kString,
                         [](const T& r, const CrmData& d) {
                             return Value::Str(
                                 std::string(1, d.DealStageSemantics(r.category_id, r.stage_id)));
                         }));
        v.push_back(F<T>("CLOSED", "closed", Kind::kYN, [](const T& r, const CrmData& d) {
            return Value::YN(d.DealStageSemantics(r.category_id, r.stage_id) != 'P');
        }));
        v.push_back(F<T>("OPPORTUNITY", "opportunity", Kind::kDouble,
                         [](const T& r, const CrmData&) { return Value::Double(r.opportunity); }));
        v.push_back(F<T>("CURRENCY_ID", "currencyId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.currency_id); }));
        v.push_back(F<T>("COMPANY_ID", "companyId", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::OptInt(r.company_id); }));
        v.push_back(F<T>("CONTACT_ID", "contactId", Kind::kInt, [](const T& r, const CrmData&) {
            return Value::OptInt(r.contact_ids.empty() ? 0 : r.contact_ids.front());
        }));
        v.push_back(F<T>("", "contactIds", Kind::kIntList,
                         [](const T& r, const CrmData&) { return Value::List(r.contact_ids); }));
        v.push_back(F<T>("BEGINDATE", "begindate", Kind::kDate,
                         [](const T& r, const CrmData&) { return Value::Date(r.begindate); }));
        v.push_back(F<T>("CLOSEDATE", "closedate", Kind::kDate,
                         [](const T& r, const CrmData&) { return Value::Date(r.closedate); }));
        v.push_back(F<T>("OPENED", "opened", Kind::kYN,
                         [](const T& r, const CrmData&) { return Value::YN(r.opened); }));
        v.push_back(F<T>("ASSIGNED_BY_ID", "assignedById", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.assigned_by_id); }));
        v.push_back(F<T>("CREATED_BY_ID", "createdBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.created_by_id); }));
        v.push_back(F<T>("MODIFY_BY_ID", "updatedBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.modify_by_id); }));
        v.push_back(F<T>("DATE_CREATE", "createdTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.date_create); }));
        v.push_back(F<T>("DATE_MODIFY", "updatedTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.date_modify); }));
        v.push_back(F<T>("MOVED_TIME", "movedTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.moved_time); }));
        v.push_back(F<T>("MOVED_BY_ID", "movedBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.moved_by_id); }));
        v.push_back(F<T>("SOURCE_ID", "sourceId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.source_id); }));
        v.push_back(F<T>("LEAD_ID", "leadId", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::OptInt(r.lead_id); }));
        v.push_back(EntityTypeField<T>(kDeal));
        return v;
    }();
    return fields;
}

template <>
const std::vector<FieldDef<SmartInvoice>>& StaticFields<SmartInvoice>() {
    using T = SmartInvoice;
    static const std::vector<FieldDef<T>> fields = [] {
        std::vector<FieldDef<T>> v;
        v.push_back(F<T>("ID", "id", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.id); }));
        v.push_back(F<T>("TITLE", "title", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.title); }));
        v.push_back(F<T>("ACCOUNT_NUMBER", "accountNumber", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.account_number); }));
        v.push_back(F<T>("CATEGORY_ID", "categoryId", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.category_id); }));
        v.push_back(F<T>("STAGE_ID", "stageId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.stage_id); }));
        v.push_back(F<T>("COMPANY_ID", "companyId", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::OptInt(r.company_id); }));
        v.push_back(F<T>("CONTACT_ID", "contactId", Kind::kInt, [](const T& r, const CrmData&) {
            return Value::OptInt(r.contact_ids.empty() ? 0 : r.contact_ids.front());
        }));
        v.push_back(F<T>("CONTACT_IDS", "contactIds", Kind::kIntList,
                         [](const T& r, const CrmData&) { return Value::List(r.contact_ids); }));
        v.push_back(F<T>("PARENT_ID_2", "parentId2", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::OptInt(r.parent_id2); }));
        v.push_back(F<T>("MYCOMPANY_ID", "mycompanyId", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::OptInt(r.mycompany_id); }));
        v.push_back(F<T>("OPPORTUNITY", "opportunity", Kind::kDouble,
                         [](const T& r, const CrmData&) { return Value::Double(r.opportunity); }));
        v.push_back(F<T>("CURRENCY_ID", "currencyId", Kind::kString,
                         [](const T& r, const CrmData&) { return Value::Str(r.currency_id); }));
        v.push_back(F<T>("BEGINDATE", "begindate", Kind::kDate,
                         [](const T& r, const CrmData&) { return Value::Date(r.begindate); }));
        v.push_back(F<T>("CLOSEDATE", "closedate", Kind::kDate,
                         [](const T& r, const CrmData&) { return Value::Date(r.closedate); }));
        v.push_back(F<T>("OPENED", "opened", Kind::kYN,
                         [](const T& r, const CrmData&) { return Value::YN(r.opened); }));
        v.push_back(F<T>("ASSIGNED_BY_ID", "assignedById", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.assigned_by_id); }));
        v.push_back(F<T>("CREATED_BY", "createdBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.created_by_id); }));
        v.push_back(F<T>("UPDATED_BY", "updatedBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.updated_by_id); }));
        v.push_back(F<T>("CREATED_TIME", "createdTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.created_time); }));
        v.push_back(F<T>("UPDATED_TIME", "updatedTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.updated_time); }));
        v.push_back(F<T>("MOVED_TIME", "movedTime", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.moved_time); }));
        v.push_back(F<T>("MOVED_BY", "movedBy", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.moved_by_id); }));
        v.push_back(EntityTypeField<T>(kSmartInvoice));
        return v;
    }();
    return fields;
}

template <>
const std::vector<FieldDef<OldInvoice>>& StaticFields<OldInvoice>() {
    using T = OldInvoice;
    static const std::vector<FieldDef<T>> fields = [] {
        std::vector<FieldDef<T>> v;
        auto i = [&](const char* n, int64_t T::*m) {
            v.push_back(F<T>(n, "", Kind::kInt,
                             [m](const T& r, const CrmData&) { return Value::OptInt(r.*m); }));
        };
        auto s = [&](const char* n, std::string T::*m) {
            v.push_back(F<T>(n, "", Kind::kString,
                             [m](const T& r, const CrmData&) { return Value::Str(r.*m); }));
        };
        auto t = [&](const char* n, Time T::*m) {
            v.push_back(F<T>(n, "", Kind::kTime,
                             [m](const T& r, const CrmData&) { return Value::Time(r.*m); }));
        };
        auto ot = [&](const char* n, std::optional<Time> T::*m) {
            v.push_back(F<T>(n, "", Kind::kTime,
                             [m](const T& r, const CrmData&) { return Value::OptTime(r.*m); }));
        };
        i("ID", &T::id);
        s("ACCOUNT_NUMBER", &T::account_number);
        s("ORDER_TOPIC", &T::order_topic);
        s("STATUS_ID", &T::status_id);
        v.push_back(F<T>("PAYED", "", Kind::kYN,
                         [](const T& r, const CrmData&) { return Value::YN(r.payed); }));
        ot("DATE_PAYED", &T::date_payed);
        t("DATE_INSERT", &T::date_insert);
        t("DATE_UPDATE", &T::date_update);
        t("DATE_BILL", &T::date_bill);
        t("DATE_STATUS", &T::date_status);
        ot("DATE_PAY_BEFORE", &T::date_pay_before);
        ot("DATE_MARKED", &T::date_marked);
        s("REASON_MARKED", &T::reason_marked);
        v.push_back(F<T>("PRICE", "", Kind::kDouble,
                         [](const T& r, const CrmData&) { return Value::Double(r.price); }));
        s("CURRENCY", &T::currency);
        i("RESPONSIBLE_ID", &T::responsible_id);
        i("UF_DEAL_ID", &T::uf_deal_id);
        i("UF_COMPANY_ID", &T::uf_company_id);
        i("UF_CONTACT_ID", &T::uf_contact_id);
        i("UF_MYCOMPANY_ID", &T::uf_mycompany_id);
        i("PERSON_TYPE_ID", &T::person_type_id);
        i("PAY_SYSTEM_ID", &T::pay_system_id);
        return v;
    }();
    return fields;
}

template <>
const std::vector<FieldDef<Activity>>& StaticFields<Activity>() {
    using T = Activity;
    static const std::vector<FieldDef<T>> fields = [] {
        std::vector<FieldDef<T>> v;
        auto i = [&](const char* n, int64_t T::*m) {
            v.push_back(F<T>(n, "", Kind::kInt,
                             [m](const T& r, const CrmData&) { return Value::Int(r.*m); }));
        };
        auto in = [&](const char* n, int T::*m) {
            v.push_back(F<T>(n, "", Kind::kInt,
                             [m](const T& r, const CrmData&) { return Value::Int(r.*m); }));
        };
        auto s = [&](const char* n, std::string T::*m) {
            v.push_back(F<T>(n, "", Kind::kString,
                             [m](const T& r, const CrmData&) { return Value::Str(r.*m); }));
        };
        auto t = [&](const char* n, Time T::*m) {
            v.push_back(F<T>(n, "", Kind::kTime,
                             [m](const T& r, const CrmData&) { return Value::Time(r.*m); }));
        };
        i("ID", &T::id);
        i("OWNER_ID", &T::owner_id);
        in("OWNER_TYPE_ID", &T::owner_type_id);
        in("TYPE_ID", &T::type_id);
        s("PROVIDER_ID", &T::provider_id);
        s("PROVIDER_TYPE_ID", &T::provider_type_id);
        s("SUBJECT", &T::subject);
        t("CREATED", &T::created);
        t("LAST_UPDATED", &T::last_updated);
        t("START_TIME", &T::start_time);
        t("END_TIME", &T::end_time);
        v.push_back(F<T>("DEADLINE", "", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::OptTime(r.deadline); }));
        v.push_back(F<T>("COMPLETED", "", Kind::kYN,
                         [](const T& r, const CrmData&) { return Value::YN(r.completed); }));
        in("STATUS", &T::status);
        in("DIRECTION", &T::direction);
        in("PRIORITY", &T::priority);
        i("RESPONSIBLE_ID", &T::responsible_id);
        i("AUTHOR_ID", &T::author_id);
        i("EDITOR_ID", &T::editor_id);
        s("DESCRIPTION", &T::description);
        v.push_back(
            ExplicitMulti(F<T>("COMMUNICATIONS", "", Kind::kJson, [](const T& r, const CrmData&) {
                json arr = json::array();
                for (const auto& c : r.communications) {
                    arr.push_back({{"ID", std::to_string(c.id)},
                                   {"TYPE", c.type},
                                   {"VALUE", c.value},
                                   {"ENTITY_ID", std::to_string(c.entity_id)},
                                   {"ENTITY_TYPE_ID", std::to_string(c.entity_type_id)},
                                   {"ACTIVITY_ID", std::to_string(r.id)}});
                }
                return Value::Json(std::move(arr));
            })));
        return v;
    }();
    return fields;
}

template <>
const std::vector<FieldDef<Requisite>>& StaticFields<Requisite>() {
    using T = Requisite;
    static const std::vector<FieldDef<T>> fields = [] {
        std::vector<FieldDef<T>> v;
        auto i = [&](const char* n, int64_t T::*m) {
            v.push_back(F<T>(n, "", Kind::kInt,
                             [m](const T& r, const CrmData&) { return Value::Int(r.*m); }));
        };
        auto s = [&](const char* n, std::string T::*m) {
            v.push_back(F<T>(n, "", Kind::kString,
                             [m](const T& r, const CrmData&) { return Value::Str(r.*m); }));
        };
        i("ID", &T::id);
        v.push_back(F<T>("ENTITY_TYPE_ID", "", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.entity_type_id); }));
        i("ENTITY_ID", &T::entity_id);
        i("PRESET_ID", &T::preset_id);
        s("NAME", &T::name);
        s("XML_ID", &T::xml_id);
        v.push_back(F<T>("ACTIVE", "", Kind::kYN,
                         [](const T& r, const CrmData&) { return Value::YN(r.active); }));
        v.push_back(F<T>("SORT", "", Kind::kInt,
                         [](const T& r, const CrmData&) { return Value::Int(r.sort); }));
        v.push_back(F<T>("DATE_CREATE", "", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.date_create); }));
        v.push_back(F<T>("DATE_MODIFY", "", Kind::kTime,
                         [](const T& r, const CrmData&) { return Value::Time(r.date_modify); }));
        i("CREATED_BY_ID", &T::created_by_id);
        i("MODIFY_BY_ID", &T::modify_by_id);
        s("RQ_INN", &T::rq_inn);
        s("RQ_KPP", &T::rq_kpp);
        s("RQ_COMPANY_NAME", &T::rq_company_name);
        s("RQ_COMPANY_FULL_NAME", &T::rq_company_full_name);
        s("RQ_FIRST_NAME", &T::rq_first_name);
        s("RQ_LAST_NAME", &T::rq_last_name);
        return v;
    }();
    return fields;
}

template <class T>
std::vector<FieldDef<T>> FieldsFor(const CrmData& data, const std::string& uf_entity, bool legacy) {
    std::vector<FieldDef<T>> defs = StaticFields<T>();
    if constexpr (requires(T t) { t.uf; }) {
        for (const auto& uf : data.user_fields) {
            if (uf.entity_id != uf_entity) {
                continue;
            }
            FieldDef<T> f;
            f.upper = uf.field_name;
            f.camel = UfCamelName(uf.field_name);
            f.is_uf = true;
            const UserField copy = uf;
            f.get = [copy, legacy](const T& r, const CrmData&) {
                return UfFieldValue(copy, r.uf, legacy);
            };
            f.kind = f.get(T{}, data).kind;
            defs.push_back(std::move(f));
        }
    }
    return defs;
}

template std::vector<FieldDef<Contact>> FieldsFor(const CrmData&, const std::string&, bool);
template std::vector<FieldDef<Company>> FieldsFor(const CrmData&, const std::string&, bool);
template std::vector<FieldDef<Deal>> FieldsFor(const CrmData&, const std::string&, bool);
template std::vector<FieldDef<SmartInvoice>> FieldsFor(const CrmData&, const std::string&, bool);
template std::vector<FieldDef<OldInvoice>> FieldsFor(const CrmData&, const std::string&, bool);
template std::vector<FieldDef<Activity>> FieldsFor(const CrmData&, const std::string&, bool);
template std::vector<FieldDef<Requisite>> FieldsFor(const CrmData&, const std::string&, bool);

}  // namespace fakeportal::detail
