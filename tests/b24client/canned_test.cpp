// Client behaviour against small canned HTTP servers on 127.0.0.1 (no test portal needed).
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "b24client/client.hpp"
#include "b24client/curl_global.hpp"
#include "test_clock.hpp"

using namespace b24client;
using b24client::testing::ManualClock;
using nlohmann::json;

namespace {

const CurlGlobal kCurl;

// One httplib server on a port picked at run time, stopped through its own handle.
class CannedServer {
public:
    CannedServer() {
        server_.set_tcp_nodelay(true);
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
    }
    ~CannedServer() {
        server_.stop();
        thread_.join();
    }
    httplib::Server& server() { return server_; }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::string endpoint() const { return base() + "/rest/"; }

private:
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
};

void Reply(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

json Ok(json result) {
    return json{{"result", std::move(result)},
                {"time", {{"start", 1.0}, {"finish", 1.1}, {"duration", 0.1}, {"operating", 0.1}}}};
}

ClientOptions Opts(const std::shared_ptr<Clock>& clock) {
    ClientOptions o;
    o.clock = clock;
    o.limiter = std::make_shared<PortalLimiter>(LimitPlan::Standard(), clock);
    o.allow_http = true;  // the canned servers are plain http on loopback
    return o;
}

}  // namespace

TEST(Canned, CallPostsJsonWithTheTokenInTheBodyAndParsesTheEnvelope) {
    CannedServer srv;
    std::mutex mu;
    json seen;
    std::string path, ctype;
    srv.server().Post(R"(/rest/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mu);
        seen = json::parse(req.body);
        path = req.path + (req.params.empty() ? "" : "?");
        ctype = req.get_header_value("Content-Type");
        res.status = 200;
        res.set_content(R"({"result":[{"ID":"7","NAME":"A"}],"total":"1","next":50,
            "time":{"duration":0.2,"operating":3.5,"operating_reset_at":"1999999999"}})",
                        "application/json");
    });
    auto clock = std::make_shared<ManualClock>();
    Client client({srv.endpoint(), "tok-secret", ""}, Opts(clock));
    const Response r = client.Call("crm.contact.list", {{"filter", {{">ID", 0}}}});
    EXPECT_EQ(path, "/rest/crm.contact.list");
    EXPECT_EQ(ctype, "application/json");
    EXPECT_EQ(seen["auth"], "tok-secret");
    EXPECT_EQ(seen["filter"][">ID"], 0);
    ASSERT_TRUE(r.result.is_array());
    EXPECT_EQ(r.result[0]["ID"], "7");
    EXPECT_EQ(r.total, 1);
    EXPECT_EQ(r.next, 50);
    const Stats s = client.GetStats();
    EXPECT_EQ(s.http_requests, 1u);
    EXPECT_EQ(s.methods.at("crm.contact.list").http_requests, 1u);
    EXPECT_DOUBLE_EQ(s.methods.at("crm.contact.list").operating_seconds, 0.2);
    EXPECT_NEAR(client.limiter()->EstimatedOperating("crm.contact.list"), 3.5, 1e-9);
    EXPECT_EQ(client.limiter()->GetStats().http_requests, 1u);
}

TEST(Canned, EightThreadsOnAnExpiredTokenCauseOneRefresh) {
    CannedServer portal;
    CannedServer oauth;
    std::atomic<int> refreshes{0};
    std::atomic<int> expired_answers{0};
    std::string refresh_query;
    std::mutex mu;
    portal.server().Post("/rest/profile", [&](const httplib::Request& req, httplib::Response& res) {
        const json body = json::parse(req.body);
        if (body["auth"] == "new-access") {
            Reply(res, 200, Ok({{"ID", "1"}}));
        } else {
            ++expired_answers;
            Reply(res, 401,
                  {{"error", "expired_token"},
                   {"error_description", "The access token provided has expired."}});
        }
    });
    oauth.server().Get("/oauth/token/", [&](const httplib::Request& req, httplib::Response& res) {
        ++refreshes;
        {
            std::lock_guard lock(mu);
            refresh_query = req.get_param_value("grant_type") + "|" +
                            req.get_param_value("client_id") + "|" +
                            req.get_param_value("refresh_token");
        }
        // Slow enough that the other threads pile up behind the single flight.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        Reply(res, 200,
              {{"access_token", "new-access"},
               {"refresh_token", "rotated-refresh"},
               {"expires_in", 3600},
               {"client_endpoint", portal.endpoint()}});
    });
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o = Opts(clock);
    o.oauth = OAuthApp{"app.id", "app-secret", oauth.base() + "/oauth/token/"};
    std::vector<Credentials> stored;
    o.on_tokens = [&](const Credentials& c) {
        std::lock_guard lock(mu);
        stored.push_back(c);
    };
    Client client({portal.endpoint(), "old-access", "old-refresh"}, o);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            if (client.Call("profile").result["ID"] == "1") {
                ++ok;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 8);
    EXPECT_EQ(refreshes.load(), 1);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].access_token, "new-access");
    EXPECT_EQ(stored[0].refresh_token, "rotated-refresh");
    EXPECT_EQ(refresh_query, "refresh_token|app.id|old-refresh");
    EXPECT_EQ(client.GetCredentials().refresh_token, "rotated-refresh");
    EXPECT_EQ(client.GetStats().refreshes, 1u);
    EXPECT_GE(expired_answers.load(), 1);
}

