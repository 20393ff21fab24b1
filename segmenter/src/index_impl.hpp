#pragma once

// The state behind PortalIndex (private to the segmenter).
//
// Rows live in slot tables (vector + free list + id -> slot map). Reverse indices map a referenced
// id to the slots of the rows that reference it; they are keyed by id, not slot, because a row may
// reference an id that does not exist (yet). Derived state, kept up to date by Apply:
//   contact  -> primary client company (0 = none: the contact is a B2C client)
//   company  -> member contacts (slots, ascending contact id)
//   deal/invoice -> owner (an entity key, kNoKey = none)
//   contact/company -> earliest activity bound to it ("own dialogs")
//   client   -> ClientFacts (its payments, earliest request, earliest dialog, channels)
// Nothing derived depends on T or Settings.

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "flat_map.hpp"
#include "keys.hpp"
#include "segmenter/model.hpp"
#include "segmenter/portal_index.hpp"
#include "segmenter/results.hpp"
#include "segmenter/turnover.hpp"

namespace segmenter {

namespace detail {

// What a client is, independently of T.
struct ClientFacts {
    std::vector<PaymentInfo> payments;          // sorted by (date.utc, source, id)
    std::vector<std::int64_t> cumulative;       // base amounts of payments[0..i], saturating
    std::int64_t first_request_utc = kNever;    // earliest DATE_CREATE of an owned deal or invoice
    std::int64_t first_request_local = kNever;  // the same, earliest by local time as written
    std::int64_t first_dialog_utc = kNever;     // earliest activity of the client or its members
    std::int64_t first_dialog_local = kNever;
    bool channels = false;  // SEGMENTS.md §3 "channels"

