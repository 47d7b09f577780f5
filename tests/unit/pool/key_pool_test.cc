// The key state machine of DESIGN §6: leases, cooling per (key, model), disabling,
// and what acquire() says when no key is left.
#include "pool/key_pool.h"

#include <catch2/catch.hpp>
#include <set>

#include "base/key_id.h"
#include "pool_test_util.h"

using namespace std::chrono;
using namespace gb::pool;
using namespace gb::pool::test;
using gb::Duration;

TEST_CASE("round robin rotates per model", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(3));
  for (uint32_t want : {0u, 1u, 2u, 0u, 1u}) {
    CHECK(take(pool, "gemini-2.5-pro") == want);
  }
  // Another model has its own cursor.
  CHECK(take(pool, "gemini-2.5-flash") == 0);
  CHECK(take(pool, "gemini-2.5-flash") == 1);
  CHECK(take(pool, "gemini-2.5-pro") == 2);
}

TEST_CASE("tried keys are skipped", "[pool]") {
  struct Case {
    std::vector<uint32_t> tried;
    std::optional<uint32_t> want;
  };
  const Case cases[] = {
      {{}, 0},
      {{0}, 1},
      {{0, 1}, 2},
      {{1, 2}, 0},
      {{2, 0, 99}, 1},  // a position the pool does not have is ignored
      {{0, 1, 2}, std::nullopt},
      {{1, 1, 0, 2}, std::nullopt},
  };
  for (const auto& c : cases) {
    KeyPool pool("gemini", Policy{}, specs(3));
    auto r = pool.acquire("m", c.tried, kT0, kWall);
    if (c.want) {
      CHECK(must_lease(r).index == *c.want);
    } else {
      NoKey no = must_fail(r);
      CHECK_FALSE(no.all_cooling);
      CHECK(no.retry_after == Duration(0));
    }
  }
}

TEST_CASE("tried keys are held out for one choice only", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(3));
  CHECK(must_lease(pool.acquire("m", {0, 1}, kT0, kWall)).index == 2);
  // The next request, which tried nothing, sees all three again.
  CHECK(must_lease(pool.acquire("m", {}, kT0, kWall)).index == 0);
  CHECK(must_lease(pool.acquire("m", {}, kT0, kWall)).index == 1);
}

TEST_CASE("a lease names its key, id and generation", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  Lease l = must_lease(pool.acquire("m", {}, kT0, kWall));
  CHECK(l.key == key_at(0));
  CHECK(l.id == gb::key_id(l.key));
  CHECK(l.gen != 0);
  KeyView kv = must_view(pool, key_at(0));
  CHECK(kv.id == l.id);
  CHECK(kv.hash == gb::key_hash(l.key));
  CHECK(kv.mask == gb::key_mask(l.key));
  CHECK_FALSE(kv.runtime);
  CHECK(kv.requests == 1);
  CHECK(kv.in_flight == 1);
}

TEST_CASE("empty and repeated keys are dropped", "[pool]") {
  KeyPool pool("gemini", Policy{},
               {{"AIzaKeyOne-000000"}, {""}, {"AIzaKeyTwo-000000"}, {"AIzaKeyOne-000000", 7}});
  CHECK(pool.size() == 2);
  CHECK(pool.name() == "gemini");
  CHECK(must_view(pool, "AIzaKeyOne-000000").weight == 1);  // the first listing wins
  KeyPool none("empty", Policy{}, {});
  CHECK(none.size() == 0);
  NoKey no = must_fail(none.acquire("m", {}, kT0, kWall));
  CHECK_FALSE(no.all_cooling);
  CHECK(no.retry_after == Duration(0));
}

TEST_CASE("a weight of 0 counts as 1", "[pool]") {
  KeyPool pool("gemini", Policy{}, {{"AIzaKeyZero-00000", 0}});
  CHECK(must_view(pool, "AIzaKeyZero-00000").weight == 1);
}

