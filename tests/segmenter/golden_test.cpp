// Golden cases: every tests/data/segmenter/*.case file is one test. A case lists a portal, T, the
// values of every card, optionally card-tab details and the monthly series. On a mismatch the
// actual value is printed in the file's own syntax, so that a reviewer can compare line by line.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "golden_format.hpp"
#include "reference_model.hpp"
#include "segmenter/segmenter.hpp"

namespace segtest {
namespace {

using namespace segmenter;

std::filesystem::path GoldenDir() {
    return SEGMENTER_GOLDEN_DIR;
}

std::vector<std::string> CaseFiles() {
    std::vector<std::string> files;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(GoldenDir(), error)) {
        if (entry.path().extension() == ".case") {
            files.push_back(entry.path().filename().string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string CardHead(CardRef card) {
    return std::string(card.kind == CardKind::kCompany ? "company " : "contact ") +
           std::to_string(card.id) + ":";
}

// A card's values in the syntax of the case files.
std::string Describe(const CardValues& v) {
    if (v.role == Role::kNotClient) {
        return "not-client";
    }
    std::string out;
    if (v.role == Role::kMember) {
        out += "member-of=" + std::to_string(v.parent_company) + " ";
    }
    out += std::string(v.lifecycle ? XmlId(*v.lifecycle) : "?") + " ";
    out += std::string(v.client_type ? XmlId(*v.client_type) : "?") + " ";
    out += std::string(v.frequency ? XmlId(*v.frequency) : "?") + " ";
    out += "payments=" + (v.payments ? std::to_string(*v.payments) : std::string("?")) + " ";
    out += "last=" + (v.last_payment ? FormatInstant(*v.last_payment) : std::string("-")) + " ";
    out += std::string("dialogs=") + (v.has_dialogs.value_or(false) ? "yes" : "no") + " ";
    out += std::string("channels=") + (v.has_channels.value_or(false) ? "yes" : "no");
    if (v.turnover.value_or(0) != 0) {
        out += " turnover=" + FormatAmount(*v.turnover);
    }
    if (v.tier) {
        out += " tier=" + *v.tier;
    }
    if (!v.rule_segments.empty()) {
        std::string codes;
        for (const std::string& code : v.rule_segments) {
            codes += (codes.empty() ? "" : ",") + code;
        }
        out += " rules=" + codes;
    }
    return out;
}

std::string DescribeValues(const std::vector<std::int64_t>& values) {
    std::string out;
    for (std::size_t i = 0; i < values.size();) {
        std::size_t run = 1;
        while (i + run < values.size() && values[i + run] == values[i]) {
            ++run;
        }
        out += " " + std::to_string(values[i]) + (run > 1 ? "*" + std::to_string(run) : "");
        i += run;
    }
    return out;
}

std::string DescribePayments(const std::vector<PaymentInfo>& payments) {
    std::string out;
    for (const PaymentInfo& p : payments) {
        out += out.empty() ? "" : ",";
        out += p.source == PaymentSource::kDeal      ? "deal:"
               : p.source == PaymentSource::kInvoice ? "invoice:"
                                                     : "old-invoice:";
        out += std::to_string(p.id) + "@" + FormatInstant(p.date);
        out += "=" + (p.base_amount ? FormatAmount(*p.base_amount) : std::string("?"));
    }
    return out.empty() ? "-" : out;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, Case) {
    const std::string file = GetParam();
    const GoldenCase c = ParseGoldenCase(file, ReadFile(GoldenDir() / file));
    for (const std::string& error : c.errors) {
        ADD_FAILURE() << file << ": " << error;
    }
    ASSERT_TRUE(c.errors.empty());

    const PortalIndex index = PortalIndex::Build(c.portal, c.settings);
    const std::vector<Card> cards = index.AllCards(c.now, c.rules);

    // Every card of the portal is listed, with exactly these values.
    for (const Card& card : cards) {
        const auto expected = c.cards.find(card.ref);
        if (expected == c.cards.end()) {
            ADD_FAILURE() << file << ": no card line for " << CardHead(card.ref)
                          << "\n  actual: card " << CardHead(card.ref) << " "
                          << Describe(card.values);
            continue;
        }
        EXPECT_EQ(card.values, expected->second)
            << file << " line " << c.card_lines.at(card.ref) << "\n  expected: card "
            << CardHead(card.ref) << " " << Describe(expected->second) << "\n  actual:   card "
            << CardHead(card.ref) << " " << Describe(card.values);
    }
    for (const auto& [ref, values] : c.cards) {
        EXPECT_TRUE(index.Card(ref, c.now)) << file << " line " << c.card_lines.at(ref) << ": "
                                            << CardHead(ref) << " is not a card of the portal";
    }
    // The reference model knows no rules: compare everything else.
    std::vector<Card> without_rules = cards;
    for (Card& card : without_rules) {
        card.values.rule_segments.clear();
    }
    EXPECT_EQ(without_rules, ReferenceCards(c.portal, c.now, c.settings))
        << file << ": the reference model disagrees with the library";

    for (const DetailExpectation& d : c.details) {
        const auto detail = index.Detail(d.card, c.now);
        ASSERT_TRUE(detail) << file << " line " << d.line;
        if (d.payments) {
            bool same = detail->payments.size() == d.payments->size();
            for (std::size_t i = 0; same && i < d.payments->size(); ++i) {
                const PaymentInfo& want = (*d.payments)[i];
                const PaymentInfo& got = detail->payments[i];
                same = want.date == got.date && want.source == got.source && want.id == got.id &&
                       (!d.with_amount[i] || want.base_amount == got.base_amount);
            }
            EXPECT_TRUE(same) << file << " line " << d.line
                              << "\n  actual: payments=" << DescribePayments(detail->payments);
        }
        if (d.lifetime_turnover) {
            EXPECT_EQ(detail->lifetime_turnover, *d.lifetime_turnover)
                << file << " line " << d.line
                << "\n  actual: lifetime=" << FormatAmount(detail->lifetime_turnover);
        }
        if (d.unconverted) {
            EXPECT_EQ(detail->unconverted_payments, *d.unconverted) << file << " line " << d.line;
        }
        if (d.dialogs) {
            EXPECT_EQ(detail->dialog_count, *d.dialogs) << file << " line " << d.line;
        }
        if (d.last_dialog) {
            EXPECT_EQ(detail->last_dialog, *d.last_dialog) << file << " line " << d.line;
        }
        if (d.channels) {
            EXPECT_EQ(detail->channels, *d.channels) << file << " line " << d.line;
        }
        if (d.members) {
            EXPECT_EQ(detail->members, *d.members) << file << " line " << d.line;
        }
    }

    if (!c.first_month) {
        EXPECT_TRUE(c.series.empty() && c.tier_series.empty() && c.rule_series.empty())
            << file << ": series lines need a months line";
        return;
    }
    if (!c.tier_series.empty()) {
        const TierSeries tiers = index.Tiers(c.now);
        for (std::size_t i = 0; i <= tiers.codes.size(); ++i) {
            const std::string name = i < tiers.codes.size() ? tiers.codes[i] : "none";
            const auto expected = c.tier_series.find(name);
            if (expected == c.tier_series.end()) {
                ADD_FAILURE() << file << ": no line for tier-series " << name
                              << "\n  actual: tier-series " << name << ":"
                              << DescribeValues(tiers.values[i]);
                continue;
            }
            EXPECT_EQ(tiers.values[i], expected->second)
                << file << " line " << c.tier_series_lines.at(name) << "\n  expected: tier-series "
                << name << ":" << DescribeValues(expected->second) << "\n  actual:   tier-series "
                << name << ":" << DescribeValues(tiers.values[i]);
        }
    }
    if (!c.rule_series.empty()) {
        const RuleSegmentSeries rules = index.RuleSeries(c.rules, c.now);
        for (std::size_t i = 0; i < rules.codes.size(); ++i) {
            const auto expected = c.rule_series.find(rules.codes[i]);
            if (expected == c.rule_series.end()) {
                continue;  // rule series are optional per rule
            }
            EXPECT_EQ(rules.values[i], expected->second)
                << file << " line " << c.rule_series_lines.at(rules.codes[i])
                << "\n  expected: rule-series " << rules.codes[i] << ":"
                << DescribeValues(expected->second) << "\n  actual:   rule-series "
                << rules.codes[i] << ":" << DescribeValues(rules.values[i]);
        }
    }
    const MonthlySeries series = index.Series(c.now);
    EXPECT_EQ(FormatYearMonth(series.first_month), FormatYearMonth(*c.first_month))
        << file << ": first month";
    EXPECT_EQ(FormatYearMonth(series.Month(series.month_count - 1)), FormatYearMonth(*c.last_month))
        << file << ": last month";
    for (std::size_t s = 0; s < kSeriesCount; ++s) {
        const auto id = static_cast<Series>(s);
        const std::string name = std::string(ModeId(id)) + "." + std::string(SeriesId(id));
        const auto expected = c.series.find(id);
        if (expected == c.series.end()) {
            ADD_FAILURE() << file << ": no line for series " << name << "\n  actual: series "
                          << name << ":" << DescribeValues(series.values[s]);
            continue;
        }
        EXPECT_EQ(series.values[s], expected->second)
            << file << " line " << c.series_lines.at(id) << "\n  expected: series " << name << ":"
            << DescribeValues(expected->second) << "\n  actual:   series " << name << ":"
            << DescribeValues(series.values[s]);
    }
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = std::filesystem::path(info.param).stem().string();
    for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) {
            ch = '_';
        }
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(Files, Golden, ::testing::ValuesIn(CaseFiles()), TestName);

TEST(GoldenFiles, ThereAreCases) {
    EXPECT_GE(CaseFiles().size(), 8U) << GoldenDir();
}

TEST(GoldenFiles, TheParserReportsMistakes) {
    const GoldenCase c = ParseGoldenCase("bad", R"(
offset +03:00
company 1 created=2020-01-01 colour=red
deal 2 created=yesterday won
card company 1: ACTIVE B2B payments=1 last=- dialogs=maybe channels=no
series payments.active: 1 2
wat
)");
    EXPECT_GE(c.errors.size(), 6U);  // colour, created, frequency, dialogs, wat, no now
    const GoldenCase good = ParseGoldenCase("good", R"(
offset +03:00
now 2024-06-15T12:00
company 1 created=2020-01-01 phone   # a comment
card company 1: CONTACTS B2B NONE payments=0 last=- dialogs=no channels=yes
months 2020-01 .. 2024-06
series clients.all: 1*54
)");
    EXPECT_TRUE(good.errors.empty());
    EXPECT_EQ(good.now, *ParseInstant("2024-06-15T12:00:00+03:00"));
    EXPECT_EQ(good.series.at(Series::kAllClients), std::vector<std::int64_t>(54, 1));
    EXPECT_EQ(good.portal.companies.at(0).channels, kChannelPhone);
}

}  // namespace
}  // namespace segtest
