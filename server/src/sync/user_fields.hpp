#pragma once
// The eight UF_CRM_SEG_* fields (SEGMENTS.md §5) on contacts and companies: their definitions,
// labels in the portal languages, and making sure they exist as defined.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace b24client {
class Client;
}

namespace server {
class PortalDb;
}

namespace server::sync {

struct FieldDef {
    const char* name;                  // FIELD_NAME, e.g. UF_CRM_SEG_LIFECYCLE
    const char* type;                  // USER_TYPE_ID: crm, enumeration, date, integer, boolean
    std::vector<const char*> xml_ids;  // enumeration items, in display order
};

const std::vector<FieldDef>& SegmentFields();

// "ru", "en", "de", "pl"; anything else falls back to "en".
std::string FieldLabel(const std::string& field, const std::string& lang);
std::string ItemLabel(const std::string& xml_id, const std::string& lang);

struct FieldsReport {
    int created = 0;    // fields added
    int repaired = 0;   // fields whose items or flags were put back
    int recreated = 0;  // fields of a wrong type, deleted and added again
};

// Lists our fields on contacts and companies (one batch), adds the missing ones, puts back
// missing enumeration items and the SHOW_FILTER/EDIT_IN_LIST flags, recreates a field whose type an
// admin changed, and stores every field's id and item ids in `db`. When a field was (re)created the
// cards' known values are forgotten (they are empty now). Needs a CRM administrator's token.
// Throws b24client::Error.
FieldsReport EnsureUserFields(b24client::Client& client, PortalDb& db, const std::string& lang);

}  // namespace server::sync
