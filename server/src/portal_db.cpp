#include "portal_db.hpp"

#include <charconv>
#include <set>
#include <stdexcept>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "db.hpp"
#include "migrations.hpp"
#include "text.hpp"

namespace server {

namespace {
// A transaction that nests: SAVEPOINT opens one (or a nested scope inside one), RELEASE commits
// it, and the destructor rolls back what was not committed. Lets PortalDb methods that must be
// atomic on their own also run inside a caller's InTransaction.
class Savepoint {
public:
    explicit Savepoint(SQLite::Database& db) : db_(db) { db_.exec("SAVEPOINT portal_db"); }
    ~Savepoint() {
        if (!done_) {
            try {
                db_.exec("ROLLBACK TO portal_db");
                db_.exec("RELEASE portal_db");
            } catch (...) {  // never throw from a destructor
            }
        }
    }
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    void commit() {
        db_.exec("RELEASE portal_db");
        done_ = true;
    }

private:
    SQLite::Database& db_;
    bool done_ = false;
};
}  // namespace

std::string JoinIds(const std::vector<std::int64_t>& ids) {
    std::string out;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) {
            out.push_back(',');
        }
        out += std::to_string(ids[i]);
    }
    return out;
}

std::vector<std::int64_t> SplitIds(const std::string& text) {
    std::vector<std::int64_t> out;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
        std::int64_t v = 0;
        auto [next, ec] = std::from_chars(p, end, v);
        if (ec == std::errc()) {
            out.push_back(v);
            p = next;
        } else {
            ++p;
        }
    }
    return out;
}

namespace {

std::string JoinLines(const std::vector<std::string>& lines) {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) {
            out.push_back('\n');
        }
        out += lines[i];
    }
    return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto nl = text.find('\n', start);
        if (nl == std::string::npos) {
            nl = text.size();
        }
        if (nl > start) {
            out.push_back(text.substr(start, nl - start));
        }
        start = nl + 1;
    }
    return out;
}

std::string SearchText(const std::string& name,
                       const std::vector<std::string>& phones,
                       const std::vector<std::string>& emails) {
    std::string s = FoldCase(name);
    for (const auto& e : emails) {
        s += '\n' + FoldCase(e);
    }
    for (const auto& p : phones) {
        s += '\n' + Digits(p);
    }
    return s;
}

std::string EncodeBindings(const std::vector<Binding>& bindings) {
    std::string out;
    for (const auto& b : bindings) {
        if (!out.empty()) {
            out.push_back(' ');
        }
        out += std::to_string(b.type) + ':' + std::to_string(b.id);
    }
    return out;
}

std::vector<Binding> DecodeBindings(const std::string& text) {
    std::vector<Binding> out;
    std::vector<std::int64_t> numbers = SplitIds(text);  // type, id, type, id, ...
    for (std::size_t i = 0; i + 1 < numbers.size(); i += 2) {
        out.push_back({static_cast<int>(numbers[i]), numbers[i + 1]});
    }
    return out;
}

std::string Str(SQLite::Statement& q, int col) {
    return q.getColumn(col).isNull() ? std::string() : q.getColumn(col).getString();
}

const std::set<std::string>& Entities() {
    static const std::set<std::string> names(std::begin(kEntityNames), std::end(kEntityNames));
    return names;
}

void CheckEntity(const std::string& entity) {
    if (Entities().count(entity) == 0) {
        throw std::invalid_argument("unknown entity " + entity);
    }
}

void BindCard(SQLite::Statement& q, int first, const CardValues& v) {
    int i = first;
    v.parent_company ? q.bind(i, *v.parent_company) : q.bind(i);
    ++i;
    v.lifecycle ? q.bind(i, *v.lifecycle) : q.bind(i);
    ++i;
    v.client_type ? q.bind(i, *v.client_type) : q.bind(i);
    ++i;
    v.frequency ? q.bind(i, *v.frequency) : q.bind(i);
    ++i;
    v.last_payment ? q.bind(i, *v.last_payment) : q.bind(i);
    ++i;
    v.payments ? q.bind(i, *v.payments) : q.bind(i);
    ++i;
    v.has_dialogs ? q.bind(i, *v.has_dialogs ? 1 : 0) : q.bind(i);
    ++i;
    v.has_channels ? q.bind(i, *v.has_channels ? 1 : 0) : q.bind(i);
}

