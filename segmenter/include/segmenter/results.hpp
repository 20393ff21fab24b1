#pragma once

// The segmenter's output: the eight field values of each card (SEGMENTS.md §5), one client's detail
// for the card tab, and the monthly series of the five modes (SEGMENTS.md §6).

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "segmenter/instant.hpp"

namespace segmenter {

enum class CardKind : std::uint8_t { kContact, kCompany };

// A contact or company card.
struct CardRef {
    CardKind kind = CardKind::kContact;
    std::int64_t id = 0;

    auto operator<=>(const CardRef&) const = default;
};

enum class Role : std::uint8_t {
    kClient,     // a client company (B2B) or a contact bound to no client company (B2C)
    kMember,     // a contact whose primary company is a client company
    kNotClient,  // a company with IS_MY_COMPANY = Y
};

enum class Lifecycle : std::uint8_t {
    kActive,
    kSleeping,
    kLost,
    kRequests,
    kDialogs,
    kContacts,
    kNoContacts,
};

enum class Frequency : std::uint8_t { kRegular, kFirst, kNone };

enum class ClientType : std::uint8_t { kB2B, kB2C };

// The values of the UF_CRM_SEG_* fields of one card at a time T: the eight of SEGMENTS.md §5, then
// the tier and turnover fields and the rule segments field (segmenter/README.md). Every field is
// empty (nullopt / 0 / no codes) for a kNotClient card; for clients and members every optional is
// set except `last_payment`, which is empty when the client has no payment at T, and `tier`, which
// is empty when the client is in no tier. A member shows its company's tier, turnover and rule
// segments, like its lifecycle.
struct CardValues {
    Role role = Role::kNotClient;
    std::int64_t parent_company = 0;          // UF_CRM_SEG_PARENT_COMPANY; 0 = empty
    std::optional<Lifecycle> lifecycle{};     // UF_CRM_SEG_LIFECYCLE
    std::optional<ClientType> client_type{};  // UF_CRM_SEG_CLIENT_TYPE
    std::optional<Frequency> frequency{};     // UF_CRM_SEG_FREQUENCY
    std::optional<Instant> last_payment{};    // UF_CRM_SEG_LAST_PAYMENT (L, as written)
    std::optional<std::int64_t> payments{};   // UF_CRM_SEG_PAYMENTS (N)
    std::optional<bool> has_dialogs{};        // UF_CRM_SEG_HAS_DIALOGS
    std::optional<bool> has_channels{};       // UF_CRM_SEG_HAS_CHANNELS
    // Tier field (an enumeration): the tier's code, its XML_ID.
    std::optional<std::string> tier{};
    // Turnover field (a number): the window turnover at T in hundredths of the base currency.
    std::optional<std::int64_t> turnover{};
    // Rule segments field (a multiple enumeration): the codes of the rule segments the client is
    // in, in the order the rules were given. Filled only by the queries that take rules.
    std::vector<std::string> rule_segments{};

    bool operator==(const CardValues&) const = default;
};

struct Card {
    CardRef ref{};
    CardValues values{};

    bool operator==(const Card&) const = default;
};

enum class PaymentSource : std::uint8_t { kDeal, kInvoice, kLegacyInvoice };

// One payment (SEGMENTS.md §2): a paid invoice, or a won deal without a paid invoice.
struct PaymentInfo {
    Instant date{};
    PaymentSource source = PaymentSource::kDeal;
    std::int64_t id = 0;  // the deal's or invoice's id
    // The payment's amount: the paid invoice's, or the won deal's (README "Turnover").
    double amount = 0;       // as written on the record, in its currency
    std::string currency{};  // as written; "" = the portal's base currency
    // The amount in hundredths of the base currency; nullopt when the currency is not in the
    // portal's currency table (then the payment adds nothing to the turnover).
    std::optional<std::int64_t> base_amount{};

