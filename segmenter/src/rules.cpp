// SEGMENTS.md §2 (payment dates) and §4 (the values of a client at T).

#include <algorithm>

#include "index_impl.hpp"
#include "segmenter/turnover.hpp"

namespace segmenter::detail {

// MOVED_TIME, else CLOSEDATE; a won deal with neither still is a sale, dated by its creation
// (README: "Payment dates").
Instant DealPaymentDate(const Deal& deal) {
    if (deal.moved_time) {
        return *deal.moved_time;
    }
    if (deal.close_date) {
        return *deal.close_date;
    }
    return deal.created;
}

// movedTime / DATE_PAYED; a paid invoice without one is dated by its creation.
Instant InvoicePaymentDate(const Invoice& invoice) {
    return invoice.paid_time ? *invoice.paid_time : invoice.created;
}

std::int32_t WindowMonths(std::int32_t months) {
    return std::clamp(months, 0, 1200);
}

Windows WindowsAt(Instant t, const Settings& settings) {
    return {AddMonths(t, -WindowMonths(settings.active_months)).utc,
            AddMonths(t, -WindowMonths(settings.lost_months)).utc};
}

std::size_t PaymentsUpTo(const std::vector<PaymentInfo>& payments, Instant t) {
    return PaymentsUpToUtc(payments, t.utc);
}

std::size_t PaymentsUpToUtc(const std::vector<PaymentInfo>& payments, std::int64_t utc) {
    const auto end = std::upper_bound(
        payments.begin(), payments.end(), utc,
        [](std::int64_t when, const PaymentInfo& payment) { return when < payment.date.utc; });
    return static_cast<std::size_t>(end - payments.begin());
}

std::int64_t AmountBetween(const ClientFacts& facts, std::size_t from, std::size_t to) {
    if (to <= from) {
        return 0;
    }
    const std::int64_t upto = facts.cumulative[to - 1];
    return from == 0 ? upto : upto - facts.cumulative[from - 1];
}

// README "Turnover": the paid invoice's amount, or the won deal's, each converted and rounded on
// its own; a payment in an unknown currency adds nothing.
void ConvertAmounts(ClientFacts& facts, std::span<const Currency> currencies) {
    facts.cumulative.resize(facts.payments.size());
    std::int64_t running = 0;
    for (std::size_t i = 0; i < facts.payments.size(); ++i) {
        PaymentInfo& payment = facts.payments[i];
        payment.base_amount = ToBaseAmount(payment.amount, payment.currency, currencies);
        running = AddAmounts(running, payment.base_amount.value_or(0));
        facts.cumulative[i] = running;
    }
}

Evaluation Evaluate(const ClientFacts& facts, Instant t, const Windows& windows) {
    Evaluation result;
    const std::size_t count = PaymentsUpTo(facts.payments, t);
    result.payments = static_cast<std::int64_t>(count);
    if (count > 0) {
        const Instant last = facts.payments[count - 1].date;
        result.last_payment = last;
        if (last.utc > windows.active_after) {
            result.lifecycle = Lifecycle::kActive;
        } else if (last.utc > windows.lost_at) {
            result.lifecycle = Lifecycle::kSleeping;
        } else {
            result.lifecycle = Lifecycle::kLost;
        }
    } else if (facts.first_request_utc <= t.utc) {
        result.lifecycle = Lifecycle::kRequests;
    } else if (facts.first_dialog_utc <= t.utc) {
        result.lifecycle = Lifecycle::kDialogs;
    } else if (facts.channels) {
        result.lifecycle = Lifecycle::kContacts;
    } else {
        result.lifecycle = Lifecycle::kNoContacts;
    }
    result.frequency = count >= 2   ? Frequency::kRegular
                       : count == 1 ? Frequency::kFirst
                                    : Frequency::kNone;
    return result;
}

}  // namespace segmenter::detail
