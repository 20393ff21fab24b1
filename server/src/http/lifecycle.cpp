#include "http/lifecycle.hpp"

#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "api_error.hpp"
#include "b24client/client.hpp"
#include "b24client/error.hpp"
#include "b24client/json_util.hpp"
#include "crypto.hpp"
#include "db.hpp"
#include "http/oauth.hpp"
#include "http/rights.hpp"
#include "http/sessions.hpp"
#include "http/single_flight.hpp"

namespace server::http {

using nlohmann::json;

namespace {

constexpr const char* kAuthConnector = "b24seg";  // the engine's EngineOptions::auth_connector

bool Printable(const std::string& s) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7F) {
            return false;
        }
    }
    return true;
}

bool MadeOf(const std::string& s, const char* extra) {
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view(extra).find(c) != std::string_view::npos;
        if (!ok) {
            return false;
        }
    }
    return true;
}

void Require(bool ok, const char* parameter) {
    if (!ok) {
        throw BadRequest(std::string("missing or malformed parameter: ") + parameter);
    }
}

bool ValidMemberId(const std::string& m) {
    return !m.empty() && m.size() <= 64 && MadeOf(m, "_-");
}
bool ValidToken(const std::string& t, std::size_t max) {
    return !t.empty() && t.size() <= max && Printable(t);
}

ApiError NotTrusted() {
    // One answer for an unknown portal and a wrong token: the caller learns nothing from it.
    return Unauthorized("unknown portal or wrong application token");
}

struct PlacementDef {
    const char* code;
    const char* ru;
    const char* en;
    const char* de;
    const char* pl;
};

const std::vector<PlacementDef>& Placements() {
    static const std::vector<PlacementDef> defs = {
        {"CRM_ANALYTICS_MENU", "Сегментация клиентов", "Customer segments", "Kundensegmente",
         "Segmenty klientów"},
        {"CRM_CONTACT_DETAIL_TAB", "Сегмент клиента", "Client segment", "Kundensegment",
         "Segment klienta"},
        {"CRM_COMPANY_DETAIL_TAB", "Сегмент клиента", "Client segment", "Kundensegment",
         "Segment klienta"},
    };
    return defs;
}

std::string PlanOf(const json& app_info) {
    std::string family =
        AsciiLower(b24client::ToString(app_info.value("LICENSE_FAMILY", json())).value_or(""));
    return family.rfind("ent", 0) == 0 ? "enterprise" : "standard";
}

// "1", "Y", true, {"value": "Y"} ... -> true.
bool FeatureOn(const json& result) {
    if (auto b = b24client::ToBool(result)) {
        return *b;
    }
    if (const json* v = b24client::Find(result, "value")) {
        return b24client::ToBool(*v).value_or(false);
    }
    return false;
}

// A portal whose install is known to be gone: its application token is dead, and only a proven
// admin's (re-)install can bring it back.
bool InstallGone(const PortalRecord& r) {
    return r.state == "blocked" &&
           (r.block_code == "uninstalled" || r.block_code == "reinstall_needed");
}

bool Uninstalled(const PortalRecord& r) {
    return r.state == "blocked" && r.block_code == "uninstalled";
}

bool AlreadyBound(const b24client::Error& e) {
    return e.description().find("already") != std::string::npos ||
           e.code().find("ALREADY") != std::string::npos;
}

}  // namespace

const std::map<std::string, std::string>& CrmEvents() {
    static const std::map<std::string, std::string> events = [] {
        std::map<std::string, std::string> m;
        const std::pair<const char*, const char*> kinds[] = {
            {"CONTACT", "contact"},     {"COMPANY", "company"},   {"DEAL", "deal"},
            {"DYNAMICITEM", "invoice"}, {"ACTIVITY", "activity"}, {"REQUISITE", "requisite"},
            {"INVOICE", "old_invoice"}};
        for (const auto& [name, entity] : kinds) {
            for (const char* op : {"ADD", "UPDATE", "DELETE"}) {
                m[std::string("ONCRM") + name + op] = entity;
            }
        }
        return m;
    }();
    return events;
}

