#pragma once

// PortalIndex: one portal's rows plus everything derived from them that does not depend on time
// (who is a client, who is a member of which company, who owns each deal and invoice, which deals
// and invoices are payments, each client's payments, first request and first dialog).
//
// Build it once from the whole portal, keep it, and feed it the rows each sync changed:
//
//   auto index = segmenter::PortalIndex::Build(std::move(rows));
//   ...
//   auto touched = index.Apply(std::move(changes));  // cost ~ the changed rows' neighbourhood
//   auto cards = index.AllCards(now);                 // cheap: one pass over clients and payments
//   auto series = index.Series(now);                  // cheap: one event sweep
//   auto detail = index.Detail({CardKind::kContact, 12}, now);
//
// Time-dependent values (lifecycle, N, L, dialogs and requests at T) are evaluated by the queries,
// so the same index answers for any T and any Settings without rebuilding.
//
// Applying a batch of changes gives exactly the state that Build on the changed portal gives.
//
// Beyond the five modes (segmenter/README.md): turnover and tiers (TiersAt, Tiers, and the tier and
// turnover card fields), rule segments (RuleCount, RuleMembers, RuleSeries, AllCards with rules),
// breakdowns (BreakdownSeries, BreakdownTiers, BreakdownRule, Members), movement (States, with
// Transitions in analysis.hpp) and a client's history (History).
//
// Thread-safety: const members may be called concurrently; Apply and set_settings need exclusive
// access. Errors: bad data never throws and never asserts; references to missing rows count as no
// reference. Only allocation failure (std::bad_alloc) can escape; if it escapes from Apply, the
// index is left half-updated and must be rebuilt.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "segmenter/analysis.hpp"
#include "segmenter/instant.hpp"
#include "segmenter/model.hpp"
#include "segmenter/results.hpp"
#include "segmenter/rules.hpp"
#include "segmenter/turnover.hpp"

namespace segmenter {

class PortalIndex {
public:
    // An empty portal.
    explicit PortalIndex(Settings settings = {});
    ~PortalIndex();
    // Movable (a moved-from index may only be destroyed or assigned to), not copyable.
    PortalIndex(PortalIndex&&) noexcept;
    PortalIndex& operator=(PortalIndex&&) noexcept;
    PortalIndex(const PortalIndex&) = delete;
    PortalIndex& operator=(const PortalIndex&) = delete;

    // Indexes a whole portal. Rows are moved in; a later row with the same id replaces an earlier
    // one. The same as PortalIndex(settings).Apply({std::move(rows), {}}), with tables pre-sized.
    static PortalIndex Build(PortalData rows, Settings settings = {});

    // Removes, then inserts or replaces rows, and updates the derived state of the affected clients
    // only. Returns the cards (existing after the change) whose values may have changed because
    // of it, sorted: a superset of the cards whose values did change at any fixed T. Values of
    // other cards can still change as T advances (lifecycle windows), so compare all cards when T
    // moves. Tiers by rank and rule segments that read the tier depend on every client's turnover:
    // for those, compare all cards after any change. A changed currency table touches every card.
    std::vector<CardRef> Apply(Changes changes);

    const Settings& settings() const;
    // O(1): settings only affect the queries.
    void set_settings(Settings settings);

    // The field values of one card at T (the eight, tier and turnover; no rule segments); nullopt
    // if the card is not in the index. With the default tiers by rank this ranks every client:
    // O(clients), where AllCards ranks once for all cards.
    std::optional<CardValues> Card(CardRef card, Instant t) const;

    // Every contact and company card at T, sorted by (kind, id), without rule segments.
    std::vector<segmenter::Card> AllCards(Instant t) const;

    // The same with the rule segments field filled: the codes of the rules the card's client meets
    // at T, in the order of `rules` (a member gets its company's).
    std::vector<segmenter::Card> AllCards(Instant t, std::span<const RuleSegment> rules) const;

    // The card tab: values, payments, dialogs, channels and members; nullopt if not in the index.
    std::optional<ClientDetail> Detail(CardRef card, Instant t) const;

    // The monthly series from the month of the earliest DATE_CREATE among contacts and client
    // companies (or the month of T if there is none, or if it is later) to the month of T.
    MonthlySeries Series(Instant t) const;

    // ---- Turnover and tiers (README: "Turnover", "Tiers").

    // The tiers in effect at T: the admin's thresholds, or those the ranking gives at T.
    TierScale TiersAt(Instant t) const;
    // The tiers mode: clients per tier and in no tier, over the months of Series(t).
    TierSeries Tiers(Instant t) const;

    // ---- Rule segments (README: "Rule segments"). Only clients existing at T (DATE_CREATE <= T)
    // are counted and listed, as in the series.

    // How many clients meet the rule at T (the editor's preview).
    std::int64_t RuleCount(const CompiledRule& rule, Instant t) const;
    // Those clients (client companies and B2C contacts), sorted.
    std::vector<CardRef> RuleMembers(const CompiledRule& rule, Instant t) const;
    // Each rule's count over the months of Series(t). Months are judged on the attributes' values
    // then where they have history, on today's values otherwise.
    RuleSegmentSeries RuleSeries(std::span<const RuleSegment> rules, Instant t) const;

    // ---- Breakdowns (README: "Breakdowns").

    // The fifteen series (Breakdown::series = "<mode>.<series>") per value of the dimension.
    Breakdown BreakdownSeries(const Dimension& dimension, Instant t) const;
    // The tiers mode (the tier codes lowest first, then "" for no tier) per value.
    Breakdown BreakdownTiers(const Dimension& dimension, Instant t) const;
    // One rule segment (Breakdown::series = {its code}) per value.
    Breakdown BreakdownRule(const RuleSegment& rule, const Dimension& dimension, Instant t) const;
    // The cards of a drill-down list, sorted (Selection).
    std::vector<CardRef> Members(const Selection& selection, Instant t) const;
    // A card's own values for a dimension ("" when it has none); empty if the card is not in the
    // index.
    std::vector<std::string> DimensionValues(CardRef card, const Dimension& dimension) const;

    // ---- Movement and history (README: "Movement", "History").

    // The clients existing at the end of `month` (at T for the month of T) and their lifecycle,
    // frequency and tier then, computed from today's data; nullopt for a month after the month of
    // T. With Transitions() this gives the movement between two months.
    std::optional<StateSnapshot> States(YearMonth month, Instant t) const;
    // A card's month-by-month history (a member shows its company's); nullopt if not in the index
    // or the portal's own company. With the default tiers by rank this ranks every client at every
    // month: O(payments * turnover window) for the whole portal.
    std::optional<ClientHistory> History(CardRef card, Instant t) const;

    // Sizes, for logs and tests.
    struct Counts {
        std::size_t contacts = 0;
        std::size_t companies = 0;
        std::size_t deals = 0;
        std::size_t invoices = 0;
        std::size_t activities = 0;
        std::size_t requisites = 0;
        std::size_t clients = 0;  // client companies + B2C contacts
        std::size_t members = 0;  // contacts that are members of a client company
    };
    Counts counts() const;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace segmenter