    void Clear() { *this = ClientFacts{}; }
};

struct ContactRow {
    bool alive = false;
    Contact data;
    std::int64_t primary = 0;  // primary client company id; 0 = B2C client
    std::int64_t own_dialog_utc = kNever;
    std::int64_t own_dialog_local = kNever;
    ClientFacts facts;  // meaningful while primary == 0
};

struct CompanyRow {
    bool alive = false;
    Company data;
    std::vector<std::uint32_t> members;  // contact slots, ascending contact id
    std::int64_t own_dialog_utc = kNever;
    std::int64_t own_dialog_local = kNever;
    ClientFacts facts;  // meaningful while !data.is_my_company
};

struct DealRow {
    bool alive = false;
    Deal data;
    std::int64_t owner = kNoKey;
};

struct InvoiceRow {
    bool alive = false;
    Invoice data;
    std::int64_t owner = kNoKey;
};

struct ActivityRow {
    bool alive = false;
    bool app_created = false;  // b24seg's own: indexed nowhere, never a dialog
    std::int64_t id = 0;
    Instant created;
    std::vector<Binding> bindings;  // as given (moved in); see ForEachEntity
};

struct RequisiteRow {
    bool alive = false;
    std::int64_t id = 0;
    std::int64_t entity = kNoKey;  // contact/company key, kNoKey if of another type
};

template <class Row>
class Table {
public:
    void reserve(std::size_t count) {
        rows_.reserve(count);
        slot_of_.reserve(count);
    }
    std::optional<std::uint32_t> find(std::int64_t key) const {
        const std::uint32_t* slot = slot_of_.find(key);
        return slot == nullptr ? std::nullopt : std::optional<std::uint32_t>(*slot);
    }
    const Row* get(std::int64_t key) const {
        const std::uint32_t* slot = slot_of_.find(key);
        return slot == nullptr ? nullptr : &rows_[*slot];
    }
    Row* get(std::int64_t key) {
        const std::uint32_t* slot = slot_of_.find(key);
        return slot == nullptr ? nullptr : &rows_[*slot];
    }
    // The slot of `key`, taking a fresh live row if it was absent.
    std::uint32_t acquire(std::int64_t key, bool* inserted) {
        bool fresh = false;
        std::uint32_t& slot = slot_of_.get_or_insert(key, &fresh);
        if (fresh) {
            if (free_.empty()) {
                slot = static_cast<std::uint32_t>(rows_.size());
                rows_.emplace_back();
            } else {
                slot = free_.back();
                free_.pop_back();
            }
            rows_[slot] = Row{};
            rows_[slot].alive = true;
        }
        *inserted = fresh;
        return slot;
    }
    void release(std::int64_t key, std::uint32_t slot) {
        rows_[slot] = Row{};
        free_.push_back(slot);
        slot_of_.erase(key);
    }
    Row& operator[](std::uint32_t slot) { return rows_[slot]; }
    const Row& operator[](std::uint32_t slot) const { return rows_[slot]; }
    std::size_t slots() const { return rows_.size(); }
    std::size_t size() const { return slot_of_.size(); }
    std::span<Row> rows() { return rows_; }
    std::span<const Row> rows() const { return rows_; }

private:
    std::vector<Row> rows_;
    std::vector<std::uint32_t> free_;
    FlatMap<std::uint32_t> slot_of_;
};

// A duplicate-free list of row slots.
class SlotSet {
public:
    void insert(std::uint32_t slot) {
        if (slot >= marks_.size()) {
            marks_.resize(static_cast<std::size_t>(slot) + 1, 0);
        }
        if (marks_[slot] == 0) {
            marks_[slot] = 1;
            slots_.push_back(slot);
        }
    }
    const std::vector<std::uint32_t>& slots() const { return slots_; }

private:
    std::vector<std::uint8_t> marks_;
    std::vector<std::uint32_t> slots_;
};

// A client as the queries walk them: a client company or a B2C contact.
struct ClientView {
    std::int64_t key = kNoKey;  // CompanyKey / ContactKey
    CardRef card{};
    Instant created{};
    const ClientFacts* facts = nullptr;
    const Contact* contact = nullptr;  // a B2C client
    const Company* company = nullptr;  // a client company
    ClientType type = ClientType::kB2C;
};

// The T-dependent evaluation of a client (SEGMENTS.md §4).
struct Evaluation {
    Lifecycle lifecycle = Lifecycle::kNoContacts;
    Frequency frequency = Frequency::kNone;
    std::int64_t payments = 0;
    std::optional<Instant> last_payment;
};

// The window boundaries at T, as UTC seconds: ACTIVE if L > active_after, LOST if L <= lost_at.
struct Windows {
    std::int64_t active_after = 0;
    std::int64_t lost_at = 0;
};

// Window lengths outside 0..1200 months are clamped: the precondition is 1..120, and anything
// else must still not overflow month arithmetic.
std::int32_t WindowMonths(std::int32_t months);
Windows WindowsAt(Instant t, const Settings& settings);
Evaluation Evaluate(const ClientFacts& facts, Instant t, const Windows& windows);
// The number of payments dated at or before `t` (they are a prefix of the sorted list).
std::size_t PaymentsUpTo(const std::vector<PaymentInfo>& payments, Instant t);
// The number of payments dated at or before the UTC second `utc`.
std::size_t PaymentsUpToUtc(const std::vector<PaymentInfo>& payments, std::int64_t utc);
// The base amounts of payments [from, to) of a client (indices into facts.payments).
std::int64_t AmountBetween(const ClientFacts& facts, std::size_t from, std::size_t to);
// Fills payments[i].base_amount from their amounts and currencies, and `cumulative`.
void ConvertAmounts(ClientFacts& facts, std::span<const Currency> currencies);

// Window turnover (payments later than t - months, at or before t) and lifetime turnover at t.
std::int64_t TurnoverAt(const ClientFacts& facts, Instant t, std::int32_t months);
// Payments later than the UTC second `after` and at or before `upto`.
std::int64_t TurnoverBetween(const ClientFacts& facts, std::int64_t after, std::int64_t upto);
std::int64_t LifetimeAt(const ClientFacts& facts, Instant t);
// Tier scales (tier_scale.cpp). RankScale reorders `positive` (turnovers > 0 of the ranked
// clients).
TierScale AdminScale(const std::vector<Tier>& tiers);
TierScale RankScale(std::span<std::int64_t> positive);

// The date of a won deal's payment and of a paid invoice's payment (README: "Payment dates").
Instant DealPaymentDate(const Deal& deal);
Instant InvoicePaymentDate(const Invoice& invoice);

}  // namespace detail

class PortalIndex::Impl {
public:
    explicit Impl(Settings settings) : settings_(settings) {}

