#pragma once
// Opening SQLite databases the way every part of the server needs them, and the file modes of
// everything stored: the data directory is 0700 and every database file (with its -wal and -shm)
// and lock file 0600, set by the code itself whatever the process umask.

#include <string>

#include <SQLiteCpp/Database.h>

namespace server {

// Opens (creating if needed) a database file in WAL mode with foreign keys on, a busy timeout,
// and synchronous=NORMAL (durable at checkpoints, safe against application crashes, which is what
// the resumable sync relies on). The file is created 0600 before SQLite opens it (SQLite gives
// its -wal and -shm the database's mode), and an existing file, -wal and -shm are set to 0600.
// ":memory:" works for tests. Throws SQLite::Exception (or std::runtime_error for the file).
SQLite::Database OpenDatabase(const std::string& path);

// Creates `dir` (and parents) if missing and sets it to 0700. Throws std::runtime_error (for an
// existing directory the process may not chmod, e.g. another user's, it only logs a warning).
void EnsurePrivateDirectory(const std::string& dir);

// Creates `path` 0600 if missing (without truncating it) and sets an existing one to 0600.
// Throws std::runtime_error.
void EnsurePrivateFile(const std::string& path);

// Sets an existing file to 0600 (no-op when missing).
void RestrictFileIfPresent(const std::string& path);

}  // namespace server