CardValues ReadCard(SQLite::Statement& q, int first) {
    CardValues v;
    int i = first;
    auto col = [&](int k) { return q.getColumn(i + k); };
    if (!col(0).isNull()) {
        v.parent_company = col(0).getInt64();
    }
    if (!col(1).isNull()) {
        v.lifecycle = col(1).getString();
    }
    if (!col(2).isNull()) {
        v.client_type = col(2).getString();
    }
    if (!col(3).isNull()) {
        v.frequency = col(3).getString();
    }
    if (!col(4).isNull()) {
        v.last_payment = col(4).getString();
    }
    if (!col(5).isNull()) {
        v.payments = col(5).getInt64();
    }
    if (!col(6).isNull()) {
        v.has_dialogs = col(6).getInt() != 0;
    }
    if (!col(7).isNull()) {
        v.has_channels = col(7).getInt() != 0;
    }
    return v;
}

constexpr const char* kCardColumns =
    "parent_company, lifecycle, client_type, frequency, last_payment, payments, has_dialogs, "
    "has_channels";

}  // namespace

namespace {

std::mutex& OpenFailuresMutex() {
    static std::mutex m;
    return m;
}

std::map<std::string, std::string>& OpenFailureMap() {
    static std::map<std::string, std::string> failures;
    return failures;
}

void NoteOpen(const std::string& path, const std::string& code) {
    std::lock_guard lock(OpenFailuresMutex());
    if (code.empty()) {
        OpenFailureMap().erase(path);
    } else {
        OpenFailureMap()[path] = code;
    }
}

// Opens the file, checks it (quick_check) and migrates it; every failure is a StorageError.
SQLite::Database OpenPortalFile(const std::string& path) {
    const std::string what = "the portal database " + path;
    try {
        SQLite::Database db = OpenDatabase(path);
        CheckIntegrity(db, what);
        ApplyMigrations(db, PortalMigrations());
        NoteOpen(path, "");
        return db;
    } catch (const StorageError& e) {
        NoteOpen(path, e.code());
        throw;
    } catch (const std::exception& e) {
        std::string code = StorageCode(e);
        if (code.empty()) {
            code = "database_error";
        }
        NoteOpen(path, code);
        if (code == "database_corrupt") {
            throw StorageError(code, what + " is not a usable database (" +
                                         std::string(e.what()).substr(0, 200) + ")");
        }
        throw StorageError(code,
                           "cannot open " + what + ": " + std::string(e.what()).substr(0, 200));
    }
}

}  // namespace

PortalDb::PortalDb(const std::string& path) : db_(OpenPortalFile(path)) {}

std::map<std::string, std::string> PortalDb::OpenFailures() {
    std::lock_guard lock(OpenFailuresMutex());
    return OpenFailureMap();
}

void PortalDb::InTransaction(const std::function<void()>& fn) {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    fn();
    tx.commit();
}

std::optional<std::string> PortalDb::GetMeta(const std::string& key) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT value FROM meta WHERE key = ?");
    q.bind(1, key);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return q.getColumn(0).getString();
}

void PortalDb::SetMeta(const std::string& key, const std::string& value) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
    q.bind(1, key);
    q.bind(2, value);
    q.exec();
}

void PortalDb::DeleteMeta(const std::string& key) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "DELETE FROM meta WHERE key = ?");
    q.bind(1, key);
    q.exec();
}

void PortalDb::Upsert(const std::vector<ContactRow>& rows) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO contact (id, name, company_id, company_ids, "
                        "assigned_by, created, updated, channels, phones, emails, search) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    for (const auto& r : rows) {
        q.bind(1, r.id);
        q.bind(2, r.name);
        q.bind(3, r.company_id);
        q.bind(4, JoinIds(r.company_ids));
        q.bind(5, r.assigned_by);
        q.bind(6, r.created);
        q.bind(7, r.updated);
        q.bind(8, r.channels);
        q.bind(9, JoinLines(r.phones));
        q.bind(10, JoinLines(r.emails));
        q.bind(11, SearchText(r.name, r.phones, r.emails));
        q.exec();
        q.reset();
    }
}

