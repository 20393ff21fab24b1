#pragma once
// A uniquely named directory under the system temp dir, removed with its contents on destruction.
#include <filesystem>
#include <string>

namespace support {

class TempDir {
public:
    explicit TempDir(const std::string& prefix = "b24seg-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    /// path() / name, as a string.
    std::string File(const std::string& name) const;

private:
    std::filesystem::path path_;
};

}  // namespace support
