// Which key serves next: round robin, least busy, weighted, `tried` exclusions, and the
// ramp-up of a key a probe brought back. Statistical checks use fixed seeds and
// tolerances several standard deviations wide.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "pool/key_pool.h"
#include "pool_test_util.h"

using namespace std::chrono;
using namespace gb::pool;
using namespace gb::pool::test;
using gb::Duration;

namespace {

Policy with(Strategy s) {
  Policy p;
  p.strategy = s;
  return p;
}

// Picks `n` times at `t`, releasing each lease at once; hits per position.
std::vector<int> hits(KeyPool& pool, std::string_view model, int n, Now t = {}) {
  std::vector<int> out(pool.size());
  for (int i = 0; i < n; ++i) {
    ++out[take(pool, model, t)];
  }
  return out;
}

}  // namespace

TEST_CASE("round robin spreads each model evenly", "[pool]") {
  KeyPool pool("gemini", with(Strategy::round_robin), specs(5));
  std::map<std::string, std::vector<int>> per_model;
  const char* models[] = {"pro", "flash", "pro", "lite", "pro"};
  for (int i = 0; i < 1000; ++i) {
    const char* model = models[i % 5];
    auto& h = per_model[model];
    h.resize(5);
    uint32_t got = take(pool, model);
    // Strict rotation within a model, whatever the other models do.
    CHECK(got == static_cast<uint32_t>((h[0] + h[1] + h[2] + h[3] + h[4]) % 5));
    ++h[got];
  }
  CHECK(per_model["pro"] == std::vector<int>(5, 120));
  CHECK(per_model["flash"] == std::vector<int>(5, 40));
  CHECK(per_model["lite"] == std::vector<int>(5, 40));
}

TEST_CASE("round robin skips cooling and disabled keys in turn", "[pool]") {
  KeyPool pool("gemini", with(Strategy::round_robin), specs(5));
  attempt(pool, "m", limited(seconds(60)));  // 0
  CHECK(take(pool, "m") == 1);
  attempt(pool, "m", invalid());  // 2
  std::vector<uint32_t> seen;
  for (int i = 0; i < 6; ++i) {
    seen.push_back(take(pool, "m"));
  }
  CHECK(seen == std::vector<uint32_t>{3, 4, 1, 3, 4, 1});
}

TEST_CASE("least busy picks the key with fewest leases, ties in turn", "[pool]") {
  KeyPool pool("gemini", with(Strategy::least_busy), specs(3));
  auto get = [&](std::string_view model = "m") {
    return must_lease(pool.acquire(model, {}, kT0, kWall));
  };
  Lease a = get(), b = get(), c = get();
  CHECK(a.index == 0);
  CHECK(b.index == 1);
  CHECK(c.index == 2);
  Lease d = get();  // all at 1: the turn goes on from the cursor
  CHECK(d.index == 0);
  pool.release(b, "m", ok(), kT0, kWall);  // in flight: 2, 0, 1
  Lease e = get();
  CHECK(e.index == 1);
  Lease f = get();  // 2, 1, 1: the cursor is past 1, so 2
  CHECK(f.index == 2);
  Lease g = get();  // 2, 1, 2
  CHECK(g.index == 1);
  // In flight counts per key across models: a new model's lane sees them.
  pool.release(a, "m", ok(), kT0, kWall);  // 1, 2, 2
  CHECK(get("flash").index == 0);
  CHECK(get("flash").index == 1);  // 2, 2, 2: a tie, from flash's own cursor
  auto view = pool.snapshot(kT0);
  CHECK(view[0].in_flight == 2);
  CHECK(view[1].in_flight == 3);
  CHECK(view[2].in_flight == 2);
}

TEST_CASE("least busy with immediate releases is round robin", "[pool]") {
  KeyPool pool("gemini", with(Strategy::least_busy), specs(4));
  for (uint32_t want : {0u, 1u, 2u, 3u, 0u, 1u}) {
    CHECK(take(pool, "m") == want);
  }
}

