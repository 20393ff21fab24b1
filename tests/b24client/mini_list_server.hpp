#pragma once
// A tiny in-test list server for walk tests without the test portal: it understands JSON batch
// bodies whose commands are "method?query" strings, PHP-style bracket keys, $result[...]
// references (resolved after decoding, like the platform), filters >ID / >=ID / <ID on the id
// field, order by id ascending, start=-1 (no total) or start>=0 (total), and 50-row pages.
// Rows are {"ID":"<id>"} (legacy, string ids) or, for crm.item.list, {"items":[{"id":<id>}]}.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace b24client::testing {

class MiniListServer {
public:
    using json = nlohmann::json;

    explicit MiniListServer(std::vector<std::int64_t> ids) : ids_(std::move(ids)) {
        std::sort(ids_.begin(), ids_.end());
        server_.Post("/rest/batch", [this](const httplib::Request& req, httplib::Response& res) {
            HandleBatch(req, res);
        });
        server_.set_tcp_nodelay(true);
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
    }
    ~MiniListServer() {
        server_.stop();
        thread_.join();
    }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_) + "/rest/"; }
    int batches() const { return batches_.load(); }
    int nested() const { return nested_.load(); }
    // Methods that answer every command with this error code.
    void FailMethod(const std::string& method, const std::string& code) {
        std::lock_guard lock(mu_);
        fail_[method] = code;
    }
    // The next `n` commands of `method` answer OPERATION_TIME_LIMIT.
    void LimitNext(const std::string& method, int n) {
        std::lock_guard lock(mu_);
        limit_next_[method] = n;
    }
    // The next `n` batch requests answer an HTML 500.
    void HtmlNext(int n) { html_next_ = n; }

private:
    static std::string Decode(const std::string& s) {
        std::string out;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '%' && i + 2 < s.size()) {
                out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
                i += 2;
            } else if (s[i] == '+') {
                out += ' ';
            } else {
                out += s[i];
            }
        }
        return out;
    }

    // "a[b][c]=v" pairs into nested json (arrays are kept as objects keyed "0", "1", ...).
    static json ParseQuery(const std::string& q) {
        json out = json::object();
        std::size_t pos = 0;
        while (pos <= q.size() && !q.empty()) {
            std::size_t amp = q.find('&', pos);
            if (amp == std::string::npos) {
                amp = q.size();
            }
            const std::string pair = q.substr(pos, amp - pos);
            const auto eq = pair.find('=');
            const std::string key = Decode(pair.substr(0, eq));
            const std::string value = eq == std::string::npos ? "" : Decode(pair.substr(eq + 1));
            std::vector<std::string> path;
            const auto br = key.find('[');
            path.push_back(key.substr(0, br));
            for (std::size_t p = br; p != std::string::npos && p < key.size();) {
                const auto close = key.find(']', p);
                path.push_back(key.substr(p + 1, close - p - 1));
                p = close + 1 < key.size() && key[close + 1] == '[' ? close + 1 : std::string::npos;
            }
            json* cur = &out;
            for (std::size_t i = 0; i + 1 < path.size(); ++i) {
                cur = &(*cur)[path[i]];
            }
            (*cur)[path.back()] = value;
            pos = amp + 1;
        }
        return out;
    }

    static std::optional<json> Resolve(const std::string& ref, const json& results) {
        std::vector<std::string> parts;
        std::size_t p = ref.find('[');
        while (p != std::string::npos) {
            const auto close = ref.find(']', p);
            parts.push_back(ref.substr(p + 1, close - p - 1));
            p = ref.find('[', close);
        }
        const json* cur = &results;
        for (const auto& part : parts) {
            if (cur->is_object() && cur->contains(part)) {
                cur = &(*cur)[part];
            } else if (cur->is_array() && std::all_of(part.begin(), part.end(), ::isdigit) &&
                       std::stoul(part) < cur->size()) {
                cur = &(*cur)[std::stoul(part)];
            } else {
                return std::nullopt;
            }
        }
        return *cur;
    }

    void HandleBatch(const httplib::Request& req, httplib::Response& res) {
        ++batches_;
        if (html_next_ > 0) {
            --html_next_;
            res.status = 500;
            res.set_content("<html><body>500</body></html>", "text/html");
            return;
        }
        const auto body = nlohmann::ordered_json::parse(req.body);
        json results = json::object(), errors = json::object(), totals = json::object(),
             times = json::object();
        for (const auto& [key, cmdv] : body["cmd"].items()) {
            ++nested_;
            const std::string cmd = cmdv.get<std::string>();
            const auto q = cmd.find('?');
            const std::string method = cmd.substr(0, q);
            json params = ParseQuery(q == std::string::npos ? "" : cmd.substr(q + 1));
            times[key] = {{"duration", 0.25}, {"operating", 1.0}};
            {
                std::lock_guard lock(mu_);
                if (fail_.count(method) != 0) {
                    errors[key] = {{"error", fail_[method]}, {"error_description", "refused"}};
                    continue;
                }
                if (limit_next_[method] > 0) {
                    --limit_next_[method];
                    errors[key] = {{"error", "OPERATION_TIME_LIMIT"},
                                   {"error_description", "Method is blocked"}};
                    continue;
                }
            }
            const bool items = method == "crm.item.list";
            const std::string idf = items ? "id" : "ID";
            std::int64_t after = 0, from = INT64_MIN, below = INT64_MAX;
            for (auto& [fk, fv] : params["filter"].items()) {
                if (!fv.is_string()) {
                    continue;  // @ID lists are not implemented here
                }
                std::string v = fv.get<std::string>();
                if (v.rfind("$result", 0) == 0) {
                    auto r = Resolve(v, results);
                    // Like the platform, an unresolvable reference stays literal text, which an
                    // integer filter reads as 0.
                    v = r ? (r->is_string() ? r->get<std::string>() : r->dump()) : "0";
                }
                std::int64_t n = 0;
                try {
                    n = std::stoll(v);
                } catch (...) {
                    n = 0;
                }
                if (fk == ">" + idf) {
                    after = n;
                } else if (fk == ">=" + idf) {
                    from = n;
                } else if (fk == "<" + idf) {
                    below = n;
                }
            }
            json rows = json::array();
            std::int64_t total = 0;
            const std::int64_t low = std::max(after == INT64_MAX ? after : after + 1, from);
            for (auto it = std::lower_bound(ids_.begin(), ids_.end(), low);
                 it != ids_.end() && *it < below; ++it) {
                ++total;
                if (rows.size() < 50) {
                    rows.push_back(items ? json{{"id", *it}} : json{{"ID", std::to_string(*it)}});
                }
            }
            results[key] = items ? json{{"items", rows}} : rows;
            if (params.value("start", std::string("0")) != "-1") {
                totals[key] = total;
            }
        }
        json out = {{"result",
                     {{"result", results.empty() ? json::array() : results},
                      {"result_error", errors.empty() ? json::array() : errors},
                      {"result_total", totals.empty() ? json::array() : totals},
                      {"result_next", json::array()},
                      {"result_time", times}}},
                    {"time", {{"duration", 0.5}}}};
        res.status = 200;
        res.set_content(out.dump(), "application/json");
    }

    std::vector<std::int64_t> ids_;
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
    std::atomic<int> batches_{0};
    std::atomic<int> nested_{0};
    std::atomic<int> html_next_{0};
    std::mutex mu_;
    std::map<std::string, std::string> fail_;
    std::map<std::string, int> limit_next_;
};

}  // namespace b24client::testing
