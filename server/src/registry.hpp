#pragma once
// The registry of installed portals (data_dir/registry.db): endpoints, tokens, application tokens,
// settings, state. Keyed by member_id, which survives a portal's rename.
// Thread-safe: one connection guarded by the object's own mutex.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

namespace server {

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
};

class Registry {
public:
    // Opens or creates data_dir/registry.db and applies migrations. Throws on failure.
    explicit Registry(const std::string& path);

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

    void Delete(const std::string& member_id);

    // Runs the operator CLI asks the server for (kind: incremental | full | recompute).
    void AddJobRequest(const std::string& member_id, const std::string& kind);
    // Reads and removes the pending requests, oldest first: (member_id, kind).
    std::vector<std::pair<std::string, std::string>> TakeJobRequests();

    // A file name for a new portal's database: the member_id if it is a safe name, else its hash.
    static std::string DbFileFor(const std::string& member_id);

private:
    std::mutex mutex_;
    SQLite::Database db_;
};

}  // namespace server