TEST(Canned, UserTokenClientSurfacesExpiredTokenAtOnce) {
    CannedServer portal;
    std::atomic<int> hits{0};
    portal.server().Post("/rest/profile", [&](const httplib::Request&, httplib::Response& res) {
        ++hits;
        Reply(res, 401, {{"error", "expired_token"}, {"error_description", "expired"}});
    });
    auto clock = std::make_shared<ManualClock>();
    Client client({portal.endpoint(), "user-access", ""}, Opts(clock));
    try {
        client.Call("profile");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kExpiredToken);
    }
    EXPECT_EQ(hits.load(), 1);
}

TEST(Canned, AUserWhoMayNotWaitLongGetsWaitTooLongAndNothingIsSent) {
    CannedServer portal;
    std::atomic<int> hits{0};
    portal.server().Post("/rest/profile", [&](const httplib::Request&, httplib::Response& res) {
        ++hits;
        Reply(res, 200, {{"result", {{"ID", "1"}}}});
    });
    auto clock = std::make_shared<ManualClock>();
    auto limiter = std::make_shared<PortalLimiter>(LimitPlan::Standard(), clock);
    limiter->OnQueryLimitExceeded();  // the bucket is full: the next slot is 2 s away
    ClientOptions o = Opts(clock);
    o.limiter = limiter;
    o.max_wait_s = 1.0;
    Client client({portal.endpoint(), "user-access", ""}, o);
    const double t0 = clock->Now();
    try {
        client.Call("profile");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kWaitTooLong);
    }
    EXPECT_EQ(hits.load(), 0);
    EXPECT_DOUBLE_EQ(clock->Now(), t0);  // it did not wait at all
    // Without the option the same call waits for its slot and goes through.
    ClientOptions patient = Opts(clock);
    patient.limiter = limiter;
    Client background({portal.endpoint(), "user-access", ""}, patient);
    EXPECT_EQ(background.Call("profile").result["ID"], "1");
    EXPECT_EQ(hits.load(), 1);
    EXPECT_GE(clock->Now() - t0, 1.9);
}

namespace {
ErrorKind RefreshFailure(const json& oauth_answer, int status) {
    CannedServer portal;
    CannedServer oauth;
    std::atomic<int> hits{0};
    portal.server().Post("/rest/app.info", [&](const httplib::Request&, httplib::Response& res) {
        ++hits;
        Reply(res, 401, {{"error", "expired_token"}});
    });
    oauth.server().Get("/oauth/token/", [&](const httplib::Request&, httplib::Response& res) {
        Reply(res, status, oauth_answer);
    });
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o = Opts(clock);
    o.oauth = OAuthApp{"id", "secret", oauth.base() + "/oauth/token/"};
    bool stored = false;
    o.on_tokens = [&](const Credentials&) { stored = true; };
    Client client({portal.endpoint(), "a", "r"}, o);
    ErrorKind kind = ErrorKind::kApi;
    for (int i = 0; i < 2; ++i) {  // the second call does not ask the OAuth server again
        try {
            client.Call("app.info");
            ADD_FAILURE() << "expected an error";
        } catch (const Error& e) {
            kind = e.kind();
        }
    }
    EXPECT_FALSE(stored);
    EXPECT_EQ(client.GetStats().refreshes, 1u);
    EXPECT_EQ(hits.load(), 2);
    return kind;
}
}  // namespace

