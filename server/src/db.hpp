#pragma once
// Opening SQLite databases the way every part of the server needs them, and the storage failures
// an operator must see (server/README.md "When things fail").

#include <cstdint>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>

#include <SQLiteCpp/Database.h>

namespace server {

// Opens (creating if needed) a database file in WAL mode with foreign keys on, a busy timeout,
// and synchronous=NORMAL (durable at checkpoints, safe against application crashes, which is what
// the resumable sync relies on). ":memory:" works for tests. Throws SQLite::Exception.
SQLite::Database OpenDatabase(const std::string& path);

// A storage failure, classified for operators and the API:
//   "disk_full"        the disk is full, or the file may not grow (quota, file size limit);
//   "database_corrupt" the file is not a usable SQLite database (quick_check failed);
//   "database_error"   any other SQLite or file-system failure.
// what() is a fixed, secret-free text naming the file and, for corruption, the recovery.
class StorageError : public std::runtime_error {
public:
    StorageError(std::string code, const std::string& message)
        : std::runtime_error(message), code_(std::move(code)) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

// The storage code of an exception thrown while using `db` (nullptr: unknown connection), or ""
// when it is not a storage failure (a portal error, a bug). For SQLite I/O errors the system
// errno of the connection tells a full disk (ENOSPC, EDQUOT, EFBIG) from other failures.
std::string StorageCode(const std::exception& e, SQLite::Database* db = nullptr);

// PRAGMA quick_check on an open database. Throws StorageError("database_corrupt") naming `what`
// (the file) when SQLite finds damage or the file is not a database.
void CheckIntegrity(SQLite::Database& db, const std::string& what);

}  // namespace server
