// One test (or table row) per rule of SEGMENTS.md §1-5 and per choice of segmenter/README.md.
// Every card value is checked twice: against the expectation written here, and against the naive
// reference model, so that both readings of the rules must agree.

#include <string>

#include <gtest/gtest.h>

#include "reference_model.hpp"
#include "segmenter/segmenter.hpp"
#include "test_support.hpp"

namespace segtest {
namespace {

using namespace segmenter;

constexpr const char* kT = "2024-06-15T12:00:00+03:00";

// Names table rows after their `name` member.
struct CaseNameOf {
    template <class P>
    std::string operator()(const ::testing::TestParamInfo<P>& row) const {
        return row.param.name;
    }
};
constexpr CaseNameOf CaseName;

// The card's values from the index, after checking that the reference model agrees.
CardValues CardOf(const PortalData& portal,
                  CardRef card,
                  const char* t = kT,
                  Settings settings = {}) {
    const PortalIndex index = PortalIndex::Build(portal, settings);
    const auto values = index.Card(card, At(t));
    EXPECT_TRUE(values) << "card not in the index";
    if (!values) {
        return {};
    }
    for (const Card& expected : ReferenceCards(portal, At(t), settings)) {
        if (expected.ref == card) {
            EXPECT_EQ(*values, expected.values) << "index and reference model disagree";
        }
    }
    return *values;
}

Company ClientCompany(std::int64_t id, const char* created = "2020-01-01") {
    return {.id = id, .created = At(created)};
}
Company MyCompany(std::int64_t id) {
    return {.id = id, .created = At("2019-01-01"), .is_my_company = true};
}
Contact Person(std::int64_t id, std::int64_t company = 0, std::vector<std::int64_t> links = {}) {
    return {.id = id, .created = At("2020-01-01"), .company_id = company, .company_ids = links};
}
Deal WonDeal(std::int64_t id,
             std::int64_t company,
             std::vector<std::int64_t> contacts,
             const char* moved) {
    return {.id = id,
            .created = At("2020-02-01"),
            .company_id = company,
            .contact_ids = std::move(contacts),
            .stage = StageSemantic::kWon,
            .moved_time = At(moved)};
}
Deal OpenDeal(std::int64_t id,
              std::int64_t company,
              std::vector<std::int64_t> contacts,
              const char* created = "2020-02-01") {
    return {.id = id,
            .created = At(created),
            .company_id = company,
            .contact_ids = std::move(contacts),
            .stage = StageSemantic::kInProgress};
}
Invoice PaidInvoice(std::int64_t id, std::int64_t company, std::int64_t deal, const char* paid) {
    return {.id = id,
            .created = At("2020-02-01"),
            .company_id = company,
            .deal_id = deal,
            .paid = true,
            .paid_time = At(paid)};
}
Activity Dialog(std::int64_t id,
                std::vector<Binding> bindings,
                const char* created = "2021-01-01") {
    return {.id = id, .created = At(created), .bindings = std::move(bindings)};
}
Binding OnContact(std::int64_t id) {
    return {kEntityTypeContact, id};
}
Binding OnCompany(std::int64_t id) {
    return {kEntityTypeCompany, id};
}

// ---------------------------------------------------------------------------------------------
// §4 lifecycle windows, at their exact boundaries.

struct WindowCase {
    const char* name;
    const char* t;
    const char* paid;
    Settings settings;
    Lifecycle expected;
};

void PrintTo(const WindowCase& row, std::ostream* out) {
    *out << row.name;
}

class Windows : public ::testing::TestWithParam<WindowCase> {};

TEST_P(Windows, LastPaymentDecidesTheLifecycle) {
    const WindowCase& c = GetParam();
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.deals = {WonDeal(10, 1, {}, c.paid)};
    const CardValues v = CardOf(p, CompanyCard(1), c.t, c.settings);
    EXPECT_EQ(v.lifecycle, c.expected);
    EXPECT_EQ(v.payments, 1);
    EXPECT_EQ(v.last_payment, At(c.paid));
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries,
    Windows,
    ::testing::Values(
        WindowCase{"at_T", kT, "2024-06-15T12:00:00+03:00", {}, Lifecycle::kActive},
        WindowCase{"second_after_6m", kT, "2023-12-15T12:00:01+03:00", {}, Lifecycle::kActive},
        WindowCase{"exactly_6m", kT, "2023-12-15T12:00:00+03:00", {}, Lifecycle::kSleeping},
        WindowCase{"second_after_18m", kT, "2022-12-15T12:00:01+03:00", {}, Lifecycle::kSleeping},
        WindowCase{"exactly_18m", kT, "2022-12-15T12:00:00+03:00", {}, Lifecycle::kLost},
        WindowCase{"long_ago", kT, "2012-01-01T00:00:00+03:00", {}, Lifecycle::kLost},
        // Instants compare as instants: 10:00+01:00 is 12:00+03:00, exactly 6 months.
        WindowCase{"other_offset_exact", kT, "2023-12-15T10:00:00+01:00", {}, Lifecycle::kSleeping},
        WindowCase{"other_offset_inside", kT, "2023-12-15T10:00:01+01:00", {}, Lifecycle::kActive},
        // 31 March - 1 month = 29 February (leap) / 28 February.
        WindowCase{"leap_exact",
                   "2024-03-31T10:00:00+03:00",
                   "2024-02-29T10:00:00+03:00",
                   {1, 2},
                   Lifecycle::kSleeping},
        WindowCase{"leap_inside",
                   "2024-03-31T10:00:00+03:00",
                   "2024-02-29T10:00:01+03:00",
                   {1, 2},
                   Lifecycle::kActive},
        WindowCase{"non_leap_exact",
                   "2023-03-31T10:00:00+03:00",
                   "2023-02-28T10:00:00+03:00",
                   {1, 2},
                   Lifecycle::kSleeping},
        WindowCase{"non_leap_inside",
                   "2023-03-31T10:00:00+03:00",
                   "2023-02-28T10:00:01+03:00",
                   {1, 2},
                   Lifecycle::kActive},
        // 31 August - 6 months = 29 February; - 18 months = 28 February.
        WindowCase{"aug31_6m",
                   "2024-08-31T10:00:00+03:00",
                   "2024-02-29T10:00:00+03:00",
                   {},
                   Lifecycle::kSleeping},
        WindowCase{"aug31_18m",
                   "2024-08-31T10:00:00+03:00",
                   "2023-02-28T10:00:00+03:00",
                   {},
                   Lifecycle::kLost},
        WindowCase{"aug31_18m_inside",
                   "2024-08-31T10:00:00+03:00",
                   "2023-02-28T10:00:01+03:00",
                   {},
                   Lifecycle::kSleeping},
        // The windows are settings.
        WindowCase{"custom_3_inside", kT, "2024-03-15T12:00:01+03:00", {3, 12}, Lifecycle::kActive},
        WindowCase{
            "custom_3_exact", kT, "2024-03-15T12:00:00+03:00", {3, 12}, Lifecycle::kSleeping},
        WindowCase{"custom_12_exact", kT, "2023-06-15T12:00:00+03:00", {3, 12}, Lifecycle::kLost}),
    CaseName);

// ---------------------------------------------------------------------------------------------
// §2 payments: won deals vs paid invoices.

struct DedupCase {
    const char* name;
    StageSemantic stage;
    int paid_invoices;
    int unpaid_invoices;
    std::int64_t expected_payments;
};

void PrintTo(const DedupCase& row, std::ostream* out) {
    *out << row.name;
}

class Dedup : public ::testing::TestWithParam<DedupCase> {};

TEST_P(Dedup, PaidInvoicesReplaceTheirDeal) {
    const DedupCase& c = GetParam();
    PortalData p;
    p.companies = {ClientCompany(1)};
    Deal deal = WonDeal(10, 1, {}, "2024-01-10T10:00:00+03:00");
    deal.stage = c.stage;
    p.deals = {deal};
    for (int i = 0; i < c.paid_invoices; ++i) {
        p.invoices.push_back(PaidInvoice(100 + i, 1, 10, "2024-02-10T10:00:00+03:00"));
    }
    for (int i = 0; i < c.unpaid_invoices; ++i) {
        Invoice open = PaidInvoice(200 + i, 1, 10, "2024-02-10T10:00:00+03:00");
        open.paid = false;
        p.invoices.push_back(open);
    }
    const CardValues v = CardOf(p, CompanyCard(1));
    EXPECT_EQ(v.payments, c.expected_payments);
    if (c.expected_payments > 0) {
        // With a paid invoice the payment is the invoice's, dated when it was paid.
        EXPECT_EQ(v.last_payment, At(c.paid_invoices > 0 ? "2024-02-10T10:00:00+03:00"
                                                         : "2024-01-10T10:00:00+03:00"));
    }
}

INSTANTIATE_TEST_SUITE_P(
    WonDealAndInvoices,
    Dedup,
    ::testing::Values(DedupCase{"won_no_invoice", StageSemantic::kWon, 0, 0, 1},
                      DedupCase{"won_one_paid", StageSemantic::kWon, 1, 0, 1},
                      DedupCase{"won_three_paid", StageSemantic::kWon, 3, 0, 3},
                      DedupCase{"won_one_unpaid", StageSemantic::kWon, 0, 1, 1},
                      DedupCase{"won_paid_and_unpaid", StageSemantic::kWon, 2, 1, 2},
                      DedupCase{"open_deal_paid_invoice", StageSemantic::kInProgress, 1, 0, 1},
                      DedupCase{"failed_deal_two_paid", StageSemantic::kFailed, 2, 0, 2},
                      DedupCase{"open_deal_no_invoice", StageSemantic::kInProgress, 0, 0, 0},
                      DedupCase{"failed_deal_unpaid", StageSemantic::kFailed, 0, 1, 0}),
    CaseName);

TEST(Payments, AmountDoesNotMatterEveryPaidInvoiceCounts) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.invoices = {PaidInvoice(1, 1, 0, "2024-01-01T10:00:00+03:00"),
                  PaidInvoice(2, 1, 0, "2024-03-01T10:00:00+03:00")};
    const CardValues v = CardOf(p, CompanyCard(1));
    EXPECT_EQ(v.payments, 2);
    EXPECT_EQ(v.frequency, Frequency::kRegular);
    EXPECT_EQ(v.last_payment, At("2024-03-01T10:00:00+03:00"));
}

TEST(Payments, OldInvoicesCountAndDeduplicateLikeNewOnes) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.deals = {WonDeal(10, 1, {}, "2024-01-10T10:00:00+03:00")};
    Invoice old = PaidInvoice(7, 1, 10, "2024-01-20T10:00:00+03:00");
    old.legacy = true;
    Invoice same_id_new = PaidInvoice(7, 1, 0, "2024-02-20T10:00:00+03:00");
    p.invoices = {old, same_id_new};  // (legacy, id) identifies an invoice
    const CardValues v = CardOf(p, CompanyCard(1));
    EXPECT_EQ(v.payments, 2);
    const auto detail = PortalIndex::Build(p).Detail(CompanyCard(1), At(kT));
    ASSERT_TRUE(detail);
    ASSERT_EQ(detail->payments.size(), 2U);
    EXPECT_EQ(detail->payments[0].source, PaymentSource::kLegacyInvoice);
    EXPECT_EQ(detail->payments[1].source, PaymentSource::kInvoice);
}

