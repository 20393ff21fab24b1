// We call only Bitrix24: endpoints that are not https (plain http only with allow_http) are
// refused wherever they come from (the start, a rename redirect, a refresh answer), answers are
// capped with a typed error, and the RefreshCoordinator seam lets the owner of a token store adopt
// or persist pairs. Against canned servers on 127.0.0.1 (one of them TLS, with a certificate made
// at run time).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "b24client/client.hpp"
#include "b24client/curl_global.hpp"
#include "b24client/oauth.hpp"
#include "support/temp_dir.hpp"
#include "test_clock.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

using namespace b24client;
using b24client::testing::ManualClock;
using nlohmann::json;

namespace {

const CurlGlobal kCurl;

// A plain or TLS httplib server on a port picked at run time, stopped through its own handle.
template <class ServerType>
class Canned {
public:
    template <class... Args>
    explicit Canned(Args&&... args) : server_(std::forward<Args>(args)...) {
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
    }
    ~Canned() {
        server_.stop();
        thread_.join();
    }
    ServerType& server() { return server_; }
    int port() const { return port_; }

private:
    ServerType server_;
    int port_ = 0;
    std::thread thread_;
};

using PlainServer = Canned<httplib::Server>;
using TlsServer = Canned<httplib::SSLServer>;

std::string PlainBase(const PlainServer& s) {
    return "http://127.0.0.1:" + std::to_string(s.port());
}
std::string TlsBase(const TlsServer& s) {
    return "https://127.0.0.1:" + std::to_string(s.port());
}

// A self-signed certificate and key for 127.0.0.1, written as PEM files into `dir`.
void MakeCertificate(const support::TempDir& dir) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    ASSERT_NE(key, nullptr);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
    FILE* c = std::fopen(dir.File("cert.pem").c_str(), "w");
    FILE* k = std::fopen(dir.File("key.pem").c_str(), "w");
    ASSERT_TRUE(c != nullptr && k != nullptr);
    PEM_write_X509(c, cert);
    PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(c);
    std::fclose(k);
    X509_free(cert);
    EVP_PKEY_free(key);
}

void Reply(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

json Ok(json result) {
    return json{{"result", std::move(result)}, {"time", {{"duration", 0.01}}}};
}

ClientOptions Opts(bool allow_http) {
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o;
    o.clock = clock;
    o.limiter = std::make_shared<PortalLimiter>(LimitPlan::Standard(), clock);
    o.allow_http = allow_http;
    o.verify_tls = false;  // the test certificate is self-signed
    return o;
}

ErrorKind KindOf(const std::function<void()>& call) {
    try {
        call();
    } catch (const Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << "expected a b24client::Error";
    return ErrorKind::kApi;
}

}  // namespace

TEST(Endpoints, OnlyHttpsUnlessPlainHttpIsAllowed) {
    EXPECT_TRUE(IsAcceptableEndpoint("https://x.bitrix24.ru/rest/", false));
    EXPECT_FALSE(IsAcceptableEndpoint("http://x.bitrix24.ru/rest/", false));
    EXPECT_TRUE(IsAcceptableEndpoint("http://127.0.0.1:8080/rest/", true));
    for (const char* bad : {"gopher://x/rest/", "file:///etc/passwd", "ftp://x/rest/", "https://",
                            "https:///rest/", "https://user@evil/rest/", "HTTPS://x/rest/",
                            "https://x y/rest/", "javascript:alert(1)", ""}) {
        EXPECT_FALSE(IsAcceptableEndpoint(bad, true)) << bad;
    }
}

TEST(Endpoints, NothingIsSentToAPlainHttpEndpointWithoutTheSwitch) {
    PlainServer portal;
    std::atomic<int> hits{0};
    portal.server().Post(R"(/rest/(.+))", [&](const httplib::Request&, httplib::Response& res) {
        ++hits;
        Reply(res, 200, Ok(true));
    });
    Client client({PlainBase(portal) + "/rest/", "secret-token", ""}, Opts(false));
    EXPECT_EQ(KindOf([&] { client.Call("app.info"); }), ErrorKind::kUntrustedEndpoint);
    EXPECT_EQ(hits.load(), 0);
}

TEST(Endpoints, ARenameRedirectToPlainHttpOrGopherIsRefused) {
    support::TempDir dir("b24client-tls");
    MakeCertificate(dir);
    TlsServer portal(dir.File("cert.pem").c_str(), dir.File("key.pem").c_str());
    ASSERT_TRUE(portal.server().is_valid());
    PlainServer elsewhere;
    std::atomic<int> elsewhere_hits{0};
    elsewhere.server().Post(R"(/rest/(.+))", [&](const httplib::Request&, httplib::Response& res) {
        ++elsewhere_hits;
        Reply(res, 200, Ok(true));
    });
    std::mutex mu;
    std::string location;
    std::atomic<int> portal_hits{0};
    portal.server().Post(R"(/rest/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
        ++portal_hits;
        std::lock_guard lock(mu);
        if (location.empty()) {
            Reply(res, 200, Ok({{"ID", "1"}, {"path", req.path}}));
            return;
        }
        res.status = 302;
        res.set_header("Location", location);
    });
    ClientOptions o = Opts(false);
    std::vector<std::string> reported;
    o.on_endpoint_changed = [&](const std::string& e) { reported.push_back(e); };
    const std::string start = TlsBase(portal) + "/rest/";
    Client client({start, "secret-token", ""}, o);
    // The https portal answers over TLS.
    EXPECT_EQ(client.Call("profile").result["ID"], "1");

    for (const std::string& target : {PlainBase(elsewhere) + "/rest/app.info",
                                      std::string("gopher://127.0.0.1:70/rest/app.info")}) {
        {
            std::lock_guard lock(mu);
            location = target;
        }
        EXPECT_EQ(KindOf([&] { client.Call("app.info"); }), ErrorKind::kUntrustedEndpoint)
            << target;
        EXPECT_EQ(client.GetCredentials().endpoint, start) << target;
    }
    EXPECT_EQ(elsewhere_hits.load(), 0);
    EXPECT_TRUE(reported.empty());

    // gopher:// is refused even where plain http is allowed.
    PlainServer plain_portal;
    plain_portal.server().Post(R"(/rest/(.+))",
                               [&](const httplib::Request&, httplib::Response& res) {
                                   res.status = 301;
                                   res.set_header("Location", "gopher://127.0.0.1:70/rest/x");
                               });
    Client lenient({PlainBase(plain_portal) + "/rest/", "secret-token", ""}, Opts(true));
    EXPECT_EQ(KindOf([&] { lenient.Call("app.info"); }), ErrorKind::kUntrustedEndpoint);
}

