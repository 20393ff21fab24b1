#include "http/lists.hpp"

#include <array>
#include <mutex>

#include <SQLiteCpp/Statement.h>

#include "sync/user_fields.hpp"
#include "text.hpp"

namespace server::http {

namespace {

using segmenter::Series;

constexpr const char* kContactClient = "t.lifecycle IS NOT NULL AND t.parent_company IS NULL";
constexpr const char* kCompanyClient = "t.lifecycle IS NOT NULL";

SeriesFilter Both(const std::string& extra) {
    SeriesFilter f;
    f.contacts = true;
    f.companies = true;
    f.contact_where = std::string(kContactClient) + (extra.empty() ? "" : " AND " + extra);
    f.company_where = std::string(kCompanyClient) + (extra.empty() ? "" : " AND " + extra);
    return f;
}

bool IsPhoneQuery(const std::string& q) {
    bool digit = false;
    for (char c : q) {
        if (c >= '0' && c <= '9') {
            digit = true;
        } else if (c != ' ' && c != '+' && c != '-' && c != '(' && c != ')' && c != '.') {
            return false;
        }
    }
    return digit;
}

std::string Trim(const std::string& s) {
    std::size_t a = s.find_first_not_of(" \t");
    if (a == std::string::npos) {
        return {};
    }
    std::size_t b = s.find_last_not_of(" \t");
    return s.substr(a, b - a + 1);
}

std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            nl = text.size();
        }
        if (nl > start) {
            out.push_back(text.substr(start, nl - start));
        }
        start = nl + 1;
    }
    return out;
}

std::string Col(SQLite::Statement& q, int i) {
    return q.getColumn(i).isNull() ? std::string() : q.getColumn(i).getString();
}
std::optional<std::string> OptText(SQLite::Statement& q, int i) {
    if (q.getColumn(i).isNull()) {
        return std::nullopt;
    }
    return q.getColumn(i).getString();
}
std::optional<std::int64_t> OptInt(SQLite::Statement& q, int i) {
    if (q.getColumn(i).isNull()) {
        return std::nullopt;
    }
    return q.getColumn(i).getInt64();
}

// Detail columns, the same for both kinds (company rows have no parent company).
constexpr const char* kContactDetails =
    "r.name, r.phones, r.emails, r.assigned_by, r.created, t.parent_company, pc.name, "
    "t.lifecycle, t.client_type, t.frequency, t.last_payment, t.payments, t.has_dialogs, "
    "t.has_channels";
constexpr const char* kCompanyDetails =
    "r.name, r.phones, r.emails, r.assigned_by, r.created, NULL, NULL, "
    "t.lifecycle, t.client_type, t.frequency, t.last_payment, t.payments, t.has_dialogs, "
    "t.has_channels";
constexpr const char* kContactFrom =
    " FROM contact r LEFT JOIN target t ON t.kind = 3 AND t.id = r.id"
    " LEFT JOIN company pc ON pc.id = t.parent_company";
constexpr const char* kCompanyFrom =
    " FROM company r LEFT JOIN target t ON t.kind = 4 AND t.id = r.id";

// Reads columns [first, first+14) written by k*Details into an item.
void ReadDetails(SQLite::Statement& q, int first, ListItem& item) {
    item.name = Col(q, first);
    item.phones = Lines(Col(q, first + 1));
    item.emails = Lines(Col(q, first + 2));
    item.assigned_by = q.getColumn(first + 3).getInt64();
    item.created = Col(q, first + 4);
    item.company_id = OptInt(q, first + 5).value_or(0);
    item.company_name = Col(q, first + 6);
    item.values.parent_company = OptInt(q, first + 5);
    item.values.lifecycle = OptText(q, first + 7);
    item.values.client_type = OptText(q, first + 8);
    item.values.frequency = OptText(q, first + 9);
    item.values.last_payment = OptText(q, first + 10);
    item.values.payments = OptInt(q, first + 11);
    if (auto d = OptInt(q, first + 12)) {
        item.values.has_dialogs = *d != 0;
    }
    if (auto c = OptInt(q, first + 13)) {
        item.values.has_channels = *c != 0;
    }
}

struct Labels {
    const char* ru;
    const char* en;
    const char* de;
    const char* pl;
};

const char* Pick(const Labels& l, const std::string& lang) {
    if (lang == "ru") {
        return l.ru;
    }
    if (lang == "de") {
        return l.de;
    }
    if (lang == "pl") {
        return l.pl;
    }
    return l.en;
}

