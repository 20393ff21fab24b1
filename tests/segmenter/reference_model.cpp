#include "reference_model.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <tuple>

namespace segtest {

using namespace segmenter;

namespace {

class Reference {
public:
    Reference(const PortalData& portal, Instant t, const Settings& settings)
        : p_(portal), t_(t), settings_(settings) {
        // Lookups by id only; every rule below is still evaluated literally from the rows.
        for (const Company& c : p_.companies) {
            companies_[c.id] = &c;
        }
        for (const Contact& c : p_.contacts) {
            contacts_[c.id] = &c;
        }
        // Owners do not depend on t: work them out once per row.
        for (const Deal& d : p_.deals) {
            deal_owner_.push_back(Owner(d.company_id, d.contact_ids));
        }
        for (const Invoice& v : p_.invoices) {
            invoice_owner_.push_back(Owner(v.company_id, v.contact_ids));
        }
    }

    const Company* FindCompany(std::int64_t id) const {
        const auto it = companies_.find(id);
        return it == companies_.end() ? nullptr : it->second;
    }
    const Contact* FindContact(std::int64_t id) const {
        const auto it = contacts_.find(id);
        return it == contacts_.end() ? nullptr : it->second;
    }
    bool IsClientCompany(std::int64_t id) const {
        const Company* c = FindCompany(id);
        return c != nullptr && !c->is_my_company;
    }
    // §1: COMPANY_ID if a client company, else the first client company in the links.
    std::int64_t Primary(const Contact& contact) const {
        if (IsClientCompany(contact.company_id)) {
            return contact.company_id;
        }
        for (std::int64_t id : contact.company_ids) {
            if (IsClientCompany(id)) {
                return id;
            }
        }
        return 0;
    }
    // A client as (is_company, id); id 0 = none.
    struct ClientId {
        bool company = false;
        std::int64_t id = 0;
        bool operator==(const ClientId&) const = default;
    };
    ClientId Resolve(const Contact& contact) const {
        const std::int64_t primary = Primary(contact);
        return primary != 0 ? ClientId{true, primary} : ClientId{false, contact.id};
    }
    ClientId Owner(std::int64_t company_id, const std::vector<std::int64_t>& contact_ids) const {
        if (IsClientCompany(company_id)) {
            return {true, company_id};
        }
        for (std::int64_t id : contact_ids) {
            if (const Contact* c = FindContact(id)) {
                return Resolve(*c);
            }
        }
        return {};
    }
    bool InvoiceCounts(const Invoice& invoice) const {
        return invoice.paid && Owner(invoice.company_id, invoice.contact_ids).id != 0;
    }
    bool DealIsPayment(const Deal& deal) const {
        const auto known = deal_is_payment_.find(&deal);
        if (known != deal_is_payment_.end()) {
            return known->second;
        }
        bool payment =
            deal.stage == StageSemantic::kWon && Owner(deal.company_id, deal.contact_ids).id != 0;
        for (const Invoice& invoice : p_.invoices) {
            if (payment && invoice.deal_id == deal.id && InvoiceCounts(invoice)) {
                payment = false;
            }
        }
        deal_is_payment_[&deal] = payment;
        return payment;
    }
    static Instant DealDate(const Deal& deal) {
        return deal.moved_time ? *deal.moved_time
                               : (deal.close_date ? *deal.close_date : deal.created);
    }
    static Instant InvoiceDate(const Invoice& invoice) {
        return invoice.paid_time ? *invoice.paid_time : invoice.created;
    }

    // README "Turnover": amount * AMOUNT / AMOUNT_CNT in hundredths, rounded half away from zero;
    // "" is the base currency; an empty table takes amounts as written; unknown: nullopt.
    std::optional<std::int64_t> Convert(double amount, const std::string& currency) const {
        double rate = 1;
        if (!p_.currencies.empty()) {
            const Currency* row = nullptr;
            for (const Currency& c : p_.currencies) {
                if (currency.empty() ? c.base : c.code == currency) {
                    row = &c;
                    break;
                }
            }
            if (row == nullptr && !currency.empty()) {
                return std::nullopt;
            }
            if (row != nullptr) {
                if (!(row->amount > 0) || !(row->amount_cnt > 0)) {
                    return std::nullopt;
                }
                rate = row->amount / row->amount_cnt;
            }
        }
        if (!(amount > 0)) {
            return 0;
        }
        return static_cast<std::int64_t>(std::llround(amount * rate * 100.0));
    }

