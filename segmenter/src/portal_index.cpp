#include "segmenter/portal_index.hpp"

#include <algorithm>
#include <utility>

#include "index_impl.hpp"

namespace segmenter {

using detail::CompanyKey;
using detail::ContactKey;
using detail::InvoiceKey;
using detail::IsCompanyKey;
using detail::KeyId;
using detail::kNever;
using detail::kNoKey;
using detail::ValidId;

// ---------------------------------------------------------------------------------------------
// PortalIndex: a thin shell over Impl.

PortalIndex::PortalIndex(Settings settings) : impl_(std::make_unique<Impl>(settings)) {}
PortalIndex::~PortalIndex() = default;
PortalIndex::PortalIndex(PortalIndex&&) noexcept = default;
PortalIndex& PortalIndex::operator=(PortalIndex&&) noexcept = default;

PortalIndex PortalIndex::Build(PortalData rows, Settings settings) {
    PortalIndex index(settings);
    index.impl_->Reserve(rows);
    index.impl_->Apply(Changes{std::move(rows), {}});
    return index;
}

std::vector<CardRef> PortalIndex::Apply(Changes changes) {
    return impl_->Apply(std::move(changes));
}

const Settings& PortalIndex::settings() const {
    return impl_->settings_;
}

void PortalIndex::set_settings(Settings settings) {
    impl_->settings_ = std::move(settings);
    ++impl_->generation_;
}

std::optional<CardValues> PortalIndex::Card(CardRef card, Instant t) const {
    return impl_->Card(card, t);
}

std::vector<segmenter::Card> PortalIndex::AllCards(Instant t) const {
    return impl_->AllCards(t);
}

std::optional<ClientDetail> PortalIndex::Detail(CardRef card, Instant t) const {
    return impl_->Detail(card, t);
}

MonthlySeries PortalIndex::Series(Instant t) const {
    return impl_->Series(t);
}

PortalIndex::Counts PortalIndex::counts() const {
    return impl_->counts();
}

// ---------------------------------------------------------------------------------------------
// What a batch of raw changes may have affected. Each stage of Propagate reads some of these
// sets and adds to later ones; every set is duplicate-free.

struct PortalIndex::Impl::Pending {
    // Set when the batch starts from an empty index (Build): then every row is new, every contact
    // and company is already noted by its own upsert, and the marks that only serve to find
    // affected neighbours can be skipped.
    bool bulk = false;
    detail::KeySet companies_status;     // company ids that became or stopped being clients
    detail::KeySet contacts_membership;  // contact ids whose primary company must be recomputed
    detail::KeySet contacts_existence;   // contact ids that appeared or disappeared
    detail::KeySet contacts_resolution;  // contact ids whose resolve() changed
    detail::SlotSet deals_owner;         // deal slots whose owner must be recomputed
    detail::SlotSet invoices_owner;      // invoice slots whose owner must be recomputed
    detail::KeySet deals_payment;        // deal ids whose being a payment may have changed
    detail::KeySet entities;             // contact/company keys whose own signals changed
    detail::KeySet clients;              // client keys whose facts must be recomputed
    detail::KeySet cards;                // card keys whose values may have changed
    bool currencies = false;             // the currency table changed: every amount converts anew
};

namespace {

std::int64_t EntityKeyOf(std::int32_t entity_type, std::int64_t entity_id) {
    if (!ValidId(entity_id)) {
        return kNoKey;
    }
    if (entity_type == kEntityTypeContact) {
        return ContactKey(entity_id);
    }
    if (entity_type == kEntityTypeCompany) {
        return CompanyKey(entity_id);
    }
    return kNoKey;  // deals, leads, ...: not a client binding
}

// The lists below are tiny (a handful of ids), so duplicates are found by looking back instead of
// building a set: no allocation on the hot path of a portal load.

// Calls f once for each distinct valid id of the list, in list order.
template <class F>
void ForEachDistinctId(const std::vector<std::int64_t>& ids, F&& f) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const std::int64_t id = ids[i];
        const auto before = ids.begin() + static_cast<std::ptrdiff_t>(i);
        if (ValidId(id) && std::find(ids.begin(), before, id) == before) {
            f(id);
        }
    }
}

// The companies a contact references (COMPANY_ID and its links), once each.
template <class F>
void ForEachCompanyRef(const Contact& contact, F&& f) {
    if (ValidId(contact.company_id)) {
        f(contact.company_id);
    }
    ForEachDistinctId(contact.company_ids, [&](std::int64_t id) {
        if (id != contact.company_id) {
            f(id);
        }
    });
}