TEST(Payments, PaymentAfterTDoesNotCountButIsARequest) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.deals = {WonDeal(10, 1, {}, "2024-06-15T12:00:01+03:00")};
    const CardValues v = CardOf(p, CompanyCard(1));
    EXPECT_EQ(v.payments, 0);
    EXPECT_EQ(v.last_payment, std::nullopt);
    EXPECT_EQ(v.frequency, Frequency::kNone);
    EXPECT_EQ(v.lifecycle, Lifecycle::kRequests);  // the deal exists at T and is not a payment yet
    // One second later it is one.
    EXPECT_EQ(CardOf(p, CompanyCard(1), "2024-06-15T12:00:01+03:00").payments, 1);
}

TEST(Payments, LaterPaymentsOnlyCountAtTheirTime) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.invoices = {PaidInvoice(1, 1, 0, "2023-01-01T10:00:00+03:00"),
                  PaidInvoice(2, 1, 0, "2024-07-01T10:00:00+03:00")};
    const CardValues v = CardOf(p, CompanyCard(1));
    EXPECT_EQ(v.payments, 1);
    EXPECT_EQ(v.frequency, Frequency::kFirst);
    EXPECT_EQ(v.lifecycle, Lifecycle::kSleeping);
    EXPECT_EQ(v.last_payment, At("2023-01-01T10:00:00+03:00"));
}

