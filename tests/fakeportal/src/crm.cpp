#include "fakeportal/crm.hpp"

#include <algorithm>
#include <stdexcept>

namespace fakeportal {

template <class T>
T* Table<T>::Find(int64_t id) {
    auto it = std::lower_bound(rows.begin(), rows.end(), id,
                               [](const T& r, int64_t v) { return r.id < v; });
    return it != rows.end() && it->id == id ? &*it : nullptr;
}

template <class T>
const T* Table<T>::Find(int64_t id) const {
    auto it = std::lower_bound(rows.begin(), rows.end(), id,
                               [](const T& r, int64_t v) { return r.id < v; });
    return it != rows.end() && it->id == id ? &*it : nullptr;
}

template struct Table<Contact>;
template struct Table<Company>;
template struct Table<Deal>;
template struct Table<SmartInvoice>;
template struct Table<OldInvoice>;
template struct Table<Activity>;
template struct Table<Requisite>;

namespace {

template <class T>
int64_t Append(Table<T>& table, T row) {
    if (row.id == 0) {
        row.id = table.next_id;
    } else if (!table.rows.empty() && row.id <= table.rows.back().id) {
        throw std::invalid_argument("CrmData::Insert: ids must increase");
    }
    table.next_id = std::max(table.next_id, row.id + 1);
    const int64_t id = row.id;
    table.rows.push_back(std::move(row));
    return id;
}

void FillMultifieldIds(std::vector<Multifield>& fm, int64_t& next) {
    for (auto& m : fm) {
        if (m.id == 0) {
            m.id = next++;
        }
    }
}

}  // namespace

int64_t CrmData::Insert(Contact row) {
    FillMultifieldIds(row.fm, next_multifield_id);
    const int64_t id = Append(contacts, std::move(row));
    for (int64_t company : contacts.rows.back().company_ids) {
        auto& list = company_contacts[company];
        list.insert(std::upper_bound(list.begin(), list.end(), id), id);
    }
    return id;
}

int64_t CrmData::Insert(Company row) {
    FillMultifieldIds(row.fm, next_multifield_id);
    return Append(companies, std::move(row));
}

int64_t CrmData::Insert(Deal row) {
    if (row.stage_id.empty()) {
        const std::string entity = DealStageEntity(row.category_id);
        for (const auto& s : statuses) {
            if (s.entity_id == entity) {
                row.stage_id = s.status_id;
                break;
            }
        }
    }
    return Append(deals, std::move(row));
}

int64_t CrmData::Insert(SmartInvoice row) {
    if (row.category_id == 0) {
        row.category_id = DefaultInvoiceCategory();
    }
    if (row.stage_id.empty()) {
        const std::string entity = InvoiceStageEntity(row.category_id);
        for (const auto& s : statuses) {
            if (s.entity_id == entity) {
                row.stage_id = s.status_id;
                break;
            }
        }
    }
    return Append(invoices, std::move(row));
}

int64_t CrmData::Insert(OldInvoice row) {
    return Append(old_invoices, std::move(row));
}

int64_t CrmData::Insert(Activity row) {
    for (auto& c : row.communications) {
        if (c.id == 0) {
            c.id = next_communication_id++;
        }
    }
    return Append(activities, std::move(row));
}

int64_t CrmData::Insert(Requisite row) {
    return Append(requisites, std::move(row));
}

int64_t CrmData::AddCategory(Category category) {
    if (category.id == 0 && !(category.entity_type_id == kDeal && category.is_default)) {
        category.id = next_category_id++;
    }
    categories.push_back(category);
    return category.id;
}

void CrmData::AddStatus(Status status) {
    status.id = next_status_id++;
    statuses.push_back(std::move(status));
}

const Status* CrmData::FindStatus(const std::string& entity_id,
                                  const std::string& status_id) const {
    for (const auto& s : statuses) {
        if (s.entity_id == entity_id && s.status_id == status_id) {
            return &s;
        }
    }
    return nullptr;
}

std::string CrmData::DealStageEntity(int64_t category_id) {
    return category_id == 0 ? "DEAL_STAGE" : "DEAL_STAGE_" + std::to_string(category_id);
}

std::string CrmData::InvoiceStageEntity(int64_t category_id) {
    return "SMART_INVOICE_STAGE_" + std::to_string(category_id);
}

char CrmData::DealStageSemantics(int64_t category_id, const std::string& stage_id) const {
    const Status* s = FindStatus(DealStageEntity(category_id), stage_id);
    return s ? s->semantics : 'P';
}

char CrmData::InvoiceStageSemantics(int64_t category_id, const std::string& stage_id) const {
    const Status* s = FindStatus(InvoiceStageEntity(category_id), stage_id);
    return s ? s->semantics : 'P';
}

int64_t CrmData::DefaultInvoiceCategory() const {
    for (const auto& c : categories) {
        if (c.entity_type_id == kSmartInvoice && c.is_default) {
            return c.id;
        }
    }
    return 0;
}

void CrmData::CreateDefaultDirectories() {
    Category deal_default{0, kDeal, "General", 100, true};
    categories.push_back(deal_default);
    struct S {
        const char* id;
        const char* name;
        char sem;
    };
    int sort = 10;
    for (const S& s :
         {S{"NEW", "New", 'P'}, S{"PREPARATION", "Preparing documents", 'P'},
          S{"PREPAYMENT_INVOICE", "Prepayment invoice", 'P'}, S{"EXECUTING", "In progress", 'P'},
          S{"FINAL_INVOICE", "Final invoice", 'P'}, S{"WON", "Deal won", 'S'},
          S{"LOSE", "Deal lost", 'F'}, S{"APOLOGY", "Analyze failure", 'F'}}) {
        AddStatus(Status{0, "DEAL_STAGE", s.id, s.name, sort, 0, s.sem, "#39A8EF", true});
        sort += 10;
    }
    const int64_t inv = AddCategory(Category{0, kSmartInvoice, "Invoices", 100, true});
    const std::string prefix = "DT31_" + std::to_string(inv) + ":";
    sort = 10;
    for (const S& s : {S{"N", "New", 'P'}, S{"S", "Sent to client", 'P'}, S{"P", "Paid", 'S'},
                       S{"D", "Declined", 'F'}}) {
        AddStatus(Status{0, InvoiceStageEntity(inv), prefix + s.id, s.name, sort, inv, s.sem,
                         "#39A8EF", true});
        sort += 10;
    }
    sort = 10;
    for (const S& s :
         {S{"N", "New", 'P'}, S{"S", "Sent", 'P'}, S{"P", "Paid", 'S'}, S{"D", "Declined", 'F'}}) {
        AddStatus(Status{0, "INVOICE_STATUS", s.id, s.name, sort, 0, s.sem, "#39A8EF", true});
        sort += 10;
    }
    sort = 10;
    for (const char* t : {"CLIENT", "SUPPLIER", "PARTNER", "OTHER"}) {
        AddStatus(Status{0, "CONTACT_TYPE", t, t, sort, 0, 'P', "", true});
        sort += 10;
    }
    sort = 10;
    for (const char* t : {"CUSTOMER", "SUPPLIER", "COMPETITOR", "PARTNER", "OTHER"}) {
        AddStatus(Status{0, "COMPANY_TYPE", t, t, sort, 0, 'P', "", true});
        sort += 10;
    }
    sort = 10;
    for (const char* t : {"CALL", "EMAIL", "WEB", "ADVERTISING", "PARTNER", "RECOMMENDATION",
                          "TRADE_SHOW", "WEBFORM", "OTHER"}) {
        AddStatus(Status{0, "SOURCE", t, t, sort, 0, 'P', "", true});
        sort += 10;
    }
}

int64_t CrmData::AddDealPipeline(const std::string& name) {
    const int64_t id = AddCategory(Category{0, kDeal, name, 200, false});
    const std::string entity = DealStageEntity(id);
    const std::string prefix = "C" + std::to_string(id) + ":";
    AddStatus(Status{0, entity, prefix + "NEW", "New", 10, id, 'P', "#39A8EF", true});
    AddStatus(Status{0, entity, prefix + "WORK", "In progress", 20, id, 'P', "#39A8EF", true});
    AddStatus(Status{0, entity, prefix + "WON", "Won", 30, id, 'S', "#7BD500", true});
    AddStatus(Status{0, entity, prefix + "LOSE", "Lost", 40, id, 'F', "#FF5752", true});
    return id;
}

const UserField* CrmData::FindUserField(int64_t id) const {
    for (const auto& f : user_fields) {
        if (f.id == id) {
            return &f;
        }
    }
    return nullptr;
}

const UserField* CrmData::FindUserField(const std::string& entity_id,
                                        const std::string& field_name) const {
    for (const auto& f : user_fields) {
        if (f.entity_id == entity_id && f.field_name == field_name) {
            return &f;
        }
    }
    return nullptr;
}

void CrmData::RebuildCompanyContacts() {
    company_contacts.clear();
    for (const auto& c : contacts.rows) {
        for (int64_t company : c.company_ids) {
            company_contacts[company].push_back(c.id);
        }
    }
}

}  // namespace fakeportal