// The contact and company keys an activity is bound to, once each.
template <class F>
void ForEachEntity(const std::vector<Binding>& bindings, F&& f) {
    for (std::size_t i = 0; i < bindings.size(); ++i) {
        const std::int64_t key = EntityKeyOf(bindings[i].entity_type, bindings[i].entity_id);
        if (key == kNoKey) {
            continue;
        }
        bool seen = false;
        for (std::size_t j = 0; j < i && !seen; ++j) {
            seen = EntityKeyOf(bindings[j].entity_type, bindings[j].entity_id) == key;
        }
        if (!seen) {
            f(key);
        }
    }
}

bool ValidInvoiceId(std::int64_t id) {
    return ValidId(id);
}

}  // namespace

void PortalIndex::Impl::Reserve(const PortalData& rows) {
    contacts_.reserve(rows.contacts.size());
    companies_.reserve(rows.companies.size());
    deals_.reserve(rows.deals.size());
    invoices_.reserve(rows.invoices.size());
    activities_.reserve(rows.activities.size());
    requisites_.reserve(rows.requisites.size());
    contacts_by_company_.reserve(rows.companies.size());
    deals_by_company_.reserve(rows.companies.size());
    invoices_by_company_.reserve(rows.companies.size());
    deals_by_contact_.reserve(rows.contacts.size());
    invoices_by_contact_.reserve(rows.contacts.size());
    invoices_by_deal_.reserve(rows.invoices.size());
    activities_by_entity_.reserve(rows.contacts.size() + rows.companies.size());
    requisite_count_.reserve(rows.requisites.size());
}

std::vector<CardRef> PortalIndex::Impl::Apply(Changes changes) {
    ++generation_;
    Pending pending;
    pending.bulk = contacts_.size() == 0 && companies_.size() == 0 && deals_.size() == 0 &&
                   invoices_.size() == 0 && activities_.size() == 0 && requisites_.size() == 0;
    if (pending.bulk) {
        const PortalData& rows = changes.upsert;
        contacts_by_company_.BeginBulk(rows.contacts.size());
        deals_by_company_.BeginBulk(rows.deals.size());
        invoices_by_company_.BeginBulk(rows.invoices.size());
        deals_by_contact_.BeginBulk(rows.deals.size());
        invoices_by_contact_.BeginBulk(rows.invoices.size());
        invoices_by_deal_.BeginBulk(rows.invoices.size());
        activities_by_entity_.BeginBulk(rows.activities.size() * 3 / 2);
        pending.clients.reserve(rows.contacts.size() + rows.companies.size());
        pending.entities.reserve(rows.contacts.size() + rows.companies.size());
        pending.contacts_membership.reserve(rows.contacts.size());
    }
    const RemovedIds& removed = changes.remove;
    for (const std::int64_t id : removed.activities) {
        RemoveActivity(id, pending);
    }
    for (const std::int64_t id : removed.requisites) {
        RemoveRequisite(id, pending);
    }
    for (const InvoiceId& invoice : removed.invoices) {
        if (ValidInvoiceId(invoice.id)) {
            RemoveInvoice(InvoiceKey(invoice.id, invoice.legacy), pending);
        }
    }
    for (const std::int64_t id : removed.deals) {
        RemoveDeal(id, pending);
    }
    for (const std::int64_t id : removed.contacts) {
        RemoveContact(id, pending);
    }
    for (const std::int64_t id : removed.companies) {
        RemoveCompany(id, pending);
    }
    for (const std::string& code : removed.currencies) {
        RemoveCurrency(code, pending);
    }

    PortalData& upsert = changes.upsert;
    for (Currency& currency : upsert.currencies) {
        UpsertCurrency(std::move(currency), pending);
    }
    for (Company& company : upsert.companies) {
        UpsertCompany(std::move(company), pending);
    }
    for (Contact& contact : upsert.contacts) {
        UpsertContact(std::move(contact), pending);
    }
    for (Deal& deal : upsert.deals) {
        UpsertDeal(std::move(deal), pending);
    }
    for (Invoice& invoice : upsert.invoices) {
        UpsertInvoice(std::move(invoice), pending);
    }
    for (Activity& activity : upsert.activities) {
        UpsertActivity(std::move(activity), pending);
    }
    for (const Requisite& requisite : upsert.requisites) {
        UpsertRequisite(requisite, pending);
    }

    for (detail::MultiIndex* index : AllIndices()) {
        index->EndBulk();
    }
    Propagate(pending);

    std::vector<CardRef> touched;
    if (pending.bulk) {
        // Every card is new.
        touched.reserve(contacts_.size() + companies_.size());
        for (const detail::ContactRow& row : contacts_.rows()) {
            if (row.alive) {
                touched.push_back({CardKind::kContact, row.data.id});
            }
        }
        for (const detail::CompanyRow& row : companies_.rows()) {
            if (row.alive) {
                touched.push_back({CardKind::kCompany, row.data.id});
            }
        }
        std::sort(touched.begin(), touched.end());
        return touched;
    }
    touched.reserve(pending.cards.size());
    for (const std::int64_t key : pending.cards.keys()) {
        const bool company = IsCompanyKey(key);
        const bool alive =
            company ? companies_.get(KeyId(key)) != nullptr : contacts_.get(KeyId(key)) != nullptr;
        if (alive) {
            touched.push_back({company ? CardKind::kCompany : CardKind::kContact, KeyId(key)});
        }
    }
    std::sort(touched.begin(), touched.end());
    return touched;
}