struct DateCase {
    const char* name;
    std::optional<const char*> moved;
    std::optional<const char*> closed;
    const char* expected;
};

void PrintTo(const DateCase& row, std::ostream* out) {
    *out << row.name;
}

class DealDate : public ::testing::TestWithParam<DateCase> {};

TEST_P(DealDate, MovedTimeElseCloseDateElseCreation) {
    const DateCase& c = GetParam();
    PortalData p;
    p.companies = {ClientCompany(1)};
    Deal deal = WonDeal(10, 1, {}, "2000-01-01");
    deal.created = At("2021-05-05T05:05:05+03:00");
    deal.moved_time = c.moved ? std::optional(At(*c.moved)) : std::nullopt;
    deal.close_date = c.closed ? std::optional(At(*c.closed)) : std::nullopt;
    p.deals = {deal};
    EXPECT_EQ(CardOf(p, CompanyCard(1)).last_payment, At(c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    Fallbacks,
    DealDate,
    ::testing::Values(DateCase{"moved", "2022-01-01T10:00:00+03:00", "2022-03-01T00:00:00+03:00",
                               "2022-01-01T10:00:00+03:00"},
                      DateCase{"closed", std::nullopt, "2022-03-01T00:00:00+03:00",
                               "2022-03-01T00:00:00+03:00"},
                      DateCase{"neither", std::nullopt, std::nullopt, "2021-05-05T05:05:05+03:00"}),
    CaseName);

TEST(Payments, PaidInvoiceWithoutPaidTimeIsDatedByItsCreation) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    Invoice invoice = PaidInvoice(1, 1, 0, "2000-01-01");
    invoice.paid_time.reset();
    invoice.created = At("2024-04-04T04:04:04+03:00");
    p.invoices = {invoice};
    EXPECT_EQ(CardOf(p, CompanyCard(1)).last_payment, At("2024-04-04T04:04:04+03:00"));
}

// ---------------------------------------------------------------------------------------------
// §2 owners.

TEST(Owner, DealWithCompanyAndContactIsOnePaymentOfTheCompany) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.contacts = {Person(5)};  // a B2C contact, not linked to the company
    p.deals = {WonDeal(10, 1, {5}, "2024-05-01T10:00:00+03:00")};
    EXPECT_EQ(CardOf(p, CompanyCard(1)).payments, 1);
    const CardValues contact = CardOf(p, ContactCard(5));
    EXPECT_EQ(contact.role, Role::kClient);
    EXPECT_EQ(contact.payments, 0);
}

