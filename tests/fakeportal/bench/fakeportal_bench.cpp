// Benchmark of the fake portal itself: how fast the generator fills the bench dataset, how much
// memory it takes, and how fast keyset pages (50 pages chained in one batch) are served over
// loopback. Prints figures; asserts nothing. Build in the release preset:
//   cmake --preset release && cmake --build --preset release --target fakeportal_bench
//   build/release/tests/fakeportal/fakeportal_bench [--scale demo|bench]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fakeportal/cloud.hpp"
#include "fakeportal/dataset.hpp"

namespace {

using json = nlohmann::ordered_json;
using fakeportal::Portal;

long PeakRssKb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

struct Walk {
    int64_t rows = 0;
    int64_t requests = 0;
    double seconds = 0;
};

// Walks a whole table with keyset pages, 50 chained pages per batch, until a short page.
Walk KeysetWalk(Portal& portal,
                const std::string& token,
                const std::string& method,
                const std::string& extra,
                bool items) {
    httplib::Client cli(portal.base_url());
    cli.set_read_timeout(120, 0);
    cli.set_keep_alive(true);
    const std::string id = items ? "id" : "ID";
    const auto t0 = std::chrono::steady_clock::now();
    Walk w;
    std::string last = "0";
    bool done = false;
    while (!done) {
        json cmd = json::object();
        for (int k = 0; k < 50; ++k) {
            const std::string from =
                k == 0 ? last
                       : (items ? "$result[p" + std::to_string(k - 1) + "][items][49][id]"
                                : "$result[p" + std::to_string(k - 1) + "][49][ID]");
            cmd["p" + std::to_string(k)] = method + "?" + extra + "&order[" + id +
                                           "]=ASC&start=-1&filter[>" + id + "]=" + from;
        }
        auto res = cli.Post("/rest/batch", json{{"auth", token}, {"halt", 0}, {"cmd", cmd}}.dump(),
                            "application/json");
        ++w.requests;
        if (!res || res->status != 200) {
            std::printf("  request failed: %d\n", res ? res->status : -1);
            break;
        }
        const json body = json::parse(res->body);
        const json& results = body["result"]["result"];
        for (int k = 0; k < 50; ++k) {
            const json& page = items ? results["p" + std::to_string(k)]["items"]
                                     : results["p" + std::to_string(k)];
            w.rows += static_cast<int64_t>(page.size());
            if (page.size() < 50) {
                done = true;
                break;
            }
            last = page.back()[id].is_string() ? page.back()[id].get<std::string>()
                                               : std::to_string(page.back()[id].get<int64_t>());
        }
    }
    w.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return w;
}

}  // namespace

