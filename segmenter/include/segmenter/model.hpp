#pragma once

// The segmenter's input: a portal's CRM rows, as plain structs close to Bitrix24's own data model.
// The server fills them from its storage; all segmentation rules live in the segmenter.
//
// Ids are the portal's ids. Valid ids are 1 .. 2^62-1; a row with an id outside that range is
// ignored, and a reference outside it (0 in particular) means "none". A reference to a row that
// does not exist (deleted, merged, or not pulled) is treated as no reference at all.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "segmenter/instant.hpp"

namespace segmenter {

// Bitrix24 CRM entity type ids (`crm.enum.ownertype`).
inline constexpr std::int32_t kEntityTypeDeal = 2;
inline constexpr std::int32_t kEntityTypeContact = 3;
inline constexpr std::int32_t kEntityTypeCompany = 4;

// The values one card has in one enumeration (or other list) user field that the admin picked for
// rule segments and breakdowns. The strings are opaque to the segmenter: the server decides what it
// passes (the list items' XML_ID is the stable choice) and rules must use the same strings.
struct FieldValues {
    std::string name;                   // FIELD_NAME, e.g. UF_CRM_REGION
    std::vector<std::string> values{};  // every value set on the card (several for MULTIPLE = Y)

    bool operator==(const FieldValues&) const = default;
};

// Channel data of a contact or company, as bit flags (combine with |).
enum ChannelFlag : std::uint8_t {
    kChannelPhone = 1U << 0,  // HAS_PHONE = Y
    kChannelEmail = 1U << 1,  // HAS_EMAIL = Y
    kChannelImol = 1U << 2,   // HAS_IMOL = Y (open-line chat)
    kChannelWeb = 1U << 3,    // at least one WEB value
    kChannelIm = 1U << 4,     // at least one IM value
};

struct Contact {
    std::int64_t id = 0;
    Instant created{};                        // DATE_CREATE / createdTime
    std::int64_t company_id = 0;              // COMPANY_ID / companyId (the main company), 0 = none
    std::vector<std::int64_t> company_ids{};  // companyIds in portal order (primary binding first)
    std::uint8_t channels = 0;                // ChannelFlag bits
    // Attributes for rule segments and breakdowns; they never change the eight fields.
    std::string type_id{};              // TYPE_ID (directory CONTACT_TYPE), "" = none
    std::string source_id{};            // SOURCE_ID (directory SOURCE), "" = none
    std::int64_t assigned_by_id = 0;    // ASSIGNED_BY_ID (the responsible user), 0 = none
    std::vector<FieldValues> fields{};  // picked enumeration user fields (see FieldValues)
};

struct Company {
    std::int64_t id = 0;
    Instant created{};           // DATE_CREATE
    bool is_my_company = false;  // IS_MY_COMPANY = Y: the portal's own company, never a client
    std::uint8_t channels = 0;   // ChannelFlag bits
    // Attributes for rule segments and breakdowns; they never change the eight fields.
    std::string type_id{};    // COMPANY_TYPE (directory COMPANY_TYPE), "" = none
    std::string industry{};   // INDUSTRY (directory INDUSTRY), "" = none
    std::string source_id{};  // SOURCE_ID where the portal has one (crm.company.fields lists none)
    std::int64_t assigned_by_id = 0;    // ASSIGNED_BY_ID (the responsible user), 0 = none
    std::vector<FieldValues> fields{};  // picked enumeration user fields (see FieldValues)
};

// Stage semantics (STAGE_SEMANTIC_ID): in progress, won (success), failed.
enum class StageSemantic : std::uint8_t { kInProgress, kWon, kFailed };

struct Deal {
    std::int64_t id = 0;
    Instant created{};                        // DATE_CREATE
    std::int64_t company_id = 0;              // COMPANY_ID, 0 = none
    std::vector<std::int64_t> contact_ids{};  // CONTACT_ID first, then the rest of contactIds
    StageSemantic stage = StageSemantic::kInProgress;
    std::optional<Instant> moved_time{};  // MOVED_TIME
    std::optional<Instant> close_date{};  // CLOSEDATE
    double opportunity = 0;               // OPPORTUNITY, in the deal's currency
    std::string currency_id{};            // CURRENCY_ID; "" = the portal's base currency
};

// New (smart, entityTypeId 31) and old (crm.invoice.*) invoices in one shape. The two id spaces are
// distinct: (legacy, id) identifies an invoice.
struct Invoice {
    std::int64_t id = 0;
    bool legacy = false;                      // true for old invoices (crm.invoice.list)
    Instant created{};                        // createdTime / DATE_INSERT
    std::int64_t company_id = 0;              // companyId / UF_COMPANY_ID, 0 = none
    std::vector<std::int64_t> contact_ids{};  // contactId first, then the rest of contactIds
    std::int64_t deal_id = 0;                 // parentId2 / UF_DEAL_ID, 0 = none
    bool paid = false;  // stage semantics S (new), PAYED = Y (old); derived by the server
    std::optional<Instant> paid_time{};  // movedTime (new) / DATE_PAYED (old)
    double opportunity = 0;              // opportunity (new) / PRICE (old), in its currency
    std::string currency_id{};           // currencyId (new) / CURRENCY (old); "" = base currency
};

// One (entity type, id) an activity is bound to: its owner, a binding, or a communication.
struct Binding {
    std::int32_t entity_type = 0;  // kEntityTypeContact, kEntityTypeCompany; others are ignored
    std::int64_t entity_id = 0;
};

struct Activity {
    std::int64_t id = 0;
    Instant created{};                // CREATED
    std::vector<Binding> bindings{};  // duplicates are allowed and harmless
    // Created by b24seg itself (its own alerts: a to-do or a task on the card). Such an activity is
    // never a dialog (SEGMENTS.md §3) and is not shown in the card tab's dialogs.
    bool app_created = false;
};

struct Requisite {
    std::int64_t id = 0;           // crm.requisite.list ID
    std::int32_t entity_type = 0;  // kEntityTypeContact or kEntityTypeCompany; others are ignored
    std::int64_t entity_id = 0;
};

// One row of crm.currency.list. AMOUNT is the price of AMOUNT_CNT units of the currency in the base
// currency (1 CNY = 12.2251 RUB is AMOUNT 12.2251, AMOUNT_CNT 1; 10,000 IDR = 54.8738 RUB is AMOUNT
// 54.8738, AMOUNT_CNT 10000), so an amount converts to amount * AMOUNT / AMOUNT_CNT. See
// segmenter/README.md "Turnover" for the rules on unknown currencies and rounding.
struct Currency {
    std::string code;       // CURRENCY, e.g. USD
    double amount = 1;      // AMOUNT: the rate
    double amount_cnt = 1;  // AMOUNT_CNT: the face value the rate is given for
    bool base = false;      // BASE = Y