void PortalDb::Upsert(const std::vector<CompanyRow>& rows) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO company (id, name, is_my, assigned_by, created, "
                        "updated, channels, phones, emails, search) VALUES (?,?,?,?,?,?,?,?,?,?)");
    for (const auto& r : rows) {
        q.bind(1, r.id);
        q.bind(2, r.name);
        q.bind(3, r.is_my ? 1 : 0);
        q.bind(4, r.assigned_by);
        q.bind(5, r.created);
        q.bind(6, r.updated);
        q.bind(7, r.channels);
        q.bind(8, JoinLines(r.phones));
        q.bind(9, JoinLines(r.emails));
        q.bind(10, SearchText(r.name, r.phones, r.emails));
        q.exec();
        q.reset();
    }
}

void PortalDb::Upsert(const std::vector<DealRow>& rows) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(
        db_,
        "INSERT OR REPLACE INTO deal (id, title, company_id, contact_ids, semantic, "
        "moved, closedate, created, updated) VALUES (?,?,?,?,?,?,?,?,?)");
    for (const auto& r : rows) {
        q.bind(1, r.id);
        q.bind(2, r.title);
        q.bind(3, r.company_id);
        q.bind(4, JoinIds(r.contact_ids));
        q.bind(5, r.semantic);
        q.bind(6, r.moved);
        q.bind(7, r.closedate);
        q.bind(8, r.created);
        q.bind(9, r.updated);
        q.exec();
        q.reset();
    }
}

void PortalDb::Upsert(const std::vector<InvoiceRow>& rows) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO invoice (id, title, company_id, contact_ids, "
                        "deal_id, stage_id, moved, created, updated) VALUES (?,?,?,?,?,?,?,?,?)");
    for (const auto& r : rows) {
        q.bind(1, r.id);
        q.bind(2, r.title);
        q.bind(3, r.company_id);
        q.bind(4, JoinIds(r.contact_ids));
        q.bind(5, r.deal_id);
        q.bind(6, r.stage_id);
        q.bind(7, r.moved);
        q.bind(8, r.created);
        q.bind(9, r.updated);
        q.exec();
        q.reset();
    }
}

void PortalDb::Upsert(const std::vector<OldInvoiceRow>& rows) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO old_invoice (id, title, company_id, contact_id, "
                        "deal_id, paid, paid_at, created, updated) VALUES (?,?,?,?,?,?,?,?,?)");
    for (const auto& r : rows) {
        q.bind(1, r.id);
        q.bind(2, r.title);
        q.bind(3, r.company_id);
        q.bind(4, r.contact_id);
        q.bind(5, r.deal_id);
        q.bind(6, r.paid ? 1 : 0);
        q.bind(7, r.paid_at);
        q.bind(8, r.created);
        q.bind(9, r.updated);
        q.exec();
        q.reset();
    }
}

void PortalDb::Upsert(const std::vector<ActivityRow>& rows) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO activity (id, bindings, created, updated) "
                        "VALUES (?,?,?,?)");
    for (const auto& r : rows) {
        q.bind(1, r.id);
        q.bind(2, EncodeBindings(r.bindings));
        q.bind(3, r.created);
        q.bind(4, r.updated);
        q.exec();
        q.reset();
    }
}

void PortalDb::Upsert(const std::vector<RequisiteRow>& rows) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO requisite (id, entity_type, entity_id, created, "
                        "updated) VALUES (?,?,?,?,?)");
    for (const auto& r : rows) {
        q.bind(1, r.id);
        q.bind(2, r.entity_type);
        q.bind(3, r.entity_id);
        q.bind(4, r.created);
        q.bind(5, r.updated);
        q.exec();
        q.reset();
    }
}

void PortalDb::ReplaceInvoiceStages(const std::map<std::string, std::string>& stage_semantics) {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    db_.exec("DELETE FROM invoice_stage");
    SQLite::Statement q(db_, "INSERT INTO invoice_stage (stage_id, semantics) VALUES (?, ?)");
    for (const auto& [stage, semantics] : stage_semantics) {
        q.bind(1, stage);
        q.bind(2, semantics);
        q.exec();
        q.reset();
    }
    tx.commit();
}

void PortalDb::ReplaceUsers(const std::map<std::int64_t, std::string>& names) {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    db_.exec("DELETE FROM portal_user");
    SQLite::Statement q(db_, "INSERT INTO portal_user (id, name) VALUES (?, ?)");
    for (const auto& [id, name] : names) {
        q.bind(1, id);
        q.bind(2, name);
        q.exec();
        q.reset();
    }
    tx.commit();
}

