#pragma once
// A tiny HTTP client and fixture for the fake portal's own tests.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "fakeportal/cloud.hpp"
#include "support/scaled_clock.hpp"

namespace fakeportal::testing {

using json = nlohmann::ordered_json;  // keeps batch command order

struct Answer {
    int status = 0;  // 0 = transport failure
    std::string raw;
    json body;  // discarded when not JSON
    std::string location;
};

/// POSTs JSON (or a form) to base_url + path.
Answer PostJson(const std::string& base_url, const std::string& path, const json& body);
Answer PostForm(const std::string& base_url, const std::string& path, const std::string& form);
Answer Get(const std::string& base_url, const std::string& path_and_query);

/// A cloud on a manual clock, one registered app, one portal with the app installed silently
/// and an admin token.
class PortalFixture {
public:
    explicit PortalFixture(PortalOptions options = {}, double clock_factor = 0);
    ~PortalFixture();

    /// Calls a REST method with the admin token (unless params has "auth").
    Answer Call(const std::string& method, json params = json::object());
    Answer CallAs(const std::string& token, const std::string& method, json params);

    support::ScaledClock clock;
    std::unique_ptr<Cloud> cloud;
    Portal* portal = nullptr;
    AppRegistration app;
    TokenPair admin;
};

}  // namespace fakeportal::testing