    bool operator==(const Currency&) const = default;
};

// A whole portal, or (in Changes) the rows to insert or replace.
struct PortalData {
    std::vector<Contact> contacts{};
    std::vector<Company> companies{};
    std::vector<Deal> deals{};
    std::vector<Invoice> invoices{};
    std::vector<Activity> activities{};
    std::vector<Requisite> requisites{};
    std::vector<Currency> currencies{};  // by code; a later row with the same code replaces one
};

// Identifies an invoice for removal.
struct InvoiceId {
    std::int64_t id = 0;
    bool legacy = false;
};

// Rows that no longer exist in the portal.
struct RemovedIds {
    std::vector<std::int64_t> contacts{};
    std::vector<std::int64_t> companies{};
    std::vector<std::int64_t> deals{};
    std::vector<InvoiceId> invoices{};
    std::vector<std::int64_t> activities{};
    std::vector<std::int64_t> requisites{};
    std::vector<std::string> currencies{};  // currency codes
};

// A batch of changes: removals are applied first, then upserts (insert, or replace the row with the
// same id). Within one kind, a later row with the same id replaces an earlier one.
struct Changes {
    PortalData upsert{};
    RemovedIds remove{};
};

// One admin-set turnover tier: clients whose window turnover is at least `threshold` (and above
// zero) are in it, unless a higher tier takes them.
struct Tier {
    std::string code;            // the XML_ID on the card's tier field: A-Z, 0-9, _ (ValidateTiers)
    std::int64_t threshold = 0;  // minimum turnover, in hundredths of the base currency

    bool operator==(const Tier&) const = default;
};

// Per-portal settings (SEGMENTS.md §4, and segmenter/README.md for turnover and tiers).
// Precondition: 1 <= active_months < lost_months <= 120, 1 <= turnover_months <= 120, and tiers
// that ValidateTiers (tiers.hpp) accepts (the server validates). Other values still give defined,
// if meaningless, results: lengths are clamped to 0..1200 months, and tiers are used in ascending
// order of threshold (on equal thresholds the later one wins).
struct Settings {
    std::int32_t active_months = 6;     // ACTIVE: last payment later than T - active_months
    std::int32_t lost_months = 18;      // LOST: last payment at or before T - lost_months
    std::int32_t turnover_months = 12;  // the turnover window: payments later than T - this
    // Admin-set tiers, lowest first. Empty: the default tiers by rank (DefaultTierCodes()).
    std::vector<Tier> tiers{};

    bool operator==(const Settings&) const = default;
};

}  // namespace segmenter
