// Non-CRM REST methods: users, app.info, feature.get, placements, event bindings, the offline
// event queue and app options.
#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "portal_impl.hpp"
#include "query.hpp"

namespace fakeportal {

using namespace detail;
using Impl = Portal::Impl;

namespace {

std::string StrParam(const json& params, const char* lower, const char* upper) {
    const json* v = Param(params, lower, upper);
    return v ? StrVal(*v) : std::string();
}

void RequireAdmin(const Call& c) {
    if (!c.user.admin) {
        Fail(403, "ACCESS_DENIED", "Access denied! Application administrator rights required");
    }
}

AppInstall& AppOf(Impl& p, const Call& c) {
    auto it = p.apps.find(c.client_id);
    if (it == p.apps.end()) {
        Fail(403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method");
    }
    return it->second;
}

json UserJson(const User& u, bool full) {
    json j = {{"ID", std::to_string(u.id)},
              {"ACTIVE", u.active},
              {"NAME", u.name},
              {"LAST_NAME", u.last_name},
              {"SECOND_NAME", ""},
              {"PERSONAL_GENDER", u.gender},
              {"TIME_ZONE", u.time_zone},
              {"WORK_POSITION", u.work_position},
              {"UF_DEPARTMENT", json::array({1})},
              {"IS_ONLINE", "N"},
              {"USER_TYPE", "employee"}};
    if (full) {
        j["EMAIL"] = u.email;
        j["XML_ID"] = "";
    }
    return j;
}

const std::vector<std::string>& KnownPlacements() {
    static const std::vector<std::string> kList = [] {
        std::vector<std::string> v = {"CRM_ANALYTICS_MENU", "LEFT_MENU", "REST_APP_URI",
                                      "USER_PROFILE_MENU", "USER_PROFILE_TOOLBAR"};
        for (const char* e : {"LEAD", "DEAL", "CONTACT", "COMPANY", "QUOTE", "SMART_INVOICE"}) {
            for (const char* suffix :
                 {"_DETAIL_TAB", "_LIST_MENU", "_LIST_TOOLBAR", "_DETAIL_TOOLBAR",
                  "_DETAIL_ACTIVITY", "_ACTIVITY_TIMELINE_MENU"}) {
                v.push_back(std::string("CRM_") + e + suffix);
            }
        }
        return v;
    }();
    return kList;
}

bool KnownEvent(const std::string& ev) {
    static const std::vector<std::string> kEvents = [] {
        std::vector<std::string> v = {"ONAPPINSTALL", "ONAPPUPDATE", "ONAPPUNINSTALL",
                                      "ONOFFLINEEVENT", "ONCRMDEALMOVETOCATEGORY"};
        for (const char* e : {"CONTACT", "COMPANY", "DEAL", "LEAD", "ACTIVITY", "DYNAMICITEM",
                              "REQUISITE", "INVOICE"}) {
            for (const char* op : {"ADD", "UPDATE", "DELETE"}) {
                v.push_back(std::string("ONCRM") + e + op);
            }
        }
        return v;
    }();
    return std::find(kEvents.begin(), kEvents.end(), ev) != kEvents.end();
}

json OfflineJson(const Impl& p, const OfflineRecord& r) {
    return {{"ID", std::to_string(r.id)},
            {"TIMESTAMP_X", FormatIso(static_cast<Time>(r.timestamp), p.options.tz_offset_minutes)},
            {"EVENT_NAME", r.event_name},
            {"EVENT_DATA", r.data},
            {"EVENT_ADDITIONAL", r.additional},
            {"MESSAGE_ID", r.message_id},
            {"PROCESS_ID", r.process_id},
            {"ERROR", r.error ? "1" : "0"}};
}

/// Offline records matching a filter on ID, EVENT_NAME, MESSAGE_ID, TIMESTAMP_X.
bool OfflineMatches(const Impl& p, const OfflineRecord& r, const json& filter) {
    if (!filter.is_object()) {
        return true;
    }
    for (auto it = filter.begin(); it != filter.end(); ++it) {
        auto [op, name] = SplitFilterKey(it.key());
        const std::string key = ToUpper(name);
        Value v;
        if (key == "ID") {
            v = Value::Int(r.id);
        } else if (key == "EVENT_NAME") {
            v = Value::Str(r.event_name);
        } else if (key == "MESSAGE_ID") {
            v = Value::Str(r.message_id);
        } else if (key == "TIMESTAMP_X") {
            v = Value::Time(static_cast<Time>(r.timestamp));
        } else {
            continue;
        }
        if (!MatchCondition(v, op, *it, p.options.tz_offset_minutes)) {
            return false;
        }
    }
    return true;
}

std::vector<OfflineRecord*> OfflineSelect(Impl& p,
                                          AppInstall& app,
                                          const json& params,
                                          bool include_reserved) {
    const json* f = Param(params, "filter", "FILTER");
    const json* order = Param(params, "order", "ORDER");
    const json* err = Param(params, "error", "ERROR");
    const std::string connector = StrParam(params, "auth_connector", "AUTH_CONNECTOR");
    const bool with_errors = err && TruthyYN(*err);
    std::vector<OfflineRecord*> rows;
    for (auto& r : app.offline) {
        if (!include_reserved && !r.process_id.empty()) {
            continue;
        }
        if (r.error && !with_errors) {
            continue;
        }
        if (!connector.empty() && r.connector != connector) {
            continue;
        }
        if (OfflineMatches(p, r, f ? *f : json::object())) {
            rows.push_back(&r);
        }
    }
    bool desc = false;
    std::string key = "TIMESTAMP_X";
    if (order && order->is_object() && !order->empty()) {
        key = ToUpper(order->begin().key());
        desc = IEquals(StrVal(order->begin().value()), "DESC");
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const OfflineRecord* a, const OfflineRecord* b) {
        const bool less = key == "ID" ? a->id < b->id
                                      : (a->timestamp != b->timestamp ? a->timestamp < b->timestamp
                                                                      : a->id < b->id);
        const bool greater =
            key == "ID"
                ? a->id > b->id
                : (a->timestamp != b->timestamp ? a->timestamp > b->timestamp : a->id > b->id);
        return desc ? greater : less;
    });
    return rows;
}

}  // namespace

nlohmann::json Portal::AppInfoFor(const std::string& access_token) const {
    std::shared_lock lock(impl_->data_mu);
    auto tok = impl_->access_tokens.find(access_token);
    if (tok == impl_->access_tokens.end()) {
        return nullptr;
    }
    auto reg = impl_->find_app(tok->second.client_id);
    auto app = impl_->apps.find(tok->second.client_id);
    const bool installed = app != impl_->apps.end() && app->second.installed;
    const Plan plan = [&] {
        std::lock_guard slock(impl_->stats_mu);
        return impl_->options.plan;
    }();
    return {{"ID", 1},
            {"CODE", reg ? reg->code : ""},
            {"VERSION", installed ? app->second.version : "1"},
            {"STATUS", reg ? reg->status : "F"},
            {"INSTALLED", installed && app->second.finished},
            {"PAYMENT_EXPIRED", impl_->subscription_ended ? "Y" : "N"},
            {"DAYS", impl_->subscription_ended ? 0 : 30},
            {"LANGUAGE_ID", impl_->options.language},
            {"LICENSE", plan.license},
            {"LICENSE_TYPE", plan.license_type},
            {"LICENSE_FAMILY", plan.license_family},
            {"install",
             {{"installed", installed},
              {"version", installed ? app->second.version : ""},
              {"status", reg ? reg->status : "F"},
              {"uri", "http://" + impl_->Domain()}}},
            {"user_id", tok->second.user_id},
            {"member_id", impl_->member_id}};
}

void Portal::Impl::RegisterAppMethods() {
    auto reg = [this](const std::string& name, const std::string& scope, Handler h) {
        methods[name] = MethodSpec{std::move(h), scope};
    };
    reg("profile", "", [](Impl&, Call& c) -> json {
        return {{"ID", std::to_string(c.user.id)},
                {"ADMIN", c.user.admin},
                {"NAME", c.user.name},
                {"LAST_NAME", c.user.last_name},
                {"PERSONAL_GENDER", c.user.gender},
                {"TIME_ZONE", c.user.time_zone}};
    });
    reg("user.admin", "", [](Impl&, Call& c) -> json { return c.user.admin; });
    reg("user.current", "user", [](Impl&, Call& c) -> json { return UserJson(c.user, true); });
    reg("user.access", "", [](Impl&, Call& c) -> json {
        if (c.user.admin) {
            return true;
        }
        const json* access = Param(c.params, "access", "ACCESS");
        if (!access) {
            Fail(400, "ERROR_ARGUMENT", "ACCESS is required");
        }
        const std::string mine = "U" + std::to_string(c.user.id);
        auto check = [&](const json& code) {
            const std::string s = StrVal(code);
            return s == mine || s == "AU" || s == "G2" || s == "UA";
        };
        if (access->is_array() || access->is_object()) {
            for (const auto& a : *access) {
                if (check(a)) {
                    return true;
                }
            }
            return false;
        }
        return check(*access);
    });
    reg("user.get", "user", [](Impl& p, Call& c) -> json {
        std::shared_lock lock(p.data_mu);
        const json* f = Param(c.params, "filter", "FILTER");
        json filter = f && f->is_object() ? *f : json::object();
        for (const char* k : {"ID", "ACTIVE", "NAME", "LAST_NAME", "EMAIL"}) {
            if (c.params.contains(k)) {
                filter[k] = c.params[k];
            }
        }
        std::vector<const User*> rows;
        for (const auto& u : p.users) {
            bool ok = true;
            for (auto it = filter.begin(); it != filter.end(); ++it) {
                auto [op, name] = SplitFilterKey(it.key());
                const std::string key = ToUpper(name);
                Value v;
                if (key == "ID") {
                    v = Value::Int(u.id);
                } else if (key == "ACTIVE") {
                    v = Value::YN(u.active);
                } else if (key == "NAME") {
                    v = Value::Str(u.name);
                } else if (key == "LAST_NAME") {
                    v = Value::Str(u.last_name);
                } else if (key == "EMAIL") {
                    v = Value::Str(u.email);
                } else {
                    continue;
                }
                ok = ok && MatchCondition(v, op, *it, p.tz());
            }
            if (ok) {
                rows.push_back(&u);
            }
        }
        const json* st = Param(c.params, "start", "START");
        const int64_t start = st ? std::max<int64_t>(0, IntVal(*st)) : 0;
        json out = json::array();
        for (size_t i = static_cast<size_t>(start); i < rows.size() && out.size() < 50; ++i) {
            out.push_back(UserJson(*rows[i], false));
        }
        c.rows = static_cast<int64_t>(out.size());
        c.total = static_cast<int64_t>(rows.size());
        if (start + 50 < *c.total) {
            c.next = start + 50;
        }
        return out;
    });
    reg("app.info", "", [](Impl& p, Call& c) -> json {
        std::shared_lock lock(p.data_mu);
        auto app = p.apps.find(c.client_id);
        auto registration = p.find_app(c.client_id);
        const bool installed = app != p.apps.end() && app->second.installed;
        Plan plan;
        {
            std::lock_guard slock(p.stats_mu);
            plan = p.options.plan;
        }
        return {{"ID", 1},
                {"CODE", registration ? registration->code : ""},
                {"VERSION", installed ? app->second.version : "1"},
                {"STATUS", registration ? registration->status : "F"},
                {"INSTALLED", installed && app->second.finished},
                {"PAYMENT_EXPIRED", p.subscription_ended ? "Y" : "N"},
                {"DAYS", p.subscription_ended ? 0 : 30},
                {"LANGUAGE_ID", p.options.language},
                {"LICENSE", plan.license},
                {"LICENSE_TYPE", plan.license_type},
                {"LICENSE_FAMILY", plan.license_family}};
    });
    reg("feature.get", "", [](Impl& p, Call& c) -> json {
        const std::string code = StrParam(c.params, "code", "CODE");
        if (code.empty()) {
            Fail(400, "ERROR_ARGUMENT", "CODE is required");
        }
        const bool on = code == "rest_offline_extended" ? p.options.offline_events_feature : false;
        return {{"value", on ? "Y" : "N"}};
    });
    reg("app.option.set", "", [](Impl& p, Call& c) -> json {
        RequireAdmin(c);
        const json* opts = Param(c.params, "options", "OPTIONS");
        if (!opts || !opts->is_object() || opts->empty()) {
            Fail(400, "ArgumentNullException", "Argument 'options' is null or empty");
        }
        std::unique_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        for (auto it = opts->begin(); it != opts->end(); ++it) {
            app.options[it.key()] = it->is_string() ? *it : json(it->dump());
        }
        return true;
    });
    reg("app.option.get", "", [](Impl& p, Call& c) -> json {
        std::shared_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        const std::string option = StrParam(c.params, "option", "OPTION");
        if (option.empty()) {
            return app.options.empty() ? json::array() : app.options;
        }
        return app.options.contains(option) ? app.options[option] : json();
    });
    // ---- placements ------------------------------------------------------------------------
    reg("placement.bind", "placement", [](Impl& p, Call& c) -> json {
        RequireAdmin(c);
        const std::string placement = ToUpper(StrParam(c.params, "PLACEMENT", "PLACEMENT"));
        const std::string handler = StrParam(c.params, "HANDLER", "HANDLER");
        const auto& known = KnownPlacements();
        if (placement.empty()) {
            Fail(400, "ERROR_ARGUMENT", "Argument 'PLACEMENT' is null or empty");
        }
        if (std::find(known.begin(), known.end(), placement) == known.end()) {
            Fail(400, "ERROR_PLACEMENT_NOT_FOUND", "Placement not found");
        }
        if (handler.empty()) {
            Fail(400, "ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty");
        }
        if (handler.rfind("http://", 0) != 0 && handler.rfind("https://", 0) != 0) {
            Fail(400, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported event handler protocol");
        }
        if (handler.find("://localhost") != std::string::npos) {
            Fail(400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL");
        }
        std::unique_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        for (const auto& b : app.placements) {
            if (b.placement == placement && b.handler == handler) {
                Fail(400, "ERROR_PLACEMENT_HANDLER_ALREADY_BINDED", "Handler already binded");
            }
        }
        PlacementBinding b;
        b.placement = placement;
        b.handler = handler;
        b.title = StrParam(c.params, "TITLE", "TITLE");
        b.description = StrParam(c.params, "DESCRIPTION", "DESCRIPTION");
        app.placements.push_back(b);
        return true;
    });
    reg("placement.unbind", "placement", [](Impl& p, Call& c) -> json {
        RequireAdmin(c);
        const std::string placement = ToUpper(StrParam(c.params, "PLACEMENT", "PLACEMENT"));
        const std::string handler = StrParam(c.params, "HANDLER", "HANDLER");
        std::unique_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        const size_t before = app.placements.size();
        app.placements.erase(std::remove_if(app.placements.begin(), app.placements.end(),
                                            [&](const PlacementBinding& b) {
                                                return b.placement == placement &&
                                                       (handler.empty() || b.handler == handler);
                                            }),
                             app.placements.end());
        return {{"count", before - app.placements.size()}};
    });
    reg("placement.get", "placement", [](Impl& p, Call& c) -> json {
        std::shared_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        json out = json::array();
        for (const auto& b : app.placements) {
            out.push_back({{"placement", b.placement},
                           {"userId", b.user_id},
                           {"handler", b.handler},
                           {"options", json::array()},
                           {"title", b.title},
                           {"description", b.description},
                           {"langAll", json::array()}});
        }
        return out;
    });
    reg("placement.list", "placement", [](Impl&, Call&) -> json { return KnownPlacements(); });
    // ---- events -------------------------------------------------------------------------------
    reg("event.bind", "", [](Impl& p, Call& c) -> json {
        const std::string event = ToUpper(StrParam(c.params, "event", "EVENT"));
        const std::string handler = StrParam(c.params, "handler", "HANDLER");
        const bool offline = IEquals(StrParam(c.params, "event_type", "EVENT_TYPE"), "offline");
        const int64_t auth_type = IntVal(json(StrParam(c.params, "auth_type", "AUTH_TYPE")));
        if (!KnownEvent(event)) {
            Fail(400, "ERROR_EVENT_NOT_FOUND", "Event not found");
        }
        if ((offline || (auth_type != 0 && auth_type != c.user.id)) && !c.user.admin) {
            Fail(403, "ACCESS_DENIED", "Access denied! Application administrator rights required");
        }
        if (!offline && handler.empty()) {
            Fail(400, "ERROR_ARGUMENT", "Handler is required");
        }
        std::unique_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        EventBinding b;
        b.event = event;
        b.handler = offline ? "" : handler;
        b.offline = offline;
        b.auth_type = auth_type;
        b.auth_connector = StrParam(c.params, "auth_connector", "AUTH_CONNECTOR");
        b.bound_by = c.user.id;
        for (const auto& e : app.events) {
            if (e.event == b.event && e.handler == b.handler && e.offline == b.offline &&
                e.auth_type == b.auth_type && e.auth_connector == b.auth_connector) {
                Fail(400, "ERROR_CORE", "Handler already binded");
            }
        }
        b.id = p.next_event_binding_id++;
        app.events.push_back(b);
        return true;
    });
    reg("event.unbind", "", [](Impl& p, Call& c) -> json {
        const std::string event = ToUpper(StrParam(c.params, "event", "EVENT"));
        const std::string handler = StrParam(c.params, "handler", "HANDLER");
        const bool offline = IEquals(StrParam(c.params, "event_type", "EVENT_TYPE"), "offline");
        std::unique_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        const size_t before = app.events.size();
        app.events.erase(
            std::remove_if(app.events.begin(), app.events.end(),
                           [&](const EventBinding& b) {
                               return b.event == event && b.offline == offline &&
                                      (offline || handler.empty() || b.handler == handler);
                           }),
            app.events.end());
        return {{"count", before - app.events.size()}};
    });
    reg("event.get", "", [](Impl& p, Call& c) -> json {
        std::shared_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        json out = json::array();
        for (const auto& b : app.events) {
            json row = {{"event", b.event},
                        {"handler", b.handler},
                        {"auth_type", std::to_string(b.auth_type)},
                        {"offline", b.offline ? 1 : 0}};
            if (!b.auth_connector.empty()) {
                row["connector_id"] = b.auth_connector;
            }
            out.push_back(row);
        }
        return out;
    });
    reg("event.offline.get", "", [](Impl& p, Call& c) -> json {
        RequireAdmin(c);
        const json* clear_p = Param(c.params, "clear", "CLEAR");
        const bool clear = clear_p ? TruthyYN(*clear_p) : true;
        const json* limit_p = Param(c.params, "limit", "LIMIT");
        const int64_t limit = std::clamp<int64_t>(limit_p ? IntVal(*limit_p) : 50, 1, 1000);
        std::string process_id = StrParam(c.params, "process_id", "PROCESS_ID");
        std::unique_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        auto rows = OfflineSelect(p, app, c.params, false);
        if (rows.size() > static_cast<size_t>(limit)) {
            rows.resize(static_cast<size_t>(limit));
        }
        if (process_id.empty()) {
            process_id = p.Random(32);
        }
        json events = json::array();
        std::vector<int64_t> taken;
        for (OfflineRecord* r : rows) {
            events.push_back(OfflineJson(p, *r));
            taken.push_back(r->id);
            r->process_id = process_id;
        }
        if (clear) {
            app.offline.erase(std::remove_if(app.offline.begin(), app.offline.end(),
                                             [&](const OfflineRecord& r) {
                                                 return std::find(taken.begin(), taken.end(),
                                                                  r.id) != taken.end();
                                             }),
                              app.offline.end());
        }
        c.rows = static_cast<int64_t>(events.size());
        return {{"process_id", clear ? json() : json(process_id)}, {"events", events}};
    });
    reg("event.offline.clear", "", [](Impl& p, Call& c) -> json {
        RequireAdmin(c);
        const std::string process_id = StrParam(c.params, "process_id", "PROCESS_ID");
        if (process_id.empty()) {
            Fail(400, "ERROR_ARGUMENT", "process_id is required");
        }
        const json* ids = Param(c.params, "id", "ID");
        const json* mids = Param(c.params, "message_id", "MESSAGE_ID");
        std::unique_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        auto listed = [](const json* list, const std::string& value) {
            if (!list) {
                return true;
            }
            if (list->is_array() || list->is_object()) {
                for (const auto& e : *list) {
                    if (StrVal(e) == value) {
                        return true;
                    }
                }
                return false;
            }
            return StrVal(*list) == value;
        };
        app.offline.erase(std::remove_if(app.offline.begin(), app.offline.end(),
                                         [&](const OfflineRecord& r) {
                                             return r.process_id == process_id &&
                                                    listed(ids, std::to_string(r.id)) &&
                                                    listed(mids, r.message_id);
                                         }),
                          app.offline.end());
        return true;
    });
    reg("event.offline.error", "", [](Impl& p, Call& c) -> json {
        RequireAdmin(c);
        const std::string process_id = StrParam(c.params, "process_id", "PROCESS_ID");
        const json* mids = Param(c.params, "message_id", "MESSAGE_ID");
        if (process_id.empty() || !mids) {
            Fail(400, "ERROR_ARGUMENT", "process_id and message_id are required");
        }
        std::unique_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        for (auto& r : app.offline) {
            if (r.process_id != process_id) {
                continue;
            }
            for (const auto& m : (mids->is_array() ? *mids : json::array({*mids}))) {
                if (StrVal(m) == r.message_id) {
                    r.error = true;
                    r.process_id.clear();
                }
            }
        }
        return true;
    });
    reg("event.offline.list", "", [](Impl& p, Call& c) -> json {
        RequireAdmin(c);
        std::shared_lock lock(p.data_mu);
        AppInstall& app = AppOf(p, c);
        json params = c.params;
        params["error"] = 1;
        auto rows = OfflineSelect(p, app, params, true);
        const json* st = Param(c.params, "start", "START");
        const int64_t start = st ? std::max<int64_t>(0, IntVal(*st)) : 0;
        json out = json::array();
        for (size_t i = static_cast<size_t>(start); i < rows.size() && out.size() < 50; ++i) {
            out.push_back(OfflineJson(p, *rows[i]));
        }
        c.rows = static_cast<int64_t>(out.size());
        c.total = static_cast<int64_t>(rows.size());
        if (start + 50 < *c.total) {
            c.next = start + 50;
        }
        return out;
    });
}

}  // namespace fakeportal