    void Reserve(const PortalData& rows);
    std::vector<CardRef> Apply(Changes changes);

    // Queries (queries.cpp, series.cpp).
    std::optional<CardValues> Card(CardRef card, Instant t) const;
    std::optional<CardValues> Card(CardRef card, Instant t, const TierScale& scale) const;
    TierScale TiersAt(Instant t) const;

    // Calls f(const detail::ClientView&) for every client: companies (by slot), then B2C contacts.
    template <class F>
    void ForEachClient(F&& f) const {
        for (const detail::CompanyRow& row : companies_.rows()) {
            if (row.alive && !row.data.is_my_company) {
                f(detail::ClientView{detail::CompanyKey(row.data.id),
                                     {CardKind::kCompany, row.data.id},
                                     row.data.created,
                                     &row.facts,
                                     nullptr,
                                     &row.data,
                                     ClientType::kB2B});
            }
        }
        for (const detail::ContactRow& row : contacts_.rows()) {
            if (row.alive && row.primary == 0) {
                f(detail::ClientView{detail::ContactKey(row.data.id),
                                     {CardKind::kContact, row.data.id},
                                     row.data.created,
                                     &row.facts,
                                     &row.data,
                                     nullptr,
                                     ClientType::kB2C});
            }
        }
    }
    std::vector<segmenter::Card> AllCards(Instant t) const;
    std::optional<ClientDetail> Detail(CardRef card, Instant t) const;
    MonthlySeries Series(Instant t) const;
    PortalIndex::Counts counts() const;

    // The month the series start with (README: "First month").
    std::int32_t FirstMonth(std::int32_t month_of_t) const;
    // The fifteen series per breakdown cell; cells_of(contact, company, cells) gives a card's
    // cells.
    using CellsOf = std::function<void(const Contact*, const Company*, std::vector<std::size_t>&)>;
    std::vector<MonthlySeries> SeriesByCell(Instant t,
                                            std::size_t cell_count,
                                            const CellsOf& cells_of) const;

    // Tiers, rules, breakdowns, movement (analysis.cpp).
    TierSeries Tiers(Instant t) const;
    std::vector<segmenter::Card> AllCards(Instant t, std::span<const RuleSegment> rules) const;
    std::int64_t RuleCount(const CompiledRule& rule, Instant t) const;
    std::vector<CardRef> RuleMembers(const CompiledRule& rule, Instant t) const;
    RuleSegmentSeries RuleSeries(std::span<const RuleSegment> rules, Instant t) const;
    Breakdown BreakdownSeries(const Dimension& dimension, Instant t) const;
    Breakdown BreakdownTiers(const Dimension& dimension, Instant t) const;
    Breakdown BreakdownRule(const RuleSegment& rule, const Dimension& dimension, Instant t) const;
    std::vector<CardRef> Members(const Selection& selection, Instant t) const;
    std::vector<std::string> DimensionValues(CardRef card, const Dimension& dimension) const;
    std::optional<StateSnapshot> States(YearMonth month, Instant t) const;
    std::optional<ClientHistory> History(CardRef card, Instant t) const;

    Settings settings_;
    // Bumped by Apply and set_settings: cached results of older states are stale.
    std::uint64_t generation_ = 0;

private:
    struct Pending;
    void UpsertCurrency(Currency&& currency, Pending& pending);
    void RemoveCurrency(const std::string& code, Pending& pending);

