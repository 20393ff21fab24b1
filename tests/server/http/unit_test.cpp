// Pure parts of the HTTP layer: decoding, escaping, boot injection, page parameters, list
// membership (checked against segmenter::InSeries), CSV lines, and the CLI's argument parser.
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "api_error.hpp"
#include "cli.hpp"
#include "http/lifecycle.hpp"
#include "http/lists.hpp"
#include "http/pages.hpp"
#include "http/util.hpp"
#include "portal_db.hpp"
#include "segmenter/segmenter.hpp"
#include "support/temp_dir.hpp"
#include "sync/segment_bridge.hpp"
#include "world.hpp"

namespace httptest {
namespace {

using namespace server::http;

TEST(Util, FormDecoding) {
    auto pairs = ParseUrlEncoded("a=1&b=x%20y+z&c=&d&=e&f=%zz%4&g=%D0%96");
    ASSERT_EQ(pairs.size(), 7U);
    EXPECT_EQ(Get(pairs, "a"), "1");
    EXPECT_EQ(Get(pairs, "b"), "x y z");
    EXPECT_EQ(Get(pairs, "c"), "");
    EXPECT_TRUE(Find(pairs, "d").has_value());
    EXPECT_EQ(Get(pairs, ""), "e");
    EXPECT_EQ(Get(pairs, "f"), "%zz%4");
    EXPECT_EQ(Get(pairs, "g"), "\xD0\x96");
    EXPECT_FALSE(Find(pairs, "missing").has_value());
    EXPECT_EQ(QueryOf("/b24/app?DOMAIN=x&LANG=ru#frag"), "DOMAIN=x&LANG=ru");
    EXPECT_EQ(QueryOf("/b24/app"), "");
    EXPECT_EQ(UrlDecode(UrlEncode("a b&c=d/é")), "a b&c=d/é");
    auto nested = ParseUrlEncoded("auth%5Bmember_id%5D=m1&data%5BFIELDS%5D%5BID%5D=5");
    EXPECT_EQ(Get(nested, "auth[member_id]"), "m1");
    EXPECT_EQ(Get(nested, "data[FIELDS][ID]"), "5");
}

TEST(Util, StrictNumbersAndText) {
    EXPECT_EQ(ParsePositiveId("42"), 42);
    EXPECT_EQ(ParsePositiveId("999999999999999999"), 999999999999999999);
    for (const char* bad :
         {"", "0", "-1", "+1", " 1", "1 ", "1.0", "0x10", "abc", "1000000000000000000"}) {
        EXPECT_FALSE(ParsePositiveId(bad).has_value()) << bad;
    }
    EXPECT_TRUE(IsCleanUtf8("Ромашка Zoë\t"));
    EXPECT_FALSE(IsCleanUtf8(std::string("a\0b", 3)));
    EXPECT_FALSE(IsCleanUtf8("a\nb"));
    EXPECT_FALSE(IsCleanUtf8("\xFF"));
    EXPECT_FALSE(IsCleanUtf8("\xC0\xAF"));      // overlong '/'
    EXPECT_FALSE(IsCleanUtf8("\xED\xA0\x80"));  // a surrogate
    EXPECT_FALSE(IsCleanUtf8("\xD0"));          // cut short
    EXPECT_EQ(LogSafe("a\nb\x01"
                      "c"),
              "a?b?c");
    EXPECT_EQ(LogSafe(std::string(300, 'x')).size(), 203U);
}

TEST(Util, OriginsAndLanguages) {
    EXPECT_EQ(OriginOf("https://Example.Bitrix24.ru/rest/"), "https://example.bitrix24.ru");
    EXPECT_EQ(OriginOf("http://127.0.0.1:8080/rest/"), "http://127.0.0.1:8080");
    EXPECT_EQ(OriginOf("ftp://x/"), "");
    EXPECT_EQ(OriginOf("https://user@evil/"), "");
    EXPECT_EQ(HostOf("https://example.bitrix24.ru/rest/"), "example.bitrix24.ru");
    EXPECT_TRUE(IsPlainHttp("http://x/"));
    EXPECT_FALSE(IsPlainHttp("https://x/"));
    EXPECT_EQ(PageLang("ru"), "ru");
    EXPECT_EQ(PageLang("ua"), "ru");
    EXPECT_EQ(PageLang("kz"), "ru");
    EXPECT_EQ(PageLang("DE"), "de");
    EXPECT_EQ(PageLang("pl"), "pl");
    EXPECT_EQ(PageLang("fr"), "en");
    EXPECT_EQ(PageLang(""), "en");
}

TEST(Pages, BootInjectionAndEscaping) {
    json boot = {{"user", {{"name", "</script><b>&\xE2\x80\xA8\xE2\x80\xA9"}}}};
    std::string safe = HtmlSafeJson(boot);
    EXPECT_EQ(safe.find('<'), std::string::npos);
    EXPECT_EQ(safe.find('>'), std::string::npos);
    EXPECT_EQ(safe.find('&'), std::string::npos);
    EXPECT_EQ(safe.find("\xE2\x80\xA8"), std::string::npos);
    EXPECT_NE(safe.find("\\u2028\\u2029"), std::string::npos);
    EXPECT_EQ(json::parse(safe), boot);
    std::string page = InjectBoot("<html><head><title>x</title></head><body></body></html>", boot);
    EXPECT_EQ(page.rfind("<html><head><title>x</title><script id=\"b24seg-boot\" "
                         "type=\"application/json\">",
                         0),
              0U);
    EXPECT_NE(page.find("</script></head><body></body></html>"), std::string::npos);
    EXPECT_EQ(BootOf(page), boot);
    EXPECT_THROW(InjectBoot("<html><body></body></html>", boot), std::runtime_error);
    EXPECT_TRUE(
        PageCsp("https://x.bitrix24.ru").ends_with("; frame-ancestors https://x.bitrix24.ru"));
    EXPECT_TRUE(PageCsp("").ends_with("; frame-ancestors 'none'"));
    EXPECT_EQ(AssetContentType("app-1.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(AssetContentType("app-1.CSS"), "text/css; charset=utf-8");
    EXPECT_EQ(AssetContentType("x.LEGAL.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(AssetContentType("blob"), "application/octet-stream");
}

TEST(Pages, PagePostValidation) {
    Pairs query = {{"DOMAIN", "x.bitrix24.ru"}, {"PROTOCOL", "1"}, {"LANG", "ru"}};
    Pairs form = {{"AUTH_ID", "abc"},
                  {"REFRESH_ID", "def"},
                  {"member_id", "a223c6b3710f85df22e9377d6c4f7553"},
                  {"APPLICATION_TOKEN", "tok"},
                  {"AUTH_EXPIRES", "3600"},
                  {"PLACEMENT", "CRM_CONTACT_DETAIL_TAB"},
                  {"PLACEMENT_OPTIONS", "{\"ID\":\"12\"}"}};
    PagePost p = PagePost::From(query, form);
    EXPECT_EQ(p.member_id, "a223c6b3710f85df22e9377d6c4f7553");
    EXPECT_EQ(p.domain, "x.bitrix24.ru");
    EXPECT_EQ(p.auth_expires, 3600);
    auto with = [&](Pairs f, const std::string& key, const std::string& value) {
        for (auto& [k, v] : f) {
            if (k == key) {
                v = value;
            }
        }
        return f;
    };
    for (const auto& [key, value] :
         std::vector<std::pair<std::string, std::string>>{{"member_id", ""},
                                                          {"member_id", "a b"},
                                                          {"member_id", std::string(65, 'a')},
                                                          {"AUTH_ID", ""},
                                                          {"AUTH_ID", "a b"},
                                                          {"APPLICATION_TOKEN", ""},
                                                          {"AUTH_EXPIRES", "-5"},
                                                          {"PLACEMENT", "crm tab"}}) {
        EXPECT_THROW(PagePost::From(query, with(form, key, value)), server::ApiError)
            << key << "=" << value;
    }
    Pairs bad_domain = {{"DOMAIN", "evil.com/path"}};
    EXPECT_THROW(PagePost::From(bad_domain, form), server::ApiError);
    Pairs bad_protocol = {{"PROTOCOL", "2"}};
    EXPECT_THROW(PagePost::From(bad_protocol, form), server::ApiError);
}

TEST(Lists, MembershipMatchesTheSegmenter) {
    support::TempDir dir("b24seg-lists");
    server::PortalDb db(dir.File("p.db"));
    std::mt19937 rng(5);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    using segmenter::CardKind;
    std::vector<server::ContactRow> contacts;
    std::vector<server::CompanyRow> companies;
    std::vector<std::pair<server::CardKey, server::CardValues>> targets;
    std::map<std::pair<int, std::int64_t>, segmenter::CardValues> truth;
    const segmenter::Lifecycle lifecycles[] = {
        segmenter::Lifecycle::kActive,    segmenter::Lifecycle::kSleeping,
        segmenter::Lifecycle::kLost,      segmenter::Lifecycle::kRequests,
        segmenter::Lifecycle::kDialogs,   segmenter::Lifecycle::kContacts,
        segmenter::Lifecycle::kNoContacts};
    const segmenter::Frequency frequencies[] = {
        segmenter::Frequency::kRegular, segmenter::Frequency::kFirst, segmenter::Frequency::kNone};
    for (std::int64_t id = 1; id <= 60; ++id) {
        server::CompanyRow co;
        co.id = id;
        co.name = "Company " + std::to_string(id);
        co.created = "2020-01-01T00:00:00+03:00";
        segmenter::CardValues v;
        if (pick(6) == 0) {
            co.is_my = true;
            v.role = segmenter::Role::kNotClient;
        } else {
            v.role = segmenter::Role::kClient;
            v.lifecycle = lifecycles[pick(7)];
            v.frequency = frequencies[pick(3)];
            v.client_type = segmenter::ClientType::kB2B;
            v.payments = pick(4);
            v.has_dialogs = pick(2) == 0;
            v.has_channels = pick(2) == 0;
        }
        companies.push_back(co);
        truth[{4, id}] = v;
        targets.push_back({{server::CardKind::kCompany, id}, server::sync::ToStored(v)});
    }
    for (std::int64_t id = 1; id <= 120; ++id) {
        server::ContactRow c;
        c.id = id;
        c.name = "Contact " + std::to_string(id);
        c.created = "2021-01-01T00:00:00+03:00";
        segmenter::CardValues v;
        v.lifecycle = lifecycles[pick(7)];
        v.frequency = frequencies[pick(3)];
        v.payments = pick(4);
        v.has_dialogs = pick(2) == 0;
        v.has_channels = pick(2) == 0;
        if (pick(2) == 0) {
            v.role = segmenter::Role::kMember;
            v.parent_company = 1 + pick(60);
            v.client_type = segmenter::ClientType::kB2B;
        } else {
            v.role = segmenter::Role::kClient;
            v.client_type = segmenter::ClientType::kB2C;
        }
        contacts.push_back(c);
        truth[{3, id}] = v;
        // Some contacts were pulled after the last computation: no target yet.
        if (id % 17 != 0) {
            targets.push_back({{server::CardKind::kContact, id}, server::sync::ToStored(v)});
        }
    }
    db.InTransaction([&] {
        db.Upsert(contacts);
        db.Upsert(companies);
    });
    db.ReplaceTargets(targets);
    for (std::size_t i = 0; i < segmenter::kSeriesCount; ++i) {
        auto series = static_cast<segmenter::Series>(i);
        std::set<std::pair<int, std::int64_t>> expected;
        for (const auto& [key, v] : truth) {
            CardKind kind = key.first == 3 ? CardKind::kContact : CardKind::kCompany;
            bool has_target = !(key.first == 3 && key.second % 17 == 0);
            bool in = series == segmenter::Series::kContacts
                          ? kind == CardKind::kContact  // every stored contact
                          : has_target && segmenter::InSeries(series, kind, v);
            if (in) {
                expected.insert(key);
            }
        }
        std::set<std::pair<int, std::int64_t>> got;
        ForEachMatch(db, {series, ""}, false, [&](const ListItem& item) {
            got.insert({static_cast<int>(item.kind), item.id});
        });
        EXPECT_EQ(got, expected) << segmenter::ModeId(series) << "." << segmenter::SeriesId(series);
        EXPECT_FALSE(expected.empty());
    }
}

TEST(Lists, CsvLines) {
    RenderContext ctx;
    ctx.users = {{5, "Ivan Petrov"}};
    ctx.lang = "en";
    ctx.portal_origin = "https://x.bitrix24.ru";
    ListItem item;
    item.kind = server::CardKind::kContact;
    item.id = 12;
    item.name = "-2+3";
    item.phones = {"+7 495 1", "8 800"};
    item.emails = {"a@b.c"};
    item.company_id = 7;
    item.company_name = "ООО \"Ромашка\"";
    item.assigned_by = 5;
    item.created = "2020-01-02T03:04:05+03:00";
    item.values.lifecycle = "SLEEPING";
    item.values.client_type = "B2B";
    item.values.frequency = "REGULAR";
    item.values.last_payment = "2024-05-06";
    item.values.payments = 3;
    EXPECT_EQ(CsvLine(item, ctx),
              "Contact;12;'-2+3;'+7 495 1, 8 800;a@b.c;\"ООО \"\"Ромашка\"\"\";Ivan Petrov;"
              "2020-01-02T03:04:05+03:00;Sleeping;B2B;Regular client;2024-05-06;3;"
              "https://x.bitrix24.ru/crm/contact/details/12/\r\n");
    std::string header = CsvHeader(ctx);
    EXPECT_EQ(header.substr(0, 3), "\xEF\xBB\xBF");
    EXPECT_EQ(header.substr(header.size() - 2), "\r\n");
    ctx.lang = "de";
    EXPECT_NE(CsvHeader(ctx).find("Unternehmen"), std::string::npos);
    EXPECT_NE(CsvLine(item, ctx).find("Schlafend"), std::string::npos);
    EXPECT_EQ(CsvFileName(segmenter::Series::kWithContacts), "b24seg-no_payments-contacts.csv");
}

TEST(Cli, Arguments) {
    auto ok = server::ParseCliArgs({"sync", "m1", "--full", "--wait", "--config", "c.json"});
    EXPECT_TRUE(ok.error.empty()) << ok.error;
    EXPECT_EQ(ok.command, "sync");
    EXPECT_EQ(ok.member_id, "m1");
    EXPECT_TRUE(ok.full);
    EXPECT_TRUE(ok.wait);
    EXPECT_EQ(ok.config, "c.json");
    EXPECT_EQ(server::ParseCliArgs({"serve", "--config=x.json"}).config, "x.json");
    EXPECT_EQ(server::ParseCliArgs({"--help"}).command, "help");
    EXPECT_EQ(server::ParseCliArgs({"status", "--version"}).command, "version");
    for (const auto& bad :
         std::vector<std::vector<std::string>>{{},
                                               {"serve"},
                                               {"serve", "--config"},
                                               {"status", "--config", "c"},
                                               {"status", "a", "b", "--config", "c"},
                                               {"portals", "x", "--config", "c"},
                                               {"serve", "--wait", "--config", "c"},
                                               {"sync", "m", "--fast", "--config", "c"},
                                               {"destroy", "--config", "c"}}) {
        EXPECT_FALSE(server::ParseCliArgs(bad).error.empty());
    }
    std::ostringstream out, err;
    EXPECT_EQ(server::RunCli(server::ParseCliArgs({"--help"}), out, err), 0);
    EXPECT_NE(out.str().find("b24seg sync"), std::string::npos);
    EXPECT_EQ(server::RunCli(server::ParseCliArgs({"serve"}), out, err), 2);
    EXPECT_EQ(
        server::RunCli(server::ParseCliArgs({"portals", "--config", "/no/such.json"}), out, err),
        2);
}

}  // namespace
}  // namespace httptest