TEST(Owner, DealOfAMemberContactOnlyIsThePaymentOfItsCompany) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.contacts = {Person(5, 1)};
    p.deals = {WonDeal(10, 0, {5}, "2024-05-01T10:00:00+03:00")};
    const CardValues company = CardOf(p, CompanyCard(1));
    EXPECT_EQ(company.payments, 1);
    EXPECT_EQ(company.lifecycle, Lifecycle::kActive);
    const CardValues member = CardOf(p, ContactCard(5));
    EXPECT_EQ(member.role, Role::kMember);
    EXPECT_EQ(member.payments, 1);  // the company's values on the member's card
    EXPECT_EQ(member.lifecycle, Lifecycle::kActive);
}

TEST(Owner, DealOfTheOwnCompanyGoesToItsContact) {
    PortalData p;
    p.companies = {MyCompany(1)};
    p.contacts = {Person(5)};
    p.deals = {WonDeal(10, 1, {5}, "2024-05-01T10:00:00+03:00")};
    EXPECT_EQ(CardOf(p, ContactCard(5)).payments, 1);
    EXPECT_EQ(CardOf(p, CompanyCard(1)), CardValues{});
}

TEST(Owner, FirstContactDecides) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.contacts = {Person(5), Person(6, 1)};
    p.deals = {WonDeal(10, 0, {5, 6}, "2024-05-01T10:00:00+03:00"),
               WonDeal(11, 0, {6, 5}, "2024-05-02T10:00:00+03:00")};
    EXPECT_EQ(CardOf(p, ContactCard(5)).payments, 1);
    EXPECT_EQ(CardOf(p, CompanyCard(1)).payments, 1);
}

TEST(Owner, MissingCompanyOrFirstContactFallsThrough) {
    PortalData p;
    p.contacts = {Person(5)};
    // Company 99 and contact 98 were deleted: the deal belongs to the next existing contact.
    p.deals = {WonDeal(10, 99, {98, 5}, "2024-05-01T10:00:00+03:00")};
    EXPECT_EQ(CardOf(p, ContactCard(5)).payments, 1);
}

TEST(Owner, RecordsWithoutOwnerAreIgnored) {
    PortalData p;
    p.companies = {ClientCompany(1), MyCompany(2)};
    p.deals = {WonDeal(10, 0, {}, "2024-05-01T10:00:00+03:00"),
               WonDeal(11, 2, {77}, "2024-05-01T10:00:00+03:00"), OpenDeal(12, 0, {})};
    const PortalIndex index = PortalIndex::Build(p);
    for (const Card& card : index.AllCards(At(kT))) {
        EXPECT_NE(card.values.payments.value_or(0), 1) << "nobody owns these deals";
    }
    EXPECT_EQ(CardOf(p, CompanyCard(1)).lifecycle, Lifecycle::kNoContacts);
}

TEST(Owner, InvoiceOfADealBoundToAnotherCompany) {
    PortalData p;
    p.companies = {ClientCompany(1), ClientCompany(2)};
    p.deals = {WonDeal(10, 2, {}, "2024-05-01T10:00:00+03:00")};
    p.invoices = {PaidInvoice(100, 1, 10, "2024-05-02T10:00:00+03:00")};
    // The invoice is company 1's payment; deal 10 has a paid invoice, so it is no payment at all,
    // and for company 2 it is a request.
    const CardValues one = CardOf(p, CompanyCard(1));
    EXPECT_EQ(one.payments, 1);
    EXPECT_EQ(one.last_payment, At("2024-05-02T10:00:00+03:00"));
    const CardValues two = CardOf(p, CompanyCard(2));
    EXPECT_EQ(two.payments, 0);
    EXPECT_EQ(two.lifecycle, Lifecycle::kRequests);
}

TEST(Owner, OwnerlessPaidInvoiceDoesNotReplaceItsDeal) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.deals = {WonDeal(10, 1, {}, "2024-05-01T10:00:00+03:00")};
    p.invoices = {PaidInvoice(100, 0, 10, "2024-05-02T10:00:00+03:00")};  // no company, no contact
    const CardValues v = CardOf(p, CompanyCard(1));
    EXPECT_EQ(v.payments, 1);
    EXPECT_EQ(v.last_payment, At("2024-05-01T10:00:00+03:00"));
}

TEST(Owner, InvoiceOfAMissingDealStandsAlone) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.invoices = {PaidInvoice(100, 1, 999, "2024-05-02T10:00:00+03:00")};
    EXPECT_EQ(CardOf(p, CompanyCard(1)).payments, 1);
}

// ---------------------------------------------------------------------------------------------
// §1 clients and members.

struct MembershipCase {
    const char* name;
    std::int64_t company_id;
    std::vector<std::int64_t> company_ids;
    std::int64_t expected_parent;  // 0 = B2C client
};