const std::array<Labels, 14>& CsvColumns() {
    static const std::array<Labels, 14> columns = {{
        {"Тип", "Type", "Typ", "Typ"},
        {"ID", "ID", "ID", "ID"},
        {"Название", "Name", "Name", "Nazwa"},
        {"Телефоны", "Phones", "Telefonnummern", "Telefony"},
        {"E-mail", "E-mails", "E-Mails", "E-maile"},
        {"Компания", "Company", "Unternehmen", "Firma"},
        {"Ответственный", "Responsible", "Verantwortlich", "Odpowiedzialny"},
        {"Дата создания", "Created", "Erstellt", "Utworzono"},
        {"Жизненный цикл", "Lifecycle", "Lebenszyklus", "Cykl życia"},
        {"Тип клиента", "Client type", "Kundentyp", "Typ klienta"},
        {"Частота продаж", "Sales frequency", "Kaufhäufigkeit", "Częstotliwość sprzedaży"},
        {"Последняя оплата", "Last payment", "Letzte Zahlung", "Ostatnia płatność"},
        {"Количество оплат", "Payments", "Zahlungen", "Liczba płatności"},
        {"Ссылка", "Link", "Link", "Link"},
    }};
    return columns;
}

std::string Join(const std::vector<std::string>& values, const char* sep) {
    std::string out;
    for (const auto& v : values) {
        if (!out.empty()) {
            out += sep;
        }
        out += v;
    }
    return out;
}

}  // namespace

SeriesFilter FilterFor(Series series) {
    switch (series) {
        case Series::kContacts: {
            SeriesFilter f;
            f.contacts = true;
            f.contact_where = "1";
            return f;
        }
        case Series::kCompanies: {
            SeriesFilter f;
            f.companies = true;
            f.company_where = "r.is_my = 0";
            return f;
        }
        case Series::kAllClients:
            return Both("");
        case Series::kB2B: {
            SeriesFilter f;
            f.companies = true;
            f.company_where = kCompanyClient;
            return f;
        }
        case Series::kB2C: {
            SeriesFilter f;
            f.contacts = true;
            f.contact_where = kContactClient;
            return f;
        }
        case Series::kActive:
            return Both("t.lifecycle = 'ACTIVE'");
        case Series::kSleeping:
            return Both("t.lifecycle = 'SLEEPING'");
        case Series::kLost:
            return Both("t.lifecycle = 'LOST'");
        case Series::kRegular:
            return Both("t.frequency = 'REGULAR'");
        case Series::kFirst:
            return Both("t.frequency = 'FIRST'");
        case Series::kNone:
            return Both("t.frequency = 'NONE'");
        case Series::kRequests:
            return Both("t.lifecycle = 'REQUESTS'");
        case Series::kDialogs:
            return Both("t.lifecycle = 'DIALOGS'");
        case Series::kWithContacts:
            return Both("t.lifecycle = 'CONTACTS'");
        case Series::kNoContacts:
            return Both("t.lifecycle = 'NO_CONTACTS'");
    }
    return {};
}

