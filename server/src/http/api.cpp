#include "http/api.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include <SQLiteCpp/Statement.h>
#include <spdlog/spdlog.h>

#include "api_error.hpp"
#include "b24client/error.hpp"
#include "http/lifecycle.hpp"
#include "http/lists.hpp"
#include "http/oauth.hpp"
#include "http/rights.hpp"
#include "http/sessions.hpp"
#include "http/single_flight.hpp"
#include "http/util.hpp"
#include "segmenter/segmenter.hpp"
#include "sync/segment_bridge.hpp"

namespace server::http {

using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Requests

struct Caller {
    Session session;
    PortalRecord record;
};

Caller Authenticate(Services& s, const Request& req) {
    Caller c;
    c.session = s.sessions.Authenticate(req.get_header_value("Authorization"));
    auto record = s.registry.Find(c.session.member_id);
    if (!record || (record->state == "blocked" && record->block_code == "uninstalled")) {
        throw Unauthorized("the app is no longer installed in this portal");
    }
    c.record = std::move(*record);
    return c;
}

void RequireAdmin(const Caller& c) {
    if (!c.session.is_admin) {
        throw Forbidden("only a portal administrator may do this");
    }
}

// Query parameters of a GET: each at most once, none unknown.
class QueryParams {
public:
    QueryParams(const Request& req, std::initializer_list<const char*> allowed) {
        std::set<std::string> known(allowed.begin(), allowed.end());
        for (const auto& [key, value] : req.params) {
            if (known.count(key) == 0) {
                throw BadRequest("unknown parameter: " + LogSafe(key, 40));
            }
            if (values_.count(key) != 0) {
                throw BadRequest("parameter given twice: " + key);
            }
            values_[key] = value;
        }
    }
    std::optional<std::string> Get(const std::string& key) const {
        auto it = values_.find(key);
        if (it == values_.end()) {
            return std::nullopt;
        }
        return it->second;
    }

private:
    std::map<std::string, std::string> values_;
};

json JsonBody(const Request& req, bool allow_empty) {
    if (req.body.empty()) {
        if (allow_empty) {
            return json::object();
        }
        throw BadRequest("a JSON body is required");
    }
    std::string type = AsciiLower(req.get_header_value("Content-Type"));
    if (type.rfind("application/json", 0) != 0) {
        throw BadRequest("the body must be application/json");
    }
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
        throw BadRequest("malformed JSON body");
    }
    if (!body.is_object()) {
        throw BadRequest("the JSON body must be an object");
    }
    return body;
}

void OnlyKeys(const json& body, std::initializer_list<const char*> allowed) {
    std::set<std::string> known(allowed.begin(), allowed.end());
    for (const auto& [key, value] : body.items()) {
        if (known.count(key) == 0) {
            throw BadRequest("unknown field: " + LogSafe(key, 40));
        }
    }
}

void SendJson(Response& res, const json& body, int status = 200) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                    "application/json; charset=utf-8");
}

std::int32_t Offset(PortalDb& db) {
    auto text = db.GetMeta("portal.offset");
    if (!text) {
        return 0;
    }
    try {
        return static_cast<std::int32_t>(std::stol(*text));
    } catch (const std::exception&) {
        return 0;
    }
}

json TimeOrNull(std::optional<std::int64_t> unix_seconds, std::int32_t offset) {
    if (!unix_seconds || *unix_seconds <= 0) {
        return nullptr;
    }
    return PortalTime(*unix_seconds, offset);
}

// The user's portal token for rights checks; a restart forgot it -> the page gets a fresh one.
std::string UserToken(Services& s, const Caller& c) {
    auto token = s.sessions.UserToken(c.session.sid);
    if (!token) {
        throw SessionExpired();
    }
    return *token;
}

// ---------------------------------------------------------------------------------------------
// Status and runs

