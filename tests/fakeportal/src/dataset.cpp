#include "fakeportal/dataset.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "util.hpp"

namespace fakeportal {

DatasetOptions DemoPreset() {
    DatasetOptions o;
    o.companies = 1200;
    o.contacts = 2300;
    o.deals = 3500;
    o.invoices = 1800;
    o.old_invoices = 60;
    o.activities = 14000;
    o.requisites = 900;
    o.xss_contact = true;
    return o;
}

DatasetOptions BenchPreset() {
    DatasetOptions o;
    o.companies = 35000;
    o.contacts = 50000;
    o.deals = 100000;
    o.invoices = 50000;
    o.old_invoices = 2000;
    o.activities = 400000;
    o.requisites = 30000;
    o.managers = 6;
    return o;
}

namespace {

constexpr Time kDay = 86400;

const char* const kRuMale[] = {"Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей",
                               "Артём",     "Илья",    "Кирилл", "Михаил", "Никита", "Иван",
                               "Олег",      "Павел",   "Роман",  "Евгений"};
const char* const kRuFemale[] = {"Анна",    "Мария",  "Елена",     "Ольга",    "Наталья",
                                 "Татьяна", "Ирина",  "Екатерина", "Светлана", "Юлия",
                                 "Дарья",   "Полина", "Алина",     "Ксения"};
const char* const kRuLast[] = {
    "Иванов",  "Смирнов", "Кузнецов", "Попов",    "Васильев", "Петров",  "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов",  "Волков",   "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов",  "Козлов",  "Степанов", "Николаев", "Орлов",    "Андреев", "Макаров", "Никитин"};
const char* const kEnFirst[] = {"James",   "Mary",    "John",    "Patricia",  "Robert", "Jennifer",
                                "Michael", "Linda",   "William", "Elizabeth", "David",  "Susan",
                                "Richard", "Jessica", "Thomas",  "Sarah",     "Daniel", "Karen"};
const char* const kEnLast[] = {"Smith",  "Johnson", "Williams", "Brown",  "Jones",  "Miller",
                               "Davis",  "Wilson",  "Anderson", "Taylor", "Thomas", "Moore",
                               "Martin", "Jackson", "White",    "Harris", "Clark",  "Lewis"};
const char* const kRuCoRoot[] = {"Альфа",    "Вектор", "Гранит", "Меридиан", "Сфера",  "Техно",
                                 "Прогресс", "Восток", "Север",  "Импульс",  "Ресурс", "Стандарт",
                                 "Квант",    "Орион",  "Атлант", "Спектр"};
const char* const kRuCoTail[] = {"Строй", "Трейд",  "Сервис", "Логистик", "Пром",
                                 "Софт",  "Маркет", "Агро",   "Мед",      "Энерго"};
const char* const kRuForm[] = {"ООО", "АО", "ИП", "ПАО"};
const char* const kEnCoRoot[] = {"Northwind", "Blue Harbor", "Granite Peak", "Silverline",
                                 "Oakridge",  "Summit",      "Brightwave",   "Ironclad",
                                 "Redstone",  "Evergreen",   "Pioneer",      "Lakeside"};
const char* const kEnCoTail[] = {"Trading", "Logistics", "Systems",  "Foods", "Consulting",
                                 "Motors",  "Health",    "Partners", "Labs",  "Supply"};
const char* const kEnForm[] = {"LLC", "Inc.", "Ltd", "GmbH"};
const char* const kTranslit[] = {"ivanov", "petrova",  "smirnov", "orlov",   "kuznetsova",
                                 "volkov", "sokolova", "popov",   "lebedev", "morozova"};
const char* const kDomains[] = {"mail.ru", "yandex.ru",   "gmail.com", "outlook.com",
                                "bk.ru",   "example.com", "inbox.ru"};

template <size_t N>
const char* Pick(std::mt19937_64& rng, const char* const (&list)[N]) {
    return list[rng() % N];
}

class Gen {
public:
    Gen(const DatasetOptions& o, Time end, int tz) : o_(o), rng_(o.seed), end_(end), tz_(tz) {
        start_ = end_ - static_cast<Time>(o.years) * 365 * kDay;
        for (int i = 0; i < o.import_bursts; ++i) {
            // Bursts in the older half of the history.
            bursts_.push_back(start_ +
                              static_cast<Time>(Unit() * 0.5 * static_cast<double>(end_ - start_)));
        }
    }

