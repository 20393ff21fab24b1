// The walk engine against MiniListServer: request counts, exactly-once delivery, packing.
#include <cmath>
#include <memory>
#include <random>

#include <gtest/gtest.h>

#include "b24client/client.hpp"
#include "b24client/curl_global.hpp"
#include "mini_list_server.hpp"
#include "test_clock.hpp"

using namespace b24client;
using b24client::testing::ManualClock;
using b24client::testing::MiniListServer;
using nlohmann::json;

namespace {

const CurlGlobal kCurl;

std::vector<std::int64_t> Range(std::int64_t first, std::int64_t count, std::int64_t step = 1) {
    std::vector<std::int64_t> v;
    for (std::int64_t i = 0; i < count; ++i) {
        v.push_back(first + i * step);
    }
    return v;
}

ClientOptions Opts() {
    auto clock = std::make_shared<ManualClock>();
    ClientOptions o;
    o.clock = clock;
    o.limiter = std::make_shared<PortalLimiter>(LimitPlan::Standard(), clock);
    o.allow_http = true;  // the canned server is plain http on loopback
    return o;
}

std::int64_t IdOf(const json& row, const std::string& field) {
    return row[field].is_string() ? std::stoll(row[field].get<std::string>())
                                  : row[field].get<std::int64_t>();
}

}  // namespace

TEST(WalkCanned, TenThousandRowsInFiveRequests) {
    MiniListServer srv(Range(1, 10000, 3));
    Client client({srv.endpoint(), "tok", ""}, Opts());
    std::vector<std::int64_t> got;
    const auto last = client.List(WalkSpec::Legacy("crm.contact.list", {}, {"ID"}),
                                  [&](std::vector<json>&& rows) {
                                      for (const auto& r : rows) {
                                          got.push_back(IdOf(r, "ID"));
                                      }
                                  });
    EXPECT_EQ(got, Range(1, 10000, 3));
    EXPECT_EQ(last, 1 + 9999 * 3);
    EXPECT_LE(srv.batches(), 5);
    EXPECT_EQ(client.GetStats().methods.at("batch").http_requests,
              static_cast<std::uint64_t>(srv.batches()));
}

TEST(WalkCanned, ItemsWalkFollowsTheItemsPath) {
    MiniListServer srv(Range(100, 120));
    Client client({srv.endpoint(), "tok", ""}, Opts());
    std::vector<std::int64_t> got;
    int done = 0;
    WalkHandlers h;
    h.on_rows = [&](std::size_t w, std::vector<json>&& rows, std::int64_t last_id) {
        EXPECT_EQ(w, 0u);
        for (const auto& r : rows) {
            got.push_back(IdOf(r, "id"));
        }
        EXPECT_EQ(last_id, got.back());
    };
    h.on_done = [&](std::size_t, std::int64_t last_id) {
        ++done;
        EXPECT_EQ(last_id, 219);
    };
    client.Walk({WalkSpec::Items(3)}, h);
    EXPECT_EQ(got, Range(100, 120));
    EXPECT_EQ(done, 1);
    EXPECT_EQ(srv.batches(), 1);
}

TEST(WalkCanned, ManyWindowsArePackedIntoSharedBatches) {
    std::mt19937 rng(7);
    std::vector<std::int64_t> ids = Range(1, 80000);
    MiniListServer srv(ids);
    // 60 windows of random sizes (0..1200 rows), like months of several entity types.
    std::vector<WalkSpec> walks;
    std::vector<std::pair<std::int64_t, std::int64_t>> bounds;
    std::int64_t from = 1;
    double ideal = 0;
    for (int i = 0; i < 60; ++i) {
        const std::int64_t n = std::uniform_int_distribution<std::int64_t>(0, 1200)(rng);
        walks.push_back(WalkSpec::Legacy("crm.deal.list", {{">=ID", from}, {"<ID", from + n}}));
        bounds.emplace_back(from, from + n);
        ideal += std::max(1.0, std::ceil(static_cast<double>(n) / 2500.0));
        from += n;
    }
    Client client({srv.endpoint(), "tok", ""}, Opts());
    std::vector<std::vector<std::int64_t>> got(walks.size());
    std::vector<int> done(walks.size(), 0);
    WalkHandlers h;
    h.on_rows = [&](std::size_t w, std::vector<json>&& rows, std::int64_t) {
        EXPECT_EQ(done[w], 0) << "rows after done";
        for (const auto& r : rows) {
            got[w].push_back(IdOf(r, "ID"));
        }
    };
    h.on_done = [&](std::size_t w, std::int64_t) { ++done[w]; };
    client.Walk(walks, h);
    for (std::size_t w = 0; w < walks.size(); ++w) {
        EXPECT_EQ(done[w], 1) << w;
        EXPECT_EQ(got[w], Range(bounds[w].first, bounds[w].second - bounds[w].first)) << w;
    }
    std::printf("[ figures  ] 60 windows: %d batches, ideal sum ceil(rows/2500) = %.0f\n",
                srv.batches(), ideal);
    // Far below one request per window.
    EXPECT_LE(srv.batches(), ideal * 1.15);
    EXPECT_LT(srv.batches(), 30);
}

