#pragma once
// Bitrix24 rows (as the REST methods send them) -> the rows the server stores.
// Lenient where the platform is (numbers as strings, Y/N booleans, [] for empty objects, nulls),
// strict where it matters: a row without a usable id or creation date is rejected (nullopt), not
// stored half-empty.

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "portal_db.hpp"

namespace server::sync {

// crm.item.list, entityTypeId 3, select ["*"] (camelCase; fm multifields; companyIds).
std::optional<ContactRow> MapContact(const nlohmann::json& item);
// crm.item.list, entityTypeId 4, select ["*"].
std::optional<CompanyRow> MapCompany(const nlohmann::json& item);
// crm.item.list, entityTypeId 2.
std::optional<DealRow> MapDeal(const nlohmann::json& item);
// crm.item.list, entityTypeId 31.
std::optional<InvoiceRow> MapInvoice(const nlohmann::json& item);
// crm.invoice.list (UPPER_CASE, strings).
std::optional<OldInvoiceRow> MapOldInvoice(const nlohmann::json& row);
// crm.activity.list with COMMUNICATIONS selected: bindings = owner + communications' entities.
std::optional<ActivityRow> MapActivity(const nlohmann::json& row);
// crm.requisite.list.
std::optional<RequisiteRow> MapRequisite(const nlohmann::json& row);

// Our eight UF_CRM_SEG_* values as a crm.item.list row carries them (useOriginalUfNames=Y;
// camelCase ufCrmSeg... names are accepted too). Enumeration values arrive as list-item ids and
// are translated to XML_IDs with `items` (field name -> item id -> XML_ID); an id we do not know
// reads as an unknown value (so the card gets rewritten). Dates are reduced to YYYY-MM-DD.
using EnumItemsByField = std::map<std::string, std::map<std::int64_t, std::string>>;
CardValues ReadCardValues(const nlohmann::json& item, const EnumItemsByField& items);

// "2024-09-09T02:00:00+03:00" -> "2024-09-09"; anything without a leading date -> "".
std::string DatePart(const std::string& date_time);

}  // namespace server::sync