json ErrorJson(const std::string& code) {
    if (code == "reinstall_needed" || code == "invalid_token" || code == "expired_token" ||
        code == "uninstalled") {
        return {{"code", "reinstall_needed"},
                {"message", "The portal no longer accepts the app's tokens. Reinstall the app."}};
    }
    if (code == "payment_required") {
        return {{"code", "payment_required"},
                {"message", "The app's subscription or trial has ended in this portal."}};
    }
    if (code == "access_denied" || code == "method_confirm") {
        return {{"code", "access_denied"},
                {"message",
                 "The app lacks a right it needs: a CRM administrator must install it, with the "
                 "crm and placement scopes."}};
    }
    if (code == "transport" || code == "timeout" || code == "server_error" ||
        code == "bad_response" || code == "overload" || code == "query_limit" ||
        code == "operation_limit" || code == "portal_deleted" || code == "untrusted_endpoint" ||
        code == "answer_too_large") {
        return {{"code", "portal_unreachable"},
                {"message", "The portal did not answer; the next run tries again."}};
    }
    if (code == "disk_full") {
        return {{"code", "disk_full"},
                {"message",
                 "The server's disk is full: the run could not store the portal's data. The "
                 "server's operator has been alerted; the next run tries again."}};
    }
    if (code == "database_corrupt") {
        return {{"code", "database_corrupt"},
                {"message",
                 "The server's copy of this portal's data is damaged. The server's operator "
                 "rebuilds it from the portal (b24seg clear)."}};
    }
    if (code == "database_error") {
        return {{"code", "database_error"},
                {"message",
                 "The server could not read or write the portal's data; the next run "
                 "tries again."}};
    }
    return {{"code", "internal"}, {"message", "The run failed; the next run tries again."}};
}

json RunJson(const RunRecord& run, std::int32_t offset) {
    return {{"id", run.id},
            {"kind", run.kind},
            {"phase", run.phase},
            {"month", run.month.empty() ? json(nullptr) : json(run.month)},
            {"monthsDone", run.months_done},
            {"monthsTotal", run.months_total},
            {"rows", run.rows},
            {"requests", run.requests},
            {"cardsWritten", run.cards_written},
            {"cardsToWrite", run.cards_to_write},
            {"startedAt", TimeOrNull(run.started_at, offset)},
            {"etaSeconds", run.eta_seconds ? json(*run.eta_seconds) : json(nullptr)}};
}

json RunsJson(PortalDb& db) {
    std::int32_t offset = Offset(db);
    json items = json::array();
    for (const auto& run : db.ListRuns(50)) {
        items.push_back(
            {{"id", run.id},
             {"kind", run.kind},
             {"state", run.state},
             {"startedAt", TimeOrNull(run.started_at, offset)},
             {"finishedAt", TimeOrNull(run.finished_at, offset)},
             {"requests", run.requests},
             {"rows", run.rows},
             {"cardsWritten", run.cards_written},
             {"error", run.state == "failed" ? ErrorJson(run.error_code) : json(nullptr)}});
    }
    return {{"items", items}};
}

std::optional<std::int64_t> LastFinished(PortalDb& db) {
    for (const auto& run : db.ListRuns(50)) {
        if (run.state == "done" && run.finished_at) {
            return run.finished_at;
        }
    }
    return std::nullopt;
}

std::string SyncState(Services& s, const PortalRecord& record, PortalDb& db, json* error) {
    std::string runner = s.jobs.StateOf(record.member_id);
    auto latest = db.LatestRun();
    if (record.state == "blocked") {
        *error = ErrorJson(record.block_code);
        return "blocked";
    }
    if (runner == "running") {
        return "running";
    }
    if (runner == "queued") {
        return "queued";
    }
    // This process saw the last run fail: a full disk may not have let the run record it.
    if (auto failure = s.jobs.LastFailure(record.member_id);
        failure &&
        (!latest || latest->state != "done" || latest->finished_at.value_or(0) <= failure->at)) {
        *error = ErrorJson(failure->code);
        return "failed";
    }
    if (!latest) {
        return "never_run";
    }
    if (latest->state == "running") {
        return "running";  // e.g. `b24seg sync --wait` in another process
    }
    if (latest->state == "failed") {
        *error = ErrorJson(latest->error_code);
        return "failed";
    }
    return "idle";
}

// ---------------------------------------------------------------------------------------------
// Lists

segmenter::Series SeriesParam(const QueryParams& p) {
    auto mode = p.Get("mode");
    auto series = p.Get("series");
    if (!mode || mode->empty()) {
        throw BadRequest("missing parameter: mode");
    }
    if (!series || series->empty()) {
        throw BadRequest("missing parameter: series");
    }
    auto found = segmenter::SeriesFromIds(*mode, *series);
    if (!found) {
        bool mode_known = false;
        for (std::size_t i = 0; i < segmenter::kSeriesCount; ++i) {
            mode_known =
                mode_known || segmenter::ModeId(static_cast<segmenter::Series>(i)) == *mode;
        }
        throw BadRequest(mode_known ? "unknown parameter value: series"
                                    : "unknown parameter value: mode");
    }
    return *found;
}