    // The window turnover: payments later than t - months and at or before t.
    std::int64_t Turnover(ClientId client, Instant t, std::int32_t months) const {
        const std::int64_t after = AddMonths(t, -months).utc;
        std::int64_t sum = 0;
        for (const PaymentInfo& p : PaymentsAt(client, t)) {
            if (p.date.utc > after) {
                sum += p.base_amount.value_or(0);
            }
        }
        return sum;
    }

    // README "Tiers": the admin's thresholds, or by rank among the clients existing at t.
    std::optional<std::string> TierOf(std::int64_t turnover) const {
        if (turnover <= 0) {
            return std::nullopt;
        }
        if (!settings_.tiers.empty()) {
            std::vector<Tier> tiers = settings_.tiers;
            std::stable_sort(tiers.begin(), tiers.end(), [](const Tier& a, const Tier& b) {
                return a.threshold < b.threshold;
            });
            std::optional<std::string> found;
            for (const Tier& tier : tiers) {
                if (turnover >= tier.threshold) {
                    found = tier.code;
                }
            }
            return found;
        }
        const std::vector<std::int64_t>& ranked = Ranked();
        const auto n = static_cast<std::int64_t>(ranked.size());
        for (const auto& [code, percent] :
             {std::pair<const char*, int>{"PLATINUM", 5}, {"GOLD", 20}, {"SILVER", 50}}) {
            const std::int64_t take = (n * percent + 99) / 100;
            if (take > 0 && turnover >= ranked[static_cast<std::size_t>(take - 1)]) {
                return std::string(code);
            }
        }
        return std::nullopt;
    }
    // Positive turnovers of the clients existing at t, highest first.
    const std::vector<std::int64_t>& Ranked() const {
        if (!ranked_) {
            std::vector<std::int64_t> values;
            for (const Company& c : p_.companies) {
                if (!c.is_my_company && c.created.utc <= t_.utc) {
                    values.push_back(Turnover({true, c.id}, t_, settings_.turnover_months));
                }
            }
            for (const Contact& c : p_.contacts) {
                if (Primary(c) == 0 && c.created.utc <= t_.utc) {
                    values.push_back(Turnover({false, c.id}, t_, settings_.turnover_months));
                }
            }
            std::erase_if(values, [](std::int64_t v) { return v <= 0; });
            std::sort(values.begin(), values.end(), std::greater<>());
            ranked_ = values;
        }
        return *ranked_;
    }

    // Payments of the client dated <= t.
    std::vector<PaymentInfo> PaymentsAt(ClientId client, Instant t) const {
        std::vector<PaymentInfo> payments;
        for (std::size_t i = 0; i < p_.deals.size(); ++i) {
            const Deal& deal = p_.deals[i];
            if (deal_owner_[i] == client && DealIsPayment(deal) && DealDate(deal).utc <= t.utc) {
                payments.push_back({DealDate(deal), PaymentSource::kDeal, deal.id, deal.opportunity,
                                    deal.currency_id, Convert(deal.opportunity, deal.currency_id)});
            }
        }
        for (std::size_t i = 0; i < p_.invoices.size(); ++i) {
            const Invoice& invoice = p_.invoices[i];
            if (invoice_owner_[i] == client && InvoiceCounts(invoice) &&
                InvoiceDate(invoice).utc <= t.utc) {
                payments.push_back(
                    {InvoiceDate(invoice),
                     invoice.legacy ? PaymentSource::kLegacyInvoice : PaymentSource::kInvoice,
                     invoice.id, invoice.opportunity, invoice.currency_id,
                     Convert(invoice.opportunity, invoice.currency_id)});
            }
        }
        return payments;
    }

    // §3 requests: a deal or invoice owned by the client, created <= t, that is not a payment
    // counted at t.
    bool HasRequests(ClientId client, Instant t) const {
        for (std::size_t i = 0; i < p_.deals.size(); ++i) {
            const Deal& deal = p_.deals[i];
            if (deal_owner_[i] == client && deal.created.utc <= t.utc &&
                !(DealIsPayment(deal) && DealDate(deal).utc <= t.utc)) {
                return true;
            }
        }
        for (std::size_t i = 0; i < p_.invoices.size(); ++i) {
            const Invoice& invoice = p_.invoices[i];
            if (invoice_owner_[i] == client && invoice.created.utc <= t.utc &&
                !(InvoiceCounts(invoice) && InvoiceDate(invoice).utc <= t.utc)) {
                return true;
            }
        }
        return false;
    }