TEST(Endpoints, ARefreshAnswerNamingAnEndpointThatIsNotHttpsIsRefused) {
    PlainServer oauth;
    std::mutex mu;
    std::string endpoint;
    oauth.server().Get("/oauth/token/", [&](const httplib::Request&, httplib::Response& res) {
        std::lock_guard lock(mu);
        Reply(res, 200,
              {{"access_token", "new-access"},
               {"refresh_token", "new-refresh"},
               {"expires", 1999999999},
               {"expires_in", 3600},
               {"member_id", "m1"},
               {"client_endpoint", endpoint}});
    });
    // The token URL is configuration (a plain-http test cloud is allowed as such); what its
    // answers name is held to the rules.
    AuthServer strict(OAuthApp{"id", "secret", PlainBase(oauth) + "/oauth/token/"});
    AuthServerOptions lenient_options;
    lenient_options.allow_http = true;
    AuthServer lenient(OAuthApp{"id", "secret", PlainBase(oauth) + "/oauth/token/"},
                       lenient_options);
    auto refresh = [&](const AuthServer& server, const std::string& named) {
        {
            std::lock_guard lock(mu);
            endpoint = named;
        }
        return KindOf([&] { server.Refresh("old-refresh"); });
    };
    EXPECT_EQ(refresh(strict, "http://127.0.0.1:1/rest/"), ErrorKind::kUntrustedEndpoint);
    EXPECT_EQ(refresh(strict, "gopher://127.0.0.1:1/rest/"), ErrorKind::kUntrustedEndpoint);
    EXPECT_EQ(refresh(lenient, "gopher://127.0.0.1:1/rest/"), ErrorKind::kUntrustedEndpoint);
    {
        std::lock_guard lock(mu);
        endpoint = "https://x.bitrix24.ru/rest";
    }
    TokenGrant grant = strict.Refresh("old-refresh");
    EXPECT_EQ(grant.client_endpoint, "https://x.bitrix24.ru/rest/");
    EXPECT_EQ(grant.expires_at, 1999999999);  // the server's own expiry, not now + 3600
    EXPECT_EQ(grant.refresh_token, "new-refresh");
}

TEST(AnswerCap, A100MiBAnswerIsCutOffWithATypedErrorAndNotRetried) {
    PlainServer portal;
    std::atomic<int> hits{0};
    constexpr std::size_t kTotal = 100u * 1024u * 1024u;
    portal.server().Post(R"(/rest/(.+))", [&](const httplib::Request&, httplib::Response& res) {
        ++hits;
        // Streamed without a Content-Length (chunked), so only the running count can stop it.
        auto sent = std::make_shared<std::size_t>(0);
        res.set_chunked_content_provider("application/json",
                                         [sent](std::size_t, httplib::DataSink& sink) {
                                             static const std::string block(1u << 20, ' ');
                                             if (*sent >= kTotal) {
                                                 sink.done();
                                                 return true;
                                             }
                                             *sent += block.size();
                                             return sink.write(block.data(), block.size());
                                         });
    });
    Client client({PlainBase(portal) + "/rest/", "tok", ""}, Opts(true));
    try {
        client.Call("crm.contact.list");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kAnswerTooLarge);
        EXPECT_NE(std::string(e.what()).find("67108864 bytes"), std::string::npos) << e.what();
    }
    EXPECT_EQ(hits.load(), 1);  // a final failure: no retry downloads it again
}

