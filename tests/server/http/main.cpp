// The HTTP suite's main: libcurl is initialised before any thread starts and cleaned up after
// the shared test world (which owns the app server and the fake cloud) has stopped.
#include <cstdlib>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "b24client/curl_global.hpp"
#include "world.hpp"

int main(int argc, char** argv) {
    // Before any thread exists (setenv is not thread-safe): the CLI reads secrets only from here.
    ::setenv("B24SEG_CLIENT_SECRET", httptest::kClientSecret, 1);
    ::setenv("B24SEG_TOKEN_KEY", httptest::kTokenKeyHex, 1);
    b24client::CurlGlobal curl;
    ::testing::InitGoogleTest(&argc, argv);
    spdlog::set_level(spdlog::level::warn);  // the access log of every request is noise here
    int result = RUN_ALL_TESTS();
    httptest::World::Shutdown();
    return result;
}