PagePost PagePost::From(const Pairs& query, const Pairs& form) {
    PagePost p;
    p.member_id = Get(form, "member_id");
    Require(ValidMemberId(p.member_id), "member_id");
    p.auth_id = Get(form, "AUTH_ID");
    Require(ValidToken(p.auth_id, 512), "AUTH_ID");
    p.application_token = Get(form, "APPLICATION_TOKEN");
    Require(ValidToken(p.application_token, 256), "APPLICATION_TOKEN");
    p.refresh_id = Get(form, "REFRESH_ID");
    Require(p.refresh_id.size() <= 512 && Printable(p.refresh_id), "REFRESH_ID");
    p.domain = AsciiLower(Get(query, "DOMAIN"));
    Require(p.domain.size() <= 253 && MadeOf(p.domain, ".-:"), "DOMAIN");
    p.protocol = Get(query, "PROTOCOL");
    Require(p.protocol.empty() || p.protocol == "0" || p.protocol == "1", "PROTOCOL");
    p.lang = Get(query, "LANG");
    Require(p.lang.size() <= 8 && MadeOf(p.lang, "_-"), "LANG");
    p.app_status = Get(form, "status");
    Require(p.app_status.size() <= 4 && MadeOf(p.app_status, ""), "status");
    p.placement = Get(form, "PLACEMENT");
    if (p.placement.empty()) {
        p.placement = "DEFAULT";
    }
    Require(p.placement.size() <= 64 && MadeOf(p.placement, "_"), "PLACEMENT");
    p.placement_options = Get(form, "PLACEMENT_OPTIONS");
    Require(p.placement_options.size() <= 8192, "PLACEMENT_OPTIONS");
    if (auto expires = Find(form, "AUTH_EXPIRES"); expires && !expires->empty()) {
        auto v = ParsePositiveId(*expires);
        Require(v.has_value(), "AUTH_EXPIRES");
        p.auth_expires = *v;
    }
    return p;
}

Lifecycle::Lifecycle(const Config& config,
                     Registry& registry,
                     PortalManager& portals,
                     JobRunner& jobs,
                     SessionStore& sessions,
                     RightsCache& rights,
                     const OAuthServer& oauth,
                     std::function<std::int64_t()> now)
    : config_(config),
      registry_(registry),
      portals_(portals),
      jobs_(jobs),
      sessions_(sessions),
      rights_(rights),
      oauth_(oauth),
      now_(std::move(now)) {}

std::shared_ptr<std::mutex> Lifecycle::InstallLock(const std::string& member_id) {
    std::lock_guard lock(locks_mutex_);
    auto& m = install_locks_[member_id];
    if (!m) {
        m = std::make_shared<std::mutex>();
    }
    return m;
}

PortalRecord Lifecycle::Known(const std::string& member_id, const std::string& application_token) {
    auto record = registry_.Find(member_id);
    if (!record || record->application_token.empty() ||
        !ConstantTimeEquals(record->application_token, application_token)) {
        throw NotTrusted();
    }
    return *record;
}

void Lifecycle::CheckEndpoint(const PortalRecord& record) const {
    if (IsPlainHttp(record.endpoint) && !config_.allow_http_portals) {
        throw Forbidden("portals reached over plain http are not accepted");
    }
    if (OriginOf(record.endpoint).empty()) {
        throw Forbidden("the portal's endpoint is not usable");
    }
}

PortalRecord Lifecycle::CheckDomain(PortalRecord record, const std::string& domain) {
    if (domain.empty() || domain == AsciiLower(record.domain)) {
        return record;
    }
    // The portal may have been renamed: a call at the stored endpoint follows its redirect and
    // stores the new endpoint. Only what the stored endpoint says counts; DOMAIN never chooses
    // where we call.
    try {
        portals_.AdminClient(record.member_id)->Call("app.info");
    } catch (const std::exception& e) {
        spdlog::warn("portal {}: DOMAIN differs and the stored endpoint did not confirm a rename",
                     record.member_id);
    }
    auto again = registry_.Find(record.member_id);
    if (!again || domain != AsciiLower(again->domain)) {
        throw Forbidden("DOMAIN does not match the installed portal");
    }
    return *again;
}

