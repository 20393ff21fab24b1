// Integration tests against the test portal (fakeportal), including the Must-show tests.
// Every figure a Must-show test checks is also printed as "[ figures  ] ..." lines.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "b24client/client.hpp"
#include "b24client/curl_global.hpp"
#include "b24client/json_util.hpp"
#include "fakeportal/dataset.hpp"
#include "portal_env.hpp"

using namespace b24client;
using b24client::testing::PortalEnv;
using nlohmann::json;

namespace {

const CurlGlobal kCurl;

constexpr double kDay = 86400.0;

// Adds `n` contacts created one minute apart starting `days_ago` days before the portal's now.
void AddContacts(fakeportal::Portal& portal, int n, double days_ago = 400) {
    const auto start = static_cast<fakeportal::Time>(portal.Now() - days_ago * kDay);
    portal.BulkLoad([&](fakeportal::CrmData& d) {
        for (int i = 0; i < n; ++i) {
            fakeportal::Contact c;
            c.id = d.contacts.next_id++;
            c.name = "Name" + std::to_string(i);
            c.last_name = "Last" + std::to_string(i);
            c.date_create = start + i * 60;
            c.date_modify = c.date_create;
            d.contacts.rows.push_back(std::move(c));
        }
    });
}

std::int64_t Id(const json& row, const std::string& field) {
    return *ToInt64(row.at(field));
}

// Collects the rows of one walk and checks order and uniqueness as they arrive.
struct Collector {
    std::string id_field = "ID";
    std::vector<std::int64_t> ids;
    bool ordered = true;
    void Add(const std::vector<json>& rows) {
        for (const auto& r : rows) {
            const auto id = Id(r, id_field);
            if (!ids.empty() && id <= ids.back()) {
                ordered = false;
            }
            ids.push_back(id);
        }
    }
};

std::vector<std::int64_t> ContactIds(fakeportal::Portal& portal) {
    std::vector<std::int64_t> ids;
    portal.Read([&](const fakeportal::CrmData& d) {
        for (const auto& c : d.contacts.rows) {
            ids.push_back(c.id);
        }
    });
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace

// Must show: walking 10,000 contacts costs at most ceil(10000 / 2500) + 1 HTTP requests.
TEST(MustShow, WalkingTenThousandContactsCostsAtMostFiveRequests) {
    PortalEnv env(20.0);
    AddContacts(env.portal, 10000);
    for (const bool items : {false, true}) {
        env.portal.ResetCounters();
        Client client(env.Creds(), env.Options());
        Collector rows;
        WalkSpec spec = items ? WalkSpec::Items(3, {}, {"id", "name"})
                              : WalkSpec::Legacy("crm.contact.list", {}, {"ID", "NAME"});
        rows.id_field = spec.id_field;
        client.List(spec, [&](std::vector<json>&& r) { rows.Add(r); });
        const auto counters = env.portal.Counters();
        std::printf("[ figures  ] 10,000 contacts via %s: %lld HTTP requests (bound %d)\n",
                    spec.method.c_str(), static_cast<long long>(counters.http_requests), 5);
        EXPECT_EQ(rows.ids, ContactIds(env.portal));
        EXPECT_TRUE(rows.ordered);
        EXPECT_LE(counters.http_requests, 5);
        EXPECT_EQ(client.GetStats().http_requests,
                  static_cast<std::uint64_t>(counters.http_requests));
        EXPECT_EQ(counters.query_limit_exceeded, 0);
    }
}

// Must show: with the standard limits enforced, a run of 300 requests gets zero
// QUERY_LIMIT_EXCEEDED (three threads share the portal's limiter, as the server's clients do).
TEST(MustShow, ThreeHundredRequestsUnderStandardLimitsAreNeverRefused) {
    PortalEnv env(40.0);
    AddContacts(env.portal, 200);
    auto limiter = env.MakeLimiter();
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    const char* methods[] = {"profile", "app.info", "crm.contact.list"};
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&, t] {
            ClientOptions o = env.Options();
            o.limiter = limiter;
            Client client(env.Creds(), o);
            for (int i = 0; i < 100; ++i) {
                const auto r = client.Call(methods[t], {{"start", -1}});
                if (!r.result.is_null()) {
                    ++ok;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    const auto counters = env.portal.Counters();
    const Stats s = limiter->GetStats();
    std::printf(
        "[ figures  ] 300 requests, standard limits: %lld QUERY_LIMIT_EXCEEDED, %.1f s waited for "
        "the bucket (portal time)\n",
        static_cast<long long>(counters.query_limit_exceeded), s.bucket_wait_seconds);
    EXPECT_EQ(ok.load(), 300);
    EXPECT_EQ(counters.http_requests, 300);
    EXPECT_EQ(counters.query_limit_exceeded, 0);
    EXPECT_EQ(s.query_limit_refusals, 0u);
    EXPECT_GT(s.bucket_wait_seconds, 100.0);  // (300 - 47) / 2 per second, at least
}

// Must show: a method pushed past its operating budget pauses and finishes without error.
TEST(MustShow, MethodPushedPastItsOperatingBudgetPausesAndFinishes) {
    fakeportal::PortalOptions po;
    po.limits.operating_limit_seconds = 20;  // a small budget so that one walk exceeds it
    po.limits.operating_window_seconds = 60;
    PortalEnv env(40.0, po);
    AddContacts(env.portal, 10000);
    Client client(env.Creds(), env.Options());
    Collector rows;
    // Another method keeps working while contacts wait.
    client.List(WalkSpec::Legacy("crm.contact.list", {}, {"ID"}),
                [&](std::vector<json>&& r) { rows.Add(r); });
    const auto counters = env.portal.Counters();
    const Stats s = client.GetStats();
    const double spent = counters.Method("crm.contact.list").operating_seconds;
    std::printf(
        "[ figures  ] operating budget 20 s / 60 s: walk spent %.1f s of operating time, paused "
        "%.1f s (portal time), %lld OPERATION_TIME_LIMIT answers\n",
        spent, s.budget_wait_seconds, static_cast<long long>(counters.operation_time_limit));
    EXPECT_GT(spent, 20.0);  // the walk really needed more than one budget
    EXPECT_EQ(rows.ids, ContactIds(env.portal));
    EXPECT_TRUE(rows.ordered);
    EXPECT_GT(s.budget_wait_seconds, 0.0);
    EXPECT_EQ(counters.operation_time_limit, 0);  // it slowed down before the portal refused
    EXPECT_EQ(counters.query_limit_exceeded, 0);
}

// Refused anyway (budget already spent by someone else): waits for the reset, then finishes.
TEST(Portal, OperationLimitRefusalIsWaitedOut) {
    fakeportal::PortalOptions po;
    po.limits.operating_limit_seconds = 20;
    po.limits.operating_window_seconds = 60;
    PortalEnv env(40.0, po);
    AddContacts(env.portal, 3000);
    {
        // Another process of the app spent the budget; this client's ledger knows nothing.
        Client other(env.Creds(), env.Options());
        other.List(WalkSpec::Legacy("crm.contact.list"), [](std::vector<json>&&) {});
    }
    Client client(env.Creds(), env.Options());
    Collector rows;
    client.List(WalkSpec::Legacy("crm.contact.list"), [&](std::vector<json>&& r) { rows.Add(r); });
    EXPECT_EQ(rows.ids, ContactIds(env.portal));
    EXPECT_TRUE(rows.ordered);
}

// Must show: with faults injected (10 % HTML 500s, 5 % dropped connections) a full walk still
// returns every row exactly once.
TEST(MustShow, FaultsInjectedStillReturnEveryRowExactlyOnce) {
    PortalEnv env(40.0);
    AddContacts(env.portal, 10000);
    fakeportal::RandomFaults f;
    f.p_html500 = 0.10;
    f.p_drop_before = 0.025;
    f.p_drop_after = 0.025;
    f.seed = 20261122;
    env.portal.SetRandomFaults(f);
    for (const bool items : {false, true}) {
        Client client(env.Creds(), env.Options());
        Collector rows;
        WalkSpec spec = items ? WalkSpec::Items(3) : WalkSpec::Legacy("crm.contact.list");
        rows.id_field = spec.id_field;
        client.List(spec, [&](std::vector<json>&& r) { rows.Add(r); });
        const Stats s = client.GetStats();
        std::printf("[ figures  ] faults on %s: %llu requests, %llu transient failures, %zu rows\n",
                    spec.method.c_str(), static_cast<unsigned long long>(s.http_requests),
                    static_cast<unsigned long long>(s.transient_failures), rows.ids.size());
        EXPECT_EQ(rows.ids, ContactIds(env.portal));
        EXPECT_TRUE(rows.ordered);
        EXPECT_EQ(std::set<std::int64_t>(rows.ids.begin(), rows.ids.end()).size(), rows.ids.size());
    }
    EXPECT_GT(env.portal.Counters().faults_injected, 0);
}

// Must show: eight threads hitting an expired token cause one refresh; the rotated refresh token
// is handed to the store.
TEST(MustShow, EightThreadsOnAnExpiredTokenCauseOneRefresh) {
    PortalEnv env(1.0);
    AddContacts(env.portal, 10);
    env.portal.ExpireAccessTokens();
    std::mutex mu;
    std::vector<Credentials> stored;
    ClientOptions o = env.Options();
    o.on_tokens = [&](const Credentials& c) {
        std::lock_guard lock(mu);
        stored.push_back(c);
    };
    Client client(env.Creds(), o);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            if (client.Call("crm.contact.list", {{"select", {"ID"}}}).result.size() == 10) {
                ++ok;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const auto counters = env.portal.Counters();
    std::printf("[ figures  ] 8 threads on an expired token: %lld refresh(es)\n",
                static_cast<long long>(counters.refreshes));
    EXPECT_EQ(ok.load(), 8);
    EXPECT_EQ(counters.refreshes, 1);
    EXPECT_EQ(counters.refresh_failures, 0);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_NE(stored[0].refresh_token, env.tokens.refresh_token);
    EXPECT_NE(stored[0].access_token, env.tokens.access_token);
    EXPECT_EQ(stored[0].refresh_token, client.GetCredentials().refresh_token);
    // The stored pair is the live one: a fresh client built from it works without refreshing.
    Client again(stored[0], env.Options());
    EXPECT_EQ(again.Call("crm.contact.list").result.size(), 10u);
    EXPECT_EQ(env.portal.Counters().refreshes, 1);
}

TEST(Portal, UserTokenWithoutRefreshFailsAtOnce) {
    PortalEnv env(1.0);
    env.portal.ExpireAccessTokens();
    Client client({env.portal.endpoint(), env.tokens.access_token, ""}, env.Options(false));
    try {
        client.Call("profile");
        FAIL() << "expected kExpiredToken";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kExpiredToken);
    }
    EXPECT_EQ(env.portal.Counters().refreshes, 0);
}

TEST(Portal, EndedSubscriptionIsATypedError) {
    PortalEnv env(1.0);
    env.portal.SetSubscriptionEnded(true);
    env.portal.ExpireAccessTokens();
    Client client(env.Creds(), env.Options());
    try {
        client.Call("app.info");
        FAIL() << "expected kPaymentRequired";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kPaymentRequired);
    }
}

TEST(Portal, UninstalledAppNeedsReinstall) {
    PortalEnv env(1.0);
    env.portal.UninstallApp(testing::kClientId, false);
    env.portal.ExpireAccessTokens();
    Client client(env.Creds(), env.Options());
    try {
        client.Call("app.info");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_TRUE(e.kind() == ErrorKind::kReinstallNeeded || e.kind() == ErrorKind::kInvalidToken)
            << e.what();
    }
}

TEST(Portal, RenamedPortalIsFollowedAndReported) {
    PortalEnv env(1.0);
    AddContacts(env.portal, 120);
    const std::string old_endpoint = env.portal.endpoint();
    env.portal.Rename();
    std::vector<std::string> reported;
    ClientOptions o = env.Options();
    o.on_endpoint_changed = [&](const std::string& e) { reported.push_back(e); };
    Client client({old_endpoint, env.tokens.access_token, env.tokens.refresh_token}, o);
    Collector rows;
    client.List(WalkSpec::Legacy("crm.contact.list"), [&](std::vector<json>&& r) { rows.Add(r); });
    EXPECT_EQ(rows.ids, ContactIds(env.portal));
    ASSERT_EQ(reported.size(), 1u);
    EXPECT_EQ(reported[0], env.portal.endpoint());
    EXPECT_EQ(client.GetCredentials().endpoint, env.portal.endpoint());
}

TEST(Portal, WritesAreBatchedAndADeletedCardDoesNotFailTheRest) {
    PortalEnv env(20.0);
    AddContacts(env.portal, 60);
    Client client(env.Creds(), env.Options());
    client.Call("crm.contact.userfield.add",
                {{"fields",
                  {{"FIELD_NAME", "SEG_LIFECYCLE"},
                   {"USER_TYPE_ID", "string"},
                   {"LABEL", "Lifecycle (Clients)"}}}},
                Repeat::kUnsafe);
    ASSERT_TRUE(env.portal.Delete<fakeportal::Contact>(7));
    std::vector<Command> cmds;
    for (std::int64_t id = 1; id <= 60; ++id) {
        cmds.push_back(
            Client::MakeUpdate("crm.contact.update", id, {{"UF_CRM_SEG_LIFECYCLE", "ACTIVE"}}));
    }
    const auto out = client.Write(cmds, "b24seg_sync");
    ASSERT_EQ(out.size(), 60u);
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (i == 6) {
            ASSERT_FALSE(out[i].ok);
            EXPECT_EQ(out[i].error->kind(), ErrorKind::kNotFound) << out[i].error->what();
        } else {
            EXPECT_TRUE(out[i].ok) << i << " " << (out[i].error ? out[i].error->what() : "");
        }
    }
    EXPECT_EQ(env.portal.UfValueOf(3, 12, "UF_CRM_SEG_LIFECYCLE"), "ACTIVE");
    const auto counters = env.portal.Counters();
    EXPECT_EQ(counters.Method("batch").http_requests, 2);
    int written = 0;
    for (const auto& w : counters.writes) {
        if (w.method == "crm.contact.update") {
            ++written;
            EXPECT_EQ(w.register_history_event, "N");
            EXPECT_EQ(w.auth_connector, "b24seg_sync");
            EXPECT_TRUE(w.nested);
        }
    }
    EXPECT_EQ(written, 59);
}

TEST(Portal, FetchByIdsReturnsExactlyTheExistingRows) {
    PortalEnv env(20.0);
    AddContacts(env.portal, 3000);
    Client client(env.Creds(), env.Options());
    IdFetchSpec spec;
    spec.method = "crm.item.list";
    spec.params = {{"entityTypeId", 3}, {"select", {"id", "name"}}};
    spec.id_field = "id";
    spec.items_key = "items";
    for (std::int64_t id = 5; id <= 2995; id += 2) {
        spec.ids.push_back(id);
    }
    spec.ids.push_back(999999);  // not there
    std::vector<std::int64_t> got;
    client.FetchByIds(spec, [&](std::vector<json>&& rows) {
        for (const auto& r : rows) {
            got.push_back(Id(r, "id"));
        }
    });
    std::vector<std::int64_t> want(spec.ids.begin(), spec.ids.end() - 1);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want);
    EXPECT_EQ(env.portal.Counters().Method("batch").http_requests, 1);  // 1,497 ids: 30 calls
}

TEST(Portal, ChainsShrinkWhenPagesAreSlow) {
    fakeportal::PortalOptions po;
    po.costs.list_per_row = 0.03;  // 1.55 s per page: 50 pages would pass the 60 s cap
    PortalEnv env(40.0, po);
    AddContacts(env.portal, 4000);
    Client client(env.Creds(), env.Options());
    Collector rows;
    client.List(WalkSpec::Legacy("crm.contact.list"), [&](std::vector<json>&& r) { rows.Add(r); });
    EXPECT_EQ(rows.ids, ContactIds(env.portal));
    const auto counters = env.portal.Counters();
    EXPECT_LE(counters.request_cap_exceeded, 1);  // at most the first, blind batch
}

TEST(Portal, CancelStopsAWalkBetweenRequests) {
    PortalEnv env(20.0);
    AddContacts(env.portal, 10000);
    ClientOptions o = env.Options();
    Client client(env.Creds(), o);
    int batches = 0;
    try {
        client.List(WalkSpec::Legacy("crm.contact.list"), [&](std::vector<json>&&) {
            if (++batches == 1) {
                o.cancel.Cancel();
            }
        });
        FAIL() << "expected kCancelled";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kCancelled);
    }
    EXPECT_EQ(batches, 1);
    EXPECT_EQ(env.portal.Counters().http_requests, 1);
}

