// SelectTree: which key serves next, in O(log n) whatever the pool's size.
//
// A segment tree over key positions holding, per leaf, a value that means "unavailable"
// when it is kUnavailable. Two flavours, fixed at construction:
//   min:  leaves hold a load (0 for plain round robin, requests in flight for
//         least_busy); inner nodes the minimum. "The first position at or after the
//         cursor whose load is the lowest" is one descent.
//   sum:  leaves hold a weight (0 = unavailable); inner nodes the sum. A uniform number
//         below the total picks a position in proportion to its weight in one descent.
// Capacity grows by doubling (rebuild, O(n)); everything else is O(log n).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace gb::pool {

class SelectTree {
 public:
  enum class Kind { min, sum };
  static constexpr uint32_t kUnavailable = std::numeric_limits<uint32_t>::max();

  explicit SelectTree(Kind kind, uint32_t size = 0);

  Kind kind() const { return kind_; }
  uint32_t size() const { return size_; }
  // Grows to at least `size` positions; new positions are unavailable.
  void resize(uint32_t size);
  void set(uint32_t pos, uint32_t value);
  // Unavailable is kUnavailable for min trees and 0 for sum trees.
  void set_unavailable(uint32_t pos);
  uint32_t get(uint32_t pos) const;
  bool available(uint32_t pos) const;

  // min trees: the lowest load among available positions, or kUnavailable.
  uint32_t min() const { return nodes_[1]; }
  // min trees: the first position p >= from (wrapping to 0) with load <= bound.
  std::optional<uint32_t> first_at_most(uint32_t from, uint32_t bound) const;

  // sum trees: total weight of available positions.
  uint64_t total() const;
  // sum trees: the position where `r` (0 <= r < total()) falls.
  std::optional<uint32_t> pick(uint64_t r) const;

 private:
  uint32_t combine(uint32_t a, uint32_t b) const;
  uint32_t empty() const { return kind_ == Kind::min ? kUnavailable : 0; }
  std::optional<uint32_t> first_in(uint32_t node, uint32_t lo, uint32_t hi, uint32_t from,
                                   uint32_t bound) const;

  Kind kind_;
  uint32_t size_ = 0;
  uint32_t cap_ = 1;            // leaves, a power of two
  std::vector<uint32_t> nodes_;  // 1-based heap layout; leaves at [cap_, 2 cap_)
};

}  // namespace gb::pool