    bool BoundTo(const Activity& activity, std::int32_t type, std::int64_t id) const {
        for (const Binding& b : activity.bindings) {
            if (b.entity_type == type && b.entity_id == id) {
                return true;
            }
        }
        return false;
    }
    bool OwnDialogs(std::int32_t type, std::int64_t id, Instant t) const {
        for (const Activity& a : p_.activities) {
            if (!a.app_created && a.created.utc <= t.utc && BoundTo(a, type, id)) {
                return true;
            }
        }
        return false;
    }
    bool HasRequisite(std::int32_t type, std::int64_t id) const {
        for (const Requisite& r : p_.requisites) {
            if (r.entity_type == type && r.entity_id == id) {
                return true;
            }
        }
        return false;
    }
    bool OwnChannels(std::int32_t type, std::int64_t id, std::uint8_t flags) const {
        return flags != 0 || HasRequisite(type, id);
    }
    std::vector<const Contact*> Members(std::int64_t company) const {
        std::vector<const Contact*> members;
        for (const Contact& c : p_.contacts) {
            if (Primary(c) == company) {
                members.push_back(&c);
            }
        }
        return members;
    }
    bool ClientDialogs(ClientId client, Instant t) const {
        if (!client.company) {
            return OwnDialogs(kEntityTypeContact, client.id, t);
        }
        if (OwnDialogs(kEntityTypeCompany, client.id, t)) {
            return true;
        }
        for (const Contact* m : Members(client.id)) {
            if (OwnDialogs(kEntityTypeContact, m->id, t)) {
                return true;
            }
        }
        return false;
    }
    bool ClientChannels(ClientId client) const {
        if (!client.company) {
            return OwnChannels(kEntityTypeContact, client.id, FindContact(client.id)->channels);
        }
        const auto members = Members(client.id);
        if (!members.empty()) {
            return true;
        }
        return OwnChannels(kEntityTypeCompany, client.id, FindCompany(client.id)->channels);
    }

    CardValues ClientValues(ClientId client, Instant t) const {
        CardValues v;
        v.role = Role::kClient;
        v.client_type = client.company ? ClientType::kB2B : ClientType::kB2C;
        const std::vector<PaymentInfo> payments = PaymentsAt(client, t);
        const auto n = static_cast<std::int64_t>(payments.size());
        v.payments = n;
        v.frequency =
            n >= 2 ? Frequency::kRegular : (n == 1 ? Frequency::kFirst : Frequency::kNone);
        if (n > 0) {
            // The latest; among payments at the same moment, the last by (source, id).
            const PaymentInfo* latest = &payments[0];
            for (const PaymentInfo& p : payments) {
                if (std::tie(p.date.utc, p.source, p.id) >
                    std::tie(latest->date.utc, latest->source, latest->id)) {
                    latest = &p;
                }
            }
            const Instant last = latest->date;
            v.last_payment = last;
            const Instant active_from = AddMonths(t, -settings_.active_months);
            const Instant lost_from = AddMonths(t, -settings_.lost_months);
            if (last.utc > active_from.utc) {
                v.lifecycle = Lifecycle::kActive;
            } else if (last.utc > lost_from.utc) {
                v.lifecycle = Lifecycle::kSleeping;
            } else {
                v.lifecycle = Lifecycle::kLost;
            }
        } else if (HasRequests(client, t)) {
            v.lifecycle = Lifecycle::kRequests;
        } else if (ClientDialogs(client, t)) {
            v.lifecycle = Lifecycle::kDialogs;
        } else if (ClientChannels(client)) {
            v.lifecycle = Lifecycle::kContacts;
        } else {
            v.lifecycle = Lifecycle::kNoContacts;
        }
        v.has_dialogs = ClientDialogs(client, t);
        v.has_channels = ClientChannels(client);
        v.turnover = Turnover(client, t, settings_.turnover_months);
        v.tier = TierOf(*v.turnover);
        return v;
    }

