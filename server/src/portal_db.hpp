#pragma once
// One portal's own database (data_dir/portal-<member_id>.db): pulled CRM rows, first-run
// checkpoints, runs, our user fields, card values (target and actual), recorded series, and ids
// reported by events. The only code that knows the portal schema's SQL.
//
// Thread-safety: a PortalDb is one SQLite connection guarded by its own mutex, so one object may be
// shared by threads, but long operations hold the lock. The sync job opens its own PortalDb; API
// handlers share another one per portal (WAL lets readers run beside the writer).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

namespace server {

// Channel bits stored for contacts and companies (SEGMENTS.md §3).
enum ChannelBits : int {
    kChannelPhone = 1,
    kChannelEmail = 2,
    kChannelOpenLine = 4,
    kChannelWeb = 8,
    kChannelMessenger = 16,
};

struct ContactRow {
    std::int64_t id = 0;
    std::string name;
    std::int64_t company_id = 0;
    std::vector<std::int64_t> company_ids;  // portal order, primary first
    std::int64_t assigned_by = 0;
    std::string created;  // as the portal wrote it
    std::string updated;
    int channels = 0;
    std::vector<std::string> phones;
    std::vector<std::string> emails;
};

struct CompanyRow {
    std::int64_t id = 0;
    std::string name;
    bool is_my = false;
    std::int64_t assigned_by = 0;
    std::string created;
    std::string updated;
    int channels = 0;
    std::vector<std::string> phones;
    std::vector<std::string> emails;
};

struct DealRow {
    std::int64_t id = 0;
    std::string title;
    std::int64_t company_id = 0;
    std::vector<std::int64_t> contact_ids;  // first contact first
    std::string semantic = "P";             // P, S, F
    std::string moved;
    std::string closedate;
    std::string created;
    std::string updated;
};

struct InvoiceRow {  // new invoices, entityTypeId 31
    std::int64_t id = 0;
    std::string title;
    std::int64_t company_id = 0;
    std::vector<std::int64_t> contact_ids;
    std::int64_t deal_id = 0;
    std::string stage_id;
    std::string moved;
    std::string created;
    std::string updated;
};

struct OldInvoiceRow {  // crm.invoice.list
    std::int64_t id = 0;
    std::string title;
    std::int64_t company_id = 0;
    std::int64_t contact_id = 0;
    std::int64_t deal_id = 0;
    bool paid = false;
    std::string paid_at;
    std::string created;
    std::string updated;
};

struct Binding {
    int type = 0;  // CRM entity type id: 2 deal, 3 contact, 4 company, ...
    std::int64_t id = 0;
    bool operator==(const Binding&) const = default;
};

struct ActivityRow {
    std::int64_t id = 0;
    std::vector<Binding> bindings;
    std::string created;
    std::string updated;
};

struct RequisiteRow {
    std::int64_t id = 0;
    int entity_type = 0;  // 3 or 4
    std::int64_t entity_id = 0;
    std::string created;
    std::string updated;
};

// The eight card fields (SEGMENTS.md §5). Text values: enumeration XML_IDs; last_payment as the
// local date YYYY-MM-DD (the field's type is `date`); std::nullopt = empty on the card.
struct CardValues {
    std::optional<std::int64_t> parent_company;
    std::optional<std::string> lifecycle;
    std::optional<std::string> client_type;
    std::optional<std::string> frequency;
    std::optional<std::string> last_payment;
    std::optional<std::int64_t> payments;
    std::optional<bool> has_dialogs;
    std::optional<bool> has_channels;
    bool operator==(const CardValues&) const = default;
};

enum class CardKind : int { kContact = 3, kCompany = 4 };

struct CardKey {
    CardKind kind = CardKind::kContact;
    std::int64_t id = 0;
    auto operator<=>(const CardKey&) const = default;
};

struct RunRecord {
    std::int64_t id = 0;
    std::string kind;   // first | incremental | full | recompute
    std::string state;  // running | done | failed | cancelled
    std::string phase;  // pull | fields | compute | write | done
    std::int64_t started_at = 0;
    std::optional<std::int64_t> finished_at;
    int months_total = 0;
    int months_done = 0;
    std::string month;
    std::int64_t rows = 0;
    std::int64_t requests = 0;
    std::int64_t cards_to_write = 0;
    std::int64_t cards_written = 0;
    std::optional<std::int64_t> eta_seconds;
    std::string error_code;
    std::string error_message;
    std::string stats = "{}";
};

// Entities as named in the `dirty` table and in logs.
inline constexpr const char* kEntityNames[] = {"contact",     "company",  "deal",     "invoice",
                                               "old_invoice", "activity", "requisite"};

class PortalDb {
public:
    // Opens or creates the file, checks it (PRAGMA quick_check) and applies migrations. Throws
    // StorageError: "database_corrupt" when the file is damaged or not a database (recovery:
    // `b24seg clear <member_id>`), "disk_full" or "database_error" otherwise.
    explicit PortalDb(const std::string& path);

    // Paths whose last open failed, with the StorageError code (a later successful open of the
    // same path removes it). Process-wide; thread-safe. /healthz reports them.
    static std::map<std::string, std::string> OpenFailures();

    // Runs fn inside one transaction; commits if fn returns, rolls back if it throws.
    void InTransaction(const std::function<void()>& fn);

    // --- meta (small key/value state: marks, month range, feature flags)
    std::optional<std::string> GetMeta(const std::string& key);
    void SetMeta(const std::string& key, const std::string& value);
    void DeleteMeta(const std::string& key);

