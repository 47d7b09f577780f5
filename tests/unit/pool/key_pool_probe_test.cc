// Probes: how disabled keys come back (due_probes, probe_done, next_probe).
#include <catch2/catch.hpp>

#include "pool/key_pool.h"
#include "pool_test_util.h"

using namespace std::chrono;
using namespace gb::pool;
using namespace gb::pool::test;
using gb::Duration;

namespace {

Policy probing(Duration interval = seconds(60)) {
  Policy p;
  p.probe_interval = interval;
  p.ramp_up = seconds(60);
  return p;
}

}  // namespace

TEST_CASE("probe: due after probe_interval, one at a time, back on success", "[pool]") {
  KeyPool pool("gemini", probing(), specs(2));
  CHECK(pool.next_probe(kT0) == std::nullopt);
  attempt(pool, "m", invalid());
  CHECK(pool.next_probe(kT0) == kT0 + seconds(60));
  CHECK(pool.due_probes(kT0 + Duration(59999), 10).empty());

  auto due = pool.due_probes(kT0 + seconds(60), 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].index == 0);
  CHECK(due[0].key == key_at(0));
  CHECK(due[0].id == gb::key_id(key_at(0)));
  // In flight: not offered again, and no other key waits for one.
  CHECK(pool.due_probes(kT0 + seconds(60), 10).empty());
  CHECK(pool.next_probe(kT0 + seconds(60)) == std::nullopt);
  // Still disabled while the probe runs.
  CHECK(must_view(pool, key_at(0), kT0 + seconds(60)).state == KeyState::disabled);
  CHECK(take(pool, "m", Now{}.after(seconds(60))) == 1);

  // A failed probe: the next one after probe_interval again.
  Now fail = Now{}.after(seconds(61));
  Transition t =
      pool.probe_done(due[0], verdict(Outcome::failed, {}, false, "http_500"), fail.now, fail.wall);
  CHECK(t.kind == Transition::none);
  KeyView kv = must_view(pool, key_at(0), fail.now);
  CHECK(kv.state == KeyState::disabled);
  CHECK(kv.reason == "API_KEY_INVALID");  // a transport failure proves nothing new
  CHECK(kv.last_error == "http_500");
  CHECK(pool.next_probe(fail.now) == kT0 + seconds(121));
  CHECK(pool.due_probes(kT0 + Duration(120999), 10).empty());
  due = pool.due_probes(kT0 + seconds(121), 10);
  REQUIRE(due.size() == 1);

  Now back = Now{}.after(seconds(122));
  t = pool.probe_done(due[0], ok(), back.now, back.wall);
  CHECK(t.kind == Transition::enabled);
  CHECK(t.reason == "probe_ok");
  kv = must_view(pool, key_at(0), back.now);
  CHECK(kv.state == KeyState::active);
  CHECK(kv.reason.empty());
  CHECK(kv.consecutive_failures == 0);
  CHECK(kv.share == Approx(0.1));
  CHECK(pool.next_probe(back.now) == std::nullopt);
  CHECK(pool.due_probes(back.now + hours(10), 10).empty());
}

TEST_CASE("probe: a 429 answer proves the key is accepted", "[pool]") {
  KeyPool pool("gemini", probing(), specs(1));
  attempt(pool, "m", invalid());
  auto due = pool.due_probes(kT0 + seconds(60), 10);
  REQUIRE(due.size() == 1);
  Transition t =
      pool.probe_done(due[0], limited(seconds(5)), kT0 + seconds(60), kWall + seconds(60));
  CHECK(t.kind == Transition::enabled);
  CHECK(must_view(pool, key_at(0), kT0 + seconds(60)).state == KeyState::active);
}

TEST_CASE("probe: an invalid answer keeps the key disabled with the new reason", "[pool]") {
  KeyPool pool("gemini", probing(), specs(1));
  attempt(pool, "m", invalid("API_KEY_INVALID"));
  auto due = pool.due_probes(kT0 + seconds(60), 10);
  REQUIRE(due.size() == 1);
  Transition t =
      pool.probe_done(due[0], invalid("API_KEY_EXPIRED"), kT0 + seconds(60), kWall + seconds(60));
  CHECK(t.kind == Transition::none);
  CHECK(must_view(pool, key_at(0), kT0 + seconds(60)).reason == "API_KEY_EXPIRED");
  CHECK(pool.next_probe(kT0 + seconds(60)) == kT0 + seconds(120));
}

TEST_CASE("probe: keys disabled by max_failures are probed too", "[pool]") {
  Policy p = probing();
  p.max_failures = 2;
  KeyPool pool("gemini", p, specs(1));
  attempt(pool, "m", verdict(Outcome::failed));
  attempt(pool, "m", verdict(Outcome::failed), Now{}.after(seconds(5)));
  CHECK(must_view(pool, key_at(0)).reason == "max_failures");
  CHECK(pool.next_probe(kT0) == kT0 + seconds(65));  // from when it was disabled
}

TEST_CASE("probe: parked keys are never probed", "[pool]") {
  SECTION("parked while active") {
    KeyPool pool("gemini", probing(), specs(1));
    pool.set_manual(0, true, kT0, kWall);
    CHECK(pool.due_probes(kT0 + hours(24), 10).empty());
    CHECK(pool.next_probe(kT0) == std::nullopt);
  }
  SECTION("parked after being disabled") {
    KeyPool pool("gemini", probing(), specs(1));
    attempt(pool, "m", invalid());
    pool.set_manual(0, true, kT0 + seconds(1), kWall + seconds(1));
    CHECK(must_view(pool, key_at(0)).reason == "manual");
    CHECK(pool.due_probes(kT0 + hours(24), 10).empty());
  }
}

