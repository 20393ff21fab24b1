#pragma once
// The sync job of one portal (issue 4): pull its CRM data month by month, resumably; keep it
// current with incremental runs; compute every card's values with the segmenter; write back
// the cards whose values differ.
//
// A run goes through phases, each safe to interrupt at any point (kill -9 included) and resume:
//   fields   make sure our eight user fields exist (idempotent)
//   pull     first run: every month from the first contact/company to now, each month's rows and
//            its checkpoint committed in one transaction; later runs: offline events, or
//            modified-since walks plus a count check that finds deletions and merges
//   compute  segmenter over all stored rows at T; targets and series stored
//   write    cards whose stored values differ from the targets, 50 per batch; a batch is marked
//            pending before it is sent and confirmed after, so a resumed run re-reads pending
//            cards instead of writing them twice
// Progress is saved to the portal database as the run goes (the UI polls it).
//
// Thread-safety: an Engine runs on one thread. Only one run per portal may be in progress: the
// caller (the job runner) holds the portal's run lock.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "b24client/clock.hpp"
#include "portal_db.hpp"
#include "segmenter/segmenter.hpp"

namespace b24client {
class Client;
}

namespace server::sync {

enum class RunKind {
    kFirst,        // the first pull (or its resumption)
    kIncremental,  // changes since the last run, then compute and write
    kFull,         // "clear and refresh": the caller cleared the pulled data; pulls everything
    kRecompute,    // no pull: compute with the stored data (settings changed) and write
};

const char* ToString(RunKind kind);
std::optional<RunKind> RunKindFromString(const std::string& text);

struct EngineOptions {
    int months_per_walk = 24;               // months whose walks share one packed Walk call
    int overlap_seconds = 600;              // modified-since marks start this much earlier
    std::string auth_connector = "b24seg";  // keeps our own writes out of our offline queue
    int write_batch = 50;                   // cards per write batch (the platform's cap)
    int check_interval_s = 86400;           // with offline events: deletion-count check this often
};

struct RunContext {
    PortalDb* db = nullptr;
    b24client::Client* client = nullptr;  // the admin token's client of this portal
    segmenter::Settings settings;
    std::string lang = "en";            // labels of the user fields
    std::function<std::int64_t()> now;  // unix seconds (injected in tests)
    // T of the segment values (unix seconds); empty: now. Benchmarks pin it so that a run with
    // nothing changed has nothing to write however long the previous run took.
    std::function<std::int64_t()> segment_time;
    b24client::CancelToken cancel;                      // the same token the client checks
    std::function<void(const RunRecord&)> on_progress;  // optional; called on the run's thread
};

// What a finished computation leaves for readers (the card tab keeps the index).
struct ComputeResult {
    std::shared_ptr<const segmenter::PortalIndex> index;
    segmenter::Instant at;
};

class Engine {
public:
    Engine(RunContext context, EngineOptions options = {});

    // Runs `kind`, or resumes the portal's unfinished run (a run left 'running' by a crash or an
    // interruption continues under its own id and kind). Returns the finished run. On a final
    // error the run is saved as failed (error code and message set) and the b24client::Error or
    // std::exception is rethrown; on cancellation the run stays resumable and kCancelled is
    // rethrown.
    RunRecord Run(RunKind kind);

    // The index built by the last compute phase of this engine (null before one ran).
    const std::optional<ComputeResult>& last_compute() const { return last_compute_; }

    struct State;

private:
    RunContext ctx_;
    EngineOptions options_;
    std::optional<ComputeResult> last_compute_;
};

}  // namespace server::sync
