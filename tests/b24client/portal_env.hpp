#pragma once
// A fake cloud with one portal and an installed app, on a scaled clock shared by the portal and
// the client (so the standard limits run in a fraction of real time).
#include <memory>
#include <string>

#include "b24client/client.hpp"
#include "fakeportal/cloud.hpp"
#include "fakeportal/portal.hpp"
#include "support/scaled_clock.hpp"

namespace b24client::testing {

// b24client::Clock over the test support's ScaledClock.
class ScaledClockAdapter final : public Clock {
public:
    explicit ScaledClockAdapter(double factor) : clock_(factor) {}
    double Now() override { return clock_.Now(); }
    void SleepFor(double seconds) override { clock_.SleepFor(seconds); }
    const support::ScaledClock& scaled() const { return clock_; }

private:
    support::ScaledClock clock_;
};

inline constexpr const char* kClientId = "app.b24seg.test";
inline constexpr const char* kClientSecret = "s3cr3t-client";

struct PortalEnv {
    explicit PortalEnv(double factor, fakeportal::PortalOptions portal_options = {})
        : clock(std::make_shared<ScaledClockAdapter>(factor)),
          cloud(MakeCloudOptions(clock)),
          portal(cloud.AddPortal(std::move(portal_options))) {
        fakeportal::AppRegistration app;
        app.client_id = kClientId;
        app.client_secret = kClientSecret;
        cloud.RegisterApp(app);
        tokens = portal.InstallApp(kClientId, 1, fakeportal::InstallFlow::kSilent).admin_tokens;
    }

    // A limiter with the portal's plan and operating settings, on the shared clock.
    std::shared_ptr<PortalLimiter> MakeLimiter(LimitPlan plan = LimitPlan::Standard()) const {
        const auto limits = portal.Limits();
        plan.operating_limit_s = limits.operating_limit_seconds;
        plan.operating_window_s = limits.operating_window_seconds;
        plan.operating_margin_s = std::max(1.0, 0.05 * limits.operating_limit_seconds);
        return std::make_shared<PortalLimiter>(plan, clock);
    }

    ClientOptions Options(bool with_oauth = true) const {
        ClientOptions o;
        o.clock = clock;
        o.limiter = MakeLimiter();
        o.allow_http = true;  // the test portal is plain http on loopback
        if (with_oauth) {
            o.oauth = OAuthApp{kClientId, kClientSecret, cloud.token_url()};
        }
        return o;
    }

    Credentials Creds() const {
        return Credentials{portal.endpoint(), tokens.access_token, tokens.refresh_token};
    }

    std::shared_ptr<ScaledClockAdapter> clock;
    fakeportal::Cloud cloud;
    fakeportal::Portal& portal;
    fakeportal::TokenPair tokens;

private:
    static fakeportal::CloudOptions MakeCloudOptions(const std::shared_ptr<ScaledClockAdapter>& c) {
        fakeportal::CloudOptions o;
        o.clock = c->scaled().AsFunction();
        return o;
    }
};

}  // namespace b24client::testing
