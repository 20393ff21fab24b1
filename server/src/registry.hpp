#pragma once
// The registry of installed portals (data_dir/registry.db): endpoints, tokens, application tokens,
// settings, state. Keyed by member_id, which survives a portal's rename.
//
// Secrets at rest: the access, refresh and application tokens are stored encrypted
// (TokenCipher, AES-256-GCM, bound to their row and column); PortalRecord holds them decrypted.
// Opening the registry with a cipher encrypts every value still in the clear (a registry written
// before encryption existed) or under an old key (rotation), then rewrites the file so that no
// old copy survives (WAL checkpoint, VACUUM; secure_delete is on). Without a cipher the registry
// stores tokens in the clear (tests, `insecure_plaintext_tokens`) and refuses to read encrypted
// ones.
//
// Durability: synchronous=FULL (a rotated refresh token that is lost means a re-install), file
// mode 0600 (db.hpp).
// Thread-safe: one connection guarded by the object's own mutex.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

namespace server {

class TokenCipher;
struct Config;

struct PortalRecord {
    std::string member_id;
    std::string domain;
    std::string endpoint;  // https://<portal>/rest/
    std::string db_file;   // relative to the data directory
    std::string application_token;
    std::string access_token;
    std::string refresh_token;
    std::int64_t access_expires_at = 0;
    std::int64_t token_user_id = 0;
    std::string scope;
    std::string app_status;
    std::string plan = "standard";
    std::string lang = "en";
    bool install_finished = false;
    std::string state = "installing";  // installing | active | blocked
    std::string block_code;
    std::string block_message;
    int active_months = 6;
    int lost_months = 18;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::int64_t purge_at = 0;  // soft-deleted (uninstalled with CLEAN=1): purge time; 0 = none
};

// An ONAPPUNINSTALL that could not be confirmed with the portal yet (it did not answer).
struct UninstallClaim {
    std::string member_id;
    bool clean = false;
    std::int64_t claimed_at = 0;
    std::int64_t next_check_at = 0;
    int checks = 0;
};

class Registry {
public:
    // Opens or creates data_dir/registry.db and applies migrations; with a cipher, encrypts what
    // is not yet under its current key. Throws on failure (also for encrypted tokens and no
    // cipher, or a key the cipher does not know).
    explicit Registry(const std::string& path, std::shared_ptr<const TokenCipher> cipher = nullptr);

    // data_dir/registry.db
    static std::string PathIn(const std::string& data_dir);

    std::optional<PortalRecord> Find(const std::string& member_id);
    std::vector<PortalRecord> List();

    // Inserts or replaces the whole record (updated_at is set here).
    void Upsert(PortalRecord record);

    // Narrow updates; each is a no-op for an unknown member_id.
    void UpdateTokens(const std::string& member_id,
                      const std::string& access_token,
                      const std::string& refresh_token,
                      std::int64_t access_expires_at);
    void UpdateEndpoint(const std::string& member_id,
                        const std::string& endpoint,
                        const std::string& domain);
    void SetApplicationToken(const std::string& member_id, const std::string& token);
    void SetState(const std::string& member_id,
                  const std::string& state,
                  const std::string& code = {},
                  const std::string& message = {});
    void SetInstallFinished(const std::string& member_id);
    void SetPlan(const std::string& member_id, const std::string& plan);
    void SetSettings(const std::string& member_id, int active_months, int lost_months);
    void SetPurgeAt(const std::string& member_id, std::int64_t purge_at);

    void Delete(const std::string& member_id);

    // Uninstall claims (see UninstallClaim). Add replaces a claim of the same portal.
    void AddUninstallClaim(const UninstallClaim& claim);
    std::vector<UninstallClaim> UninstallClaims();
    void UpdateUninstallClaim(const UninstallClaim& claim);
    void RemoveUninstallClaim(const std::string& member_id);

    // How many token values the last open encrypted or re-encrypted (0 when nothing changed).
    int reencrypted_at_open() const { return reencrypted_at_open_; }
    bool encrypted() const { return cipher_ != nullptr; }

    // Runs the operator CLI asks the server for (kind: incremental | full | recompute).
    void AddJobRequest(const std::string& member_id, const std::string& kind);
    // Reads and removes the pending requests, oldest first: (member_id, kind).
    std::vector<std::pair<std::string, std::string>> TakeJobRequests();

    // A file name for a new portal's database: the member_id if it is a safe name, else its hash.
    static std::string DbFileFor(const std::string& member_id);

private:
    std::string Seal(const std::string& member_id, const char* column, const std::string& plain);
    std::string Open(const std::string& member_id, const char* column, const std::string& stored);
    int ReencryptAll();

    std::mutex mutex_;
    SQLite::Database db_;
    std::shared_ptr<const TokenCipher> cipher_;
    int reencrypted_at_open_ = 0;
};

// The token cipher the configuration asks for: B24SEG_TOKEN_KEY (+ B24SEG_TOKEN_KEY_OLD), or null
// when there is no key and `insecure_plaintext_tokens` is on. Throws std::runtime_error (naming
// B24SEG_TOKEN_KEY) when there is no key and no such switch: the server does not start.
std::shared_ptr<const TokenCipher> TokenCipherFor(const Config& config);

}  // namespace server
