#pragma once
// The CRM data of one fake portal: typed rows, one table per entity type, ids increasing with
// creation like a real portal. Times are epoch seconds (int64); the portal renders them with its
// own UTC offset. Derived values (HAS_PHONE, COMPANY_ID, STAGE_SEMANTIC_ID, activity BINDINGS …)
// are computed from the stored data when a row is served, never stored twice.
//
// These structs are plain data. Thread-safety belongs to the Portal that owns a CrmData: touch a
// CrmData directly only inside Portal::BulkLoad (or before the portal serves requests).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fakeportal {

using Time = int64_t;  // epoch seconds

/// CRM object type ids (crm.enum.ownertype).
enum EntityTypeId : int {
    kLead = 1,
    kDeal = 2,
    kContact = 3,
    kCompany = 4,
    kOldInvoice = 5,
    kRequisite = 8,
    kSmartInvoice = 31,
};

/// One phone / e-mail / site / messenger value (crm_multifield).
struct Multifield {
    int64_t id = 0;          // assigned by the portal when 0
    std::string type_id;     // PHONE, EMAIL, WEB, IM, LINK
    std::string value_type;  // WORK, MOBILE, HOME, TELEGRAM, IMOL, OPENLINE, …
    std::string value;
};

/// User-field values stored on a row: field id -> values (one value unless the field is
/// MULTIPLE). Values are kept in a canonical text form: integers and enumeration item ids as
/// decimal text, booleans "1"/"0", dates and datetimes as epoch seconds in decimal text, `crm`
/// links as written ("C_12", "CO_5" or a bare id), strings as they are.
struct UfValue {
    int64_t field_id = 0;
    std::vector<std::string> values;
};
using UfValues = std::vector<UfValue>;

struct Contact {
    int64_t id = 0;
    std::string name, last_name, second_name, post;
    std::string type_id = "CLIENT";
    std::string source_id = "CALL";
    /// Company bindings in the portal's order; the first one is the primary company (COMPANY_ID).
    std::vector<int64_t> company_ids;
    int64_t assigned_by_id = 1, created_by_id = 1, modify_by_id = 1;
    Time date_create = 0, date_modify = 0;  // 0 = "now" when added
    bool opened = true, export_allowed = true;
    std::optional<Time> birthdate, last_activity_time;
    std::vector<Multifield> fm;
    UfValues uf;
};

struct Company {
    int64_t id = 0;
    std::string title;
    std::string company_type = "CUSTOMER";
    std::string industry = "OTHER";
    std::string employees = "EMPLOYEES_1";
    double revenue = 0;
    std::string currency_id = "RUB";
    bool is_my_company = false;
    int64_t assigned_by_id = 1, created_by_id = 1, modify_by_id = 1;
    Time date_create = 0, date_modify = 0;
    bool opened = true;
    std::optional<Time> last_activity_time;
    std::vector<Multifield> fm;
    UfValues uf;
};

struct Deal {
    int64_t id = 0;
    std::string title;
    int64_t category_id = 0;
    std::string stage_id;              // empty = the category's first stage when added
    int64_t company_id = 0;            // 0 = none
    std::vector<int64_t> contact_ids;  // first = CONTACT_ID
    double opportunity = 0;
    std::string currency_id = "RUB";
    std::string type_id = "SALE", source_id = "CALL";
    int64_t assigned_by_id = 1, created_by_id = 1, modify_by_id = 1, moved_by_id = 1;
    Time date_create = 0, date_modify = 0;
    Time begindate = 0, closedate = 0;  // date-only values (midnight, portal time zone)
    Time moved_time = 0;
    bool opened = true;
    int64_t lead_id = 0;
    UfValues uf;
};

