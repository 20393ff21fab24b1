#pragma once

// Hash tables keyed by 64-bit ids (private to the segmenter).
//
// Open addressing with linear probing and backward-shift deletion (no tombstones), so lookups stay
// short after many updates. Keys are positive packed ids (see keys.hpp); INT64_MIN marks an empty
// bucket. The load factor stays at or below 1/2. Pointers and references into the table are
// invalidated by any insertion.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

namespace segmenter::detail {

template <class V>
class FlatMap {
public:
    static constexpr std::int64_t kEmpty = std::numeric_limits<std::int64_t>::min();

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    void reserve(std::size_t count) {
        std::size_t capacity = 16;
        while (capacity < count * 2) {
            capacity *= 2;
        }
        if (capacity > keys_.size()) {
            Rehash(capacity);
        }
    }

    V* find(std::int64_t key) {
        const std::size_t bucket = Locate(key);
        return bucket == kNotFound ? nullptr : &values_[bucket];
    }
    const V* find(std::int64_t key) const {
        const std::size_t bucket = Locate(key);
        return bucket == kNotFound ? nullptr : &values_[bucket];
    }
    bool contains(std::int64_t key) const { return Locate(key) != kNotFound; }

    // The value for `key`, value-initialised if it was absent. `inserted` tells which.
    V& get_or_insert(std::int64_t key, bool* inserted = nullptr) {
        assert(key != kEmpty);
        if ((size_ + 1) * 2 > keys_.size()) {
            Rehash(keys_.empty() ? 16 : keys_.size() * 2);
        }
        std::size_t bucket = Home(key);
        while (keys_[bucket] != kEmpty) {
            if (keys_[bucket] == key) {
                if (inserted != nullptr) {
                    *inserted = false;
                }
                return values_[bucket];
            }
            bucket = (bucket + 1) & mask_;
        }
        keys_[bucket] = key;
        values_[bucket] = V{};
        ++size_;
        if (inserted != nullptr) {
            *inserted = true;
        }
        return values_[bucket];
    }
    V& operator[](std::int64_t key) { return get_or_insert(key); }

    bool erase(std::int64_t key) {
        std::size_t hole = Locate(key);
        if (hole == kNotFound) {
            return false;
        }
        // Shift later members of the probe run back into the hole whenever their home bucket does
        // not lie cyclically in (hole, current]; such an entry would otherwise become unreachable.
        std::size_t current = hole;
        while (true) {
            current = (current + 1) & mask_;
            if (keys_[current] == kEmpty) {
                break;
            }
            const std::size_t home = Home(keys_[current]);
            const bool stays = hole <= current ? (hole < home && home <= current)
                                               : (hole < home || home <= current);
            if (!stays) {
                keys_[hole] = keys_[current];
                values_[hole] = std::move(values_[current]);
                hole = current;
            }
        }
        keys_[hole] = kEmpty;
        values_[hole] = V{};
        --size_;
        return true;
    }

    void clear() {
        keys_.clear();
        values_.clear();
        size_ = 0;
        mask_ = 0;
    }

    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            if (keys_[i] != kEmpty) {
                f(keys_[i], values_[i]);
            }
        }
    }
    template <class F>
    void for_each_mutable(F&& f) {
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            if (keys_[i] != kEmpty) {
                f(keys_[i], values_[i]);
            }
        }
    }

private:
    static constexpr std::size_t kNotFound = std::numeric_limits<std::size_t>::max();

    std::size_t Home(std::int64_t key) const {
        // SplitMix64's finaliser: consecutive ids spread over the whole table.
        auto x = static_cast<std::uint64_t>(key);
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
        return static_cast<std::size_t>(x) & mask_;
    }

    std::size_t Locate(std::int64_t key) const {
        if (keys_.empty() || key == kEmpty) {
            return kNotFound;
        }
        std::size_t bucket = Home(key);
        while (keys_[bucket] != kEmpty) {
            if (keys_[bucket] == key) {
                return bucket;
            }
            bucket = (bucket + 1) & mask_;
        }
        return kNotFound;
    }

    void Rehash(std::size_t capacity) {
        std::vector<std::int64_t> old_keys(capacity, kEmpty);
        std::vector<V> old_values(capacity);
        old_keys.swap(keys_);
        old_values.swap(values_);
        mask_ = capacity - 1;
        for (std::size_t i = 0; i < old_keys.size(); ++i) {
            if (old_keys[i] == kEmpty) {
                continue;
            }
            std::size_t bucket = Home(old_keys[i]);
            while (keys_[bucket] != kEmpty) {
                bucket = (bucket + 1) & mask_;
            }
            keys_[bucket] = old_keys[i];
            values_[bucket] = std::move(old_values[i]);
        }
    }

    std::vector<std::int64_t> keys_;
    std::vector<V> values_;
    std::size_t size_ = 0;
    std::size_t mask_ = 0;
};

