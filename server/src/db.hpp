#pragma once
// Opening SQLite databases the way every part of the server needs them.

#include <string>

#include <SQLiteCpp/Database.h>

namespace server {

// Opens (creating if needed) a database file in WAL mode with foreign keys on, a busy timeout,
// and synchronous=NORMAL (durable at checkpoints, safe against application crashes, which is what
// the resumable sync relies on). ":memory:" works for tests. Throws SQLite::Exception.
SQLite::Database OpenDatabase(const std::string& path);

}  // namespace server
