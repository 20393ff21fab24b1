#include "db.hpp"

#include <SQLiteCpp/Database.h>

namespace server {

SQLite::Database OpenDatabase(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX,
                        /*busy timeout ms*/ 10000);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("PRAGMA foreign_keys=ON");
    db.exec("PRAGMA temp_store=MEMORY");
    return db;
}

}  // namespace server
