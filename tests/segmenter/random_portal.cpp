#include "random_portal.hpp"

#include <algorithm>
#include <set>

namespace segtest {

using namespace segmenter;

namespace {

class Generator {
public:
    Generator(std::mt19937_64& rng, const RandomOptions& options) : rng_(rng), o_(options) {}

    int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

    std::int32_t Offset() {
        if (!o_.mixed_offsets) {
            return 3 * 3600;
        }
        constexpr std::int32_t kOffsets[] = {3 * 3600,  3600, 2 * 3600,
                                             -5 * 3600, 0,    5 * 3600 + 1800};
        return kOffsets[Int(0, 5)];
    }

    Instant When() {
        const YearMonth month = FromMonthIndex(MonthIndex(o_.start) + Int(0, o_.months - 1));
        const int last_day = DaysInMonth(month.year, month.month);
        const std::int32_t offset = Offset();
        // A third of the instants sit on month edges, where off-by-one errors live.
        switch (Int(0, 5)) {
            case 0:
                return *MakeInstant(month.year, month.month, last_day, 23, 59, 59, offset);
            case 1:
                return *MakeInstant(month.year, month.month, 1, 0, 0, 0, offset);
            default:
                return *MakeInstant(month.year, month.month, Int(1, last_day), Int(0, 23),
                                    Int(0, 59), Int(0, 59), offset);
        }
    }
    Instant After(Instant from) {
        Instant later = from;
        later.utc += Int(0, 400) * 86400 / 4 + Int(0, 3600);
        return later;
    }
    std::uint8_t Channels() { return Chance(0.5) ? 0 : static_cast<std::uint8_t>(Int(1, 31)); }

    // Amounts with cents, some zero; currencies including unknown and badly rated ones.
    double Amount() { return Chance(0.15) ? 0.0 : static_cast<double>(Int(1, 400000)) / 100.0; }
    std::string CurrencyCode() {
        constexpr const char* kCodes[] = {"", "", "RUB", "USD", "EUR", "KZT", "XXX", "BAD"};
        return kCodes[Int(0, 7)];
    }
    std::string OneOf(std::initializer_list<const char*> values) {
        const auto* it = values.begin() + Int(0, static_cast<int>(values.size()) - 1);
        return *it;
    }
    template <class Row>
    void Attributes(Row& row) {
        row.type_id = OneOf({"", "CLIENT", "SUPPLIER", "PARTNER"});
        row.source_id = OneOf({"", "WEB", "CALL", "1"});
        row.assigned_by_id = Int(0, 4);
        if (Chance(0.6)) {
            FieldValues region{Chance(0.5) ? "UF_CRM_REGION" : "uf_crm_region", {}};
            for (const char* value : {"N", "S", "E"}) {
                if (Chance(0.4)) {
                    region.values.emplace_back(value);
                }
            }
            row.fields.push_back(region);
        }
    }

    // A reference into [1, count * 1.15]: some references point at ids that do not exist.
    std::int64_t Ref(int count) { return Int(1, count + count / 7 + 1); }