TEST(Canned, DeadRefreshTokenMeansReinstall) {
    EXPECT_EQ(RefreshFailure({{"error", "invalid_grant"}, {"error_description", "bad"}}, 400),
              ErrorKind::kReinstallNeeded);
}

TEST(Canned, EndedSubscriptionIsTyped) {
    EXPECT_EQ(RefreshFailure({{"error", "PAYMENT_REQUIRED"}}, 402), ErrorKind::kPaymentRequired);
}

TEST(Canned, RenamedPortalIsFollowedWithAPostAndReported) {
    CannedServer old_host;
    CannedServer new_host;
    std::string new_method;
    json new_body;
    old_host.server().Post(R"(/rest/(.+))",
                           [&](const httplib::Request& req, httplib::Response& res) {
                               res.status = 302;
                               res.set_header("Location", new_host.base() + req.path);
                           });
    new_host.server().Post(R"(/rest/(.+))",
                           [&](const httplib::Request& req, httplib::Response& res) {
                               new_method = req.method;
                               new_body = json::parse(req.body);
                               Reply(res, 200, Ok(true));
                           });
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o = Opts(clock);
    std::vector<std::string> reported;
    o.on_endpoint_changed = [&](const std::string& e) { reported.push_back(e); };
    Client client({old_host.endpoint(), "tok", ""}, o);
    EXPECT_EQ(client.Call("crm.contact.update", {{"id", 5}, {"fields", {{"NAME", "x"}}}}).result,
              true);
    EXPECT_EQ(new_method, "POST");
    EXPECT_EQ(new_body["id"], 5);
    EXPECT_EQ(new_body["fields"]["NAME"], "x");
    ASSERT_EQ(reported.size(), 1u);
    EXPECT_EQ(reported[0], new_host.endpoint());
    EXPECT_EQ(client.GetCredentials().endpoint, new_host.endpoint());
    // Later calls go straight to the new host.
    client.Call("app.info");
    EXPECT_EQ(reported.size(), 1u);
    EXPECT_EQ(client.GetStats().redirects, 1u);
}

TEST(Canned, HtmlErrorsAreRetriedForReadsButNotForAdds) {
    CannedServer portal;
    std::atomic<int> list_hits{0};
    std::atomic<int> add_hits{0};
    portal.server().Post(
        "/rest/crm.contact.list", [&](const httplib::Request&, httplib::Response& res) {
            if (++list_hits <= 2) {
                res.status = 500;
                res.set_content("<html><body>Internal error</body></html>", "text/html");
                return;
            }
            Reply(res, 200, Ok(json::array()));
        });
    portal.server().Post("/rest/crm.contact.add",
                         [&](const httplib::Request&, httplib::Response& res) {
                             ++add_hits;
                             res.status = 502;
                             res.set_content("<html>Bad gateway</html>", "text/html");
                         });
    auto clock = std::make_shared<ManualClock>();
    Client client({portal.endpoint(), "tok", ""}, Opts(clock));
    EXPECT_TRUE(client.Call("crm.contact.list").result.is_array());
    EXPECT_EQ(list_hits.load(), 3);
    EXPECT_EQ(client.GetStats().retries, 2u);
    EXPECT_GT(client.GetStats().backoff_wait_seconds, 0.0);
    try {
        client.Call("crm.contact.add", {{"fields", {{"NAME", "x"}}}});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kServerError);
        EXPECT_EQ(e.method(), "crm.contact.add");
        EXPECT_EQ(e.http_status(), 502);
    }
    EXPECT_EQ(add_hits.load(), 1);
}

TEST(Canned, TransientFailuresEndAfterTheAttemptLimit) {
    CannedServer portal;
    std::atomic<int> hits{0};
    portal.server().Post(
        "/rest/crm.deal.list", [&](const httplib::Request&, httplib::Response& res) {
            ++hits;
            res.status = 200;
            res.set_content("{\"result\": [", "application/json");  // truncated JSON
        });
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o = Opts(clock);
    o.retry.max_transient_attempts = 4;
    Client client({portal.endpoint(), "tok", ""}, o);
    try {
        client.Call("crm.deal.list");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kBadResponse);
    }
    EXPECT_EQ(hits.load(), 4);
}

