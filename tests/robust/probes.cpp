#include "probes.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

namespace robust {

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double Since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A raw TCP connection to the server, for the requests no well-behaved client would send.
class Socket {
public:
    explicit Socket(int port, double timeout_s = 2.0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            return;
        }
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout_s);
        tv.tv_usec = static_cast<suseconds_t>((timeout_s - std::floor(timeout_s)) * 1e6);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~Socket() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    bool ok() const { return fd_ >= 0 && !broken_; }
    std::int64_t sent() const { return sent_; }

    // Sends all of `data`; false (and broken) when the peer closed or the send timed out.
    bool Send(std::string_view data) {
        while (!data.empty() && ok()) {
            ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                broken_ = true;
                return false;
            }
            sent_ += n;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return ok();
    }

    // Whether the server has closed its side (or reset) without our sending more: a zero-length
    // read or an error other than a timeout. Reads and drops whatever arrived.
    bool PeerClosed() {
        if (fd_ < 0) {
            return true;
        }
        char buf[4096];
        ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            answer_.append(buf, static_cast<std::size_t>(n));
            return false;
        }
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }

    // Reads the answer's status line (waits up to the socket timeout). 0: none.
    int ReadStatus() {
        char buf[4096];
        while (answer_.find("\r\n") == std::string::npos && answer_.size() < 65536) {
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                break;
            }
            answer_.append(buf, static_cast<std::size_t>(n));
        }
        if (answer_.rfind("HTTP/1.", 0) != 0 || answer_.size() < 12) {
            return 0;
        }
        return std::atoi(answer_.c_str() + 9);
    }

private:
    int fd_ = -1;
    bool broken_ = false;
    std::int64_t sent_ = 0;
    std::string answer_;
};

// gzip of `size` zero bytes (a "zip bomb": ~1000x smaller than what it inflates to).
std::string GzipOfZeros(std::size_t size) {
    z_stream z{};
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("deflateInit2");
    }
    std::string zeros(1 << 20, '\0');
    std::string out;
    char buf[1 << 16];
    std::size_t left = size;
    while (true) {
        std::size_t chunk = std::min(left, zeros.size());
        z.next_in = reinterpret_cast<Bytef*>(zeros.data());
        z.avail_in = static_cast<uInt>(chunk);
        left -= chunk;
        int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        int rc = Z_OK;
        do {
            z.next_out = reinterpret_cast<Bytef*>(buf);
            z.avail_out = sizeof buf;
            rc = deflate(&z, flush);
            out.append(buf, sizeof buf - z.avail_out);
        } while (z.avail_out == 0);
        if (flush == Z_FINISH && rc == Z_STREAM_END) {
            break;
        }
    }
    deflateEnd(&z);
    return out;
}

std::string Request(const std::string& method,
                    const std::string& path,
                    const std::vector<std::string>& headers,
                    std::size_t content_length = std::numeric_limits<std::size_t>::max()) {
    std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& h : headers) {
        r += h + "\r\n";
    }
    if (content_length != std::numeric_limits<std::size_t>::max()) {
        r += "Content-Length: " + std::to_string(content_length) + "\r\n";
    }
    return r + "\r\n";
}

// Measures what the rest of the world gets while an attack runs.
class Monitor {
public:
    Monitor(RobustWorld& world, ProbeReport& report) : world_(world), report_(report) {
        std::string admin_session;
        world_.OpenPage(world_.second(), world_.second().admin_id, &admin_session);
        std::string manager_session;
        world_.OpenPage(world_.second(), world_.second().manager_id, &manager_session);
        if (admin_session.empty() || manager_session.empty()) {
            throw std::runtime_error("the second portal's pages do not open before the probe:\n" +
                                     world_.LogTail());
        }
        // The manager's list walks their rights once; later calls reuse the cached set.
        world_.Get("/api/list?mode=lifecycle&series=active", manager_session);
        admin_session_ = admin_session;
        manager_session_ = manager_session;
    }

