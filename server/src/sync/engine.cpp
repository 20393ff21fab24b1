#include "sync/engine.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "b24client/client.hpp"
#include "b24client/error.hpp"
#include "b24client/json_util.hpp"
#include "crypto.hpp"
#include "db.hpp"
#include "sync/row_mapping.hpp"
#include "sync/segment_bridge.hpp"
#include "sync/user_fields.hpp"

namespace server::sync {

using nlohmann::json;

const char* ToString(RunKind kind) {
    switch (kind) {
        case RunKind::kFirst:
            return "first";
        case RunKind::kIncremental:
            return "incremental";
        case RunKind::kFull:
            return "full";
        case RunKind::kRecompute:
            return "recompute";
    }
    return "incremental";
}

std::optional<RunKind> RunKindFromString(const std::string& text) {
    for (RunKind k :
         {RunKind::kFirst, RunKind::kIncremental, RunKind::kFull, RunKind::kRecompute}) {
        if (text == ToString(k)) {
            return k;
        }
    }
    return std::nullopt;
}

namespace {

// ---------------------------------------------------------------------------------------------
// The entities we pull and how each is listed.

enum class Entity { kContact, kCompany, kDeal, kInvoice, kOldInvoice, kActivity, kRequisite };
constexpr Entity kAllEntities[] = {Entity::kContact,  Entity::kCompany,    Entity::kDeal,
                                   Entity::kInvoice,  Entity::kOldInvoice, Entity::kActivity,
                                   Entity::kRequisite};

const char* Name(Entity e) {
    switch (e) {
        case Entity::kContact:
            return "contact";
        case Entity::kCompany:
            return "company";
        case Entity::kDeal:
            return "deal";
        case Entity::kInvoice:
            return "invoice";
        case Entity::kOldInvoice:
            return "old_invoice";
        case Entity::kActivity:
            return "activity";
        case Entity::kRequisite:
            return "requisite";
    }
    return "";
}

std::optional<Entity> EntityFromName(const std::string& name) {
    for (Entity e : kAllEntities) {
        if (name == Name(e)) {
            return e;
        }
    }
    return std::nullopt;
}

int ItemsType(Entity e) {
    switch (e) {
        case Entity::kContact:
            return 3;
        case Entity::kCompany:
            return 4;
        case Entity::kDeal:
            return 2;
        case Entity::kInvoice:
            return 31;
        default:
            return 0;
    }
}

// Field names used in filters: creation and modification time.
const char* CreatedField(Entity e) {
    switch (e) {
        case Entity::kOldInvoice:
            return "DATE_INSERT";
        case Entity::kActivity:
            return "CREATED";
        case Entity::kRequisite:
            return "DATE_CREATE";
        default:
            return "createdTime";
    }
}

const char* UpdatedField(Entity e) {
    switch (e) {
        case Entity::kOldInvoice:
            return "DATE_UPDATE";
        case Entity::kActivity:
            return "LAST_UPDATED";
        case Entity::kRequisite:
            return "DATE_MODIFY";
        default:
            return "updatedTime";
    }
}

json Select(Entity e) {
    switch (e) {
        case Entity::kContact:
        case Entity::kCompany:
            // fm (phones, e-mails, sites, messengers) only comes with exactly ["*"]; so do the
            // UF values the card carries.
            return json::array({"*"});
        case Entity::kDeal:
            return {"id",          "title",           "companyId", "contactId",
                    "contactIds",  "stageSemanticId", "movedTime", "closedate",
                    "createdTime", "updatedTime"};
        case Entity::kInvoice:
            return {"id",        "title",   "companyId", "contactId",   "contactIds",
                    "parentId2", "stageId", "movedTime", "createdTime", "updatedTime"};
        case Entity::kOldInvoice:
            return {"ID",    "ORDER_TOPIC", "UF_COMPANY_ID", "UF_CONTACT_ID", "UF_DEAL_ID",
                    "PAYED", "DATE_PAYED",  "DATE_INSERT",   "DATE_UPDATE"};
        case Entity::kActivity:
            return {"ID", "OWNER_TYPE_ID", "OWNER_ID", "CREATED", "LAST_UPDATED", "COMMUNICATIONS"};
        case Entity::kRequisite:
            return {"ID", "ENTITY_TYPE_ID", "ENTITY_ID", "DATE_CREATE", "DATE_MODIFY"};
    }
    return json::array();
}

const char* LegacyMethod(Entity e) {
    switch (e) {
        case Entity::kOldInvoice:
            return "crm.invoice.list";
        case Entity::kActivity:
            return "crm.activity.list";
        case Entity::kRequisite:
            return "crm.requisite.list";
        default:
            return "";
    }
}

b24client::WalkSpec MakeWalk(Entity e, json filter, json select) {
    int type = ItemsType(e);
    b24client::WalkSpec spec =
        type != 0
            ? b24client::WalkSpec::Items(type, std::move(filter), std::move(select))
            : b24client::WalkSpec::Legacy(LegacyMethod(e), std::move(filter), std::move(select));
    if (e == Entity::kContact || e == Entity::kCompany) {
        spec.params["useOriginalUfNames"] = "Y";
    }
    return spec;
}

b24client::IdFetchSpec MakeFetch(Entity e, std::vector<std::int64_t> ids) {
    b24client::WalkSpec walk = MakeWalk(e, json::object(), Select(e));
    b24client::IdFetchSpec spec;
    spec.method = walk.method;
    spec.params = walk.params;
    spec.id_field = walk.id_field;
    spec.items_key = walk.items_key;
    spec.ids = std::move(ids);
    if (spec.params.contains("filter") && spec.params["filter"].empty()) {
        spec.params.erase("filter");
    }
    return spec;
}

// ---------------------------------------------------------------------------------------------
// Rows collected for one commit.

struct Collected {
    std::vector<ContactRow> contacts;
    std::vector<CompanyRow> companies;
    std::vector<DealRow> deals;
    std::vector<InvoiceRow> invoices;
    std::vector<OldInvoiceRow> old_invoices;
    std::vector<ActivityRow> activities;
    std::vector<RequisiteRow> requisites;
    std::vector<std::pair<CardKey, CardValues>> cards;  // values the pulled cards carry
    std::int64_t rows = 0;