TEST(AnswerCap, ADeclaredLengthAboveTheCapEndsTheTransferAtOnce) {
    PlainServer portal;
    portal.server().Post(R"(/rest/(.+))", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(2u << 20, ' '), "application/json");
    });
    ClientOptions o = Opts(true);
    o.max_answer_bytes = 1u << 20;
    Client client({PlainBase(portal) + "/rest/", "tok", ""}, o);
    EXPECT_EQ(KindOf([&] { client.Call("crm.contact.list"); }), ErrorKind::kAnswerTooLarge);
}

namespace {

// A coordinator that records what it was asked and answers from a script.
class ScriptedCoordinator : public RefreshCoordinator {
public:
    std::function<Credentials(const Credentials&,
                              const std::function<Credentials(const Credentials&)>&)>
        answer;
    std::atomic<int> calls{0};
    Credentials Refresh(const Credentials& held,
                        const std::function<Credentials(const Credentials&)>& trade) override {
        ++calls;
        return answer(held, trade);
    }
};

}  // namespace

TEST(Coordinator, APairStoredElsewhereIsAdoptedWithoutARefresh) {
    PlainServer portal;
    PlainServer oauth;
    std::atomic<int> trades{0};
    portal.server().Post("/rest/app.info",
                         [&](const httplib::Request& req, httplib::Response& res) {
                             if (json::parse(req.body)["auth"] == "adopted-access") {
                                 Reply(res, 200, Ok(true));
                             } else {
                                 Reply(res, 401, {{"error", "expired_token"}});
                             }
                         });
    oauth.server().Get("/oauth/token/", [&](const httplib::Request&, httplib::Response& res) {
        ++trades;
        Reply(res, 400, {{"error", "invalid_grant"}});
    });
    auto coordinator = std::make_shared<ScriptedCoordinator>();
    coordinator->answer = [&](const Credentials& held, const auto&) {
        EXPECT_EQ(held.access_token, "old-access");
        return Credentials{held.endpoint, "adopted-access", "adopted-refresh", 1999999999};
    };
    ClientOptions o = Opts(true);
    o.oauth = OAuthApp{"id", "secret", PlainBase(oauth) + "/oauth/token/"};
    std::vector<Credentials> told;
    o.on_tokens = [&](const Credentials& c) { told.push_back(c); };
    auto store = std::make_shared<TokenStore>(
        Credentials{PlainBase(portal) + "/rest/", "old-access", "old-refresh"}, coordinator);
    Client client(store, o);
    EXPECT_EQ(client.Call("app.info").result, true);
    EXPECT_EQ(coordinator->calls.load(), 1);
    EXPECT_EQ(trades.load(), 0);
    EXPECT_EQ(store->Get().refresh_token, "adopted-refresh");
    EXPECT_EQ(store->Get().access_expires_at, 1999999999);
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].access_token, "adopted-access");
}

TEST(Coordinator, TheTradeItIsGivenCarriesTheServersExpiry) {
    PlainServer portal;
    PlainServer oauth;
    portal.server().Post("/rest/app.info",
                         [&](const httplib::Request& req, httplib::Response& res) {
                             if (json::parse(req.body)["auth"] == "new-access") {
                                 Reply(res, 200, Ok(true));
                             } else {
                                 Reply(res, 401, {{"error", "expired_token"}});
                             }
                         });
    oauth.server().Get("/oauth/token/", [&](const httplib::Request& req, httplib::Response& res) {
        EXPECT_EQ(req.get_param_value("refresh_token"), "stored-refresh");
        Reply(res, 200,
              {{"access_token", "new-access"},
               {"refresh_token", "new-refresh"},
               {"expires", 1888888888},
               {"expires_in", 3600}});
    });
    auto coordinator = std::make_shared<ScriptedCoordinator>();
    Credentials persisted;
    coordinator->answer = [&](const Credentials& held, const auto& trade) {
        // What the server does: trade the freshest stored pair, store the result, hand it back.
        Credentials stored = held;
        stored.refresh_token = "stored-refresh";
        persisted = trade(stored);
        return persisted;
    };
    ClientOptions o = Opts(true);
    o.oauth = OAuthApp{"id", "secret", PlainBase(oauth) + "/oauth/token/"};
    auto store = std::make_shared<TokenStore>(
        Credentials{PlainBase(portal) + "/rest/", "old-access", "old-refresh"}, coordinator);
    Client client(store, o);
    EXPECT_EQ(client.Call("app.info").result, true);
    EXPECT_EQ(persisted.access_token, "new-access");
    EXPECT_EQ(persisted.refresh_token, "new-refresh");
    EXPECT_EQ(persisted.access_expires_at, 1888888888);
    EXPECT_EQ(store->Get().access_token, "new-access");
}
