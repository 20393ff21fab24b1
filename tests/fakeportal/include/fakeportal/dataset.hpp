#pragma once
// A deterministic generator of a realistic CRM for a fake portal: users with rights, companies
// (one of them the portal's own), contacts (B2C clients, members of 1–3 companies, employees of the
// own company), deals in two pipelines, smart invoices linked to deals (won deals with 0, 1 or 3
// paid invoices; some invoices whose deal belongs to another company), optional old invoices,
// activities of every type, requisites — over N years with growth and a few import bursts.
// The same seed and options give the same portal, row for row.
#include <cstdint>
#include <string>
#include <vector>

#include "fakeportal/crm.hpp"
#include "fakeportal/portal.hpp"

namespace fakeportal {

struct DatasetOptions {
    uint64_t seed = 42;
    int companies = 350;
    int contacts = 500;
    int deals = 1000;
    int invoices = 500;
    int old_invoices = 30;
    int activities = 4000;
    int requisites = 300;
    int years = 12;
    int managers = 4;              // users with CrmRead::kOwn, besides the admin (user 1)
    double member_share = 0.45;    // contacts bound to 1–3 client companies
    double employee_share = 0.03;  // contacts whose primary company is the portal's own
    int import_bursts = 3;         // moments where ~4% of the rows were imported at once each
    bool xss_contact = false;      // one contact named <img src=x onerror=alert(1)>
    Time end = 0;                  // the dataset's "now" (0: the portal clock)
};

/// A few thousand clients, realistic proportions (the demo).
DatasetOptions DemoPreset();
/// The benchmark size: 50,000 contacts, 35,000 companies, 100,000 deals, 50,000 invoices,
/// 400,000 activities, 30,000 requisites, 12 years.
DatasetOptions BenchPreset();

struct DatasetSummary {
    int64_t my_company_id = 0;
    std::vector<int64_t> manager_ids;
    int64_t second_pipeline_id = 0;
    size_t contacts = 0, companies = 0, deals = 0, invoices = 0, old_invoices = 0, activities = 0,
           requisites = 0;
    int64_t xss_contact_id = 0;
    double seconds = 0;  // generation time (real)
};

/// Adds the users and fills the portal's CRM (through Portal::BulkLoad: no events). Meant for a
/// fresh portal; ids continue after any rows already there.
DatasetSummary GenerateDataset(Portal& portal, const DatasetOptions& options);

}  // namespace fakeportal
