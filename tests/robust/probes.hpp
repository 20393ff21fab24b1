#pragma once
// The probes of issue 10's table, run against a RobustWorld: each one misbehaves as one client,
// one user or one portal would, while a monitor measures what everybody else gets — /healthz,
// the second portal's page loads and its API calls — and the server's resident memory.
//
// Every probe is bounded in time (sockets have send/receive timeouts, loops have deadlines) and
// talks only to 127.0.0.1. RunProbe blocks until the probe and its monitor are done.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "robust_world.hpp"

namespace robust {

struct Latencies {
    std::vector<double> ms;  // answered requests (any status but 0 and 5xx)
    int failed = 0;          // no answer, or a 5xx

    double Percentile(double p) const;  // of ms, with failures counted as +infinity
    std::size_t count() const { return ms.size() + static_cast<std::size_t>(failed); }
};

struct ProbeReport {
    std::string name;
    std::string description;
    double seconds = 0;         // how long the probe ran
    Latencies healthz;          // GET /healthz
    Latencies page;             // the second portal's page loads (POST /b24/app)
    Latencies api;              // the second portal's API calls (dashboard, status, list)
    std::int64_t peak_rss = 0;  // bytes, sampled every 50 ms
    nlohmann::json facts;       // what the attack itself saw (statuses, bytes sent, ...)
};

// The probe names, in the order of the table (plus the sick portal).
const std::vector<std::string>& ProbeNames();

// Runs one probe. `scale` (0 < scale <= 1) shrinks counts and sizes for a quicker run; the
// suite uses 1 (the table's figures).
ProbeReport RunProbe(RobustWorld& world, const std::string& name, double scale = 1.0);

// One line per measure: "name  healthz p50/p99  page p50/p99  api p50/p99  peak RSS  facts".
std::string FormatReport(const ProbeReport& report);

}  // namespace robust
