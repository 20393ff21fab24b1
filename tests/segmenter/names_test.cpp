// Names shared with the portal's fields (XML_ID) and the server's API, and drill-down membership.

#include <gtest/gtest.h>

#include "segmenter/segmenter.hpp"

namespace segtest {
namespace {

using namespace segmenter;

TEST(Names, XmlIdsAreThoseOfSegmentsMd) {
    EXPECT_EQ(XmlId(Lifecycle::kActive), "ACTIVE");
    EXPECT_EQ(XmlId(Lifecycle::kSleeping), "SLEEPING");
    EXPECT_EQ(XmlId(Lifecycle::kLost), "LOST");
    EXPECT_EQ(XmlId(Lifecycle::kRequests), "REQUESTS");
    EXPECT_EQ(XmlId(Lifecycle::kDialogs), "DIALOGS");
    EXPECT_EQ(XmlId(Lifecycle::kContacts), "CONTACTS");
    EXPECT_EQ(XmlId(Lifecycle::kNoContacts), "NO_CONTACTS");
    EXPECT_EQ(XmlId(Frequency::kRegular), "REGULAR");
    EXPECT_EQ(XmlId(Frequency::kFirst), "FIRST");
    EXPECT_EQ(XmlId(Frequency::kNone), "NONE");
    EXPECT_EQ(XmlId(ClientType::kB2B), "B2B");
    EXPECT_EQ(XmlId(ClientType::kB2C), "B2C");
}

TEST(Names, XmlIdsRoundTrip) {
    for (int i = 0; i < 7; ++i) {
        const auto l = static_cast<Lifecycle>(i);
        EXPECT_EQ(LifecycleFromXmlId(XmlId(l)), l);
    }
    for (int i = 0; i < 3; ++i) {
        const auto f = static_cast<Frequency>(i);
        EXPECT_EQ(FrequencyFromXmlId(XmlId(f)), f);
    }
    EXPECT_EQ(ClientTypeFromXmlId("B2C"), ClientType::kB2C);
    EXPECT_FALSE(LifecycleFromXmlId("active"));
    EXPECT_FALSE(FrequencyFromXmlId(""));
    EXPECT_FALSE(ClientTypeFromXmlId("B2G"));
}

TEST(Names, SeriesIdsFollowTheApiOrder) {
    const char* expected[kSeriesCount][2] = {
        {"directories", "contacts"}, {"directories", "companies"}, {"clients", "all"},
        {"clients", "b2b"},          {"clients", "b2c"},           {"payments", "active"},
        {"payments", "sleeping"},    {"payments", "lost"},         {"frequency", "regular"},
        {"frequency", "first"},      {"frequency", "none"},        {"no_payments", "requests"},
        {"no_payments", "dialogs"},  {"no_payments", "contacts"},  {"no_payments", "no_contacts"}};
    for (std::size_t i = 0; i < kSeriesCount; ++i) {
        const auto s = static_cast<Series>(i);
        EXPECT_EQ(ModeId(s), expected[i][0]);
        EXPECT_EQ(SeriesId(s), expected[i][1]);
        EXPECT_EQ(SeriesFromIds(expected[i][0], expected[i][1]), s);
    }
    EXPECT_FALSE(SeriesFromIds("payments", "contacts"));
    EXPECT_FALSE(SeriesFromIds("", ""));
}

CardValues Client(ClientType type, Lifecycle lifecycle, Frequency frequency) {
    CardValues v;
    v.role = Role::kClient;
    v.client_type = type;
    v.lifecycle = lifecycle;
    v.frequency = frequency;
    v.payments = 0;
    v.has_dialogs = false;
    v.has_channels = false;
    return v;
}

TEST(Names, InSeriesListsClientsByTodaysValues) {
    const CardValues b2b = Client(ClientType::kB2B, Lifecycle::kSleeping, Frequency::kRegular);
    EXPECT_TRUE(InSeries(Series::kAllClients, CardKind::kCompany, b2b));
    EXPECT_TRUE(InSeries(Series::kB2B, CardKind::kCompany, b2b));
    EXPECT_FALSE(InSeries(Series::kB2C, CardKind::kCompany, b2b));
    EXPECT_TRUE(InSeries(Series::kSleeping, CardKind::kCompany, b2b));
    EXPECT_FALSE(InSeries(Series::kActive, CardKind::kCompany, b2b));
    EXPECT_TRUE(InSeries(Series::kRegular, CardKind::kCompany, b2b));
    EXPECT_TRUE(InSeries(Series::kCompanies, CardKind::kCompany, b2b));
    EXPECT_FALSE(InSeries(Series::kContacts, CardKind::kCompany, b2b));

    const CardValues b2c = Client(ClientType::kB2C, Lifecycle::kContacts, Frequency::kNone);
    EXPECT_TRUE(InSeries(Series::kB2C, CardKind::kContact, b2c));
    EXPECT_TRUE(InSeries(Series::kWithContacts, CardKind::kContact, b2c));
    EXPECT_TRUE(InSeries(Series::kNone, CardKind::kContact, b2c));
    EXPECT_TRUE(InSeries(Series::kContacts, CardKind::kContact, b2c));
    EXPECT_FALSE(InSeries(Series::kNoContacts, CardKind::kContact, b2c));

    // A member carries its company's values but is listed only among the contacts.
    CardValues member = b2b;
    member.role = Role::kMember;
    member.parent_company = 7;
    EXPECT_TRUE(InSeries(Series::kContacts, CardKind::kContact, member));
    for (std::size_t i = 2; i < kSeriesCount; ++i) {
        EXPECT_FALSE(InSeries(static_cast<Series>(i), CardKind::kContact, member)) << i;
    }

    // The portal's own company is in no list.
    for (std::size_t i = 0; i < kSeriesCount; ++i) {
        EXPECT_FALSE(InSeries(static_cast<Series>(i), CardKind::kCompany, CardValues{})) << i;
    }
}

}  // namespace
}  // namespace segtest
