#pragma once
// Numbered schema migrations, applied at start inside one transaction each, tracked with
// PRAGMA user_version. The SQL lives in server/sql/<db>/NNN_name.sql and is embedded at build time.

#include <vector>

namespace SQLite {
class Database;
}

namespace server {

struct Migration {
    int version;       // NNN from the file name; strictly increasing
    const char* name;  // file name without extension, for error messages
    const char* sql;
};

std::vector<Migration> RegistryMigrations();
std::vector<Migration> PortalMigrations();

// Applies every migration newer than the database's user_version, in order. Each migration and
// its version bump commit together. Throws std::runtime_error (naming the migration) on failure,
// leaving the database at the last good version; throws if the database is newer than the code.
void ApplyMigrations(SQLite::Database& db, const std::vector<Migration>& migrations);

}  // namespace server