PortalRecord Lifecycle::VerifyPage(const PagePost& post) {
    PortalRecord record = Known(post.member_id, post.application_token);
    CheckEndpoint(record);
    if (record.state == "blocked" && record.block_code == "uninstalled") {
        throw NotTrusted();
    }
    return CheckDomain(std::move(record), post.domain);
}

PortalRecord Lifecycle::AcceptInstallPage(const PagePost& post) {
    auto record = registry_.Find(post.member_id);
    if (record && !record->application_token.empty() &&
        ConstantTimeEquals(record->application_token, post.application_token)) {
        if (Uninstalled(*record)) {
            throw NotTrusted();  // the token of an install that is gone
        }
        CheckEndpoint(*record);
        PortalRecord checked = CheckDomain(*record, post.domain);
        // A portal first stored by ONAPPINSTALL, or whose set-up failed earlier: (re)do it.
        try {
            auto db = portals_.Db(post.member_id);
            if (db->GetMeta("setup.done").value_or("0") != "1" || !checked.install_finished) {
                SetUp(post.member_id);
            }
        } catch (const b24client::Error& e) {
            spdlog::warn("portal {}: set-up failed: {}", post.member_id, e.what());
        }
        return *registry_.Find(post.member_id);
    }
    if (record && !InstallGone(*record)) {
        // A page POST never replaces the application token of an installed portal: anyone who
        // opened the app could post one of their own making.
        spdlog::warn(
            "portal {}: installer page with another application token refused (the "
            "portal is installed)",
            LogSafe(post.member_id, 64));
        throw NotTrusted();
    }
    Require(!post.refresh_id.empty(), "REFRESH_ID");
    return InstallWithRefreshToken(post.member_id, post.refresh_id, post.application_token,
                                   post.lang, post.app_status, "installer page");
}

OAuthGrant Lifecycle::TradeFor(const std::string& member_id,
                               const std::string& refresh_token,
                               const char* source) {
    OAuthGrant grant;
    try {
        grant = oauth_.Refresh(refresh_token);
    } catch (const OAuthError& e) {
        spdlog::warn("portal {}: {} not confirmed by the authorization server: {}",
                     LogSafe(member_id, 64), source, e.what());
        if (e.kind() == OAuthError::Kind::kUnavailable) {
            throw ApiError(503, "portal_unavailable", "the authorization server did not answer");
        }
        if (e.code() == "untrusted_endpoint") {
            // The authorization server named an endpoint that is not https (plain http is only
            // accepted with allow_http_portals).
            throw Forbidden("portals reached over anything but https are not accepted");
        }
        throw Unauthorized("the request could not be confirmed with Bitrix24");
    }
    if (grant.member_id != member_id) {
        spdlog::warn("portal {}: {} refused: the tokens belong to another portal",
                     LogSafe(member_id, 64), source);
        throw Unauthorized("the request could not be confirmed with Bitrix24");
    }
    if (!grant.client_endpoint.empty() && grant.client_endpoint.back() != '/') {
        grant.client_endpoint.push_back('/');
    }
    PortalRecord probe;
    probe.endpoint = grant.client_endpoint;
    CheckEndpoint(probe);
    return grant;
}

