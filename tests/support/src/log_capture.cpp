#include "support/log_capture.hpp"

#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace support {

struct LogCapture::Sink : spdlog::sinks::base_sink<std::mutex> {
    mutable std::mutex copy_mu;
    std::vector<std::string> copy;

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t buf;
        formatter_->format(msg, buf);
        std::string line(buf.data(), buf.size());
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
            line.pop_back();
        }
        std::lock_guard lock(copy_mu);
        copy.push_back(std::move(line));
    }
    void flush_() override {}
};

LogCapture::LogCapture() : sink_(std::make_shared<Sink>()), previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

LogCapture::~LogCapture() {
    if (previous_) {
        spdlog::set_default_logger(previous_);
    }
}

std::vector<std::string> LogCapture::Lines() const {
    std::lock_guard lock(sink_->copy_mu);
    return sink_->copy;
}

std::string LogCapture::Text() const {
    std::string out;
    for (const auto& line : Lines()) {
        out += line;
        out += '\n';
    }
    return out;
}

bool LogCapture::Contains(const std::string& needle) const {
    return Text().find(needle) != std::string::npos;
}

}  // namespace support
