#include "sync/user_fields.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "b24client/client.hpp"
#include "b24client/json_util.hpp"
#include "portal_db.hpp"

namespace server::sync {

namespace {

using nlohmann::json;

struct Labels {
    const char* ru;
    const char* en;
    const char* de;
    const char* pl;
};

const std::map<std::string, Labels>& FieldLabels() {
    static const std::map<std::string, Labels> labels = {
        {"UF_CRM_SEG_PARENT_COMPANY",
         {"Родительская компания (Клиенты)", "Parent company (Clients)",
          "Übergeordnetes Unternehmen (Kunden)", "Firma nadrzędna (Klienci)"}},
        {"UF_CRM_SEG_LIFECYCLE",
         {"Жизненный цикл (Клиенты)", "Lifecycle (Clients)", "Lebenszyklus (Kunden)",
          "Cykl życia (Klienci)"}},
        {"UF_CRM_SEG_CLIENT_TYPE",
         {"Тип клиента (Клиенты)", "Client type (Clients)", "Kundentyp (Kunden)",
          "Typ klienta (Klienci)"}},
        {"UF_CRM_SEG_FREQUENCY",
         {"Частота продаж (Клиенты)", "Sales frequency (Clients)", "Kaufhäufigkeit (Kunden)",
          "Częstotliwość sprzedaży (Klienci)"}},
        {"UF_CRM_SEG_LAST_PAYMENT",
         {"Дата последней оплаты (Клиенты)", "Last payment date (Clients)",
          "Datum der letzten Zahlung (Kunden)", "Data ostatniej płatności (Klienci)"}},
        {"UF_CRM_SEG_PAYMENTS",
         {"Количество оплат (Клиенты)", "Number of payments (Clients)",
          "Anzahl der Zahlungen (Kunden)", "Liczba płatności (Klienci)"}},
        {"UF_CRM_SEG_HAS_DIALOGS",
         {"Наличие диалогов (Клиенты)", "Has dialogs (Clients)", "Dialoge vorhanden (Kunden)",
          "Są dialogi (Klienci)"}},
        {"UF_CRM_SEG_HAS_CHANNELS",
         {"Наличие контактов для связи (Клиенты)", "Has contact channels (Clients)",
          "Kontaktdaten vorhanden (Kunden)", "Są dane kontaktowe (Klienci)"}},
    };
    return labels;
}

const std::map<std::string, Labels>& ItemLabels() {
    static const std::map<std::string, Labels> labels = {
        {"ACTIVE", {"Активный", "Active", "Aktiv", "Aktywny"}},
        {"SLEEPING", {"Спящий", "Sleeping", "Schlafend", "Uśpiony"}},
        {"LOST", {"Потерянный", "Lost", "Verloren", "Utracony"}},
        {"REQUESTS", {"С заявками", "With requests", "Mit Anfragen", "Z zapytaniami"}},
        {"DIALOGS", {"С диалогами", "With dialogs", "Mit Dialogen", "Z dialogami"}},
        {"CONTACTS",
         {"С контактными данными", "With contact data", "Mit Kontaktdaten",
          "Z danymi kontaktowymi"}},
        {"NO_CONTACTS",
         {"Без контактов", "Without contacts", "Ohne Kontaktdaten", "Bez danych kontaktowych"}},
        {"B2B", {"B2B", "B2B", "B2B", "B2B"}},
        {"B2C", {"B2C", "B2C", "B2C", "B2C"}},
        {"REGULAR", {"Постоянный клиент", "Regular client", "Stammkunde", "Stały klient"}},
        {"FIRST", {"Первая покупка", "First purchase", "Erstkauf", "Pierwszy zakup"}},
        {"NONE", {"Нет оплат", "No payments", "Keine Zahlungen", "Brak płatności"}},
    };
    return labels;
}

const char* Pick(const Labels& l, const std::string& lang) {
    if (lang == "ru") {
        return l.ru;
    }
    if (lang == "de") {
        return l.de;
    }
    if (lang == "pl") {
        return l.pl;
    }
    return l.en;
}

json LangMap(const Labels& l) {
    return {{"ru", l.ru}, {"en", l.en}, {"de", l.de}, {"pl", l.pl}};
}

json FieldSpec(const FieldDef& def, const std::string& lang) {
    const Labels& labels = FieldLabels().at(def.name);
    json f = {{"FIELD_NAME", def.name},
              {"USER_TYPE_ID", def.type},
              {"XML_ID", def.name},
              {"LABEL", Pick(labels, lang)},
              {"EDIT_FORM_LABEL", LangMap(labels)},
              {"LIST_COLUMN_LABEL", LangMap(labels)},
              {"LIST_FILTER_LABEL", LangMap(labels)},
              {"MULTIPLE", "N"},
              {"MANDATORY", "N"},
              {"SHOW_FILTER", "Y"},
              {"SHOW_IN_LIST", "N"},
              {"EDIT_IN_LIST", "N"},
              {"IS_SEARCHABLE", "N"},
              {"SORT", 5000}};
    std::string type = def.type;
    if (type == "crm") {
        f["SETTINGS"] = {{"LEAD", "N"}, {"CONTACT", "N"}, {"COMPANY", "Y"}, {"DEAL", "N"}};
    } else if (type == "boolean") {
        f["SETTINGS"] = {{"DEFAULT_VALUE", 0}, {"DISPLAY", "CHECKBOX"}};
    } else if (type == "enumeration") {
        f["SETTINGS"] = {{"DISPLAY", "LIST"}};
        json list = json::array();
        int sort = 10;
        for (const char* xml : def.xml_ids) {
            list.push_back({{"VALUE", Pick(ItemLabels().at(xml), lang)},
                            {"XML_ID", xml},
                            {"SORT", sort},
                            {"DEF", "N"}});
            sort += 10;
        }
        f["LIST"] = list;
    }
    return f;
}

std::string Method(const std::string& entity, const char* op) {
    return "crm." + entity + ".userfield." + op;
}

// The first row of a userfield.list answer for our field, or null.
const json* FirstRow(const b24client::CommandResult& r) {
    if (!r.ok || !r.result.is_array() || r.result.empty()) {
        return nullptr;
    }
    return &r.result[0];
}

}  // namespace

const std::vector<FieldDef>& SegmentFields() {
    static const std::vector<FieldDef> fields = {
        {"UF_CRM_SEG_PARENT_COMPANY", "crm", {}},
        {"UF_CRM_SEG_LIFECYCLE",
         "enumeration",
         {"ACTIVE", "SLEEPING", "LOST", "REQUESTS", "DIALOGS", "CONTACTS", "NO_CONTACTS"}},
        {"UF_CRM_SEG_CLIENT_TYPE", "enumeration", {"B2B", "B2C"}},
        {"UF_CRM_SEG_FREQUENCY", "enumeration", {"REGULAR", "FIRST", "NONE"}},
        {"UF_CRM_SEG_LAST_PAYMENT", "date", {}},
        {"UF_CRM_SEG_PAYMENTS", "integer", {}},
        {"UF_CRM_SEG_HAS_DIALOGS", "boolean", {}},
        {"UF_CRM_SEG_HAS_CHANNELS", "boolean", {}},
    };
    return fields;
}

std::string FieldLabel(const std::string& field, const std::string& lang) {
    auto it = FieldLabels().find(field);
    return it == FieldLabels().end() ? field : Pick(it->second, lang);
}

std::string ItemLabel(const std::string& xml_id, const std::string& lang) {
    auto it = ItemLabels().find(xml_id);
    return it == ItemLabels().end() ? xml_id : Pick(it->second, lang);
}

FieldsReport EnsureUserFields(b24client::Client& client, PortalDb& db, const std::string& lang) {
    FieldsReport report;
    const std::vector<std::string> entities = {"contact", "company"};
    const auto& fields = SegmentFields();

    auto list_all = [&] {
        std::vector<b24client::Command> cmds;
        for (const auto& entity : entities) {
            for (const auto& def : fields) {
                b24client::Command c;
                c.method = Method(entity, "list");
                c.params = {{"filter", {{"FIELD_NAME", def.name}}}};
                cmds.push_back(std::move(c));
            }
        }
        return client.Batch(cmds);
    };

    std::vector<b24client::CommandResult> listed = list_all();
    std::vector<b24client::Command> changes;
    bool recreated_any = false;
    for (std::size_t e = 0; e < entities.size(); ++e) {
        for (std::size_t f = 0; f < fields.size(); ++f) {
            const auto& def = fields[f];
            const auto& result = listed[e * fields.size() + f];
            if (!result.ok) {
                throw *result.error;
            }
            const json* row = FirstRow(result);
            json spec = FieldSpec(def, lang);
            if (row == nullptr) {
                changes.push_back({Method(entities[e], "add"),
                                   {{"fields", spec}},
                                   "",
                                   b24client::Repeat::kUnsafe});
                ++report.created;
                recreated_any = true;
                continue;
            }
            auto id = b24client::ToInt64(row->value("ID", json()));
            if (row->value("USER_TYPE_ID", std::string()) != def.type && id) {
                // An admin replaced our field with one of another type: values cannot be written.
                changes.push_back(
                    {Method(entities[e], "delete"), {{"id", *id}}, "", b24client::Repeat::kSafe});
                changes.push_back({Method(entities[e], "add"),
                                   {{"fields", spec}},
                                   "",
                                   b24client::Repeat::kUnsafe});
                ++report.recreated;
                recreated_any = true;
                continue;
            }
            json update = json::object();
            if (b24client::ToString(row->value("SHOW_FILTER", json())).value_or("") == "N") {
                update["SHOW_FILTER"] = "Y";
            }
            if (b24client::ToBool(row->value("EDIT_IN_LIST", json())).value_or(true)) {
                update["EDIT_IN_LIST"] = "N";
            }
            if (!def.xml_ids.empty()) {
                std::set<std::string> present;
                if (const json* items = b24client::Find(*row, "LIST");
                    items != nullptr && items->is_array()) {
                    for (const json& item : *items) {
                        present.insert(item.value("XML_ID", std::string()));
                    }
                }
                json add = json::array();
                for (const char* xml : def.xml_ids) {
                    if (present.count(xml) == 0) {
                        add.push_back(
                            {{"VALUE", ItemLabel(xml, lang)}, {"XML_ID", xml}, {"DEF", "N"}});
                    }
                }
                if (!add.empty()) {
                    update["LIST"] = add;  // items without ID are added, the others kept
                }
            }
            if (!update.empty() && id) {
                changes.push_back({Method(entities[e], "update"),
                                   {{"id", *id}, {"fields", update}},
                                   "",
                                   b24client::Repeat::kSafe});
                ++report.repaired;
            }
        }
    }

    if (!changes.empty()) {
        for (const auto& r : client.Batch(changes)) {
            if (!r.ok && r.error->kind() != b24client::ErrorKind::kInvalidArgument &&
                r.error->kind() != b24client::ErrorKind::kApi) {
                throw *r.error;  // "already exists" (a repeated add) is fine; access denied is not
            }
        }
        listed = list_all();
    }

    if (recreated_any) {
        // The cards carry nothing in a field that has just been created: forget what we knew.
        std::lock_guard lock(db.mutex());
        db.raw().exec("DELETE FROM card");
    }
    for (std::size_t e = 0; e < entities.size(); ++e) {
        for (std::size_t f = 0; f < fields.size(); ++f) {
            const auto& def = fields[f];
            const auto& result = listed[e * fields.size() + f];
            const json* row = result.ok ? FirstRow(result) : nullptr;
            if (row == nullptr) {
                throw b24client::Error(b24client::ErrorKind::kApi, Method(entities[e], "list"),
                                       "FIELD_MISSING",
                                       std::string("field ") + def.name + " could not be created");
            }
            std::map<std::string, std::int64_t> items;
            if (const json* list = b24client::Find(*row, "LIST");
                list != nullptr && list->is_array()) {
                for (const json& item : *list) {
                    auto item_id = b24client::ToInt64(item.value("ID", json()));
                    std::string xml = item.value("XML_ID", std::string());
                    if (item_id && !xml.empty()) {
                        items[xml] = *item_id;
                    }
                }
            }
            for (const char* xml : def.xml_ids) {
                if (items.count(xml) == 0) {
                    throw b24client::Error(
                        b24client::ErrorKind::kApi, Method(entities[e], "update"), "ITEM_MISSING",
                        std::string("item ") + xml + " of " + def.name + " could not be restored");
                }
            }
            db.SetUserField(entities[e], def.name,
                            b24client::ToInt64(row->value("ID", json())).value_or(0), items);
        }
    }
    return report;
}

}  // namespace server::sync