// The sync's shape: month windows of every entity type packed into shared batches; each row
// once, and requests far within 1.15 x sum(ceil(rows / 2500)).
TEST(Portal, MonthWindowsOfAllEntitiesArePackedEfficiently) {
    PortalEnv env(40.0);
    fakeportal::DatasetOptions d = fakeportal::DemoPreset();
    d.years = 4;
    const auto summary = fakeportal::GenerateDataset(env.portal, d);
    const double end = env.portal.Now() + kDay;
    const double begin = end - 4.2 * 365 * kDay;
    struct Kind {
        WalkSpec base;
        const char* from_key;
        const char* to_key;
    };
    const std::vector<Kind> kinds = {
        {WalkSpec::Items(3, {}, {"id"}), ">=createdTime", "<createdTime"},
        {WalkSpec::Items(4, {}, {"id"}), ">=createdTime", "<createdTime"},
        {WalkSpec::Items(2, {}, {"id"}), ">=createdTime", "<createdTime"},
        {WalkSpec::Items(31, {}, {"id"}), ">=createdTime", "<createdTime"},
        {WalkSpec::Legacy("crm.activity.list", {}, {"ID"}), ">=CREATED", "<CREATED"},
        {WalkSpec::Legacy("crm.requisite.list", {}, {"ID"}), ">=DATE_CREATE", "<DATE_CREATE"},
    };
    std::vector<WalkSpec> walks;
    std::vector<std::size_t> kind_of;
    for (double t = begin; t < end; t += 30 * kDay) {
        for (std::size_t k = 0; k < kinds.size(); ++k) {
            WalkSpec w = kinds[k].base;
            w.params["filter"][kinds[k].from_key] =
                env.portal.FormatTime(static_cast<fakeportal::Time>(t));
            w.params["filter"][kinds[k].to_key] =
                env.portal.FormatTime(static_cast<fakeportal::Time>(t + 30 * kDay));
            walks.push_back(std::move(w));
            kind_of.push_back(k);
        }
    }
    Client client(env.Creds(), env.Options());
    std::vector<Collector> got(walks.size());
    std::vector<int> done(walks.size(), 0);
    WalkHandlers h;
    h.on_rows = [&](std::size_t w, std::vector<json>&& rows, std::int64_t) {
        got[w].id_field = walks[w].id_field;
        got[w].Add(rows);
    };
    h.on_done = [&](std::size_t w, std::int64_t) { ++done[w]; };
    env.portal.ResetCounters();
    client.Walk(walks, h);
    std::vector<std::set<std::int64_t>> per_kind(kinds.size());
    double ideal = 0;
    for (std::size_t w = 0; w < walks.size(); ++w) {
        EXPECT_EQ(done[w], 1);
        EXPECT_TRUE(got[w].ordered);
        for (const auto id : got[w].ids) {
            EXPECT_TRUE(per_kind[kind_of[w]].insert(id).second) << "duplicate " << id;
        }
        ideal += std::ceil(static_cast<double>(got[w].ids.size()) / 2500.0);
    }
    EXPECT_EQ(per_kind[0].size(), summary.contacts);
    EXPECT_EQ(per_kind[1].size(), summary.companies);
    EXPECT_EQ(per_kind[2].size(), summary.deals);
    EXPECT_EQ(per_kind[3].size(), summary.invoices);
    EXPECT_EQ(per_kind[4].size(), summary.activities);
    EXPECT_EQ(per_kind[5].size(), summary.requisites);
    const auto counters = env.portal.Counters();
    std::printf("[ figures  ] %zu month walks: %lld requests, sum ceil(rows/2500) = %.0f\n",
                walks.size(), static_cast<long long>(counters.http_requests), ideal);
    EXPECT_LE(static_cast<double>(counters.http_requests), 1.15 * ideal);
    EXPECT_EQ(counters.query_limit_exceeded, 0);
    EXPECT_EQ(counters.operation_time_limit, 0);
}