// ---------------------------------------------------------------------------------------------
// Raw changes.

void PortalIndex::Impl::RemoveContact(std::int64_t id, Pending& pending) {
    const auto slot = contacts_.find(id);
    if (!slot) {
        return;
    }
    detail::ContactRow& row = contacts_[*slot];
    ForEachCompanyRef(row.data,
                      [&](std::int64_t company) { contacts_by_company_.remove(company, *slot); });
    if (row.primary != 0) {
        pending.clients.insert(CompanyKey(row.primary));  // loses a member
    }
    pending.contacts_existence.insert(id);
    contacts_.release(id, *slot);
}

void PortalIndex::Impl::RemoveCompany(std::int64_t id, Pending& pending) {
    const auto slot = companies_.find(id);
    if (!slot) {
        return;
    }
    if (!companies_[*slot].data.is_my_company) {
        pending.companies_status.insert(id);
    }
    companies_.release(id, *slot);
}

void PortalIndex::Impl::RemoveDeal(std::int64_t id, Pending& pending) {
    const auto slot = deals_.find(id);
    if (!slot) {
        return;
    }
    if (deals_[*slot].owner != kNoKey) {
        pending.clients.insert(deals_[*slot].owner);
    }
    UnindexDeal(*slot);
    deals_.release(id, *slot);
}

void PortalIndex::Impl::RemoveInvoice(std::int64_t key, Pending& pending) {
    const auto slot = invoices_.find(key);
    if (!slot) {
        return;
    }
    const detail::InvoiceRow& row = invoices_[*slot];
    if (row.owner != kNoKey) {
        pending.clients.insert(row.owner);
    }
    if (ValidId(row.data.deal_id)) {
        pending.deals_payment.insert(row.data.deal_id);
    }
    UnindexInvoice(*slot);
    invoices_.release(key, *slot);
}

void PortalIndex::Impl::RemoveActivity(std::int64_t id, Pending& pending) {
    const auto slot = activities_.find(id);
    if (!slot) {
        return;
    }
    if (!activities_[*slot].app_created) {
        ForEachEntity(activities_[*slot].bindings, [&](std::int64_t entity) {
            activities_by_entity_.remove(entity, *slot);
            pending.entities.insert(entity);
        });
    }
    activities_.release(id, *slot);
}

// The table is tiny: a linear search by code.
void PortalIndex::Impl::UpsertCurrency(Currency&& currency, Pending& pending) {
    pending.currencies = true;
    for (Currency& row : currencies_) {
        if (row.code == currency.code) {
            row = std::move(currency);
            return;
        }
    }
    currencies_.push_back(std::move(currency));
}

void PortalIndex::Impl::RemoveCurrency(const std::string& code, Pending& pending) {
    const auto before = currencies_.size();
    std::erase_if(currencies_, [&](const Currency& row) { return row.code == code; });
    pending.currencies = pending.currencies || currencies_.size() != before;
}

void PortalIndex::Impl::RemoveRequisite(std::int64_t id, Pending& pending) {
    const auto slot = requisites_.find(id);
    if (!slot) {
        return;
    }
    const std::int64_t entity = requisites_[*slot].entity;
    if (entity != kNoKey) {
        AdjustRequisites(entity, -1);
        pending.entities.insert(entity);
    }
    requisites_.release(id, *slot);
}

