#pragma once
// curl_global_init/curl_global_cleanup belong to main(): they are not thread-safe and must run
// before any other thread exists. Create one CurlGlobal at the top of main() (and of each test
// or benchmark main) and keep it alive for as long as any Client exists.

namespace b24client {

class CurlGlobal {
public:
    // Calls curl_global_init(CURL_GLOBAL_DEFAULT); throws std::runtime_error if it fails.
    CurlGlobal();
    ~CurlGlobal();
    CurlGlobal(const CurlGlobal&) = delete;
    CurlGlobal& operator=(const CurlGlobal&) = delete;
};

}  // namespace b24client