namespace {

struct MatchSql {
    std::string sql;
    std::string text;    // bound as :text when not empty
    std::string digits;  // bound as :digits when not empty
};

// The union of the per-kind selects for a query. `columns`: "keys" (kind, id, sort columns),
// "details" (plus the detail columns) or "count" (one row per match, no order).
MatchSql BuildMatchSql(const ListQuery& query, const std::string& columns) {
    MatchSql m;
    SeriesFilter filter = FilterFor(query.series);
    std::string q = Trim(query.q);
    if (!q.empty()) {
        if (IsPhoneQuery(q)) {
            m.digits = Digits(q);
        } else {
            m.text = FoldCase(q);
        }
    }
    // The first line of a stored search text is the folded name.
    const std::string company_name_folded =
        "substr(pc.search, 1, instr(pc.search || char(10), char(10)) - 1)";
    std::string contact_search;
    std::string company_search;
    if (!m.text.empty()) {
        contact_search = " AND (instr(r.search, :text) > 0 OR (pc.id IS NOT NULL AND instr(" +
                         company_name_folded + ", :text) > 0))";
        company_search = " AND instr(r.search, :text) > 0";
    } else if (!m.digits.empty()) {
        contact_search = " AND instr(r.search, :digits) > 0";
        company_search = contact_search;
    }
    const bool details = columns == "details";
    // The parent company is needed to show it and to search its name, not to list keys.
    const bool parent = details || !m.text.empty();
    const std::string contact_from =
        parent ? std::string(kContactFrom)
               : std::string(" FROM contact r LEFT JOIN target t ON t.kind = 3 AND t.id = r.id");
    // Column 4: whether the card's own fields matched (1 without a text search); column 5: the
    // parent company (contacts). Details follow from column 6.
    auto select = [&](int kind, const char* detail_columns) {
        if (columns == "count") {
            return std::string("SELECT 1");
        }
        std::string own = m.text.empty() || kind == 4 ? "1" : "(instr(r.search, :text) > 0)";
        std::string parent_company = kind == 3 ? "t.parent_company" : "NULL";
        return "SELECT " + std::to_string(kind) +
               " AS kind, r.id AS id, t.last_payment AS lp, r.created AS cr, " + own + " AS own, " +
               parent_company + " AS pcid" +
               (details ? std::string(", ") + detail_columns : std::string());
    };
    std::vector<std::string> parts;
    if (filter.contacts) {
        parts.push_back(select(3, kContactDetails) + contact_from + " WHERE (" +
                        filter.contact_where + ")" + contact_search);
    }
    if (filter.companies) {
        parts.push_back(select(4, kCompanyDetails) + kCompanyFrom + " WHERE (" +
                        filter.company_where + ")" + company_search);
    }
    m.sql = Join(parts, " UNION ALL ");
    if (columns == "count") {
        m.sql = "SELECT COUNT(*) FROM (" + m.sql + ")";
    } else {
        m.sql += " ORDER BY lp DESC, cr DESC, kind DESC, id DESC";
    }
    return m;
}

void Bind(SQLite::Statement& stmt, const MatchSql& m) {
    if (!m.text.empty()) {
        stmt.bind(":text", m.text);
    } else if (!m.digits.empty()) {
        stmt.bind(":digits", m.digits);
    }
}

}  // namespace

void ForEachMatch(PortalDb& db,
                  const ListQuery& query,
                  bool details,
                  const std::function<void(const ListItem&)>& fn,
                  std::optional<Window> window) {
    MatchSql m = BuildMatchSql(query, details ? "details" : "keys");
    if (window) {
        m.sql += " LIMIT " + std::to_string(std::max<std::int64_t>(0, window->limit)) + " OFFSET " +
                 std::to_string(std::max<std::int64_t>(0, window->offset));
    }
    std::lock_guard lock(db.mutex());
    SQLite::Statement stmt(db.raw(), m.sql);
    Bind(stmt, m);
    ListItem item;
    while (stmt.executeStep()) {
        item = ListItem{};
        item.kind = static_cast<CardKind>(stmt.getColumn(0).getInt());
        item.id = stmt.getColumn(1).getInt64();
        item.matched_by_company_only = stmt.getColumn(4).getInt() == 0;
        item.company_id = OptInt(stmt, 5).value_or(0);
        if (details) {
            ReadDetails(stmt, 6, item);
        }
        fn(item);
    }
}

std::int64_t CountMatches(PortalDb& db, const ListQuery& query) {
    MatchSql m = BuildMatchSql(query, "count");
    std::lock_guard lock(db.mutex());
    SQLite::Statement stmt(db.raw(), m.sql);
    Bind(stmt, m);
    return stmt.executeStep() ? stmt.getColumn(0).getInt64() : 0;
}

std::map<CardKey, ListItem> LoadItems(PortalDb& db, const std::vector<CardKey>& keys) {
    std::map<CardKey, ListItem> out;
    std::vector<std::int64_t> contacts;
    std::vector<std::int64_t> companies;
    for (const auto& k : keys) {
        (k.kind == CardKind::kContact ? contacts : companies).push_back(k.id);
    }
    std::lock_guard lock(db.mutex());
    auto load = [&](CardKind kind, const std::vector<std::int64_t>& ids) {
        for (std::size_t start = 0; start < ids.size(); start += 500) {
            std::vector<std::int64_t> chunk(
                ids.begin() + static_cast<std::ptrdiff_t>(start),
                ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), start + 500)));
            std::string sql = kind == CardKind::kContact
                                  ? std::string("SELECT r.id, ") + kContactDetails + kContactFrom
                                  : std::string("SELECT r.id, ") + kCompanyDetails + kCompanyFrom;
            sql += " WHERE r.id IN (" + JoinIds(chunk) + ")";
            SQLite::Statement q(db.raw(), sql);
            while (q.executeStep()) {
                ListItem item;
                item.kind = kind;
                item.id = q.getColumn(0).getInt64();
                ReadDetails(q, 1, item);
                out[{kind, item.id}] = std::move(item);
            }
        }
    };
    load(CardKind::kContact, contacts);
    load(CardKind::kCompany, companies);
    return out;
}