void Lifecycle::ProveAdmin(const std::string& member_id,
                           const std::string& endpoint,
                           const std::string& access_token,
                           const char* source) {
    b24client::ClientOptions options;
    options.allow_http = config_.allow_http_portals;
    options.max_answer_bytes = config_.max_answer_bytes;
    options.retry.max_transient_attempts = 2;  // a person (or the portal's event) is waiting
    options.request_timeout_s = 30.0;
    if (registry_.Find(member_id)) {
        options.limiter = portals_.Limiter(member_id);
    }
    b24client::Client client(b24client::Credentials{endpoint, access_token, ""}, options);
    std::vector<b24client::CommandResult> results;
    try {
        results = client.Batch({{"user.admin", json::object(), "admin"},
                                {"profile", json::object(), "profile"},
                                {"app.info", json::object(), "info"}});
    } catch (const b24client::Error& e) {
        spdlog::warn("portal {}: {} refused: the portal did not confirm the token ({})",
                     LogSafe(member_id, 64), source, b24client::ToString(e.kind()));
        using K = b24client::ErrorKind;
        if (e.kind() == K::kInvalidToken || e.kind() == K::kExpiredToken ||
            e.kind() == K::kAccessDenied || e.kind() == K::kUntrustedEndpoint) {
            throw Unauthorized("the request could not be confirmed with Bitrix24");
        }
        throw ApiError(503, "portal_unavailable", "the portal did not answer");
    }
    std::optional<bool> admin;
    if (results[0].ok) {
        admin = b24client::ToBool(results[0].result);
    }
    std::int64_t user_id = 0;
    if (results[1].ok) {
        user_id = b24client::ToInt64(results[1].result.value("ID", json())).value_or(0);
        if (!admin) {
            admin = b24client::ToBool(results[1].result.value("ADMIN", json()));
        }
    }
    if (!admin.value_or(false)) {
        spdlog::warn(
            "portal {}: {} refused: the tokens belong to user {}, who is not a portal "
            "administrator",
            LogSafe(member_id, 64), source, user_id);
        throw Forbidden("only a portal administrator can install, re-install or update the app");
    }
    if (!results[2].ok || !results[2].result.is_object()) {
        spdlog::warn("portal {}: {} refused: app.info did not answer for the app",
                     LogSafe(member_id, 64), source);
        throw Forbidden("the portal did not confirm the app");
    }
}

PortalRecord Lifecycle::InstallWithRefreshToken(const std::string& member_id,
                                                const std::string& refresh_token,
                                                const std::string& application_token,
                                                const std::string& lang,
                                                const std::string& app_status,
                                                const char* source) {
    auto install_lock = InstallLock(member_id);
    std::lock_guard serial(*install_lock);
    // The other of page and event may have stored the portal meanwhile.
    auto existing = registry_.Find(member_id);
    if (existing && !existing->application_token.empty() && !Uninstalled(*existing) &&
        ConstantTimeEquals(existing->application_token, application_token)) {
        return *existing;
    }
    // Every check before anything is written.
    OAuthGrant grant = TradeFor(member_id, refresh_token, source);
    ProveAdmin(member_id, grant.client_endpoint, grant.access_token, source);

    PortalRecord record = existing.value_or(PortalRecord{});
    bool fresh = !existing.has_value();
    bool restored = existing && existing->purge_at > 0;
    record.member_id = member_id;
    record.endpoint = grant.client_endpoint;
    record.domain = HostOf(grant.client_endpoint);
    if (record.db_file.empty()) {
        record.db_file = Registry::DbFileFor(member_id);
    }
    record.application_token = application_token;
    record.access_token = grant.access_token;
    record.refresh_token = grant.refresh_token;
    record.access_expires_at = grant.expires_at;
    record.token_user_id = grant.user_id;
    record.scope = grant.scope;
    record.app_status = grant.status.empty() ? app_status : grant.status;
    if (!lang.empty()) {
        record.lang = PageLang(lang);
    }
    record.install_finished = false;
    record.purge_at = 0;
    if (record.state != "active" || InstallGone(record)) {
        record.state = "installing";
        record.block_code.clear();
        record.block_message.clear();
    }
    if (fresh) {
        // Handles of an earlier install of this member_id (purged by the CLI) must not be reused.
        portals_.Forget(member_id);
    }
    // The portal's database exists with its schema before the registry names it: the job
    // runner's scheduler may start a run the moment the portal is stored, and two connections
    // must not create one schema at once.
    {
        EnsurePrivateDirectory(config_.data_dir);
        PortalDb create((std::filesystem::path(config_.data_dir) / record.db_file).string());
    }
    registry_.Upsert(record);
    registry_.RemoveUninstallClaim(member_id);
    // Admin clients already handed out share one token store: give it the new pair too.
    portals_.SetTokens(member_id, record.access_token, record.refresh_token,
                       record.access_expires_at);
    spdlog::info("portal {} ({}) {} by admin user {} ({})", member_id, record.domain,
                 fresh ? "installed"
                       : (restored ? "re-installed; its kept data is restored" : "re-installed"),
                 grant.user_id, source);
    try {
        SetUp(member_id);
    } catch (const b24client::Error& e) {
        spdlog::error("portal {}: set-up after install failed: {}", member_id, e.what());
        throw ApiError(503, "portal_unavailable",
                       "the portal refused to set up the app; open the installer again");
    }
    // Queued unless the scheduler already started it (it picks up a stored portal by itself).
    jobs_.Request(member_id, sync::RunKind::kFirst);
    return *registry_.Find(member_id);
}

