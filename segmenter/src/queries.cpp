// Card values and the card tab's detail at a time T (SEGMENTS.md §4-5).

#include <algorithm>
#include <cassert>

#include "index_impl.hpp"

namespace segmenter {

using detail::CompanyKey;
using detail::ContactKey;
using detail::KeyId;

namespace {

CardValues ClientValues(const detail::Evaluation& evaluation,
                        Role role,
                        ClientType type,
                        std::int64_t parent,
                        bool has_dialogs,
                        bool has_channels,
                        std::int64_t turnover,
                        const TierScale& scale) {
    CardValues values;
    values.turnover = turnover;
    if (const std::int32_t tier = scale.TierOf(turnover); tier >= 0) {
        values.tier = scale.codes[static_cast<std::size_t>(tier)];
    }
    values.role = role;
    values.parent_company = parent;
    values.lifecycle = evaluation.lifecycle;
    values.client_type = type;
    values.frequency = evaluation.frequency;
    values.last_payment = evaluation.last_payment;
    values.payments = evaluation.payments;
    values.has_dialogs = has_dialogs;
    values.has_channels = has_channels;
    return values;
}

}  // namespace

std::optional<CardValues> PortalIndex::Impl::Card(CardRef card, Instant t) const {
    const bool exists = card.kind == CardKind::kCompany ? companies_.get(card.id) != nullptr
                                                        : contacts_.get(card.id) != nullptr;
    if (!exists) {
        return std::nullopt;
    }
    return Card(card, t, TiersAt(t));
}

std::optional<CardValues> PortalIndex::Impl::Card(CardRef card,
                                                  Instant t,
                                                  const TierScale& scale) const {
    const detail::Windows windows = detail::WindowsAt(t, settings_);
    const std::int32_t months = settings_.turnover_months;
    if (card.kind == CardKind::kCompany) {
        const detail::CompanyRow* row = companies_.get(card.id);
        if (row == nullptr) {
            return std::nullopt;
        }
        if (row->data.is_my_company) {
            return CardValues{};
        }
        const detail::ClientFacts& facts = row->facts;
        return ClientValues(detail::Evaluate(facts, t, windows), Role::kClient, ClientType::kB2B, 0,
                            facts.first_dialog_utc <= t.utc, facts.channels,
                            detail::TurnoverAt(facts, t, months), scale);
    }
    const detail::ContactRow* row = contacts_.get(card.id);
    if (row == nullptr) {
        return std::nullopt;
    }
    if (row->primary == 0) {
        const detail::ClientFacts& facts = row->facts;
        return ClientValues(detail::Evaluate(facts, t, windows), Role::kClient, ClientType::kB2C, 0,
                            facts.first_dialog_utc <= t.utc, facts.channels,
                            detail::TurnoverAt(facts, t, months), scale);
    }
    // A member shows its company's segment, but its own dialogs and channel data (§5).
    const detail::CompanyRow* company = companies_.get(row->primary);
    if (company == nullptr) {
        return std::nullopt;  // unreachable: a primary company always exists
    }
    return ClientValues(detail::Evaluate(company->facts, t, windows), Role::kMember,
                        ClientType::kB2B, row->primary, row->own_dialog_utc <= t.utc,
                        OwnChannels(ContactKey(card.id), row->data.channels),
                        detail::TurnoverAt(company->facts, t, months), scale);
}

std::vector<segmenter::Card> PortalIndex::Impl::AllCards(Instant t) const {
    const detail::Windows windows = detail::WindowsAt(t, settings_);
    const std::int64_t after = AddMonths(t, -detail::WindowMonths(settings_.turnover_months)).utc;
    const TierScale scale = TiersAt(t);
    std::vector<segmenter::Card> cards;
    cards.reserve(contacts_.size() + companies_.size());

    // Companies first: their evaluation is shared with their members' cards.
    std::vector<detail::Evaluation> company_values(companies_.slots());
    std::vector<std::int64_t> company_turnover(companies_.slots());
    const auto company_rows = companies_.rows();
    for (std::size_t slot = 0; slot < company_rows.size(); ++slot) {
        const detail::CompanyRow& row = company_rows[slot];
        if (!row.alive) {
            continue;
        }
        segmenter::Card card{{CardKind::kCompany, row.data.id}, {}};
        if (!row.data.is_my_company) {
            company_values[slot] = detail::Evaluate(row.facts, t, windows);
            company_turnover[slot] = detail::TurnoverBetween(row.facts, after, t.utc);
            card.values = ClientValues(company_values[slot], Role::kClient, ClientType::kB2B, 0,
                                       row.facts.first_dialog_utc <= t.utc, row.facts.channels,
                                       company_turnover[slot], scale);
        }
        cards.push_back(std::move(card));
    }
    for (const detail::ContactRow& row : contacts_.rows()) {
        if (!row.alive) {
            continue;
        }
        segmenter::Card card{{CardKind::kContact, row.data.id}, {}};
        if (row.primary == 0) {
            card.values = ClientValues(detail::Evaluate(row.facts, t, windows), Role::kClient,
                                       ClientType::kB2C, 0, row.facts.first_dialog_utc <= t.utc,
                                       row.facts.channels,
                                       detail::TurnoverBetween(row.facts, after, t.utc), scale);
        } else {
            const auto company = companies_.find(row.primary);
            assert(company && "Apply keeps every primary company in the index");
            card.values = ClientValues(company_values[*company], Role::kMember, ClientType::kB2B,
                                       row.primary, row.own_dialog_utc <= t.utc,
                                       OwnChannels(ContactKey(row.data.id), row.data.channels),
                                       company_turnover[*company], scale);
        }
        cards.push_back(std::move(card));
    }
    std::sort(cards.begin(), cards.end(),
              [](const segmenter::Card& a, const segmenter::Card& b) { return a.ref < b.ref; });
    return cards;
}

TierScale PortalIndex::Impl::TiersAt(Instant t) const {
    if (!settings_.tiers.empty()) {
        return detail::AdminScale(settings_.tiers);
    }
    // Ranking is a pass over every client; Card() is called once per card by list pages and
    // tests, so the last ranking is kept until T, the settings or the rows change.
    {
        const std::lock_guard<std::mutex> lock(scale_mutex_);
        if (scale_cache_ && scale_cache_->generation == generation_ && scale_cache_->t == t) {
            return scale_cache_->scale;
        }
    }
    const std::int64_t after = AddMonths(t, -detail::WindowMonths(settings_.turnover_months)).utc;
    std::vector<std::int64_t> positive;
    ForEachClient([&](const detail::ClientView& client) {
        if (client.created.utc <= t.utc) {
            const std::int64_t turnover = detail::TurnoverBetween(*client.facts, after, t.utc);
            if (turnover > 0) {
                positive.push_back(turnover);
            }
        }
    });
    TierScale scale = detail::RankScale(positive);
    const std::lock_guard<std::mutex> lock(scale_mutex_);
    scale_cache_ = ScaleCache{generation_, t, scale};
    return scale;
}

std::vector<std::uint32_t> PortalIndex::Impl::ActivitiesOf(
    std::span<const std::int64_t> entities) const {
    std::vector<std::uint32_t> slots;
    for (const std::int64_t entity : entities) {
        const auto bound = activities_by_entity_.get(entity);
        slots.insert(slots.end(), bound.begin(), bound.end());
    }
    std::sort(slots.begin(), slots.end());
    slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
    return slots;
}

std::optional<ClientDetail> PortalIndex::Impl::Detail(CardRef card, Instant t) const {
    const std::optional<CardValues> values = Card(card, t);
    if (!values) {
        return std::nullopt;
    }
    ClientDetail detail;
    detail.card = card;
    detail.values = *values;
    if (values->role == Role::kNotClient) {
        return detail;
    }

    // Whose payments are shown, and which entities make up the dialogs/channels scope.
    const detail::ClientFacts* facts = nullptr;
    std::vector<std::int64_t> scope;
    if (card.kind == CardKind::kCompany) {
        const detail::CompanyRow* company = companies_.get(card.id);
        if (company == nullptr) {
            return std::nullopt;
        }
        const detail::CompanyRow& row = *company;
        facts = &row.facts;
        detail.client = card;
        scope.push_back(CompanyKey(card.id));
        detail.channels = OwnChannelKinds(CompanyKey(card.id), row.data.channels);
        for (const std::uint32_t member : row.members) {
            const detail::ContactRow& contact = contacts_[member];
            detail.members.push_back(contact.data.id);
            scope.push_back(ContactKey(contact.data.id));
            detail.channels |= OwnChannelKinds(ContactKey(contact.data.id), contact.data.channels);
        }
        if (!row.members.empty()) {
            detail.channels |= kChannelKindMembers;
        }
    } else {
        const detail::ContactRow* contact = contacts_.get(card.id);
        if (contact == nullptr) {
            return std::nullopt;
        }
        const detail::ContactRow& row = *contact;
        if (row.primary != 0) {
            const detail::CompanyRow* company = companies_.get(row.primary);
            if (company == nullptr) {
                return std::nullopt;  // unreachable: a primary company always exists
            }
            facts = &company->facts;
            detail.client = CardRef{CardKind::kCompany, row.primary};
        } else {
            facts = &row.facts;
            detail.client = card;
        }
        scope.push_back(ContactKey(card.id));
        detail.channels = OwnChannelKinds(ContactKey(card.id), row.data.channels);
    }

    const std::size_t paid = detail::PaymentsUpTo(facts->payments, t);
    detail.payments.assign(facts->payments.begin(),
                           facts->payments.begin() + static_cast<std::ptrdiff_t>(paid));
    detail.lifetime_turnover = detail::AmountBetween(*facts, 0, paid);
    for (const PaymentInfo& payment : detail.payments) {
        detail.unconverted_payments += payment.base_amount ? 0 : 1;
    }

    std::int64_t last_id = 0;
    for (const std::uint32_t slot : ActivitiesOf(scope)) {
        const detail::ActivityRow& activity = activities_[slot];
        if (activity.created.utc > t.utc) {
            continue;
        }
        ++detail.dialog_count;
        if (!detail.last_dialog || activity.created.utc > detail.last_dialog->utc ||
            (activity.created.utc == detail.last_dialog->utc && activity.id > last_id)) {
            detail.last_dialog = activity.created;
            last_id = activity.id;
        }
    }
    return detail;
}

}  // namespace segmenter