std::string CardPath(CardKind kind, std::int64_t id) {
    return std::string(kind == CardKind::kContact ? "/crm/contact/details/"
                                                  : "/crm/company/details/") +
           std::to_string(id) + "/";
}

nlohmann::json ItemJson(const ListItem& item, const RenderContext& ctx) {
    using nlohmann::json;
    auto opt = [](const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); };
    json company = nullptr;
    if (item.kind == CardKind::kContact && item.company_id != 0) {
        if (!ctx.company_visible || ctx.company_visible(item.company_id)) {
            company = {{"id", item.company_id}, {"name", item.company_name}};
        } else {
            company = {{"hidden", true}};  // no name, no link
        }
    }
    json assigned = nullptr;
    if (item.assigned_by != 0) {
        auto it = ctx.users.find(item.assigned_by);
        assigned = {{"id", item.assigned_by},
                    {"name", it == ctx.users.end() ? std::string() : it->second}};
    }
    return {
        {"kind", item.kind == CardKind::kContact ? "contact" : "company"},
        {"id", item.id},
        {"name", item.name},
        {"phones", item.phones},
        {"emails", item.emails},
        {"company", company},
        {"assignedBy", assigned},
        {"createdAt", item.created.empty() ? json(nullptr) : json(item.created)},
        {"lifecycle", opt(item.values.lifecycle)},
        {"clientType", opt(item.values.client_type)},
        {"frequency", opt(item.values.frequency)},
        {"lastPayment", ctx.last_payment ? ctx.last_payment(item) : opt(item.values.last_payment)},
        {"payments", item.values.payments ? json(*item.values.payments) : json(nullptr)},
        {"path", CardPath(item.kind, item.id)}};
}

std::string HiddenLabel(const std::string& lang) {
    return Pick({"(нет доступа)", "(no access)", "(kein Zugriff)", "(brak dostępu)"}, lang);
}

std::string CsvFileName(Series series) {
    return "b24seg-" + std::string(segmenter::ModeId(series)) + "-" +
           std::string(segmenter::SeriesId(series)) + ".csv";
}

std::string CsvHeader(const RenderContext& ctx) {
    std::string line = "\xEF\xBB\xBF";  // UTF-8 BOM: Excel then reads Cyrillic correctly
    bool first = true;
    for (const auto& column : CsvColumns()) {
        if (!first) {
            line += ';';
        }
        first = false;
        line += CsvField(Pick(column, ctx.lang), ';');
    }
    return line + "\r\n";
}

std::string CsvLine(const ListItem& item, const RenderContext& ctx) {
    auto label = [&](const std::optional<std::string>& xml) {
        return xml ? sync::ItemLabel(*xml, ctx.lang) : std::string();
    };
    std::string kind;
    if (ctx.lang == "ru") {
        kind = item.kind == CardKind::kContact ? "Контакт" : "Компания";
    } else if (ctx.lang == "de") {
        kind = item.kind == CardKind::kContact ? "Kontakt" : "Unternehmen";
    } else if (ctx.lang == "pl") {
        kind = item.kind == CardKind::kContact ? "Kontakt" : "Firma";
    } else {
        kind = item.kind == CardKind::kContact ? "Contact" : "Company";
    }
    std::string responsible;
    if (auto it = ctx.users.find(item.assigned_by); it != ctx.users.end()) {
        responsible = it->second;
    }
    std::string last_payment;
    if (ctx.last_payment) {
        nlohmann::json lp = ctx.last_payment(item);
        last_payment = lp.is_string() ? lp.get<std::string>() : std::string();
    } else {
        last_payment = item.values.last_payment.value_or("");
    }
    std::vector<std::string> fields = {
        kind,
        std::to_string(item.id),
        item.name,
        Join(item.phones, ", "),
        Join(item.emails, ", "),
        item.kind != CardKind::kContact || item.company_id == 0        ? std::string()
        : !ctx.company_visible || ctx.company_visible(item.company_id) ? item.company_name
                                                                       : HiddenLabel(ctx.lang),
        responsible,
        item.created,
        label(item.values.lifecycle),
        item.values.client_type.value_or(""),
        label(item.values.frequency),
        last_payment,
        item.values.payments ? std::to_string(*item.values.payments) : std::string(),
        ctx.portal_origin + CardPath(item.kind, item.id),
    };
    std::string line;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) {
            line += ';';
        }
        line += CsvField(fields[i], ';');
    }
    return line + "\r\n";
}

}  // namespace server::http
