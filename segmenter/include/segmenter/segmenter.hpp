#pragma once

// The segmenter: SEGMENTS.md as code. Pure: standard library only, no I/O, no clock, no logging.
// See segmenter/README.md for the rules chosen where SEGMENTS.md is silent.

#include "segmenter/analysis.hpp"      // IWYU pragma: export
#include "segmenter/instant.hpp"       // IWYU pragma: export
#include "segmenter/model.hpp"         // IWYU pragma: export
#include "segmenter/portal_index.hpp"  // IWYU pragma: export
#include "segmenter/results.hpp"       // IWYU pragma: export
#include "segmenter/rules.hpp"         // IWYU pragma: export
#include "segmenter/turnover.hpp"      // IWYU pragma: export