TEST(Canned, DroppedConnectionsAreTransportErrors) {
    int port = 0;
    {
        CannedServer gone;  // bound and stopped: nothing listens on the port any more
        port = std::stoi(gone.base().substr(gone.base().rfind(':') + 1));
    }
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o = Opts(clock);
    o.retry.max_transient_attempts = 2;
    Client client({"http://127.0.0.1:" + std::to_string(port) + "/rest/", "tok", ""}, o);
    try {
        client.Call("app.info");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kTransport);
        EXPECT_EQ(e.method(), "app.info");
    }
    EXPECT_EQ(client.GetStats().transient_failures, 2u);
}

TEST(Canned, QueryLimitIsWaitedOutNotFailed) {
    CannedServer portal;
    std::atomic<int> hits{0};
    portal.server().Post("/rest/app.info", [&](const httplib::Request&, httplib::Response& res) {
        if (++hits == 1) {
            Reply(res, 503, {{"error", "QUERY_LIMIT_EXCEEDED"}, {"error_description", "Too many"}});
            return;
        }
        Reply(res, 200, Ok({{"LICENSE_FAMILY", "std"}}));
    });
    auto clock = std::make_shared<ManualClock>();
    const double t0 = clock->Now();
    Client client({portal.endpoint(), "tok", ""}, Opts(clock));
    EXPECT_EQ(client.Call("app.info").result["LICENSE_FAMILY"], "std");
    EXPECT_EQ(client.GetStats().query_limit_refusals, 1u);
    EXPECT_GT(clock->Now() - t0, 1.0);  // waited for the bucket to drain
    EXPECT_GT(client.GetStats().bucket_wait_seconds, 1.0);
}

TEST(Canned, BatchRetriesOnlyTheFailedCommands) {
    CannedServer portal;
    std::vector<json> batches;
    std::mutex mu;
    portal.server().Post("/rest/batch", [&](const httplib::Request& req, httplib::Response& res) {
        const json body = json::parse(req.body);
        std::lock_guard lock(mu);
        batches.push_back(body);
        json result = json::object(), errors = json::object(), times = json::object();
        for (const auto& [key, cmd] : body["cmd"].items()) {
            times[key] = {{"duration", 0.3}, {"operating", 1.0}};
            if (key == "upd2") {
                errors[key] = {{"error", ""}, {"error_description", "Not found"}};
            } else if (key == "upd1" && batches.size() == 1) {
                errors[key] = {
                    {"error", "OPERATION_TIME_LIMIT"},
                    {"error_description", "Method is blocked due to operation time limit."}};
            } else {
                result[key] = true;
            }
        }
        Reply(res, 200,
              {{"result",
                {{"result", result.empty() ? json::array() : result},
                 {"result_error", errors.empty() ? json::array() : errors},
                 {"result_total", json::array()},
                 {"result_next", json::array()},
                 {"result_time", times}}}});
    });
    auto clock = std::make_shared<ManualClock>();
    Client client({portal.endpoint(), "tok", ""}, Opts(clock));
    std::vector<Command> cmds;
    for (int i = 0; i < 3; ++i) {
        Command c = Client::MakeUpdate("crm.contact.update", 10 + i, {{"UF_CRM_SEG", "ACTIVE"}});
        c.key = "upd" + std::to_string(i);
        cmds.push_back(c);
    }
    const auto out = client.Write(cmds, "b24seg");
    ASSERT_EQ(out.size(), 3u);
    EXPECT_TRUE(out[0].ok);
    EXPECT_TRUE(out[1].ok);
    ASSERT_FALSE(out[2].ok);
    EXPECT_EQ(out[2].error->kind(), ErrorKind::kNotFound);
    EXPECT_EQ(out[2].error->method(), "crm.contact.update");
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0]["cmd"].size(), 3u);
    EXPECT_EQ(batches[0]["halt"], 0);
    ASSERT_EQ(batches[1]["cmd"].size(), 1u);
    EXPECT_TRUE(batches[1]["cmd"].contains("upd1"));
    const std::string cmd0 = batches[0]["cmd"]["upd0"];
    EXPECT_EQ(cmd0.rfind("crm.contact.update?", 0), 0u);
    EXPECT_NE(cmd0.find("params[REGISTER_HISTORY_EVENT]=N"), std::string::npos);
    EXPECT_NE(cmd0.find("auth_connector=b24seg"), std::string::npos);
    EXPECT_NE(cmd0.find("fields[UF_CRM_SEG]=ACTIVE"), std::string::npos);
    EXPECT_NE(cmd0.find("id=10"), std::string::npos);
    const Stats s = client.GetStats();
    EXPECT_EQ(s.methods.at("batch").http_requests, 2u);
    EXPECT_EQ(s.methods.at("crm.contact.update").nested_calls, 4u);
    EXPECT_EQ(s.operation_limit_refusals, 1u);
}