TEST_CASE("probe: probe_interval 0 never probes", "[pool]") {
  KeyPool pool("gemini", probing(Duration(0)), specs(1));
  attempt(pool, "m", invalid());
  CHECK(pool.next_probe(kT0) == std::nullopt);
  CHECK(pool.due_probes(kT0 + hours(24 * 365), 10).empty());
}

TEST_CASE("probe: due_probes hands out at most max, soonest first", "[pool]") {
  KeyPool pool("gemini", probing(), specs(4));
  // Disabled out of position order, so that "soonest first" is not "lowest index first".
  attempt(pool, "m", invalid(), Now{}.after(seconds(1)), {0});  // key 1, due at 61 s
  attempt(pool, "m", invalid(), Now{}.after(seconds(2)), {0});  // key 2, due at 62 s
  attempt(pool, "m", invalid(), Now{}.after(seconds(3)), {3});  // key 0, due at 63 s
  CHECK(pool.next_probe(kT0) == kT0 + seconds(61));
  auto first = pool.due_probes(kT0 + seconds(100), 2);
  REQUIRE(first.size() == 2);
  CHECK(first[0].index == 1);
  CHECK(first[1].index == 2);
  auto rest = pool.due_probes(kT0 + seconds(100), 2);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].index == 0);
  CHECK(pool.due_probes(kT0 + seconds(100), 0).empty());
}

TEST_CASE("probe: an operator's change while the probe runs wins", "[pool]") {
  SECTION("re-enabled by reset") {
    KeyPool pool("gemini", probing(), specs(1));
    attempt(pool, "m", invalid());
    auto due = pool.due_probes(kT0 + seconds(60), 10);
    REQUIRE(due.size() == 1);
    pool.reset({0}, kT0 + seconds(61), kWall + seconds(61));
    Transition t = pool.probe_done(due[0], invalid(), kT0 + seconds(62), kWall + seconds(62));
    CHECK(t.kind == Transition::none);
    CHECK(must_view(pool, key_at(0), kT0 + seconds(62)).state == KeyState::active);
  }
  SECTION("parked") {
    KeyPool pool("gemini", probing(), specs(1));
    attempt(pool, "m", invalid());
    auto due = pool.due_probes(kT0 + seconds(60), 10);
    REQUIRE(due.size() == 1);
    pool.set_manual(0, true, kT0 + seconds(61), kWall + seconds(61));
    Transition t = pool.probe_done(due[0], ok(), kT0 + seconds(62), kWall + seconds(62));
    CHECK(t.kind == Transition::none);
    KeyView kv = must_view(pool, key_at(0), kT0 + seconds(62));
    CHECK(kv.state == KeyState::disabled);
    CHECK(kv.reason == "manual");
  }
}

TEST_CASE("probe: never two in flight for one key", "[pool]") {
  // Disabled, probed, re-enabled by hand and disabled again while the first probe still
  // runs: the second episode's probe waits for the first probe's answer.
  KeyPool pool("gemini", probing(), specs(1));
  attempt(pool, "m", invalid());
  auto first = pool.due_probes(kT0 + seconds(60), 10);
  REQUIRE(first.size() == 1);
  pool.reset({0}, kT0 + seconds(61), kWall + seconds(61));
  attempt(pool, "m", invalid(), Now{}.after(seconds(62)));
  CHECK(pool.due_probes(kT0 + seconds(200), 10).empty());
  Now answer = Now{}.after(seconds(201));
  pool.probe_done(first[0], verdict(Outcome::failed), answer.now, answer.wall);
  CHECK(pool.due_probes(answer.now + seconds(59), 10).empty());
  auto again = pool.due_probes(answer.now + seconds(60), 10);
  REQUIRE(again.size() == 1);
  CHECK(pool.probe_done(again[0], ok(), answer.now + seconds(60), answer.wall + seconds(60)).kind ==
        Transition::enabled);
}

TEST_CASE("probe: a probe of a key that left changes nothing", "[pool]") {
  KeyPool pool("gemini", probing(), specs(1));
  auto added = pool.add_runtime_keys({"AIzaSyRuntimeKey-0000000000000"}, kT0, kWall);
  REQUIRE(added[0].added);
  uint32_t i = index_of(pool, "AIzaSyRuntimeKey-0000000000000");
  Lease l = must_lease(pool.acquire("m", {0}, kT0, kWall));
  REQUIRE(l.index == i);
  pool.release(l, "m", invalid(), kT0, kWall);
  auto due = pool.due_probes(kT0 + seconds(60), 10);
  REQUIRE(due.size() == 1);
  CHECK(pool.remove_runtime_key(i));
  // The position is reused by a new key: the old probe must not touch it.
  pool.add_runtime_keys({"AIzaSyRuntimeKey-1111111111111"}, kT0, kWall);
  REQUIRE(index_of(pool, "AIzaSyRuntimeKey-1111111111111") == i);
  Lease other = must_lease(pool.acquire("m", {0}, kT0 + seconds(61), kWall + seconds(61)));
  REQUIRE(other.index == i);
  pool.release(other, "m", invalid("API_KEY_EXPIRED"), kT0 + seconds(61), kWall + seconds(61));
  CHECK(pool.probe_done(due[0], ok(), kT0 + seconds(62), kWall + seconds(62)).kind ==
        Transition::none);
  KeyView kv = must_view(pool, "AIzaSyRuntimeKey-1111111111111", kT0 + seconds(62));
  CHECK(kv.state == KeyState::disabled);
  CHECK(kv.reason == "API_KEY_EXPIRED");
}