TEST_CASE("least busy avoids a key with a slow attempt", "[pool]") {
  KeyPool pool("gemini", with(Strategy::least_busy), specs(3));
  Lease slow = must_lease(pool.acquire("m", {}, kT0, kWall));
  REQUIRE(slow.index == 0);
  std::vector<int> h = hits(pool, "m", 100);
  CHECK(h[0] == 0);
  CHECK(h[1] == 50);
  CHECK(h[2] == 50);
  pool.release(slow, "m", ok(), kT0, kWall);
  h = hits(pool, "m", 99);
  CHECK(h == std::vector<int>{33, 33, 33});
}

TEST_CASE("weighted picks in proportion to weights", "[pool]") {
  KeyPool pool("gemini", with(Strategy::weighted), weighted_specs({1, 2, 3, 4}), 42);
  constexpr int kN = 100000;
  std::vector<int> h = hits(pool, "m", kN);
  for (int i = 0; i < 4; ++i) {
    INFO("key " << i << " hits " << h[i]);
    // sd of a share near 0.25 over 1e5 draws is ~0.0014.
    CHECK(static_cast<double>(h[i]) / kN == Approx((i + 1) / 10.0).margin(0.01));
  }
}

TEST_CASE("weighted leaves out cooling keys and keeps the others' proportions", "[pool]") {
  KeyPool pool("gemini", with(Strategy::weighted), weighted_specs({5, 1, 3}), 7);
  // Cool key 0 for "m": with weights 5:1:3 it is drawn first with probability 5/9;
  // draw until it is.
  for (int i = 0; i < 100; ++i) {
    Lease l = must_lease(pool.acquire("m", {}, kT0, kWall));
    bool done = l.index == 0;
    pool.release(l, "m", done ? limited(seconds(60)) : ok(), kT0, kWall);
    if (done) {
      break;
    }
  }
  REQUIRE(cooling_left(pool, key_at(0), "m") == seconds(60));
  constexpr int kN = 40000;
  std::vector<int> h = hits(pool, "m", kN);
  CHECK(h[0] == 0);
  CHECK(static_cast<double>(h[1]) / kN == Approx(0.25).margin(0.015));
  CHECK(static_cast<double>(h[2]) / kN == Approx(0.75).margin(0.015));
  // Another model still sees key 0.
  h = hits(pool, "flash", 9000);
  CHECK(static_cast<double>(h[0]) / 9000 == Approx(5.0 / 9).margin(0.03));
}

TEST_CASE("different seeds draw different weighted sequences", "[pool]") {
  auto sequence = [](uint64_t seed) {
    KeyPool pool("gemini", with(Strategy::weighted), specs(10), seed);
    std::vector<uint32_t> out;
    for (int i = 0; i < 50; ++i) {
      out.push_back(take(pool, "m"));
    }
    return out;
  };
  CHECK(sequence(1) == sequence(1));
  CHECK(sequence(1) != sequence(2));
}

TEST_CASE("tried positions are never chosen, whatever the strategy", "[pool]") {
  for (Strategy s : {Strategy::round_robin, Strategy::least_busy, Strategy::weighted}) {
    INFO("strategy " << static_cast<int>(s));
    KeyPool pool("gemini", with(s), weighted_specs({1, 2, 3, 4, 5, 6, 7, 8}), 5);
    std::mt19937_64 rng(11);
    std::vector<Lease> held;  // some leases stay out, so least_busy has loads to weigh
    for (int i = 0; i < 3000; ++i) {
      std::vector<uint32_t> tried;
      for (uint32_t p = 0; p < 8; ++p) {
        if (rng() % 3 == 0) {
          tried.push_back(p);
        }
      }
      auto r = pool.acquire("m", tried, kT0, kWall);
      if (tried.size() == 8) {
        NoKey no = must_fail(r);
        CHECK_FALSE(no.all_cooling);
        continue;
      }
      Lease l = must_lease(r);
      INFO("step " << i);
      REQUIRE(std::find(tried.begin(), tried.end(), l.index) == tried.end());
      held.push_back(l);
      if (held.size() > 5) {
        size_t k = rng() % held.size();
        pool.release(held[k], "m", ok(), kT0, kWall);
        held.erase(held.begin() + static_cast<std::ptrdiff_t>(k));
      }
    }
    // The exclusions are undone: every key still serves.
    for (const Lease& l : held) {
      pool.release(l, "m", ok(), kT0, kWall);
    }
    std::set<uint32_t> all;
    for (int i = 0; i < 400; ++i) {
      all.insert(take(pool, "m"));
    }
    CHECK(all.size() == 8);
  }
}