TEST(Canned, CancelledClientSendsNothing) {
    CannedServer portal;
    std::atomic<int> hits{0};
    portal.server().Post(R"(/rest/(.+))", [&](const httplib::Request&, httplib::Response& res) {
        ++hits;
        Reply(res, 200, Ok(true));
    });
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o = Opts(clock);
    Client client({portal.endpoint(), "tok", ""}, o);
    client.Call("app.info");
    o.cancel.Cancel();  // copies share the flag
    try {
        client.Call("app.info");
        FAIL() << "expected kCancelled";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCancelled);
    }
    EXPECT_EQ(hits.load(), 1);
}

TEST(Canned, SecretsNeverReachTheLog) {
    std::ostringstream log;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(logger);

    CannedServer portal;
    CannedServer oauth;
    std::atomic<int> hits{0};
    portal.server().Post(R"(/rest/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
        const json body = json::parse(req.body);
        if (body["auth"] != "ACCESS-2") {
            Reply(res, 401, {{"error", "expired_token"}});
        } else if (++hits == 1) {
            res.status = 500;
            res.set_content("<html>oops</html>", "text/html");
        } else {
            Reply(res, 200, Ok(true));
        }
    });
    oauth.server().Get("/oauth/token/", [&](const httplib::Request&, httplib::Response& res) {
        Reply(res, 200, {{"access_token", "ACCESS-2"}, {"refresh_token", "REFRESH-2"}});
    });
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o = Opts(clock);
    o.oauth = OAuthApp{"client", "CLIENT-SECRET", oauth.base() + "/oauth/token/"};
    Client client({portal.endpoint(), "ACCESS-1", "REFRESH-1"}, o);
    client.Call("crm.contact.list");
    spdlog::set_default_logger(previous);
    const std::string text = log.str();
    EXPECT_NE(text.find("refreshed"), std::string::npos);  // the log did capture something
    for (const char* secret : {"ACCESS-1", "ACCESS-2", "REFRESH-1", "REFRESH-2", "CLIENT-SECRET"}) {
        EXPECT_EQ(text.find(secret), std::string::npos) << secret;
    }
}

TEST(Canned, WritesRespectTheMethodsOperatingAllowance) {
    CannedServer portal;
    std::vector<std::size_t> sizes;
    std::mutex mu;
    portal.server().Post("/rest/batch", [&](const httplib::Request& req, httplib::Response& res) {
        const json body = json::parse(req.body);
        json result = json::object(), times = json::object();
        for (const auto& [key, cmd] : body["cmd"].items()) {
            result[key] = true;
            times[key] = {{"duration", 2.0}};
        }
        {
            std::lock_guard lock(mu);
            sizes.push_back(body["cmd"].size());
        }
        Reply(res, 200, {{"result", {{"result", result}, {"result_time", times}}}});
    });
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o = Opts(clock);
    LimitPlan plan;
    plan.operating_limit_s = 30;
    plan.operating_margin_s = 0;
    plan.operating_window_s = 100;
    o.limiter = std::make_shared<PortalLimiter>(plan, clock);
    o.limiter->NoteMinimumCallCost("crm.company.update", 2.0);
    Client client({portal.endpoint(), "tok", ""}, o);
    std::vector<Command> cmds;
    for (int i = 0; i < 20; ++i) {
        cmds.push_back(Client::MakeUpdate("crm.company.update", i + 1, {{"UF_CRM_X", "1"}}));
    }
    const auto out = client.Write(cmds);
    for (const auto& r : out) {
        EXPECT_TRUE(r.ok);
    }
    // 30 s of budget at 2 s a call: at most 15 calls per window; the time budget (20 s) caps a
    // batch at 10 calls. After the first 10 only 5 fit the window, but the remaining 10 fit a
    // fresh one: the client waits for it rather than spending a request on 5 and another on 5.
    ASSERT_EQ(sizes.size(), 2u);
    EXPECT_EQ(sizes[0], 10u);
    EXPECT_EQ(sizes[1], 10u);
    EXPECT_GT(client.GetStats().budget_wait_seconds, 0.0);
}
