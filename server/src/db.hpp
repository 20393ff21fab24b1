#pragma once
// Opening SQLite databases the way every part of the server needs them, the file modes of
// everything stored (the data directory is 0700 and every database file, with its -wal and -shm,
// and lock file 0600, set by the code itself whatever the process umask), and the storage
// failures an operator must see (server/README.md "When things fail").

#include <cstdint>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>

#include <SQLiteCpp/Database.h>

namespace server {

// Opens (creating if needed) a database file in WAL mode with foreign keys on, a busy timeout,
// and synchronous=NORMAL (durable at checkpoints, safe against application crashes, which is what
// the resumable sync relies on). The file is created 0600 before SQLite opens it (SQLite gives
// its -wal and -shm the database's mode), and an existing file, -wal and -shm are set to 0600.
// ":memory:" works for tests. Throws SQLite::Exception (or std::runtime_error for the file).
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

// Creates `dir` (and parents) if missing and sets it to 0700. Throws std::runtime_error (for an
// existing directory the process may not chmod, e.g. another user's, it only logs a warning).
void EnsurePrivateDirectory(const std::string& dir);

// Creates `path` 0600 if missing (without truncating it) and sets an existing one to 0600.
// Throws std::runtime_error.
void EnsurePrivateFile(const std::string& path);

// Sets an existing file to 0600 (no-op when missing).
void RestrictFileIfPresent(const std::string& path);

}  // namespace server