void PortalIndex::Impl::UpsertContact(Contact&& contact, Pending& pending) {
    const std::int64_t id = contact.id;
    if (!ValidId(id)) {
        return;
    }
    bool inserted = false;
    const std::uint32_t slot = contacts_.acquire(id, &inserted);
    detail::ContactRow& row = contacts_[slot];
    if (inserted) {
        if (!pending.bulk) {
            pending.contacts_existence.insert(id);
        }
    } else {
        ForEachCompanyRef(
            row.data, [&](std::int64_t company) { contacts_by_company_.remove(company, slot); });
    }
    row.data = std::move(contact);
    ForEachCompanyRef(row.data,
                      [&](std::int64_t company) { contacts_by_company_.add(company, slot); });
    pending.contacts_membership.insert(id);
    pending.entities.insert(ContactKey(id));
    if (!pending.bulk) {
        pending.cards.insert(ContactKey(id));
    }
}

void PortalIndex::Impl::UpsertCompany(Company&& company, Pending& pending) {
    const std::int64_t id = company.id;
    if (!ValidId(id)) {
        return;
    }
    bool inserted = false;
    const std::uint32_t slot = companies_.acquire(id, &inserted);
    detail::CompanyRow& row = companies_[slot];
    const bool was_client = !inserted && !row.data.is_my_company;
    row.data = std::move(company);
    if (was_client != !row.data.is_my_company && !pending.bulk) {
        pending.companies_status.insert(id);
    }
    pending.clients.insert(CompanyKey(id));
    pending.entities.insert(CompanyKey(id));
    if (!pending.bulk) {
        pending.cards.insert(CompanyKey(id));
    }
}

void PortalIndex::Impl::UpsertDeal(Deal&& deal, Pending& pending) {
    const std::int64_t id = deal.id;
    if (!ValidId(id)) {
        return;
    }
    bool inserted = false;
    const std::uint32_t slot = deals_.acquire(id, &inserted);
    detail::DealRow& row = deals_[slot];
    if (!inserted) {
        if (row.owner != kNoKey) {
            pending.clients.insert(row.owner);
        }
        UnindexDeal(slot);
    }
    row.data = std::move(deal);
    row.owner = kNoKey;
    IndexDeal(slot);
    pending.deals_owner.insert(slot);
}

void PortalIndex::Impl::UpsertInvoice(Invoice&& invoice, Pending& pending) {
    if (!ValidInvoiceId(invoice.id)) {
        return;
    }
    const std::int64_t key = InvoiceKey(invoice.id, invoice.legacy);
    bool inserted = false;
    const std::uint32_t slot = invoices_.acquire(key, &inserted);
    detail::InvoiceRow& row = invoices_[slot];
    if (!inserted) {
        if (row.owner != kNoKey) {
            pending.clients.insert(row.owner);
        }
        if (ValidId(row.data.deal_id)) {
            pending.deals_payment.insert(row.data.deal_id);
        }
        UnindexInvoice(slot);
    }
    row.data = std::move(invoice);
    row.owner = kNoKey;
    IndexInvoice(slot);
    pending.invoices_owner.insert(slot);
}

void PortalIndex::Impl::UpsertActivity(Activity&& activity, Pending& pending) {
    const std::int64_t id = activity.id;
    if (!ValidId(id)) {
        return;
    }
    bool inserted = false;
    const std::uint32_t slot = activities_.acquire(id, &inserted);
    detail::ActivityRow& row = activities_[slot];
    if (!inserted && !row.app_created) {
        ForEachEntity(row.bindings, [&](std::int64_t entity) {
            activities_by_entity_.remove(entity, slot);
            pending.entities.insert(entity);
        });
    }
    row.id = id;
    row.created = activity.created;
    row.bindings = std::move(activity.bindings);
    row.app_created = activity.app_created;
    if (row.app_created) {
        return;  // SEGMENTS.md §3: b24seg's own activities are no dialogs
    }
    ForEachEntity(row.bindings, [&](std::int64_t entity) {
        activities_by_entity_.add(entity, slot);
        if (!pending.bulk) {
            pending.entities.insert(entity);
        }
    });
}

void PortalIndex::Impl::UpsertRequisite(const Requisite& requisite, Pending& pending) {
    if (!ValidId(requisite.id)) {
        return;
    }
    bool inserted = false;
    const std::uint32_t slot = requisites_.acquire(requisite.id, &inserted);
    detail::RequisiteRow& row = requisites_[slot];
    if (!inserted && row.entity != kNoKey) {
        AdjustRequisites(row.entity, -1);
        pending.entities.insert(row.entity);
    }
    row.id = requisite.id;
    row.entity = EntityKeyOf(requisite.entity_type, requisite.entity_id);
    if (row.entity != kNoKey) {
        AdjustRequisites(row.entity, +1);
        if (!pending.bulk) {
            pending.entities.insert(row.entity);
        }
    }
}

