#include "pool/select_tree.h"

#include <catch2/catch.hpp>
#include <optional>
#include <random>
#include <vector>

using gb::pool::SelectTree;

namespace {

constexpr uint32_t kNone = SelectTree::kUnavailable;

// The obvious O(n) version of a tree, as the oracle: a plain vector of leaves where
// nullopt is unavailable.
struct Model {
  SelectTree::Kind kind;
  std::vector<std::optional<uint32_t>> leaves;

  void set(uint32_t pos, uint32_t value) {
    // A sum tree's zero weight and a min tree's kUnavailable mean "unavailable".
    bool unavailable = kind == SelectTree::Kind::sum ? value == 0 : value == kNone;
    leaves[pos] = unavailable ? std::nullopt : std::optional<uint32_t>(value);
  }
  uint32_t min() const {
    uint32_t m = kNone;
    for (const auto& l : leaves) {
      if (l && *l < m) {
        m = *l;
      }
    }
    return m;
  }
  std::optional<uint32_t> first_at_most(uint32_t from, uint32_t bound) const {
    const uint32_t n = static_cast<uint32_t>(leaves.size());
    for (uint32_t k = 0; k < n; ++k) {
      uint32_t p = (from + k) % n;
      if (from >= n) {
        p = k;  // a cursor past the end starts again at 0
      }
      if (leaves[p] && *leaves[p] <= bound) {
        return p;
      }
    }
    return std::nullopt;
  }
  uint64_t total() const {
    uint64_t t = 0;
    for (const auto& l : leaves) {
      t += l.value_or(0);
    }
    return t;
  }
  std::optional<uint32_t> pick(uint64_t r) const {
    for (uint32_t p = 0; p < leaves.size(); ++p) {
      uint64_t w = leaves[p].value_or(0);
      if (r < w) {
        return p;
      }
      r -= w;
    }
    return std::nullopt;
  }
};

void check_same(const SelectTree& tree, const Model& model, std::mt19937_64& rng) {
  const uint32_t n = static_cast<uint32_t>(model.leaves.size());
  REQUIRE(tree.size() == n);
  for (uint32_t p = 0; p < n; ++p) {
    INFO("position " << p);
    REQUIRE(tree.available(p) == model.leaves[p].has_value());
    if (model.leaves[p]) {
      REQUIRE(tree.get(p) == *model.leaves[p]);
    }
  }
  CHECK_FALSE(tree.available(n));  // past the end: never
  if (model.kind == SelectTree::Kind::min) {
    REQUIRE(tree.min() == model.min());
    // Every cursor (and two past the end), against the lowest load and random bounds,
    // including the largest one: an unavailable position is never an answer.
    std::uniform_int_distribution<uint32_t> bound_of(0, 12);
    for (uint32_t from = 0; from < n + 2; ++from) {
      for (uint32_t bound : {model.min(), bound_of(rng), kNone - 1, kNone}) {
        INFO("from " << from << " bound " << bound);
        REQUIRE(tree.first_at_most(from, bound) == model.first_at_most(from, bound));
      }
    }
  } else {
    REQUIRE(tree.total() == model.total());
    // Every r of a small total, and one past it.
    for (uint64_t r = 0; r <= model.total(); ++r) {
      INFO("r " << r);
      REQUIRE(tree.pick(r) == model.pick(r));
    }
  }
}

void random_ops(SelectTree::Kind kind, uint64_t seed) {
  std::mt19937_64 rng(seed);
  SelectTree tree(kind);
  Model model{kind, {}};
  // Small loads and weights keep totals small enough to try every r.
  std::uniform_int_distribution<uint32_t> value_of(kind == SelectTree::Kind::sum ? 0 : 0, 9);
  std::uniform_int_distribution<int> op_of(0, 99);
  for (int step = 0; step < 400; ++step) {
    int op = op_of(rng);
    uint32_t n = static_cast<uint32_t>(model.leaves.size());
    if (op < 6 || n == 0) {
      uint32_t grow = n + std::uniform_int_distribution<uint32_t>(0, 9)(rng);
      tree.resize(grow);
      model.leaves.resize(grow);
    } else if (op < 8) {
      tree.resize(n / 2);  // shrinking is not a thing: nothing changes
    } else if (op < 30) {
      uint32_t p = std::uniform_int_distribution<uint32_t>(0, n - 1)(rng);
      tree.set_unavailable(p);
      model.leaves[p].reset();
    } else {
      uint32_t p = std::uniform_int_distribution<uint32_t>(0, n - 1)(rng);
      uint32_t v = value_of(rng);
      tree.set(p, v);
      model.set(p, v);
    }
    INFO("seed " << seed << " step " << step << " op " << op);
    check_same(tree, model, rng);
  }
}

}  // namespace

TEST_CASE("select tree: min kind matches a brute-force model", "[pool]") {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    random_ops(SelectTree::Kind::min, seed);
  }
}

TEST_CASE("select tree: sum kind matches a brute-force model", "[pool]") {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    random_ops(SelectTree::Kind::sum, seed);
  }
}

TEST_CASE("select tree: new positions are unavailable", "[pool]") {
  for (auto kind : {SelectTree::Kind::min, SelectTree::Kind::sum}) {
    SelectTree t(kind, 3);
    CHECK(t.size() == 3);
    CHECK(t.kind() == kind);
    for (uint32_t p = 0; p < 3; ++p) {
      CHECK_FALSE(t.available(p));
    }
    t.set(1, 5);
    t.resize(1000);  // grows the capacity: the leaf survives the rebuild
    CHECK(t.size() == 1000);
    CHECK(t.available(1));
    CHECK(t.get(1) == 5);
    CHECK_FALSE(t.available(999));
  }
  SelectTree empty(SelectTree::Kind::min);
  CHECK(empty.min() == kNone);
  CHECK(empty.first_at_most(0, 0) == std::nullopt);
  SelectTree none(SelectTree::Kind::sum);
  CHECK(none.total() == 0);
  CHECK(none.pick(0) == std::nullopt);
}

TEST_CASE("select tree: min descent wraps at the cursor", "[pool]") {
  SelectTree t(SelectTree::Kind::min, 8);
  for (uint32_t p = 0; p < 8; ++p) {
    t.set(p, 0);
  }
  t.set_unavailable(6);
  t.set(2, 3);
  struct Case {
    uint32_t from, bound;
    std::optional<uint32_t> want;
  };
  const Case cases[] = {
      {0, 0, 0}, {2, 0, 3}, {6, 0, 7}, {7, 0, 7}, {8, 0, 0},  // past the end wraps
      {2, 3, 2}, {3, 2, 3}, {6, 3, 7},
  };
  for (const auto& c : cases) {
    INFO("from " << c.from << " bound " << c.bound);
    CHECK(t.first_at_most(c.from, c.bound) == c.want);
  }
}

TEST_CASE("select tree: sum picks in proportion to weights", "[pool]") {
  SelectTree t(SelectTree::Kind::sum, 4);
  t.set(0, 1);
  t.set(1, 0);  // zero weight: unavailable
  t.set(2, 3);
  t.set(3, 6);
  CHECK(t.total() == 10);
  std::vector<int> hits(4);
  for (uint64_t r = 0; r < 10; ++r) {
    ++hits[*t.pick(r)];
  }
  CHECK(hits == std::vector<int>{1, 0, 3, 6});
  t.set_unavailable(3);
  CHECK(t.total() == 4);
  CHECK(t.pick(4) == std::nullopt);
}
