#pragma once

// Packed 64-bit keys for contacts, companies and invoices (private to the segmenter).
//
// Valid portal ids are 1 .. 2^62-1, so `id << 1 | bit` is positive, unique, and never collides with
// the empty-bucket marker of FlatMap. Key 0 means "no entity".

#include <cstdint>
#include <limits>

namespace segmenter::detail {

inline constexpr std::int64_t kMaxId = (std::int64_t{1} << 62) - 1;
inline constexpr std::int64_t kNoKey = 0;
// "Never": larger than any real time, so that min() over nothing stays here.
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

constexpr bool ValidId(std::int64_t id) {
    return id >= 1 && id <= kMaxId;
}

// Entity keys: the client or card a key stands for.
constexpr std::int64_t ContactKey(std::int64_t id) {
    return id * 2;
}
constexpr std::int64_t CompanyKey(std::int64_t id) {
    return id * 2 + 1;
}
constexpr bool IsCompanyKey(std::int64_t key) {
    return (key & 1) != 0;
}
constexpr std::int64_t KeyId(std::int64_t key) {
    return key >> 1;
}

// Invoice keys: new and old invoices have separate id spaces.
constexpr std::int64_t InvoiceKey(std::int64_t id, bool legacy) {
    return id * 2 + (legacy ? 1 : 0);
}

}  // namespace segmenter::detail