void PrintTo(const MembershipCase& row, std::ostream* out) {
    *out << row.name;
}

class Membership : public ::testing::TestWithParam<MembershipCase> {};

TEST_P(Membership, PrimaryClientCompany) {
    const MembershipCase& c = GetParam();
    PortalData p;
    p.companies = {ClientCompany(1), ClientCompany(2), MyCompany(3)};
    p.contacts = {Person(5, c.company_id, c.company_ids)};
    const CardValues v = CardOf(p, ContactCard(5));
    EXPECT_EQ(v.parent_company, c.expected_parent);
    EXPECT_EQ(v.role, c.expected_parent != 0 ? Role::kMember : Role::kClient);
    EXPECT_EQ(v.client_type, c.expected_parent != 0 ? ClientType::kB2B : ClientType::kB2C);
    if (c.expected_parent != 0) {
        EXPECT_EQ(PortalIndex::Build(p).Detail(CompanyCard(c.expected_parent), At(kT))->members,
                  std::vector<std::int64_t>{5});
    }
}

INSTANTIATE_TEST_SUITE_P(
    Links,
    Membership,
    ::testing::Values(MembershipCase{"no_company", 0, {}, 0},
                      MembershipCase{"company_id", 1, {1}, 1},
                      MembershipCase{"company_id_wins_over_links", 1, {2, 1}, 1},
                      MembershipCase{"links_in_portal_order", 0, {2, 1}, 2},
                      MembershipCase{"own_company_only", 3, {3}, 0},
                      MembershipCase{"own_company_primary_then_client", 3, {3, 2}, 2},
                      MembershipCase{"deleted_company_skipped", 0, {42, 1}, 1},
                      MembershipCase{"deleted_primary_then_client", 42, {42, 2}, 2},
                      MembershipCase{"only_deleted_links", 42, {42, 43}, 0}),
    CaseName);

TEST(Clients, OwnCompanyCardIsEmpty) {
    PortalData p;
    p.companies = {MyCompany(3)};
    p.contacts = {Person(5, 3)};
    p.activities = {Dialog(1, {OnCompany(3)})};
    const CardValues v = CardOf(p, CompanyCard(3));
    EXPECT_EQ(v, CardValues{});
    EXPECT_EQ(v.role, Role::kNotClient);
    EXPECT_FALSE(v.lifecycle || v.client_type || v.frequency || v.payments || v.has_dialogs ||
                 v.has_channels || v.last_payment);
    EXPECT_EQ(CardOf(p, ContactCard(5)).role, Role::kClient);
}

TEST(Clients, MissingCardIsNotInTheIndex) {
    const PortalIndex index = PortalIndex::Build({});
    EXPECT_FALSE(index.Card(CompanyCard(1), At(kT)));
    EXPECT_FALSE(index.Detail(ContactCard(1), At(kT)));
}

// ---------------------------------------------------------------------------------------------
// §3-4 clients without payments: REQUESTS > DIALOGS > CONTACTS > NO_CONTACTS.

TEST(NoPayments, RequestsWinOverDialogs) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.deals = {OpenDeal(10, 1, {})};
    p.activities = {Dialog(1, {OnCompany(1)})};
    const CardValues v = CardOf(p, CompanyCard(1));
    EXPECT_EQ(v.lifecycle, Lifecycle::kRequests);
    EXPECT_EQ(v.frequency, Frequency::kNone);
    EXPECT_EQ(v.payments, 0);
    EXPECT_EQ(v.has_dialogs, true);
}

TEST(NoPayments, FailedDealsAndUnpaidInvoicesAreRequests) {
    PortalData p;
    p.companies = {ClientCompany(1), ClientCompany(2)};
    Deal failed = OpenDeal(10, 1, {});
    failed.stage = StageSemantic::kFailed;
    Invoice unpaid = PaidInvoice(100, 2, 0, "2024-01-01");
    unpaid.paid = false;
    p.deals = {failed};
    p.invoices = {unpaid};
    EXPECT_EQ(CardOf(p, CompanyCard(1)).lifecycle, Lifecycle::kRequests);
    EXPECT_EQ(CardOf(p, CompanyCard(2)).lifecycle, Lifecycle::kRequests);
}

TEST(NoPayments, RequestCreatedAfterTDoesNotCount) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.deals = {OpenDeal(10, 1, {}, "2024-06-15T12:00:01+03:00")};
    EXPECT_EQ(CardOf(p, CompanyCard(1)).lifecycle, Lifecycle::kNoContacts);
    EXPECT_EQ(CardOf(p, CompanyCard(1), "2024-06-15T12:00:01+03:00").lifecycle,
              Lifecycle::kRequests);
}

