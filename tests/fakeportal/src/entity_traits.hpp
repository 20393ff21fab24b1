#pragma once
// Per-entity facts shared by the REST handlers and the C++ mutation API: table, event names,
// user-field entity, type id, owner field, creation/modification stamps.
#include <nlohmann/json.hpp>

#include "fakeportal/crm.hpp"

namespace fakeportal::detail {

template <class T>
struct Traits;

template <>
struct Traits<Contact> {
    static constexpr int kType = kContact;
    static constexpr const char* kEvent = "ONCRMCONTACT";
    static constexpr const char* kUf = "CRM_CONTACT";
    static Table<Contact>& Of(CrmData& d) { return d.contacts; }
    static const Table<Contact>& Of(const CrmData& d) { return d.contacts; }
    static int64_t Owner(const Contact& r) { return r.assigned_by_id; }
    static void Created(Contact& r, Time now, int64_t user) {
        r.date_create = r.date_create ? r.date_create : now;
        r.date_modify = r.date_modify ? r.date_modify : r.date_create;
        r.created_by_id = r.created_by_id ? r.created_by_id : user;
    }
    static void Touched(Contact& r, Time now, int64_t user) {
        r.date_modify = now;
        r.modify_by_id = user;
    }
};

template <>
struct Traits<Company> {
    static constexpr int kType = kCompany;
    static constexpr const char* kEvent = "ONCRMCOMPANY";
    static constexpr const char* kUf = "CRM_COMPANY";
    static Table<Company>& Of(CrmData& d) { return d.companies; }
    static const Table<Company>& Of(const CrmData& d) { return d.companies; }
    static int64_t Owner(const Company& r) { return r.assigned_by_id; }
    static void Created(Company& r, Time now, int64_t user) {
        r.date_create = r.date_create ? r.date_create : now;
        r.date_modify = r.date_modify ? r.date_modify : r.date_create;
        r.created_by_id = r.created_by_id ? r.created_by_id : user;
    }
    static void Touched(Company& r, Time now, int64_t user) {
        r.date_modify = now;
        r.modify_by_id = user;
    }
};

template <>
struct Traits<Deal> {
    static constexpr int kType = kDeal;
    static constexpr const char* kEvent = "ONCRMDEAL";
    static constexpr const char* kUf = "CRM_DEAL";
    static Table<Deal>& Of(CrmData& d) { return d.deals; }
    static const Table<Deal>& Of(const CrmData& d) { return d.deals; }
    static int64_t Owner(const Deal& r) { return r.assigned_by_id; }
    static void Created(Deal& r, Time now, int64_t user) {
        r.date_create = r.date_create ? r.date_create : now;
        r.date_modify = r.date_modify ? r.date_modify : r.date_create;
        r.moved_time = r.moved_time ? r.moved_time : r.date_create;
        r.created_by_id = r.created_by_id ? r.created_by_id : user;
    }
    static void Touched(Deal& r, Time now, int64_t user) {
        r.date_modify = now;
        r.modify_by_id = user;
    }
};

template <>
struct Traits<SmartInvoice> {
    static constexpr int kType = kSmartInvoice;
    static constexpr const char* kEvent = "ONCRMDYNAMICITEM";
    static constexpr const char* kUf = "CRM_SMART_INVOICE";
    static Table<SmartInvoice>& Of(CrmData& d) { return d.invoices; }
    static const Table<SmartInvoice>& Of(const CrmData& d) { return d.invoices; }
    static int64_t Owner(const SmartInvoice& r) { return r.assigned_by_id; }
    static void Created(SmartInvoice& r, Time now, int64_t user) {
        r.created_time = r.created_time ? r.created_time : now;
        r.updated_time = r.updated_time ? r.updated_time : r.created_time;
        r.moved_time = r.moved_time ? r.moved_time : r.created_time;
        r.created_by_id = r.created_by_id ? r.created_by_id : user;
    }
    static void Touched(SmartInvoice& r, Time now, int64_t user) {
        r.updated_time = now;
        r.updated_by_id = user;
    }
};

template <>
struct Traits<OldInvoice> {
    static constexpr int kType = kOldInvoice;
    static constexpr const char* kEvent = "ONCRMINVOICE";
    static constexpr const char* kUf = "CRM_INVOICE";
    static Table<OldInvoice>& Of(CrmData& d) { return d.old_invoices; }
    static const Table<OldInvoice>& Of(const CrmData& d) { return d.old_invoices; }
    static int64_t Owner(const OldInvoice& r) { return r.responsible_id; }
    static void Created(OldInvoice& r, Time now, int64_t) {
        r.date_insert = r.date_insert ? r.date_insert : now;
        r.date_update = r.date_update ? r.date_update : r.date_insert;
        r.date_bill = r.date_bill ? r.date_bill : r.date_insert;
        r.date_status = r.date_status ? r.date_status : r.date_insert;
    }
    static void Touched(OldInvoice& r, Time now, int64_t) { r.date_update = now; }
};

template <>
struct Traits<Activity> {
    static constexpr int kType = 6;  // CRM_ACTIVITY owner type
    static constexpr const char* kEvent = "ONCRMACTIVITY";
    static constexpr const char* kUf = "CRM_ACTIVITY";
    static Table<Activity>& Of(CrmData& d) { return d.activities; }
    static const Table<Activity>& Of(const CrmData& d) { return d.activities; }
    static int64_t Owner(const Activity& r) { return r.responsible_id; }
    static void Created(Activity& r, Time now, int64_t user) {
        r.created = r.created ? r.created : now;
        r.last_updated = r.last_updated ? r.last_updated : r.created;
        r.start_time = r.start_time ? r.start_time : r.created;
        r.end_time = r.end_time ? r.end_time : r.start_time;
        r.author_id = r.author_id ? r.author_id : user;
    }
    static void Touched(Activity& r, Time now, int64_t user) {
        r.last_updated = now;
        r.editor_id = user;
    }
};

template <>
struct Traits<Requisite> {
    static constexpr int kType = kRequisite;
    static constexpr const char* kEvent = "ONCRMREQUISITE";
    static constexpr const char* kUf = "CRM_REQUISITE";
    static Table<Requisite>& Of(CrmData& d) { return d.requisites; }
    static const Table<Requisite>& Of(const CrmData& d) { return d.requisites; }
    static int64_t Owner(const Requisite&) { return 0; }
    static void Created(Requisite& r, Time now, int64_t user) {
        r.date_create = r.date_create ? r.date_create : now;
        r.date_modify = r.date_modify ? r.date_modify : r.date_create;
        r.created_by_id = r.created_by_id ? r.created_by_id : user;
    }
    static void Touched(Requisite& r, Time now, int64_t user) {
        r.date_modify = now;
        r.modify_by_id = user;
    }
};

/// data.FIELDS of an event about this row.
template <class T>
nlohmann::json EventFields(int64_t id) {
    nlohmann::json f = {{"ID", id}};
    if constexpr (std::is_same_v<T, SmartInvoice>) {
        f["ENTITY_TYPE_ID"] = kSmartInvoice;
    }
    return f;
}

/// Entities an activity is bound to: its owner plus the entities of its communications.
inline std::vector<std::pair<int, int64_t>> ActivityBindings(const Activity& a) {
    std::vector<std::pair<int, int64_t>> out;
    out.emplace_back(a.owner_type_id, a.owner_id);
    for (const auto& c : a.communications) {
        std::pair<int, int64_t> b{c.entity_type_id, c.entity_id};
        if (c.entity_id != 0 && std::find(out.begin(), out.end(), b) == out.end()) {
            out.push_back(b);
        }
    }
    return out;
}

}  // namespace fakeportal::detail