std::string SearchParam(const QueryParams& p) {
    std::string q = p.Get("q").value_or("");
    if (q.size() > 200 || !IsCleanUtf8(q)) {
        throw BadRequest("bad parameter: q (at most 200 bytes of text)");
    }
    return q;
}

std::int64_t IntParam(const QueryParams& p,
                      const char* key,
                      std::int64_t fallback,
                      std::int64_t min,
                      std::int64_t max) {
    auto text = p.Get(key);
    if (!text) {
        return fallback;
    }
    auto v = ParsePositiveId(*text);
    if (!v || *v < min || *v > max) {
        throw BadRequest(std::string("bad parameter: ") + key + " (" + std::to_string(min) + ".." +
                         std::to_string(max) + ")");
    }
    return *v;
}

// Renders lastPayment with the time of day from the last computation's index.
RenderContext MakeRenderContext(Services& s, const Caller& c, PortalDb& db) {
    RenderContext ctx;
    ctx.users = db.Users();
    ctx.lang = c.session.lang;
    ctx.portal_origin = OriginOf(c.record.endpoint);
    std::int32_t offset = Offset(db);
    std::shared_ptr<const PortalSnapshot> snapshot;
    std::string member = c.record.member_id;
    ctx.last_payment = [&s, member, offset, snapshot](const ListItem& item) mutable -> json {
        if (!item.values.last_payment) {
            return nullptr;
        }
        if (!snapshot) {
            snapshot = s.portals.Snapshot(member);
        }
        segmenter::CardRef ref{item.kind == CardKind::kContact ? segmenter::CardKind::kContact
                                                               : segmenter::CardKind::kCompany,
                               item.id};
        if (snapshot && snapshot->index) {
            if (auto v = snapshot->index->Card(ref, snapshot->at); v && v->last_payment) {
                return segmenter::FormatInstant(*v->last_payment);
            }
        }
        auto day = segmenter::ParseInstant(*item.values.last_payment, offset);
        return day ? json(segmenter::FormatInstant(*day)) : json(*item.values.last_payment);
    };
    return ctx;
}

std::shared_ptr<const ReadableSet> ReadableFor(Services& s, const Caller& c) {
    if (c.session.is_admin) {
        return nullptr;
    }
    return s.rights.Readable(c.record.member_id, c.session.user_id, UserToken(s, c));
}

// A match the user may see: the card itself readable, and a match found only through the
// company's name counts only if that company is readable too (a search must not reveal the names
// of companies the user cannot read).
bool MayList(const ReadableSet* readable, const ListItem& item) {
    if (readable == nullptr) {
        return true;
    }
    if (!readable->Contains(item.kind, item.id)) {
        return false;
    }
    return !item.matched_by_company_only || readable->companies.count(item.company_id) != 0;
}

void RestrictCompanies(RenderContext& ctx, const std::shared_ptr<const ReadableSet>& readable) {
    if (readable) {
        ctx.company_visible = [readable](std::int64_t company_id) {
            return readable->companies.count(company_id) != 0;
        };
    }
}

// ---------------------------------------------------------------------------------------------
// Client detail

std::map<std::int64_t, std::string> Names(PortalDb& db,
                                          const char* table,
                                          const char* column,
                                          const std::vector<std::int64_t>& ids) {
    std::map<std::int64_t, std::string> out;
    if (ids.empty()) {
        return out;
    }
    std::lock_guard lock(db.mutex());
    for (std::size_t start = 0; start < ids.size(); start += 500) {
        std::vector<std::int64_t> chunk(
            ids.begin() + static_cast<std::ptrdiff_t>(start),
            ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), start + 500)));
        SQLite::Statement q(db.raw(), std::string("SELECT id, ") + column + " FROM " + table +
                                          " WHERE id IN (" + JoinIds(chunk) + ")");
        while (q.executeStep()) {
            out[q.getColumn(0).getInt64()] = q.getColumn(1).getString();
        }
    }
    return out;
}

const char* RoleName(segmenter::Role role) {
    switch (role) {
        case segmenter::Role::kClient:
            return "client";
        case segmenter::Role::kMember:
            return "member";
        case segmenter::Role::kNotClient:
            return "not_client";
    }
    return "not_client";
}

