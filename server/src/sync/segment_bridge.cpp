#include "sync/segment_bridge.hpp"

namespace server::sync {

namespace {

std::optional<segmenter::Instant> Parse(const std::string& text, std::int32_t offset) {
    if (text.empty()) {
        return std::nullopt;
    }
    return segmenter::ParseInstant(text, offset);
}

std::uint8_t Channels(int bits) {
    std::uint8_t out = 0;
    if ((bits & kChannelPhone) != 0) {
        out |= segmenter::kChannelPhone;
    }
    if ((bits & kChannelEmail) != 0) {
        out |= segmenter::kChannelEmail;
    }
    if ((bits & kChannelOpenLine) != 0) {
        out |= segmenter::kChannelImol;
    }
    if ((bits & kChannelWeb) != 0) {
        out |= segmenter::kChannelWeb;
    }
    if ((bits & kChannelMessenger) != 0) {
        out |= segmenter::kChannelIm;
    }
    return out;
}

segmenter::StageSemantic Semantic(const std::string& s) {
    if (s == "S") {
        return segmenter::StageSemantic::kWon;
    }
    if (s == "F") {
        return segmenter::StageSemantic::kFailed;
    }
    return segmenter::StageSemantic::kInProgress;
}

}  // namespace

segmenter::PortalData LoadPortalData(PortalDb& db, std::int32_t offset) {
    segmenter::PortalData data;
    data.contacts.reserve(static_cast<std::size_t>(db.Count("contact")));
    db.ForEach([&](const ContactRow& r) {
        auto created = Parse(r.created, offset);
        if (!created) {
            return;
        }
        data.contacts.push_back(
            {r.id, *created, r.company_id, r.company_ids, Channels(r.channels)});
    });
    db.ForEach([&](const CompanyRow& r) {
        auto created = Parse(r.created, offset);
        if (!created) {
            return;
        }
        data.companies.push_back({r.id, *created, r.is_my, Channels(r.channels)});
    });
    data.deals.reserve(static_cast<std::size_t>(db.Count("deal")));
    db.ForEach([&](const DealRow& r) {
        auto created = Parse(r.created, offset);
        if (!created) {
            return;
        }
        data.deals.push_back({r.id, *created, r.company_id, r.contact_ids, Semantic(r.semantic),
                              Parse(r.moved, offset), Parse(r.closedate, offset)});
    });
    std::map<std::string, std::string> stages = db.InvoiceStages();
    db.ForEach([&](const InvoiceRow& r) {
        auto created = Parse(r.created, offset);
        if (!created) {
            return;
        }
        auto st = stages.find(r.stage_id);
        bool paid = st != stages.end() && st->second == "S";
        segmenter::Invoice inv;
        inv.id = r.id;
        inv.legacy = false;
        inv.created = *created;
        inv.company_id = r.company_id;
        inv.contact_ids = r.contact_ids;
        inv.deal_id = r.deal_id;
        inv.paid = paid;
        inv.paid_time = Parse(r.moved, offset);
        data.invoices.push_back(std::move(inv));
    });
    db.ForEach([&](const OldInvoiceRow& r) {
        auto created = Parse(r.created, offset);
        if (!created) {
            return;
        }
        segmenter::Invoice inv;
        inv.id = r.id;
        inv.legacy = true;
        inv.created = *created;
        inv.company_id = r.company_id;
        if (r.contact_id > 0) {
            inv.contact_ids = {r.contact_id};
        }
        inv.deal_id = r.deal_id;
        inv.paid = r.paid;
        inv.paid_time = Parse(r.paid_at, offset);
        data.invoices.push_back(std::move(inv));
    });
    data.activities.reserve(static_cast<std::size_t>(db.Count("activity")));
    db.ForEach([&](const ActivityRow& r) {
        auto created = Parse(r.created, offset);
        if (!created) {
            return;
        }
        segmenter::Activity a;
        a.id = r.id;
        a.created = *created;
        a.bindings.reserve(r.bindings.size());
        for (const auto& b : r.bindings) {
            a.bindings.push_back({b.type, b.id});
        }
        data.activities.push_back(std::move(a));
    });
    db.ForEach([&](const RequisiteRow& r) {
        data.requisites.push_back({r.id, r.entity_type, r.entity_id});
    });
    return data;
}

CardValues ToStored(const segmenter::CardValues& v) {
    CardValues c;
    if (v.parent_company > 0) {
        c.parent_company = v.parent_company;
    }
    if (v.lifecycle) {
        c.lifecycle = std::string(segmenter::XmlId(*v.lifecycle));
    }
    if (v.client_type) {
        c.client_type = std::string(segmenter::XmlId(*v.client_type));
    }
    if (v.frequency) {
        c.frequency = std::string(segmenter::XmlId(*v.frequency));
    }
    if (v.last_payment) {
        c.last_payment = segmenter::FormatInstant(*v.last_payment).substr(0, 10);
    }
    c.payments = v.payments;
    c.has_dialogs = v.has_dialogs;
    c.has_channels = v.has_channels;
    return c;
}

CardKey ToKey(segmenter::CardRef ref) {
    return {ref.kind == segmenter::CardKind::kContact ? CardKind::kContact : CardKind::kCompany,
            ref.id};
}

segmenter::CardRef ToRef(CardKey key) {
    return {key.kind == CardKind::kContact ? segmenter::CardKind::kContact
                                           : segmenter::CardKind::kCompany,
            key.id};
}

SeriesTable ToTable(const segmenter::MonthlySeries& series) {
    SeriesTable table;
    for (std::size_t m = 0; m < series.month_count; ++m) {
        auto& row = table[segmenter::FormatYearMonth(series.Month(m))];
        for (std::size_t s = 0; s < segmenter::kSeriesCount; ++s) {
            auto which = static_cast<segmenter::Series>(s);
            row[std::string(segmenter::ModeId(which)) + "." +
                std::string(segmenter::SeriesId(which))] = series.values[s][m];
        }
    }
    return table;
}

SeriesTable MergeSeries(const SeriesTable& current, const SeriesTable& recorded) {
    SeriesTable out = current;
    for (const auto& [month, values] : recorded) {
        // Recorded months win, also those before today's first month (records deleted since).
        for (const auto& [series, value] : values) {
            out[month][series] = value;
        }
    }
    return out;
}

}  // namespace server::sync