TEST(NoPayments, DialogsOfTheCompanyOrOfAMember) {
    PortalData p;
    p.companies = {ClientCompany(1), ClientCompany(2)};
    p.contacts = {Person(5, 2), Person(6, 2)};
    p.activities = {Dialog(1, {OnCompany(1)}), Dialog(2, {OnContact(5)})};
    EXPECT_EQ(CardOf(p, CompanyCard(1)).lifecycle, Lifecycle::kDialogs);
    const CardValues two = CardOf(p, CompanyCard(2));
    EXPECT_EQ(two.lifecycle, Lifecycle::kDialogs);
    EXPECT_EQ(two.has_dialogs, true);
    // On member cards: the company's lifecycle, but the contact's own dialogs.
    const CardValues five = CardOf(p, ContactCard(5));
    EXPECT_EQ(five.lifecycle, Lifecycle::kDialogs);
    EXPECT_EQ(five.has_dialogs, true);
    const CardValues six = CardOf(p, ContactCard(6));
    EXPECT_EQ(six.lifecycle, Lifecycle::kDialogs);
    EXPECT_EQ(six.has_dialogs, false);
}

TEST(NoPayments, CompanyDialogIsNotTheMembersOwn) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.contacts = {Person(5, 1)};
    p.activities = {Dialog(1, {OnCompany(1)})};
    EXPECT_EQ(CardOf(p, CompanyCard(1)).has_dialogs, true);
    EXPECT_EQ(CardOf(p, ContactCard(5)).has_dialogs, false);
}

TEST(NoPayments, DialogsCountOnlyUpToTAndOnlyForContactsAndCompanies) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.activities = {Dialog(1, {OnCompany(1)}, "2024-06-15T12:00:01+03:00"),
                    Dialog(2, {{kEntityTypeDeal, 1}, {1, 1}, {7, 1}})};
    const CardValues v = CardOf(p, CompanyCard(1));
    EXPECT_EQ(v.lifecycle, Lifecycle::kNoContacts);
    EXPECT_EQ(v.has_dialogs, false);
    EXPECT_EQ(CardOf(p, CompanyCard(1), "2024-06-15T12:00:01+03:00").has_dialogs, true);
}

TEST(NoPayments, ActivityOnADeletedContactIsIgnored) {
    PortalData p;
    p.contacts = {Person(5)};
    p.activities = {Dialog(1, {OnContact(6)})};
    EXPECT_EQ(CardOf(p, ContactCard(5)).lifecycle, Lifecycle::kNoContacts);
}

struct ChannelCase {
    const char* name;
    std::uint8_t flags;
    bool requisite;
    bool expected;
};

void PrintTo(const ChannelCase& row, std::ostream* out) {
    *out << row.name;
}

class Channels : public ::testing::TestWithParam<ChannelCase> {};

TEST_P(Channels, ChannelDataMakesContacts) {
    const ChannelCase& c = GetParam();
    PortalData p;
    Contact person = Person(5);
    person.channels = c.flags;
    Company company = ClientCompany(1);
    company.channels = c.flags;
    p.contacts = {person};
    p.companies = {company};
    if (c.requisite) {
        p.requisites = {{1, kEntityTypeContact, 5}, {2, kEntityTypeCompany, 1}};
    }
    const Lifecycle expected = c.expected ? Lifecycle::kContacts : Lifecycle::kNoContacts;
    for (const CardRef card : {ContactCard(5), CompanyCard(1)}) {
        const CardValues v = CardOf(p, card);
        EXPECT_EQ(v.lifecycle, expected);
        EXPECT_EQ(v.has_channels, c.expected);
        EXPECT_EQ(v.has_dialogs, false);
    }
}

INSTANTIATE_TEST_SUITE_P(Kinds,
                         Channels,
                         ::testing::Values(ChannelCase{"none", 0, false, false},
                                           ChannelCase{"phone", kChannelPhone, false, true},
                                           ChannelCase{"email", kChannelEmail, false, true},
                                           ChannelCase{"open_line", kChannelImol, false, true},
                                           ChannelCase{"web", kChannelWeb, false, true},
                                           ChannelCase{"messenger", kChannelIm, false, true},
                                           ChannelCase{"requisite", 0, true, true}),
                         CaseName);

TEST(NoPayments, CompanyWithOnlyMembersHasChannels) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    p.contacts = {Person(5, 1)};
    const CardValues company = CardOf(p, CompanyCard(1));
    EXPECT_EQ(company.lifecycle, Lifecycle::kContacts);
    EXPECT_EQ(company.has_channels, true);
    // The member has no channel data of its own.
    EXPECT_EQ(CardOf(p, ContactCard(5)).has_channels, false);
    EXPECT_EQ(CardOf(p, ContactCard(5)).lifecycle, Lifecycle::kContacts);
}

TEST(NoPayments, MemberChannelsAreItsOwn) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    Contact with_phone = Person(5, 1);
    with_phone.channels = kChannelPhone;
    p.contacts = {with_phone, Person(6, 1), Person(7, 1)};
    p.requisites = {{1, kEntityTypeContact, 7}, {2, 8, 6}};  // type 8 is not a contact
    EXPECT_EQ(CardOf(p, ContactCard(5)).has_channels, true);
    EXPECT_EQ(CardOf(p, ContactCard(6)).has_channels, false);
    EXPECT_EQ(CardOf(p, ContactCard(7)).has_channels, true);
    const auto detail = PortalIndex::Build(p).Detail(CompanyCard(1), At(kT));
    ASSERT_TRUE(detail);
    EXPECT_EQ(detail->channels, kChannelKindPhone | kChannelKindRequisites | kChannelKindMembers);
}

