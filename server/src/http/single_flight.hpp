#pragma once
// Coalesces concurrent calls that would ask the portal the same thing (server/README.md
// "Robustness"): the first caller for a key runs the function; callers arriving while it runs
// wait for its result (or its exception) instead of asking again, but never longer than
// `max_wait`: then they get 429 busy, and the worker they hold is free again.
//
// Thread-safety: Run may be called from any number of threads at once.

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api_error.hpp"

namespace server::http {

template <typename T>
class SingleFlight {
public:
    T Run(const std::string& key,
          std::chrono::milliseconds max_wait,
          const std::function<T()>& fn) {
        std::shared_future<T> running;
        std::promise<T> mine;
        {
            std::lock_guard lock(mutex_);
            auto it = flights_.find(key);
            if (it != flights_.end()) {
                running = it->second;
            } else {
                flights_.emplace(key, mine.get_future().share());
            }
        }
        if (running.valid()) {
            if (running.wait_for(max_wait) != std::future_status::ready) {
                throw ApiError(429, "busy", "the portal is busy; try again in a moment");
            }
            return running.get();
        }
        try {
            T value = fn();
            mine.set_value(value);
            Forget(key);
            return value;
        } catch (...) {
            mine.set_exception(std::current_exception());
            Forget(key);
            throw;
        }
    }

private:
    void Forget(const std::string& key) {
        std::lock_guard lock(mutex_);
        flights_.erase(key);
    }

    std::mutex mutex_;
    std::map<std::string, std::shared_future<T>> flights_;
};

}  // namespace server::http
