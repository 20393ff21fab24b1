#include "harness.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "jobs.hpp"
#include "sync/segment_bridge.hpp"

namespace synctest {

using fakeportal::CrmData;

fakeportal::DatasetOptions SmallDataset(std::uint64_t seed) {
    fakeportal::DatasetOptions d;
    d.seed = seed;
    d.companies = 90;
    d.contacts = 160;
    d.deals = 320;
    d.invoices = 160;
    d.old_invoices = 12;
    d.activities = 900;
    d.requisites = 60;
    d.years = 3;
    d.managers = 2;
    d.end = kDatasetEnd;
    return d;
}

Harness::Harness() : dir_("b24seg-sync") {
    fakeportal::CloudOptions options;
    cloud_ = std::make_unique<fakeportal::Cloud>(options);
    fakeportal::AppRegistration app;
    app.client_id = kClientId;
    app.client_secret = kClientSecret;
    app.code = "b24seg";
    app.name = "Client segmentation";
    app.handler_url = "http://127.0.0.1:9/b24/app";  // never called in these tests
    app.installer_url = "http://127.0.0.1:9/b24/install";
    app.install_event_url = "http://127.0.0.1:9/b24/events";
    cloud_->RegisterApp(app);

    config_.data_dir = (dir_.path() / "data").string();
    config_.oauth_url = cloud_->token_url();
    config_.client_id = kClientId;
    config_.client_secret = kClientSecret;
    config_.allow_http_portals = true;
    std::filesystem::create_directories(config_.data_dir);
    registry_ = std::make_unique<server::Registry>(config_.data_dir + "/registry.db");
    portals_ = std::make_unique<server::PortalManager>(config_, *registry_);
}

Harness::~Harness() {
    portals_.reset();
    registry_.reset();
    cloud_->Stop();
}

Installed Harness::AddPortal(const fakeportal::DatasetOptions& dataset,
                             bool enforce_limits,
                             bool offline_events) {
    fakeportal::PortalOptions options;
    options.offline_events_feature = offline_events;
    options.limits.enforce_bucket = enforce_limits;
    options.limits.enforce_operating = enforce_limits;
    options.limits.enforce_request_cap = enforce_limits;
    fakeportal::Portal& portal = cloud_->AddPortal(options);
    fakeportal::GenerateDataset(portal, dataset);
    auto installed = portal.InstallApp(kClientId, 1, fakeportal::InstallFlow::kSilent);

    server::PortalRecord r;
    r.member_id = portal.member_id();
    r.domain = portal.domain();
    r.endpoint = portal.endpoint();
    r.db_file = server::Registry::DbFileFor(r.member_id);
    r.application_token = installed.application_token;
    r.access_token = installed.admin_tokens.access_token;
    r.refresh_token = installed.admin_tokens.refresh_token;
    r.token_user_id = 1;
    r.state = "active";
    r.install_finished = true;
    registry_->Upsert(r);

    if (offline_events) {
        // What the install flow does on a portal with offline events: bind them with our
        // connector, and tell the engine to use the queue.
        auto client = portals_->AdminClient(r.member_id);
        std::vector<b24client::Command> cmds;
        for (const char* ev :
             {"ONCRMCONTACTADD",     "ONCRMCONTACTUPDATE",     "ONCRMCONTACTDELETE",
              "ONCRMCOMPANYADD",     "ONCRMCOMPANYUPDATE",     "ONCRMCOMPANYDELETE",
              "ONCRMDEALADD",        "ONCRMDEALUPDATE",        "ONCRMDEALDELETE",
              "ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE", "ONCRMDYNAMICITEMDELETE",
              "ONCRMACTIVITYADD",    "ONCRMACTIVITYUPDATE",    "ONCRMACTIVITYDELETE",
              "ONCRMREQUISITEADD",   "ONCRMREQUISITEUPDATE",   "ONCRMREQUISITEDELETE",
              "ONCRMINVOICEADD",     "ONCRMINVOICEUPDATE",     "ONCRMINVOICEDELETE"}) {
            b24client::Command c;
            c.method = "event.bind";
            c.params = {{"event", ev}, {"event_type", "offline"}, {"auth_connector", "b24seg"}};
            cmds.push_back(c);
        }
        for (const auto& result : client->Batch(cmds)) {
            EXPECT_TRUE(result.ok) << (result.error ? result.error->what() : "");
        }
        portals_->Db(r.member_id)->SetMeta("offline.enabled", "1");
    }
    return {&portal, r.member_id};
}

server::RunRecord Harness::Sync(const std::string& member_id,
                                server::sync::RunKind kind,
                                std::int64_t advance) {
    return server::RunPortalSync(*portals_, member_id, kind, b24client::CancelToken{},
                                 [advance] { return kNow + advance; });
}

namespace {

segmenter::Instant At(std::int64_t epoch, std::int32_t offset) {
    return {epoch, offset};
}

std::uint8_t Channels(const std::vector<fakeportal::Multifield>& fm) {
    std::uint8_t bits = 0;
    for (const auto& m : fm) {
        if (m.value.empty()) {
            continue;
        }
        if (m.type_id == "PHONE") {
            bits |= segmenter::kChannelPhone;
        } else if (m.type_id == "EMAIL") {
            bits |= segmenter::kChannelEmail;
        } else if (m.type_id == "WEB") {
            bits |= segmenter::kChannelWeb;
        } else if (m.type_id == "IM") {
            bits |= (m.value_type == "IMOL" || m.value_type == "OPENLINE") ? segmenter::kChannelImol
                                                                           : segmenter::kChannelIm;
        }
    }
    return bits;
}

segmenter::StageSemantic Semantic(char s) {
    return s == 'S'   ? segmenter::StageSemantic::kWon
           : s == 'F' ? segmenter::StageSemantic::kFailed
                      : segmenter::StageSemantic::kInProgress;
}

}  // namespace

std::map<server::CardKey, server::CardValues> ReferenceCards(fakeportal::Portal& portal,
                                                             std::int64_t t,
                                                             segmenter::Settings settings) {
    std::int32_t offset = portal.tz_offset_minutes() * 60;
    segmenter::PortalData data;
    portal.Read([&](const CrmData& crm) {
        for (const auto& c : crm.contacts.rows) {
            std::int64_t primary = c.company_ids.empty() ? 0 : c.company_ids.front();
            data.contacts.push_back(
                {c.id, At(c.date_create, offset), primary, c.company_ids, Channels(c.fm)});
        }
        for (const auto& c : crm.companies.rows) {
            data.companies.push_back(
                {c.id, At(c.date_create, offset), c.is_my_company, Channels(c.fm)});
        }
        for (const auto& d : crm.deals.rows) {
            segmenter::Deal deal;
            deal.id = d.id;
            deal.created = At(d.date_create, offset);
            deal.company_id = d.company_id;
            deal.contact_ids = d.contact_ids;
            deal.stage = Semantic(crm.DealStageSemantics(d.category_id, d.stage_id));
            if (d.moved_time != 0) {
                deal.moved_time = At(d.moved_time, offset);
            }
            if (d.closedate != 0) {
                deal.close_date = At(d.closedate, offset);
            }
            data.deals.push_back(deal);
        }
        for (const auto& i : crm.invoices.rows) {
            segmenter::Invoice inv;
            inv.id = i.id;
            inv.created = At(i.created_time, offset);
            inv.company_id = i.company_id;
            inv.contact_ids = i.contact_ids;
            inv.deal_id = i.parent_id2;
            inv.paid = crm.InvoiceStageSemantics(i.category_id, i.stage_id) == 'S';
            if (i.moved_time != 0) {
                inv.paid_time = At(i.moved_time, offset);
            }
            data.invoices.push_back(inv);
        }
        for (const auto& i : crm.old_invoices.rows) {
            segmenter::Invoice inv;
            inv.id = i.id;
            inv.legacy = true;
            inv.created = At(i.date_insert, offset);
            inv.company_id = i.uf_company_id;
            if (i.uf_contact_id != 0) {
                inv.contact_ids = {i.uf_contact_id};
            }
            inv.deal_id = i.uf_deal_id;
            inv.paid = i.payed;
            if (i.date_payed) {
                inv.paid_time = At(*i.date_payed, offset);
            }
            data.invoices.push_back(inv);
        }
        for (const auto& a : crm.activities.rows) {
            segmenter::Activity act;
            act.id = a.id;
            act.created = At(a.created, offset);
            act.bindings.push_back({a.owner_type_id, a.owner_id});
            for (const auto& c : a.communications) {
                act.bindings.push_back({c.entity_type_id, c.entity_id});
            }
            data.activities.push_back(act);
        }
        for (const auto& r : crm.requisites.rows) {
            data.requisites.push_back({r.id, r.entity_type_id, r.entity_id});
        }
    });
    auto index = segmenter::PortalIndex::Build(std::move(data), settings);
    std::map<server::CardKey, server::CardValues> out;
    for (const auto& card : index.AllCards(segmenter::Instant{t, offset})) {
        out[server::sync::ToKey(card.ref)] = server::sync::ToStored(card.values);
    }
    return out;
}

std::map<server::CardKey, server::CardValues> PortalCards(fakeportal::Portal& portal) {
    std::int32_t offset = portal.tz_offset_minutes() * 60;
    std::map<server::CardKey, server::CardValues> out;
    portal.Read([&](const CrmData& crm) {
        auto read = [&](const char* entity_id, const fakeportal::UfValues& values) {
            server::CardValues v;
            for (const auto& uf : values) {
                const fakeportal::UserField* f = crm.FindUserField(uf.field_id);
                if (f == nullptr || f->entity_id != entity_id || uf.values.empty() ||
                    uf.values.front().empty()) {
                    continue;
                }
                const std::string& text = uf.values.front();
                const std::string& name = f->field_name;
                auto xml = [&]() -> std::string {
                    for (const auto& item : f->list) {
                        if (std::to_string(item.id) == text) {
                            return item.xml_id;
                        }
                    }
                    return "?" + text;
                };
                if (name == "UF_CRM_SEG_PARENT_COMPANY") {
                    std::string id = text.rfind("CO_", 0) == 0 ? text.substr(3) : text;
                    v.parent_company = std::stoll(id);
                } else if (name == "UF_CRM_SEG_LIFECYCLE") {
                    v.lifecycle = xml();
                } else if (name == "UF_CRM_SEG_CLIENT_TYPE") {
                    v.client_type = xml();
                } else if (name == "UF_CRM_SEG_FREQUENCY") {
                    v.frequency = xml();
                } else if (name == "UF_CRM_SEG_LAST_PAYMENT") {
                    v.last_payment =
                        segmenter::FormatInstant({std::stoll(text), offset}).substr(0, 10);
                } else if (name == "UF_CRM_SEG_PAYMENTS") {
                    v.payments = std::stoll(text);
                } else if (name == "UF_CRM_SEG_HAS_DIALOGS") {
                    v.has_dialogs = text == "1";
                } else if (name == "UF_CRM_SEG_HAS_CHANNELS") {
                    v.has_channels = text == "1";
                }
            }
            return v;
        };
        for (const auto& c : crm.contacts.rows) {
            out[{server::CardKind::kContact, c.id}] = read("CRM_CONTACT", c.uf);
        }
        for (const auto& c : crm.companies.rows) {
            out[{server::CardKind::kCompany, c.id}] = read("CRM_COMPANY", c.uf);
        }
    });
    return out;
}

std::map<server::CardKey, int> WrittenCards(fakeportal::Portal& portal) {
    std::map<server::CardKey, int> out;
    for (const auto& w : portal.Counters().writes) {
        if (w.method.find("userfield") != std::string::npos) {
            continue;  // field definitions, not cards
        }
        if (w.entity_type_id == 3) {
            ++out[{server::CardKind::kContact, w.entity_id}];
        } else if (w.entity_type_id == 4) {
            ++out[{server::CardKind::kCompany, w.entity_id}];
        }
    }
    return out;
}

std::string Describe(const server::CardKey& key, const server::CardValues& v) {
    std::ostringstream s;
    s << (key.kind == server::CardKind::kContact ? "contact " : "company ") << key.id << " {"
      << "parent=" << (v.parent_company ? std::to_string(*v.parent_company) : "-")
      << " lifecycle=" << v.lifecycle.value_or("-") << " type=" << v.client_type.value_or("-")
      << " freq=" << v.frequency.value_or("-") << " last=" << v.last_payment.value_or("-")
      << " n=" << (v.payments ? std::to_string(*v.payments) : "-")
      << " dialogs=" << (v.has_dialogs ? (*v.has_dialogs ? "1" : "0") : "-")
      << " channels=" << (v.has_channels ? (*v.has_channels ? "1" : "0") : "-") << "}";
    return s.str();
}

}  // namespace synctest
