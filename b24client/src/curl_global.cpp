#include "b24client/curl_global.hpp"

#include <stdexcept>

#include <curl/curl.h>

namespace b24client {

CurlGlobal::CurlGlobal() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        throw std::runtime_error("curl_global_init failed");
    }
}

CurlGlobal::~CurlGlobal() {
    curl_global_cleanup();
}

}  // namespace b24client
