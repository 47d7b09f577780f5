// Helpers shared by the key pool tests: keys, verdicts, an injected clock, and the
// unwrapping of acquire()'s variant. Every time comes from here; no test sleeps.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/key_id.h"
#include "pool/key_pool.h"

namespace gb::pool::test {

using namespace std::chrono_literals;

// A steady time far from zero, and 2025-07-01 12:00 PDT (19:00 UTC): twelve hours to the
// next Pacific midnight. kT0 is a whole multiple of 10 s, the quota window's bucket.
inline const TimePoint kT0 = TimePoint{} + std::chrono::hours(1000);
inline const WallTime kWall = std::chrono::sys_days(std::chrono::year(2025) / 7 / 1) + 19h;

// The two clocks a pool call takes, moved together.
struct Now {
  TimePoint now = kT0;
  WallTime wall = kWall;
  void advance(Duration d) {
    now += d;
    wall += d;
  }
  Now after(Duration d) const {
    Now n = *this;
    n.advance(d);
    return n;
  }
};

inline std::string key_at(int i) {
  return "AIzaSyTestKey-" + std::to_string(i) + "-abcdefghijklmnop";
}

inline std::vector<KeySpec> specs(int n, unsigned weight = 1) {
  std::vector<KeySpec> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(KeySpec{key_at(i), weight});
  }
  return out;
}

inline std::vector<KeySpec> weighted_specs(const std::vector<unsigned>& weights) {
  std::vector<KeySpec> out;
  for (size_t i = 0; i < weights.size(); ++i) {
    out.push_back(KeySpec{key_at(static_cast<int>(i)), weights[i]});
  }
  return out;
}

inline Lease must_lease(Acquired r) {
  REQUIRE(std::holds_alternative<Lease>(r));
  return std::get<Lease>(std::move(r));
}

inline NoKey must_fail(Acquired r) {
  REQUIRE(std::holds_alternative<NoKey>(r));
  return std::get<NoKey>(r);
}

inline Queued must_queue(Acquired r) {
  REQUIRE(std::holds_alternative<Queued>(r));
  return std::get<Queued>(r);
}

inline Verdict verdict(Outcome o, std::optional<Duration> retry_after = {}, bool per_day = false,
                       std::string reason = "") {
  Verdict v;
  v.outcome = o;
  v.retry = o == Outcome::rate_limited || o == Outcome::invalid || o == Outcome::failed;
  v.retry_after = retry_after;
  v.per_day = per_day;
  v.reason = reason.empty() ? outcome_name(o) : reason;
  return v;
}

inline Verdict ok() {
  return verdict(Outcome::success);
}

inline Verdict invalid(std::string reason = "API_KEY_INVALID") {
  return verdict(Outcome::invalid, {}, false, std::move(reason));
}

inline Verdict limited(std::optional<Duration> retry_after = {}, bool per_day = false) {
  return verdict(Outcome::rate_limited, retry_after, per_day);
}

// The position a fresh acquire lends, released at once as a success.
inline uint32_t take(KeyPool& pool, std::string_view model, Now t = {},
                     const std::vector<uint32_t>& tried = {}) {
  Lease l = must_lease(pool.acquire(model, tried, t.now, t.wall));
  pool.release(l, model, ok(), t.now, t.wall);
  return l.index;
}

// Acquires for `model` and releases at once with `v`; returns the position used.
inline uint32_t attempt(KeyPool& pool, std::string_view model, const Verdict& v, Now t = {},
                        const std::vector<uint32_t>& tried = {}) {
  Lease l = must_lease(pool.acquire(model, tried, t.now, t.wall));
  pool.release(l, model, v, t.now, t.wall);
  return l.index;
}

inline std::optional<KeyView> view_of(const KeyPool& pool, const std::string& key,
                                      TimePoint now = kT0) {
  std::string id = key_id(key);
  for (KeyView& kv : pool.snapshot(now)) {
    if (kv.id == id) {
      return kv;
    }
  }
  return std::nullopt;
}

inline KeyView must_view(const KeyPool& pool, const std::string& key, TimePoint now = kT0) {
  auto kv = view_of(pool, key, now);
  REQUIRE(kv.has_value());
  return *kv;
}

// Remaining block of `key` for `model`, zero when it is not blocked.
inline Duration cooling_left(const KeyPool& pool, const std::string& key, std::string_view model,
                             TimePoint now = kT0) {
  for (const auto& [m, left] : must_view(pool, key, now).cooling) {
    if (m == model) {
      return left;
    }
  }
  return Duration(0);
}

// The position of a key, by its whole value.
inline uint32_t index_of(const KeyPool& pool, const std::string& key) {
  auto m = pool.match(key);
  REQUIRE(m.size() == 1);
  return m[0];
}

// Disables `key` with an invalid verdict at `disabled_at` and brings it back through a
// successful probe at `t`, from which it ramps up. Needs positions 0..size()-1 all live
// and `t` at least probe_interval after `disabled_at`.
inline void probe_back(KeyPool& pool, const std::string& key, Now disabled_at, Now t) {
  uint32_t i = index_of(pool, key);
  // A lease of exactly this key: every other key is tried.
  std::vector<uint32_t> tried;
  for (uint32_t j = 0; j < pool.size(); ++j) {
    if (j != i) {
      tried.push_back(j);
    }
  }
  Lease l = must_lease(pool.acquire("probe-setup", tried, disabled_at.now, disabled_at.wall));
  REQUIRE(l.index == i);
  pool.release(l, "probe-setup", invalid(), disabled_at.now, disabled_at.wall);
  auto due = pool.due_probes(t.now, 100);
  REQUIRE(due.size() == 1);
  REQUIRE(due[0].index == i);
  Transition tr = pool.probe_done(due[0], ok(), t.now, t.wall);
  REQUIRE(tr.kind == Transition::enabled);
}

}  // namespace gb::pool::test
