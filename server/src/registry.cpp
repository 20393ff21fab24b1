#include "registry.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <spdlog/spdlog.h>

#include "config.hpp"
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
    "block_code, block_message, active_months, lost_months, created_at, updated_at, purge_at";

// The token columns: encrypted at rest.
constexpr const char* kApplicationToken = "application_token";
constexpr const char* kAccessToken = "access_token";
constexpr const char* kRefreshToken = "refresh_token";

std::string Text(SQLite::Statement& q, int column) {
    return q.getColumn(column).isNull() ? std::string() : q.getColumn(column).getString();
}

PortalRecord ReadRecord(SQLite::Statement& q) {
    PortalRecord r;
    r.member_id = Text(q, 0);
    r.domain = Text(q, 1);
    r.endpoint = Text(q, 2);
    r.db_file = Text(q, 3);
    r.application_token = Text(q, 4);  // as stored; Registry::Open decrypts
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
    r.purge_at = q.getColumn(21).getInt64();
    return r;
}

}  // namespace

std::shared_ptr<const TokenCipher> TokenCipherFor(const Config& config) {
    if (config.token_key.empty()) {
        if (config.insecure_plaintext_tokens) {
            spdlog::warn(
                "no B24SEG_TOKEN_KEY: tokens are stored in the clear "
                "(insecure_plaintext_tokens is on; never in production)");
            return nullptr;
        }
        throw std::runtime_error(
            "no token key: set B24SEG_TOKEN_KEY (64 hex characters or the base64 of 32 bytes, "
            "e.g. `openssl rand -hex 32`); it encrypts the portals' tokens in the registry");
    }
    std::vector<std::string> old;
    if (!config.token_key_old.empty()) {
        old.push_back(ParseTokenKey(config.token_key_old, "B24SEG_TOKEN_KEY_OLD"));
    }
    return std::make_shared<const TokenCipher>(ParseTokenKey(config.token_key, "B24SEG_TOKEN_KEY"),
                                               std::move(old));
}

std::string Registry::PathIn(const std::string& data_dir) {
    return (std::filesystem::path(data_dir) / "registry.db").string();
}

Registry::Registry(const std::string& path, std::shared_ptr<const TokenCipher> cipher)
    : db_(OpenDatabase(path)), cipher_(std::move(cipher)) {
    // A rotated refresh token that is lost means a re-install: every commit reaches the disk.
    db_.exec("PRAGMA synchronous=FULL");
    // Deleted and overwritten content (old token values) is zeroed, not left in free pages.
    db_.exec("PRAGMA secure_delete=ON");
    ApplyMigrations(db_, RegistryMigrations());
    reencrypted_at_open_ = ReencryptAll();
}

std::string Registry::Seal(const std::string& member_id,
                           const char* column,
                           const std::string& plain) {
    if (!cipher_ || plain.empty()) {
        return plain;
    }
    return cipher_->Encrypt(plain, member_id + "/" + column);
}

std::string Registry::Open(const std::string& member_id,
                           const char* column,
                           const std::string& stored) {
    if (stored.empty()) {
        return stored;
    }
    if (!TokenCipher::IsEncrypted(stored)) {
        return stored;  // plaintext mode, or a value ReencryptAll has not reached (cannot happen)
    }
    if (!cipher_) {
        throw std::runtime_error(
            "the registry holds encrypted tokens but no key was given: set B24SEG_TOKEN_KEY");
    }
    return cipher_->Decrypt(stored, member_id + "/" + column);
}

int Registry::ReencryptAll() {
    std::lock_guard lock(mutex_);
    struct Row {
        std::string member_id;
        std::string values[3];
    };
    const char* columns[3] = {kApplicationToken, kAccessToken, kRefreshToken};
    std::vector<Row> rows;
    {
        SQLite::Statement q(db_,
                            "SELECT member_id, application_token, access_token, refresh_token "
                            "FROM portal");
        while (q.executeStep()) {
            Row r;
            r.member_id = q.getColumn(0).getString();
            for (int i = 0; i < 3; ++i) {
                r.values[i] = q.getColumn(i + 1).isNull() ? "" : q.getColumn(i + 1).getString();
            }
            rows.push_back(std::move(r));
        }
    }
    int changed = 0;
    SQLite::Transaction tx(db_);
    for (const auto& r : rows) {
        for (int i = 0; i < 3; ++i) {
            const std::string& stored = r.values[i];
            bool redo = cipher_ ? !cipher_->IsCurrent(stored) : false;
            if (!cipher_ && TokenCipher::IsEncrypted(stored)) {
                throw std::runtime_error(
                    "the registry holds encrypted tokens but no key was given: set "
                    "B24SEG_TOKEN_KEY");
            }
            if (!redo) {
                continue;
            }
            // Plain text (a registry from before encryption) or an old key: decrypt, seal anew.
            std::string plain = TokenCipher::IsEncrypted(stored)
                                    ? cipher_->Decrypt(stored, r.member_id + "/" + columns[i])
                                    : stored;
            SQLite::Statement u(
                db_, std::string("UPDATE portal SET ") + columns[i] + " = ? WHERE member_id = ?");
            u.bind(1, cipher_->Encrypt(plain, r.member_id + "/" + columns[i]));
            u.bind(2, r.member_id);
            u.exec();
            ++changed;
        }
    }
    tx.commit();
    if (changed > 0) {
        // No copy of the old values may stay in the WAL or in free pages of the file.
        db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        db_.exec("VACUUM");
        db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        spdlog::info("registry: {} token value(s) encrypted under key {}", changed,
                     cipher_->key_id());
    }
    return changed;
}

