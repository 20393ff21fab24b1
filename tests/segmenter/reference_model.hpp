#pragma once

// A naive, literal reading of SEGMENTS.md (and of the README's choices where it is silent), written
// independently of the library's index: quadratic loops over the raw rows, no derived state. Tests
// compare the library against it on random portals. Rows must have distinct, valid ids.

#include <vector>

#include "segmenter/segmenter.hpp"

namespace segtest {

// Every card's values at t, sorted by (kind, id).
std::vector<segmenter::Card> ReferenceCards(const segmenter::PortalData& portal,
                                            segmenter::Instant t,
                                            const segmenter::Settings& settings);

// The series value of every series at instant t, judged with instant comparisons ("existing at t"
// = DATE_CREATE <= t), indexed by SeriesIndex.
std::array<std::int64_t, segmenter::kSeriesCount> ReferenceCountsAt(
    const segmenter::PortalData& portal, segmenter::Instant t, const segmenter::Settings& settings);

// Clients existing at t in each tier (TierCodes(settings) order), then those in no tier.
std::vector<std::int64_t> ReferenceTierCountsAt(const segmenter::PortalData& portal,
                                                segmenter::Instant t,
                                                const segmenter::Settings& settings);

}  // namespace segtest