void PortalDb::Delete(const std::string& entity, const std::vector<std::int64_t>& ids) {
    CheckEntity(entity);
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "DELETE FROM " + entity + " WHERE id = ?");
    std::optional<SQLite::Statement> cards;
    int kind = 0;
    if (entity == "contact" || entity == "company") {
        kind = entity == "contact" ? 3 : 4;
        cards.emplace(db_, "DELETE FROM card WHERE kind = ? AND id = ?");
    }
    for (std::int64_t id : ids) {
        q.bind(1, id);
        q.exec();
        q.reset();
        if (cards) {
            cards->bind(1, kind);
            cards->bind(2, id);
            cards->exec();
            cards->reset();
        }
    }
}

std::int64_t PortalDb::Count(const std::string& entity) {
    CheckEntity(entity);
    std::lock_guard lock(mutex_);
    return db_.execAndGet("SELECT COUNT(*) FROM " + entity).getInt64();
}

std::vector<std::int64_t> PortalDb::IdsCreatedBetween(const std::string& entity,
                                                      const std::string& from,
                                                      const std::string& to) {
    CheckEntity(entity);
    std::lock_guard lock(mutex_);
    std::string sql = "SELECT id FROM " + entity + " WHERE 1=1";
    if (!from.empty()) {
        sql += " AND created >= ?1";
    }
    if (!to.empty()) {
        sql += " AND created < ?2";
    }
    sql += " ORDER BY id";
    SQLite::Statement q(db_, sql);
    if (!from.empty()) {
        q.bind(1, from);
    }
    if (!to.empty()) {
        q.bind(2, to);
    }
    std::vector<std::int64_t> ids;
    while (q.executeStep()) {
        ids.push_back(q.getColumn(0).getInt64());
    }
    return ids;
}

std::string PortalDb::MaxUpdated(const std::string& entity) {
    CheckEntity(entity);
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT MAX(updated) FROM " + entity);
    q.executeStep();
    return Str(q, 0);
}

void PortalDb::ForEach(const std::function<void(const ContactRow&)>& fn) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "SELECT id, name, company_id, company_ids, assigned_by, created, updated, "
                        "channels, phones, emails FROM contact ORDER BY id");
    while (q.executeStep()) {
        ContactRow r;
        r.id = q.getColumn(0).getInt64();
        r.name = Str(q, 1);
        r.company_id = q.getColumn(2).getInt64();
        r.company_ids = SplitIds(Str(q, 3));
        r.assigned_by = q.getColumn(4).getInt64();
        r.created = Str(q, 5);
        r.updated = Str(q, 6);
        r.channels = q.getColumn(7).getInt();
        r.phones = SplitLines(Str(q, 8));
        r.emails = SplitLines(Str(q, 9));
        fn(r);
    }
}

void PortalDb::ForEach(const std::function<void(const CompanyRow&)>& fn) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "SELECT id, name, is_my, assigned_by, created, updated, channels, phones, "
                        "emails FROM company ORDER BY id");
    while (q.executeStep()) {
        CompanyRow r;
        r.id = q.getColumn(0).getInt64();
        r.name = Str(q, 1);
        r.is_my = q.getColumn(2).getInt() != 0;
        r.assigned_by = q.getColumn(3).getInt64();
        r.created = Str(q, 4);
        r.updated = Str(q, 5);
        r.channels = q.getColumn(6).getInt();
        r.phones = SplitLines(Str(q, 7));
        r.emails = SplitLines(Str(q, 8));
        fn(r);
    }
}

void PortalDb::ForEach(const std::function<void(const DealRow&)>& fn) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "SELECT id, title, company_id, contact_ids, semantic, moved, closedate, "
                        "created, updated FROM deal ORDER BY id");
    while (q.executeStep()) {
        DealRow r;
        r.id = q.getColumn(0).getInt64();
        r.title = Str(q, 1);
        r.company_id = q.getColumn(2).getInt64();
        r.contact_ids = SplitIds(Str(q, 3));
        r.semantic = Str(q, 4);
        r.moved = Str(q, 5);
        r.closedate = Str(q, 6);
        r.created = Str(q, 7);
        r.updated = Str(q, 8);
        fn(r);
    }
}