    // --- pulled rows (upsert by id; callers wrap batches in InTransaction)
    void Upsert(const std::vector<ContactRow>& rows);
    void Upsert(const std::vector<CompanyRow>& rows);
    void Upsert(const std::vector<DealRow>& rows);
    void Upsert(const std::vector<InvoiceRow>& rows);
    void Upsert(const std::vector<OldInvoiceRow>& rows);
    void Upsert(const std::vector<ActivityRow>& rows);
    void Upsert(const std::vector<RequisiteRow>& rows);
    void ReplaceInvoiceStages(const std::map<std::string, std::string>& stage_semantics);
    void ReplaceUsers(const std::map<std::int64_t, std::string>& names);
    // entity: one of kEntityNames. Deleting a contact/company also drops its card rows.
    void Delete(const std::string& entity, const std::vector<std::int64_t>& ids);
    std::int64_t Count(const std::string& entity);
    // All ids of an entity whose `created` falls in [from, to) as strings compare; used for
    // deletion checks of one month. Empty bounds mean open.
    std::vector<std::int64_t> IdsCreatedBetween(const std::string& entity,
                                                const std::string& from,
                                                const std::string& to);
    // The greatest `updated` value stored for an entity ("" if none).
    std::string MaxUpdated(const std::string& entity);

    // Streaming readers (in id order) for building the segmenter's input.
    void ForEach(const std::function<void(const ContactRow&)>& fn);
    void ForEach(const std::function<void(const CompanyRow&)>& fn);
    void ForEach(const std::function<void(const DealRow&)>& fn);
    void ForEach(const std::function<void(const InvoiceRow&)>& fn);
    void ForEach(const std::function<void(const OldInvoiceRow&)>& fn);
    void ForEach(const std::function<void(const ActivityRow&)>& fn);
    void ForEach(const std::function<void(const RequisiteRow&)>& fn);
    std::map<std::string, std::string> InvoiceStages();
    std::map<std::int64_t, std::string> Users();

    // --- first-run checkpoints
    bool MonthDone(const std::string& month);
    void MarkMonthDone(const std::string& month, std::int64_t rows);
    std::vector<std::string> DoneMonths();
    // month -> rows committed with its checkpoint.
    std::map<std::string, std::int64_t> MonthCheckpoints();

    // --- runs
    std::int64_t CreateRun(const std::string& kind, std::int64_t now);
    void SaveRun(const RunRecord& run);
    std::optional<RunRecord> FindRun(std::int64_t id);
    std::optional<RunRecord> LatestRun();
    std::vector<RunRecord> ListRuns(int limit);

    // --- user fields
    std::optional<std::int64_t> UserFieldId(const std::string& entity, const std::string& field);
    void SetUserField(const std::string& entity,
                      const std::string& field,
                      std::int64_t uf_id,
                      const std::map<std::string, std::int64_t>& items_by_xml_id);
    std::map<std::string, std::int64_t> UserFieldItems(const std::string& entity,
                                                       const std::string& field);
    void ClearUserFields();

    // --- card values
    // What the card carries (read from the portal, or confirmed written by us).
    void SetCards(const std::vector<std::pair<CardKey, CardValues>>& cards);
    std::map<CardKey, CardValues> Cards();
    // What the segmenter computed at the last run; replaces all.
    void ReplaceTargets(const std::vector<std::pair<CardKey, CardValues>>& targets);
    std::map<CardKey, CardValues> Targets();
    std::optional<CardValues> Target(CardKey key);
    // Write batches in flight (sent, outcome not yet stored).
    void AddWritePending(const std::vector<CardKey>& keys);
    void RemoveWritePending(const std::vector<CardKey>& keys);
    std::vector<CardKey> WritePending();

    // --- monthly series recorded at runs (SEGMENTS.md §6)
    void RecordSeries(const std::string& month,
                      const std::map<std::string, std::int64_t>& values,
                      std::int64_t run_id);
    // month -> series -> value
    std::map<std::string, std::map<std::string, std::int64_t>> RecordedSeries();
    // Today's computation of all months; replaces the previous one.
    void ReplaceCurrentSeries(
        const std::map<std::string, std::map<std::string, std::int64_t>>& by_month);
    std::map<std::string, std::map<std::string, std::int64_t>> CurrentSeries();

    // --- ids reported by events, for the next incremental run
    void AddDirty(const std::string& entity, std::int64_t id);
    // Whether a row of `entity` with this id is stored (events about others need no note).
    bool Has(const std::string& entity, std::int64_t id);
    std::map<std::string, std::vector<std::int64_t>> Dirty();
    void RemoveDirty(const std::map<std::string, std::vector<std::int64_t>>& ids);
    std::map<std::string, std::vector<std::int64_t>> TakeDirty();  // reads and clears

    // (id, created) of every row of an entity, for deletion checks by creation window.
    void ForEachCreated(const std::string& entity,
                        const std::function<void(std::int64_t, const std::string&)>& fn);

    // --- "clear and refresh": drops pulled rows, checkpoints, targets, card knowledge, series
    // marks; keeps runs history, user fields and recorded series of past months.
    void ClearPulledData();

    // Direct access for read-only queries of the API layer (lists, search). Lock with mutex().
    SQLite::Database& raw() { return db_; }
    std::recursive_mutex& mutex() { return mutex_; }

private:
    std::recursive_mutex mutex_;
    SQLite::Database db_;
};

// Helpers shared by storage and the API layer.
std::string JoinIds(const std::vector<std::int64_t>& ids);
std::vector<std::int64_t> SplitIds(const std::string& text);

}  // namespace server
