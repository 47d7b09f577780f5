// pool_bench: nanoseconds per acquire + release of a KeyPool, for 1 000 to 100 000 keys.
//
// Selection is meant to be O(log n) (lib/pool/select_tree.h): the figures should stay
// roughly flat as the pool grows, whatever the strategy, with most keys cooling for the
// model, and with declared quotas (checked only, or binding so that every key blocks
// after one request a minute).
//
// Usage: pool_bench [ITERATIONS [KEYS STRATEGY SCENARIO]]
//   ITERATIONS per measured run (default 200000); with the other three, one cell only
//   (STRATEGY round_robin|least_busy|weighted, SCENARIO plain|cooling99|quotas|rpm1),
//   which is what a profiler or cachegrind wants.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "base/key_id.h"
#include "pool/key_pool.h"

namespace {

using gb::pool::KeyPool;
using gb::pool::Policy;
using gb::pool::QuotaLimits;
using gb::pool::Strategy;
using gb::pool::strategy_name;
using gb::pool::TimePoint;
using gb::pool::WallTime;

// Noon in Los Angeles: twelve hours to the next per-day quota reset.
const WallTime kWall =
    std::chrono::sys_days(std::chrono::year(2025) / 7 / 1) + std::chrono::hours(19);

enum class Scenario { plain, cooling99, quotas, rpm_bound };

const char* scenario_name(Scenario s) {
  switch (s) {
    case Scenario::plain:
      return "plain";
    case Scenario::cooling99:
      return "99% cooling";
    case Scenario::quotas:
      return "quotas";
    case Scenario::rpm_bound:
      return "rpm=1 bound";
  }
  return "?";
}

std::string key_of(size_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "AIzaSyBench%08zu-abcdefghijklmnopqrstuv", i);
  return buf;
}

struct Setup {
  std::vector<gb::pool::KeySpec> keys;
  std::vector<gb::pool::KeyRecord> cooling;  // 99 of every 100 keys cooling for "m"
};

Setup make_setup(size_t n, WallTime wall) {
  Setup s;
  int64_t wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
  for (size_t i = 0; i < n; ++i) {
    s.keys.push_back({key_of(i), static_cast<unsigned>(1 + i % 10)});
    if (i % 100 != 0) {
      gb::pool::KeyRecord r;
      r.pool = "bench";
      r.hash = gb::key_hash(s.keys.back().key);
      r.origin = "config";
      r.models.push_back({"m", wall_ms + 3600 * 1000, 1, 0, 0});
      s.cooling.push_back(std::move(r));
    }
  }
  return s;
}

Policy policy_for(Strategy st, Scenario sc) {
  Policy p;
  p.strategy = st;
  if (sc == Scenario::quotas) {
    // Declared, checked on every pick, never reached.
    p.quota_for = [](std::string_view) { return QuotaLimits{1000000, 1000000000000, 100000000}; };
  } else if (sc == Scenario::rpm_bound) {
    p.quota_for = [](std::string_view) { return QuotaLimits{1, 0, 0}; };
  }
  return p;
}

// ns per acquire + release, the best of three runs of `iters` each.
double measure(const Setup& setup, Strategy st, Scenario sc, size_t iters) {
  const TimePoint t0 = TimePoint{} + std::chrono::hours(1000);
  const WallTime wall = kWall;
  KeyPool pool("bench", policy_for(st, sc), setup.keys, 1);
  if (sc == Scenario::cooling99) {
    pool.restore(setup.cooling, t0, wall);
  }
  gb::pool::Verdict ok;
  ok.outcome = gb::pool::Outcome::success;
  // With rpm = 1 every key serves once per 60-70 s window; spacing requests so that the
  // pool's keys cover 70 s at half load keeps it serving while keys block and wake.
  const auto step = sc == Scenario::rpm_bound
                        ? std::chrono::nanoseconds(std::chrono::seconds(140)) /
                              static_cast<int64_t>(setup.keys.size())
                        : std::chrono::nanoseconds(0);
  TimePoint now = t0;
  WallTime w = wall;
  size_t failures = 0;
  auto run = [&](size_t count) {
    for (size_t i = 0; i < count; ++i) {
      now += step;
      w += step;
      auto r = pool.acquire("m", {}, now, w);
      if (auto* l = std::get_if<gb::pool::Lease>(&r)) {
        pool.release(*l, "m", ok, now, w, 100, 100);
      } else {
        ++failures;
      }
    }
  };
  run(std::min<size_t>(iters, 10000));  // builds the lane, warms the caches
  double best = 1e300;
  for (int rep = 0; rep < 3; ++rep) {
    auto start = std::chrono::steady_clock::now();
    run(iters);
    auto end = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(end - start).count() /
                              static_cast<double>(iters));
  }
  if (failures != 0) {
    std::fprintf(stderr, "%s %s n=%zu: %zu acquires found no key\n", strategy_name(st),
                 scenario_name(sc), setup.keys.size(), failures);
  }
  return best;
}

int usage() {
  std::fprintf(stderr,
               "usage: pool_bench [ITERATIONS [KEYS round_robin|least_busy|weighted "
               "plain|cooling99|quotas|rpm1]]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const Strategy strategies[] = {Strategy::round_robin, Strategy::least_busy, Strategy::weighted};
  const Scenario scenarios[] = {Scenario::plain, Scenario::cooling99, Scenario::quotas,
                                Scenario::rpm_bound};
  const char* scenario_args[] = {"plain", "cooling99", "quotas", "rpm1"};
  const WallTime wall = kWall;
  size_t iters = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  if (iters == 0 || (argc != 1 && argc != 2 && argc != 5)) {
    return usage();
  }
  if (argc == 5) {
    size_t n = std::strtoull(argv[2], nullptr, 10);
    int st = -1, sc = -1;
    for (int i = 0; i < 3; ++i) {
      st = std::string(argv[3]) == strategy_name(strategies[i]) ? i : st;
    }
    for (int i = 0; i < 4; ++i) {
      sc = std::string(argv[4]) == scenario_args[i] ? i : sc;
    }
    if (n == 0 || st < 0 || sc < 0) {
      return usage();
    }
    std::printf("%.0f ns\n", measure(make_setup(n, wall), strategies[st], scenarios[sc], iters));
    return 0;
  }
  std::printf("ns per acquire + release (best of 3 runs of %zu)\n\n", iters);
  std::printf("%-8s %-12s", "keys", "strategy");
  for (Scenario sc : scenarios) {
    std::printf(" %12s", scenario_name(sc));
  }
  std::printf("\n");
  for (size_t n : {1000, 10000, 100000}) {
    Setup setup = make_setup(n, wall);
    for (Strategy st : strategies) {
      std::printf("%-8zu %-12s", n, strategy_name(st));
      for (Scenario sc : scenarios) {
        std::printf(" %12.0f", measure(setup, st, sc, iters));
        std::fflush(stdout);
      }
      std::printf("\n");
    }
  }
  return 0;
}