TEST_CASE("a key cooling for one model still serves another", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  Lease l = must_lease(pool.acquire("pro", {}, kT0, kWall));
  CHECK(l.index == 0);
  Transition t = pool.release(l, "pro", limited(seconds(60)), kT0, kWall);
  CHECK(t.kind == Transition::cooled);
  CHECK(t.cool_for == seconds(60));
  CHECK(t.reason == "rate_limited");
  CHECK(take(pool, "pro") == 1);
  CHECK(take(pool, "pro") == 1);
  CHECK(take(pool, "flash") == 0);
  CHECK(take(pool, "flash") == 1);
  CHECK(take(pool, "flash") == 0);
  KeyView kv = must_view(pool, key_at(0));
  CHECK(kv.state == KeyState::cooling);
  REQUIRE(kv.cooling.size() == 1);
  CHECK(kv.cooling[0] == std::pair<std::string, Duration>("pro", seconds(60)));
  CHECK(kv.rate_limited == 1);
  CHECK(kv.last_error == "rate_limited");
}

TEST_CASE("retry_after is honoured to the millisecond", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  attempt(pool, "m", limited(Duration(2464)));
  struct Case {
    Duration at;
    bool usable;
    Duration retry_after;  // NoKey's, when not usable
  };
  const Case cases[] = {
      {Duration(0), false, seconds(3)},    {Duration(1464), false, seconds(1)},
      {Duration(1465), false, seconds(1)},  // 999 ms left rounds up to 1 s
      {Duration(2463), false, seconds(1)},  // 1 ms left is still at least 1 s
      {Duration(2464), true, {}},
  };
  for (const auto& c : cases) {
    INFO(c.at.count());
    Now t = Now{}.after(c.at);
    auto r = pool.acquire("m", {}, t.now, t.wall);
    REQUIRE(std::holds_alternative<Lease>(r) == c.usable);
    if (!c.usable) {
      NoKey no = std::get<NoKey>(r);
      CHECK(no.all_cooling);
      CHECK(no.retry_after == c.retry_after);
    }
  }
}

TEST_CASE("exponential backoff with jitter stays in bounds", "[pool]") {
  struct Case {
    Duration cooldown, cooldown_max;
  };
  // The second cap is no power-of-two multiple of the cooldown: 30, 60, then 100 s.
  const Case cases[] = {{seconds(30), seconds(3600)}, {seconds(30), seconds(100)}};
  for (const auto& c : cases) {
    Policy policy;
    policy.cooldown = c.cooldown;
    policy.cooldown_max = c.cooldown_max;
    size_t below_cap = 0;
    for (uint64_t seed = 0; seed < 20; ++seed) {
      KeyPool pool("gemini", policy, specs(1), seed);
      Now t;
      Duration base = policy.cooldown;  // cooldown * 2^(n-1), capped
      for (int n = 1; n <= 10; ++n) {
        attempt(pool, "m", limited(), t);
        Duration got = cooling_left(pool, key_at(0), "m", t.now);
        INFO("max " << c.cooldown_max.count() << " seed " << seed << " n " << n << " got "
                    << got.count());
        CHECK(got >= base - base / 10);
        CHECK(got <= base + base / 10);
        CHECK(got <= policy.cooldown_max);
        if (base == policy.cooldown_max && got < base) {
          ++below_cap;  // the jitter still applies at the cap, downwards
        }
        t.advance(got);  // the key frees exactly then
        base = std::min(base * 2, policy.cooldown_max);
      }
    }
    CHECK(below_cap > 0);
  }
}

TEST_CASE("backoff jitter differs between seeds", "[pool]") {
  std::set<int64_t> seen;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    KeyPool pool("gemini", Policy{}, specs(1), seed);
    attempt(pool, "m", limited());
    seen.insert(cooling_left(pool, key_at(0), "m").count());
  }
  CHECK(seen.size() > 10);
}

