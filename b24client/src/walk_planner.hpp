#pragma once
// Pure planning of one packed batch of keyset walks (README "Packing and chain length").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace b24client::detail {

constexpr int kPageSize = 50;
constexpr int kMaxBatchCommands = 50;

// Pages (nested calls) a walk needs to finish when `remaining_rows` rows are left: every full
// page plus the short (possibly empty) page that proves the end.
int PagesNeeded(std::int64_t remaining_rows);

struct PlanInput {
    std::size_t walk = 0;       // caller's walk index
    std::string method;         // budget key (normalised method name)
    int need = 1;               // pages wanted this round (>= 1)
    bool uncertain = false;     // size unknown: may take leftover slots speculatively
    double call_cost_s = 0.25;  // expected execution time of one page
};

struct PlanEntry {
    std::size_t walk = 0;
    int pages = 0;
};

// Packs walks (in priority order) into one batch of at most `capacity` commands whose
// expected execution time stays within `time_budget_s`, and at most allowance[method] pages
// per method (methods missing from `allowance` are unlimited). Pass 1 gives each walk its need
// in order (the last one that fits may get a partial chain); pass 2 shares the leftover slots
// among the uncertain walks. The first entry always gets at least one page if its method has
// allowance, so a slow method still progresses. Result: entries with pages >= 1, in input order.
std::vector<PlanEntry> PlanBatch(const std::vector<PlanInput>& walks,
                                 std::map<std::string, int> allowance,
                                 int capacity,
                                 double time_budget_s);

}  // namespace b24client::detail