TEST(NoPayments, RequestsAndDialogsButNoPaymentsIsRequests) {
    PortalData p;
    p.contacts = {Person(5)};
    p.contacts[0].channels = kChannelEmail;
    p.deals = {OpenDeal(10, 0, {5})};
    p.activities = {Dialog(1, {OnContact(5)})};
    const CardValues v = CardOf(p, ContactCard(5));
    EXPECT_EQ(v.lifecycle, Lifecycle::kRequests);
    EXPECT_EQ(v.frequency, Frequency::kNone);
    EXPECT_EQ(v.has_dialogs, true);
    EXPECT_EQ(v.has_channels, true);
}

TEST(NoPayments, PaymentsOverrideRequestsAndDialogs) {
    PortalData p;
    p.contacts = {Person(5)};
    p.deals = {OpenDeal(10, 0, {5}), WonDeal(11, 0, {5}, "2010-01-01T00:00:00+03:00")};
    p.activities = {Dialog(1, {OnContact(5)})};
    EXPECT_EQ(CardOf(p, ContactCard(5)).lifecycle, Lifecycle::kLost);
}

// ---------------------------------------------------------------------------------------------
// §4 frequency and §5 the eight fields per kind of card.

TEST(Frequency, ByNumberOfPayments) {
    for (int n = 0; n <= 4; ++n) {
        PortalData p;
        p.companies = {ClientCompany(1)};
        for (int i = 0; i < n; ++i) {
            p.deals.push_back(WonDeal(10 + i, 1, {}, "2024-01-01T00:00:00+03:00"));
        }
        const CardValues v = CardOf(p, CompanyCard(1));
        EXPECT_EQ(v.payments, n);
        EXPECT_EQ(v.frequency,
                  n >= 2 ? Frequency::kRegular : (n == 1 ? Frequency::kFirst : Frequency::kNone));
    }
}

TEST(Fields, AllPerKindOfCard) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    Contact member = Person(5, 1);
    member.channels = kChannelPhone;
    p.contacts = {member, Person(6)};
    p.deals = {WonDeal(10, 1, {}, "2024-05-01T10:00:00+03:00"),
               WonDeal(11, 1, {}, "2024-04-01T10:00:00+03:00"),
               WonDeal(12, 0, {6}, "2023-01-01T10:00:00+03:00")};
    p.activities = {Dialog(1, {OnContact(6)})};

    CardValues company;
    company.role = Role::kClient;
    company.lifecycle = Lifecycle::kActive;
    company.client_type = ClientType::kB2B;
    company.frequency = Frequency::kRegular;
    company.last_payment = At("2024-05-01T10:00:00+03:00");
    company.payments = 2;
    company.has_dialogs = false;
    company.has_channels = true;  // it has a member
    company.turnover = 0;         // no amounts: turnover 0, in no tier
    EXPECT_EQ(CardOf(p, CompanyCard(1)), company);

    CardValues member_card = company;
    member_card.role = Role::kMember;
    member_card.parent_company = 1;
    member_card.has_dialogs = false;
    member_card.has_channels = true;  // its own phone
    EXPECT_EQ(CardOf(p, ContactCard(5)), member_card);

    CardValues b2c;
    b2c.role = Role::kClient;
    b2c.lifecycle = Lifecycle::kSleeping;
    b2c.client_type = ClientType::kB2C;
    b2c.frequency = Frequency::kFirst;
    b2c.last_payment = At("2023-01-01T10:00:00+03:00");
    b2c.payments = 1;
    b2c.has_dialogs = true;
    b2c.has_channels = false;
    b2c.turnover = 0;
    EXPECT_EQ(CardOf(p, ContactCard(6)), b2c);
}

TEST(Fields, AllCardsMatchesCardForEveryCard) {
    PortalData p;
    p.companies = {ClientCompany(1), MyCompany(2)};
    p.contacts = {Person(5, 1), Person(6), Person(7, 2)};
    p.deals = {WonDeal(10, 1, {}, "2024-05-01T10:00:00+03:00")};
    const PortalIndex index = PortalIndex::Build(p);
    const auto cards = index.AllCards(At(kT));
    ASSERT_EQ(cards.size(), 5U);
    EXPECT_EQ(cards.front().ref, ContactCard(5));  // contacts first, then companies, by id
    EXPECT_EQ(cards.back().ref, CompanyCard(2));
    for (const Card& card : cards) {
        EXPECT_EQ(index.Card(card.ref, At(kT)), card.values);
    }
    EXPECT_EQ(cards, ReferenceCards(p, At(kT), {}));
}

// ---------------------------------------------------------------------------------------------
// The card tab.