TEST_CASE("a success resets the 429 streak of that model only", "[pool]") {
  Policy policy;
  policy.cooldown = seconds(100);
  policy.cooldown_max = seconds(10000);
  KeyPool pool("gemini", policy, specs(1));
  Now t;
  for (int i = 0; i < 3; ++i) {  // streaks of 3 on both models: the next would be 800 s
    for (const char* model : {"a", "b"}) {
      attempt(pool, model, limited(), t);
    }
    t.advance(seconds(1000));
  }
  attempt(pool, "a", ok(), t);
  attempt(pool, "a", limited(), t);
  attempt(pool, "b", limited(), t);
  CHECK(cooling_left(pool, key_at(0), "a", t.now) <= seconds(110));
  CHECK(cooling_left(pool, key_at(0), "b", t.now) >= seconds(720));
}

TEST_CASE("a 429 that names its delay still counts in the streak", "[pool]") {
  Policy policy;
  policy.cooldown = seconds(10);
  KeyPool pool("gemini", policy, specs(1));
  Now t;
  attempt(pool, "m", limited(seconds(1)), t);
  t.advance(seconds(1));
  attempt(pool, "m", limited(), t);  // n = 2: 20 s ± 10%
  Duration got = cooling_left(pool, key_at(0), "m", t.now);
  CHECK(got >= seconds(18));
  CHECK(got <= seconds(22));
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
    KeyPool pool("gemini", Policy{}, specs(1));
    // Gemini sends a short retryDelay with a per-day 429: the day wins.
    Lease l = must_lease(pool.acquire("m", {}, kT0, c.wall));
    Transition t = pool.release(l, "m", limited(seconds(23), true), kT0, c.wall);
    CHECK(t.kind == Transition::cooled);
    CHECK(t.cool_for == c.want);
    CHECK(cooling_left(pool, key_at(0), "m") == c.want);
    CHECK(cooling_left(pool, key_at(0), "other") == Duration(0));
  }
}

TEST_CASE("a running cooldown is never shortened", "[pool]") {
  SECTION("a shorter delay after a longer one") {
    KeyPool pool("gemini", Policy{}, specs(1));
    Lease a = must_lease(pool.acquire("m", {}, kT0, kWall));
    Lease b = must_lease(pool.acquire("m", {}, kT0, kWall));
    Lease c = must_lease(pool.acquire("m", {}, kT0, kWall));
    CHECK(pool.release(a, "m", limited({}, true), kT0, kWall).kind == Transition::cooled);
    Transition t = pool.release(b, "m", limited(seconds(5)), kT0, kWall);
    CHECK(t.kind == Transition::none);  // nothing changed
    CHECK(cooling_left(pool, key_at(0), "m") == hours(12));
    // A backoff (30 s) is no shorter-cut either.
    pool.release(c, "m", limited(), kT0 + seconds(1), kWall + seconds(1));
    CHECK(cooling_left(pool, key_at(0), "m") == hours(12));
  }
  SECTION("a longer delay after a shorter one extends") {
    KeyPool pool("gemini", Policy{}, specs(1));
    Lease a = must_lease(pool.acquire("m", {}, kT0, kWall));
    Lease b = must_lease(pool.acquire("m", {}, kT0, kWall));
    pool.release(a, "m", limited(seconds(5)), kT0, kWall);
    Transition t = pool.release(b, "m", limited(seconds(50)), kT0 + seconds(2), kWall);
    CHECK(t.kind == Transition::cooled);
    CHECK(t.cool_for == seconds(50));
    CHECK(cooling_left(pool, key_at(0), "m") == seconds(52));
  }
}

TEST_CASE("a 429 with a zero delay does not cool", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  Lease l = must_lease(pool.acquire("m", {}, kT0, kWall));
  Transition t = pool.release(l, "m", limited(Duration(0)), kT0, kWall);
  CHECK(t.kind == Transition::none);
  CHECK(pool.counts(kT0).active == 1);
  CHECK(take(pool, "m") == 0);
}

