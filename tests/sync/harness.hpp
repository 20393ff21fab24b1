#pragma once
// Test harness for the sync engine: a fake Bitrix24 cloud with one or more generated portals, the
// app installed into them, our registry and data directory, and a reference computation of every
// card straight from the fake portal's typed rows (independent of our JSON mapping and storage).

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "config.hpp"
#include "fakeportal/cloud.hpp"
#include "fakeportal/dataset.hpp"
#include "portal_db.hpp"
#include "portals.hpp"
#include "registry.hpp"
#include "segmenter/segmenter.hpp"
#include "support/temp_dir.hpp"
#include "sync/engine.hpp"

namespace synctest {

inline constexpr const char* kClientId = "local.b24seg.test";
inline constexpr const char* kClientSecret = "test-secret-0123456789";

// The dataset's "now" and the computations' T: fixed, so two portals built from one seed compute
// identical values whatever the wall clock says.
inline constexpr std::int64_t kDatasetEnd = 1793000000;  // 2026-10-26T...Z
inline constexpr std::int64_t kNow = kDatasetEnd + 3600;

fakeportal::DatasetOptions SmallDataset(std::uint64_t seed = 7);

struct Installed {
    fakeportal::Portal* portal = nullptr;
    std::string member_id;
};

class Harness {
public:
    Harness();
    ~Harness();

    fakeportal::Cloud& cloud() { return *cloud_; }
    server::Config& config() { return config_; }
    server::Registry& registry() { return *registry_; }
    server::PortalManager& portals() { return *portals_; }
    const support::TempDir& dir() const { return dir_; }

    // A new portal with the generated dataset and the app installed (silently; tokens stored in
    // our registry as the install flow would). limits: enforced or only counted.
    Installed AddPortal(const fakeportal::DatasetOptions& dataset,
                        bool enforce_limits = false,
                        bool offline_events = false);

    // Runs one sync in this process with T = kNow (plus `advance` seconds).
    server::RunRecord Sync(const std::string& member_id,
                           server::sync::RunKind kind,
                           std::int64_t advance = 0);

private:
    support::TempDir dir_;
    std::unique_ptr<fakeportal::Cloud> cloud_;
    server::Config config_;
    std::unique_ptr<server::Registry> registry_;
    std::unique_ptr<server::PortalManager> portals_;
};

// What the segmenter computes from the fake portal's own rows at T (offset = the portal's).
std::map<server::CardKey, server::CardValues> ReferenceCards(fakeportal::Portal& portal,
                                                             std::int64_t t,
                                                             segmenter::Settings settings = {});

// The values every card of the portal carries now, read from its stored user-field values
// (enumeration items translated to XML_IDs, dates to the portal's local YYYY-MM-DD).
std::map<server::CardKey, server::CardValues> PortalCards(fakeportal::Portal& portal);

// Cards written by REST since the portal's counters were last reset: card -> number of writes.
std::map<server::CardKey, int> WrittenCards(fakeportal::Portal& portal);

std::string Describe(const server::CardKey& key, const server::CardValues& v);

}  // namespace synctest
