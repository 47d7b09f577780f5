#include "pool/select_tree.h"

#include <algorithm>

namespace gb::pool {

SelectTree::SelectTree(Kind kind, uint32_t size) : kind_(kind) {
  nodes_.assign(2, empty());
  resize(size);
}

uint32_t SelectTree::combine(uint32_t a, uint32_t b) const {
  if (kind_ == Kind::min) {
    return std::min(a, b);
  }
  // Weights are at most 1000 each and positions at most a few million, but saturate
  // rather than wrap if a caller ever exceeds that.
  uint64_t s = uint64_t{a} + b;
  return s > kUnavailable - 1 ? kUnavailable - 1 : static_cast<uint32_t>(s);
}

void SelectTree::resize(uint32_t size) {
  if (size <= cap_) {
    size_ = std::max(size_, size);
    return;
  }
  uint32_t cap = cap_;
  while (cap < size) {
    cap *= 2;
  }
  std::vector<uint32_t> nodes(2 * size_t{cap}, empty());
  for (uint32_t i = 0; i < size_; ++i) {
    nodes[cap + i] = nodes_[cap_ + i];
  }
  for (uint32_t i = cap - 1; i >= 1; --i) {
    nodes[i] = combine(nodes[2 * i], nodes[2 * i + 1]);
  }
  nodes_ = std::move(nodes);
  cap_ = cap;
  size_ = size;
}

void SelectTree::set(uint32_t pos, uint32_t value) {
  uint32_t i = cap_ + pos;
  if (nodes_[i] == value) {
    return;
  }
  nodes_[i] = value;
  for (i /= 2; i >= 1; i /= 2) {
    nodes_[i] = combine(nodes_[2 * i], nodes_[2 * i + 1]);
  }
}

void SelectTree::set_unavailable(uint32_t pos) {
  set(pos, empty());
}

uint32_t SelectTree::get(uint32_t pos) const {
  return nodes_[cap_ + pos];
}

bool SelectTree::available(uint32_t pos) const {
  return pos < size_ && get(pos) != empty();
}

std::optional<uint32_t> SelectTree::first_in(uint32_t node, uint32_t lo, uint32_t hi,
                                             uint32_t from, uint32_t bound) const {
  // [lo, hi) is the range this node covers.
  if (hi <= from || nodes_[node] > bound) {
    return std::nullopt;
  }
  if (hi - lo == 1) {
    return lo;
  }
  uint32_t mid = lo + (hi - lo) / 2;
  if (auto left = first_in(2 * node, lo, mid, from, bound)) {
    return left;
  }
  return first_in(2 * node + 1, mid, hi, from, bound);
}

std::optional<uint32_t> SelectTree::first_at_most(uint32_t from, uint32_t bound) const {
  // Unavailable leaves hold kUnavailable: a bound that high must not reach them.
  bound = std::min(bound, kUnavailable - 1);
  if (nodes_[1] > bound) {
    return std::nullopt;
  }
  // A descent visits O(log n) nodes: subtrees left of `from` or above the bound are cut
  // at their root, and the first subtree that passes both tests holds the answer.
  if (auto p = first_in(1, 0, cap_, from, bound)) {
    return p;
  }
  return first_in(1, 0, cap_, 0, bound);
}

uint64_t SelectTree::total() const {
  return nodes_[1];
}

std::optional<uint32_t> SelectTree::pick(uint64_t r) const {
  if (r >= total()) {
    return std::nullopt;
  }
  uint32_t i = 1;
  while (i < cap_) {
    uint32_t left = nodes_[2 * i];
    if (r < left) {
      i = 2 * i;
    } else {
      r -= left;
      i = 2 * i + 1;
    }
  }
  return i - cap_;
}

}  // namespace gb::pool
