#include "golden_format.hpp"

#include <charconv>
#include <cstdlib>
#include <sstream>
#include <type_traits>

namespace segtest {

using namespace segmenter;

namespace {

std::vector<std::string> Split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string current;
    for (const char c : text) {
        if (c == separator) {
            parts.push_back(current);
            current.clear();
        } else {
            current.push_back(c);
        }
    }
    parts.push_back(current);
    return parts;
}

std::vector<std::string> Words(const std::string& line) {
    std::vector<std::string> words;
    std::istringstream in(line);
    std::string word;
    while (in >> word) {
        words.push_back(word);
    }
    return words;
}

// Text before a comment: '#' at the start or after whitespace.
std::string StripComment(const std::string& line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
            return line.substr(0, i);
        }
    }
    return line;
}

class Parser {
public:
    Parser(GoldenCase& out) : out_(out) {}

    void Parse(const std::string& text) {
        std::vector<std::vector<std::string>> lines;
        std::vector<std::string> raw;
        std::istringstream in(text);
        std::string line;
        while (std::getline(in, line)) {
            raw.push_back(StripComment(line));
            lines.push_back(Words(raw.back()));
        }
        // Settings and user fields first: rules are compiled against them.
        for (std::size_t i = 0; i < lines.size(); ++i) {
            line_ = static_cast<int>(i + 1);
            const auto& w = lines[i];
            if (w.empty()) {
                continue;
            }
            if (w[0] == "tiers") {
                ParseTiers(w);
            } else if (w[0] == "rule-fields") {
                schema_.user_fields.assign(w.begin() + 1, w.end());
            }
        }
        // The offset applies to every instant in the file, wherever it is declared.
        for (std::size_t i = 0; i < lines.size(); ++i) {
            line_ = static_cast<int>(i + 1);
            if (!lines[i].empty() && lines[i][0] == "offset") {
                ParseOffset(lines[i]);
            }
        }
        bool have_now = false;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            line_ = static_cast<int>(i + 1);
            const auto& w = lines[i];
            if (w.empty() || w[0] == "offset") {
                continue;
            }
            const std::string& head = w[0];
            if (head == "now" && w.size() == 2) {
                if (auto t = Time(w[1])) {
                    out_.now = *t;
                    have_now = true;
                }
            } else if (head == "windows" && w.size() == 3) {
                out_.settings.active_months = static_cast<std::int32_t>(Int(w[1]).value_or(6));
                out_.settings.lost_months = static_cast<std::int32_t>(Int(w[2]).value_or(18));
            } else if (head == "turnover-window" && w.size() == 2) {
                out_.settings.turnover_months = static_cast<std::int32_t>(Int(w[1]).value_or(12));
            } else if (head == "tiers" || head == "rule-fields") {
                continue;  // read above
            } else if (head == "currency") {
                ParseCurrency(w);
            } else if (head == "rule") {
                ParseRule(w, raw[i]);
            } else if (head == "tier-series" || head == "rule-series") {
                ParseNamedSeries(
                    w, head == "tier-series" ? out_.tier_series : out_.rule_series,
                    head == "tier-series" ? out_.tier_series_lines : out_.rule_series_lines);
            } else if (head == "company") {
                ParseCompany(w);
            } else if (head == "contact") {
                ParseContact(w);
            } else if (head == "deal") {
                ParseDeal(w);
            } else if (head == "invoice") {
                ParseInvoice(w);
            } else if (head == "activity") {
                ParseActivity(w);
            } else if (head == "requisite") {
                ParseRequisite(w);
            } else if (head == "card") {
                ParseCard(w);
            } else if (head == "detail") {
                ParseDetail(w);
            } else if (head == "months") {
                ParseMonths(w);
            } else if (head == "series") {
                ParseSeries(w);
            } else {
                Error("unknown line '" + head + "'");
            }
        }
        if (!have_now) {
            line_ = 0;
            Error("no 'now' line");
        }
    }