void Lifecycle::SetUp(const std::string& member_id) {
    auto client = portals_.AdminClient(member_id);
    const std::string handler = config_.public_url + "/b24/app";
    const std::string events_handler = config_.public_url + "/b24/events";

    std::vector<b24client::Command> look = {
        {"app.info", json::object(), "info"},
        {"placement.get", json::object(), "placements"},
        {"event.get", json::object(), "events"},
        {"feature.get", {{"CODE", "rest_offline_extended"}}, "offline"},
    };
    auto seen = client->Batch(look);
    if (!seen[0].ok) {
        throw *seen[0].error;
    }
    registry_.SetPlan(member_id, PlanOf(seen[0].result));
    if (b24client::ToBool(seen[0].result.value("INSTALLED", json())).value_or(false)) {
        registry_.SetInstallFinished(member_id);
    }
    std::vector<b24client::Command> binds;
    // Placements: ours at the current handler; ours at another handler (the server moved) go.
    std::set<std::string> bound_here;
    if (seen[1].ok && seen[1].result.is_array()) {
        for (const auto& p : seen[1].result) {
            std::string code = b24client::ToString(p.value("placement", json())).value_or("");
            std::string h = b24client::ToString(p.value("handler", json())).value_or("");
            if (h == handler) {
                bound_here.insert(code);
            } else if (!code.empty() && !h.empty()) {
                binds.push_back({"placement.unbind", {{"PLACEMENT", code}, {"HANDLER", h}}, ""});
            }
        }
    } else if (!seen[1].ok) {
        throw *seen[1].error;
    }
    for (const auto& def : Placements()) {
        if (bound_here.count(def.code) != 0) {
            continue;
        }
        json lang_all = {{"ru", {{"TITLE", def.ru}}},
                         {"en", {{"TITLE", def.en}}},
                         {"de", {{"TITLE", def.de}}},
                         {"pl", {{"TITLE", def.pl}}}};
        binds.push_back(b24client::Command{"placement.bind",
                                           {{"PLACEMENT", def.code},
                                            {"HANDLER", handler},
                                            {"TITLE", def.en},
                                            {"LANG_ALL", lang_all}},
                                           "",
                                           b24client::Repeat::kUnsafe});
    }
    // Events: online ones to /b24/events, offline ones (where the portal has them) with our
    // auth_connector so that our own card writes stay out of our queue.
    std::set<std::string> online;
    std::set<std::string> offline;
    if (seen[2].ok && seen[2].result.is_array()) {
        for (const auto& e : seen[2].result) {
            std::string name =
                AsciiUpper(b24client::ToString(e.value("event", json())).value_or(""));
            bool is_offline = b24client::ToBool(e.value("offline", json())).value_or(false);
            std::string h = b24client::ToString(e.value("handler", json())).value_or("");
            if (is_offline) {
                offline.insert(name);
            } else if (h == events_handler) {
                online.insert(name);
            } else if (!h.empty()) {
                binds.push_back({"event.unbind", {{"event", name}, {"handler", h}}, ""});
            }
        }
    } else if (!seen[2].ok) {
        throw *seen[2].error;
    }
    bool offline_feature = seen[3].ok && FeatureOn(seen[3].result);
    std::vector<std::string> wanted = {"ONAPPUPDATE", "ONAPPUNINSTALL"};
    for (const auto& [name, entity] : CrmEvents()) {
        wanted.push_back(name);
    }
    for (const auto& name : wanted) {
        if (online.count(name) == 0) {
            binds.push_back(b24client::Command{"event.bind",
                                               {{"event", name}, {"handler", events_handler}},
                                               "",
                                               b24client::Repeat::kUnsafe});
        }
    }
    if (offline_feature) {
        for (const auto& [name, entity] : CrmEvents()) {
            if (offline.count(name) == 0) {
                binds.push_back(b24client::Command{"event.bind",
                                                   {{"event", name},
                                                    {"event_type", "offline"},
                                                    {"auth_connector", kAuthConnector}},
                                                   "",
                                                   b24client::Repeat::kUnsafe});
            }
        }
    }
    bool offline_ok = offline_feature;
    if (!binds.empty()) {
        auto results = client->Batch(binds);
        for (std::size_t i = 0; i < results.size(); ++i) {
            const auto& r = results[i];
            if (r.ok || AlreadyBound(*r.error)) {
                continue;
            }
            std::string event =
                b24client::ToString(binds[i].params.value("event", json())).value_or("");
            if (binds[i].method == "event.bind" &&
                r.error->kind() == b24client::ErrorKind::kInvalidArgument &&
                event.rfind("ONCRMINVOICE", 0) == 0) {
                continue;  // portals without old invoices have no such events
            }
            if (binds[i].params.value("event_type", json()) == "offline") {
                spdlog::warn("portal {}: offline event {} not bound ({}); using online events",
                             member_id, event, r.error->what());
                offline_ok = false;
                continue;
            }
            if (binds[i].method.find("unbind") != std::string::npos) {
                spdlog::warn("portal {}: stale binding not removed: {}", member_id,
                             r.error->what());
                continue;
            }
            throw *r.error;
        }
    }
    auto db = portals_.Db(member_id);
    db->SetMeta("offline.enabled", offline_ok ? "1" : "0");
    db->SetMeta("setup.done", "1");
}