TEST_CASE("a probed-back key ramps up from 10% to its full share", "[pool]") {
  Policy p;
  p.probe_interval = seconds(10);
  p.ramp_up = seconds(60);
  KeyPool pool("gemini", p, specs(4));
  Now back = Now{}.after(seconds(10));
  probe_back(pool, key_at(2), Now{}, back);
  struct Case {
    Duration after;
    double share;
  };
  const Case cases[] = {{seconds(0), 0.1},    {seconds(20), 0.4}, {seconds(30), 0.55},
                        {seconds(59), 0.985}, {seconds(60), 1.0}, {hours(1), 1.0}};
  for (const auto& c : cases) {
    INFO("after " << c.after.count());
    KeyView kv = must_view(pool, key_at(2), back.now + c.after);
    CHECK(kv.state == KeyState::active);
    CHECK(kv.share == Approx(c.share).margin(1e-9));
  }
  for (int i : {0, 1, 3}) {
    CHECK(must_view(pool, key_at(i), back.now).share == 1.0);
  }
}

TEST_CASE("a ramping key gets a small share of picks, growing with time", "[pool]") {
  // Relative to an ordinary key, a ramping key at share s gets s of the picks under
  // round robin and least busy, and s / (1 + (1 - s) / 9) with ten equal weights.
  for (Strategy s : {Strategy::round_robin, Strategy::least_busy, Strategy::weighted}) {
    INFO("strategy " << static_cast<int>(s));
    Policy p = with(s);
    p.probe_interval = seconds(10);
    p.ramp_up = seconds(100);
    KeyPool pool("gemini", p, specs(10), 99);
    Now back = Now{}.after(seconds(10));
    probe_back(pool, key_at(7), Now{}, back);
    struct Case {
      Duration after;
      double lo, hi;  // hits of the ramping key / mean hits of the others
    };
    const Case cases[] = {
        {seconds(0), 0.06, 0.14}, {seconds(50), 0.45, 0.62}, {seconds(100), 0.93, 1.07}};
    for (const auto& c : cases) {
      std::vector<int> h = hits(pool, "m", 20000, back.after(c.after));
      double others = 0;
      for (int i = 0; i < 10; ++i) {
        others += i == 7 ? 0 : h[i];
      }
      double ratio = h[7] / (others / 9);
      INFO("after " << c.after.count() << " ratio " << ratio);
      CHECK(ratio >= c.lo);
      CHECK(ratio <= c.hi);
    }
  }
}

TEST_CASE("a ramping key still serves when it is the only one left", "[pool]") {
  Policy p;
  p.probe_interval = seconds(10);
  p.ramp_up = seconds(60);
  KeyPool pool("gemini", p, specs(2));
  probe_back(pool, key_at(1), Now{}, Now{}.after(seconds(10)));
  Now t = Now{}.after(seconds(10));
  attempt(pool, "m", limited(hours(1)), t);  // key 0 cools; key 1 at 10% remains
  for (int i = 0; i < 50; ++i) {
    CHECK(take(pool, "m", t) == 1);
  }
  // And a ramping key that is tried is not offered.
  NoKey no = must_fail(pool.acquire("m", {1}, t.now, t.wall));
  CHECK(no.all_cooling == false);
}

TEST_CASE("ramp_up 0 brings a probed key back at full share", "[pool]") {
  Policy p;
  p.probe_interval = seconds(10);
  p.ramp_up = Duration(0);
  KeyPool pool("gemini", p, specs(2));
  Now back = Now{}.after(seconds(10));
  probe_back(pool, key_at(0), Now{}, back);
  CHECK(must_view(pool, key_at(0), back.now).share == 1.0);
  std::vector<int> h = hits(pool, "m", 100, back);
  CHECK(h == std::vector<int>{50, 50});
}