TEST_CASE("invalid disables the key with its reason", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  Lease l = must_lease(pool.acquire("m", {}, kT0, kWall));
  Transition t = pool.release(l, "m", invalid("CONSUMER_SUSPENDED"), kT0, kWall);
  CHECK(t.kind == Transition::disabled);
  CHECK(t.reason == "CONSUMER_SUSPENDED");
  for (int i = 0; i < 3; ++i) {
    CHECK(take(pool, "m") == 1);
    CHECK(take(pool, "other") == 1);  // disabled for every model, also new ones
  }
  KeyView kv = must_view(pool, key_at(0));
  CHECK(kv.state == KeyState::disabled);
  CHECK(kv.reason == "CONSUMER_SUSPENDED");
  CHECK(kv.share == 0.0);
  CHECK(kv.failures == 1);
  CHECK(kv.last_error == "CONSUMER_SUSPENDED");
  CHECK(must_view(pool, key_at(1)).reason.empty());
}

TEST_CASE("an invalid verdict without a reason disables as invalid", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  Verdict v = invalid();
  v.reason.clear();
  Lease l = must_lease(pool.acquire("m", {}, kT0, kWall));
  CHECK(pool.release(l, "m", v, kT0, kWall).reason == "invalid");
  CHECK(must_view(pool, key_at(0)).reason == "invalid");
}

TEST_CASE("max_failures consecutive failures disable, a success in between resets", "[pool]") {
  using O = Outcome;
  struct Case {
    const char* name;
    unsigned max_failures;
    std::vector<Outcome> outcomes;
    bool disabled;
    unsigned failures;
  };
  const Case cases[] = {
      {"three failures", 3, {O::failed, O::failed, O::failed}, true, 3},
      {"two failures", 3, {O::failed, O::failed}, false, 2},
      {"success between", 3, {O::failed, O::failed, O::success, O::failed, O::failed}, false, 2},
      {"client errors do not count or reset",
       3,
       {O::failed, O::client_error, O::failed, O::cancelled, O::failed},
       true,
       3},
      {"429 does not count or reset", 3, {O::failed, O::rate_limited, O::failed}, false, 2},
      {"one is enough at max_failures 1", 1, {O::failed}, true, 1},
      {"0 never disables", 0, std::vector<O>(20, O::failed), false, 20},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Policy p;
    p.max_failures = c.max_failures;
    KeyPool pool("gemini", p, specs(1));
    Transition last;
    for (Outcome o : c.outcomes) {
      Lease l = must_lease(pool.acquire("m", {}, kT0, kWall));
      last = pool.release(l, "m", verdict(o, Duration(0), false, "http_500"), kT0, kWall);
    }
    KeyView kv = must_view(pool, key_at(0));
    CHECK((kv.state == KeyState::disabled) == c.disabled);
    CHECK(kv.consecutive_failures == c.failures);
    CHECK(kv.reason == (c.disabled ? "max_failures" : ""));
    CHECK((last.kind == Transition::disabled) == c.disabled);
  }
}

TEST_CASE("client errors and cancellations leave the key untouched", "[pool]") {
  for (Outcome o : {Outcome::client_error, Outcome::cancelled}) {
    INFO(outcome_name(o));
    KeyPool pool("gemini", Policy{}, specs(1));
    attempt(pool, "m", verdict(Outcome::failed, {}, false, "http_503"));
    Lease l = must_lease(pool.acquire("m", {}, kT0, kWall));
    // Even with a retry_after or per_day flag the outcome wins: nothing cools.
    Transition t = pool.release(l, "m", verdict(o, seconds(60), true), kT0, kWall);
    CHECK(t.kind == Transition::none);
    KeyView kv = must_view(pool, key_at(0));
    CHECK(kv.state == KeyState::active);
    CHECK(kv.consecutive_failures == 1);
    CHECK(kv.failures == 1);
    CHECK(kv.last_error == "http_503");
    CHECK(kv.cooling.empty());
    CHECK(kv.in_flight == 0);
  }
}