int main(int argc, char** argv) {
    std::string scale = "bench";
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == "--scale") {
            scale = argv[i + 1];
        }
    }
    fakeportal::Cloud cloud;
    fakeportal::AppRegistration app;
    app.client_id = "bench.app";
    app.client_secret = "secret";
    cloud.RegisterApp(app);
    fakeportal::PortalOptions options;
    options.limits.enforce_bucket = false;
    options.limits.enforce_operating = false;
    options.limits.enforce_request_cap = false;
    Portal& portal = cloud.AddPortal(options);
    const auto token = portal.InstallApp(app.client_id, 1, fakeportal::InstallFlow::kSilent)
                           .admin_tokens.access_token;

    const auto preset = scale == "demo" ? fakeportal::DemoPreset() : fakeportal::BenchPreset();
    const auto s = fakeportal::GenerateDataset(portal, preset);
    std::printf(
        "dataset %s: %zu contacts, %zu companies, %zu deals, %zu invoices, %zu old invoices, "
        "%zu activities, %zu requisites\n",
        scale.c_str(), s.contacts, s.companies, s.deals, s.invoices, s.old_invoices, s.activities,
        s.requisites);
    const size_t total_rows = s.contacts + s.companies + s.deals + s.invoices + s.old_invoices +
                              s.activities + s.requisites;
    std::printf("generated %zu rows in %.2f s; peak RSS %.1f MiB\n", total_rows, s.seconds,
                static_cast<double>(PeakRssKb()) / 1024.0);

    struct Job {
        const char* method;
        const char* extra;
        bool items;
    };
    const Job jobs[] = {
        {"crm.item.list",
         "entityTypeId=3&select[]=id&select[]=companyId&select[]=companyIds&select[]=createdTime&"
         "select[]=hasPhone&select[]=hasEmail",
         true},
        {"crm.item.list",
         "entityTypeId=4&select[]=id&select[]=isMyCompany&select[]=createdTime&select[]=hasPhone",
         true},
        {"crm.item.list",
         "entityTypeId=2&select[]=id&select[]=stageSemanticId&select[]=companyId&select[]="
         "contactIds&select[]=movedTime&select[]=closedate",
         true},
        {"crm.item.list",
         "entityTypeId=31&select[]=id&select[]=stageId&select[]=categoryId&select[]=parentId2&"
         "select[]=companyId&select[]=contactIds&select[]=movedTime",
         true},
        {"crm.activity.list",
         "select[]=ID&select[]=OWNER_TYPE_ID&select[]=OWNER_ID&select[]=CREATED&select[]=TYPE_ID&"
         "select[]=COMMUNICATIONS",
         false},
        {"crm.requisite.list", "select[]=ID&select[]=ENTITY_TYPE_ID&select[]=ENTITY_ID", false},
        {"crm.contact.list",
         "select[]=ID&select[]=COMPANY_ID&select[]=DATE_CREATE&select[]=HAS_PHONE", false},
    };
    int64_t all_rows = 0;
    double all_seconds = 0;
    for (const Job& job : jobs) {
        const Walk w = KeysetWalk(portal, token, job.method, job.extra, job.items);
        all_rows += w.rows;
        all_seconds += w.seconds;
        // Keys are split at their first '=' as PHP does: ">=" inside a key must be encoded.
        std::printf("%-20s %-16.16s %8lld rows %5lld requests %7.2f s %9.0f rows/s\n", job.method,
                    job.extra, static_cast<long long>(w.rows), static_cast<long long>(w.requests),
                    w.seconds, static_cast<double>(w.rows) / w.seconds);
    }
    // The sync engine's shape: month windows on the creation date, keyset pages inside each.
    {
        const auto t0 = std::chrono::steady_clock::now();
        const fakeportal::Time end = static_cast<fakeportal::Time>(portal.Now());
        Walk month_total;
        for (int m = 12 * preset.years + 1; m > 0; --m) {
            const fakeportal::Time from = end - static_cast<fakeportal::Time>(m) * 30 * 86400;
            const fakeportal::Time to = from + 30 * 86400;
            const std::string window =
                "select[]=ID&select[]=OWNER_TYPE_ID&select[]=OWNER_ID&filter[%3E%3DCREATED]=" +
                portal.FormatTime(from) + "&filter[%3CCREATED]=" + portal.FormatTime(to);
            std::string escaped;
            for (char ch : window) {
                escaped += ch == '+' ? std::string("%2B") : std::string(1, ch);
            }
            const Walk w = KeysetWalk(portal, token, "crm.activity.list", escaped, false);
            month_total.rows += w.rows;
            month_total.requests += w.requests;
        }
        month_total.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%-20s %-16.16s %8lld rows %5lld requests %7.2f s %9.0f rows/s\n",
                    "crm.activity.list", "month windows", static_cast<long long>(month_total.rows),
                    static_cast<long long>(month_total.requests), month_total.seconds,
                    static_cast<double>(month_total.rows) / month_total.seconds);
    }
    const auto counters = portal.Counters();
    std::printf(
        "total %lld rows in %.2f s (%.0f rows/s); %lld HTTP requests; simulated operating "
        "%.0f s; peak RSS %.1f MiB\n",
        static_cast<long long>(all_rows), all_seconds, static_cast<double>(all_rows) / all_seconds,
        static_cast<long long>(counters.http_requests), counters.TotalOperatingSeconds(),
        static_cast<double>(PeakRssKb()) / 1024.0);
    return 0;
}
