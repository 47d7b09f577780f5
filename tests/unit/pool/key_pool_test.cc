#include "pool/key_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "base/key_id.h"

using namespace std::chrono;
using gb::Duration;
using gb::pool::Counts;
using gb::pool::KeyPool;
using gb::pool::KeyState;
using gb::pool::Lease;
using gb::pool::NoKey;
using gb::pool::Outcome;
using gb::pool::Policy;
using gb::pool::TimePoint;
using gb::pool::Verdict;
using gb::pool::WallTime;

namespace {

const TimePoint kT0 = TimePoint{} + hours(1000);
const WallTime kWall = sys_days(2025y / July / 1) + hours(19);  // 12:00 PDT

std::vector<std::string> keys(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back("AIzaSyTestKey-" + std::to_string(i) + "-abcdefghijklmnop");
  }
  return out;
}

Lease must_lease(std::variant<Lease, NoKey> r) {
  REQUIRE(std::holds_alternative<Lease>(r));
  return std::get<Lease>(std::move(r));
}

NoKey must_fail(std::variant<Lease, NoKey> r) {
  REQUIRE(std::holds_alternative<NoKey>(r));
  return std::get<NoKey>(r);
}

uint32_t take(KeyPool& pool, std::string_view model, TimePoint now = kT0,
              const std::vector<uint32_t>& tried = {}) {
  return must_lease(pool.acquire(model, tried, now)).index;
}

Verdict verdict(Outcome o, std::optional<Duration> retry_after = {}, bool per_day = false,
                std::string reason = "") {
  Verdict v;
  v.outcome = o;
  v.retry = o == Outcome::rate_limited || o == Outcome::invalid || o == Outcome::failed;
  v.retry_after = retry_after;
  v.per_day = per_day;
  v.reason = reason.empty() ? gb::pool::outcome_name(o) : reason;
  return v;
}

// Acquires for `model` and immediately releases with `v`; returns the index used.
uint32_t attempt(KeyPool& pool, std::string_view model, const Verdict& v, TimePoint now = kT0,
                 WallTime wall = kWall) {
  Lease l = must_lease(pool.acquire(model, {}, now));
  pool.release(l, model, v, now, wall);
  return l.index;
}

// Remaining cooldown of key `index` for `model`, zero if not cooling.
Duration cooling_left(const KeyPool& pool, uint32_t index, std::string_view model, TimePoint now) {
  auto view = pool.snapshot(now);
  for (const auto& [m, left] : view[index].cooling) {
    if (m == model) {
      return left;
    }
  }
  return Duration(0);
}

}  // namespace

TEST_CASE("round robin rotates per model", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(3));
  const std::vector<uint32_t> want = {0, 1, 2, 0, 1};
  for (uint32_t w : want) {
    CHECK(take(pool, "gemini-2.5-pro") == w);
  }
  // Another model has its own cursor.
  CHECK(take(pool, "gemini-2.5-flash") == 0);
  CHECK(take(pool, "gemini-2.5-flash") == 1);
  CHECK(take(pool, "gemini-2.5-pro") == 2);
}

TEST_CASE("tried keys are skipped", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(3));
  struct Case {
    std::vector<uint32_t> tried;
    std::optional<uint32_t> want;
  };
  const Case cases[] = {
      {{}, 0}, {{0}, 1}, {{0, 1}, 2}, {{1, 2}, 0}, {{2, 0, 99}, 1}, {{0, 1, 2}, std::nullopt},
  };
  for (const auto& c : cases) {
    KeyPool fresh("gemini", Policy{}, keys(3));
    auto r = fresh.acquire("m", c.tried, kT0);
    if (c.want) {
      CHECK(must_lease(r).index == *c.want);
    } else {
      NoKey no = must_fail(r);
      CHECK_FALSE(no.all_cooling);
      CHECK(no.retry_after == Duration(0));
    }
  }
}