void PortalIndex::Impl::IndexDeal(std::uint32_t slot) {
    const Deal& deal = deals_[slot].data;
    if (ValidId(deal.company_id)) {
        deals_by_company_.add(deal.company_id, slot);
    }
    ForEachDistinctId(deal.contact_ids,
                      [&](std::int64_t contact) { deals_by_contact_.add(contact, slot); });
}

void PortalIndex::Impl::UnindexDeal(std::uint32_t slot) {
    const Deal& deal = deals_[slot].data;
    if (ValidId(deal.company_id)) {
        deals_by_company_.remove(deal.company_id, slot);
    }
    ForEachDistinctId(deal.contact_ids,
                      [&](std::int64_t contact) { deals_by_contact_.remove(contact, slot); });
}

void PortalIndex::Impl::IndexInvoice(std::uint32_t slot) {
    const Invoice& invoice = invoices_[slot].data;
    if (ValidId(invoice.company_id)) {
        invoices_by_company_.add(invoice.company_id, slot);
    }
    ForEachDistinctId(invoice.contact_ids,
                      [&](std::int64_t contact) { invoices_by_contact_.add(contact, slot); });
    if (ValidId(invoice.deal_id)) {
        invoices_by_deal_.add(invoice.deal_id, slot);
    }
}

void PortalIndex::Impl::UnindexInvoice(std::uint32_t slot) {
    const Invoice& invoice = invoices_[slot].data;
    if (ValidId(invoice.company_id)) {
        invoices_by_company_.remove(invoice.company_id, slot);
    }
    ForEachDistinctId(invoice.contact_ids,
                      [&](std::int64_t contact) { invoices_by_contact_.remove(contact, slot); });
    if (ValidId(invoice.deal_id)) {
        invoices_by_deal_.remove(invoice.deal_id, slot);
    }
}

void PortalIndex::Impl::AdjustRequisites(std::int64_t entity, int delta) {
    std::int32_t& count = requisite_count_[entity];
    count += delta;
    if (count <= 0) {
        requisite_count_.erase(entity);
    }
}

// ---------------------------------------------------------------------------------------------
// Propagation: from raw changes to up-to-date derived state, in dependency order
// (client status -> membership -> owners -> payments -> own signals -> client facts).