    void Start() {
        stop_ = false;
        rss_thread_ = std::thread([this] {
            while (!stop_) {
                std::int64_t rss = world_.ServerRss();
                {
                    std::lock_guard lock(mutex_);
                    report_.peak_rss = std::max(report_.peak_rss, rss);
                }
                std::unique_lock lock(wake_mutex_);
                wake_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stop_.load(); });
            }
        });
        // Health is asked by its own thread: a monitoring system does not wait for page loads.
        health_thread_ = std::thread([this] {
            while (!stop_) {
                Record(report_.healthz, world_.Get("/healthz"), true);
                Pause(100);
            }
        });
        user_thread_ = std::thread([this] {
            int i = 0;
            while (!stop_) {
                switch (i++ % 4) {
                    case 0:
                        Record(report_.page,
                               world_.OpenPage(world_.second(), world_.second().manager_id), false);
                        break;
                    case 1:
                        Record(report_.api, world_.Get("/api/dashboard", admin_session_), false);
                        break;
                    case 2:
                        Record(report_.api, world_.Get("/api/status", admin_session_), false);
                        break;
                    default:
                        Record(report_.api,
                               world_.Get("/api/list?mode=lifecycle&series=active&pageSize=10",
                                          manager_session_),
                               false);
                        break;
                }
                Pause(50);
            }
        });
    }

    void Stop() {
        stop_ = true;
        wake_.notify_all();
        for (auto* t : {&rss_thread_, &health_thread_, &user_thread_}) {
            if (t->joinable()) {
                t->join();
            }
        }
    }

    ~Monitor() { Stop(); }

private:
    void Pause(int ms) {
        std::unique_lock lock(wake_mutex_);
        wake_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_.load(); });
    }

    void Record(Latencies& into, const Reply& r, bool health) {
        std::lock_guard lock(mutex_);
        // /healthz may say 503 (degraded) and still be an answer; for users a 5xx is a failure.
        bool answered = r.status != 0 && (health || r.status < 500);
        if (answered) {
            into.ms.push_back(r.ms);
        } else {
            ++into.failed;
        }
    }

    RobustWorld& world_;
    ProbeReport& report_;
    std::string admin_session_;
    std::string manager_session_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::mutex wake_mutex_;
    std::condition_variable wake_;
    std::thread rss_thread_;
    std::thread health_thread_;
    std::thread user_thread_;
};

// Runs `threads` copies of fn(i) at once and waits for all.
void Parallel(int threads, const std::function<void(int)>& fn) {
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads));
    for (int i = 0; i < threads; ++i) {
        pool.emplace_back([&fn, i] { fn(i); });
    }
    for (auto& t : pool) {
        t.join();
    }
}

std::string StatusKey(int status) {
    return status == 0 ? "none" : std::to_string(status);
}

// --- the attacks -------------------------------------------------------------------------

void HalfRequests(RobustWorld& w, json& facts, double scale) {
    const int count = std::max(10, static_cast<int>(300 * scale));
    std::vector<std::unique_ptr<Socket>> sockets;
    for (int i = 0; i < count; ++i) {
        auto s = std::make_unique<Socket>(w.port());
        s->Send("POST /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le");
        sockets.push_back(std::move(s));
    }
    int connected = 0;
    for (const auto& s : sockets) {
        connected += s->ok() ? 1 : 0;
    }
    // Hold them while the monitor measures, past the server's request timeout (5 s in the
    // robust world's config).
    auto start = Clock::now();
    while (Since(start) < 6.5) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the attacker's pace
    }
    int closed = 0;
    for (const auto& s : sockets) {
        closed += s->PeerClosed() ? 1 : 0;
    }
    facts = {{"sockets", count}, {"connected", connected}, {"closedByServer", closed}};
}