TEST_CASE("a lease names its key and id", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(2));
  Lease l = must_lease(pool.acquire("m", {}, kT0));
  CHECK(l.key == keys(2)[0]);
  CHECK(l.id == gb::key_id(l.key));
  auto view = pool.snapshot(kT0);
  CHECK(view[0].id == l.id);
  CHECK(view[0].mask == gb::key_mask(l.key));
}

TEST_CASE("empty and repeated keys are dropped", "[pool]") {
  KeyPool pool("gemini", Policy{},
               {"AIzaKeyOne-000000", "", "AIzaKeyTwo-000000", "AIzaKeyOne-000000"});
  CHECK(pool.size() == 2);
  CHECK(pool.name() == "gemini");
  KeyPool none("empty", Policy{}, {});
  NoKey no = must_fail(none.acquire("m", {}, kT0));
  CHECK_FALSE(no.all_cooling);
}

TEST_CASE("a key cooling for one model still serves another", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(2));
  CHECK(attempt(pool, "pro", verdict(Outcome::rate_limited, seconds(60))) == 0);
  CHECK(take(pool, "pro") == 1);
  CHECK(take(pool, "pro") == 1);
  CHECK(take(pool, "flash") == 0);
  auto view = pool.snapshot(kT0);
  CHECK(view[0].state == KeyState::cooling);
  REQUIRE(view[0].cooling.size() == 1);
  CHECK(view[0].cooling[0] == std::pair<std::string, Duration>("pro", seconds(60)));
}

TEST_CASE("retry_after is honoured to the millisecond", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(1));
  attempt(pool, "m", verdict(Outcome::rate_limited, Duration(2464)));
  struct Case {
    Duration at;
    bool usable;
    Duration retry_after;  // NoKey's, when not usable
  };
  const Case cases[] = {
      {Duration(0), false, seconds(3)},    {Duration(1464), false, seconds(1)},
      {Duration(1465), false, seconds(1)},  // 999ms left rounds up to 1s
      {Duration(2463), false, seconds(1)},  // 1ms left is still at least 1s
      {Duration(2464), true, {}},
  };
  for (const auto& c : cases) {
    INFO(c.at.count());
    auto r = pool.acquire("m", {}, kT0 + c.at);
    REQUIRE(std::holds_alternative<Lease>(r) == c.usable);
    if (!c.usable) {
      NoKey no = std::get<NoKey>(r);
      CHECK(no.all_cooling);
      CHECK(no.retry_after == c.retry_after);
    }
  }
}

TEST_CASE("exponential backoff with jitter stays in bounds", "[pool]") {
  Policy policy;
  policy.cooldown = seconds(30);
  policy.cooldown_max = seconds(3600);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    KeyPool pool("gemini", policy, keys(1), seed);
    TimePoint now = kT0;
    Duration base = policy.cooldown;
    for (int n = 1; n <= 10; ++n) {
      attempt(pool, "m", verdict(Outcome::rate_limited), now);
      Duration got = cooling_left(pool, 0, "m", now);
      INFO("seed " << seed << " n " << n << " got " << got.count());
      CHECK(got >= base - base / 10);
      CHECK(got <= std::min(base + base / 10, policy.cooldown_max));
      now += got;  // the key frees exactly then
      base = std::min(base * 2, policy.cooldown_max);
    }
  }
}

TEST_CASE("backoff jitter differs between seeds", "[pool]") {
  std::set<int64_t> seen;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    KeyPool pool("gemini", Policy{}, keys(1), seed);
    attempt(pool, "m", verdict(Outcome::rate_limited));
    seen.insert(cooling_left(pool, 0, "m", kT0).count());
  }
  CHECK(seen.size() > 10);
}