void PortalDb::ForEach(const std::function<void(const InvoiceRow&)>& fn) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "SELECT id, title, company_id, contact_ids, deal_id, stage_id, moved, "
                        "created, updated FROM invoice ORDER BY id");
    while (q.executeStep()) {
        InvoiceRow r;
        r.id = q.getColumn(0).getInt64();
        r.title = Str(q, 1);
        r.company_id = q.getColumn(2).getInt64();
        r.contact_ids = SplitIds(Str(q, 3));
        r.deal_id = q.getColumn(4).getInt64();
        r.stage_id = Str(q, 5);
        r.moved = Str(q, 6);
        r.created = Str(q, 7);
        r.updated = Str(q, 8);
        fn(r);
    }
}

void PortalDb::ForEach(const std::function<void(const OldInvoiceRow&)>& fn) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "SELECT id, title, company_id, contact_id, deal_id, paid, paid_at, "
                        "created, updated FROM old_invoice ORDER BY id");
    while (q.executeStep()) {
        OldInvoiceRow r;
        r.id = q.getColumn(0).getInt64();
        r.title = Str(q, 1);
        r.company_id = q.getColumn(2).getInt64();
        r.contact_id = q.getColumn(3).getInt64();
        r.deal_id = q.getColumn(4).getInt64();
        r.paid = q.getColumn(5).getInt() != 0;
        r.paid_at = Str(q, 6);
        r.created = Str(q, 7);
        r.updated = Str(q, 8);
        fn(r);
    }
}

void PortalDb::ForEach(const std::function<void(const ActivityRow&)>& fn) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT id, bindings, created, updated FROM activity ORDER BY id");
    while (q.executeStep()) {
        ActivityRow r;
        r.id = q.getColumn(0).getInt64();
        r.bindings = DecodeBindings(Str(q, 1));
        r.created = Str(q, 2);
        r.updated = Str(q, 3);
        fn(r);
    }
}

void PortalDb::ForEach(const std::function<void(const RequisiteRow&)>& fn) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "SELECT id, entity_type, entity_id, created, updated FROM requisite "
                        "ORDER BY id");
    while (q.executeStep()) {
        RequisiteRow r;
        r.id = q.getColumn(0).getInt64();
        r.entity_type = q.getColumn(1).getInt();
        r.entity_id = q.getColumn(2).getInt64();
        r.created = Str(q, 3);
        r.updated = Str(q, 4);
        fn(r);
    }
}

std::map<std::string, std::string> PortalDb::InvoiceStages() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT stage_id, semantics FROM invoice_stage");
    std::map<std::string, std::string> out;
    while (q.executeStep()) {
        out[Str(q, 0)] = Str(q, 1);
    }
    return out;
}

std::map<std::int64_t, std::string> PortalDb::Users() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT id, name FROM portal_user");
    std::map<std::int64_t, std::string> out;
    while (q.executeStep()) {
        out[q.getColumn(0).getInt64()] = Str(q, 1);
    }
    return out;
}

bool PortalDb::MonthDone(const std::string& month) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT 1 FROM pull_month WHERE month = ?");
    q.bind(1, month);
    return q.executeStep();
}

void PortalDb::MarkMonthDone(const std::string& month, std::int64_t rows) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO pull_month (month, rows, done_at) VALUES (?, ?, "
                        "strftime('%s','now'))");
    q.bind(1, month);
    q.bind(2, rows);
    q.exec();
}

std::vector<std::string> PortalDb::DoneMonths() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT month FROM pull_month ORDER BY month");
    std::vector<std::string> out;
    while (q.executeStep()) {
        out.push_back(Str(q, 0));
    }
    return out;
}

std::map<std::string, std::int64_t> PortalDb::MonthCheckpoints() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT month, rows FROM pull_month ORDER BY month");
    std::map<std::string, std::int64_t> out;
    while (q.executeStep()) {
        out[Str(q, 0)] = q.getColumn(1).getInt64();
    }
    return out;
}

std::int64_t PortalDb::CreateRun(const std::string& kind, std::int64_t now) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT INTO run (kind, state, phase, started_at) VALUES (?, 'running', "
                        "'pull', ?)");
    q.bind(1, kind);
    q.bind(2, now);
    q.exec();
    return db_.getLastInsertRowid();
}

