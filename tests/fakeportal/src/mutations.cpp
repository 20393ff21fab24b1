// The C++ mutation API: add/update/delete any entity, merges, moves; each fires the events the
// platform fires for the same change made in the portal UI.
#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "entity_traits.hpp"
#include "portal_impl.hpp"
#include "query.hpp"

namespace fakeportal {

using namespace detail;

namespace {

void ReplaceId(std::vector<int64_t>& ids, int64_t from, int64_t to) {
    bool had_to = std::find(ids.begin(), ids.end(), to) != ids.end();
    for (auto it = ids.begin(); it != ids.end();) {
        if (*it == from) {
            if (had_to) {
                it = ids.erase(it);
                continue;
            }
            *it = to;
            had_to = true;
        }
        ++it;
    }
}

void RemoveId(std::vector<int64_t>& ids, int64_t id) {
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

// Detaches everything that points at a deleted contact/company.
void UnlinkEntity(CrmData& crm, int type, int64_t id) {
    if (type == kContact) {
        for (auto& d : crm.deals.rows) {
            RemoveId(d.contact_ids, id);
        }
        for (auto& i : crm.invoices.rows) {
            RemoveId(i.contact_ids, id);
        }
        for (auto& i : crm.old_invoices.rows) {
            if (i.uf_contact_id == id) {
                i.uf_contact_id = 0;
            }
        }
    } else if (type == kCompany) {
        for (auto& c : crm.contacts.rows) {
            RemoveId(c.company_ids, id);
        }
        for (auto& d : crm.deals.rows) {
            if (d.company_id == id) {
                d.company_id = 0;
            }
        }
        for (auto& i : crm.invoices.rows) {
            if (i.company_id == id) {
                i.company_id = 0;
            }
        }
        for (auto& i : crm.old_invoices.rows) {
            if (i.uf_company_id == id) {
                i.uf_company_id = 0;
            }
        }
    }
    // Requisites of a deleted client go with it.
    crm.requisites.rows.erase(
        std::remove_if(
            crm.requisites.rows.begin(), crm.requisites.rows.end(),
            [&](const Requisite& r) { return r.entity_type_id == type && r.entity_id == id; }),
        crm.requisites.rows.end());
}

}  // namespace

template <class T>
int64_t Portal::Add(T row, const MutationContext& ctx) {
    std::unique_lock lock(impl_->data_mu);
    Traits<T>::Created(row, static_cast<Time>(impl_->Now()), ctx.user_id);
    row.id = 0;
    const int64_t id = impl_->crm.Insert(std::move(row));  // Insert keeps the company index
    impl_->FireEventLocked(std::string(Traits<T>::kEvent) + "ADD", EventFields<T>(id), ctx);
    return id;
}

template <class T>
bool Portal::Update(int64_t id, const std::function<void(T&)>& change, const MutationContext& ctx) {
    std::unique_lock lock(impl_->data_mu);
    T* row = Traits<T>::Of(impl_->crm).Find(id);
    if (!row) {
        return false;
    }
    std::string stage_before;
    if constexpr (std::is_same_v<T, Deal> || std::is_same_v<T, SmartInvoice>) {
        stage_before = row->stage_id;
    }
    std::vector<int64_t> bindings_before;
    if constexpr (std::is_same_v<T, Contact>) {
        bindings_before = row->company_ids;
    }
    change(*row);
    row->id = id;
    const Time now = static_cast<Time>(impl_->Now());
    if constexpr (std::is_same_v<T, Deal> || std::is_same_v<T, SmartInvoice>) {
        if (row->stage_id != stage_before) {
            row->moved_time = now;
            row->moved_by_id = ctx.user_id;
        }
    }
    Traits<T>::Touched(*row, now, ctx.user_id);
    if constexpr (std::is_same_v<T, Contact>) {
        if (row->company_ids != bindings_before) {
            impl_->crm.RebuildCompanyContacts();
        }
    }
    impl_->FireEventLocked(std::string(Traits<T>::kEvent) + "UPDATE", EventFields<T>(id), ctx);
    return true;
}

template <class T>
bool Portal::Delete(int64_t id, const MutationContext& ctx) {
    std::unique_lock lock(impl_->data_mu);
    auto& rows = Traits<T>::Of(impl_->crm).rows;
    auto it = std::lower_bound(rows.begin(), rows.end(), id,
                               [](const T& r, int64_t v) { return r.id < v; });
    if (it == rows.end() || it->id != id) {
        return false;
    }
    rows.erase(it);
    if constexpr (std::is_same_v<T, Contact> || std::is_same_v<T, Company>) {
        UnlinkEntity(impl_->crm, Traits<T>::kType, id);
        impl_->crm.RebuildCompanyContacts();
    }
    impl_->FireEventLocked(std::string(Traits<T>::kEvent) + "DELETE", EventFields<T>(id), ctx);
    return true;
}

template <class T>
std::optional<T> Portal::Get(int64_t id) const {
    std::shared_lock lock(impl_->data_mu);
    const T* row = Traits<T>::Of(impl_->crm).Find(id);
    return row ? std::optional<T>(*row) : std::nullopt;
}

template <class T>
size_t Portal::Count() const {
    std::shared_lock lock(impl_->data_mu);
    return Traits<T>::Of(impl_->crm).rows.size();
}

#define FAKEPORTAL_INSTANTIATE(T)                                            \
    template int64_t Portal::Add<T>(T, const MutationContext&);              \
    template bool Portal::Update<T>(int64_t, const std::function<void(T&)>&, \
                                    const MutationContext&);                 \
    template bool Portal::Delete<T>(int64_t, const MutationContext&);        \
    template std::optional<T> Portal::Get<T>(int64_t) const;                 \
    template size_t Portal::Count<T>() const;
FAKEPORTAL_INSTANTIATE(Contact)
FAKEPORTAL_INSTANTIATE(Company)
FAKEPORTAL_INSTANTIATE(Deal)
FAKEPORTAL_INSTANTIATE(SmartInvoice)
FAKEPORTAL_INSTANTIATE(OldInvoice)
FAKEPORTAL_INSTANTIATE(Activity)
FAKEPORTAL_INSTANTIATE(Requisite)
#undef FAKEPORTAL_INSTANTIATE

bool Portal::MergeContacts(const std::vector<int64_t>& ids, const MutationContext& ctx) {
    if (ids.size() < 2) {
        return false;
    }
    std::unique_lock lock(impl_->data_mu);
    CrmData& crm = impl_->crm;
    const int64_t keep = ids[0];
    if (!crm.contacts.Find(keep)) {
        return false;
    }
    for (size_t i = 1; i < ids.size(); ++i) {
        const int64_t gone = ids[i];
        Contact* other = crm.contacts.Find(gone);
        if (!other || gone == keep) {
            continue;
        }
        const Contact copy = *other;
        Contact* survivor = crm.contacts.Find(keep);
        for (int64_t company : copy.company_ids) {
            if (std::find(survivor->company_ids.begin(), survivor->company_ids.end(), company) ==
                survivor->company_ids.end()) {
                survivor->company_ids.push_back(company);
            }
        }
        for (const auto& m : copy.fm) {
            const bool dup = std::any_of(
                survivor->fm.begin(), survivor->fm.end(),
                [&](const Multifield& x) { return x.type_id == m.type_id && x.value == m.value; });
            if (!dup) {
                survivor->fm.push_back(m);
            }
        }
        for (auto& d : crm.deals.rows) {
            ReplaceId(d.contact_ids, gone, keep);
        }
        for (auto& inv : crm.invoices.rows) {
            ReplaceId(inv.contact_ids, gone, keep);
        }
        for (auto& inv : crm.old_invoices.rows) {
            if (inv.uf_contact_id == gone) {
                inv.uf_contact_id = keep;
            }
        }
        for (auto& a : crm.activities.rows) {
            if (a.owner_type_id == kContact && a.owner_id == gone) {
                a.owner_id = keep;
            }
            for (auto& cm : a.communications) {
                if (cm.entity_type_id == kContact && cm.entity_id == gone) {
                    cm.entity_id = keep;
                }
            }
        }
        for (auto& r : crm.requisites.rows) {
            if (r.entity_type_id == kContact && r.entity_id == gone) {
                r.entity_id = keep;
            }
        }
        auto& rows = crm.contacts.rows;
        rows.erase(std::remove_if(rows.begin(), rows.end(),
                                  [&](const Contact& c) { return c.id == gone; }),
                   rows.end());
        impl_->FireEventLocked("ONCRMCONTACTDELETE", EventFields<Contact>(gone), ctx);
    }
    Traits<Contact>::Touched(*crm.contacts.Find(keep), static_cast<Time>(impl_->Now()),
                             ctx.user_id);
    crm.RebuildCompanyContacts();
    impl_->FireEventLocked("ONCRMCONTACTUPDATE", EventFields<Contact>(keep), ctx);
    return true;
}

bool Portal::MergeCompanies(const std::vector<int64_t>& ids, const MutationContext& ctx) {
    if (ids.size() < 2) {
        return false;
    }
    std::unique_lock lock(impl_->data_mu);
    CrmData& crm = impl_->crm;
    const int64_t keep = ids[0];
    if (!crm.companies.Find(keep)) {
        return false;
    }
    for (size_t i = 1; i < ids.size(); ++i) {
        const int64_t gone = ids[i];
        Company* other = crm.companies.Find(gone);
        if (!other || gone == keep) {
            continue;
        }
        const Company copy = *other;
        Company* survivor = crm.companies.Find(keep);
        for (const auto& m : copy.fm) {
            const bool dup = std::any_of(
                survivor->fm.begin(), survivor->fm.end(),
                [&](const Multifield& x) { return x.type_id == m.type_id && x.value == m.value; });
            if (!dup) {
                survivor->fm.push_back(m);
            }
        }
        for (auto& c : crm.contacts.rows) {
            ReplaceId(c.company_ids, gone, keep);
        }
        for (auto& d : crm.deals.rows) {
            if (d.company_id == gone) {
                d.company_id = keep;
            }
        }
        for (auto& inv : crm.invoices.rows) {
            if (inv.company_id == gone) {
                inv.company_id = keep;
            }
        }
        for (auto& inv : crm.old_invoices.rows) {
            if (inv.uf_company_id == gone) {
                inv.uf_company_id = keep;
            }
        }
        for (auto& a : crm.activities.rows) {
            if (a.owner_type_id == kCompany && a.owner_id == gone) {
                a.owner_id = keep;
            }
            for (auto& cm : a.communications) {
                if (cm.entity_type_id == kCompany && cm.entity_id == gone) {
                    cm.entity_id = keep;
                }
            }
        }
        for (auto& r : crm.requisites.rows) {
            if (r.entity_type_id == kCompany && r.entity_id == gone) {
                r.entity_id = keep;
            }
        }
        auto& rows = crm.companies.rows;
        rows.erase(std::remove_if(rows.begin(), rows.end(),
                                  [&](const Company& c) { return c.id == gone; }),
                   rows.end());
        impl_->FireEventLocked("ONCRMCOMPANYDELETE", EventFields<Company>(gone), ctx);
    }
    Traits<Company>::Touched(*crm.companies.Find(keep), static_cast<Time>(impl_->Now()),
                             ctx.user_id);
    crm.RebuildCompanyContacts();
    impl_->FireEventLocked("ONCRMCOMPANYUPDATE", EventFields<Company>(keep), ctx);
    return true;
}

bool Portal::MoveContactToCompany(int64_t contact_id,
                                  int64_t from_company,
                                  int64_t to_company,
                                  bool primary,
                                  const MutationContext& ctx) {
    return Update<Contact>(
        contact_id,
        [&](Contact& c) {
            if (from_company != 0) {
                RemoveId(c.company_ids, from_company);
            }
            if (to_company != 0) {
                RemoveId(c.company_ids, to_company);
                if (primary) {
                    c.company_ids.insert(c.company_ids.begin(), to_company);
                } else {
                    c.company_ids.push_back(to_company);
                }
            }
        },
        ctx);
}

bool Portal::MoveDealToStage(int64_t deal_id,
                             const std::string& stage_id,
                             const MutationContext& ctx) {
    return Update<Deal>(
        deal_id, [&](Deal& d) { d.stage_id = stage_id; }, ctx);
}

bool Portal::MoveInvoiceToStage(int64_t invoice_id,
                                const std::string& stage_id,
                                const MutationContext& ctx) {
    return Update<SmartInvoice>(
        invoice_id, [&](SmartInvoice& i) { i.stage_id = stage_id; }, ctx);
}

void Portal::BulkLoad(const std::function<void(CrmData&)>& fill) {
    std::unique_lock lock(impl_->data_mu);
    fill(impl_->crm);
    impl_->crm.RebuildCompanyContacts();
}

void Portal::Read(const std::function<void(const CrmData&)>& reader) const {
    std::shared_lock lock(impl_->data_mu);
    reader(impl_->crm);
}

std::optional<std::string> Portal::UfValueOf(int entity_type_id,
                                             int64_t id,
                                             const std::string& field_name) const {
    std::shared_lock lock(impl_->data_mu);
    const CrmData& crm = impl_->crm;
    const UserField* f =
        crm.FindUserField(entity_type_id == kContact ? "CRM_CONTACT" : "CRM_COMPANY", field_name);
    if (!f) {
        return std::nullopt;
    }
    const UfValues* values = nullptr;
    if (entity_type_id == kContact) {
        const Contact* c = crm.contacts.Find(id);
        values = c ? &c->uf : nullptr;
    } else {
        const Company* c = crm.companies.Find(id);
        values = c ? &c->uf : nullptr;
    }
    if (!values) {
        return std::nullopt;
    }
    for (const auto& v : *values) {
        if (v.field_id == f->id && !v.values.empty()) {
            return v.values.front();
        }
    }
    return std::nullopt;
}

}  // namespace fakeportal
