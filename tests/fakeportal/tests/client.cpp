#include "client.hpp"

#include <httplib.h>

namespace fakeportal::testing {

namespace {

Answer Convert(const httplib::Result& res) {
    Answer a;
    if (!res) {
        return a;
    }
    a.status = res->status;
    a.raw = res->body;
    a.body = json::parse(res->body, nullptr, false);
    a.location = res->get_header_value("Location");
    return a;
}

}  // namespace

Answer PostJson(const std::string& base_url, const std::string& path, const json& body) {
    httplib::Client cli(base_url);
    cli.set_read_timeout(30, 0);
    return Convert(cli.Post(path, body.dump(), "application/json"));
}

Answer PostForm(const std::string& base_url, const std::string& path, const std::string& form) {
    httplib::Client cli(base_url);
    cli.set_read_timeout(30, 0);
    return Convert(cli.Post(path, form, "application/x-www-form-urlencoded"));
}

Answer Get(const std::string& base_url, const std::string& path_and_query) {
    httplib::Client cli(base_url);
    cli.set_read_timeout(30, 0);
    return Convert(cli.Get(path_and_query));
}

PortalFixture::PortalFixture(PortalOptions options, double clock_factor)
    : clock(clock_factor, 1'700'000'000.0) {
    CloudOptions co;
    co.clock = clock.AsFunction();
    cloud = std::make_unique<Cloud>(co);
    app.client_id = "local.test.app";
    app.client_secret = "s3cret";
    app.scopes = {"crm", "placement", "user_brief"};
    cloud->RegisterApp(app);
    portal = &cloud->AddPortal(options);
    admin = portal->InstallApp(app.client_id, 1, InstallFlow::kSilent).admin_tokens;
}

PortalFixture::~PortalFixture() {
    cloud->Stop();
}

Answer PortalFixture::Call(const std::string& method, json params) {
    if (!params.contains("auth")) {
        params["auth"] = admin.access_token;
    }
    return PostJson(portal->base_url(), "/rest/" + method, params);
}

Answer PortalFixture::CallAs(const std::string& token, const std::string& method, json params) {
    params["auth"] = token;
    return PostJson(portal->base_url(), "/rest/" + method, params);
}

}  // namespace fakeportal::testing