    std::vector<Card> Cards() const {
        std::vector<Card> cards;
        for (const Company& c : p_.companies) {
            Card card{{CardKind::kCompany, c.id}, {}};
            if (!c.is_my_company) {
                card.values = ClientValues({true, c.id}, t_);
            }
            cards.push_back(card);
        }
        for (const Contact& c : p_.contacts) {
            const std::int64_t primary = Primary(c);
            Card card{{CardKind::kContact, c.id}, {}};
            if (primary == 0) {
                card.values = ClientValues({false, c.id}, t_);
            } else {
                card.values = ClientValues({true, primary}, t_);
                card.values.role = Role::kMember;
                card.values.parent_company = primary;
                card.values.has_dialogs = OwnDialogs(kEntityTypeContact, c.id, t_);
                card.values.has_channels = OwnChannels(kEntityTypeContact, c.id, c.channels);
            }
            cards.push_back(card);
        }
        std::sort(cards.begin(), cards.end(),
                  [](const Card& a, const Card& b) { return a.ref < b.ref; });
        return cards;
    }

    std::array<std::int64_t, kSeriesCount> CountsAt() const {
        std::array<std::int64_t, kSeriesCount> counts{};
        const auto bump = [&](Series s) { ++counts[SeriesIndex(s)]; };
        const auto client = [&](ClientId id, Series type) {
            const CardValues v = ClientValues(id, t_);
            bump(Series::kAllClients);
            bump(type);
            const Lifecycle l = *v.lifecycle;
            constexpr Series kByLifecycle[] = {
                Series::kActive,  Series::kSleeping,     Series::kLost,      Series::kRequests,
                Series::kDialogs, Series::kWithContacts, Series::kNoContacts};
            bump(kByLifecycle[static_cast<int>(l)]);
            constexpr Series kByFrequency[] = {Series::kRegular, Series::kFirst, Series::kNone};
            bump(kByFrequency[static_cast<int>(*v.frequency)]);
        };
        for (const Contact& c : p_.contacts) {
            if (c.created.utc > t_.utc) {
                continue;
            }
            bump(Series::kContacts);
            if (Primary(c) == 0) {
                client({false, c.id}, Series::kB2C);
            }
        }
        for (const Company& c : p_.companies) {
            if (c.is_my_company || c.created.utc > t_.utc) {
                continue;
            }
            bump(Series::kCompanies);
            client({true, c.id}, Series::kB2B);
        }
        return counts;
    }

    // Clients existing at t per tier (TierCodes order), then those in no tier.
    std::vector<std::int64_t> TierCountsAt() const {
        const std::vector<std::string> codes = TierCodes(settings_);
        std::vector<std::int64_t> counts(codes.size() + 1, 0);
        const auto count = [&](ClientId id) {
            const auto tier = TierOf(Turnover(id, t_, settings_.turnover_months));
            const auto at = tier ? std::find(codes.begin(), codes.end(), *tier) - codes.begin()
                                 : static_cast<std::ptrdiff_t>(codes.size());
            ++counts[static_cast<std::size_t>(at)];
        };
        for (const Company& c : p_.companies) {
            if (!c.is_my_company && c.created.utc <= t_.utc) {
                count({true, c.id});
            }
        }
        for (const Contact& c : p_.contacts) {
            if (Primary(c) == 0 && c.created.utc <= t_.utc) {
                count({false, c.id});
            }
        }
        return counts;
    }

private:
    const PortalData& p_;
    Instant t_;
    Settings settings_;
    std::map<std::int64_t, const Company*> companies_;
    std::map<std::int64_t, const Contact*> contacts_;
    mutable std::map<const Deal*, bool> deal_is_payment_;      // memo: it does not depend on t
    mutable std::optional<std::vector<std::int64_t>> ranked_;  // memo for t_
    std::vector<ClientId> deal_owner_;                         // by index in p_.deals
    std::vector<ClientId> invoice_owner_;                      // by index in p_.invoices
};

}  // namespace

std::vector<Card> ReferenceCards(const PortalData& portal, Instant t, const Settings& settings) {
    return Reference(portal, t, settings).Cards();
}

std::vector<std::int64_t> ReferenceTierCountsAt(const PortalData& portal,
                                                Instant t,
                                                const Settings& settings) {
    return Reference(portal, t, settings).TierCountsAt();
}

std::array<std::int64_t, kSeriesCount> ReferenceCountsAt(const PortalData& portal,
                                                         Instant t,
                                                         const Settings& settings) {
    return Reference(portal, t, settings).CountsAt();
}

}  // namespace segtest
