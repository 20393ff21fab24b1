// A child process for the kill -9 test: runs one sync of one portal and exits. It is the same
// code path as `b24seg sync --wait`, without the CLI around it.
//   sync_child <data_dir> <member_id> <oauth_url> <now_epoch>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "b24client/curl_global.hpp"
#include "config.hpp"
#include "jobs.hpp"
#include "portals.hpp"
#include "registry.hpp"

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: sync_child <data_dir> <member_id> <oauth_url> <now>\n");
        return 2;
    }
    b24client::CurlGlobal curl;
    server::Config config;
    config.data_dir = argv[1];
    config.oauth_url = argv[3];
    config.client_id = "local.b24seg.test";
    config.client_secret = "test-secret-0123456789";
    config.allow_http_portals = true;
    std::int64_t now = std::atoll(argv[4]);
    try {
        server::Registry registry(config.data_dir + "/registry.db");
        server::PortalManager portals(config, registry);
        server::RunPortalSync(portals, argv[2], server::sync::RunKind::kIncremental,
                              b24client::CancelToken{}, [now] { return now; });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sync_child: %s\n", e.what());
        return 1;
    }
    return 0;
}