PortalUser Lifecycle::IdentifyUser(const PortalRecord& record, const std::string& auth_id) {
    // Concurrent page loads and refreshes with one token ask the portal once (single_flight.hpp).
    static SingleFlight<json> profiles;
    json profile;
    try {
        profile = profiles.Run(
            record.member_id + "\n" + auth_id, std::chrono::milliseconds(config_.user_wait_ms),
            [&] { return portals_.UserClient(record.member_id, auth_id)->Call("profile").result; });
    } catch (const b24client::Error& e) {
        using K = b24client::ErrorKind;
        if (e.kind() == K::kInvalidToken || e.kind() == K::kExpiredToken ||
            e.kind() == K::kAccessDenied || e.kind() == K::kReinstallNeeded) {
            throw Unauthorized("the portal did not confirm the user's token");
        }
        RethrowForUser(std::current_exception());
    }
    PortalUser user;
    user.id = b24client::ToInt64(profile.value("ID", json())).value_or(0);
    if (user.id <= 0) {
        throw Unauthorized("the portal did not confirm the user's token");
    }
    user.is_admin = b24client::ToBool(profile.value("ADMIN", json())).value_or(false);
    std::string first = b24client::ToString(profile.value("NAME", json())).value_or("");
    std::string last = b24client::ToString(profile.value("LAST_NAME", json())).value_or("");
    user.name = first + (first.empty() || last.empty() ? "" : " ") + last;
    return user;
}

Lifecycle::InstallCheck Lifecycle::CheckInstalled(const std::string& member_id) {
    auto record = registry_.Find(member_id);
    if (!record || (record->access_token.empty() && record->refresh_token.empty())) {
        return InstallCheck::kGone;
    }
    using K = b24client::ErrorKind;
    try {
        portals_.AdminClient(member_id, {}, 2)->Call("app.info");
        return InstallCheck::kInstalled;
    } catch (const b24client::Error& e) {
        switch (e.kind()) {
            case K::kInvalidToken:     // the portal revoked the access token
            case K::kReinstallNeeded:  // and the authorization server the refresh token
            case K::kExpiredToken:
            case K::kPortalDeleted:
                return InstallCheck::kGone;
            default:
                spdlog::warn("portal {}: cannot ask the portal whether the app is installed: {}",
                             member_id, b24client::ToString(e.kind()));
                return InstallCheck::kUnreachable;
        }
    } catch (const std::exception& e) {
        spdlog::warn("portal {}: cannot ask the portal whether the app is installed: {}", member_id,
                     e.what());
        return InstallCheck::kUnreachable;
    }
}