/// New ("smart") invoice, entityTypeId 31.
struct SmartInvoice {
    int64_t id = 0;
    std::string title, account_number;
    int64_t category_id = 0;  // 0 = the portal's default invoice category
    std::string stage_id;     // empty = first stage of the category
    int64_t company_id = 0;
    std::vector<int64_t> contact_ids;
    int64_t parent_id2 = 0;  // linked deal
    int64_t mycompany_id = 0;
    double opportunity = 0;
    std::string currency_id = "RUB";
    int64_t assigned_by_id = 1, created_by_id = 1, updated_by_id = 1, moved_by_id = 1;
    Time created_time = 0, updated_time = 0, moved_time = 0;
    Time begindate = 0, closedate = 0;
    bool opened = true;
    UfValues uf;
};

/// Old invoice (crm.invoice.*, deprecated), entityTypeId 5.
struct OldInvoice {
    int64_t id = 0;
    std::string account_number, order_topic;
    std::string status_id = "N";  // INVOICE_STATUS: N new, S sent, P paid, D declined
    bool payed = false;
    std::optional<Time> date_payed;
    Time date_insert = 0, date_update = 0, date_bill = 0, date_status = 0;
    std::optional<Time> date_pay_before, date_marked;
    std::string reason_marked;
    double price = 0;
    std::string currency = "RUB";
    int64_t responsible_id = 1;
    int64_t uf_deal_id = 0, uf_company_id = 0, uf_contact_id = 0, uf_mycompany_id = 0;
    int64_t person_type_id = 1, pay_system_id = 1;
    UfValues uf;
};

struct Communication {
    int64_t id = 0;
    int entity_type_id = kContact;
    int64_t entity_id = 0;
    std::string type;  // PHONE, EMAIL, IM, "" …
    std::string value;
};

struct Activity {
    int64_t id = 0;
    int owner_type_id = kContact;
    int64_t owner_id = 0;
    int type_id = 2;  // 1 meeting, 2 call, 3 task, 4 e-mail, 5 calendar import, 6 provider
    std::string provider_id = "VOXIMPLANT_CALL";
    std::string provider_type_id = "CALL";
    std::string subject, description;
    Time created = 0, last_updated = 0, start_time = 0, end_time = 0;
    std::optional<Time> deadline;
    bool completed = true;
    int status = 2;     // 1 waiting, 2 completed, 3 auto-completed
    int direction = 1;  // 1 incoming, 2 outgoing
    int priority = 2;
    int64_t responsible_id = 1, author_id = 1, editor_id = 1;
    std::vector<Communication> communications;
};

struct Requisite {
    int64_t id = 0;
    int entity_type_id = kCompany;  // 3 or 4
    int64_t entity_id = 0;
    int64_t preset_id = 1;
    std::string name = "Organization";
    bool active = true;
    int sort = 500;
    std::string xml_id;
    std::string rq_inn, rq_kpp, rq_company_name, rq_company_full_name, rq_first_name, rq_last_name;
    int64_t created_by_id = 1, modify_by_id = 1;
    Time date_create = 0, date_modify = 0;
};

struct Category {
    int64_t id = 0;
    int entity_type_id = kDeal;
    std::string name;
    int sort = 100;
    bool is_default = false;
};

/// A directory row of crm.status.list (stages and other directories).
struct Status {
    int64_t id = 0;
    std::string entity_id;  // DEAL_STAGE, DEAL_STAGE_1, SMART_INVOICE_STAGE_2, INVOICE_STATUS …
    std::string status_id;  // NEW, WON, C1:NEW, DT31_2:P …
    std::string name;
    int sort = 10;
    int64_t category_id = 0;
    char semantics = 'P';  // P in progress, S success, F failure
    std::string color = "#39A8EF";
    bool system = true;
};

struct EnumItem {
    int64_t id = 0;
    std::string value;
    std::string xml_id;
    int sort = 100;
    bool def = false;
};

/// A user field definition (crm.contact.userfield.* / crm.company.userfield.*).
struct UserField {
    int64_t id = 0;
    std::string entity_id;  // CRM_CONTACT, CRM_COMPANY
    std::string field_name;
    std::string user_type_id;  // string integer double boolean date datetime enumeration crm …
    std::string xml_id;
    int sort = 100;
    bool multiple = false, mandatory = false;
    std::string show_filter = "N", show_in_list = "N", edit_in_list = "Y", is_searchable = "N";
    nlohmann::json settings = nlohmann::json::object();
    /// EDIT_FORM_LABEL, LIST_COLUMN_LABEL, LIST_FILTER_LABEL, ERROR_MESSAGE, HELP_MESSAGE:
    /// each a lang map {"en": "...", ...}.
    std::map<std::string, nlohmann::json> labels;
    std::vector<EnumItem> list;  // enumeration items
};