void PortalDb::SaveRun(const RunRecord& r) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "UPDATE run SET kind=?, state=?, phase=?, started_at=?, finished_at=?, "
                        "months_total=?, months_done=?, month=?, rows=?, requests=?, "
                        "cards_to_write=?, cards_written=?, eta_seconds=?, error_code=?, "
                        "error_message=?, stats=? WHERE id=?");
    int i = 1;
    q.bind(i++, r.kind);
    q.bind(i++, r.state);
    q.bind(i++, r.phase);
    q.bind(i++, r.started_at);
    r.finished_at ? q.bind(i++, *r.finished_at) : q.bind(i++);
    q.bind(i++, r.months_total);
    q.bind(i++, r.months_done);
    q.bind(i++, r.month);
    q.bind(i++, r.rows);
    q.bind(i++, r.requests);
    q.bind(i++, r.cards_to_write);
    q.bind(i++, r.cards_written);
    r.eta_seconds ? q.bind(i++, *r.eta_seconds) : q.bind(i++);
    r.error_code.empty() ? q.bind(i++) : q.bind(i++, r.error_code);
    r.error_message.empty() ? q.bind(i++) : q.bind(i++, r.error_message);
    q.bind(i++, r.stats);
    q.bind(i++, r.id);
    q.exec();
}

namespace {
constexpr const char* kRunColumns =
    "id, kind, state, phase, started_at, finished_at, months_total, months_done, month, rows, "
    "requests, cards_to_write, cards_written, eta_seconds, error_code, error_message, stats";

RunRecord ReadRun(SQLite::Statement& q) {
    RunRecord r;
    r.id = q.getColumn(0).getInt64();
    r.kind = Str(q, 1);
    r.state = Str(q, 2);
    r.phase = Str(q, 3);
    r.started_at = q.getColumn(4).getInt64();
    if (!q.getColumn(5).isNull()) {
        r.finished_at = q.getColumn(5).getInt64();
    }
    r.months_total = q.getColumn(6).getInt();
    r.months_done = q.getColumn(7).getInt();
    r.month = Str(q, 8);
    r.rows = q.getColumn(9).getInt64();
    r.requests = q.getColumn(10).getInt64();
    r.cards_to_write = q.getColumn(11).getInt64();
    r.cards_written = q.getColumn(12).getInt64();
    if (!q.getColumn(13).isNull()) {
        r.eta_seconds = q.getColumn(13).getInt64();
    }
    r.error_code = Str(q, 14);
    r.error_message = Str(q, 15);
    r.stats = Str(q, 16);
    return r;
}
}  // namespace

std::optional<RunRecord> PortalDb::FindRun(std::int64_t id) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, std::string("SELECT ") + kRunColumns + " FROM run WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return ReadRun(q);
}

std::optional<RunRecord> PortalDb::LatestRun() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(
        db_, std::string("SELECT ") + kRunColumns + " FROM run ORDER BY id DESC LIMIT 1");
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return ReadRun(q);
}

std::vector<RunRecord> PortalDb::ListRuns(int limit) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(
        db_, std::string("SELECT ") + kRunColumns + " FROM run ORDER BY id DESC LIMIT ?");
    q.bind(1, limit);
    std::vector<RunRecord> out;
    while (q.executeStep()) {
        out.push_back(ReadRun(q));
    }
    return out;
}

std::optional<std::int64_t> PortalDb::UserFieldId(const std::string& entity,
                                                  const std::string& field) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT uf_id FROM user_field WHERE entity = ? AND field = ?");
    q.bind(1, entity);
    q.bind(2, field);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return q.getColumn(0).getInt64();
}

void PortalDb::SetUserField(const std::string& entity,
                            const std::string& field,
                            std::int64_t uf_id,
                            const std::map<std::string, std::int64_t>& items_by_xml_id) {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    SQLite::Statement f(db_,
                        "INSERT OR REPLACE INTO user_field (entity, field, uf_id) VALUES (?,?,?)");
    f.bind(1, entity);
    f.bind(2, field);
    f.bind(3, uf_id);
    f.exec();
    SQLite::Statement d(db_, "DELETE FROM user_field_item WHERE entity = ? AND field = ?");
    d.bind(1, entity);
    d.bind(2, field);
    d.exec();
    SQLite::Statement i(db_,
                        "INSERT INTO user_field_item (entity, field, xml_id, item_id) "
                        "VALUES (?,?,?,?)");
    for (const auto& [xml_id, item_id] : items_by_xml_id) {
        i.bind(1, entity);
        i.bind(2, field);
        i.bind(3, xml_id);
        i.bind(4, item_id);
        i.exec();
        i.reset();
    }
    tx.commit();
}