    void Ingest(Entity e, std::vector<json>& batch, const EnumItemsByField& items) {
        for (const json& row : batch) {
            ++rows;
            switch (e) {
                case Entity::kContact:
                    if (auto r = MapContact(row)) {
                        cards.push_back({{CardKind::kContact, r->id}, ReadCardValues(row, items)});
                        contacts.push_back(std::move(*r));
                    }
                    break;
                case Entity::kCompany:
                    if (auto r = MapCompany(row)) {
                        cards.push_back({{CardKind::kCompany, r->id}, ReadCardValues(row, items)});
                        companies.push_back(std::move(*r));
                    }
                    break;
                case Entity::kDeal:
                    if (auto r = MapDeal(row)) {
                        deals.push_back(std::move(*r));
                    }
                    break;
                case Entity::kInvoice:
                    if (auto r = MapInvoice(row)) {
                        invoices.push_back(std::move(*r));
                    }
                    break;
                case Entity::kOldInvoice:
                    if (auto r = MapOldInvoice(row)) {
                        old_invoices.push_back(std::move(*r));
                    }
                    break;
                case Entity::kActivity:
                    if (auto r = MapActivity(row)) {
                        activities.push_back(std::move(*r));
                    }
                    break;
                case Entity::kRequisite:
                    if (auto r = MapRequisite(row)) {
                        requisites.push_back(std::move(*r));
                    }
                    break;
            }
        }
    }

