#include "db.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace server {

namespace {

// The errno of the last failed file operation SQLite reported on this thread. SQLite logs every
// failed statement as it aborts, while the failed system call's errno is still in place; the
// connection's own sqlite3_system_errno() is less reliable after the rollback that follows.
thread_local int t_last_io_errno = 0;

void OnSqliteLog(void*, int code, const char* message) {
    const int err = errno;  // before anything here can change it
    const int primary = code & 0xff;
    if (primary != SQLITE_IOERR && primary != SQLITE_FULL && primary != SQLITE_CANTOPEN &&
        primary != SQLITE_CORRUPT && primary != SQLITE_NOTADB) {
        return;
    }
    std::string text = message != nullptr ? message : "";
    if (auto open = text.find(": ("); open != std::string::npos) {
        t_last_io_errno = std::atoi(text.c_str() + open + 3);  // "os_unix.c:N: (27) write(...)"
    } else if (primary == SQLITE_IOERR || primary == SQLITE_FULL) {
        t_last_io_errno = err;
    }
    spdlog::warn("sqlite ({}): {}{}", code, text.substr(0, 300),
                 err != 0 ? " (" + std::string(std::strerror(err)) + ")" : std::string());
    errno = err;
}

void InstallSqliteLog() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Only possible before SQLite initialises; if something opened a database first, the
        // classification falls back to sqlite3_system_errno().
        sqlite3_config(SQLITE_CONFIG_LOG, &OnSqliteLog, nullptr);
    });
}

}  // namespace

void EnsurePrivateDirectory(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw std::runtime_error("cannot create the directory " + dir + ": " + ec.message());
    }
    // create_directories honours the umask (0777 & ~umask): set the mode explicitly.
    if (::chmod(dir.c_str(), 0700) != 0) {
        throw std::runtime_error("cannot make " + dir + " private (0700): " + std::strerror(errno));
    }
}

void EnsurePrivateFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    }
    int rc = ::fchmod(fd, 0600);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
        throw std::runtime_error("cannot make " + path + " private (0600): " + std::strerror(err));
    }
}

void RestrictFileIfPresent(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) != 0600) {
        ::chmod(path.c_str(), 0600);
    }
}

SQLite::Database OpenDatabase(const std::string& path) {
    InstallSqliteLog();
    if (path != ":memory:" && !path.empty()) {
        EnsurePrivateFile(path);
        RestrictFileIfPresent(path + "-wal");
        RestrictFileIfPresent(path + "-shm");
    }
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX,
                        /*busy timeout ms*/ 10000);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("PRAGMA foreign_keys=ON");
    db.exec("PRAGMA temp_store=MEMORY");
    return db;
}

std::string StorageCode(const std::exception& e, SQLite::Database* db) {
    if (const auto* s = dynamic_cast<const StorageError*>(&e)) {
        return s->code();
    }
    if (const auto* fs = dynamic_cast<const std::filesystem::filesystem_error*>(&e)) {
        int err = fs->code().value();
        return err == ENOSPC || err == EDQUOT || err == EFBIG ? "disk_full" : "database_error";
    }
    const auto* sql = dynamic_cast<const SQLite::Exception*>(&e);
    if (sql == nullptr) {
        return "";
    }
    switch (sql->getErrorCode() & 0xff) {
        case SQLITE_FULL:
            return "disk_full";
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return "database_corrupt";
        case SQLITE_IOERR: {
            int err = t_last_io_errno;
            if (err == 0 && db != nullptr) {
                err = sqlite3_system_errno(db->getHandle());
            }
            return err == ENOSPC || err == EDQUOT || err == EFBIG ? "disk_full" : "database_error";
        }
        default:
            return "database_error";
    }
}

void CheckIntegrity(SQLite::Database& db, const std::string& what) {
    std::string first;
    try {
        SQLite::Statement check(db, "PRAGMA quick_check");
        while (check.executeStep()) {
            std::string row = check.getColumn(0).getString();
            if (row != "ok" && first.empty()) {
                first = row;
            }
        }
    } catch (const SQLite::Exception& e) {
        first = e.what();
    }
    if (!first.empty()) {
        throw StorageError("database_corrupt", what + " is corrupt (" + first.substr(0, 200) + ")");
    }
}

}  // namespace server