TEST(WalkCanned, AFailingWalkDoesNotStopTheOthers) {
    MiniListServer srv(Range(1, 300));
    srv.FailMethod("crm.requisite.list", "ACCESS_DENIED");
    Client client({srv.endpoint(), "tok", ""}, Opts());
    std::vector<std::int64_t> got;
    std::vector<ErrorKind> errors;
    WalkHandlers h;
    h.on_rows = [&](std::size_t w, std::vector<json>&& rows, std::int64_t) {
        EXPECT_EQ(w, 0u);
        for (const auto& r : rows) {
            got.push_back(IdOf(r, "ID"));
        }
    };
    h.on_error = [&](std::size_t w, const Error& e) {
        EXPECT_EQ(w, 1u);
        EXPECT_EQ(e.method(), "crm.requisite.list");
        errors.push_back(e.kind());
    };
    client.Walk({WalkSpec::Legacy("crm.contact.list"), WalkSpec::Legacy("crm.requisite.list")}, h);
    EXPECT_EQ(got, Range(1, 300));
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], ErrorKind::kAccessDenied);
    // Without on_error the failure is thrown.
    h.on_error = nullptr;
    got.clear();
    EXPECT_THROW(client.Walk({WalkSpec::Legacy("crm.requisite.list")}, h), Error);
}

TEST(WalkCanned, RefusedPagesAndHtmlErrorsAreRetriedWithoutDuplicates) {
    MiniListServer srv(Range(1, 1000));
    srv.LimitNext("crm.contact.list", 2);
    srv.HtmlNext(1);
    Client client({srv.endpoint(), "tok", ""}, Opts());
    std::vector<std::int64_t> got;
    client.List(WalkSpec::Legacy("crm.contact.list"), [&](std::vector<json>&& rows) {
        for (const auto& r : rows) {
            got.push_back(IdOf(r, "ID"));
        }
    });
    EXPECT_EQ(got, Range(1, 1000));
    const Stats s = client.GetStats();
    EXPECT_EQ(s.operation_limit_refusals, 2u);
    EXPECT_GE(s.transient_failures, 1u);
}

TEST(WalkCanned, ResumesAfterTheCheckpoint) {
    MiniListServer srv(Range(1, 500));
    Client client({srv.endpoint(), "tok", ""}, Opts());
    WalkSpec spec = WalkSpec::Legacy("crm.company.list");
    spec.last_id = 250;
    std::vector<std::int64_t> got;
    client.List(spec, [&](std::vector<json>&& rows) {
        for (const auto& r : rows) {
            got.push_back(IdOf(r, "ID"));
        }
    });
    EXPECT_EQ(got, Range(251, 250));
}

TEST(WalkCanned, FetchByIdsChunksFiftyPerCall) {
    MiniListServer srv(Range(1, 5000));
    Client client({srv.endpoint(), "tok", ""}, Opts());
    IdFetchSpec spec;
    spec.method = "crm.contact.list";
    // The mini server does not implement @ID, so it answers each chunk with its first page:
    // what matters here is how the ids are chunked and batched.
    spec.ids = Range(1, 2600);
    int calls = 0;
    client.FetchByIds(spec, [&](std::vector<json>&& rows) { calls += rows.empty() ? 0 : 1; });
    EXPECT_EQ(srv.batches(), 2);  // 52 chunks of 50 ids -> 50 + 2 commands
    EXPECT_EQ(srv.nested(), 52);
    EXPECT_EQ(calls, 2);
}