    double Unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
    bool Chance(double p) { return Unit() < p; }
    int64_t Range(int64_t lo, int64_t hi) {  // inclusive
        return lo + static_cast<int64_t>(rng_() % static_cast<uint64_t>(hi - lo + 1));
    }

    /// n creation times: growth (density rising over the years) plus import bursts, sorted.
    std::vector<Time> Times(size_t n, Time not_before) {
        std::vector<Time> out;
        out.reserve(n);
        const Time from = std::max(start_, not_before);
        const double span = static_cast<double>(end_ - from);
        for (size_t i = 0; i < n; ++i) {
            if (!bursts_.empty() && Chance(0.04 * static_cast<double>(bursts_.size()))) {
                const Time b = std::max(from, bursts_[rng_() % bursts_.size()]);
                out.push_back(b + Range(0, 1800));
            } else {
                out.push_back(from + static_cast<Time>(std::sqrt(Unit()) * span));
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::string Digits(int n) {
        std::string s;
        for (int i = 0; i < n; ++i) {
            s += static_cast<char>('0' + rng_() % 10);
        }
        return s;
    }

    std::string Phone() {
        return "+7 9" + Digits(2) + " " + Digits(3) + "-" + Digits(2) + "-" + Digits(2);
    }

    std::string Email(const std::string& local_hint) {
        return local_hint + Digits(2) + "@" + Pick(rng_, kDomains);
    }

    void PersonName(Contact& c) {
        if (Chance(0.7)) {
            const bool female = Chance(0.5);
            c.name = female ? Pick(rng_, kRuFemale) : Pick(rng_, kRuMale);
            c.last_name = Pick(rng_, kRuLast);
            if (female) {
                c.last_name += "а";  // every surname in the list takes the feminine -а
            }
        } else {
            c.name = Pick(rng_, kEnFirst);
            c.last_name = Pick(rng_, kEnLast);
        }
    }

    std::string CompanyTitle() {
        if (Chance(0.7)) {
            return std::string(Pick(rng_, kRuForm)) + " «" + Pick(rng_, kRuCoRoot) + "-" +
                   Pick(rng_, kRuCoTail) + "»";
        }
        return std::string(Pick(rng_, kEnCoRoot)) + " " + Pick(rng_, kEnCoTail) + " " +
               Pick(rng_, kEnForm);
    }

    void ContactChannels(std::vector<Multifield>& fm, const std::string& hint) {
        if (Chance(0.65)) {
            fm.push_back({0, "PHONE", Chance(0.6) ? "MOBILE" : "WORK", Phone()});
            if (Chance(0.15)) {
                fm.push_back({0, "PHONE", "HOME", Phone()});
            }
        }
        if (Chance(0.5)) {
            fm.push_back({0, "EMAIL", Chance(0.5) ? "WORK" : "HOME", Email(hint)});
        }
        if (Chance(0.08)) {
            fm.push_back({0, "WEB", "WORK", "https://" + hint + Digits(2) + ".example.org"});
        }
        if (Chance(0.06)) {
            fm.push_back({0, "IM", "TELEGRAM", "@" + hint + Digits(3)});
        }
        if (Chance(0.04)) {
            fm.push_back({0, "IM", "IMOL", "imol|telegrambot|1|" + Digits(9)});
        }
    }

    Time Between(Time lo, Time hi) {
        if (hi <= lo) {
            return lo;
        }
        return lo + static_cast<Time>(Unit() * static_cast<double>(hi - lo));
    }

    Time Day(Time t) const { return detail::StartOfDay(t, tz_); }

    const DatasetOptions& o_;
    std::mt19937_64 rng_;
    Time end_, start_;
    int tz_;
    std::vector<Time> bursts_;
};

struct ClientRef {
    bool company = false;
    int64_t id = 0;
    Time created = 0;
    int64_t assigned = 1;
    std::vector<int64_t> contacts;   // for companies: member contacts
    int64_t company_of_contact = 0;  // for contacts: primary client company (0 = B2C)
};

}  // namespace

DatasetSummary GenerateDataset(Portal& portal, const DatasetOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    DatasetSummary summary;
    const Time end = o.end != 0 ? o.end : static_cast<Time>(portal.Now());
    Gen g(o, end, portal.tz_offset_minutes());

    // Users: the admin exists (id 1); managers read only their own rows; one supervisor reads all.
    std::vector<int64_t> owners = {1};
    for (int i = 0; i < o.managers; ++i) {
        User u;
        Contact tmp;
        g.PersonName(tmp);
        u.name = tmp.name;
        u.last_name = tmp.last_name;
        u.email = "manager" + std::to_string(i + 1) + "@example.com";
        u.crm_read = CrmRead::kOwn;
        u.work_position = "Sales manager";
        const int64_t id = portal.AddUser(u);
        summary.manager_ids.push_back(id);
        owners.push_back(id);
    }
    {
        User sup;
        sup.name = "Svetlana";
        sup.last_name = "Supervisor";
        sup.email = "supervisor@example.com";
        sup.crm_read = CrmRead::kAll;
        sup.work_position = "Head of sales";
        owners.push_back(portal.AddUser(sup));
    }
    auto owner = [&] { return owners[g.rng_() % owners.size()]; };

    portal.BulkLoad([&](CrmData& crm) {
        summary.second_pipeline_id = crm.AddDealPipeline("Repeat sales");
        // Reserve once: growing the tables by doubling would double the peak memory.
        crm.companies.rows.reserve(crm.companies.rows.size() + static_cast<size_t>(o.companies));
        crm.contacts.rows.reserve(crm.contacts.rows.size() + static_cast<size_t>(o.contacts));
        crm.deals.rows.reserve(crm.deals.rows.size() + static_cast<size_t>(o.deals));
        crm.invoices.rows.reserve(crm.invoices.rows.size() + static_cast<size_t>(o.invoices));
        crm.old_invoices.rows.reserve(crm.old_invoices.rows.size() +
                                      static_cast<size_t>(o.old_invoices));
        crm.activities.rows.reserve(crm.activities.rows.size() + static_cast<size_t>(o.activities));
        crm.requisites.rows.reserve(crm.requisites.rows.size() + static_cast<size_t>(o.requisites));
        const int64_t pipeline2 = summary.second_pipeline_id;
        const int64_t inv_cat = crm.DefaultInvoiceCategory();
        const std::string inv_prefix = "DT31_" + std::to_string(inv_cat) + ":";

        // ---- companies ---------------------------------------------------------------
        std::vector<ClientRef> companies;
        {
            Company mine;
            mine.title = "ООО «Наша Компания»";
            mine.is_my_company = true;
            mine.date_create = mine.date_modify = g.start_;
            mine.fm.push_back({0, "PHONE", "WORK", "+7 495 000-00-00"});
            summary.my_company_id = crm.Insert(mine);
        }
        const auto company_times =
            g.Times(static_cast<size_t>(std::max(0, o.companies - 1)), g.start_);
        for (Time t : company_times) {
            Company c;
            c.title = g.CompanyTitle();
            c.date_create = t;
            c.date_modify = g.Chance(0.3) ? g.Between(t, end) : t;
            c.assigned_by_id = owner();
            c.created_by_id = c.assigned_by_id;
            c.revenue = static_cast<double>(g.Range(0, 500)) * 100000.0;
            c.industry = g.Chance(0.5) ? "IT" : (g.Chance(0.5) ? "MANUFACTURING" : "OTHER");
            g.ContactChannels(c.fm, std::string(Pick(g.rng_, kTranslit)));
            const int64_t id = crm.Insert(c);
            companies.push_back(ClientRef{true, id, t, c.assigned_by_id, {}, 0});
        }

        // ---- contacts ----------------------------------------------------------------
        std::vector<ClientRef> contacts;
        const auto contact_times = g.Times(static_cast<size_t>(o.contacts), g.start_);
        size_t xss_at =
            o.xss_contact && !contact_times.empty() ? contact_times.size() / 2 : SIZE_MAX;
        for (size_t i = 0; i < contact_times.size(); ++i) {
            const Time t = contact_times[i];
            Contact c;
            g.PersonName(c);
            if (i == xss_at) {
                c.name = "<img src=x onerror=alert(1)>";
                c.last_name = "Xss";
            }
            c.date_create = t;
            c.date_modify = g.Chance(0.3) ? g.Between(t, end) : t;
            c.assigned_by_id = owner();
            c.created_by_id = c.assigned_by_id;
            c.post = g.Chance(0.3) ? "Manager" : "";
            // Companies that existed when the contact was created.
            const size_t known = static_cast<size_t>(
                std::upper_bound(company_times.begin(), company_times.end(), t) -
                company_times.begin());
            int64_t primary_client = 0;
            if (g.Chance(o.employee_share)) {
                c.company_ids.push_back(summary.my_company_id);
            } else if (known > 0 && g.Chance(o.member_share)) {
                const int n = g.Chance(0.75) ? 1 : (g.Chance(0.6) ? 2 : 3);
                for (int k = 0; k < n; ++k) {
                    const size_t idx = g.rng_() % known;
                    const int64_t cid = companies[idx].id;
                    if (std::find(c.company_ids.begin(), c.company_ids.end(), cid) ==
                        c.company_ids.end()) {
                        c.company_ids.push_back(cid);
                    }
                }
                primary_client = c.company_ids.front();
            }
            if (primary_client != 0) {
                // Members mostly belong to the manager of their company.
                auto it =
                    std::lower_bound(companies.begin(), companies.end(), primary_client,
                                     [](const ClientRef& r, int64_t id) { return r.id < id; });
                c.assigned_by_id = g.Chance(0.85) ? it->assigned : owner();
            }
            const std::string hint = Pick(g.rng_, kTranslit);
            g.ContactChannels(c.fm, hint);
            const int64_t id = crm.Insert(c);
            if (i == xss_at) {
                summary.xss_contact_id = id;
            }
            ClientRef ref{false, id, t, c.assigned_by_id, {}, primary_client};
            for (int64_t cid : c.company_ids) {
                auto it = std::lower_bound(companies.begin(), companies.end(), cid,
                                           [](const ClientRef& r, int64_t v) { return r.id < v; });
                if (it != companies.end() && it->id == cid) {
                    it->contacts.push_back(id);
                }
            }
            contacts.push_back(std::move(ref));
        }

        // Clients a deal can belong to: client companies and B2C contacts.
        auto pick_client = [&](Time* created, int64_t* company, std::vector<int64_t>* deal_contacts,
                               int64_t* assigned) {
            if (!companies.empty() && (contacts.empty() || g.Chance(0.55))) {
                const ClientRef& co = companies[g.rng_() % companies.size()];
                *created = co.created;
                *company = co.id;
                *assigned = co.assigned;
                if (!co.contacts.empty() && g.Chance(0.7)) {
                    deal_contacts->push_back(co.contacts[g.rng_() % co.contacts.size()]);
                    if (co.contacts.size() > 1 && g.Chance(0.2)) {
                        const int64_t second = co.contacts[g.rng_() % co.contacts.size()];
                        if (second != deal_contacts->front()) {
                            deal_contacts->push_back(second);
                        }
                    }
                }
                return;
            }
            const ClientRef& ct = contacts[g.rng_() % contacts.size()];
            *created = ct.created;
            *company = 0;
            *assigned = ct.assigned;
            deal_contacts->push_back(ct.id);
        };

        // ---- deals -------------------------------------------------------------------
        struct DealRef {
            int64_t id;
            int64_t company;
            std::vector<int64_t> contacts;
            Time created;
            Time moved;
            char semantics;
            int64_t assigned;
        };
        std::vector<DealRef> deal_refs;
        if (!companies.empty() || !contacts.empty()) {
            std::vector<Deal> deals;
            deals.reserve(static_cast<size_t>(o.deals));
            for (int i = 0; i < o.deals; ++i) {
                Deal d;
                Time client_created = 0;
                pick_client(&client_created, &d.company_id, &d.contact_ids, &d.assigned_by_id);
                d.date_create = g.Between(client_created, end);
                d.category_id = g.Chance(0.25) ? pipeline2 : 0;
                const double age = static_cast<double>(end - d.date_create) / (365.0 * kDay);
                const double in_progress = age < 0.25 ? 0.6 : (age < 1 ? 0.2 : 0.03);
                const double r = g.Unit();
                char sem =
                    r < in_progress ? 'P' : (r < in_progress + (1 - in_progress) * 0.6 ? 'S' : 'F');
                if (d.category_id == 0) {
                    static const char* kProgress[] = {"NEW", "PREPARATION", "PREPAYMENT_INVOICE",
                                                      "EXECUTING", "FINAL_INVOICE"};
                    d.stage_id = sem == 'P'
                                     ? kProgress[g.rng_() % 5]
                                     : (sem == 'S' ? "WON" : (g.Chance(0.8) ? "LOSE" : "APOLOGY"));
                } else {
                    const std::string p = "C" + std::to_string(pipeline2) + ":";
                    d.stage_id = p + (sem == 'P' ? (g.Chance(0.5) ? "NEW" : "WORK")
                                                 : (sem == 'S' ? "WON" : "LOSE"));
                }
                d.moved_time =
                    sem == 'P'
                        ? g.Between(d.date_create, std::min(end, d.date_create + 30 * kDay))
                        : g.Between(d.date_create, std::min(end, d.date_create + 120 * kDay));
                d.date_modify = d.moved_time;
                d.begindate = g.Day(d.date_create);
                d.closedate = sem == 'P' ? g.Day(d.date_create + 30 * kDay) : g.Day(d.moved_time);
                d.opportunity = static_cast<double>(g.Range(1, 400)) * 2500.0;
                d.title = "Deal #" + std::to_string(i + 1);
                d.moved_by_id = d.created_by_id = d.modify_by_id = d.assigned_by_id;
                deals.push_back(std::move(d));
            }
            std::stable_sort(deals.begin(), deals.end(), [](const Deal& a, const Deal& b) {
                return a.date_create < b.date_create;
            });
            for (auto& d : deals) {
                const char sem = crm.DealStageSemantics(d.category_id, d.stage_id);
                const int64_t id = crm.Insert(d);
                deal_refs.push_back(DealRef{id, d.company_id, d.contact_ids, d.date_create,
                                            d.moved_time, sem, d.assigned_by_id});
            }
        }

        // ---- smart invoices --------------------------------------------------------------
        {
            std::vector<SmartInvoice> invoices;
            invoices.reserve(static_cast<size_t>(o.invoices));
            size_t cursor = 0;
            while (static_cast<int>(invoices.size()) < o.invoices && !deal_refs.empty()) {
                const DealRef& d = deal_refs[(cursor++ * 7919) % deal_refs.size()];
                int count = 1;
                std::string stage;
                if (d.semantics == 'S') {
                    const double r = g.Unit();
                    count = r < 0.4 ? 0 : (r < 0.85 ? 1 : 3);  // instalments
                    stage = "P";
                } else if (d.semantics == 'F') {
                    count = g.Chance(0.3) ? 1 : 0;
                    stage = "D";
                } else {
                    count = g.Chance(0.5) ? 1 : 0;
                    stage = g.Chance(0.5) ? "N" : "S";
                }
                if (cursor > deal_refs.size() * 4) {
                    count = std::max(count, 1);  // small datasets: make sure the target is reached
                }
                for (int k = 0; k < count && static_cast<int>(invoices.size()) < o.invoices; ++k) {
                    SmartInvoice inv;
                    inv.parent_id2 = d.id;
                    inv.company_id = d.company;
                    inv.contact_ids = d.contacts;
                    if (!companies.empty() && g.Chance(0.03)) {
                        // The payer is another company than the deal's.
                        inv.company_id = companies[g.rng_() % companies.size()].id;
                    }
                    inv.category_id = inv_cat;
                    inv.stage_id = inv_prefix + stage;
                    inv.created_time = g.Between(d.created, std::min(end, d.moved + 5 * kDay));
                    inv.moved_time = stage == "P" || stage == "D"
                                         ? g.Between(inv.created_time,
                                                     std::min(end, inv.created_time + 45 * kDay))
                                         : inv.created_time;
                    inv.updated_time = inv.moved_time;
                    inv.begindate = g.Day(inv.created_time);
                    inv.closedate = g.Day(inv.created_time + 14 * kDay);
                    inv.opportunity = static_cast<double>(g.Range(1, 200)) * 1000.0;
                    inv.assigned_by_id = d.assigned;
                    inv.mycompany_id = summary.my_company_id;
                    invoices.push_back(std::move(inv));
                }
            }
            std::stable_sort(invoices.begin(), invoices.end(),
                             [](const SmartInvoice& a, const SmartInvoice& b) {
                                 return a.created_time < b.created_time;
                             });
            int n = 0;
            for (auto& inv : invoices) {
                inv.title = "Invoice #" + std::to_string(++n);
                inv.account_number = std::to_string(1000 + n);
                crm.Insert(std::move(inv));
            }
        }

        // ---- old invoices (before the smart ones existed) ----------------------------------
        {
            std::vector<OldInvoice> olds;
            for (int i = 0; i < o.old_invoices && !deal_refs.empty(); ++i) {
                const DealRef& d = deal_refs[g.rng_() % std::max<size_t>(1, deal_refs.size() / 3)];
                OldInvoice inv;
                inv.uf_deal_id = d.id;
                inv.uf_company_id = d.company;
                inv.uf_contact_id = d.contacts.empty() ? 0 : d.contacts.front();
                inv.date_insert = g.Between(d.created, std::min(end, d.created + 20 * kDay));
                inv.payed = d.semantics == 'S' ? g.Chance(0.9) : false;
                inv.status_id = inv.payed ? "P" : (d.semantics == 'F' ? "D" : "N");
                if (inv.payed) {
                    inv.date_payed =
                        g.Between(inv.date_insert, std::min(end, inv.date_insert + 30 * kDay));
                }
                inv.date_update = inv.date_payed.value_or(inv.date_insert);
                inv.date_bill = g.Day(inv.date_insert);
                inv.date_status = inv.date_update;
                inv.price = static_cast<double>(g.Range(1, 100)) * 1500.0;
                inv.responsible_id = d.assigned;
                inv.uf_mycompany_id = summary.my_company_id;
                olds.push_back(std::move(inv));
            }
            std::stable_sort(olds.begin(), olds.end(),
                             [](const OldInvoice& a, const OldInvoice& b) {
                                 return a.date_insert < b.date_insert;
                             });
            int n = 0;
            for (auto& inv : olds) {
                inv.account_number = "OLD-" + std::to_string(++n);
                inv.order_topic = "Invoice " + inv.account_number;
                crm.Insert(std::move(inv));
            }
        }

        // ---- activities ----------------------------------------------------------------
        {
            struct Kind {
                int type;
                const char* provider;
                const char* provider_type;
                const char* subject;
                double weight;
            };
            static const Kind kKinds[] = {
                {2, "VOXIMPLANT_CALL", "CALL", "Call", 0.45},
                {4, "CRM_EMAIL", "EMAIL", "E-mail", 0.25},
                {1, "CRM_MEETING", "MEETING", "Meeting", 0.08},
                {3, "CRM_TASKS_TASK", "TASK", "Task", 0.10},
                {6, "CRM_TODO", "TODO", "To-do", 0.07},
                {6, "IMOPENLINES_SESSION", "IMOPENLINES_SESSION", "Open channel chat", 0.05}};
            std::vector<Activity> acts;
            acts.reserve(static_cast<size_t>(o.activities));
            for (int i = 0; i < o.activities; ++i) {
                double r = g.Unit();
                const Kind* kind = &kKinds[0];
                for (const Kind& k : kKinds) {
                    if (r < k.weight) {
                        kind = &k;
                        break;
                    }
                    r -= k.weight;
                }
                Activity a;
                a.type_id = kind->type;
                a.provider_id = kind->provider;
                a.provider_type_id = kind->provider_type;
                Time owner_created = g.start_;
                const double w = g.Unit();
                if (w < 0.3 && !deal_refs.empty()) {
                    const DealRef& d = deal_refs[g.rng_() % deal_refs.size()];
                    a.owner_type_id = kDeal;
                    a.owner_id = d.id;
                    owner_created = d.created;
                    a.responsible_id = d.assigned;
                    if (!d.contacts.empty() && (kind->type == 2 || kind->type == 4)) {
                        a.communications.push_back({0, kContact, d.contacts.front(),
                                                    kind->type == 2 ? "PHONE" : "EMAIL", ""});
                    } else if (d.company != 0 && (kind->type == 2 || kind->type == 4)) {
                        a.communications.push_back(
                            {0, kCompany, d.company, kind->type == 2 ? "PHONE" : "EMAIL", ""});
                    }
                } else if (w < 0.6 && !companies.empty()) {
                    const ClientRef& co = companies[g.rng_() % companies.size()];
                    a.owner_type_id = kCompany;
                    a.owner_id = co.id;
                    owner_created = co.created;
                    a.responsible_id = co.assigned;
                    if (!co.contacts.empty() && g.Chance(0.5)) {
                        a.communications.push_back({0, kContact, co.contacts.front(),
                                                    kind->type == 4 ? "EMAIL" : "PHONE", ""});
                    }
                } else if (!contacts.empty()) {
                    const ClientRef& ct = contacts[g.rng_() % contacts.size()];
                    a.owner_type_id = kContact;
                    a.owner_id = ct.id;
                    owner_created = ct.created;
                    a.responsible_id = ct.assigned;
                    if (kind->type == 2 || kind->type == 4 || kind->type == 6) {
                        a.communications.push_back(
                            {0, kContact, ct.id,
                             kind->type == 4 ? "EMAIL" : (kind->type == 6 ? "IM" : "PHONE"), ""});
                    }
                } else {
                    continue;
                }
                for (auto& c : a.communications) {
                    c.value = c.type == "EMAIL"
                                  ? "client@example.com"
                                  : (c.type == "IM" ? "imol|" + g.Digits(6) : g.Phone());
                }
                a.created = g.Between(owner_created, end);
                a.start_time = a.created;
                a.end_time = a.created + g.Range(60, 3600);
                a.completed = a.end_time < end - 2 * kDay || g.Chance(0.5);
                a.status = a.completed ? 2 : 1;
                a.last_updated = a.completed ? std::min(end, a.end_time) : a.created;
                a.direction = g.Chance(0.5) ? 1 : 2;
                a.subject = std::string(kind->subject) + " #" + std::to_string(i + 1);
                a.author_id = a.editor_id = a.responsible_id;
                if (kind->type == 3 ||
                    (kind->type == 6 && std::string(kind->provider) == "CRM_TODO")) {
                    a.deadline = a.created + 3 * kDay;
                }
                acts.push_back(std::move(a));
            }
            std::stable_sort(acts.begin(), acts.end(), [](const Activity& a, const Activity& b) {
                return a.created < b.created;
            });
            for (auto& a : acts) {
                crm.Insert(std::move(a));
            }
            std::vector<Activity>().swap(acts);
        }

        // ---- requisites --------------------------------------------------------------
        {
            std::vector<Requisite> reqs;
            for (int i = 0; i < o.requisites; ++i) {
                Requisite r;
                if (!companies.empty() && (contacts.empty() || g.Chance(0.8))) {
                    const ClientRef& co = companies[g.rng_() % companies.size()];
                    r.entity_type_id = kCompany;
                    r.entity_id = co.id;
                    r.date_create = g.Between(co.created, end);
                    r.name = "Organization";
                    r.rq_inn = g.Digits(10);
                    r.rq_kpp = g.Digits(9);
                    r.rq_company_name = "Company " + std::to_string(co.id);
                } else if (!contacts.empty()) {
                    const ClientRef& ct = contacts[g.rng_() % contacts.size()];
                    r.entity_type_id = kContact;
                    r.entity_id = ct.id;
                    r.date_create = g.Between(ct.created, end);
                    r.name = "Person";
                    r.preset_id = 2;
                    r.rq_inn = g.Digits(12);
                } else {
                    break;
                }
                r.date_modify = r.date_create;
                reqs.push_back(std::move(r));
            }
            std::stable_sort(reqs.begin(), reqs.end(), [](const Requisite& a, const Requisite& b) {
                return a.date_create < b.date_create;
            });
            for (auto& r : reqs) {
                crm.Insert(std::move(r));
            }
        }

        summary.contacts = crm.contacts.rows.size();
        summary.companies = crm.companies.rows.size();
        summary.deals = crm.deals.rows.size();
        summary.invoices = crm.invoices.rows.size();
        summary.old_invoices = crm.old_invoices.rows.size();
        summary.activities = crm.activities.rows.size();
        summary.requisites = crm.requisites.rows.size();
    });
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return summary;
}

}  // namespace fakeportal
