#pragma once

// Breakdowns, drill-down selections, movement between months and a client's own history
// (segmenter/README.md "Breakdowns", "Movement" and "History"). The queries live on PortalIndex;
// this header has their inputs and results, and the pure functions that work on snapshots, so that
// the server can feed them recorded history instead of today's recomputation.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "segmenter/instant.hpp"
#include "segmenter/results.hpp"
#include "segmenter/rules.hpp"

namespace segmenter {

// ---------------------------------------------------------------------------------------------
// Breakdowns.

enum class DimensionKind : std::uint8_t {
    kType,         // TYPE_ID of a contact, COMPANY_TYPE of a company
    kIndustry,     // INDUSTRY (companies; "" for contacts)
    kSource,       // SOURCE_ID
    kResponsible,  // ASSIGNED_BY_ID, written in decimal ("" = none)
    kField,        // a picked user field (Dimension::field); a card with several values is in
                   // several cells, one with none in the "" cell
};

// What to break counts down by. Dimensions have no history: every month uses today's values.
struct Dimension {
    DimensionKind kind = DimensionKind::kType;
    std::string field{};  // kField: the FIELD_NAME (compared ignoring case)

    bool operator==(const Dimension&) const = default;
};

// "type" "industry" "source" "responsible" "field", and back.
std::string_view DimensionId(DimensionKind kind);
std::optional<DimensionKind> DimensionFromId(std::string_view id);

// Counts per cell (dimension value), per series and per month. The months are those of
// MonthlySeries; the last month is at T. A client is counted in the cells of its own card's values:
// a company's for B2B clients, the contact's for B2C clients and (in directories.contacts) for
// member contacts.
struct Breakdown {
    YearMonth first_month{};
    std::size_t month_count = 0;
    // The dimension's values that occur, ascending (byte order); "" (no value) first if it occurs.
    // Responsible users are ordered by number.
    std::vector<std::string> cells;
    // What is counted: "<mode>.<series>" ids for BreakdownSeries, the tier codes then "" (no tier)
    // for BreakdownTiers, the rule's code for BreakdownRule.
    std::vector<std::string> series;
    // counts[cell][series][month].
    std::vector<std::vector<std::vector<std::int64_t>>> counts;

    std::int64_t Today(std::size_t cell, std::size_t series_index) const {
        return counts[cell][series_index].back();
    }
    YearMonth Month(std::size_t i) const;

    bool operator==(const Breakdown&) const = default;
};

// What a drill-down list shows: the clients (or, for the directories, the cards) in one series,
// one tier, or one rule segment at T; optionally only those in one breakdown cell. Judged like the
// counts: only clients existing at T (DATE_CREATE <= T).
struct Selection {
    enum class Kind : std::uint8_t { kSeries, kTier, kRule };
    Kind kind = Kind::kSeries;
    Series series = Series::kAllClients;   // kSeries
    std::string tier{};                    // kTier: a tier code, or "" for the clients in no tier
    std::optional<CompiledRule> rule{};    // kRule
    std::optional<Dimension> dimension{};  // with `value`: only the cards in that cell
    std::string value{};
};

// Each rule segment's count per month (the last at T), over the months of MonthlySeries.
struct RuleSegmentSeries {
    YearMonth first_month{};
    std::size_t month_count = 0;
    std::vector<std::string> codes;                 // as given
    std::vector<std::vector<std::int64_t>> values;  // values[rule][month]

    YearMonth Month(std::size_t i) const;
    bool operator==(const RuleSegmentSeries&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Movement and history.

// What a transition matrix is about.
enum class StateKind : std::uint8_t { kLifecycle, kFrequency, kTier };

// One client's segment at one moment. Snapshots of these are what the server can record each month
// and feed back instead of today's recomputation.
struct ClientState {
    CardRef client{};  // a client company or a B2C contact
    Lifecycle lifecycle = Lifecycle::kNoContacts;
    Frequency frequency = Frequency::kNone;
    std::string tier{};  // the tier code, "" = no tier

    bool operator==(const ClientState&) const = default;
};

// The clients that existed at one moment and their states, sorted by client, one entry each.
struct StateSnapshot {
    YearMonth month{};
    std::vector<ClientState> clients;

    bool operator==(const StateSnapshot&) const = default;
};

// Counts of clients by (state at `from`, state at `to`). `states` labels the rows and columns:
// lifecycle or frequency XML_IDs in their usual order, or the tier codes lowest first then "" (no
// tier); index states.size() is "absent": the row of clients that did not exist at `from` (new
// since), the column of clients that no longer exist at `to` (deleted or merged since; only
// recorded snapshots can show these).
struct TransitionMatrix {
    StateKind kind = StateKind::kLifecycle;
    std::vector<std::string> states;
    std::vector<std::int64_t> counts;  // (states.size() + 1)^2, row-major: counts[from * n + to]

    std::size_t Size() const { return states.size() + 1; }
    std::int64_t At(std::size_t from, std::size_t to) const { return counts[from * Size() + to]; }

    bool operator==(const TransitionMatrix&) const = default;
};

// The matrix between two snapshots. For kTier, `tier_codes` (lowest first) gives the order of the
// known codes; codes found only in the snapshots (tiers renamed since) follow in byte order.
TransitionMatrix Transitions(const StateSnapshot& from,
                             const StateSnapshot& to,
                             StateKind kind,
                             std::span<const std::string> tier_codes = {});

// The clients in one cell of that matrix (row `from_state`, column `to_state`, indices into
// `matrix.states` or states.size() for absent), sorted.
std::vector<CardRef> TransitionMembers(const StateSnapshot& from,
                                       const StateSnapshot& to,
                                       const TransitionMatrix& matrix,
                                       std::size_t from_state,
                                       std::size_t to_state);

// One month of a client's own history: its state at the end of the month (at T in the month of T).
struct HistoryMonth {
    YearMonth month{};
    ClientState state{};
    std::int64_t payments = 0;  // N then
    std::int64_t turnover = 0;  // window turnover then, hundredths of the base currency
    bool operator==(const HistoryMonth&) const = default;
};

// A card's segment history, month by month, from the month its client was created to the month of
// T, computed from today's data (empty if the client was created after T).
struct ClientHistory {
    CardRef card{};
    CardRef client{};  // the card itself, or a member's company
    std::vector<HistoryMonth> months;

    bool operator==(const ClientHistory&) const = default;
};

}  // namespace segmenter