    Company MakeCompany(std::int64_t id) {
        Company c{id, When(), Chance(0.07), Channels()};
        Attributes(c);
        c.industry = OneOf({"", "IT", "MANUFACTURING", "TELECOM"});
        return c;
    }
    Contact MakeContact(std::int64_t id) {
        Contact c;
        c.id = id;
        c.created = When();
        c.company_id = Chance(0.4) ? 0 : Ref(o_.companies);
        for (int i = Int(0, 3); i > 0; --i) {
            c.company_ids.push_back(Ref(o_.companies));
        }
        if (c.company_id != 0 && Chance(0.5)) {
            c.company_ids.insert(c.company_ids.begin(), c.company_id);
        }
        c.channels = Channels();
        Attributes(c);
        return c;
    }
    std::vector<std::int64_t> ContactList() {
        std::vector<std::int64_t> ids;
        for (int i = Int(0, 3); i > 0; --i) {
            ids.push_back(Ref(o_.contacts));
        }
        return ids;
    }
    Deal MakeDeal(std::int64_t id) {
        Deal d;
        d.id = id;
        d.created = When();
        d.company_id = Chance(0.5) ? Ref(o_.companies) : 0;
        d.contact_ids = ContactList();
        const int stage = Int(0, 9);
        d.stage = stage < 5 ? StageSemantic::kWon
                            : (stage < 8 ? StageSemantic::kInProgress : StageSemantic::kFailed);
        if (Chance(0.8)) {
            d.moved_time = Chance(0.8) ? After(d.created) : When();
        }
        if (Chance(0.4)) {
            d.close_date = When();
        }
        d.opportunity = Amount();
        d.currency_id = CurrencyCode();
        return d;
    }
    Invoice MakeInvoice(std::int64_t id, bool legacy) {
        Invoice v;
        v.id = id;
        v.legacy = legacy;
        v.created = When();
        v.company_id = Chance(0.5) ? Ref(o_.companies) : 0;
        v.contact_ids = ContactList();
        v.deal_id = Chance(0.6) ? Ref(o_.deals) : 0;
        v.paid = Chance(0.65);
        if (Chance(0.85)) {
            v.paid_time = After(v.created);
        }
        v.opportunity = Amount();
        v.currency_id = CurrencyCode();
        return v;
    }
    Activity MakeActivity(std::int64_t id) {
        Activity a;
        a.id = id;
        a.created = When();
        a.app_created = Chance(0.1);
        for (int i = Int(0, 3); i > 0; --i) {
            const int type = Int(0, 9);
            if (type < 5) {
                a.bindings.push_back({kEntityTypeContact, Ref(o_.contacts)});
            } else if (type < 9) {
                a.bindings.push_back({kEntityTypeCompany, Ref(o_.companies)});
            } else {
                a.bindings.push_back({kEntityTypeDeal, Ref(o_.deals)});
            }
        }
        return a;
    }
    Requisite MakeRequisite(std::int64_t id) {
        const int type = Int(0, 9);
        if (type < 4) {
            return {id, kEntityTypeContact, Ref(o_.contacts)};
        }
        if (type < 9) {
            return {id, kEntityTypeCompany, Ref(o_.companies)};
        }
        return {id, 8, Ref(o_.companies)};
    }

private:
    std::mt19937_64& rng_;
    const RandomOptions& o_;
};

template <class Row>
std::int64_t NextId(const std::vector<Row>& rows) {
    std::int64_t max = 0;
    for (const Row& row : rows) {
        max = std::max(max, row.id);
    }
    return max + 1;
}

}  // namespace

Instant RandomInstant(std::mt19937_64& rng, const RandomOptions& options) {
    return Generator(rng, options).When();
}

Settings RandomSettings(std::mt19937_64& rng) {
    const auto pick = [&](int lo, int hi) {
        return std::uniform_int_distribution<int>(lo, hi)(rng);
    };
    Settings settings;
    settings.active_months = pick(1, 8);
    settings.lost_months = settings.active_months + pick(1, 12);
    settings.turnover_months = pick(1, 24);
    if (pick(0, 1) == 1) {
        // Thresholds around the generated amounts (up to 4,000 per payment).
        std::int64_t threshold = pick(0, 1) * 100 * pick(1, 3000);
        for (const char* code : {"BRONZE", "SILVER", "GOLD"}) {
            settings.tiers.push_back({code, threshold});
            threshold += 100 * pick(1, 6000);
        }
    }
    return settings;
}

// The currency table of every random portal.
std::vector<Currency> RandomCurrencies() {
    return {{"RUB", 1, 1, true},
            {"USD", 90.5, 1, false},
            {"EUR", 98.25, 1, false},
            {"KZT", 18.6, 100, false},
            {"BAD", 0, 1, false}};
}

PortalData RandomPortal(std::mt19937_64& rng, const RandomOptions& options) {
    Generator g(rng, options);
    PortalData p;
    for (int i = 1; i <= options.companies; ++i) {
        p.companies.push_back(g.MakeCompany(i));
    }
    for (int i = 1; i <= options.contacts; ++i) {
        p.contacts.push_back(g.MakeContact(i));
    }
    for (int i = 1; i <= options.deals; ++i) {
        p.deals.push_back(g.MakeDeal(i));
    }
    for (int i = 1; i <= options.invoices; ++i) {
        // Old and new invoices share small ids on purpose: (legacy, id) is the identity.
        const bool legacy = g.Chance(0.2);
        p.invoices.push_back(g.MakeInvoice(legacy ? i / 2 + 1 : i, legacy));
    }
    // Drop accidental duplicates of (legacy, id).
    std::set<std::pair<bool, std::int64_t>> seen;
    std::erase_if(p.invoices, [&](const Invoice& v) {
        return !seen.insert({v.legacy, v.id}).second;
    });
    for (int i = 1; i <= options.activities; ++i) {
        p.activities.push_back(g.MakeActivity(i));
    }
    for (int i = 1; i <= options.requisites; ++i) {
        p.requisites.push_back(g.MakeRequisite(i));
    }
    p.currencies = RandomCurrencies();
    return p;
}

namespace {

// Upserts `row` into `rows` by identity.
template <class Row, class Same>
void UpsertInto(std::vector<Row>& rows, const Row& row, Same&& same) {
    for (Row& existing : rows) {
        if (same(existing, row)) {
            existing = row;
            return;
        }
    }
    rows.push_back(row);
}

template <class Row>
const Row& Pick(Generator& g, const std::vector<Row>& rows) {
    return rows[static_cast<std::size_t>(g.Int(0, static_cast<int>(rows.size()) - 1))];
}

}  // namespace

Changes RandomEdit(std::mt19937_64& rng,
                   PortalData& portal,
                   const RandomOptions& options,
                   int edits) {
    Generator g(rng, options);
    Changes changes;
    // Choose removals and upserts first, then apply them to the model in Apply's order.
    for (int e = 0; e < edits; ++e) {
        const int kind = g.Int(0, 6);
        const int action = g.Int(0, 2);  // 0 remove, 1 replace an existing row, 2 add a new row
        switch (kind) {
            case 0:
                if (action == 0 && !portal.companies.empty()) {
                    changes.remove.companies.push_back(Pick(g, portal.companies).id);
                } else {
                    const std::int64_t id = action == 1 && !portal.companies.empty()
                                                ? Pick(g, portal.companies).id
                                                : NextId(portal.companies) + g.Int(0, 3);
                    changes.upsert.companies.push_back(g.MakeCompany(id));
                }
                break;
            case 1:
                if (action == 0 && !portal.contacts.empty()) {
                    changes.remove.contacts.push_back(Pick(g, portal.contacts).id);
                } else if (action == 1 && !portal.contacts.empty() && g.Chance(0.5)) {
                    // Move an existing contact to other companies, keeping everything else.
                    Contact moved = Pick(g, portal.contacts);
                    const Contact fresh = g.MakeContact(moved.id);
                    moved.company_id = fresh.company_id;
                    moved.company_ids = fresh.company_ids;
                    changes.upsert.contacts.push_back(moved);
                } else {
                    const std::int64_t id = action == 1 && !portal.contacts.empty()
                                                ? Pick(g, portal.contacts).id
                                                : NextId(portal.contacts) + g.Int(0, 3);
                    changes.upsert.contacts.push_back(g.MakeContact(id));
                }
                break;
            case 2:
                if (action == 0 && !portal.deals.empty()) {
                    changes.remove.deals.push_back(Pick(g, portal.deals).id);
                } else {
                    const std::int64_t id = action == 1 && !portal.deals.empty()
                                                ? Pick(g, portal.deals).id
                                                : NextId(portal.deals);
                    changes.upsert.deals.push_back(g.MakeDeal(id));
                }
                break;
            case 3:
                if (action == 0 && !portal.invoices.empty()) {
                    const Invoice& v = Pick(g, portal.invoices);
                    changes.remove.invoices.push_back({v.id, v.legacy});
                } else if (action == 1 && !portal.invoices.empty()) {
                    const Invoice& v = Pick(g, portal.invoices);
                    Invoice next = g.MakeInvoice(v.id, v.legacy);
                    if (g.Chance(0.5)) {
                        // Only the payment state changes (the common real-world edit).
                        next = v;
                        next.paid = !v.paid;
                    }
                    changes.upsert.invoices.push_back(next);
                } else {
                    changes.upsert.invoices.push_back(
                        g.MakeInvoice(NextId(portal.invoices), g.Chance(0.3)));
                }
                break;
            case 4:
                if (action == 0 && !portal.activities.empty()) {
                    changes.remove.activities.push_back(Pick(g, portal.activities).id);
                } else {
                    const std::int64_t id = action == 1 && !portal.activities.empty()
                                                ? Pick(g, portal.activities).id
                                                : NextId(portal.activities);
                    changes.upsert.activities.push_back(g.MakeActivity(id));
                }
                break;
            case 6:
                // Rates change, currencies come and go.
                if (action == 0 && !portal.currencies.empty()) {
                    changes.remove.currencies.push_back(Pick(g, portal.currencies).code);
                } else {
                    Currency c = action == 1 && !portal.currencies.empty()
                                     ? Pick(g, portal.currencies)
                                     : Currency{g.Chance(0.5) ? "XXX" : "USD", 1, 1, false};
                    c.amount = static_cast<double>(g.Int(1, 20000)) / 100.0;
                    changes.upsert.currencies.push_back(c);
                }
                break;
            default:
                if (action == 0 && !portal.requisites.empty()) {
                    changes.remove.requisites.push_back(Pick(g, portal.requisites).id);
                } else {
                    const std::int64_t id = action == 1 && !portal.requisites.empty()
                                                ? Pick(g, portal.requisites).id
                                                : NextId(portal.requisites);
                    changes.upsert.requisites.push_back(g.MakeRequisite(id));
                }
                break;
        }
    }

    // The model: removals first, then upserts (a later upsert of an id wins).
    const auto erase_ids = [](auto& rows, const std::vector<std::int64_t>& ids) {
        std::erase_if(rows, [&](const auto& row) {
            return std::find(ids.begin(), ids.end(), row.id) != ids.end();
        });
    };
    erase_ids(portal.companies, changes.remove.companies);
    erase_ids(portal.contacts, changes.remove.contacts);
    erase_ids(portal.deals, changes.remove.deals);
    erase_ids(portal.activities, changes.remove.activities);
    erase_ids(portal.requisites, changes.remove.requisites);
    std::erase_if(portal.invoices, [&](const Invoice& v) {
        for (const InvoiceId& r : changes.remove.invoices) {
            if (r.id == v.id && r.legacy == v.legacy) {
                return true;
            }
        }
        return false;
    });
    const auto same_id = [](const auto& a, const auto& b) { return a.id == b.id; };
    for (const Company& c : changes.upsert.companies) {
        UpsertInto(portal.companies, c, same_id);
    }
    for (const Contact& c : changes.upsert.contacts) {
        UpsertInto(portal.contacts, c, same_id);
    }
    for (const Deal& d : changes.upsert.deals) {
        UpsertInto(portal.deals, d, same_id);
    }
    for (const Invoice& v : changes.upsert.invoices) {
        UpsertInto(portal.invoices, v, [](const Invoice& a, const Invoice& b) {
            return a.id == b.id && a.legacy == b.legacy;
        });
    }
    for (const Activity& a : changes.upsert.activities) {
        UpsertInto(portal.activities, a, same_id);
    }
    for (const Requisite& r : changes.upsert.requisites) {
        UpsertInto(portal.requisites, r, same_id);
    }
    std::erase_if(portal.currencies, [&](const Currency& c) {
        return std::find(changes.remove.currencies.begin(), changes.remove.currencies.end(),
                         c.code) != changes.remove.currencies.end();
    });
    for (const Currency& c : changes.upsert.currencies) {
        UpsertInto(portal.currencies, c,
                   [](const Currency& a, const Currency& b) { return a.code == b.code; });
    }
    return changes;
}

}  // namespace segtest
