#pragma once
// Between the stored rows and the segmenter: builds the segmenter's input from a PortalDb and
// turns its answers into what the server stores and serves.

#include <cstdint>
#include <map>
#include <string>

#include "portal_db.hpp"
#include "segmenter/segmenter.hpp"

namespace server::sync {

// Every stored row as segmenter input. Dates are parsed from the portal's strings; a date without
// an offset (date-only fields) takes `default_offset` (the portal's, in seconds). Rows whose
// creation date cannot be parsed are skipped. New invoices are paid when their stage's semantics
// is S (invoice_stage table), old ones when PAYED = Y.
segmenter::PortalData LoadPortalData(PortalDb& db, std::int32_t default_offset);

// Segmenter values -> stored card values (XML_IDs, local date of L).
CardValues ToStored(const segmenter::CardValues& values);
CardKey ToKey(segmenter::CardRef ref);
segmenter::CardRef ToRef(CardKey key);

// month "YYYY-MM" -> "<mode>.<series>" -> value.
using SeriesTable = std::map<std::string, std::map<std::string, std::int64_t>>;
SeriesTable ToTable(const segmenter::MonthlySeries& series);

// The table to show: today's computation with recorded months overriding it (SEGMENTS.md §6).
// Months may have gaps (recorded months before today's first month); the views fill them.
SeriesTable MergeSeries(const SeriesTable& current, const SeriesTable& recorded);

}  // namespace server::sync