TEST_CASE("a success resets the 429 streak of that model only", "[pool]") {
  Policy policy;
  policy.cooldown = seconds(100);
  policy.cooldown_max = seconds(10000);
  KeyPool pool("gemini", policy, keys(1));
  TimePoint now = kT0;
  for (int i = 0; i < 3; ++i) {  // streaks of 3 on both models: the next would be 400s
    for (const char* model : {"a", "b"}) {
      attempt(pool, model, verdict(Outcome::rate_limited), now);
    }
    now += seconds(1000);
  }
  attempt(pool, "a", verdict(Outcome::success), now);
  attempt(pool, "a", verdict(Outcome::rate_limited), now);
  attempt(pool, "b", verdict(Outcome::rate_limited), now);
  CHECK(cooling_left(pool, 0, "a", now) <= seconds(110));
  CHECK(cooling_left(pool, 0, "b", now) >= seconds(360));
}

TEST_CASE("a per-day quota cools until the next Pacific midnight", "[pool]") {
  struct Case {
    const char* name;
    WallTime wall;
    Duration want;
  };
  const Case cases[] = {
      {"summer noon", sys_days(2025y / July / 1) + hours(19), hours(12)},
      {"spring-forward day 00:30 PST", sys_days(2025y / March / 9) + hours(8) + minutes(30),
       hours(22) + minutes(30)},
      {"fall-back day 01:30 PDT", sys_days(2025y / November / 2) + hours(8) + minutes(30),
       hours(23) + minutes(30)},
      {"winter, 250ms before midnight",
       sys_days(2025y / January / 16) + hours(8) - milliseconds(250), milliseconds(250)},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    KeyPool pool("gemini", Policy{}, keys(1));
    // Gemini sends a short retryDelay with a per-day 429: the day wins.
    attempt(pool, "m", verdict(Outcome::rate_limited, seconds(23), true), kT0, c.wall);
    CHECK(cooling_left(pool, 0, "m", kT0) == c.want);
  }
}

TEST_CASE("a running cooldown is never shortened", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(1));
  Lease a = must_lease(pool.acquire("m", {}, kT0));
  Lease b = must_lease(pool.acquire("m", {}, kT0));
  pool.release(a, "m", verdict(Outcome::rate_limited, {}, true), kT0, kWall);
  pool.release(b, "m", verdict(Outcome::rate_limited, seconds(5)), kT0, kWall);
  CHECK(cooling_left(pool, 0, "m", kT0) == hours(12));
}

TEST_CASE("invalid disables the key with its reason", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(2));
  attempt(pool, "m", verdict(Outcome::invalid, {}, false, "API_KEY_INVALID"));
  for (int i = 0; i < 3; ++i) {
    CHECK(take(pool, "m") == 1);
    CHECK(take(pool, "other") == 1);
  }
  auto view = pool.snapshot(kT0);
  CHECK(view[0].state == KeyState::disabled);
  CHECK(view[0].reason == "API_KEY_INVALID");
  CHECK(view[1].reason.empty());
}

TEST_CASE("max_failures consecutive failures disable, a success in between resets", "[pool]") {
  using O = Outcome;
  struct Case {
    const char* name;
    std::vector<Outcome> outcomes;
    bool disabled;
    unsigned failures;
  };
  const Case cases[] = {
      {"three failures", {O::failed, O::failed, O::failed}, true, 3},
      {"two failures", {O::failed, O::failed}, false, 2},
      {"success between", {O::failed, O::failed, O::success, O::failed, O::failed}, false, 2},
      {"client errors do not count or reset",
       {O::failed, O::client_error, O::failed, O::cancelled, O::failed},
       true,
       3},
      {"429 does not count", {O::failed, O::rate_limited, O::failed}, false, 2},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    KeyPool pool("gemini", Policy{}, keys(1));
    TimePoint now = kT0;
    for (Outcome o : c.outcomes) {
      attempt(pool, "m", verdict(o, Duration(0)), now);
    }
    auto view = pool.snapshot(now);
    CHECK((view[0].state == KeyState::disabled) == c.disabled);
    CHECK(view[0].consecutive_failures == c.failures);
    CHECK(view[0].reason == (c.disabled ? "max_failures" : ""));
  }
}