std::map<std::string, std::int64_t> PortalDb::UserFieldItems(const std::string& entity,
                                                             const std::string& field) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "SELECT xml_id, item_id FROM user_field_item WHERE entity = ? AND "
                        "field = ?");
    q.bind(1, entity);
    q.bind(2, field);
    std::map<std::string, std::int64_t> out;
    while (q.executeStep()) {
        out[Str(q, 0)] = q.getColumn(1).getInt64();
    }
    return out;
}

void PortalDb::ClearUserFields() {
    std::lock_guard lock(mutex_);
    db_.exec("DELETE FROM user_field; DELETE FROM user_field_item;");
}

void PortalDb::SetCards(const std::vector<std::pair<CardKey, CardValues>>& cards) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, std::string("INSERT OR REPLACE INTO card (kind, id, known, ") +
                                 kCardColumns + ") VALUES (?,?,1,?,?,?,?,?,?,?,?)");
    for (const auto& [key, values] : cards) {
        q.bind(1, static_cast<int>(key.kind));
        q.bind(2, key.id);
        BindCard(q, 3, values);
        q.exec();
        q.reset();
    }
}

std::map<CardKey, CardValues> PortalDb::Cards() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(
        db_, std::string("SELECT kind, id, ") + kCardColumns + " FROM card WHERE known = 1");
    std::map<CardKey, CardValues> out;
    while (q.executeStep()) {
        CardKey key{static_cast<CardKind>(q.getColumn(0).getInt()), q.getColumn(1).getInt64()};
        out.emplace(key, ReadCard(q, 2));
    }
    return out;
}

void PortalDb::ReplaceTargets(const std::vector<std::pair<CardKey, CardValues>>& targets) {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    db_.exec("DELETE FROM target");
    SQLite::Statement q(db_, std::string("INSERT INTO target (kind, id, ") + kCardColumns +
                                 ") VALUES (?,?,?,?,?,?,?,?,?,?)");
    for (const auto& [key, values] : targets) {
        q.bind(1, static_cast<int>(key.kind));
        q.bind(2, key.id);
        BindCard(q, 3, values);
        q.exec();
        q.reset();
    }
    tx.commit();
}

std::map<CardKey, CardValues> PortalDb::Targets() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, std::string("SELECT kind, id, ") + kCardColumns + " FROM target");
    std::map<CardKey, CardValues> out;
    while (q.executeStep()) {
        CardKey key{static_cast<CardKind>(q.getColumn(0).getInt()), q.getColumn(1).getInt64()};
        out.emplace(key, ReadCard(q, 2));
    }
    return out;
}

std::optional<CardValues> PortalDb::Target(CardKey key) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(
        db_, std::string("SELECT ") + kCardColumns + " FROM target WHERE kind = ? AND id = ?");
    q.bind(1, static_cast<int>(key.kind));
    q.bind(2, key.id);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return ReadCard(q, 0);
}

void PortalDb::AddWritePending(const std::vector<CardKey>& keys) {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    SQLite::Statement q(db_, "INSERT OR IGNORE INTO write_pending (kind, id) VALUES (?, ?)");
    for (const auto& key : keys) {
        q.bind(1, static_cast<int>(key.kind));
        q.bind(2, key.id);
        q.exec();
        q.reset();
    }
    tx.commit();
}

void PortalDb::RemoveWritePending(const std::vector<CardKey>& keys) {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    SQLite::Statement q(db_, "DELETE FROM write_pending WHERE kind = ? AND id = ?");
    for (const auto& key : keys) {
        q.bind(1, static_cast<int>(key.kind));
        q.bind(2, key.id);
        q.exec();
        q.reset();
    }
    tx.commit();
}

std::vector<CardKey> PortalDb::WritePending() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT kind, id FROM write_pending ORDER BY kind, id");
    std::vector<CardKey> out;
    while (q.executeStep()) {
        out.push_back({static_cast<CardKind>(q.getColumn(0).getInt()), q.getColumn(1).getInt64()});
    }
    return out;
}

