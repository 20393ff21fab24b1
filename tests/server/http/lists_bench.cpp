// server_http_bench: how long the list queries behind /api/list and /api/list.csv take on a
// portal of the benchmark size (50,000 contacts, 35,000 companies), for an admin (no filter) and
// for a manager (a readable set of 10 % of the cards). Not a test: it prints figures.
// Build in the release preset: cmake --build --preset release --target server_http_bench
#include <chrono>
#include <cstdio>
#include <random>

#include "http/lists.hpp"
#include "http/rights.hpp"
#include "portal_db.hpp"
#include "support/temp_dir.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point since) {
    return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

template <class F>
double Median(int runs, F&& f) {
    std::vector<double> t;
    for (int i = 0; i < runs; ++i) {
        auto start = Clock::now();
        f();
        t.push_back(Ms(start));
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

}  // namespace

int main() {
    using namespace server;
    support::TempDir dir("b24seg-lists-bench");
    PortalDb db(dir.File("bench.db"));
    std::mt19937 rng(11);
    const char* lifecycles[] = {"ACTIVE",  "SLEEPING", "LOST",       "REQUESTS",
                                "DIALOGS", "CONTACTS", "NO_CONTACTS"};
    const char* frequencies[] = {"REGULAR", "FIRST", "NONE"};
    const char* first[] = {"Anna", "Ivan", "Olga", "Petr", "Maria", "Sergey", "Elena", "Jan"};
    const char* last[] = {"Smirnova", "Petrov", "Kowalski", "Müller", "Ivanova", "Nowak"};
    std::vector<ContactRow> contacts;
    std::vector<CompanyRow> companies;
    std::vector<std::pair<CardKey, CardValues>> targets;
    http::ReadableSet readable;
    auto t0 = Clock::now();
    for (std::int64_t id = 1; id <= 35000; ++id) {
        CompanyRow c;
        c.id = id;
        c.name = "ООО Компания " + std::to_string(id);
        c.created = "2019-0" + std::to_string(1 + id % 9) + "-01T10:00:00+03:00";
        c.assigned_by = 1 + id % 10;
        c.phones = {"+7 495 " + std::to_string(1000000 + id)};
        c.emails = {"info" + std::to_string(id) + "@example.ru"};
        companies.push_back(c);
        CardValues v;
        v.lifecycle = lifecycles[rng() % 7];
        v.client_type = "B2B";
        v.frequency = frequencies[rng() % 3];
        v.payments = static_cast<std::int64_t>(rng() % 5);
        if (rng() % 2 == 0) {
            v.last_payment = "2025-0" + std::to_string(1 + rng() % 9) + "-15";
        }
        targets.push_back({{CardKind::kCompany, id}, v});
        if (id % 10 == 0) {
            readable.companies.insert(id);
        }
    }
    for (std::int64_t id = 1; id <= 50000; ++id) {
        ContactRow c;
        c.id = id;
        c.name = std::string(first[rng() % 8]) + " " + last[rng() % 6];
        c.created = "2020-0" + std::to_string(1 + id % 9) + "-01T10:00:00+03:00";
        c.assigned_by = 1 + id % 10;
        c.phones = {"+7 916 " + std::to_string(2000000 + id)};
        c.emails = {"person" + std::to_string(id) + "@mail.example"};
        CardValues v;
        if (rng() % 2 == 0) {
            c.company_id = 1 + static_cast<std::int64_t>(rng() % 35000);
            c.company_ids = {c.company_id};
            v.parent_company = c.company_id;
            v.client_type = "B2B";
        } else {
            v.client_type = "B2C";
        }
        v.lifecycle = lifecycles[rng() % 7];
        v.frequency = frequencies[rng() % 3];
        v.payments = static_cast<std::int64_t>(rng() % 5);
        contacts.push_back(c);
        targets.push_back({{CardKind::kContact, id}, v});
        if (id % 10 == 0) {
            readable.contacts.insert(id);
        }
    }
    db.InTransaction([&] {
        db.Upsert(contacts);
        db.Upsert(companies);
        db.ReplaceUsers({{1, "Admin"}, {2, "Ivan Petrov"}});
    });
    db.ReplaceTargets(targets);
    std::printf("portal: 50000 contacts, 35000 companies (built in %.0f ms)\n", Ms(t0));

    auto page = [&](segmenter::Series series, const std::string& q, const http::ReadableSet* r) {
        if (r == nullptr && q.empty()) {  // as /api/list does for an admin
            std::vector<CardKey> slice;
            auto total = http::CountMatches(db, {series, q});
            http::ForEachMatch(
                db, {series, q}, false,
                [&](const http::ListItem& item) {
                    slice.push_back({item.kind, item.id});
                },
                http::Window{25, 0});
            return static_cast<std::size_t>(total) + http::LoadItems(db, slice).size();
        }
        std::vector<CardKey> keys;
        http::ForEachMatch(db, {series, q}, false, [&](const http::ListItem& item) {
            if (r == nullptr || r->Contains(item.kind, item.id)) {
                keys.push_back({item.kind, item.id});
            }
        });
        std::vector<CardKey> slice(
            keys.begin(),
            keys.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(25, keys.size())));
        auto items = http::LoadItems(db, slice);
        return keys.size() + items.size();
    };
    struct Case {
        const char* name;
        segmenter::Series series;
        std::string q;
    };
    std::vector<Case> cases = {
        {"directories.contacts (50,000 rows)", segmenter::Series::kContacts, ""},
        {"clients.all (all clients)", segmenter::Series::kAllClients, ""},
        {"payments.active", segmenter::Series::kActive, ""},
        {"clients.all, q=\"anna\"", segmenter::Series::kAllClients, "anna"},
        {"clients.all, q=\"916 20012\" (phone)", segmenter::Series::kAllClients, "916 20012"},
        {"clients.all, q=\"компания 12\" (company name)", segmenter::Series::kAllClients,
         "компания 12"},
    };
    std::printf("\n/api/list, first page of 25 (median of 7, ms):  admin   manager(10%%)\n");
    for (const auto& c : cases) {
        double admin = Median(7, [&] { page(c.series, c.q, nullptr); });
        double manager = Median(7, [&] { page(c.series, c.q, &readable); });
        std::printf("  %-46s %7.1f %9.1f\n", c.name, admin, manager);
    }
    http::RenderContext ctx;
    ctx.users = db.Users();
    ctx.lang = "ru";
    ctx.portal_origin = "https://example.bitrix24.ru";
    std::size_t bytes = 0;
    double csv = Median(3, [&] {
        std::string out = http::CsvHeader(ctx);
        http::ForEachMatch(db, {segmenter::Series::kContacts, ""}, true,
                           [&](const http::ListItem& item) { out += http::CsvLine(item, ctx); });
        bytes = out.size();
    });
    std::printf("\n/api/list.csv directories.contacts: %.0f ms for 50,000 rows (%.1f MB)\n", csv,
                static_cast<double>(bytes) / 1e6);
    return 0;
}
