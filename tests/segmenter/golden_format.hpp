#pragma once

// The golden case format of tests/data/segmenter/*.case (described in the README next to them):
// a line-based text with a portal, a time T, the expected card values, optional card-tab details
// and optional monthly series. Parsed with the standard library only.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "segmenter/segmenter.hpp"

namespace segtest {

struct DetailExpectation {
    segmenter::CardRef card;
    int line = 0;
    // Payments; base_amount is only checked where the case wrote one (with_amount).
    std::optional<std::vector<segmenter::PaymentInfo>> payments;
    std::vector<bool> with_amount;
    std::optional<std::int64_t> lifetime_turnover;
    std::optional<std::int64_t> unconverted;
    std::optional<std::int64_t> dialogs;
    std::optional<std::optional<segmenter::Instant>> last_dialog;
    std::optional<std::uint8_t> channels;  // ChannelKind bits
    std::optional<std::vector<std::int64_t>> members;
};

struct GoldenCase {
    std::string name;
    segmenter::PortalData portal;
    segmenter::Instant now;
    segmenter::Settings settings;
    std::map<segmenter::CardRef, segmenter::CardValues> cards;  // every card of the portal
    std::map<segmenter::CardRef, int> card_lines;
    std::vector<DetailExpectation> details;
    std::optional<segmenter::YearMonth> first_month;
    std::optional<segmenter::YearMonth> last_month;
    std::map<segmenter::Series, std::vector<std::int64_t>> series;
    std::map<segmenter::Series, int> series_lines;
    std::vector<segmenter::RuleSegment> rules;                     // `rule` lines, compiled
    std::map<std::string, std::vector<std::int64_t>> tier_series;  // code ("none") -> values
    std::map<std::string, int> tier_series_lines;
    std::map<std::string, std::vector<std::int64_t>> rule_series;  // rule code -> values
    std::map<std::string, int> rule_series_lines;
    std::vector<std::string> errors;  // "line N: ..." for everything that could not be read
};

GoldenCase ParseGoldenCase(const std::string& name, const std::string& text);

}  // namespace segtest