void PortalDb::RecordSeries(const std::string& month,
                            const std::map<std::string, std::int64_t>& values,
                            std::int64_t run_id) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO series_recorded (month, series, value, run_id) "
                        "VALUES (?,?,?,?)");
    for (const auto& [series, value] : values) {
        q.bind(1, month);
        q.bind(2, series);
        q.bind(3, value);
        q.bind(4, run_id);
        q.exec();
        q.reset();
    }
}

std::map<std::string, std::map<std::string, std::int64_t>> PortalDb::RecordedSeries() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT month, series, value FROM series_recorded");
    std::map<std::string, std::map<std::string, std::int64_t>> out;
    while (q.executeStep()) {
        out[Str(q, 0)][Str(q, 1)] = q.getColumn(2).getInt64();
    }
    return out;
}

void PortalDb::ReplaceCurrentSeries(
    const std::map<std::string, std::map<std::string, std::int64_t>>& by_month) {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    db_.exec("DELETE FROM series_current");
    SQLite::Statement q(db_, "INSERT INTO series_current (month, series, value) VALUES (?,?,?)");
    for (const auto& [month, values] : by_month) {
        for (const auto& [series, value] : values) {
            q.bind(1, month);
            q.bind(2, series);
            q.bind(3, value);
            q.exec();
            q.reset();
        }
    }
    tx.commit();
}

std::map<std::string, std::map<std::string, std::int64_t>> PortalDb::CurrentSeries() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT month, series, value FROM series_current");
    std::map<std::string, std::map<std::string, std::int64_t>> out;
    while (q.executeStep()) {
        out[Str(q, 0)][Str(q, 1)] = q.getColumn(2).getInt64();
    }
    return out;
}

void PortalDb::AddDirty(const std::string& entity, std::int64_t id) {
    CheckEntity(entity);
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "INSERT OR IGNORE INTO dirty (entity, id) VALUES (?, ?)");
    q.bind(1, entity);
    q.bind(2, id);
    q.exec();
}

bool PortalDb::Has(const std::string& entity, std::int64_t id) {
    CheckEntity(entity);
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT 1 FROM " + entity + " WHERE id = ?");
    q.bind(1, id);
    return q.executeStep();
}

std::map<std::string, std::vector<std::int64_t>> PortalDb::Dirty() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT entity, id FROM dirty ORDER BY entity, id");
    std::map<std::string, std::vector<std::int64_t>> out;
    while (q.executeStep()) {
        out[Str(q, 0)].push_back(q.getColumn(1).getInt64());
    }
    return out;
}

void PortalDb::RemoveDirty(const std::map<std::string, std::vector<std::int64_t>>& ids) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "DELETE FROM dirty WHERE entity = ? AND id = ?");
    for (const auto& [entity, list] : ids) {
        for (std::int64_t id : list) {
            q.bind(1, entity);
            q.bind(2, id);
            q.exec();
            q.reset();
        }
    }
}

void PortalDb::ForEachCreated(const std::string& entity,
                              const std::function<void(std::int64_t, const std::string&)>& fn) {
    CheckEntity(entity);
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "SELECT id, created FROM " + entity + " ORDER BY id");
    while (q.executeStep()) {
        fn(q.getColumn(0).getInt64(), Str(q, 1));
    }
}

std::map<std::string, std::vector<std::int64_t>> PortalDb::TakeDirty() {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    SQLite::Statement q(db_, "SELECT entity, id FROM dirty ORDER BY entity, id");
    std::map<std::string, std::vector<std::int64_t>> out;
    while (q.executeStep()) {
        out[Str(q, 0)].push_back(q.getColumn(1).getInt64());
    }
    db_.exec("DELETE FROM dirty");
    tx.commit();
    return out;
}

void PortalDb::ClearPulledData() {
    std::lock_guard lock(mutex_);
    Savepoint tx(db_);
    for (const char* table : {"contact", "company", "deal", "invoice", "invoice_stage",
                              "old_invoice", "activity", "requisite", "portal_user", "pull_month",
                              "card", "target", "write_pending", "dirty", "series_current"}) {
        db_.exec(std::string("DELETE FROM ") + table);
    }
    db_.exec("DELETE FROM meta WHERE key LIKE 'pull.%' OR key LIKE 'mark.%'");
    tx.commit();
}

}  // namespace server
