#include "registry.hpp"

#include <algorithm>
#include <chrono>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "crypto.hpp"
#include "db.hpp"
#include "migrations.hpp"

namespace server {

namespace {

std::int64_t Now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

constexpr const char* kColumns =
    "member_id, domain, endpoint, db_file, application_token, access_token, refresh_token, "
    "access_expires_at, token_user_id, scope, app_status, plan, lang, install_finished, state, "
    "block_code, block_message, active_months, lost_months, created_at, updated_at";

std::string Text(SQLite::Statement& q, int column) {
    return q.getColumn(column).isNull() ? std::string() : q.getColumn(column).getString();
}

PortalRecord ReadRecord(SQLite::Statement& q) {
    PortalRecord r;
    r.member_id = Text(q, 0);
    r.domain = Text(q, 1);
    r.endpoint = Text(q, 2);
    r.db_file = Text(q, 3);
    r.application_token = Text(q, 4);
    r.access_token = Text(q, 5);
    r.refresh_token = Text(q, 6);
    r.access_expires_at = q.getColumn(7).getInt64();
    r.token_user_id = q.getColumn(8).getInt64();
    r.scope = Text(q, 9);
    r.app_status = Text(q, 10);
    r.plan = Text(q, 11);
    r.lang = Text(q, 12);
    r.install_finished = q.getColumn(13).getInt() != 0;
    r.state = Text(q, 14);
    r.block_code = Text(q, 15);
    r.block_message = Text(q, 16);
    r.active_months = q.getColumn(17).getInt();
    r.lost_months = q.getColumn(18).getInt();
    r.created_at = q.getColumn(19).getInt64();
    r.updated_at = q.getColumn(20).getInt64();
    return r;
}

}  // namespace

Registry::Registry(const std::string& path) : db_(OpenDatabase(path)) {
    ApplyMigrations(db_, RegistryMigrations());
}

std::optional<PortalRecord> Registry::Find(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        std::string("SELECT ") + kColumns + " FROM portal WHERE member_id = ?");
    q.bind(1, member_id);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return ReadRecord(q);
}

std::vector<PortalRecord> Registry::List() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        std::string("SELECT ") + kColumns + " FROM portal ORDER BY created_at");
    std::vector<PortalRecord> out;
    while (q.executeStep()) {
        out.push_back(ReadRecord(q));
    }
    return out;
}

void Registry::Upsert(PortalRecord r) {
    std::lock_guard lock(mutex_);
    r.updated_at = Now();
    if (r.created_at == 0) {
        r.created_at = r.updated_at;
    }
    SQLite::Statement q(db_, std::string("INSERT OR REPLACE INTO portal (") + kColumns +
                                 ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    int i = 1;
    q.bind(i++, r.member_id);
    q.bind(i++, r.domain);
    q.bind(i++, r.endpoint);
    q.bind(i++, r.db_file);
    q.bind(i++, r.application_token);
    q.bind(i++, r.access_token);
    q.bind(i++, r.refresh_token);
    q.bind(i++, r.access_expires_at);
    q.bind(i++, r.token_user_id);
    q.bind(i++, r.scope);
    q.bind(i++, r.app_status);
    q.bind(i++, r.plan);
    q.bind(i++, r.lang);
    q.bind(i++, r.install_finished ? 1 : 0);
    q.bind(i++, r.state);
    q.bind(i++, r.block_code);
    q.bind(i++, r.block_message);
    q.bind(i++, r.active_months);
    q.bind(i++, r.lost_months);
    q.bind(i++, r.created_at);
    q.bind(i++, r.updated_at);
    q.exec();
}

void Registry::UpdateTokens(const std::string& member_id,
                            const std::string& access_token,
                            const std::string& refresh_token,
                            std::int64_t access_expires_at) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "UPDATE portal SET access_token = ?, refresh_token = ?, "
                        "access_expires_at = ?, updated_at = ? WHERE member_id = ?");
    q.bind(1, access_token);
    q.bind(2, refresh_token);
    q.bind(3, access_expires_at);
    q.bind(4, Now());
    q.bind(5, member_id);
    q.exec();
}

void Registry::UpdateEndpoint(const std::string& member_id,
                              const std::string& endpoint,
                              const std::string& domain) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(
        db_, "UPDATE portal SET endpoint = ?, domain = ?, updated_at = ? WHERE member_id = ?");
    q.bind(1, endpoint);
    q.bind(2, domain);
    q.bind(3, Now());
    q.bind(4, member_id);
    q.exec();
}

void Registry::SetApplicationToken(const std::string& member_id, const std::string& token) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(
        db_, "UPDATE portal SET application_token = ?, updated_at = ? WHERE member_id = ?");
    q.bind(1, token);
    q.bind(2, Now());
    q.bind(3, member_id);
    q.exec();
}

void Registry::SetState(const std::string& member_id,
                        const std::string& state,
                        const std::string& code,
                        const std::string& message) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "UPDATE portal SET state = ?, block_code = ?, block_message = ?, "
                        "updated_at = ? WHERE member_id = ?");
    q.bind(1, state);
    q.bind(2, code);
    q.bind(3, message);
    q.bind(4, Now());
    q.bind(5, member_id);
    q.exec();
}

void Registry::SetInstallFinished(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(
        db_, "UPDATE portal SET install_finished = 1, updated_at = ? WHERE member_id = ?");
    q.bind(1, Now());
    q.bind(2, member_id);
    q.exec();
}

void Registry::SetPlan(const std::string& member_id, const std::string& plan) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "UPDATE portal SET plan = ?, updated_at = ? WHERE member_id = ?");
    q.bind(1, plan);
    q.bind(2, Now());
    q.bind(3, member_id);
    q.exec();
}

void Registry::SetSettings(const std::string& member_id, int active_months, int lost_months) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "UPDATE portal SET active_months = ?, lost_months = ?, updated_at = ? "
                        "WHERE member_id = ?");
    q.bind(1, active_months);
    q.bind(2, lost_months);
    q.bind(3, Now());
    q.bind(4, member_id);
    q.exec();
}

void Registry::Delete(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "DELETE FROM portal WHERE member_id = ?");
    q.bind(1, member_id);
    q.exec();
}

void Registry::AddJobRequest(const std::string& member_id, const std::string& kind) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT INTO job_request (member_id, kind, requested_at) VALUES (?, ?, ?)");
    q.bind(1, member_id);
    q.bind(2, kind);
    q.bind(3, Now());
    q.exec();
}

std::vector<std::pair<std::string, std::string>> Registry::TakeJobRequests() {
    std::lock_guard lock(mutex_);
    SQLite::Transaction tx(db_);
    SQLite::Statement q(db_, "SELECT member_id, kind FROM job_request ORDER BY id");
    std::vector<std::pair<std::string, std::string>> out;
    while (q.executeStep()) {
        out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
    }
    if (!out.empty()) {
        db_.exec("DELETE FROM job_request");
    }
    tx.commit();
    return out;
}

std::string Registry::DbFileFor(const std::string& member_id) {
    bool safe = !member_id.empty() && member_id.size() <= 64 &&
                std::all_of(member_id.begin(), member_id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '-';
                });
    return "portal-" + (safe ? member_id : Sha256Hex(member_id).substr(0, 32)) + ".db";
}

}  // namespace server