void PortalIndex::Impl::Propagate(Pending& pending) {
    // A company that became, or stopped being, a client changes the primary company of every
    // contact linked to it and the owner of every deal and invoice bound to it.
    for (std::size_t i = 0; i < pending.companies_status.size(); ++i) {
        const std::int64_t id = pending.companies_status.keys()[i];
        for (const std::uint32_t slot : contacts_by_company_.get(id)) {
            pending.contacts_membership.insert(contacts_[slot].data.id);
        }
        for (const std::uint32_t slot : deals_by_company_.get(id)) {
            pending.deals_owner.insert(slot);
        }
        for (const std::uint32_t slot : invoices_by_company_.get(id)) {
            pending.invoices_owner.insert(slot);
        }
    }

    // Membership. The contact's client before and after are both affected.
    for (std::size_t i = 0; i < pending.contacts_membership.size(); ++i) {
        const std::int64_t id = pending.contacts_membership.keys()[i];
        detail::ContactRow* row = contacts_.get(id);
        if (row == nullptr) {
            continue;
        }
        const std::int64_t before = row->primary;
        const std::int64_t after = PrimaryCompanyOf(row->data);
        row->primary = after;
        if (pending.bulk) {
            if (after == 0) {
                pending.clients.insert(ContactKey(id));  // companies are noted by their upserts
            }
            continue;
        }
        if (before != after) {
            pending.contacts_resolution.insert(id);
            pending.clients.insert(before != 0 ? CompanyKey(before) : ContactKey(id));
        }
        pending.clients.insert(after != 0 ? CompanyKey(after) : ContactKey(id));
        pending.cards.insert(ContactKey(id));
    }

    // Deals and invoices whose first contact may now resolve differently.
    const auto mark_records_of_contact = [&](std::int64_t id) {
        for (const std::uint32_t slot : deals_by_contact_.get(id)) {
            pending.deals_owner.insert(slot);
        }
        for (const std::uint32_t slot : invoices_by_contact_.get(id)) {
            pending.invoices_owner.insert(slot);
        }
    };
    for (const std::int64_t id : pending.contacts_resolution.keys()) {
        mark_records_of_contact(id);
    }
    if (!pending.bulk) {
        for (const std::int64_t id : pending.contacts_existence.keys()) {
            mark_records_of_contact(id);
        }
    }

    // Owners. Old and new owners are affected; a changed invoice also affects its deal, which
    // stops or starts being a payment.
    for (const std::uint32_t slot : pending.deals_owner.slots()) {
        detail::DealRow& row = deals_[slot];
        if (!row.alive) {
            continue;
        }
        const std::int64_t owner = OwnerOf(row.data.company_id, row.data.contact_ids);
        if (owner != row.owner && row.owner != kNoKey) {
            pending.clients.insert(row.owner);
        }
        row.owner = owner;
        if (owner != kNoKey && !pending.bulk) {
            pending.clients.insert(owner);
        }
    }
    for (const std::uint32_t slot : pending.invoices_owner.slots()) {
        detail::InvoiceRow& row = invoices_[slot];
        if (!row.alive) {
            continue;
        }
        const std::int64_t owner = OwnerOf(row.data.company_id, row.data.contact_ids);
        if (owner != row.owner && row.owner != kNoKey) {
            pending.clients.insert(row.owner);
        }
        row.owner = owner;
        if (owner != kNoKey && !pending.bulk) {
            pending.clients.insert(owner);
        }
        if (ValidId(row.data.deal_id) && !pending.bulk) {
            pending.deals_payment.insert(row.data.deal_id);
        }
    }
    for (const std::int64_t id : pending.deals_payment.keys()) {
        const detail::DealRow* row = deals_.get(id);
        if (row != nullptr && row->owner != kNoKey) {
            pending.clients.insert(row->owner);
        }
    }

    // Own dialogs and channels of contacts and companies.
    for (const std::int64_t entity : pending.entities.keys()) {
        RecomputeOwnDialogs(entity);
        if (pending.bulk) {
            continue;
        }
        const std::int64_t client = ClientOfEntity(entity);
        if (client != kNoKey) {
            pending.clients.insert(client);
        }
        pending.cards.insert(entity);
    }

    // Client facts; every card showing a client's values is touched with it.
    if (deal_seen_.size() < deals_.slots()) {
        deal_seen_.resize(deals_.slots(), 0);
    }
    if (invoice_seen_.size() < invoices_.slots()) {
        invoice_seen_.resize(invoices_.slots(), 0);
    }
    for (const std::int64_t client : pending.clients.keys()) {
        RecomputeClient(client);
        if (pending.bulk || pending.currencies) {
            continue;  // with new rates, every card is touched below
        }
        pending.cards.insert(client);
        if (IsCompanyKey(client)) {
            if (const detail::CompanyRow* row = companies_.get(KeyId(client))) {
                for (const std::uint32_t member : row->members) {
                    pending.cards.insert(ContactKey(contacts_[member].data.id));
                }
            }
        }
    }

    // New rates change amounts everywhere; the facts just recomputed already have them.
    if (pending.currencies && !pending.bulk) {
        for (detail::ContactRow& row : contacts_.rows()) {
            if (!row.alive) {
                continue;
            }
            pending.cards.insert(ContactKey(row.data.id));
            if (row.primary == 0 && !pending.clients.contains(ContactKey(row.data.id))) {
                detail::ConvertAmounts(row.facts, currencies_);
            }
        }
        for (detail::CompanyRow& row : companies_.rows()) {
            if (!row.alive) {
                continue;
            }
            pending.cards.insert(CompanyKey(row.data.id));
            if (!pending.clients.contains(CompanyKey(row.data.id))) {
                detail::ConvertAmounts(row.facts, currencies_);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rules.

bool PortalIndex::Impl::IsClientCompany(std::int64_t company_id) const {
    const detail::CompanyRow* row = companies_.get(company_id);
    return row != nullptr && !row->data.is_my_company;
}

// SEGMENTS.md §1: COMPANY_ID if that is a client company, else the first client company among the
// links in portal order. Links to missing companies (deleted links) are skipped.
std::int64_t PortalIndex::Impl::PrimaryCompanyOf(const Contact& contact) const {
    if (ValidId(contact.company_id) && IsClientCompany(contact.company_id)) {
        return contact.company_id;
    }
    for (const std::int64_t id : contact.company_ids) {
        if (ValidId(id) && IsClientCompany(id)) {
            return id;
        }
    }
    return 0;
}

// SEGMENTS.md §2 "Owner": the company if it is a client, else the first contact, resolved. Where
// the first listed contact no longer exists, the next existing one is taken: a deleted contact
// should not make a sale disappear while another client contact is still on it.
std::int64_t PortalIndex::Impl::OwnerOf(std::int64_t company_id,
                                        const std::vector<std::int64_t>& contact_ids) const {
    if (ValidId(company_id) && IsClientCompany(company_id)) {
        return CompanyKey(company_id);
    }
    for (const std::int64_t id : contact_ids) {
        if (!ValidId(id)) {
            continue;
        }
        if (const detail::ContactRow* contact = contacts_.get(id)) {
            return contact->primary != 0 ? CompanyKey(contact->primary) : ContactKey(id);
        }
    }
    return kNoKey;
}

// A paid invoice is a payment of its owner. An invoice without an owner is ignored entirely,
// so it does not stand in for its deal either (README: "Ownerless invoices").
bool PortalIndex::Impl::InvoiceIsPayment(const detail::InvoiceRow& row) const {
    return row.alive && row.data.paid && row.owner != kNoKey;
}

// A won deal is a payment unless a paid invoice that counts is bound to it.
bool PortalIndex::Impl::DealIsPayment(const detail::DealRow& row) const {
    if (!row.alive || row.data.stage != StageSemantic::kWon || row.owner == kNoKey) {
        return false;
    }
    for (const std::uint32_t slot : invoices_by_deal_.get(row.data.id)) {
        if (InvoiceIsPayment(invoices_[slot])) {
            return false;
        }
    }
    return true;
}

bool PortalIndex::Impl::OwnChannels(std::int64_t entity, std::uint8_t flags) const {
    return flags != 0 || requisite_count_.contains(entity);
}

std::uint8_t PortalIndex::Impl::OwnChannelKinds(std::int64_t entity, std::uint8_t flags) const {
    std::uint8_t kinds = 0;
    if ((flags & kChannelPhone) != 0) {
        kinds |= kChannelKindPhone;
    }
    if ((flags & kChannelEmail) != 0) {
        kinds |= kChannelKindEmail;
    }
    if ((flags & (kChannelImol | kChannelIm)) != 0) {
        kinds |= kChannelKindIm;
    }
    if ((flags & kChannelWeb) != 0) {
        kinds |= kChannelKindWeb;
    }
    if (requisite_count_.contains(entity)) {
        kinds |= kChannelKindRequisites;
    }
    return kinds;
}

// The client whose facts include this entity's own signals.
std::int64_t PortalIndex::Impl::ClientOfEntity(std::int64_t entity) const {
    if (IsCompanyKey(entity)) {
        return IsClientCompany(KeyId(entity)) ? entity : kNoKey;
    }
    const detail::ContactRow* row = contacts_.get(KeyId(entity));
    if (row == nullptr) {
        return kNoKey;
    }
    return row->primary != 0 ? CompanyKey(row->primary) : entity;
}

void PortalIndex::Impl::RecomputeOwnDialogs(std::int64_t entity) {
    std::int64_t* first_utc = nullptr;
    std::int64_t* first_local = nullptr;
    if (IsCompanyKey(entity)) {
        detail::CompanyRow* row = companies_.get(KeyId(entity));
        if (row == nullptr) {
            return;
        }
        first_utc = &row->own_dialog_utc;
        first_local = &row->own_dialog_local;
    } else {
        detail::ContactRow* row = contacts_.get(KeyId(entity));
        if (row == nullptr) {
            return;
        }
        first_utc = &row->own_dialog_utc;
        first_local = &row->own_dialog_local;
    }
    *first_utc = kNever;
    *first_local = kNever;
    for (const std::uint32_t slot : activities_by_entity_.get(entity)) {
        const Instant created = activities_[slot].created;
        *first_utc = std::min(*first_utc, created.utc);
        *first_local = std::min(*first_local, created.LocalSeconds());
    }
}

// Adds to `facts` the deals and invoices owned by `client` among those referencing `entity`
// (a company through COMPANY_ID, or a contact through its contact list).
void PortalIndex::Impl::GatherRecords(std::int64_t client,
                                      std::int64_t entity_id,
                                      bool by_company,
                                      detail::ClientFacts& facts) {
    const auto note_request = [&](Instant created) {
        facts.first_request_utc = std::min(facts.first_request_utc, created.utc);
        facts.first_request_local = std::min(facts.first_request_local, created.LocalSeconds());
    };
    const auto deals =
        by_company ? deals_by_company_.get(entity_id) : deals_by_contact_.get(entity_id);
    for (const std::uint32_t slot : deals) {
        if (deal_seen_[slot] == seen_epoch_) {
            continue;
        }
        deal_seen_[slot] = seen_epoch_;
        const detail::DealRow& row = deals_[slot];
        if (row.owner != client) {
            continue;
        }
        // Every owned deal is a request while the client has no payment (README: "Requests").
        note_request(row.data.created);
        if (DealIsPayment(row)) {
            facts.payments.push_back({detail::DealPaymentDate(row.data), PaymentSource::kDeal,
                                      row.data.id, row.data.opportunity, row.data.currency_id});
        }
    }
    const auto invoices =
        by_company ? invoices_by_company_.get(entity_id) : invoices_by_contact_.get(entity_id);
    for (const std::uint32_t slot : invoices) {
        if (invoice_seen_[slot] == seen_epoch_) {
            continue;
        }
        invoice_seen_[slot] = seen_epoch_;
        const detail::InvoiceRow& row = invoices_[slot];
        if (row.owner != client) {
            continue;
        }
        note_request(row.data.created);
        if (InvoiceIsPayment(row)) {
            facts.payments.push_back(
                {detail::InvoicePaymentDate(row.data),
                 row.data.legacy ? PaymentSource::kLegacyInvoice : PaymentSource::kInvoice,
                 row.data.id, row.data.opportunity, row.data.currency_id});
        }
    }
}

void PortalIndex::Impl::RecomputeClient(std::int64_t client) {
    if (++seen_epoch_ == 0) {
        std::fill(deal_seen_.begin(), deal_seen_.end(), 0);
        std::fill(invoice_seen_.begin(), invoice_seen_.end(), 0);
        seen_epoch_ = 1;
    }
    const std::int64_t id = KeyId(client);
    detail::ClientFacts* facts = nullptr;
    if (IsCompanyKey(client)) {
        detail::CompanyRow* row = companies_.get(id);
        if (row == nullptr) {
            return;
        }
        row->facts.Clear();
        row->members.clear();
        if (row->data.is_my_company) {
            return;
        }
        for (const std::uint32_t slot : contacts_by_company_.get(id)) {
            if (contacts_[slot].primary == id) {
                row->members.push_back(slot);
            }
        }
        std::sort(row->members.begin(), row->members.end(), [&](std::uint32_t a, std::uint32_t b) {
            return contacts_[a].data.id < contacts_[b].data.id;
        });
        facts = &row->facts;
        GatherRecords(client, id, true, *facts);
        facts->first_dialog_utc = row->own_dialog_utc;
        facts->first_dialog_local = row->own_dialog_local;
        for (const std::uint32_t member : row->members) {
            const detail::ContactRow& contact = contacts_[member];
            GatherRecords(client, contact.data.id, false, *facts);
            facts->first_dialog_utc = std::min(facts->first_dialog_utc, contact.own_dialog_utc);
            facts->first_dialog_local =
                std::min(facts->first_dialog_local, contact.own_dialog_local);
        }
        // A company with a member contact has channels (SEGMENTS.md §3), so members' own channel
        // data only matters for the card tab's list of channels.
        facts->channels = !row->members.empty() || OwnChannels(client, row->data.channels);
    } else {
        detail::ContactRow* row = contacts_.get(id);
        if (row == nullptr) {
            return;
        }
        row->facts.Clear();
        if (row->primary != 0) {
            return;
        }
        facts = &row->facts;
        GatherRecords(client, id, false, *facts);
        facts->first_dialog_utc = row->own_dialog_utc;
        facts->first_dialog_local = row->own_dialog_local;
        facts->channels = OwnChannels(client, row->data.channels);
    }
    std::sort(facts->payments.begin(), facts->payments.end(),
              [](const PaymentInfo& a, const PaymentInfo& b) {
                  if (a.date.utc != b.date.utc) {
                      return a.date.utc < b.date.utc;
                  }
                  if (a.source != b.source) {
                      return a.source < b.source;
                  }
                  return a.id < b.id;
              });
    detail::ConvertAmounts(*facts, currencies_);
}

PortalIndex::Counts PortalIndex::Impl::counts() const {
    Counts counts;
    counts.contacts = contacts_.size();
    counts.companies = companies_.size();
    counts.deals = deals_.size();
    counts.invoices = invoices_.size();
    counts.activities = activities_.size();
    counts.requisites = requisites_.size();
    for (const detail::ContactRow& row : contacts_.rows()) {
        if (row.alive) {
            (row.primary != 0 ? counts.members : counts.clients) += 1;
        }
    }
    for (const detail::CompanyRow& row : companies_.rows()) {
        if (row.alive && !row.data.is_my_company) {
            counts.clients += 1;
        }
    }
    return counts;
}

}  // namespace segmenter
