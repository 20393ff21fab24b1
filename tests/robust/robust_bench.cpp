// robust_bench: runs every probe of issue 10's table against a real `b24seg serve` with two
// installed test portals and prints, per probe, p50/p99 of /healthz, of the second portal's page
// loads and of its API calls, and the server's peak resident memory. Not a test: it asserts
// nothing (the robustness suite, robust_tests, does). Build it in the release preset:
//
//   cmake --preset release && cmake --build --preset release --target robust_bench b24seg
//   build/release/tests/robust/robust_bench [--binary PATH] [--scale 0.1..1] [probe ...]
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "b24client/curl_global.hpp"
#include "probes.hpp"
#include "robust_world.hpp"

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    std::string binary = B24SEG_BINARY;
    double scale = 1.0;
    std::vector<std::string> only;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--binary" && i + 1 < argc) {
            binary = argv[++i];
        } else if (a == "--scale" && i + 1 < argc) {
            scale = std::atof(argv[++i]);
        } else if (a == "--help") {
            std::cout << "usage: robust_bench [--binary PATH] [--scale 0.1..1] [probe ...]\n";
            return 0;
        } else {
            only.push_back(a);
        }
    }
    if (only.empty()) {
        only = robust::ProbeNames();
    }
    spdlog::set_level(spdlog::level::warn);
    b24client::CurlGlobal curl;
    try {
        robust::RobustWorld world(binary);
        world.Start();
        std::printf("b24seg serve pid %d on 127.0.0.1:%d, RSS at start %.0f MB\n", world.pid(),
                    world.port(), static_cast<double>(world.ServerRss()) / 1e6);
        for (const auto& name : only) {
            robust::ProbeReport report = robust::RunProbe(world, name, scale);
            std::printf("%s\n", robust::FormatReport(report).c_str());
            std::fflush(stdout);
        }
        world.Stop();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "robust_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