// A set of keys that remembers insertion order (for deterministic, duplicate-free work lists).
class KeySet {
public:
    void reserve(std::size_t count) {
        index_.reserve(count);
        order_.reserve(count);
    }
    // True if the key was not there yet.
    bool insert(std::int64_t key) {
        bool inserted = false;
        index_.get_or_insert(key, &inserted);
        if (inserted) {
            order_.push_back(key);
        }
        return inserted;
    }
    bool contains(std::int64_t key) const { return index_.contains(key); }
    std::size_t size() const { return order_.size(); }
    // Keys in insertion order. Stays valid while inserting only if read by index.
    const std::vector<std::int64_t>& keys() const { return order_; }

private:
    FlatMap<char> index_;
    std::vector<std::int64_t> order_;
};

// key -> list of row slots. The order inside a list is unspecified.
//
// Between BeginBulk and EndBulk, additions and removals are only recorded; EndBulk sorts them and
// creates every list at its final size, which is much cheaper than growing lists one slot at a
// time when a whole portal is loaded. get() must not be called in between.
class MultiIndex {
public:
    void reserve(std::size_t keys) { map_.reserve(keys); }

    void BeginBulk(std::size_t expected) {
        bulk_ = true;
        added_.reserve(expected);
    }
    void EndBulk() {
        if (!bulk_) {
            return;
        }
        bulk_ = false;
        std::sort(added_.begin(), added_.end());
        std::sort(removed_.begin(), removed_.end());
        // added_ minus removed_, as multisets.
        std::size_t r = 0;
        std::size_t kept = 0;
        for (const Entry& entry : added_) {
            while (r < removed_.size() && removed_[r] < entry) {
                ++r;
            }
            if (r < removed_.size() && removed_[r] == entry) {
                ++r;
                continue;
            }
            added_[kept++] = entry;
        }
        added_.resize(kept);
        for (std::size_t i = 0; i < added_.size();) {
            std::size_t end = i;
            while (end < added_.size() && added_[end].first == added_[i].first) {
                ++end;
            }
            std::vector<std::uint32_t>& list = map_[added_[i].first];
            list.reserve(list.size() + (end - i));
            for (std::size_t j = i; j < end; ++j) {
                list.push_back(added_[j].second);
            }
            i = end;
        }
        std::vector<Entry>().swap(added_);
        std::vector<Entry>().swap(removed_);
    }

    void add(std::int64_t key, std::uint32_t slot) {
        if (bulk_) {
            added_.emplace_back(key, slot);
            return;
        }
        map_[key].push_back(slot);
    }
    void remove(std::int64_t key, std::uint32_t slot) {
        if (bulk_) {
            removed_.emplace_back(key, slot);
            return;
        }
        std::vector<std::uint32_t>* list = map_.find(key);
        if (list == nullptr) {
            return;
        }
        for (std::size_t i = 0; i < list->size(); ++i) {
            if ((*list)[i] == slot) {
                (*list)[i] = list->back();
                list->pop_back();
                break;
            }
        }
        if (list->empty()) {
            map_.erase(key);
        }
    }
    std::span<const std::uint32_t> get(std::int64_t key) const {
        assert(!bulk_);
        const std::vector<std::uint32_t>* list = map_.find(key);
        if (list == nullptr) {
            return {};
        }
        return {list->data(), list->size()};
    }

private:
    using Entry = std::pair<std::int64_t, std::uint32_t>;

    FlatMap<std::vector<std::uint32_t>> map_;
    bool bulk_ = false;
    std::vector<Entry> added_;
    std::vector<Entry> removed_;
};

}  // namespace segmenter::detail
