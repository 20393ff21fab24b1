#include "sync/row_mapping.hpp"

#include <algorithm>
#include <iterator>

#include <nlohmann/json.hpp>

#include "b24client/json_util.hpp"

namespace server::sync {

namespace {

using nlohmann::json;

const json* Field(const json& row, std::string_view key) {
    return b24client::Find(row, key);
}

std::int64_t Int(const json& row, std::string_view key) {
    const json* v = Field(row, key);
    if (v == nullptr) {
        return 0;
    }
    return b24client::ToInt64(*v).value_or(0);
}

std::string Text(const json& row, std::string_view key) {
    const json* v = Field(row, key);
    if (v == nullptr) {
        return {};
    }
    return b24client::ToString(*v).value_or("");
}

bool Flag(const json& row, std::string_view key) {
    const json* v = Field(row, key);
    return v != nullptr && b24client::ToBool(*v).value_or(false);
}

std::vector<std::int64_t> Ids(const json& row, std::string_view key) {
    std::vector<std::int64_t> out;
    const json* v = Field(row, key);
    if (v == nullptr || !v->is_array()) {
        return out;
    }
    for (const json& e : *v) {
        if (auto id = b24client::ToInt64(e);
            id && *id > 0 && std::find(out.begin(), out.end(), *id) == out.end()) {
            out.push_back(*id);
        }
    }
    return out;
}

// {first} followed by `rest`, built fresh (inserting at the front of a vector trips GCC 12's
// -Wnull-dereference false positive at -O2).
std::vector<std::int64_t> Prepend(std::int64_t first, const std::vector<std::int64_t>& rest) {
    std::vector<std::int64_t> out;
    out.reserve(rest.size() + 1);
    out.push_back(first);
    std::copy(rest.begin(), rest.end(), std::back_inserter(out));
    return out;
}

// The first contact first: contactId (deprecated, but the first binding) then contactIds.
std::vector<std::int64_t> ContactList(const json& row) {
    std::vector<std::int64_t> ids = Ids(row, "contactIds");
    const std::int64_t first = Int(row, "contactId");
    if (first <= 0) {
        return ids;
    }
    ids.erase(std::remove(ids.begin(), ids.end(), first), ids.end());
    return Prepend(first, ids);
}

std::string JoinName(std::initializer_list<std::string> parts) {
    std::string out;
    for (const auto& p : parts) {
        if (p.empty()) {
            continue;
        }
        if (!out.empty()) {
            out.push_back(' ');
        }
        out += p;
    }
    return out;
}

// fm multifields -> phones, e-mails and channel bits.
void ReadMultifields(const json& item,
                     int& channels,
                     std::vector<std::string>& phones,
                     std::vector<std::string>& emails) {
    const json* fm = Field(item, "fm");
    if (fm == nullptr || !fm->is_array()) {
        return;
    }
    for (const json& f : *fm) {
        std::string type = Text(f, "typeId");
        std::string value = Text(f, "value");
        if (value.empty()) {
            continue;
        }
        if (type == "PHONE") {
            phones.push_back(value);
            channels |= kChannelPhone;
        } else if (type == "EMAIL") {
            emails.push_back(value);
            channels |= kChannelEmail;
        } else if (type == "WEB") {
            channels |= kChannelWeb;
        } else if (type == "IM") {
            channels |= kChannelMessenger;
        }
    }
}

int HasFlags(const json& item) {
    int channels = 0;
    if (Flag(item, "hasPhone")) {
        channels |= kChannelPhone;
    }
    if (Flag(item, "hasEmail")) {
        channels |= kChannelEmail;
    }
    if (Flag(item, "hasImol")) {
        channels |= kChannelOpenLine;
    }
    return channels;
}

bool LooksLikeDate(const std::string& s) {
    return s.size() >= 10 && s[4] == '-' && s[7] == '-' &&
           std::all_of(s.begin(), s.begin() + 4, ::isdigit);
}

}  // namespace

std::string DatePart(const std::string& date_time) {
    return LooksLikeDate(date_time) ? date_time.substr(0, 10) : std::string();
}

std::optional<ContactRow> MapContact(const json& item) {
    ContactRow r;
    r.id = Int(item, "id");
    r.created = Text(item, "createdTime");
    if (r.id <= 0 || r.created.empty()) {
        return std::nullopt;
    }
    r.updated = Text(item, "updatedTime");
    r.name = JoinName({Text(item, "name"), Text(item, "secondName"), Text(item, "lastName")});
    r.company_ids = Ids(item, "companyIds");
    r.company_id = Int(item, "companyId");
    if (r.company_id > 0 && std::find(r.company_ids.begin(), r.company_ids.end(), r.company_id) ==
                                r.company_ids.end()) {
        r.company_ids = Prepend(r.company_id, r.company_ids);
    }
    r.assigned_by = Int(item, "assignedById");
    r.channels = HasFlags(item);
    ReadMultifields(item, r.channels, r.phones, r.emails);
    return r;
}

std::optional<CompanyRow> MapCompany(const json& item) {
    CompanyRow r;
    r.id = Int(item, "id");
    r.created = Text(item, "createdTime");
    if (r.id <= 0 || r.created.empty()) {
        return std::nullopt;
    }
    r.updated = Text(item, "updatedTime");
    r.name = Text(item, "title");
    r.is_my = Flag(item, "isMyCompany");
    r.assigned_by = Int(item, "assignedById");
    r.channels = HasFlags(item);
    ReadMultifields(item, r.channels, r.phones, r.emails);
    return r;
}

std::optional<DealRow> MapDeal(const json& item) {
    DealRow r;
    r.id = Int(item, "id");
    r.created = Text(item, "createdTime");
    if (r.id <= 0 || r.created.empty()) {
        return std::nullopt;
    }
    r.updated = Text(item, "updatedTime");
    r.title = Text(item, "title");
    r.company_id = Int(item, "companyId");
    r.contact_ids = ContactList(item);
    std::string semantic = Text(item, "stageSemanticId");
    r.semantic = (semantic == "S" || semantic == "F") ? semantic : "P";
    r.moved = Text(item, "movedTime");
    r.closedate = Text(item, "closedate");
    return r;
}

std::optional<InvoiceRow> MapInvoice(const json& item) {
    InvoiceRow r;
    r.id = Int(item, "id");
    r.created = Text(item, "createdTime");
    if (r.id <= 0 || r.created.empty()) {
        return std::nullopt;
    }
    r.updated = Text(item, "updatedTime");
    r.title = Text(item, "title");
    r.company_id = Int(item, "companyId");
    r.contact_ids = ContactList(item);
    r.deal_id = Int(item, "parentId2");
    r.stage_id = Text(item, "stageId");
    r.moved = Text(item, "movedTime");
    return r;
}

std::optional<OldInvoiceRow> MapOldInvoice(const json& row) {
    OldInvoiceRow r;
    r.id = Int(row, "ID");
    r.created = Text(row, "DATE_INSERT");
    if (r.id <= 0 || r.created.empty()) {
        return std::nullopt;
    }
    r.updated = Text(row, "DATE_UPDATE");
    r.title = Text(row, "ORDER_TOPIC");
    r.company_id = Int(row, "UF_COMPANY_ID");
    r.contact_id = Int(row, "UF_CONTACT_ID");
    r.deal_id = Int(row, "UF_DEAL_ID");
    r.paid = Flag(row, "PAYED");
    r.paid_at = Text(row, "DATE_PAYED");
    return r;
}

std::optional<ActivityRow> MapActivity(const json& row) {
    ActivityRow r;
    r.id = Int(row, "ID");
    r.created = Text(row, "CREATED");
    if (r.id <= 0 || r.created.empty()) {
        return std::nullopt;
    }
    r.updated = Text(row, "LAST_UPDATED");
    auto add = [&](int type, std::int64_t id) {
        if (type <= 0 || id <= 0) {
            return;
        }
        Binding b{type, id};
        if (std::find(r.bindings.begin(), r.bindings.end(), b) == r.bindings.end()) {
            r.bindings.push_back(b);
        }
    };
    add(static_cast<int>(Int(row, "OWNER_TYPE_ID")), Int(row, "OWNER_ID"));
    if (const json* comms = Field(row, "COMMUNICATIONS"); comms != nullptr && comms->is_array()) {
        for (const json& c : *comms) {
            add(static_cast<int>(Int(c, "ENTITY_TYPE_ID")), Int(c, "ENTITY_ID"));
        }
    }
    return r;
}

std::optional<RequisiteRow> MapRequisite(const json& row) {
    RequisiteRow r;
    r.id = Int(row, "ID");
    r.entity_type = static_cast<int>(Int(row, "ENTITY_TYPE_ID"));
    r.entity_id = Int(row, "ENTITY_ID");
    r.created = Text(row, "DATE_CREATE");
    r.updated = Text(row, "DATE_MODIFY");
    if (r.id <= 0 || r.entity_id <= 0) {
        return std::nullopt;
    }
    return r;
}

CardValues ReadCardValues(const json& item, const EnumItemsByField& items) {
    // Unset fields arrive as null or "" (or are missing); set ones as numbers, strings or Y/N.
    auto value = [&](const char* upper, const char* camel) -> const json* {
        const json* v = Field(item, upper);
        if (v == nullptr) {
            v = Field(item, camel);
        }
        return (v == nullptr || b24client::IsEmptyValue(*v)) ? nullptr : v;
    };
    auto enum_xml = [&](const char* field, const json* v) -> std::optional<std::string> {
        if (v == nullptr) {
            return std::nullopt;
        }
        auto id = b24client::ToInt64(*v);
        auto f = items.find(field);
        if (id && f != items.end()) {
            if (auto it = f->second.find(*id); it != f->second.end()) {
                return it->second;
            }
        }
        return std::string("?");  // a value we cannot read: differs from every target
    };

    CardValues c;
    if (const json* v = value("UF_CRM_SEG_PARENT_COMPANY", "ufCrmSegParentCompany")) {
        std::string s = b24client::ToString(*v).value_or("");
        if (s.rfind("CO_", 0) == 0) {
            s = s.substr(3);
        }
        if (auto id = b24client::ToInt64(json(s)); id && *id > 0) {
            c.parent_company = *id;
        }
    }
    c.lifecycle =
        enum_xml("UF_CRM_SEG_LIFECYCLE", value("UF_CRM_SEG_LIFECYCLE", "ufCrmSegLifecycle"));
    c.client_type =
        enum_xml("UF_CRM_SEG_CLIENT_TYPE", value("UF_CRM_SEG_CLIENT_TYPE", "ufCrmSegClientType"));
    c.frequency =
        enum_xml("UF_CRM_SEG_FREQUENCY", value("UF_CRM_SEG_FREQUENCY", "ufCrmSegFrequency"));
    if (const json* v = value("UF_CRM_SEG_LAST_PAYMENT", "ufCrmSegLastPayment")) {
        std::string d = DatePart(b24client::ToString(*v).value_or(""));
        if (!d.empty()) {
            c.last_payment = d;
        }
    }
    if (const json* v = value("UF_CRM_SEG_PAYMENTS", "ufCrmSegPayments")) {
        c.payments = b24client::ToInt64(*v);
    }
    if (const json* v = value("UF_CRM_SEG_HAS_DIALOGS", "ufCrmSegHasDialogs")) {
        c.has_dialogs = b24client::ToBool(*v);
    }
    if (const json* v = value("UF_CRM_SEG_HAS_CHANNELS", "ufCrmSegHasChannels")) {
        c.has_channels = b24client::ToBool(*v);
    }
    return c;
}

}  // namespace server::sync