    bool operator==(const PaymentInfo&) const = default;
};

// Channel kinds for the card tab; the flags of ChannelFlag map onto these.
enum ChannelKind : std::uint8_t {
    kChannelKindPhone = 1U << 0,       // HAS_PHONE
    kChannelKindEmail = 1U << 1,       // HAS_EMAIL
    kChannelKindIm = 1U << 2,          // HAS_IMOL or an IM value
    kChannelKindWeb = 1U << 3,         // a WEB value
    kChannelKindRequisites = 1U << 4,  // at least one requisite
    kChannelKindMembers = 1U << 5,     // a company with at least one member contact
};

// What the card tab shows for one card at time T (server/API.md, /api/client).
struct ClientDetail {
    CardRef card{};
    CardValues values{};  // the card's own values, as Card() returns them
    // The client whose segment the card shows: the card itself for a client, its primary company
    // for a member; nullopt for a kNotClient card.
    std::optional<CardRef> client{};
    // That client's payments dated at or before T, oldest first (empty for kNotClient).
    std::vector<PaymentInfo> payments{};
    // Dialogs with the same scope as `values.has_dialogs` (a company: its own and its members'
    // activities; a contact: its own), counting activities created at or before T once each.
    std::int64_t dialog_count = 0;
    // The latest such activity's creation time (on a tie, the activity with the larger id).
    std::optional<Instant> last_dialog{};
    // ChannelKind bits with the same scope as `values.has_channels`.
    std::uint8_t channels = 0;
    // For a client company: its member contacts' ids, ascending. Empty otherwise.
    std::vector<std::int64_t> members{};
    // The client's turnover over all its payments at or before T (the window turnover is
    // values.turnover), in hundredths of the base currency; 0 for a kNotClient card.
    std::int64_t lifetime_turnover = 0;
    // How many of `payments` have a currency that is not in the portal's table (they add nothing).
    std::int64_t unconverted_payments = 0;

    bool operator==(const ClientDetail&) const = default;
};

// The series of the five modes, in the order of server/API.md.
enum class Series : std::uint8_t {
    kContacts,      // directories: contacts (members included) with DATE_CREATE <= t
    kCompanies,     // directories: companies, IS_MY_COMPANY excluded, with DATE_CREATE <= t
    kAllClients,    // clients: all clients existing at t
    kB2B,           // clients: client companies existing at t
    kB2C,           // clients: B2C contacts existing at t
    kActive,        // payments: ACTIVE among clients existing at t with a payment <= t
    kSleeping,      // payments: SLEEPING
    kLost,          // payments: LOST
    kRegular,       // frequency: REGULAR among clients existing at t
    kFirst,         // frequency: FIRST
    kNone,          // frequency: NONE
    kRequests,      // no_payments: REQUESTS among clients existing at t with no payment <= t
    kDialogs,       // no_payments: DIALOGS
    kWithContacts,  // no_payments: CONTACTS (has channels)
    kNoContacts,    // no_payments: NO_CONTACTS
};
inline constexpr std::size_t kSeriesCount = 15;

inline constexpr std::size_t SeriesIndex(Series series) {
    return static_cast<std::size_t>(series);
}

// Monthly values of every series, one per month from `first_month` to the month of T inclusive.
// The last value of each series is its value at T itself (the dashboard's counter).
struct MonthlySeries {
    YearMonth first_month{};
    std::size_t month_count = 0;  // >= 1
    // values[SeriesIndex(s)][i] is series s at month first_month + i.
    std::array<std::vector<std::int64_t>, kSeriesCount> values{};

    std::int64_t At(Series series, std::size_t month) const {
        return values[SeriesIndex(series)][month];
    }
    std::int64_t Today(Series series) const { return values[SeriesIndex(series)].back(); }
    YearMonth Month(std::size_t i) const;

    bool operator==(const MonthlySeries&) const = default;
};

// Names used in the portal's fields and in the server's JSON API.
std::string_view XmlId(Lifecycle lifecycle);     // ACTIVE SLEEPING LOST REQUESTS DIALOGS ...
std::string_view XmlId(Frequency frequency);     // REGULAR FIRST NONE
std::string_view XmlId(ClientType client_type);  // B2B B2C
std::optional<Lifecycle> LifecycleFromXmlId(std::string_view xml_id);
std::optional<Frequency> FrequencyFromXmlId(std::string_view xml_id);
std::optional<ClientType> ClientTypeFromXmlId(std::string_view xml_id);
std::string_view ModeId(Series series);    // directories clients payments frequency no_payments
std::string_view SeriesId(Series series);  // contacts companies all b2b b2c active ... no_contacts
// Finds a series by its API mode and series ids ("no_payments", "contacts").
std::optional<Series> SeriesFromIds(std::string_view mode_id, std::string_view series_id);

// Whether a card belongs to a series today, judged from its values at T (the drill-down lists of
// /api/list). Directories list every contact (members included) and every company except the
// portal's own; every other series lists clients only.
bool InSeries(Series series, CardKind kind, const CardValues& values);

// The same for the tiers mode (`tier` a tier code, or "" for the clients in no tier) and for a rule
// segment (its code), judged from card values that AllCards(t, rules) filled: clients only.
bool InTier(const CardValues& values, std::string_view tier);
bool InRuleSegment(const CardValues& values, std::string_view code);

}  // namespace segmenter