void SlowHeaders(RobustWorld& w, json& facts, double scale) {
    const int count = std::max(4, static_cast<int>(20 * scale));
    std::vector<std::unique_ptr<Socket>> sockets;
    for (int i = 0; i < count; ++i) {
        auto s = std::make_unique<Socket>(w.port());
        s->Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        sockets.push_back(std::move(s));
    }
    auto start = Clock::now();
    int lines = 0;
    // One header line every 3 s (the attacker's pace), for 7 s: a request that never ends.
    while (Since(start) < 7.0) {
        std::this_thread::sleep_for(std::chrono::seconds(3));
        ++lines;
        for (auto& s : sockets) {
            s->Send("X-Slow-" + std::to_string(lines) + ": 1\r\n");
        }
    }
    int closed = 0;
    for (auto& s : sockets) {
        closed += (!s->ok() || s->PeerClosed()) ? 1 : 0;
    }
    facts = {{"sockets", count}, {"headerLinesEach", lines}, {"closedByServer", closed}};
}

void ChunkedBody(RobustWorld& w, json& facts, double scale) {
    const std::int64_t total = static_cast<std::int64_t>(200.0 * scale * (1 << 20));
    Socket s(w.port(), 3.0);
    s.Send(
        "POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n");
    std::string chunk(64 * 1024, ' ');
    std::string framed = "10000\r\n" + chunk + "\r\n";
    std::int64_t body = 0;
    auto start = Clock::now();
    while (body < total && s.ok() && Since(start) < 30.0) {
        if (!s.Send(framed)) {
            break;
        }
        body += static_cast<std::int64_t>(chunk.size());
        if (s.PeerClosed()) {
            break;
        }
    }
    if (s.ok() && body >= total) {
        s.Send("0\r\n\r\n");
    }
    int status = s.ReadStatus();
    facts = {{"bodyBytesSent", body},
             {"limitBytes", 64 * 1024},
             {"status", status},
             {"seconds", Since(start)}};
}

void GzipBody(RobustWorld& w, json& facts, double scale) {
    static std::mutex cache_mutex;
    static std::map<std::size_t, std::string> cache;
    const std::size_t inflated = static_cast<std::size_t>(250.0 * scale * (1 << 20));
    std::string body;
    {
        std::lock_guard lock(cache_mutex);
        auto& b = cache[inflated];
        if (b.empty()) {
            b = GzipOfZeros(inflated);
        }
        body = b;
    }
    Socket s(w.port(), 10.0);
    auto start = Clock::now();
    s.Send(Request("POST", "/b24/events",
                   {"Content-Type: application/x-www-form-urlencoded", "Content-Encoding: gzip"},
                   body.size()) +
           body);
    int status = s.ReadStatus();
    facts = {{"gzipBytes", body.size()},
             {"inflatesTo", inflated},
             {"status", status},
             {"seconds", Since(start)}};
}

void LongRequestLines(RobustWorld& w, json& facts, double scale) {
    const std::int64_t each = static_cast<std::int64_t>(300.0 * scale * (1 << 20));
    std::vector<json> per(3);
    Parallel(3, [&](int i) {
        Socket s(w.port(), 3.0);
        s.Send("GET /");
        std::string piece(1 << 20, 'a');
        std::int64_t sent = 0;
        auto start = Clock::now();
        while (sent < each && s.ok() && Since(start) < 30.0) {
            if (!s.Send(piece)) {
                break;
            }
            sent += static_cast<std::int64_t>(piece.size());
            if (s.PeerClosed()) {
                break;
            }
        }
        int status = s.ReadStatus();
        per[static_cast<std::size_t>(i)] = {{"bytesSent", sent}, {"status", status}};
    });
    facts = {{"sockets", per}, {"lineBytesEach", each}};
}

void ManyHeaders(RobustWorld& w, json& facts, double scale) {
    const int count = std::max(1000, static_cast<int>(200000 * scale));
    Socket s(w.port(), 5.0);
    std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    std::string lines;
    lines.reserve(static_cast<std::size_t>(count) * 16);
    for (int i = 0; i < count; ++i) {
        lines += "X-H" + std::to_string(i) + ": v\r\n";
    }
    auto start = Clock::now();
    s.Send(head);
    // In pieces, so that a server that stops reading is noticed.
    std::size_t at = 0;
    while (at < lines.size() && s.ok()) {
        std::size_t n = std::min<std::size_t>(64 * 1024, lines.size() - at);
        if (!s.Send(std::string_view(lines).substr(at, n))) {
            break;
        }
        at += n;
        if (s.PeerClosed()) {
            break;
        }
    }
    if (s.ok()) {
        s.Send("\r\n");
    }
    int status = s.ReadStatus();
    facts = {
        {"headers", count}, {"headerBytesSent", at}, {"status", status}, {"seconds", Since(start)}};
}

