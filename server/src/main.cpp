// b24seg: the app server and its operator CLI (see cli.hpp and server/README.md).
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "b24client/curl_global.hpp"
#include "cli.hpp"

int main(int argc, char** argv) {
    // A peer that closes a socket must not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    server::CliArgs parsed = server::ParseCliArgs(args);
    try {
        b24client::CurlGlobal curl;  // before any thread exists
        return server::RunCli(parsed, std::cout, std::cerr);
    } catch (const std::exception& e) {
        std::cerr << "b24seg: " << e.what() << "\n";
        return 1;
    }
}