// Entity type -> ids. Linked records of a card (members, parent company, payments' deals and
// invoices) are shown only where the user may read them.
using LinkedIds = std::map<int, std::vector<std::int64_t>>;
using LinkedReadable = std::map<int, std::unordered_set<std::int64_t>>;
// nullptr: everything visible (an admin).
using ResolveLinked = std::function<LinkedReadable(const LinkedIds&)>;

constexpr int kTypeDeal = 2;
constexpr int kTypeContact = 3;
constexpr int kTypeCompany = 4;
constexpr int kTypeOldInvoice = 5;
constexpr int kTypeInvoice = 31;

json Hidden() {
    return {{"hidden", true}};
}

json ClientJson(PortalDb& db,
                const PortalSnapshot& snap,
                CardKind kind,
                std::int64_t id,
                const ResolveLinked& resolve) {
    segmenter::CardRef ref{
        kind == CardKind::kContact ? segmenter::CardKind::kContact : segmenter::CardKind::kCompany,
        id};
    std::optional<segmenter::ClientDetail> detail;
    if (snap.index) {
        detail = snap.index->Detail(ref, snap.at);
    }
    if (!detail) {
        throw NotFound("no such client here (not synced yet, or deleted)");
    }
    const auto& v = detail->values;
    std::vector<std::int64_t> company_ids;
    if (kind == CardKind::kCompany) {
        company_ids.push_back(id);
    }
    if (v.parent_company != 0) {
        company_ids.push_back(v.parent_company);
    }
    auto companies = Names(db, "company", "name", company_ids);
    std::vector<std::int64_t> contact_ids = detail->members;
    if (kind == CardKind::kContact) {
        contact_ids.push_back(id);
    }
    auto contacts = Names(db, "contact", "name", contact_ids);
    std::vector<std::int64_t> deal_ids;
    std::vector<std::int64_t> invoice_ids;
    std::vector<std::int64_t> old_ids;
    for (const auto& p : detail->payments) {
        (p.source == segmenter::PaymentSource::kDeal      ? deal_ids
         : p.source == segmenter::PaymentSource::kInvoice ? invoice_ids
                                                          : old_ids)
            .push_back(p.id);
    }
    auto deals = Names(db, "deal", "title", deal_ids);
    auto invoices = Names(db, "invoice", "title", invoice_ids);
    auto old_invoices = Names(db, "old_invoice", "title", old_ids);

    std::optional<LinkedReadable> readable;
    if (resolve) {
        LinkedIds linked;
        linked[kTypeContact] = detail->members;
        if (v.parent_company != 0) {
            linked[kTypeCompany].push_back(v.parent_company);
        }
        linked[kTypeDeal] = deal_ids;
        linked[kTypeInvoice] = invoice_ids;
        linked[kTypeOldInvoice] = old_ids;
        readable = resolve(linked);
    }
    auto visible = [&](int type, std::int64_t linked_id) {
        if (!readable) {
            return true;
        }
        auto it = readable->find(type);
        return it != readable->end() && it->second.count(linked_id) != 0;
    };

    json payments = json::array();
    for (auto it = detail->payments.rbegin(); it != detail->payments.rend(); ++it) {
        const auto& p = *it;
        const int type = p.source == segmenter::PaymentSource::kDeal      ? kTypeDeal
                         : p.source == segmenter::PaymentSource::kInvoice ? kTypeInvoice
                                                                          : kTypeOldInvoice;
        const char* source = p.source == segmenter::PaymentSource::kDeal ? "deal" : "invoice";
        if (!visible(type, p.id)) {
            // The payment counts for the segment; what it is, the user may not see.
            payments.push_back(
                {{"date", segmenter::FormatInstant(p.date)}, {"source", source}, {"hidden", true}});
            continue;
        }
        std::string title;
        std::string path;
        if (p.source == segmenter::PaymentSource::kDeal) {
            title = deals.count(p.id) != 0 ? deals[p.id] : "";
            path = "/crm/deal/details/" + std::to_string(p.id) + "/";
        } else if (p.source == segmenter::PaymentSource::kInvoice) {
            title = invoices.count(p.id) != 0 ? invoices[p.id] : "";
            path = "/crm/type/31/details/" + std::to_string(p.id) + "/";
        } else {
            title = old_invoices.count(p.id) != 0 ? old_invoices[p.id] : "";
            path = "/crm/invoice/show/" + std::to_string(p.id) + "/";
        }
        payments.push_back({{"date", segmenter::FormatInstant(p.date)},
                            {"source", source},
                            {"id", p.id},
                            {"title", title},
                            {"path", path}});
    }
    json channels = json::array();
    const std::pair<std::uint8_t, const char*> kinds[] = {
        {segmenter::kChannelKindPhone, "phone"},
        {segmenter::kChannelKindEmail, "email"},
        {segmenter::kChannelKindIm, "im"},
        {segmenter::kChannelKindWeb, "web"},
        {segmenter::kChannelKindRequisites, "requisites"},
        {segmenter::kChannelKindMembers, "members"}};
    for (const auto& [bit, name] : kinds) {
        if ((detail->channels & bit) != 0) {
            channels.push_back(name);
        }
    }
    std::string name = kind == CardKind::kContact ? contacts[id] : companies[id];
    json out = {
        {"kind", kind == CardKind::kContact ? "contact" : "company"},
        {"id", id},
        {"name", name},
        {"role", RoleName(v.role)},
        {"clientType", v.client_type ? json(segmenter::XmlId(*v.client_type)) : json(nullptr)},
        {"parentCompany",
         v.parent_company == 0 ? json(nullptr)
         : visible(kTypeCompany, v.parent_company)
             ? json({{"id", v.parent_company}, {"name", companies[v.parent_company]}})
             : Hidden()},
        {"lifecycle", v.lifecycle ? json(segmenter::XmlId(*v.lifecycle)) : json(nullptr)},
        {"frequency", v.frequency ? json(segmenter::XmlId(*v.frequency)) : json(nullptr)},
        {"lastPayment",
         v.last_payment ? json(segmenter::FormatInstant(*v.last_payment)) : json(nullptr)},
        {"payments", v.payments ? json(*v.payments) : json(nullptr)},
        {"hasDialogs", v.has_dialogs ? json(*v.has_dialogs) : json(nullptr)},
        {"hasChannels", v.has_channels ? json(*v.has_channels) : json(nullptr)},
        {"paymentsList", payments},
        {"dialogs",
         {{"count", detail->dialog_count},
          {"last", detail->last_dialog ? json(segmenter::FormatInstant(*detail->last_dialog))
                                       : json(nullptr)}}},
        {"channels", channels}};
    if (kind == CardKind::kCompany) {
        json members = json::array();
        for (std::int64_t m : detail->members) {
            members.push_back(visible(kTypeContact, m) ? json({{"id", m}, {"name", contacts[m]}})
                                                       : Hidden());
        }
        out["members"] = members;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Handlers

void SessionRefresh(Services& s, const Request& req, Response& res) {
    json body = JsonBody(req, false);
    OnlyKeys(body, {"authId"});
    if (!body.contains("authId") || !body["authId"].is_string()) {
        throw BadRequest("missing or malformed field: authId");
    }
    std::string auth_id = body["authId"].get<std::string>();
    if (auth_id.empty() || auth_id.size() > 512 ||
        !std::all_of(auth_id.begin(), auth_id.end(),
                     [](char ch) { return ch > 0x20 && ch < 0x7F; })) {
        throw BadRequest("missing or malformed field: authId");
    }
    struct Identified {
        PortalRecord record;
        PortalUser user;
    };
    // Concurrent refreshes with one token (a page retrying, many tabs) identify the user once.
    static SingleFlight<Identified> refreshes;
    const std::string authorization = req.get_header_value("Authorization");
    Identified identified =
        refreshes.Run(auth_id + "\n" + authorization,
                      std::chrono::milliseconds(s.config.user_wait_ms), [&]() -> Identified {
                          // Which portal: the old session if the page sends it, else the
                          // authorization server's word.
                          std::string member_id;
                          std::int64_t expected_user = 0;
                          if (auto old = s.sessions.Peek(authorization)) {
                              member_id = old->member_id;
                              expected_user = old->user_id;
                          } else {
                              OAuthAppInfo info;
                              try {
                                  info = s.oauth.AppInfo(auth_id);
                              } catch (const OAuthError& e) {
                                  if (e.kind() == OAuthError::Kind::kUnavailable) {
                                      throw ApiError(503, "portal_unavailable",
                                                     "authorization server unavailable");
                                  }
                                  throw Unauthorized("the token was not confirmed by Bitrix24");
                              }
                              member_id = info.member_id;
                              expected_user = info.user_id;
                              if (member_id.empty() && !info.portal_uri.empty()) {
                                  std::string host = HostOf(info.portal_uri);
                                  for (const auto& r : s.registry.List()) {
                                      if (!host.empty() && AsciiLower(r.domain) == host) {
                                          member_id = r.member_id;
                                      }
                                  }
                              }
                          }
                          auto record = s.registry.Find(member_id);
                          if (member_id.empty() || !record ||
                              (record->state == "blocked" && record->block_code == "uninstalled")) {
                              throw Unauthorized("unknown portal");
                          }
                          PortalUser user = s.lifecycle.IdentifyUser(*record, auth_id);
                          if (expected_user != 0 && user.id != expected_user) {
                              throw Unauthorized("the token belongs to another user");
                          }
                          return {*record, user};
                      });
    const PortalRecord* record = &identified.record;
    const PortalUser& user = identified.user;
    std::string lang = PageLang(record->lang);
    if (auto old = s.sessions.Peek(req.get_header_value("Authorization"))) {
        lang = old->lang;
    }
    auto issued =
        s.sessions.Issue(record->member_id, user.id, user.is_admin, lang, user.name, auth_id, 3600);
    SendJson(res, {{"session", issued.token}, {"sessionExpiresAt", issued.expires_at}});
}

}  // namespace

bool FirstRunDone(PortalDb& db) {
    if (db.GetMeta("pull.complete").value_or("0") != "1") {
        return false;
    }
    std::lock_guard lock(db.mutex());
    SQLite::Statement q(db.raw(), "SELECT 1 FROM series_current LIMIT 1");
    return q.executeStep();
}

json StatusJson(Services& s, const PortalRecord& record, PortalDb& db) {
    json error = nullptr;
    std::string state = SyncState(s, record, db, &error);
    auto latest = db.LatestRun();
    return {{"state", state},
            {"firstRunDone", FirstRunDone(db)},
            {"run", latest ? RunJson(*latest, Offset(db)) : json(nullptr)},
            {"error", error}};
}

json DashboardJson(Services& s, const PortalRecord& record, PortalDb& db) {
    std::int32_t offset = Offset(db);
    bool done = FirstRunDone(db);
    json error = nullptr;
    std::string state = SyncState(s, record, db, &error);
    auto last = LastFinished(db);
    json sync = {
        {"state", state}, {"firstRunDone", done}, {"lastFinishedAt", TimeOrNull(last, offset)}};
    std::vector<std::string> months;
    sync::SeriesTable merged;
    if (done) {
        merged = sync::MergeSeries(db.CurrentSeries(), db.RecordedSeries());
        if (!merged.empty()) {
            auto first = segmenter::ParseYearMonth(merged.begin()->first);
            auto end = segmenter::ParseYearMonth(merged.rbegin()->first);
            if (first && end) {
                for (auto i = segmenter::MonthIndex(*first); i <= segmenter::MonthIndex(*end);
                     ++i) {
                    months.push_back(segmenter::FormatYearMonth(segmenter::FromMonthIndex(i)));
                }
            }
        }
    }
    json modes = json::array();
    for (std::size_t i = 0; i < segmenter::kSeriesCount; ++i) {
        auto series = static_cast<segmenter::Series>(i);
        std::string mode(segmenter::ModeId(series));
        std::string key = mode + "." + std::string(segmenter::SeriesId(series));
        json values = json::array();
        std::int64_t current = 0;
        for (const auto& month : months) {
            // A month with no row (a gap between recorded history and today's first month)
            // carries the month before it.
            if (auto m = merged.find(month); m != merged.end()) {
                if (auto v = m->second.find(key); v != m->second.end()) {
                    current = v->second;
                }
            }
            values.push_back(current);
        }
        if (modes.empty() || modes.back()["id"] != mode) {
            modes.push_back({{"id", mode}, {"series", json::array()}});
        }
        modes.back()["series"].push_back(
            {{"id", segmenter::SeriesId(series)}, {"count", current}, {"values", values}});
    }
    auto as_of = db.GetMeta("compute.at");
    return {{"asOf", done && as_of ? json(*as_of) : json(nullptr)},
            {"months", months},
            {"modes", modes},
            {"sync", sync}};
}

void RegisterApiRoutes(HttpServer& server, Services& services) {
    const std::size_t limit = services.config.max_api_body_bytes;
    auto route = [&](const char* method, const char* path, auto fn) {
        server.Route(
            method, path, limit, ErrorStyle::kJson,
            [&services, fn](const Request& req, Response& res) { fn(services, req, res); });
    };

    route("POST", "/api/session/refresh", &SessionRefresh);

    route("GET", "/api/me", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        QueryParams params(req, {});
        std::string name = s.sessions.UserName(c.session.sid).value_or("");
        if (name.empty()) {
            auto users = s.portals.Db(c.record.member_id)->Users();
            if (auto it = users.find(c.session.user_id); it != users.end()) {
                name = it->second;
            }
        }
        SendJson(
            res,
            {{"user", {{"id", c.session.user_id}, {"name", name}, {"isAdmin", c.session.is_admin}}},
             {"portal", {{"domain", c.record.domain}}},
             {"lang", c.session.lang}});
    });

    route("GET", "/api/dashboard", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        QueryParams params(req, {});
        auto db = s.portals.Db(c.record.member_id);
        SendJson(res, DashboardJson(s, c.record, *db));
    });

    route("GET", "/api/list", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        QueryParams params(req, {"mode", "series", "q", "page", "pageSize"});
        ListQuery query;
        query.series = SeriesParam(params);
        query.q = SearchParam(params);
        std::int64_t page = IntParam(params, "page", 1, 1, 1000000);
        std::int64_t page_size = IntParam(params, "pageSize", 25, 1, 100);
        auto readable = ReadableFor(s, c);
        auto db = s.portals.Db(c.record.member_id);
        std::int64_t total = 0;
        std::vector<CardKey> slice;
        if (!readable && query.q.empty()) {
            // Everything is visible and nothing searched: the database counts and pages (a search
            // scans once below instead of twice).
            total = CountMatches(*db, query);
            ForEachMatch(
                *db, query, false,
                [&](const ListItem& item) {
                    slice.push_back({item.kind, item.id});
                },
                Window{page_size, (page - 1) * page_size});
        } else {
            std::vector<CardKey> keys;
            ForEachMatch(*db, query, false, [&](const ListItem& item) {
                if (MayList(readable.get(), item)) {
                    keys.push_back({item.kind, item.id});
                }
            });
            total = static_cast<std::int64_t>(keys.size());
            std::int64_t from = std::min(total, (page - 1) * page_size);
            std::int64_t to = std::min(total, from + page_size);
            slice.assign(keys.begin() + from, keys.begin() + to);
        }
        auto details = LoadItems(*db, slice);
        RenderContext ctx = MakeRenderContext(s, c, *db);
        RestrictCompanies(ctx, readable);
        json items = json::array();
        for (const auto& key : slice) {
            if (auto it = details.find(key); it != details.end()) {
                items.push_back(ItemJson(it->second, ctx));
            }
        }
        SendJson(res, {{"mode", segmenter::ModeId(query.series)},
                       {"series", segmenter::SeriesId(query.series)},
                       {"q", query.q},
                       {"page", page},
                       {"pageSize", page_size},
                       {"total", total},
                       {"restricted", readable != nullptr},
                       {"items", items}});
    });

    route("GET", "/api/list.csv", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        QueryParams params(req, {"mode", "series", "q"});
        ListQuery query;
        query.series = SeriesParam(params);
        query.q = SearchParam(params);
        auto readable = ReadableFor(s, c);
        auto db = s.portals.Db(c.record.member_id);
        RenderContext ctx = MakeRenderContext(s, c, *db);
        RestrictCompanies(ctx, readable);
        std::string csv = CsvHeader(ctx);
        ForEachMatch(*db, query, true, [&](const ListItem& item) {
            if (MayList(readable.get(), item)) {
                csv += CsvLine(item, ctx);
            }
        });
        res.set_header("Content-Disposition",
                       "attachment; filename=\"" + CsvFileName(query.series) + "\"");
        res.set_header("Cache-Control", "no-store");
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_content(std::move(csv), "text/csv; charset=utf-8");
    });

    route("GET", "/api/client", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        QueryParams params(req, {"kind", "id"});
        auto kind_text = params.Get("kind");
        if (!kind_text || (*kind_text != "contact" && *kind_text != "company")) {
            throw BadRequest("bad parameter: kind (contact or company)");
        }
        auto id = ParsePositiveId(params.Get("id").value_or(""));
        if (!id) {
            throw BadRequest("bad parameter: id (a positive integer)");
        }
        CardKind kind = *kind_text == "contact" ? CardKind::kContact : CardKind::kCompany;
        if (!c.session.is_admin &&
            !s.rights.MayRead(c.record.member_id, c.session.user_id, UserToken(s, c), kind, *id)) {
            throw Forbidden("you may not read this client in the portal");
        }
        auto db = s.portals.Db(c.record.member_id);
        auto snapshot = s.portals.Snapshot(c.record.member_id);
        ResolveLinked resolve;
        if (!c.session.is_admin) {
            std::string token = UserToken(s, c);
            resolve = [&s, &c, token](const LinkedIds& ids) {
                return s.rights.ReadableLinked(c.record.member_id, c.session.user_id, token, ids);
            };
        }
        SendJson(res, ClientJson(*db, *snapshot, kind, *id, resolve));
    });

    route("GET", "/api/status", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        QueryParams params(req, {});
        auto db = s.portals.Db(c.record.member_id);
        SendJson(res, StatusJson(s, c.record, *db));
    });

    route("GET", "/api/runs", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        QueryParams params(req, {});
        RequireAdmin(c);
        SendJson(res, RunsJson(*s.portals.Db(c.record.member_id)));
    });

    route("POST", "/api/runs", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        RequireAdmin(c);
        json body = JsonBody(req, true);
        OnlyKeys(body, {"full"});
        bool full = false;
        if (body.contains("full")) {
            if (!body["full"].is_boolean()) {
                throw BadRequest("bad field: full (true or false)");
            }
            full = body["full"].get<bool>();
        }
        auto kind = full ? sync::RunKind::kFull : sync::RunKind::kIncremental;
        auto outcome = s.jobs.Request(c.record.member_id, kind);
        if (outcome == JobRunner::Enqueued::kBusy) {
            throw Conflict("a run is already queued or going");
        }
        if (outcome == JobRunner::Enqueued::kUnknownPortal) {
            throw NotFound("unknown portal");
        }
        spdlog::info("portal {}: {} run requested by user {}", c.record.member_id,
                     sync::ToString(kind), c.session.user_id);
        SendJson(res, StatusJson(s, c.record, *s.portals.Db(c.record.member_id)), 202);
    });

    route("POST", "/api/clear-refresh", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        RequireAdmin(c);
        json body = JsonBody(req, true);
        OnlyKeys(body, {});
        auto outcome = s.jobs.Request(c.record.member_id, sync::RunKind::kFull);
        if (outcome == JobRunner::Enqueued::kBusy) {
            throw Conflict("a run is already queued or going; try again when it ends");
        }
        if (outcome == JobRunner::Enqueued::kUnknownPortal) {
            throw NotFound("unknown portal");
        }
        spdlog::info("portal {}: clear and refresh requested by user {}", c.record.member_id,
                     c.session.user_id);
        SendJson(res, StatusJson(s, c.record, *s.portals.Db(c.record.member_id)), 202);
    });

    route("GET", "/api/settings", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        QueryParams params(req, {});
        SendJson(res,
                 {{"activeMonths", c.record.active_months}, {"lostMonths", c.record.lost_months}});
    });

    route("PUT", "/api/settings", [](Services& s, const Request& req, Response& res) {
        Caller c = Authenticate(s, req);
        RequireAdmin(c);
        json body = JsonBody(req, false);
        OnlyKeys(body, {"activeMonths", "lostMonths"});
        auto months = [&](const char* key) {
            if (!body.contains(key) || !body[key].is_number_integer()) {
                throw BadRequest(std::string("missing or malformed field: ") + key);
            }
            auto v = body[key].get<std::int64_t>();
            if (v < 1 || v > 120) {
                throw BadRequest(std::string("bad field: ") + key + " (1..120)");
            }
            return static_cast<int>(v);
        };
        int active = months("activeMonths");
        int lost = months("lostMonths");
        if (active >= lost) {
            throw BadRequest("bad field: activeMonths must be less than lostMonths");
        }
        if (active != c.record.active_months || lost != c.record.lost_months) {
            s.registry.SetSettings(c.record.member_id, active, lost);
            spdlog::info("portal {}: settings {}/{} months set by user {}", c.record.member_id,
                         active, lost, c.session.user_id);
            s.run_soon(c.record.member_id, sync::RunKind::kRecompute);
        }
        SendJson(res, {{"activeMonths", active}, {"lostMonths", lost}});
    });
}

}  // namespace server::http
