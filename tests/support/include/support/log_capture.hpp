#pragma once
// Captures what spdlog's default logger writes while the object lives, so tests can assert that a
// secret never appears in the logs (or that a warning did). Restores the previous default logger
// on destruction. Not meant for concurrent use by two captures at once.
#include <memory>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace support {

class LogCapture {
public:
    LogCapture();
    ~LogCapture();
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    /// Every formatted line logged so far (thread-safe snapshot).
    std::vector<std::string> Lines() const;
    /// All lines joined with '\n'.
    std::string Text() const;
    bool Contains(const std::string& needle) const;

private:
    struct Sink;
    std::shared_ptr<Sink> sink_;
    std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace support