TEST_CASE("all keys cooling gives the soonest retry_after", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(3));
  attempt(pool, "m", verdict(Outcome::rate_limited, seconds(40)));
  attempt(pool, "m", verdict(Outcome::rate_limited, Duration(7200)));
  attempt(pool, "m", verdict(Outcome::invalid, {}, false, "API_KEY_INVALID"));
  NoKey no = must_fail(pool.acquire("m", {}, kT0));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(8));
  CHECK(take(pool, "flash") == 0);
}

TEST_CASE("a tried key that is not cooling means not all cooling", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(2));
  attempt(pool, "m", verdict(Outcome::rate_limited, seconds(40)));
  NoKey no = must_fail(pool.acquire("m", {1}, kT0));
  CHECK_FALSE(no.all_cooling);
  CHECK(no.retry_after == seconds(40));
}

TEST_CASE("all keys disabled is not all cooling", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(2));
  attempt(pool, "m", verdict(Outcome::invalid, {}, false, "API_KEY_INVALID"));
  attempt(pool, "m", verdict(Outcome::invalid, {}, false, "PERMISSION_DENIED"));
  NoKey no = must_fail(pool.acquire("m", {}, kT0));
  CHECK_FALSE(no.all_cooling);
  CHECK(no.retry_after == Duration(0));
  Counts c = pool.counts(kT0);
  CHECK(c.disabled == 2);
  CHECK(c.active == 0);
}

TEST_CASE("in_flight counts leases not yet released", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(1));
  Lease a = must_lease(pool.acquire("m", {}, kT0));
  Lease b = must_lease(pool.acquire("m", {}, kT0));
  Lease c = must_lease(pool.acquire("other", {}, kT0));
  CHECK(pool.snapshot(kT0)[0].in_flight == 3);
  pool.release(b, "m", verdict(Outcome::cancelled), kT0, kWall);
  CHECK(pool.snapshot(kT0)[0].in_flight == 2);
  pool.release(a, "m", verdict(Outcome::invalid, {}, false, "API_KEY_INVALID"), kT0, kWall);
  pool.release(c, "other", verdict(Outcome::success), kT0, kWall);
  auto view = pool.snapshot(kT0);
  CHECK(view[0].in_flight == 0);
  CHECK(view[0].state == KeyState::disabled);  // a late success does not re-enable
}

TEST_CASE("a lease from another pool is ignored", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(1));
  Lease stranger{0, "not-a-key-of-this-pool", "00000000"};
  pool.release(stranger, "m", verdict(Outcome::invalid), kT0, kWall);
  Lease out_of_range{7, keys(1)[0], "00000000"};
  pool.release(out_of_range, "m", verdict(Outcome::invalid), kT0, kWall);
  CHECK(pool.counts(kT0).active == 1);
}

TEST_CASE("counts split keys into active, cooling and disabled", "[pool]") {
  KeyPool pool("gemini", Policy{}, keys(4));
  attempt(pool, "pro", verdict(Outcome::rate_limited, seconds(10)));              // key 0
  attempt(pool, "flash", verdict(Outcome::rate_limited, seconds(20)));            // key 0 again
  attempt(pool, "pro", verdict(Outcome::invalid, {}, false, "API_KEY_INVALID"));  // key 1
  Counts c = pool.counts(kT0);
  CHECK(c.active == 2);
  CHECK(c.cooling == 1);
  CHECK(c.disabled == 1);
  CHECK(pool.snapshot(kT0)[0].cooling.size() == 2);
  Counts later = pool.counts(kT0 + seconds(20));
  CHECK(later.active == 3);
  CHECK(later.cooling == 0);
  CHECK(gb::pool::key_state_name(KeyState::cooling) == std::string("cooling"));
}