void Lifecycle::Uninstall(const std::string& member_id, bool clean) {
    auto install_lock = InstallLock(member_id);
    std::lock_guard serial(*install_lock);
    auto record = registry_.Find(member_id);
    if (!record) {
        return;
    }
    // No new run may start from here on.
    registry_.SetState(member_id, "blocked", "uninstalled", "The app was removed from the portal.");
    portals_.SetTokens(member_id, "", "", 0);
    if (clean) {
        registry_.SetPurgeAt(
            member_id, now_() + static_cast<std::int64_t>(config_.uninstall_grace_hours) * 3600);
    }
    registry_.RemoveUninstallClaim(member_id);
    jobs_.CancelPortal(member_id);
    sessions_.DropPortal(member_id);
    rights_.ForgetPortal(member_id);
    if (clean) {
        spdlog::info(
            "portal {}: app uninstalled (confirmed); its data is purged in {} hours "
            "unless the app is installed again",
            member_id, config_.uninstall_grace_hours);
    } else {
        spdlog::info("portal {}: app uninstalled (confirmed); data kept", member_id);
    }
}

bool Lifecycle::Purge(const std::string& member_id) {
    auto install_lock = InstallLock(member_id);
    std::lock_guard serial(*install_lock);
    auto record = registry_.Find(member_id);
    if (!record) {
        return false;
    }
    jobs_.CancelPortal(member_id);
    std::string path = (std::filesystem::path(config_.data_dir) / record->db_file).string();
    registry_.Delete(member_id);
    portals_.Forget(member_id);
    auto remove_files = [&] {
        for (const char* suffix : {"", "-wal", "-shm", ".lock", "-journal", ".tokens.lock"}) {
            std::error_code ec;
            std::filesystem::remove(path + suffix, ec);
        }
    };
    remove_files();
    // A job that slipped in between the cancel and the registry delete: stop it, remove again.
    jobs_.CancelPortal(member_id);
    portals_.Forget(member_id);
    remove_files();
    sessions_.DropPortal(member_id);
    rights_.ForgetPortal(member_id);
    spdlog::info("portal {}: purged; all its data deleted", member_id);
    return true;
}

void Lifecycle::HandleUninstallClaim(const PortalRecord& record, bool clean) {
    const std::string& member_id = record.member_id;
    if (Uninstalled(record)) {
        // Already uninstalled: a second claim (with the old token) changes nothing, in particular
        // it cannot turn a "keep the data" uninstall into a deletion.
        spdlog::warn("portal {}: ONAPPUNINSTALL for a portal already uninstalled ignored",
                     member_id);
        return;
    }
    switch (CheckInstalled(member_id)) {
        case InstallCheck::kInstalled:
            spdlog::warn(
                "portal {}: ONAPPUNINSTALL refused: the portal still answers the app with "
                "the stored tokens",
                member_id);
            throw Forbidden("the portal does not confirm the uninstall");
        case InstallCheck::kGone:
            Uninstall(member_id, clean);
            return;
        case InstallCheck::kUnreachable: {
            // Nothing is dropped on a claim nobody can confirm: the portal stays as it is and
            // Upkeep asks again later.
            UninstallClaim claim;
            claim.member_id = member_id;
            claim.clean = clean;
            claim.claimed_at = now_();
            claim.next_check_at = now_() + 300;
            registry_.AddUninstallClaim(claim);
            spdlog::warn(
                "portal {}: ONAPPUNINSTALL could not be confirmed (the portal did not "
                "answer); kept as a claim to check again",
                member_id);
            return;
        }
    }
}