TEST_CASE("all keys cooling gives the soonest retry_after", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(3));
  attempt(pool, "m", limited(seconds(40)));
  attempt(pool, "m", limited(Duration(7200)));
  attempt(pool, "m", invalid());
  NoKey no = must_fail(pool.acquire("m", {}, kT0, kWall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(8));  // 7.2 s, rounded up
  CHECK(take(pool, "flash") == 0);
  // Once the soonest frees, the next one is named.
  Now later = Now{}.after(seconds(8));
  CHECK(take(pool, "m", later) == 1);
  pool.release(must_lease(pool.acquire("m", {}, later.now, later.wall)), "m", limited(seconds(100)),
               later.now, later.wall);
  no = must_fail(pool.acquire("m", {}, later.now, later.wall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(32));
}

TEST_CASE("a tried key that is not cooling means not all cooling", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  attempt(pool, "m", limited(seconds(40)));
  NoKey no = must_fail(pool.acquire("m", {1}, kT0, kWall));
  CHECK_FALSE(no.all_cooling);
  CHECK(no.retry_after == seconds(40));
}

TEST_CASE("all keys disabled is not all cooling", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  attempt(pool, "m", invalid("API_KEY_INVALID"));
  attempt(pool, "m", invalid("PERMISSION_DENIED"));
  NoKey no = must_fail(pool.acquire("m", {}, kT0, kWall));
  CHECK_FALSE(no.all_cooling);
  CHECK(no.retry_after == Duration(0));
  Counts c = pool.counts(kT0);
  CHECK(c.disabled == 2);
  CHECK(c.active == 0);
  CHECK(c.cooling == 0);
}

TEST_CASE("a disabled key does not count against all cooling", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  attempt(pool, "m", limited(seconds(9)));
  attempt(pool, "m", invalid());
  NoKey no = must_fail(pool.acquire("m", {}, kT0, kWall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(9));
}

TEST_CASE("a cooling key that gets disabled is not named by retry_after", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  Lease a = must_lease(pool.acquire("m", {}, kT0, kWall));
  Lease b = must_lease(pool.acquire("m", {}, kT0, kWall));
  pool.release(a, "m", limited(seconds(5)), kT0, kWall);
  pool.release(b, "m", limited(seconds(50)), kT0, kWall);
  CHECK(must_fail(pool.acquire("m", {}, kT0, kWall)).retry_after == seconds(5));
  // Key 0 is cooling and still lent once more; that attempt disables it.
  Lease c = must_lease(pool.acquire("m", {1}, kT0 + seconds(5), kWall + seconds(5)));
  CHECK(c.index == 0);
  Lease d = must_lease(pool.acquire("m", {}, kT0 + seconds(5), kWall + seconds(5)));
  pool.release(c, "m", limited(seconds(5)), kT0 + seconds(5), kWall + seconds(5));
  pool.release(d, "m", invalid(), kT0 + seconds(6), kWall + seconds(6));
  NoKey no = must_fail(pool.acquire("m", {}, kT0 + seconds(6), kWall + seconds(6)));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(44));  // key 1's; key 0 is disabled, whatever its cooldown
}

TEST_CASE("in_flight counts leases not yet released", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  Lease a = must_lease(pool.acquire("m", {}, kT0, kWall));
  Lease b = must_lease(pool.acquire("m", {}, kT0, kWall));
  Lease c = must_lease(pool.acquire("other", {}, kT0, kWall));
  CHECK(must_view(pool, key_at(0)).in_flight == 3);
  pool.release(b, "m", verdict(Outcome::cancelled), kT0, kWall);
  CHECK(must_view(pool, key_at(0)).in_flight == 2);
  pool.release(a, "m", invalid(), kT0, kWall);
  Transition t = pool.release(c, "other", ok(), kT0, kWall);
  CHECK(t.kind == Transition::none);
  KeyView kv = must_view(pool, key_at(0));
  CHECK(kv.in_flight == 0);
  CHECK(kv.state == KeyState::disabled);  // a late success does not re-enable
  CHECK(kv.requests == 3);
}

TEST_CASE("a lease the pool did not give is ignored", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  Lease real = must_lease(pool.acquire("m", {}, kT0, kWall));
  Lease stale_gen{real.index, real.gen + 1, real.key, real.id};
  CHECK(pool.release(stale_gen, "m", invalid(), kT0, kWall).kind == Transition::none);
  Lease out_of_range{7, real.gen, key_at(0), "00000000"};
  CHECK(pool.release(out_of_range, "m", invalid(), kT0, kWall).kind == Transition::none);
  CHECK(pool.counts(kT0).active == 1);
  CHECK(must_view(pool, key_at(0)).in_flight == 1);
}

TEST_CASE("tokens and counters add up", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  Lease a = must_lease(pool.acquire("m", {}, kT0, kWall));
  Lease b = must_lease(pool.acquire("m", {}, kT0, kWall));
  pool.release(a, "m", ok(), kT0, kWall, 100, 20);
  pool.release(b, "m", verdict(Outcome::failed, {}, false, "read_timeout"), kT0, kWall, 5, 0);
  KeyView kv = must_view(pool, key_at(0));
  CHECK(kv.requests == 2);
  CHECK(kv.tokens_in == 105);
  CHECK(kv.tokens_out == 20);
  CHECK(kv.failures == 1);
  CHECK(kv.last_error == "read_timeout");
}

TEST_CASE("counts split keys into active, cooling and disabled", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(4));
  attempt(pool, "pro", limited(seconds(10)));    // key 0
  CHECK(take(pool, "flash") == 0);               // key 0 on its own flash cursor
  attempt(pool, "pro", invalid());               // key 1
  CHECK(take(pool, "flash") == 2);               // key 1 is disabled: skipped
  attempt(pool, "flash", limited(seconds(20)));  // key 3
  Counts c = pool.counts(kT0);
  CHECK(c.active == 1);
  CHECK(c.cooling == 2);
  CHECK(c.disabled == 1);
  CHECK(c.waiting == 0);
  Counts later = pool.counts(kT0 + seconds(10));
  CHECK(later.active == 2);
  CHECK(later.cooling == 1);
  Counts all = pool.counts(kT0 + seconds(20));
  CHECK(all.active == 3);
  CHECK(all.cooling == 0);
  CHECK(key_state_name(KeyState::active) == std::string("active"));
  CHECK(key_state_name(KeyState::cooling) == std::string("cooling"));
  CHECK(key_state_name(KeyState::disabled) == std::string("disabled"));
}