TEST(Detail, MemberShowsTheCompanysPaymentsAndItsOwnDialogs) {
    PortalData p;
    p.companies = {ClientCompany(1)};
    Contact member = Person(5, 1);
    member.channels = kChannelEmail | kChannelWeb;
    p.contacts = {member, Person(6, 1)};
    p.deals = {WonDeal(10, 0, {6}, "2024-05-01T10:00:00+03:00"),
               WonDeal(11, 1, {}, "2024-07-01T10:00:00+03:00")};  // after T
    p.activities = {Dialog(1, {OnContact(5), OnCompany(1)}, "2024-01-01T10:00:00+03:00"),
                    Dialog(2, {OnContact(5)}, "2024-02-01T10:00:00+03:00"),
                    Dialog(3, {OnContact(5)}, "2024-07-01T10:00:00+03:00"),  // after T
                    Dialog(4, {OnContact(6)}, "2024-03-01T10:00:00+03:00")};
    const PortalIndex index = PortalIndex::Build(p);

    const auto five = index.Detail(ContactCard(5), At(kT));
    ASSERT_TRUE(five);
    EXPECT_EQ(five->client, CompanyCard(1));
    ASSERT_EQ(five->payments.size(), 1U);
    EXPECT_EQ(five->payments[0],
              (PaymentInfo{At("2024-05-01T10:00:00+03:00"), PaymentSource::kDeal, 10, 0, "", 0}));
    EXPECT_EQ(five->dialog_count, 2);
    EXPECT_EQ(five->last_dialog, At("2024-02-01T10:00:00+03:00"));
    EXPECT_EQ(five->channels, kChannelKindEmail | kChannelKindWeb);
    EXPECT_TRUE(five->members.empty());

    const auto company = index.Detail(CompanyCard(1), At(kT));
    ASSERT_TRUE(company);
    EXPECT_EQ(company->client, CompanyCard(1));
    EXPECT_EQ(company->dialog_count, 3);  // activity 1 is bound twice but counted once
    EXPECT_EQ(company->last_dialog, At("2024-03-01T10:00:00+03:00"));
    EXPECT_EQ(company->members, (std::vector<std::int64_t>{5, 6}));
    EXPECT_EQ(company->channels, kChannelKindEmail | kChannelKindWeb | kChannelKindMembers);
    EXPECT_EQ(company->values, *index.Card(CompanyCard(1), At(kT)));

    // Later, the later payment and dialog are there too.
    const auto later = index.Detail(ContactCard(5), At("2024-08-01T00:00:00+03:00"));
    EXPECT_EQ(later->payments.size(), 2U);
    EXPECT_EQ(later->dialog_count, 3);
}

TEST(Detail, OwnCompanyHasNoClient) {
    PortalData p;
    p.companies = {MyCompany(2)};
    const auto detail = PortalIndex::Build(p).Detail(CompanyCard(2), At(kT));
    ASSERT_TRUE(detail);
    EXPECT_EQ(detail->values.role, Role::kNotClient);
    EXPECT_FALSE(detail->client);
    EXPECT_TRUE(detail->payments.empty());
}

// ---------------------------------------------------------------------------------------------
// Bad data never breaks anything.

TEST(BadData, InvalidIdsAndSelfReferencesAreHarmless) {
    PortalData p;
    p.companies = {ClientCompany(1), {.id = 0}, {.id = -4}};
    p.contacts = {Person(5, -1, {0, -3, 1, 1, 1}), {.id = 0}};
    p.deals = {WonDeal(10, -1, {0, 0, 5, 5}, "2024-01-01T00:00:00+03:00"), {.id = -10}};
    p.invoices = {{.id = 0, .paid = true}};
    p.activities = {Dialog(1, {OnContact(5), OnContact(5), OnCompany(0)}), {.id = 0}};
    p.requisites = {{0, kEntityTypeCompany, 1}, {3, kEntityTypeCompany, -1}};
    const PortalIndex index = PortalIndex::Build(p);
    EXPECT_EQ(index.counts().companies, 1U);
    EXPECT_EQ(index.counts().contacts, 1U);
    EXPECT_EQ(index.counts().deals, 1U);
    EXPECT_EQ(index.counts().invoices, 0U);
    // (The reference model assumes valid ids, so only the index is asked here.)
    EXPECT_EQ(index.Card(CompanyCard(1), At(kT))->payments, 1);
    EXPECT_EQ(index.Card(ContactCard(5), At(kT))->parent_company, 1);
    EXPECT_EQ(index.Card(ContactCard(5), At(kT))->has_dialogs, true);
    EXPECT_EQ(index.Card(ContactCard(5), At(kT))->has_channels, false);
    EXPECT_EQ(index.Card(CompanyCard(1), At(kT))->has_dialogs, true);  // through its member
    EXPECT_EQ(index.Detail(ContactCard(5), At(kT))->dialog_count, 1);
}

TEST(BadData, LaterDuplicateRowReplacesEarlier) {
    PortalData p;
    p.companies = {ClientCompany(1), MyCompany(1)};
    EXPECT_EQ(PortalIndex::Build(p).Card(CompanyCard(1), At(kT))->role, Role::kNotClient);
}

}  // namespace
}  // namespace segtest
