#include "db.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace server {

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

}  // namespace server
