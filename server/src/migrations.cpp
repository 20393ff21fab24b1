#include "migrations.hpp"

#include <stdexcept>
#include <string>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

namespace server {

void ApplyMigrations(SQLite::Database& db, const std::vector<Migration>& migrations) {
    int current = db.execAndGet("PRAGMA user_version").getInt();
    int newest = migrations.empty() ? 0 : migrations.back().version;
    if (current > newest) {
        throw std::runtime_error("database schema version " + std::to_string(current) +
                                 " is newer than this program knows (" + std::to_string(newest) +
                                 ")");
    }
    int previous = 0;
    for (const Migration& m : migrations) {
        if (m.version <= previous) {
            throw std::logic_error(std::string("migrations out of order at ") + m.name);
        }
        previous = m.version;
        if (m.version <= current) {
            continue;
        }
        try {
            SQLite::Transaction tx(db);
            db.exec(m.sql);
            db.exec("PRAGMA user_version = " + std::to_string(m.version));
            tx.commit();
        } catch (const std::exception& e) {
            throw std::runtime_error(std::string("migration ") + m.name + " failed: " + e.what());
        }
        current = m.version;
    }
}

}  // namespace server