/// All rows of one entity type, sorted by id (ids only grow; deleted rows are erased).
template <class T>
struct Table {
    std::vector<T> rows;
    int64_t next_id = 1;

    /// The row with this id, or nullptr.
    T* Find(int64_t id);
    const T* Find(int64_t id) const;
};

struct CrmData {
    Table<Contact> contacts;
    Table<Company> companies;
    Table<Deal> deals;
    Table<SmartInvoice> invoices;
    Table<OldInvoice> old_invoices;
    Table<Activity> activities;
    Table<Requisite> requisites;
    std::vector<Category> categories;  // deal pipelines and invoice categories
    std::vector<Status> statuses;
    std::vector<UserField> user_fields;
    int64_t next_category_id = 1;
    int64_t next_status_id = 1;
    int64_t next_user_field_id = 1;
    int64_t next_enum_item_id = 1;
    int64_t next_multifield_id = 1;
    int64_t next_communication_id = 1;
    /// Derived index: company id -> ids of the contacts bound to it (ascending). Kept current by
    /// the Portal; call RebuildCompanyContacts() after changing contact bindings directly.
    std::map<int64_t, std::vector<int64_t>> company_contacts;
    void RebuildCompanyContacts();

    /// Appends a row with the next id (ids assigned here when row.id == 0; a row with an explicit
    /// id must be larger than every existing id). Fills multifield/communication ids. Returns id.
    int64_t Insert(Contact row);
    int64_t Insert(Company row);
    int64_t Insert(Deal row);
    int64_t Insert(SmartInvoice row);
    int64_t Insert(OldInvoice row);
    int64_t Insert(Activity row);
    int64_t Insert(Requisite row);

    /// Adds a pipeline/category and returns its id (id 0 is reserved for the default deal
    /// pipeline).
    int64_t AddCategory(Category category);
    /// Adds a status row; fills its id.
    void AddStatus(Status status);
    /// The status row with this STATUS_ID in this directory, or nullptr.
    const Status* FindStatus(const std::string& entity_id, const std::string& status_id) const;
    /// The stage directory name of a deal category ("DEAL_STAGE" or "DEAL_STAGE_{id}") or invoice
    /// category ("SMART_INVOICE_STAGE_{id}").
    static std::string DealStageEntity(int64_t category_id);
    static std::string InvoiceStageEntity(int64_t category_id);
    /// Semantics of a deal / smart invoice stage ('P' when unknown).
    char DealStageSemantics(int64_t category_id, const std::string& stage_id) const;
    char InvoiceStageSemantics(int64_t category_id, const std::string& stage_id) const;
    /// The default smart-invoice category id.
    int64_t DefaultInvoiceCategory() const;

    /// Creates the default directories: deal pipeline 0 (DEAL_STAGE: NEW, PREPARATION,
    /// PREPAYMENT_INVOICE, EXECUTING, FINAL_INVOICE, WON, LOSE, APOLOGY), one smart-invoice
    /// category with DT31_{c}:N, :S (sent), :P (paid, success), :D (declined, failure),
    /// INVOICE_STATUS (N, S, P success, D failure), CONTACT_TYPE, COMPANY_TYPE, SOURCE.
    void CreateDefaultDirectories();
    /// Adds a deal pipeline "name" with stages C{id}:NEW, C{id}:WORK, C{id}:WON (S),
    /// C{id}:LOSE (F); returns its id.
    int64_t AddDealPipeline(const std::string& name);

    const UserField* FindUserField(int64_t id) const;
    const UserField* FindUserField(const std::string& entity_id,
                                   const std::string& field_name) const;
};

}  // namespace fakeportal
