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
// Thread-safety: const members may be called concurrently; Apply and set_settings need exclusive
// access. Errors: bad data never throws and never asserts; references to missing rows count as no
// reference. Only allocation failure (std::bad_alloc) can escape.

#include <memory>
#include <optional>
#include <vector>

#include "segmenter/instant.hpp"
#include "segmenter/model.hpp"
#include "segmenter/results.hpp"

namespace segmenter {

class PortalIndex {
public:
    // An empty portal.
    explicit PortalIndex(Settings settings = {});
    ~PortalIndex();
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
    // moves.
    std::vector<CardRef> Apply(Changes changes);

    const Settings& settings() const;
    // O(1): settings only affect the queries.
    void set_settings(Settings settings);

    // The eight field values of one card at T; nullopt if the card is not in the index.
    std::optional<CardValues> Card(CardRef card, Instant t) const;

    // Every contact and company card at T, sorted by (kind, id).
    std::vector<segmenter::Card> AllCards(Instant t) const;

    // The card tab: values, payments, dialogs, channels and members; nullopt if not in the index.
    std::optional<ClientDetail> Detail(CardRef card, Instant t) const;

    // The monthly series from the month of the earliest DATE_CREATE among contacts and client
    // companies (or the month of T if there is none, or if it is later) to the month of T.
    MonthlySeries Series(Instant t) const;

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
