#pragma once
// The `b24seg` command line (server/README.md "The CLI"):
//
//   b24seg serve   --config FILE                         run the app server until SIGTERM/SIGINT
//   b24seg portals --config FILE                         installed portals and their state
//   b24seg status  <member_id> --config FILE             one portal: state, settings, last runs
//   b24seg sync    <member_id> [--full] [--wait] --config FILE
//          without --wait: ask the running server for a run (it starts within seconds)
//          with --wait: run it here, printing progress; refused while the portal's run lock is
//          held (by the server or another CLI)
//   b24seg clear   <member_id> [--wait] --config FILE
//          the recovery from a damaged portal database: moves the portal's database files aside
//          (<file>.damaged-<time>), creates an empty one and asks for a full run that rebuilds
//          everything from the portal (with --wait: runs it here); refused while a run is going
//   b24seg purge   <member_id> --config FILE             delete an uninstalled (or blocked)
//          portal's data and registry row now, without waiting for the grace period
//   b24seg rekey   --config FILE                         re-encrypt every stored token under
//          B24SEG_TOKEN_KEY (after a key rotation; B24SEG_TOKEN_KEY_OLD must hold the old key)
//   b24seg --help | --version
//
// Exit codes: 0 done, 1 failure, 2 usage error, 3 a run is already going for the portal.
// libcurl must have been initialised by main() (b24client::CurlGlobal).

#include <ostream>
#include <string>
#include <vector>

namespace server {

struct CliArgs {
    std::string command;  // serve portals status sync clear purge rekey help version
    std::string config;
    std::string member_id;
    bool full = false;
    bool wait = false;
    std::string error;  // non-empty: a usage error to print
};

CliArgs ParseCliArgs(const std::vector<std::string>& args);
std::string CliUsage();

// Runs a parsed command. `out` gets results, `err` diagnostics.
int RunCli(const CliArgs& args, std::ostream& out, std::ostream& err);

}  // namespace server