private:
    void Error(const std::string& message) {
        out_.errors.push_back("line " + std::to_string(line_) + ": " + message);
    }

    std::optional<std::int64_t> Int(const std::string& text) {
        std::int64_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size()) {
            Error("not a number: '" + text + "'");
            return std::nullopt;
        }
        return value;
    }

    std::vector<std::int64_t> Ids(const std::string& text) {
        std::vector<std::int64_t> ids;
        for (const std::string& part : Split(text, ',')) {
            if (auto id = Int(part)) {
                ids.push_back(*id);
            }
        }
        return ids;
    }

    void ParseOffset(const std::vector<std::string>& w) {
        const auto t = w.size() == 2 ? ParseInstant("2000-01-01T00:00:00" + w[1]) : std::nullopt;
        if (!t) {
            Error("offset must look like +03:00");
            return;
        }
        offset_ = t->offset;
    }

    // An instant; without an offset the file's offset applies; seconds may be left out.
    std::optional<Instant> Time(std::string text) {
        if (text.size() == 16 && text[10] == 'T') {
            text += ":00";
        }
        auto t = ParseInstant(text, offset_);
        if (!t) {
            Error("not an instant: '" + text + "'");
        }
        return t;
    }

    // key=value arguments and bare words after the fixed head.
    struct Args {
        std::map<std::string, std::string> values;
        std::vector<std::string> words;
    };
    Args Arguments(const std::vector<std::string>& w, std::size_t from) {
        Args args;
        for (std::size_t i = from; i < w.size(); ++i) {
            const auto eq = w[i].find('=');
            if (eq == std::string::npos) {
                args.words.push_back(w[i]);
            } else {
                args.values[w[i].substr(0, eq)] = w[i].substr(eq + 1);
            }
        }
        return args;
    }

    std::optional<std::int64_t> Id(const std::vector<std::string>& w, std::size_t at) {
        if (w.size() <= at) {
            Error("missing id");
            return std::nullopt;
        }
        std::string text = w[at];
        if (!text.empty() && text.back() == ':') {
            text.pop_back();
        }
        return Int(text);
    }

    std::uint8_t ChannelFlags(std::vector<std::string>& words) {
        std::uint8_t flags = 0;
        std::vector<std::string> rest;
        for (const std::string& word : words) {
            if (word == "phone") {
                flags |= kChannelPhone;
            } else if (word == "email") {
                flags |= kChannelEmail;
            } else if (word == "imol") {
                flags |= kChannelImol;
            } else if (word == "web") {
                flags |= kChannelWeb;
            } else if (word == "im") {
                flags |= kChannelIm;
            } else {
                rest.push_back(word);
            }
        }
        words = rest;
        return flags;
    }

    void NoLeftovers(const Args& args, std::initializer_list<const char*> keys) {
        for (const auto& [key, value] : args.values) {
            bool known = false;
            for (const char* k : keys) {
                known = known || key == k;
            }
            if (!known) {
                Error("unknown field '" + key + "'");
            }
        }
        for (const std::string& word : args.words) {
            Error("unknown word '" + word + "'");
        }
    }

    Instant Created(const Args& args) {
        const auto it = args.values.find("created");
        if (it == args.values.end()) {
            Error("missing created=");
            return {};
        }
        return Time(it->second).value_or(Instant{});
    }

    std::optional<Instant> OptionalTime(const Args& args, const char* key) {
        const auto it = args.values.find(key);
        return it == args.values.end() ? std::nullopt : Time(it->second);
    }

    std::int64_t OptionalId(const Args& args, const char* key) {
        const auto it = args.values.find(key);
        return it == args.values.end() ? 0 : Int(it->second).value_or(0);
    }

    std::vector<std::int64_t> OptionalIds(const Args& args, const char* key) {
        const auto it = args.values.find(key);
        return it == args.values.end() ? std::vector<std::int64_t>{} : Ids(it->second);
    }

    // Removes a bare word; true if it was there.
    static bool Flag(Args& args, const std::string& word) {
        for (auto it = args.words.begin(); it != args.words.end(); ++it) {
            if (*it == word) {
                args.words.erase(it);
                return true;
            }
        }
        return false;
    }

    // An amount in units of the base currency (1234.56) as hundredths.
    std::optional<std::int64_t> Amount(const std::string& text) {
        const auto amount = ParseAmount(text);
        if (!amount) {
            Error("not an amount: '" + text + "'");
        }
        return amount;
    }

    // tiers CODE:threshold ... (thresholds in units, lowest first)
    void ParseTiers(const std::vector<std::string>& w) {
        for (std::size_t i = 1; i < w.size(); ++i) {
            const auto colon = w[i].find(':');
            if (colon == std::string::npos) {
                Error("a tier looks like GOLD:5000");
                continue;
            }
            out_.settings.tiers.push_back(
                {w[i].substr(0, colon), Amount(w[i].substr(colon + 1)).value_or(0)});
        }
        schema_.tiers = TierCodes(out_.settings);
    }

    // currency CODE rate[/face value] [base]
    void ParseCurrency(const std::vector<std::string>& w) {
        if (w.size() < 3 || w.size() > 4 || (w.size() == 4 && w[3] != "base")) {
            Error("currency <CODE> <rate>[/<face value>] [base]");
            return;
        }
        Currency c;
        c.code = w[1];
        const auto slash = w[2].find('/');
        c.amount = std::strtod(w[2].substr(0, slash).c_str(), nullptr);
        c.amount_cnt =
            slash == std::string::npos ? 1.0 : std::strtod(w[2].substr(slash + 1).c_str(), nullptr);
        c.base = w.size() == 4;
        out_.portal.currencies.push_back(c);
    }

    // rule CODE expression...: the rest of the line is the rule.
    void ParseRule(const std::vector<std::string>& w, const std::string& raw) {
        if (w.size() < 3) {
            Error("rule <CODE> <expression>");
            return;
        }
        const std::size_t at = raw.find(w[1], raw.find("rule") + 4) + w[1].size();
        const std::string expression = raw.substr(at);
        const CompileResult compiled = CompileRule(expression, schema_);
        if (!compiled.ok()) {
            Error("rule " + w[1] + ": column " + std::to_string(compiled.error->column) + ": " +
                  compiled.error->message);
            return;
        }
        out_.rules.push_back({w[1], *compiled.rule});
    }

    void ParseNamedSeries(const std::vector<std::string>& w,
                          std::map<std::string, std::vector<std::int64_t>>& into,
                          std::map<std::string, int>& lines) {
        if (w.size() < 3 || w[1].back() != ':') {
            Error(w[0] + " <name>: <values>");
            return;
        }
        const std::string name = w[1].substr(0, w[1].size() - 1);
        if (into.count(name) != 0) {
            Error("second line for " + w[0] + " '" + name + "'");
        }
        into[name] = Values(w, 2);
        lines[name] = line_;
    }

    // N or N*count, from word `from` on.
    std::vector<std::int64_t> Values(const std::vector<std::string>& w, std::size_t from) {
        std::vector<std::int64_t> values;
        for (std::size_t i = from; i < w.size(); ++i) {
            const auto star = w[i].find('*');
            const auto value = Int(w[i].substr(0, star));
            const auto count = star == std::string::npos ? std::optional<std::int64_t>(1)
                                                         : Int(w[i].substr(star + 1));
            if (!value || !count || *count < 1) {
                continue;
            }
            values.insert(values.end(), static_cast<std::size_t>(*count), *value);
        }
        return values;
    }

    // type=, industry=, source=, responsible=, UF_...=a|b on contacts and companies.
    template <class Row>
    void Attributes(Args& args, Row& row, bool company) {
        for (auto it = args.values.begin(); it != args.values.end();) {
            const std::string& key = it->first;
            if (key == "type") {
                row.type_id = it->second;
            } else if (key == "source") {
                row.source_id = it->second;
            } else if (key == "responsible") {
                row.assigned_by_id = Int(it->second).value_or(0);
            } else if (key == "industry" && company) {
                if constexpr (std::is_same_v<Row, Company>) {
                    row.industry = it->second;
                }
            } else if (key.rfind("UF_", 0) == 0) {
                FieldValues field{key, {}};
                if (!it->second.empty()) {
                    field.values = Split(it->second, '|');
                }
                row.fields.push_back(field);
            } else {
                ++it;
                continue;
            }
            it = args.values.erase(it);
        }
    }

    // amount= and currency= on deals and invoices.
    template <class Row>
    void Money(Args& args, Row& row) {
        if (args.values.count("amount") != 0) {
            const auto amount = Amount(args.values["amount"]);
            row.opportunity = static_cast<double>(amount.value_or(0)) / 100.0;
            args.values.erase("amount");
        }
        if (args.values.count("currency") != 0) {
            row.currency_id = args.values["currency"];
            args.values.erase("currency");
        }
    }

    void ParseCompany(const std::vector<std::string>& w) {
        Company c;
        c.id = Id(w, 1).value_or(0);
        Args args = Arguments(w, 2);
        c.created = Created(args);
        c.is_my_company = Flag(args, "my");
        c.channels = ChannelFlags(args.words);
        Attributes(args, c, true);
        NoLeftovers(args, {"created"});
        out_.portal.companies.push_back(c);
    }

    void ParseContact(const std::vector<std::string>& w) {
        Contact c;
        c.id = Id(w, 1).value_or(0);
        Args args = Arguments(w, 2);
        c.created = Created(args);
        c.company_id = OptionalId(args, "company");
        c.company_ids = OptionalIds(args, "links");
        c.channels = ChannelFlags(args.words);
        Attributes(args, c, false);
        NoLeftovers(args, {"created", "company", "links"});
        out_.portal.contacts.push_back(c);
    }

    void ParseDeal(const std::vector<std::string>& w) {
        Deal d;
        d.id = Id(w, 1).value_or(0);
        Args args = Arguments(w, 2);
        d.created = Created(args);
        d.company_id = OptionalId(args, "company");
        d.contact_ids = OptionalIds(args, "contacts");
        d.moved_time = OptionalTime(args, "moved");
        d.close_date = OptionalTime(args, "closed");
        Money(args, d);
        if (Flag(args, "won")) {
            d.stage = StageSemantic::kWon;
        } else if (Flag(args, "lost")) {
            d.stage = StageSemantic::kFailed;
        } else if (!Flag(args, "open")) {
            Error("a deal needs one of: open won lost");
        }
        NoLeftovers(args, {"created", "company", "contacts", "moved", "closed"});
        out_.portal.deals.push_back(d);
    }

    void ParseInvoice(const std::vector<std::string>& w) {
        Invoice v;
        v.id = Id(w, 1).value_or(0);
        Args args = Arguments(w, 2);
        v.created = Created(args);
        v.legacy = Flag(args, "old");
        v.company_id = OptionalId(args, "company");
        v.contact_ids = OptionalIds(args, "contacts");
        v.deal_id = OptionalId(args, "deal");
        Money(args, v);
        if (Flag(args, "paid")) {
            v.paid = true;
        } else if (args.values.count("paid") != 0) {
            v.paid = true;
            v.paid_time = OptionalTime(args, "paid");
        } else if (!Flag(args, "unpaid")) {
            Error("an invoice needs paid, paid=<instant> or unpaid");
        }
        NoLeftovers(args, {"created", "company", "contacts", "deal", "paid"});
        out_.portal.invoices.push_back(v);
    }

    std::optional<std::int32_t> EntityType(const std::string& text) {
        if (text == "contact") {
            return kEntityTypeContact;
        }
        if (text == "company") {
            return kEntityTypeCompany;
        }
        if (text == "deal") {
            return kEntityTypeDeal;
        }
        if (auto n = Int(text)) {
            return static_cast<std::int32_t>(*n);
        }
        return std::nullopt;
    }

    void ParseActivity(const std::vector<std::string>& w) {
        Activity a;
        a.id = Id(w, 1).value_or(0);
        Args args = Arguments(w, 2);
        a.created = Created(args);
        a.app_created = Flag(args, "app");
        const auto on = args.values.find("on");
        if (on != args.values.end()) {
            for (const std::string& binding : Split(on->second, ',')) {
                const auto parts = Split(binding, ':');
                if (parts.size() != 2) {
                    Error("a binding looks like contact:5");
                    continue;
                }
                const auto type = EntityType(parts[0]);
                const auto id = Int(parts[1]);
                if (type && id) {
                    a.bindings.push_back({*type, *id});
                }
            }
        }
        NoLeftovers(args, {"created", "on"});
        out_.portal.activities.push_back(a);
    }

    void ParseRequisite(const std::vector<std::string>& w) {
        if (w.size() != 4) {
            Error("requisite <id> <contact|company> <id>");
            return;
        }
        const auto id = Int(w[1]);
        const auto type = EntityType(w[2]);
        const auto entity = Int(w[3]);
        if (id && type && entity) {
            out_.portal.requisites.push_back({*id, *type, *entity});
        }
    }

    std::optional<CardRef> CardAt(const std::vector<std::string>& w) {
        if (w.size() < 3 || (w[1] != "company" && w[1] != "contact")) {
            Error("expected 'company <id>:' or 'contact <id>:'");
            return std::nullopt;
        }
        const auto id = Id(w, 2);
        if (!id) {
            return std::nullopt;
        }
        return CardRef{w[1] == "company" ? CardKind::kCompany : CardKind::kContact, *id};
    }

    std::optional<bool> YesNo(const std::string& text) {
        if (text == "yes") {
            return true;
        }
        if (text == "no") {
            return false;
        }
        Error("expected yes or no, got '" + text + "'");
        return std::nullopt;
    }

    void ParseCard(const std::vector<std::string>& w) {
        const auto card = CardAt(w);
        if (!card) {
            return;
        }
        if (out_.cards.count(*card) != 0) {
            Error("second card line for the same card");
        }
        out_.card_lines[*card] = line_;
        Args args = Arguments(w, 3);
        CardValues v;
        if (Flag(args, "not-client")) {
            NoLeftovers(args, {});
            out_.cards[*card] = v;
            return;
        }
        v.role = Role::kClient;
        if (args.values.count("member-of") != 0) {
            v.role = Role::kMember;
            v.parent_company = Int(args.values["member-of"]).value_or(0);
        }
        std::vector<std::string> rest;
        for (const std::string& word : args.words) {
            if (auto l = LifecycleFromXmlId(word)) {
                v.lifecycle = l;
            } else if (auto f = FrequencyFromXmlId(word)) {
                v.frequency = f;
            } else if (auto c = ClientTypeFromXmlId(word)) {
                v.client_type = c;
            } else {
                rest.push_back(word);
            }
        }
        args.words = rest;
        const auto required = [&](const char* key) -> std::string {
            const auto it = args.values.find(key);
            if (it == args.values.end()) {
                Error(std::string("card line needs ") + key + "=");
                return {};
            }
            return it->second;
        };
        v.payments = Int(required("payments"));
        const std::string last = required("last");
        if (last != "-" && !last.empty()) {
            v.last_payment = Time(last);
        }
        v.has_dialogs = YesNo(required("dialogs"));
        v.has_channels = YesNo(required("channels"));
        if (!v.lifecycle || !v.frequency || !v.client_type) {
            Error("card line needs a lifecycle, a frequency and a client type");
        }
        // Optional, with the defaults of a portal without amounts.
        v.turnover = args.values.count("turnover") != 0 ? Amount(args.values["turnover"]) : 0;
        if (args.values.count("tier") != 0 && args.values["tier"] != "-") {
            v.tier = args.values["tier"];
        }
        if (args.values.count("rules") != 0 && args.values["rules"] != "-") {
            v.rule_segments = Split(args.values["rules"], ',');
        }
        NoLeftovers(args, {"member-of", "payments", "last", "dialogs", "channels", "turnover",
                           "tier", "rules"});
        out_.cards[*card] = v;
    }

    void ParseDetail(const std::vector<std::string>& w) {
        const auto card = CardAt(w);
        if (!card) {
            return;
        }
        DetailExpectation d;
        d.card = *card;
        d.line = line_;
        Args args = Arguments(w, 3);
        if (args.values.count("payments") != 0) {
            std::vector<PaymentInfo> payments;
            const std::string text = args.values["payments"];
            for (const std::string& item :
                 text == "-" ? std::vector<std::string>{} : Split(text, ',')) {
                // source:id@instant
                const auto at = item.find('@');
                const auto colon = item.find(':');
                if (at == std::string::npos || colon == std::string::npos || colon > at) {
                    Error("a payment looks like deal:10@2024-01-01");
                    continue;
                }
                const std::string source = item.substr(0, colon);
                PaymentInfo p;
                if (source == "deal") {
                    p.source = PaymentSource::kDeal;
                } else if (source == "invoice") {
                    p.source = PaymentSource::kInvoice;
                } else if (source == "old-invoice") {
                    p.source = PaymentSource::kLegacyInvoice;
                } else {
                    Error("payment source is deal, invoice or old-invoice");
                }
                p.id = Int(item.substr(colon + 1, at - colon - 1)).value_or(0);
                // An optional =<base amount> (or =? for a currency not in the table).
                const auto equals = item.find('=', at);
                p.date = Time(item.substr(at + 1, equals == std::string::npos ? std::string::npos
                                                                              : equals - at - 1))
                             .value_or(Instant{});
                if (equals != std::string::npos) {
                    const std::string amount = item.substr(equals + 1);
                    if (amount != "?") {
                        p.base_amount = Amount(amount);
                    }
                }
                d.with_amount.push_back(equals != std::string::npos);
                payments.push_back(p);
            }
            d.payments = payments;
        }
        if (args.values.count("lifetime") != 0) {
            d.lifetime_turnover = Amount(args.values["lifetime"]);
        }
        if (args.values.count("unconverted") != 0) {
            d.unconverted = Int(args.values["unconverted"]);
        }
        if (args.values.count("dialogs") != 0) {
            d.dialogs = Int(args.values["dialogs"]);
        }
        if (args.values.count("last-dialog") != 0) {
            const std::string text = args.values["last-dialog"];
            d.last_dialog = text == "-" ? std::optional<Instant>() : Time(text);
        }
        if (args.values.count("channels") != 0) {
            std::uint8_t kinds = 0;
            const std::string text = args.values["channels"];
            for (const std::string& kind :
                 text == "-" ? std::vector<std::string>{} : Split(text, ',')) {
                if (kind == "phone") {
                    kinds |= kChannelKindPhone;
                } else if (kind == "email") {
                    kinds |= kChannelKindEmail;
                } else if (kind == "im") {
                    kinds |= kChannelKindIm;
                } else if (kind == "web") {
                    kinds |= kChannelKindWeb;
                } else if (kind == "requisites") {
                    kinds |= kChannelKindRequisites;
                } else if (kind == "members") {
                    kinds |= kChannelKindMembers;
                } else {
                    Error("unknown channel '" + kind + "'");
                }
            }
            d.channels = kinds;
        }
        if (args.values.count("members") != 0) {
            const std::string text = args.values["members"];
            d.members = text == "-" ? std::vector<std::int64_t>{} : Ids(text);
        }
        NoLeftovers(args, {"payments", "dialogs", "last-dialog", "channels", "members", "lifetime",
                           "unconverted"});
        out_.details.push_back(d);
    }

    void ParseMonths(const std::vector<std::string>& w) {
        if (w.size() != 4 || w[2] != "..") {
            Error("months <YYYY-MM> .. <YYYY-MM>");
            return;
        }
        out_.first_month = ParseYearMonth(w[1]);
        out_.last_month = ParseYearMonth(w[3]);
        if (!out_.first_month || !out_.last_month) {
            Error("months are written YYYY-MM");
        }
    }

    void ParseSeries(const std::vector<std::string>& w) {
        if (w.size() < 3 || w[1].back() != ':') {
            Error("series <mode>.<series>: <values>");
            return;
        }
        const std::string name = w[1].substr(0, w[1].size() - 1);
        const auto dot = name.find('.');
        const auto series = dot == std::string::npos
                                ? std::nullopt
                                : SeriesFromIds(name.substr(0, dot), name.substr(dot + 1));
        if (!series) {
            Error("unknown series '" + name + "'");
            return;
        }
        std::vector<std::int64_t> values;
        for (std::size_t i = 2; i < w.size(); ++i) {
            // N or N*count
            const auto star = w[i].find('*');
            const auto value = Int(w[i].substr(0, star));
            const auto count = star == std::string::npos ? std::optional<std::int64_t>(1)
                                                         : Int(w[i].substr(star + 1));
            if (!value || !count || *count < 1) {
                continue;
            }
            values.insert(values.end(), static_cast<std::size_t>(*count), *value);
        }
        if (out_.series.count(*series) != 0) {
            Error("second line for series '" + name + "'");
        }
        out_.series[*series] = values;
        out_.series_lines[*series] = line_;
    }

    GoldenCase& out_;
    RuleSchema schema_{TierCodes(Settings{}), {}, {}};
    std::int32_t offset_ = 0;
    int line_ = 0;
};

}  // namespace

GoldenCase ParseGoldenCase(const std::string& name, const std::string& text) {
    GoldenCase result;
    result.name = name;
    Parser(result).Parse(text);
    return result;
}

}  // namespace segtest