std::optional<PortalRecord> Registry::Find(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        std::string("SELECT ") + kColumns + " FROM portal WHERE member_id = ?");
    q.bind(1, member_id);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    PortalRecord r = ReadRecord(q);
    r.application_token = Open(r.member_id, kApplicationToken, r.application_token);
    r.access_token = Open(r.member_id, kAccessToken, r.access_token);
    r.refresh_token = Open(r.member_id, kRefreshToken, r.refresh_token);
    return r;
}

std::vector<PortalRecord> Registry::List() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        std::string("SELECT ") + kColumns + " FROM portal ORDER BY created_at");
    std::vector<PortalRecord> out;
    while (q.executeStep()) {
        PortalRecord r = ReadRecord(q);
        r.application_token = Open(r.member_id, kApplicationToken, r.application_token);
        r.access_token = Open(r.member_id, kAccessToken, r.access_token);
        r.refresh_token = Open(r.member_id, kRefreshToken, r.refresh_token);
        out.push_back(std::move(r));
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
                                 ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    int i = 1;
    q.bind(i++, r.member_id);
    q.bind(i++, r.domain);
    q.bind(i++, r.endpoint);
    q.bind(i++, r.db_file);
    q.bind(i++, Seal(r.member_id, kApplicationToken, r.application_token));
    q.bind(i++, Seal(r.member_id, kAccessToken, r.access_token));
    q.bind(i++, Seal(r.member_id, kRefreshToken, r.refresh_token));
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
    q.bind(i++, r.purge_at);
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
    q.bind(1, Seal(member_id, kAccessToken, access_token));
    q.bind(2, Seal(member_id, kRefreshToken, refresh_token));
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
    q.bind(1, Seal(member_id, kApplicationToken, token));
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

void Registry::SetPurgeAt(const std::string& member_id, std::int64_t purge_at) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "UPDATE portal SET purge_at = ?, updated_at = ? WHERE member_id = ?");
    q.bind(1, purge_at);
    q.bind(2, Now());
    q.bind(3, member_id);
    q.exec();
}

void Registry::Delete(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    SQLite::Transaction tx(db_);
    SQLite::Statement q(db_, "DELETE FROM portal WHERE member_id = ?");
    q.bind(1, member_id);
    q.exec();
    SQLite::Statement c(db_, "DELETE FROM uninstall_claim WHERE member_id = ?");
    c.bind(1, member_id);
    c.exec();
    tx.commit();
}

void Registry::AddUninstallClaim(const UninstallClaim& claim) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO uninstall_claim (member_id, clean, claimed_at, "
                        "next_check_at, checks) VALUES (?, ?, ?, ?, ?)");
    q.bind(1, claim.member_id);
    q.bind(2, claim.clean ? 1 : 0);
    q.bind(3, claim.claimed_at);
    q.bind(4, claim.next_check_at);
    q.bind(5, claim.checks);
    q.exec();
}

std::vector<UninstallClaim> Registry::UninstallClaims() {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "SELECT member_id, clean, claimed_at, next_check_at, checks FROM "
                        "uninstall_claim ORDER BY claimed_at");
    std::vector<UninstallClaim> out;
    while (q.executeStep()) {
        UninstallClaim c;
        c.member_id = q.getColumn(0).getString();
        c.clean = q.getColumn(1).getInt() != 0;
        c.claimed_at = q.getColumn(2).getInt64();
        c.next_check_at = q.getColumn(3).getInt64();
        c.checks = q.getColumn(4).getInt();
        out.push_back(std::move(c));
    }
    return out;
}

void Registry::UpdateUninstallClaim(const UninstallClaim& claim) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_,
                        "UPDATE uninstall_claim SET next_check_at = ?, checks = ? WHERE "
                        "member_id = ?");
    q.bind(1, claim.next_check_at);
    q.bind(2, claim.checks);
    q.bind(3, claim.member_id);
    q.exec();
}

void Registry::RemoveUninstallClaim(const std::string& member_id) {
    std::lock_guard lock(mutex_);
    SQLite::Statement q(db_, "DELETE FROM uninstall_claim WHERE member_id = ?");
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