void Lifecycle::HandleUpdate(const std::string& member_id,
                             const std::string& app_token,
                             const Pairs& form) {
    auto record = registry_.Find(member_id);
    if (!record || Uninstalled(*record)) {
        throw NotTrusted();
    }
    // A new version may come with a new application token and the updating admin's tokens. Any
    // user could post an update with a token of their own making and their own tokens: only the
    // portal, asked with tokens proven to be an admin's, can vouch for it.
    std::string refresh = Get(form, "auth[refresh_token]");
    if (!ValidToken(refresh, 512)) {
        spdlog::warn("portal {}: ONAPPUPDATE without a refresh token refused", member_id);
        throw NotTrusted();
    }
    auto install_lock = InstallLock(member_id);
    std::lock_guard serial(*install_lock);
    OAuthGrant grant = TradeFor(member_id, refresh, "ONAPPUPDATE");
    ProveAdmin(member_id, grant.client_endpoint, grant.access_token, "ONAPPUPDATE");
    bool new_token = !ConstantTimeEquals(record->application_token, app_token);
    if (new_token) {
        registry_.SetApplicationToken(member_id, app_token);
    }
    if (grant.client_endpoint != record->endpoint) {
        registry_.UpdateEndpoint(member_id, grant.client_endpoint, HostOf(grant.client_endpoint));
    }
    portals_.SetTokens(member_id, grant.access_token, grant.refresh_token, grant.expires_at);
    spdlog::info("portal {}: app updated by admin user {}{}", member_id, grant.user_id,
                 new_token ? "; application token replaced" : "");
    try {
        SetUp(member_id);
    } catch (const b24client::Error& e) {
        spdlog::warn("portal {}: set-up after update failed: {}", member_id, e.what());
    }
}

void Lifecycle::HandleEvent(const Pairs& form) {
    std::string event = AsciiUpper(Get(form, "event"));
    std::string member_id = Get(form, "auth[member_id]");
    std::string app_token = Get(form, "auth[application_token]");
    Require(!event.empty() && event.size() <= 64 && MadeOf(event, "_"), "event");
    Require(ValidMemberId(member_id), "auth[member_id]");
    Require(ValidToken(app_token, 256), "auth[application_token]");

    if (event == "ONAPPINSTALL") {
        if (auto record = registry_.Find(member_id);
            record && !Uninstalled(*record) &&
            ConstantTimeEquals(record->application_token, app_token)) {
            return;  // the installer page came first
        }
        std::string refresh = Get(form, "auth[refresh_token]");
        Require(ValidToken(refresh, 512), "auth[refresh_token]");
        InstallWithRefreshToken(member_id, refresh, app_token, Get(form, "data[LANGUAGE_ID]"),
                                Get(form, "auth[status]"), "ONAPPINSTALL");
        return;
    }
    if (event == "ONAPPUPDATE") {
        HandleUpdate(member_id, app_token, form);
        return;
    }
    PortalRecord record = Known(member_id, app_token);
    if (event == "ONAPPUNINSTALL") {
        HandleUninstallClaim(record, Get(form, "data[CLEAN]") == "1");
        return;
    }
    auto it = CrmEvents().find(event);
    if (it == CrmEvents().end()) {
        spdlog::debug("portal {}: event {} ignored", member_id, event);
        return;
    }
    if (record.state == "blocked" && record.block_code == "uninstalled") {
        return;
    }
    std::string entity = it->second;
    if (entity == "invoice" && Get(form, "data[FIELDS][ENTITY_TYPE_ID]") != "31") {
        return;  // another smart process
    }
    auto id = ParsePositiveId(Get(form, "data[FIELDS][ID]"));
    Require(id.has_value(), "data[FIELDS][ID]");
    // Additions and changes reach the next run through the offline queue or the modified-since
    // walk (which also see our own card writes, whose online events come back here by the
    // thousand after a write-back); a deletion is noted so that the run confirms it with one
    // call instead of waiting for the count check.
    if (event.size() > 6 && event.compare(event.size() - 6, 6, "DELETE") == 0) {
        // Only rows we store need the check: ids made up by a sender cost nothing.
        auto db = portals_.Db(member_id);
        if (db->Has(entity, *id)) {
            db->AddDirty(entity, *id);
        }
    }
    jobs_.NoteEvent(member_id);
}

}  // namespace server::http
