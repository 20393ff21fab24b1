#pragma once

// Random portals and random batches of edits for cross-checking tests. Deterministic for a seed.
// References deliberately include missing ids (deleted links), the portal's own companies,
// duplicate links, and instants on month ends and window boundaries.

#include <cstdint>
#include <random>

#include "segmenter/segmenter.hpp"

namespace segtest {

struct RandomOptions {
    int companies = 30;
    int contacts = 60;
    int deals = 90;
    int invoices = 50;
    int activities = 120;
    int requisites = 15;
    segmenter::YearMonth start{2021, 1};
    int months = 30;
    bool mixed_offsets = false;  // false: every instant is written at +03:00
};

// Random settings: windows, turnover window, and either the default tiers or admin tiers.
segmenter::Settings RandomSettings(std::mt19937_64& rng);

segmenter::PortalData RandomPortal(std::mt19937_64& rng, const RandomOptions& options);

// Makes `edits` random removals, replacements and additions, applies them to `portal` the way
// PortalIndex::Apply does (removals first, then upserts), and returns them as Changes.
segmenter::Changes RandomEdit(std::mt19937_64& rng,
                              segmenter::PortalData& portal,
                              const RandomOptions& options,
                              int edits);

// A random instant within the options' months (used for T as well).
segmenter::Instant RandomInstant(std::mt19937_64& rng, const RandomOptions& options);

}  // namespace segtest