void RefreshStorm(RobustWorld& w, json& facts, double scale, bool distinct_tokens) {
    const int count = std::max(10, static_cast<int>(120 * scale));
    WorldPortal& p = w.first();
    // The manager's AUTH_ID as the page has it, or a fresh token per request.
    fakeportal::AppLaunch launch = p.portal->OpenApp("local.b24seg.robust", p.manager_id);
    std::string shared_token;
    for (const auto& [k, v] : launch.fields) {
        if (k == "AUTH_ID") {
            shared_token = v;
        }
    }
    std::vector<std::string> tokens(static_cast<std::size_t>(count), shared_token);
    if (distinct_tokens) {
        for (auto& t : tokens) {
            t = p.portal->IssueTokens("local.b24seg.robust", p.manager_id).access_token;
        }
    }
    auto before = p.portal->Counters().Method("profile").direct_calls;
    std::mutex m;
    std::map<std::string, int> statuses;
    double slowest = 0;
    Parallel(count, [&](int i) {
        Reply r = w.PostJson("/api/session/refresh",
                             json{{"authId", tokens[static_cast<std::size_t>(i)]}}.dump(), "");
        std::lock_guard lock(m);
        statuses[StatusKey(r.status)]++;
        slowest = std::max(slowest, r.ms);
    });
    auto after = p.portal->Counters().Method("profile").direct_calls;
    facts = {{"requests", count},
             {"distinctTokens", distinct_tokens},
             {"statuses", statuses},
             {"slowestMs", slowest},
             {"profileCalls", after - before}};
}

void EventBody(RobustWorld& w, json& facts) {
    WorldPortal& p = w.first();
    std::vector<std::pair<std::string, std::string>> form = {
        {"event", "ONCRMCONTACTUPDATE"},
        {"event_handler_id", "1"},
        {"data[FIELDS][ID]", "1"},
        {"data[FIELDS][PADDING]", std::string(9000, 'x')},
        {"ts", "1700000000"},
        {"auth[member_id]", p.member_id},
        {"auth[application_token]", p.application_token},
        {"auth[domain]", p.portal->domain()}};
    std::size_t size = 0;
    for (const auto& [k, v] : form) {
        size += k.size() + v.size() + 2;
    }
    Reply r = w.PostForm("/b24/events", form);
    facts = {{"bodyBytes", size}, {"status", r.status}, {"limitBytes", 256 * 1024}};
}

void SickPortal(RobustWorld& w, json& facts, double scale) {
    const int count = std::max(8, static_cast<int>(40 * scale));
    WorldPortal& p = w.first();
    fakeportal::Fault slow;
    slow.kind = fakeportal::FaultKind::kSlow;
    slow.delay_seconds = 4.0;
    p.portal->FailNext(100000, slow);
    std::mutex m;
    std::map<std::string, int> statuses;
    double slowest = 0;
    auto start = Clock::now();
    Parallel(count, [&](int i) {
        Reply r = w.OpenPage(p, i % 2 == 0 ? p.manager_id : p.admin_id);
        std::lock_guard lock(m);
        statuses[StatusKey(r.status)]++;
        slowest = std::max(slowest, r.ms);
    });
    p.portal->ClearFaults();
    facts = {{"pageLoads", count},
             {"portalDelaySeconds", 4.0},
             {"statuses", statuses},
             {"slowestMs", slowest},
             {"seconds", Since(start)}};
}

struct ProbeDef {
    std::string name;
    std::string description;
    std::function<void(RobustWorld&, json&, double)> run;
};