    // Raw row changes; each notes in `pending` what it may have affected.
    void RemoveContact(std::int64_t id, Pending& pending);
    void RemoveCompany(std::int64_t id, Pending& pending);
    void RemoveDeal(std::int64_t id, Pending& pending);
    void RemoveInvoice(std::int64_t key, Pending& pending);
    void RemoveActivity(std::int64_t id, Pending& pending);
    void RemoveRequisite(std::int64_t id, Pending& pending);
    void UpsertContact(Contact&& contact, Pending& pending);
    void UpsertCompany(Company&& company, Pending& pending);
    void UpsertDeal(Deal&& deal, Pending& pending);
    void UpsertInvoice(Invoice&& invoice, Pending& pending);
    void UpsertActivity(Activity&& activity, Pending& pending);
    void UpsertRequisite(const Requisite& requisite, Pending& pending);
    // Brings the derived state of everything noted in `pending` up to date.
    void Propagate(Pending& pending);

    void IndexDeal(std::uint32_t slot);
    void UnindexDeal(std::uint32_t slot);
    void IndexInvoice(std::uint32_t slot);
    void UnindexInvoice(std::uint32_t slot);
    void AdjustRequisites(std::int64_t entity, int delta);

    // Rules (SEGMENTS.md §1-3).
    bool IsClientCompany(std::int64_t company_id) const;
    std::int64_t PrimaryCompanyOf(const Contact& contact) const;
    std::int64_t OwnerOf(std::int64_t company_id,
                         const std::vector<std::int64_t>& contact_ids) const;
    bool InvoiceIsPayment(const detail::InvoiceRow& row) const;
    bool DealIsPayment(const detail::DealRow& row) const;
    bool OwnChannels(std::int64_t entity, std::uint8_t flags) const;
    std::uint8_t OwnChannelKinds(std::int64_t entity, std::uint8_t flags) const;
    std::int64_t ClientOfEntity(std::int64_t entity) const;
    void RecomputeOwnDialogs(std::int64_t entity);
    void RecomputeClient(std::int64_t client);
    void GatherRecords(std::int64_t client,
                       std::int64_t entity,
                       bool by_company,
                       detail::ClientFacts& facts);
    std::array<detail::MultiIndex*, 7> AllIndices() {
        return {&contacts_by_company_, &deals_by_company_,    &invoices_by_company_,
                &deals_by_contact_,    &invoices_by_contact_, &invoices_by_deal_,
                &activities_by_entity_};
    }
    // Distinct activity slots bound to the entity keys, for detail queries.
    std::vector<std::uint32_t> ActivitiesOf(std::span<const std::int64_t> entities) const;

    detail::Table<detail::ContactRow> contacts_;
    detail::Table<detail::CompanyRow> companies_;
    detail::Table<detail::DealRow> deals_;
    detail::Table<detail::InvoiceRow> invoices_;
    detail::Table<detail::ActivityRow> activities_;
    detail::Table<detail::RequisiteRow> requisites_;

    detail::MultiIndex contacts_by_company_;   // company id -> contacts referencing it (once each)
    detail::MultiIndex deals_by_company_;      // company id -> deals with that COMPANY_ID
    detail::MultiIndex invoices_by_company_;   // company id -> invoices with that company
    detail::MultiIndex deals_by_contact_;      // contact id -> deals listing it (once each)
    detail::MultiIndex invoices_by_contact_;   // contact id -> invoices listing it (once each)
    detail::MultiIndex invoices_by_deal_;      // deal id -> invoices bound to it
    detail::MultiIndex activities_by_entity_;  // contact/company key -> activities bound to it
    detail::FlatMap<std::int32_t> requisite_count_;  // contact/company key -> requisites
    std::vector<Currency> currencies_;               // crm.currency.list, one row per code

    // The last tier ranking (TiersAt), shared by concurrent readers.
    struct ScaleCache {
        std::uint64_t generation = 0;
        Instant t;
        TierScale scale;
    };
    mutable std::mutex scale_mutex_;
    mutable std::optional<ScaleCache> scale_cache_;

    // Scratch for RecomputeClient: a deal or invoice is looked at once per client.
    std::vector<std::uint32_t> deal_seen_;
    std::vector<std::uint32_t> invoice_seen_;
    std::uint32_t seen_epoch_ = 0;
};

}  // namespace segmenter
