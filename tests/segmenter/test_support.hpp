#pragma once

// Small helpers shared by the segmenter tests.

#include <stdexcept>
#include <string>
#include <string_view>

#include "segmenter/segmenter.hpp"

namespace segtest {

inline constexpr std::int32_t kMoscow = 3 * 3600;

// Parses an instant; dates and times without an offset are taken as Moscow time (+03:00).
inline segmenter::Instant At(std::string_view text) {
    const auto instant = segmenter::ParseInstant(text, kMoscow);
    if (!instant) {
        throw std::invalid_argument("bad instant in test: " + std::string(text));
    }
    return *instant;
}

inline segmenter::CardRef CompanyCard(std::int64_t id) {
    return {segmenter::CardKind::kCompany, id};
}
inline segmenter::CardRef ContactCard(std::int64_t id) {
    return {segmenter::CardKind::kContact, id};
}

}  // namespace segtest