TEST_CASE("concurrent acquire and release keep counts consistent", "[pool]") {
  constexpr int kThreads = 4;
  constexpr int kRounds = 5000;
  KeyPool pool("gemini", Policy{}, keys(5));
  std::atomic<bool> over_lent{false};
  std::atomic<int> leases{0};
  auto work = [&](int t) {
    const Outcome outcomes[] = {Outcome::success, Outcome::client_error, Outcome::cancelled,
                                Outcome::rate_limited};
    const char* models[] = {"pro", "flash"};
    for (int i = 0; i < kRounds; ++i) {
      std::string_view model = models[(i + t) % 2];
      auto r = pool.acquire(model, {}, kT0);
      if (!std::holds_alternative<Lease>(r)) {
        continue;
      }
      ++leases;
      unsigned lent = 0;
      for (const auto& kv : pool.snapshot(kT0)) {
        lent += kv.in_flight;
      }
      if (lent > kThreads) {
        over_lent = true;
      }
      // A zero retry_after cools until `now`, which is not cooling: keys stay usable.
      pool.release(std::get<Lease>(r), model, verdict(outcomes[i % 4], Duration(0)), kT0, kWall);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(work, t);
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK_FALSE(over_lent);
  CHECK(leases == kThreads * kRounds);
  Counts c = pool.counts(kT0);
  CHECK(c.active == 5);
  CHECK(c.cooling + c.disabled == 0);
  for (const auto& kv : pool.snapshot(kT0)) {
    CHECK(kv.in_flight == 0);
  }
}

TEST_CASE("a key disabled by max_failures gets one trial after trial_after", "[pool]") {
  Policy p;
  p.max_failures = 1;
  p.trial_after = seconds(60);
  KeyPool pool("g", p, keys(1));
  Lease l = must_lease(pool.acquire("m", {}, kT0));
  auto t = pool.release(l, "m", verdict(Outcome::failed), kT0, kWall);
  CHECK(t.kind == gb::pool::Transition::disabled);
  CHECK(t.reason == "max_failures");
  must_fail(pool.acquire("m", {}, kT0 + seconds(59)));

  // One trial at a time.
  Lease trial = must_lease(pool.acquire("m", {}, kT0 + seconds(60)));
  CHECK(trial.trial);
  must_fail(pool.acquire("m", {}, kT0 + seconds(61)));

  // A failed trial waits trial_after again.
  t = pool.release(trial, "m", verdict(Outcome::failed), kT0 + seconds(61), kWall);
  CHECK(t.kind == gb::pool::Transition::none);
  must_fail(pool.acquire("m", {}, kT0 + seconds(120)));

  trial = must_lease(pool.acquire("m", {}, kT0 + seconds(121)));
  t = pool.release(trial, "m", verdict(Outcome::success), kT0 + seconds(122), kWall);
  CHECK(t.kind == gb::pool::Transition::enabled);
  CHECK(pool.counts(kT0 + seconds(122)).active == 1);
  Lease again = must_lease(pool.acquire("m", {}, kT0 + seconds(123)));
  CHECK_FALSE(again.trial);
}

TEST_CASE("invalid keys get no trial and a success on an old lease does not re-enable", "[pool]") {
  Policy p;
  p.max_failures = 1;
  p.trial_after = seconds(1);
  KeyPool pool("g", p, keys(1));
  Lease a = must_lease(pool.acquire("m", {}, kT0));
  Lease b = must_lease(pool.acquire("m", {}, kT0));
  pool.release(a, "m", verdict(Outcome::invalid, {}, false, "API_KEY_INVALID"), kT0, kWall);
  auto t = pool.release(b, "m", verdict(Outcome::success), kT0, kWall);
  CHECK(t.kind == gb::pool::Transition::none);
  must_fail(pool.acquire("m", {}, kT0 + hours(1)));
}

TEST_CASE("release reports how long a 429 cools the key", "[pool]") {
  KeyPool pool("g", Policy{}, keys(1));
  Lease l = must_lease(pool.acquire("m", {}, kT0));
  auto t = pool.release(l, "m", verdict(Outcome::rate_limited, seconds(7)), kT0, kWall);
  CHECK(t.kind == gb::pool::Transition::cooled);
  CHECK(t.cool_for == seconds(7));
}