const std::vector<ProbeDef>& Probes() {
    static const std::vector<ProbeDef> probes = {
        {"half_requests", "300 sockets that send half a request", HalfRequests},
        {"slow_headers", "20 sockets sending one header line every 3 s", SlowHeaders},
        {"chunked_body", "a 200 MiB chunked body to a route limited to 64 KiB", ChunkedBody},
        {"gzip_body", "a 249 KB gzip body that inflates to 250 MiB", GzipBody},
        {"long_request_lines", "request lines with no newline, 3 x 300 MiB", LongRequestLines},
        {"many_headers", "200,000 headers", ManyHeaders},
        {"refresh_storm", "120 concurrent POST /api/session/refresh by one manager (one token)",
         [](RobustWorld& w, json& f, double s) { RefreshStorm(w, f, s, false); }},
        {"refresh_storm_tokens",
         "120 concurrent POST /api/session/refresh by one manager (120 fresh tokens)",
         [](RobustWorld& w, json& f, double s) { RefreshStorm(w, f, s, true); }},
        {"event_9kb", "a 9 KB event body (max_callback_body_bytes 256 KiB)",
         [](RobustWorld& w, json& f, double) { EventBody(w, f); }},
        {"sick_portal", "the first portal answers every call 4 s late; 40 page loads of it",
         SickPortal},
    };
    return probes;
}

}  // namespace

double Latencies::Percentile(double p) const {
    std::vector<double> all = ms;
    for (int i = 0; i < failed; ++i) {
        all.push_back(std::numeric_limits<double>::infinity());
    }
    if (all.empty()) {
        return std::numeric_limits<double>::infinity();
    }
    std::sort(all.begin(), all.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(all.size())));
    return all[std::clamp<std::size_t>(rank, 1, all.size()) - 1];
}

const std::vector<std::string>& ProbeNames() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& p : Probes()) {
            out.push_back(p.name);
        }
        return out;
    }();
    return names;
}

ProbeReport RunProbe(RobustWorld& world, const std::string& name, double scale) {
    const ProbeDef* def = nullptr;
    for (const auto& p : Probes()) {
        if (p.name == name) {
            def = &p;
        }
    }
    if (def == nullptr) {
        throw std::invalid_argument("no probe " + name);
    }
    ProbeReport report;
    report.name = def->name;
    report.description = def->description;
    Monitor monitor(world, report);
    auto start = Clock::now();
    monitor.Start();
    json facts;
    std::exception_ptr failure;
    std::thread attack([&] {
        try {
            def->run(world, facts, scale);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    attack.join();
    // Short attacks: keep measuring a little, so every probe has enough samples.
    while (Since(start) < 3.0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    monitor.Stop();
    report.seconds = Since(start);
    report.facts = facts;
    if (failure) {
        std::rethrow_exception(failure);
    }
    return report;
}

std::string FormatReport(const ProbeReport& r) {
    auto ms = [](double v) {
        if (std::isinf(v)) {
            return std::string("  none");
        }
        char buf[32];
        std::snprintf(buf, sizeof buf, "%6.0f", v);
        return std::string(buf);
    };
    char line[512];
    std::snprintf(line, sizeof line,
                  "%-22s %5.1fs  healthz %s/%s ms (%zu, %d failed)  page %s/%s ms (%zu, %d failed)"
                  "  api %s/%s ms (%zu, %d failed)  peak RSS %.0f MB",
                  r.name.c_str(), r.seconds, ms(r.healthz.Percentile(50)).c_str(),
                  ms(r.healthz.Percentile(99)).c_str(), r.healthz.count(), r.healthz.failed,
                  ms(r.page.Percentile(50)).c_str(), ms(r.page.Percentile(99)).c_str(),
                  r.page.count(), r.page.failed, ms(r.api.Percentile(50)).c_str(),
                  ms(r.api.Percentile(99)).c_str(), r.api.count(), r.api.failed,
                  static_cast<double>(r.peak_rss) / 1e6);
    return std::string(line) + "\n    " + r.facts.dump();
}

}  // namespace robust
