// Walks a large contact set in the test portal with the standard limits enforced (on a scaled
// clock, so the portal's seconds pass faster than real ones) and prints what it cost.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "b24client/client.hpp"
#include "b24client/curl_global.hpp"
#include "b24client/json_util.hpp"
#include "fakeportal/cloud.hpp"
#include "fakeportal/portal.hpp"
#include "support/scaled_clock.hpp"

#include <sys/resource.h>
#include <time.h>

namespace {

class ScaledClockAdapter final : public b24client::Clock {
public:
    explicit ScaledClockAdapter(double factor) : clock_(factor) {}
    double Now() override { return clock_.Now(); }
    void SleepFor(double seconds) override { clock_.SleepFor(seconds); }
    const support::ScaledClock& scaled() const { return clock_; }

private:
    support::ScaledClock clock_;
};

double CpuSeconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU of the calling thread only: the walk (curl, JSON parsing, planning) runs here, while the
// in-process portal answers on its own worker threads.
double ThreadCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long PeakRssKb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
    int contacts = 200000;
    double scale = 100.0;
    bool items = false;
    bool limits = true;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--contacts") == 0 && i + 1 < argc) {
            contacts = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
            scale = std::atof(argv[++i]);
        } else if (std::strcmp(argv[i], "--items") == 0) {
            items = true;
        } else if (std::strcmp(argv[i], "--no-limits") == 0) {
            limits = false;  // the client's own speed: no bucket, no operating budget
        } else {
            std::fprintf(stderr, "usage: %s [--contacts N] [--scale F] [--items] [--no-limits]\n",
                         argv[0]);
            return 2;
        }
    }
    b24client::CurlGlobal curl;
    auto clock = std::make_shared<ScaledClockAdapter>(scale);
    fakeportal::CloudOptions co;
    co.clock = clock->scaled().AsFunction();
    fakeportal::Cloud cloud(co);
    fakeportal::AppRegistration app;
    app.client_id = "bench.app";
    app.client_secret = "bench-secret";
    cloud.RegisterApp(app);
    fakeportal::Portal& portal = cloud.AddPortal();
    const auto tokens =
        portal.InstallApp("bench.app", 1, fakeportal::InstallFlow::kSilent).admin_tokens;
    const auto start_time = static_cast<fakeportal::Time>(portal.Now() - 5 * 365 * 86400.0);
    portal.BulkLoad([&](fakeportal::CrmData& d) {
        d.contacts.rows.reserve(static_cast<std::size_t>(contacts));
        for (int i = 0; i < contacts; ++i) {
            fakeportal::Contact c;
            c.id = d.contacts.next_id++;
            c.name = "Name" + std::to_string(i);
            c.last_name = "Last" + std::to_string(i);
            c.date_create = start_time + i * 60;
            c.date_modify = c.date_create;
            c.fm.push_back({0, "PHONE", "WORK", "+7 900 " + std::to_string(1000000 + i)});
            d.contacts.rows.push_back(std::move(c));
        }
    });

    b24client::LimitPlan plan = b24client::LimitPlan::Standard();
    if (!limits) {
        fakeportal::LimitOptions off = portal.Limits();
        off.enforce_bucket = false;
        off.enforce_operating = false;
        portal.SetLimits(off);
        plan.burst = 1e9;
        plan.drain_per_second = 1e9;
        plan.operating_limit_s = 1e12;
    }
    b24client::ClientOptions o;
    o.clock = clock;
    o.limiter = std::make_shared<b24client::PortalLimiter>(plan, clock);
    o.oauth = b24client::OAuthApp{"bench.app", "bench-secret", cloud.token_url()};
    o.allow_http = true;  // the test portal is plain http on loopback
    b24client::Client client({portal.endpoint(), tokens.access_token, tokens.refresh_token}, o);

    const auto spec =
        items ? b24client::WalkSpec::Items(3, {}, {"id", "name", "lastName", "companyId"})
              : b24client::WalkSpec::Legacy(
                    "crm.contact.list", {},
                    {"ID", "NAME", "LAST_NAME", "COMPANY_ID", "HAS_PHONE", "DATE_CREATE"});
    long long rows = 0;
    long long id_sum = 0;
    const double cpu0 = CpuSeconds();
    const double thread_cpu0 = ThreadCpuSeconds();
    const double portal0 = clock->Now();
    const auto t0 = std::chrono::steady_clock::now();
    client.List(spec, [&](std::vector<nlohmann::json>&& page) {
        rows += static_cast<long long>(page.size());
        for (const auto& r : page) {
            id_sum += b24client::ToInt64(r.at(spec.id_field)).value_or(0);
        }
    });
    const double real =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = CpuSeconds() - cpu0;
    const double client_cpu = ThreadCpuSeconds() - thread_cpu0;
    const double portal_seconds = clock->Now() - portal0;
    const auto s = client.GetStats();
    const auto counters = portal.Counters();
    const long long expected_sum = static_cast<long long>(contacts) * (contacts + 1) / 2;

    std::printf("b24client_bench: %s, %d contacts, %s on a %.0fx clock\n", spec.method.c_str(),
                contacts, limits ? "standard limits" : "no limits", scale);
    std::printf("  rows                 %lld (%s)\n", rows,
                rows == contacts && id_sum == expected_sum ? "every row once" : "MISMATCH");
    std::printf("  HTTP requests        %llu (bound ceil(rows/2500)+1 = %d)\n",
                static_cast<unsigned long long>(s.http_requests), (contacts + 2499) / 2500 + 1);
    std::printf("  nested calls         %llu\n",
                static_cast<unsigned long long>(
                    s.methods.count(spec.method) ? s.methods.at(spec.method).nested_calls : 0));
    std::printf("  refusals             %lld QUERY_LIMIT_EXCEEDED, %lld OPERATION_TIME_LIMIT\n",
                static_cast<long long>(counters.query_limit_exceeded),
                static_cast<long long>(counters.operation_time_limit));
    std::printf(
        "  operating time       %.1f s (portal), waited %.1f s for budgets, %.1f s for the "
        "bucket\n",
        counters.Method(spec.method).operating_seconds, s.budget_wait_seconds,
        s.bucket_wait_seconds);
    std::printf("  portal time          %.1f s  -> %.0f rows/s at the portal's pace\n",
                portal_seconds, static_cast<double>(rows) / std::max(portal_seconds, 1e-9));
    std::printf("  real time            %.2f s  -> %.0f rows/s\n", real,
                static_cast<double>(rows) / std::max(real, 1e-9));
    std::printf("  client CPU           %.2f s (walking thread; %.2f s per 100k rows)\n",
                client_cpu, client_cpu * 100000.0 / std::max(1.0, static_cast<double>(rows)));
    std::printf("  process CPU          %.2f s (incl. the in-process portal)\n", cpu);
    std::printf("  peak RSS             %.1f MiB (process, incl. the portal's data)\n",
                static_cast<double>(PeakRssKb()) / 1024.0);
    return rows == contacts && id_sum == expected_sum ? 0 : 1;
}
