#include <algorithm>
#include <array>
#include <string_view>

#include "segmenter/results.hpp"

namespace segmenter {

namespace {

constexpr std::array<std::string_view, 7> kLifecycleIds = {
    "ACTIVE", "SLEEPING", "LOST", "REQUESTS", "DIALOGS", "CONTACTS", "NO_CONTACTS"};
constexpr std::array<std::string_view, 3> kFrequencyIds = {"REGULAR", "FIRST", "NONE"};
constexpr std::array<std::string_view, 2> kClientTypeIds = {"B2B", "B2C"};

struct SeriesName {
    std::string_view mode;
    std::string_view series;
};

constexpr std::array<SeriesName, kSeriesCount> kSeriesNames = {{
    {"directories", "contacts"},
    {"directories", "companies"},
    {"clients", "all"},
    {"clients", "b2b"},
    {"clients", "b2c"},
    {"payments", "active"},
    {"payments", "sleeping"},
    {"payments", "lost"},
    {"frequency", "regular"},
    {"frequency", "first"},
    {"frequency", "none"},
    {"no_payments", "requests"},
    {"no_payments", "dialogs"},
    {"no_payments", "contacts"},
    {"no_payments", "no_contacts"},
}};

template <class Enum, std::size_t N>
std::optional<Enum> FindId(const std::array<std::string_view, N>& ids, std::string_view xml_id) {
    for (std::size_t i = 0; i < N; ++i) {
        if (ids[i] == xml_id) {
            return static_cast<Enum>(i);
        }
    }
    return std::nullopt;
}

}  // namespace

YearMonth MonthlySeries::Month(std::size_t i) const {
    return FromMonthIndex(MonthIndex(first_month) + static_cast<std::int32_t>(i));
}

std::string_view XmlId(Lifecycle lifecycle) {
    return kLifecycleIds[static_cast<std::size_t>(lifecycle)];
}

std::string_view XmlId(Frequency frequency) {
    return kFrequencyIds[static_cast<std::size_t>(frequency)];
}

std::string_view XmlId(ClientType client_type) {
    return kClientTypeIds[static_cast<std::size_t>(client_type)];
}

std::optional<Lifecycle> LifecycleFromXmlId(std::string_view xml_id) {
    return FindId<Lifecycle>(kLifecycleIds, xml_id);
}

std::optional<Frequency> FrequencyFromXmlId(std::string_view xml_id) {
    return FindId<Frequency>(kFrequencyIds, xml_id);
}

std::optional<ClientType> ClientTypeFromXmlId(std::string_view xml_id) {
    return FindId<ClientType>(kClientTypeIds, xml_id);
}

std::string_view ModeId(Series series) {
    return kSeriesNames[SeriesIndex(series)].mode;
}

std::string_view SeriesId(Series series) {
    return kSeriesNames[SeriesIndex(series)].series;
}

std::optional<Series> SeriesFromIds(std::string_view mode_id, std::string_view series_id) {
    for (std::size_t i = 0; i < kSeriesCount; ++i) {
        if (kSeriesNames[i].mode == mode_id && kSeriesNames[i].series == series_id) {
            return static_cast<Series>(i);
        }
    }
    return std::nullopt;
}

bool InSeries(Series series, CardKind kind, const CardValues& values) {
    const bool client = values.role == Role::kClient;
    const auto lifecycle_is = [&](Lifecycle l) { return client && values.lifecycle == l; };
    const auto frequency_is = [&](Frequency f) { return client && values.frequency == f; };
    switch (series) {
        case Series::kContacts:
            return kind == CardKind::kContact;
        case Series::kCompanies:
            return kind == CardKind::kCompany && values.role != Role::kNotClient;
        case Series::kAllClients:
            return client;
        case Series::kB2B:
            return client && values.client_type == ClientType::kB2B;
        case Series::kB2C:
            return client && values.client_type == ClientType::kB2C;
        case Series::kActive:
            return lifecycle_is(Lifecycle::kActive);
        case Series::kSleeping:
            return lifecycle_is(Lifecycle::kSleeping);
        case Series::kLost:
            return lifecycle_is(Lifecycle::kLost);
        case Series::kRegular:
            return frequency_is(Frequency::kRegular);
        case Series::kFirst:
            return frequency_is(Frequency::kFirst);
        case Series::kNone:
            return frequency_is(Frequency::kNone);
        case Series::kRequests:
            return lifecycle_is(Lifecycle::kRequests);
        case Series::kDialogs:
            return lifecycle_is(Lifecycle::kDialogs);
        case Series::kWithContacts:
            return lifecycle_is(Lifecycle::kContacts);
        case Series::kNoContacts:
            return lifecycle_is(Lifecycle::kNoContacts);
    }
    return false;
}

bool InTier(const CardValues& values, std::string_view tier) {
    if (values.role != Role::kClient) {
        return false;
    }
    return values.tier ? *values.tier == tier : tier.empty();
}

bool InRuleSegment(const CardValues& values, std::string_view code) {
    return values.role == Role::kClient &&
           std::find(values.rule_segments.begin(), values.rule_segments.end(), code) !=
               values.rule_segments.end();
}

}  // namespace segmenter