TEST_CASE("a key cooling for two models lists both", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  attempt(pool, "pro", limited(seconds(10)));
  attempt(pool, "flash", limited(seconds(20)));
  auto cooling = must_view(pool, key_at(0)).cooling;
  REQUIRE(cooling.size() == 2);  // by model name
  CHECK(cooling[0] == std::pair<std::string, Duration>("flash", seconds(20)));
  CHECK(cooling[1] == std::pair<std::string, Duration>("pro", seconds(10)));
}

TEST_CASE("policy() returns the policy in force", "[pool]") {
  Policy p;
  p.max_failures = 9;
  p.strategy = Strategy::least_busy;
  KeyPool pool("gemini", p, specs(1));
  CHECK(pool.policy().max_failures == 9);
  CHECK(pool.policy().strategy == Strategy::least_busy);
}

TEST_CASE("a call with an older clock reading cannot strand a key that already woke", "[pool]") {
  // Threads read the clock before the lock, so calls can arrive slightly out of order.
  Policy p;
  p.strategy = Strategy::least_busy;  // releases refresh the key in every model's lane
  KeyPool pool("gemini", p, specs(1));
  attempt(pool, "a", limited(seconds(10)));  // cooling for "a" until kT0 + 10 s
  Lease b = must_lease(pool.acquire("b", {}, kT0, kWall));
  Now woke = Now{}.after(seconds(11));
  Lease a = must_lease(pool.acquire("a", {}, woke.now, woke.wall));  // woke up for "a"
  pool.release(a, "a", ok(), woke.now, woke.wall);
  // A release stamped before the wake-up, as a slower thread would send it.
  pool.release(b, "b", ok(), kT0 + seconds(9), kWall + seconds(9));
  Now later = Now{}.after(seconds(12));
  CHECK(must_lease(pool.acquire("a", {}, later.now, later.wall)).index == 0);
}