    // Stores everything; the caller holds a transaction.
    void Store(PortalDb& db) const {
        db.Upsert(contacts);
        db.Upsert(companies);
        db.Upsert(deals);
        db.Upsert(invoices);
        db.Upsert(old_invoices);
        db.Upsert(activities);
        db.Upsert(requisites);
        db.SetCards(cards);
    }
};

EnumItemsByField LoadItems(PortalDb& db) {
    EnumItemsByField out;
    for (const char* field :
         {"UF_CRM_SEG_LIFECYCLE", "UF_CRM_SEG_CLIENT_TYPE", "UF_CRM_SEG_FREQUENCY"}) {
        // Item ids are per field and the same on contacts and companies only by accident: keep
        // both, they never collide within one field's answers.
        for (const char* entity : {"contact", "company"}) {
            for (const auto& [xml, id] : db.UserFieldItems(entity, field)) {
                out[field][id] = xml;
            }
        }
    }
    return out;
}

std::string MonthKey(segmenter::YearMonth ym) {
    return segmenter::FormatYearMonth(ym);
}
constexpr const char* kBeforeFirstMonth = "0000-00";

// The instant a month starts at, written in the portal's offset.
std::string MonthStart(segmenter::YearMonth ym, std::int32_t offset) {
    auto instant = segmenter::MakeInstant(ym.year, ym.month, 1, 0, 0, 0, offset);
    return segmenter::FormatInstant(instant.value_or(segmenter::Instant{0, offset}));
}

b24client::Command Cmd(std::string method, json params, std::string key = "") {
    b24client::Command c;
    c.method = std::move(method);
    c.params = std::move(params);
    c.key = std::move(key);
    return c;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Engine::State {
    RunContext& ctx;
    EngineOptions& options;
    RunRecord run;
    std::uint64_t requests_at_start = 0;
    std::int64_t requests_before = 0;  // requests of earlier sessions of a resumed run
    std::chrono::steady_clock::time_point phase_started = std::chrono::steady_clock::now();
    std::int64_t phase_progress_at_start = 0;

    PortalDb& db() { return *ctx.db; }
    b24client::Client& client() { return *ctx.client; }

    void Save() {
        run.requests = requests_before + static_cast<std::int64_t>(
                                             client().GetStats().http_requests - requests_at_start);
        json stats = json::object();
        for (const auto& [method, m] : client().GetStats().methods) {
            stats[method] = {{"requests", m.http_requests},
                             {"nested", m.nested_calls},
                             {"operating_s", m.operating_seconds}};
        }
        run.stats = stats.dump();
        db().SaveRun(run);
        if (ctx.on_progress) {
            ctx.on_progress(run);
        }
    }

    void EnterPhase(const char* phase, std::int64_t progress_now) {
        run.phase = phase;
        run.eta_seconds.reset();
        phase_started = std::chrono::steady_clock::now();
        phase_progress_at_start = progress_now;
        Save();
    }

    // Estimated seconds left from the pace of this phase so far.
    void UpdateEta(std::int64_t done, std::int64_t total) {
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - phase_started).count();
        std::int64_t progressed = done - phase_progress_at_start;
        if (progressed > 0 && total >= done) {
            run.eta_seconds = static_cast<std::int64_t>(elapsed / static_cast<double>(progressed) *
                                                        static_cast<double>(total - done));
        }
    }

    std::int32_t Offset() {
        auto text = db().GetMeta("portal.offset");
        return text ? static_cast<std::int32_t>(std::stol(*text)) : 0;
    }

    segmenter::Instant Now() { return segmenter::Instant{ctx.now(), Offset()}; }

    std::string NowText(std::int64_t minus_seconds = 0) {
        return segmenter::FormatInstant(segmenter::Instant{ctx.now() - minus_seconds, Offset()});
    }

    // --- preflight: month range, time zone, invoice stages, users, old invoices ---------------
    void Preflight() {
        std::vector<b24client::Command> cmds = {
            {"crm.item.list",
             {{"entityTypeId", 3},
              {"select", {"id", "createdTime"}},
              {"order", {{"createdTime", "ASC"}}},
              {"start", -1}},
             "first_contact"},
            {"crm.item.list",
             {{"entityTypeId", 4},
              {"select", {"id", "createdTime"}},
              {"order", {{"createdTime", "ASC"}}},
              {"start", -1}},
             "first_company"},
            {"crm.invoice.list",
             {{"select", {"ID"}}, {"order", {{"ID", "ASC"}}}, {"start", -1}},
             "old_invoices"},
        };
        auto results = client().Batch(cmds);
        auto first_created = [](const b24client::CommandResult& r) -> std::string {
            if (!r.ok) {
                return {};
            }
            const json* items = b24client::Find(r.result, "items");
            if (items == nullptr || !items->is_array() || items->empty()) {
                return {};
            }
            return b24client::ToString((*items)[0].value("createdTime", json())).value_or("");
        };
        if (!results[0].ok) {
            throw *results[0].error;
        }
        std::string a = first_created(results[0]);
        std::string b = first_created(results[1]);
        std::int32_t offset = 0;
        std::optional<segmenter::YearMonth> first;
        for (const std::string& text : {a, b}) {
            if (auto instant = segmenter::ParseInstant(text)) {
                offset = instant->offset;
                auto month = segmenter::MonthOf(*instant);
                if (!first || segmenter::MonthIndex(month) < segmenter::MonthIndex(*first)) {
                    first = month;
                }
            }
        }
        if (offset == 0) {
            // No contact or company yet: take the zone from the portal's own clock in `time`.
            offset = 0;
        }
        db().SetMeta("portal.offset", std::to_string(offset));
        segmenter::YearMonth now_month = segmenter::MonthOf(Now());
        if (!first || segmenter::MonthIndex(*first) > segmenter::MonthIndex(now_month)) {
            first = now_month;
        }
        bool old_invoices =
            results[2].ok && results[2].result.is_array() && !results[2].result.empty();
        db().SetMeta("pull.first_month", MonthKey(*first));
        db().SetMeta("pull.last_month", MonthKey(now_month));
        db().SetMeta("pull.old_invoices", old_invoices ? "1" : "0");
    }

    // Invoice stage semantics and user names: small, refreshed every run.
    void RefreshDirectories() {
        // Invoice stages: a portal without new invoices (or without the right to read them)
        // simply has no paid new invoices.
        b24client::Response categories;
        try {
            categories = client().Call("crm.category.list", {{"entityTypeId", 31}});
        } catch (const b24client::Error& e) {
            if (e.kind() != b24client::ErrorKind::kAccessDenied &&
                e.kind() != b24client::ErrorKind::kNotFound &&
                e.kind() != b24client::ErrorKind::kInvalidArgument &&
                e.kind() != b24client::ErrorKind::kMethodNotFound) {
                throw;
            }
            spdlog::warn("sync: invoice pipelines unavailable ({})", e.what());
        }
        std::vector<b24client::Command> cmds;
        if (const json* list = b24client::Find(categories.result, "categories");
            list != nullptr && list->is_array()) {
            for (const json& c : *list) {
                if (auto id = b24client::ToInt64(c.value("id", json()))) {
                    cmds.push_back(
                        Cmd("crm.status.list",
                            {{"filter",
                              {{"ENTITY_ID", "SMART_INVOICE_STAGE_" + std::to_string(*id)}}}}));
                }
            }
        }
        std::map<std::string, std::string> stages;
        for (const auto& r : client().Batch(cmds)) {
            if (!r.ok) {
                throw *r.error;
            }
            for (const json& s : r.result) {
                std::string status = b24client::ToString(s.value("STATUS_ID", json())).value_or("");
                std::string semantics =
                    b24client::ToString(s.value("SEMANTICS", json())).value_or("");
                if (!status.empty()) {
                    stages[status] = (semantics == "S" || semantics == "F") ? semantics : "P";
                }
            }
        }
        db().ReplaceInvoiceStages(stages);

        // Users: names of the responsible users shown in lists. Optional (needs user_brief).
        std::map<std::int64_t, std::string> users;
        try {
            auto first = client().Call("user.get", {{"start", 0}});
            std::int64_t total = first.total.value_or(0);
            auto add = [&](const json& list) {
                if (!list.is_array()) {
                    return;
                }
                for (const json& u : list) {
                    auto id = b24client::ToInt64(u.value("ID", json()));
                    if (!id) {
                        continue;
                    }
                    std::string name =
                        b24client::ToString(u.value("NAME", json())).value_or("") + " " +
                        b24client::ToString(u.value("LAST_NAME", json())).value_or("");
                    auto trim = [](std::string s) {
                        s.erase(0, s.find_first_not_of(' '));
                        s.erase(s.find_last_not_of(' ') + 1);
                        return s;
                    };
                    users[*id] = trim(name);
                }
            };
            add(first.result);
            std::vector<b24client::Command> pages;
            for (std::int64_t start = 50; start < total && start < 50 * 500; start += 50) {
                pages.push_back(Cmd("user.get", {{"start", start}}));
            }
            for (const auto& r : client().Batch(pages)) {
                if (r.ok) {
                    add(r.result);
                }
            }
            db().ReplaceUsers(users);
        } catch (const b24client::Error& e) {
            if (e.kind() != b24client::ErrorKind::kAccessDenied &&
                e.kind() != b24client::ErrorKind::kMethodNotFound) {
                throw;
            }
            spdlog::warn("user names unavailable ({}); lists will show ids", e.what());
        }
    }

    std::vector<Entity> Entities() {
        std::vector<Entity> out;
        for (Entity e : kAllEntities) {
            if (e == Entity::kOldInvoice &&
                db().GetMeta("pull.old_invoices").value_or("0") != "1") {
                continue;
            }
            out.push_back(e);
        }
        return out;
    }

    // --- the first pull: month by month ------------------------------------------------------
    void FirstPull() {
        if (!db().GetMeta("pull.first_month")) {
            Preflight();
        }
        // Marks for the next incremental run: the start of the first pull (with overlap).
        if (!db().GetMeta("mark.pending")) {
            db().SetMeta("mark.pending", NowText(options.overlap_seconds));
        }
        std::int32_t offset = Offset();
        auto first = segmenter::ParseYearMonth(*db().GetMeta("pull.first_month"));
        auto last = segmenter::ParseYearMonth(*db().GetMeta("pull.last_month"));
        std::int32_t first_index = segmenter::MonthIndex(*first);
        std::int32_t last_index = segmenter::MonthIndex(*last);

        // Windows: [start of month, start of next month); the first one is open below (rows
        // created before the first contact/company) and the last open above (rows created since).
        struct Window {
            std::string key;
            std::string from;
            std::string to;
        };
        std::vector<Window> windows;
        for (std::int32_t m = first_index; m <= last_index; ++m) {
            Window w;
            w.key = MonthKey(segmenter::FromMonthIndex(m));
            w.from = m == first_index ? "" : MonthStart(segmenter::FromMonthIndex(m), offset);
            w.to = m == last_index ? "" : MonthStart(segmenter::FromMonthIndex(m + 1), offset);
            windows.push_back(std::move(w));
        }
        run.months_total = static_cast<int>(windows.size());
        std::vector<Window> todo;
        for (const auto& w : windows) {
            if (!db().MonthDone(w.key)) {
                todo.push_back(w);
            }
        }
        run.months_done = run.months_total - static_cast<int>(todo.size());
        EnterPhase("pull", run.months_done);

        std::vector<Entity> entities = Entities();
        EnumItemsByField items = LoadItems(db());
        std::size_t group = static_cast<std::size_t>(std::max(1, options.months_per_walk));
        for (std::size_t start = 0; start < todo.size(); start += group) {
            std::size_t end = std::min(todo.size(), start + group);
            std::vector<b24client::WalkSpec> walks;
            struct Slot {
                std::size_t month;  // index into todo
                Entity entity;
            };
            std::vector<Slot> slots;
            std::map<std::size_t, Collected> buffers;
            std::map<std::size_t, int> walks_left;
            for (std::size_t i = start; i < end; ++i) {
                for (Entity e : entities) {
                    json filter = json::object();
                    if (!todo[i].from.empty()) {
                        filter[std::string(">=") + CreatedField(e)] = todo[i].from;
                    }
                    if (!todo[i].to.empty()) {
                        filter[std::string("<") + CreatedField(e)] = todo[i].to;
                    }
                    walks.push_back(MakeWalk(e, filter, Select(e)));
                    slots.push_back({i, e});
                    ++walks_left[i];
                }
            }
            b24client::WalkHandlers handlers;
            handlers.on_rows = [&](std::size_t walk, std::vector<json>&& rows, std::int64_t) {
                buffers[slots[walk].month].Ingest(slots[walk].entity, rows, items);
            };
            handlers.on_done = [&](std::size_t walk, std::int64_t) {
                std::size_t month = slots[walk].month;
                if (--walks_left[month] > 0) {
                    return;
                }
                Collected& rows = buffers[month];
                db().InTransaction([&] {
                    rows.Store(db());
                    db().MarkMonthDone(todo[month].key, rows.rows);
                });
                run.rows += rows.rows;
                ++run.months_done;
                run.month = todo[month].key;
                buffers.erase(month);
                UpdateEta(run.months_done, run.months_total);
                Save();
            };
            client().Walk(walks, handlers);
        }
        db().InTransaction([&] {
            for (Entity e : entities) {
                db().SetMeta(std::string("mark.") + Name(e), *db().GetMeta("mark.pending"));
            }
            db().DeleteMeta("mark.pending");
            db().SetMeta("pull.complete", "1");
        });
    }

    // --- incremental pull ----------------------------------------------------------------------
    void IncrementalPull() {
        EnterPhase("pull", 0);
        std::string next_mark = NowText(options.overlap_seconds);
        std::vector<Entity> entities = Entities();
        EnumItemsByField items = LoadItems(db());
        bool offline = db().GetMeta("offline.enabled").value_or("0") == "1";
        if (offline) {
            DrainOfflineQueue();
        } else {
            // Rows modified since the mark, every entity in one packed walk.
            std::vector<b24client::WalkSpec> walks;
            for (Entity e : entities) {
                std::string mark = db().GetMeta(std::string("mark.") + Name(e)).value_or("");
                json filter = json::object();
                if (!mark.empty()) {
                    filter[std::string(">") + UpdatedField(e)] = mark;
                }
                walks.push_back(MakeWalk(e, filter, Select(e)));
            }
            Collected collected;
            b24client::WalkHandlers handlers;
            handlers.on_rows = [&](std::size_t walk, std::vector<json>&& rows, std::int64_t) {
                collected.Ingest(entities[walk], rows, items);
            };
            handlers.on_done = [](std::size_t, std::int64_t) {};
            client().Walk(walks, handlers);
            db().InTransaction([&] { collected.Store(db()); });
            run.rows += collected.rows;
            Save();
        }
        // Deletions and merges: offline events report them; without the queue (and once a day
        // with it, as a safety net) the counts per creation window are compared.
        std::int64_t last_check = std::stoll(db().GetMeta("check.last").value_or("0"));
        if (!offline || ctx.now() - last_check > options.check_interval_s) {
            CheckDeletions(entities);
            db().SetMeta("check.last", std::to_string(ctx.now()));
        }
        FetchDirty(items);
        db().InTransaction([&] {
            for (Entity e : entities) {
                db().SetMeta(std::string("mark.") + Name(e), next_mark);
            }
        });
    }

    // Offline events (event.offline.get with clear=0 under our own process id, then clear):
    // the ids go to the dirty table first, so a crash between the two calls loses nothing.
    void DrainOfflineQueue() {
        for (int round = 0; round < 1000; ++round) {
            std::string process_id = db().GetMeta("offline.process_id").value_or("");
            if (process_id.empty()) {
                process_id = "b24seg-" + Base64UrlEncode(RandomBytes(9));
                db().SetMeta("offline.process_id", process_id);
            }
            auto answer = client().Call("event.offline.get",
                                        {{"clear", 0},
                                         {"process_id", process_id},
                                         {"limit", 1000},
                                         {"auth_connector", options.auth_connector}},
                                        b24client::Repeat::kSafe);
            const json* events = b24client::Find(answer.result, "events");
            std::size_t count = events != nullptr && events->is_array() ? events->size() : 0;
            db().InTransaction([&] {
                if (count > 0) {
                    for (const json& ev : *events) {
                        RecordEvent(ev);
                    }
                }
            });
            if (count > 0) {
                client().Call("event.offline.clear", {{"process_id", process_id}},
                              b24client::Repeat::kSafe);
            }
            db().DeleteMeta("offline.process_id");
            if (count == 0) {
                return;
            }
        }
    }

    void RecordEvent(const json& ev) {
        std::string name = b24client::ToString(ev.value("EVENT_NAME", json())).value_or("");
        std::transform(name.begin(), name.end(), name.begin(), ::toupper);
        const json* data = b24client::Find(ev, "EVENT_DATA");
        const json* fields = data != nullptr ? b24client::Find(*data, "FIELDS") : nullptr;
        if (fields == nullptr) {
            fields = data;
        }
        if (fields == nullptr) {
            return;
        }
        auto id = b24client::ToInt64(fields->value("ID", json()));
        if (!id) {
            return;
        }
        std::string entity;
        if (name.rfind("ONCRMCONTACT", 0) == 0) {
            entity = "contact";
        } else if (name.rfind("ONCRMCOMPANY", 0) == 0) {
            entity = "company";
        } else if (name.rfind("ONCRMDEAL", 0) == 0) {
            entity = "deal";
        } else if (name.rfind("ONCRMINVOICE", 0) == 0) {
            entity = "old_invoice";
        } else if (name.rfind("ONCRMACTIVITY", 0) == 0) {
            entity = "activity";
        } else if (name.rfind("ONCRMREQUISITE", 0) == 0) {
            entity = "requisite";
        } else if (name.rfind("ONCRMDYNAMICITEM", 0) == 0) {
            if (b24client::ToInt64(fields->value("ENTITY_TYPE_ID", json())).value_or(0) != 31) {
                return;
            }
            entity = "invoice";
        } else {
            return;
        }
        // Deletions are confirmed by the fetch (an id the portal no longer has is deleted).
        db().AddDirty(entity, *id);
    }

    // Re-reads every id reported by events; ids the portal no longer has are deleted here. When
    // contacts or companies disappear, the rows that pointed at them are re-read too (a merge
    // moves deals, invoices, activities and requisites to the surviving card), in a second pass.
    void FetchDirty(const EnumItemsByField& items) {
        for (int pass = 0; pass < 3; ++pass) {
            auto dirty = db().Dirty();
            if (dirty.empty()) {
                return;
            }
            Collected collected;
            std::map<std::string, std::vector<std::int64_t>> gone;
            for (const auto& [name, ids] : dirty) {
                auto e = EntityFromName(name);
                if (!e) {
                    continue;
                }
                std::set<std::int64_t> seen;
                const char* id_key = ItemsType(*e) != 0 ? "id" : "ID";
                client().FetchByIds(MakeFetch(*e, ids), [&](std::vector<json>&& rows) {
                    for (const json& row : rows) {
                        if (auto id = b24client::ToInt64(row.value(id_key, json()))) {
                            seen.insert(*id);
                        }
                    }
                    collected.Ingest(*e, rows, items);
                });
                for (std::int64_t id : ids) {
                    if (seen.count(id) == 0) {
                        gone[name].push_back(id);
                    }
                }
            }
            db().InTransaction([&] {
                collected.Store(db());
                for (const auto& [name, ids] : gone) {
                    db().Delete(name, ids);
                }
                db().RemoveDirty(dirty);
                MarkReferencesDirty(gone["contact"], gone["company"]);
            });
            run.rows += collected.rows;
            Save();
        }
    }

    // Rows that point at these (now deleted) contacts or companies become dirty.
    void MarkReferencesDirty(const std::vector<std::int64_t>& contacts,
                             const std::vector<std::int64_t>& companies) {
        if (contacts.empty() && companies.empty()) {
            return;
        }
        std::set<std::int64_t> c(contacts.begin(), contacts.end());
        std::set<std::int64_t> co(companies.begin(), companies.end());
        auto any_contact = [&](const std::vector<std::int64_t>& ids) {
            return std::any_of(ids.begin(), ids.end(),
                               [&](std::int64_t id) { return c.count(id) != 0; });
        };
        std::vector<std::pair<const char*, std::int64_t>> marks;
        db().ForEach([&](const ContactRow& r) {
            if (std::any_of(r.company_ids.begin(), r.company_ids.end(),
                            [&](std::int64_t id) { return co.count(id) != 0; })) {
                marks.push_back({"contact", r.id});
            }
        });
        db().ForEach([&](const DealRow& r) {
            if (co.count(r.company_id) != 0 || any_contact(r.contact_ids)) {
                marks.push_back({"deal", r.id});
            }
        });
        db().ForEach([&](const InvoiceRow& r) {
            if (co.count(r.company_id) != 0 || any_contact(r.contact_ids)) {
                marks.push_back({"invoice", r.id});
            }
        });
        db().ForEach([&](const OldInvoiceRow& r) {
            if (co.count(r.company_id) != 0 || c.count(r.contact_id) != 0) {
                marks.push_back({"old_invoice", r.id});
            }
        });
        db().ForEach([&](const ActivityRow& r) {
            for (const auto& b : r.bindings) {
                if ((b.type == 3 && c.count(b.id) != 0) || (b.type == 4 && co.count(b.id) != 0)) {
                    marks.push_back({"activity", r.id});
                    break;
                }
            }
        });
        db().ForEach([&](const RequisiteRow& r) {
            if ((r.entity_type == 3 && c.count(r.entity_id) != 0) ||
                (r.entity_type == 4 && co.count(r.entity_id) != 0)) {
                marks.push_back({"requisite", r.id});
            }
        });
        for (const auto& [entity, id] : marks) {
            db().AddDirty(entity, id);
        }
    }

    // Compares per-window counts with the portal's and walks the ids of windows that differ.
    void CheckDeletions(const std::vector<Entity>& entities) {
        std::int32_t offset = Offset();
        auto first = segmenter::ParseYearMonth(db().GetMeta("pull.first_month").value_or(""));
        if (!first) {
            return;
        }
        segmenter::YearMonth now_month = segmenter::MonthOf(Now());
        struct Window {
            std::string from, to;  // "" = open
        };
        auto year_windows = [&] {
            std::vector<Window> out;
            for (std::int32_t y = first->year; y <= now_month.year; ++y) {
                Window w;
                w.from = y == first->year ? "" : MonthStart({y, 1}, offset);
                w.to = y == now_month.year ? "" : MonthStart({y + 1, 1}, offset);
                out.push_back(w);
            }
            return out;
        };
        auto month_windows = [&](const Window& year) {
            std::vector<Window> out;
            auto from =
                year.from.empty() ? *first : *segmenter::ParseYearMonth(year.from.substr(0, 7));
            auto to_year =
                year.to.empty()
                    ? now_month
                    : segmenter::FromMonthIndex(
                          segmenter::MonthIndex(*segmenter::ParseYearMonth(year.to.substr(0, 7))) -
                          1);
            for (std::int32_t m = segmenter::MonthIndex(from); m <= segmenter::MonthIndex(to_year);
                 ++m) {
                Window w;
                w.from = m == segmenter::MonthIndex(from)
                             ? year.from
                             : MonthStart(segmenter::FromMonthIndex(m), offset);
                w.to = m == segmenter::MonthIndex(to_year)
                           ? year.to
                           : MonthStart(segmenter::FromMonthIndex(m + 1), offset);
                out.push_back(w);
            }
            return out;
        };
        auto in_window = [](const segmenter::Instant& at, const Window& w, std::int32_t off) {
            if (!w.from.empty() && at.utc < segmenter::ParseInstant(w.from, off)->utc) {
                return false;
            }
            if (!w.to.empty() && at.utc >= segmenter::ParseInstant(w.to, off)->utc) {
                return false;
            }
            return true;
        };

        // Local (id, created instant) per entity.
        std::map<Entity, std::vector<std::pair<std::int64_t, segmenter::Instant>>> local;
        for (Entity e : entities) {
            auto& rows = local[e];
            db().ForEachCreated(Name(e), [&](std::int64_t id, const std::string& created) {
                if (auto at = segmenter::ParseInstant(created, offset)) {
                    rows.push_back({id, *at});
                }
            });
        }
        auto count_commands = [&](Entity e, const std::vector<Window>& windows) {
            std::vector<b24client::Command> cmds;
            for (const auto& w : windows) {
                json filter = json::object();
                if (!w.from.empty()) {
                    filter[std::string(">=") + CreatedField(e)] = w.from;
                }
                if (!w.to.empty()) {
                    filter[std::string("<") + CreatedField(e)] = w.to;
                }
                b24client::WalkSpec walk =
                    MakeWalk(e, filter, json::array({ItemsType(e) != 0 ? "id" : "ID"}));
                json params = walk.params;
                params["start"] = 0;  // counting page: `total` is the number of rows
                params.erase("useOriginalUfNames");
                cmds.push_back(Cmd(walk.method, params));
            }
            return cmds;
        };

        // Level 1: years, all entities in one batch stream. Level 2: months of differing years.
        std::vector<std::pair<Entity, Window>> suspects;
        for (int level = 0; level < 2; ++level) {
            std::vector<std::pair<Entity, Window>> windows;
            if (level == 0) {
                for (Entity e : entities) {
                    for (const auto& w : year_windows()) {
                        windows.push_back({e, w});
                    }
                }
            } else {
                for (const auto& [e, year] : suspects) {
                    for (const auto& w : month_windows(year)) {
                        windows.push_back({e, w});
                    }
                }
                suspects.clear();
            }
            // Counting is the expensive part of a list call and grows with the table (the docs
            // measured 49.9 s for 2.4 M rows), so big tables get few counts per batch: the whole
            // batch must stay well under the portal's 60 s request cap.
            std::vector<b24client::CommandResult> results;
            std::size_t next = 0;
            while (next < windows.size()) {
                Entity e = windows[next].first;
                double per_count = 0.1 + 2e-5 * static_cast<double>(local[e].size());
                auto per_batch = static_cast<std::size_t>(std::clamp(20.0 / per_count, 1.0, 50.0));
                std::vector<b24client::Command> cmds;
                while (next < windows.size() && windows[next].first == e &&
                       cmds.size() < per_batch) {
                    cmds.push_back(count_commands(e, {windows[next].second})[0]);
                    ++next;
                }
                for (auto& r : client().Batch(cmds)) {
                    results.push_back(std::move(r));
                }
            }
            for (std::size_t i = 0; i < windows.size(); ++i) {
                const auto& [e, w] = windows[i];
                if (!results[i].ok) {
                    throw *results[i].error;
                }
                std::int64_t remote = results[i].total.value_or(-1);
                std::int64_t mine = 0;
                for (const auto& [id, at] : local[e]) {
                    if (in_window(at, w, offset)) {
                        ++mine;
                    }
                }
                if (remote != mine) {
                    suspects.push_back({e, w});
                }
            }
            if (suspects.empty()) {
                return;
            }
        }
        // Level 3: the ids of each differing month; local ids the portal lacks are deleted, portal
        // ids we lack are fetched.
        for (const auto& [e, w] : suspects) {
            json filter = json::object();
            if (!w.from.empty()) {
                filter[std::string(">=") + CreatedField(e)] = w.from;
            }
            if (!w.to.empty()) {
                filter[std::string("<") + CreatedField(e)] = w.to;
            }
            b24client::WalkSpec walk =
                MakeWalk(e, filter, json::array({ItemsType(e) != 0 ? "id" : "ID"}));
            walk.params.erase("useOriginalUfNames");
            std::set<std::int64_t> remote;
            client().List(walk, [&](std::vector<json>&& rows) {
                for (const json& row : rows) {
                    if (auto id = b24client::ToInt64(row.value(walk.id_field, json()))) {
                        remote.insert(*id);
                    }
                }
            });
            std::vector<std::int64_t> gone;
            std::set<std::int64_t> mine;
            for (const auto& [id, at] : local[e]) {
                if (in_window(at, w, offset)) {
                    mine.insert(id);
                    if (remote.count(id) == 0) {
                        gone.push_back(id);
                    }
                }
            }
            db().InTransaction([&] {
                db().Delete(Name(e), gone);
                if (e == Entity::kContact) {
                    MarkReferencesDirty(gone, {});
                } else if (e == Entity::kCompany) {
                    MarkReferencesDirty({}, gone);
                }
                for (std::int64_t id : remote) {
                    if (mine.count(id) == 0) {
                        db().AddDirty(Name(e), id);
                    }
                }
            });
            if (!gone.empty()) {
                spdlog::info("sync: {} {} rows deleted in the portal", gone.size(), Name(e));
            }
        }
    }

    // --- compute -----------------------------------------------------------------------------
    ComputeResult Compute() {
        EnterPhase("compute", 0);
        segmenter::Instant t =
            ctx.segment_time ? segmenter::Instant{ctx.segment_time(), Offset()} : Now();
        auto index = std::make_shared<segmenter::PortalIndex>(
            segmenter::PortalIndex::Build(LoadPortalData(db(), Offset()), ctx.settings));
        std::vector<std::pair<CardKey, CardValues>> targets;
        for (const auto& card : index->AllCards(t)) {
            targets.push_back({ToKey(card.ref), ToStored(card.values)});
        }
        SeriesTable table = ToTable(index->Series(t));
        std::string this_month = MonthKey(segmenter::MonthOf(t));
        db().InTransaction([&] {
            db().ReplaceTargets(targets);
            db().ReplaceCurrentSeries(table);
            if (auto it = table.find(this_month); it != table.end()) {
                db().RecordSeries(this_month, it->second, run.id);
            }
            db().SetMeta("compute.at", segmenter::FormatInstant(t));
        });
        return {std::move(index), t};
    }

    // --- write back ----------------------------------------------------------------------------
    json FieldValue(const std::string& field,
                    const CardValues& v,
                    const std::map<std::string, std::map<std::string, std::int64_t>>& items) {
        auto enum_id = [&](const std::optional<std::string>& xml) -> json {
            if (!xml) {
                return "";
            }
            auto f = items.find(field);
            if (f == items.end() || f->second.count(*xml) == 0) {
                return "";
            }
            return f->second.at(*xml);
        };
        if (field == "UF_CRM_SEG_PARENT_COMPANY") {
            return v.parent_company ? json(std::to_string(*v.parent_company)) : json("");
        }
        if (field == "UF_CRM_SEG_LIFECYCLE") {
            return enum_id(v.lifecycle);
        }
        if (field == "UF_CRM_SEG_CLIENT_TYPE") {
            return enum_id(v.client_type);
        }
        if (field == "UF_CRM_SEG_FREQUENCY") {
            return enum_id(v.frequency);
        }
        if (field == "UF_CRM_SEG_LAST_PAYMENT") {
            return v.last_payment ? json(*v.last_payment) : json("");
        }
        if (field == "UF_CRM_SEG_PAYMENTS") {
            return v.payments ? json(*v.payments) : json("");
        }
        if (field == "UF_CRM_SEG_HAS_DIALOGS") {
            return v.has_dialogs ? json(*v.has_dialogs ? 1 : 0) : json("");
        }
        if (field == "UF_CRM_SEG_HAS_CHANNELS") {
            return v.has_channels ? json(*v.has_channels ? 1 : 0) : json("");
        }
        return "";
    }

    static bool FieldDiffers(const std::string& field, const CardValues& a, const CardValues& b) {
        if (field == "UF_CRM_SEG_PARENT_COMPANY") {
            return a.parent_company != b.parent_company;
        }
        if (field == "UF_CRM_SEG_LIFECYCLE") {
            return a.lifecycle != b.lifecycle;
        }
        if (field == "UF_CRM_SEG_CLIENT_TYPE") {
            return a.client_type != b.client_type;
        }
        if (field == "UF_CRM_SEG_FREQUENCY") {
            return a.frequency != b.frequency;
        }
        if (field == "UF_CRM_SEG_LAST_PAYMENT") {
            return a.last_payment != b.last_payment;
        }
        if (field == "UF_CRM_SEG_PAYMENTS") {
            return a.payments != b.payments;
        }
        if (field == "UF_CRM_SEG_HAS_DIALOGS") {
            return a.has_dialogs != b.has_dialogs;
        }
        return a.has_channels != b.has_channels;
    }

    // Cards of a batch that was sent but not confirmed: read what they carry now.
    void ResolvePending() {
        std::vector<CardKey> pending = db().WritePending();
        if (pending.empty()) {
            return;
        }
        EnumItemsByField items = LoadItems(db());
        std::vector<std::pair<CardKey, CardValues>> read;
        std::map<CardKind, std::vector<std::int64_t>> by_kind;
        for (const auto& key : pending) {
            by_kind[key.kind].push_back(key.id);
        }
        for (const auto& [kind, ids] : by_kind) {
            Entity e = kind == CardKind::kContact ? Entity::kContact : Entity::kCompany;
            client().FetchByIds(MakeFetch(e, ids), [&](std::vector<json>&& rows) {
                for (const json& row : rows) {
                    if (auto id = b24client::ToInt64(row.value("id", json()))) {
                        read.push_back({{kind, *id}, ReadCardValues(row, items)});
                    }
                }
            });
        }
        db().InTransaction([&] {
            db().SetCards(read);
            db().RemoveWritePending(pending);
        });
    }

    void Write() {
        ResolvePending();
        std::map<CardKey, CardValues> targets = db().Targets();
        std::map<CardKey, CardValues> cards = db().Cards();
        std::vector<CardKey> contacts, companies;
        for (const auto& [key, target] : targets) {
            auto it = cards.find(key);
            CardValues carried = it == cards.end() ? CardValues{} : it->second;
            if (!(carried == target)) {
                (key.kind == CardKind::kContact ? contacts : companies).push_back(key);
            }
        }
        run.cards_to_write =
            static_cast<std::int64_t>(contacts.size() + companies.size()) + run.cards_written;
        EnterPhase("write", run.cards_written);
        if (contacts.empty() && companies.empty()) {
            return;
        }
        // Contacts and companies are written through different methods, each with its own
        // operating budget (the binding limit for writes): two streams, one per method, share
        // the portal's request bucket and spend both budgets at the same time.
        std::mutex progress;
        std::exception_ptr failure;
        auto stream = [&](const std::vector<CardKey>& todo, CardKind kind) {
            try {
                WriteStream(todo, kind, targets, cards, progress);
            } catch (...) {
                std::lock_guard lock(progress);
                if (!failure) {
                    failure = std::current_exception();
                }
                ctx.cancel.Cancel();  // stop the other stream after its current request
            }
        };
        std::thread companies_thread(stream, std::cref(companies), CardKind::kCompany);
        stream(contacts, CardKind::kContact);
        companies_thread.join();
        if (failure) {
            std::rethrow_exception(failure);
        }
    }

    void WriteStream(const std::vector<CardKey>& todo,
                     CardKind kind,
                     const std::map<CardKey, CardValues>& targets,
                     const std::map<CardKey, CardValues>& cards,
                     std::mutex& progress) {
        std::map<std::string, std::map<std::string, std::int64_t>> item_ids;
        const char* entity = kind == CardKind::kContact ? "contact" : "company";
        for (const auto& def : SegmentFields()) {
            if (!def.xml_ids.empty()) {
                item_ids[def.name] = db().UserFieldItems(entity, def.name);
            }
        }
        const bool offline = db().GetMeta("offline.enabled").value_or("0") == "1";
        const std::string method =
            kind == CardKind::kContact ? "crm.contact.update" : "crm.company.update";
        const std::size_t batch = static_cast<std::size_t>(std::clamp(options.write_batch, 1, 50));
        for (std::size_t start = 0; start < todo.size(); start += batch) {
            std::size_t end = std::min(todo.size(), start + batch);
            std::vector<CardKey> keys(todo.begin() + static_cast<std::ptrdiff_t>(start),
                                      todo.begin() + static_cast<std::ptrdiff_t>(end));
            std::vector<b24client::Command> cmds;
            for (const auto& key : keys) {
                const CardValues& target = targets.at(key);
                auto it = cards.find(key);
                CardValues carried = it == cards.end() ? CardValues{} : it->second;
                json fields = json::object();
                for (const auto& def : SegmentFields()) {
                    if (it == cards.end() || FieldDiffers(def.name, carried, target)) {
                        fields[def.name] = FieldValue(def.name, target, item_ids);
                    }
                }
                cmds.push_back(b24client::Client::MakeUpdate(method, key.id, fields));
            }
            // Marked before sending: if we die before the outcome is stored, the next run reads
            // these cards back instead of writing them again.
            db().AddWritePending(keys);
            auto results = client().Write(cmds, offline ? options.auth_connector : "");
            std::vector<std::pair<CardKey, CardValues>> confirmed;
            std::vector<std::int64_t> gone;
            for (std::size_t i = 0; i < keys.size(); ++i) {
                const auto& r = results[i];
                if (r.ok) {
                    confirmed.push_back({keys[i], targets.at(keys[i])});
                } else if (r.error->kind() == b24client::ErrorKind::kNotFound) {
                    gone.push_back(keys[i].id);  // deleted since we pulled it: skip, forget
                } else {
                    spdlog::warn("sync: {} {} not written: {}", entity, keys[i].id,
                                 r.error->what());
                }
            }
            db().InTransaction([&] {
                db().SetCards(confirmed);
                db().Delete(entity, gone);
                db().RemoveWritePending(keys);
            });
            std::lock_guard lock(progress);
            run.cards_written += static_cast<std::int64_t>(confirmed.size());
            UpdateEta(run.cards_written, run.cards_to_write);
            Save();
        }
    }
};

Engine::Engine(RunContext context, EngineOptions options)
    : ctx_(std::move(context)), options_(std::move(options)) {
    if (ctx_.db == nullptr || ctx_.client == nullptr || !ctx_.now) {
        throw std::invalid_argument("sync::Engine needs a database, a client and a clock");
    }
}

namespace {

// Records a failed run; a disk that is full may refuse even that, and the caller's error (not
// this one) is what must propagate, so a failure here is only logged.
template <typename State>
void SaveFailed(State& state) {
    try {
        state.Save();
    } catch (const std::exception& e) {
        spdlog::error("sync: cannot record run {} as failed: {}", state.run.id, e.what());
    }
}

}  // namespace

RunRecord Engine::Run(RunKind kind) {
    State state{ctx_, options_, {}, ctx_.client->GetStats().http_requests, 0, {}, 0};
    PortalDb& db = *ctx_.db;

    // Resume the unfinished run, if any; otherwise start a new one.
    auto latest = db.LatestRun();
    if (latest && latest->state == "running") {
        state.run = *latest;
        state.requests_before = latest->requests;
        if (auto resumed = RunKindFromString(latest->kind)) {
            kind = *resumed;
        }
        spdlog::info("sync: resuming run {} ({}) at phase {}", state.run.id, state.run.kind,
                     state.run.phase);
    } else {
        if (kind != RunKind::kFirst && kind != RunKind::kFull &&
            db.GetMeta("pull.complete").value_or("0") != "1") {
            kind = RunKind::kFirst;  // nothing to be incremental about yet
        }
        state.run.id = db.CreateRun(ToString(kind), ctx_.now());
        state.run = *db.FindRun(state.run.id);
    }

    try {
        state.EnterPhase("fields", 0);
        EnsureUserFields(*ctx_.client, db, ctx_.lang);
        if (kind != RunKind::kRecompute) {
            state.RefreshDirectories();
            if (db.GetMeta("pull.complete").value_or("0") != "1") {
                state.FirstPull();
            } else {
                state.IncrementalPull();
            }
        }
        ComputeResult computed = state.Compute();
        state.Write();
        state.run.phase = "done";
        state.run.state = "done";
        state.run.finished_at = ctx_.now();
        state.run.eta_seconds = 0;
        state.Save();
        last_compute_ = std::move(computed);
        return state.run;
    } catch (const b24client::Error& e) {
        if (e.kind() == b24client::ErrorKind::kCancelled) {
            state.Save();  // stays 'running': the next start resumes it
            throw;
        }
        state.run.state = "failed";
        state.run.finished_at = ctx_.now();
        state.run.error_code = std::string(b24client::ToString(e.kind()));
        state.run.error_message = e.what();
        SaveFailed(state);
        throw;
    } catch (const std::exception& e) {
        // A full disk or a broken database is the operator's to fix: say so (the run's code is
        // what /api/status, the run history and `b24seg status` show).
        std::string code = StorageCode(e, &db.raw());
        state.run.state = "failed";
        state.run.finished_at = ctx_.now();
        state.run.error_code = code.empty() ? "internal" : code;
        state.run.error_message = e.what();
        SaveFailed(state);
        throw;
    }
}

}  // namespace server::sync
