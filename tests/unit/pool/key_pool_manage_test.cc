// What operators do to a pool (gbctl): selectors, runtime keys, resets, parking, and
// reloads that change the keys or the policy.
#include <catch2/catch.hpp>
#include <set>

#include "base/key_id.h"
#include "pool/key_pool.h"
#include "pool_test_util.h"

using namespace std::chrono;
using namespace gb::pool;
using namespace gb::pool::test;
using gb::Duration;

namespace {

const std::string kRuntime = "AIzaSyRuntimeKey-0000000000000";
const std::string kRuntime2 = "AIzaSyRuntimeKey-2222222222222";

std::set<std::string> removed_hashes(const std::vector<KeyChange>& changes) {
  std::set<std::string> out;
  for (const KeyChange& c : changes) {
    if (c.removed) {
      out.insert(c.record.hash);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("match: by id, whole key, hash, hash prefix, mask prefix", "[pool]") {
  std::vector<KeySpec> ks = {
      {"AIzaFirstKey-aaaaaaa1111"}, {"AIzaSecondKy-bbbbbbb2222"}, {"XYZ-third-key-ccccc3333"}};
  KeyPool pool("gemini", Policy{}, ks);
  const std::string k = ks[1].key;
  const std::string hash = gb::key_hash(k);
  struct Case {
    std::string selector;
    std::vector<uint32_t> want;
  };
  const Case cases[] = {
      {gb::key_id(k), {1}},
      {k, {1}},
      {hash, {1}},
      {hash.substr(0, 12), {1}},
      {gb::key_mask(k), {1}},  // "AIza…2222"
      {"AIza", {0, 1}},        // a mask prefix two keys share: ambiguous
      {"XYZ-", {2}},
      {"", {}},
      {"no-such-key", {}},
      {hash.substr(0, 6), {}},  // too short a hash prefix names nothing
      {k.substr(0, 12), {}},    // a prefix of the secret is no selector
  };
  for (const auto& c : cases) {
    INFO("selector " << c.selector);
    CHECK(pool.match(c.selector) == c.want);
  }
}

TEST_CASE("runtime keys: added, reported when already there", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  auto r = pool.add_runtime_keys({kRuntime, key_at(0), kRuntime, ""}, kT0, kWall);
  REQUIRE(r.size() == 4);
  CHECK(r[0].added);
  CHECK(r[0].id == gb::key_id(kRuntime));
  CHECK(r[0].mask == gb::key_mask(kRuntime));
  CHECK_FALSE(r[1].added);  // a config key
  CHECK(r[1].id == gb::key_id(key_at(0)));
  CHECK_FALSE(r[2].added);  // twice in one call
  CHECK_FALSE(r[3].added);  // empty
  CHECK(pool.size() == 3);
  KeyView kv = must_view(pool, kRuntime);
  CHECK(kv.runtime);
  CHECK(kv.state == KeyState::active);
  CHECK_FALSE(must_view(pool, key_at(0)).runtime);
  std::set<uint32_t> used;
  for (int i = 0; i < 3; ++i) {
    used.insert(take(pool, "m"));
  }
  CHECK(used.size() == 3);  // the new key serves in turn
}

TEST_CASE("runtime keys can be removed but config keys cannot", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  pool.add_runtime_keys({kRuntime}, kT0, kWall);
  pool.take_changes(kT0, kWall);
  uint32_t i = index_of(pool, kRuntime);
  CHECK_FALSE(pool.remove_runtime_key(0));
  CHECK_FALSE(pool.remove_runtime_key(99));
  CHECK(pool.remove_runtime_key(i));
  CHECK_FALSE(pool.remove_runtime_key(i));
  CHECK(pool.size() == 2);
  CHECK(pool.match(kRuntime).empty());
  auto changes = pool.take_changes(kT0, kWall);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].removed);
  CHECK(changes[0].record.pool == "gemini");
  CHECK(changes[0].record.hash == gb::key_hash(kRuntime));
  for (int n = 0; n < 4; ++n) {
    CHECK(take(pool, "m") != i);
  }
}

TEST_CASE("a lease of a removed key is released harmlessly", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  pool.add_runtime_keys({kRuntime}, kT0, kWall);
  uint32_t i = index_of(pool, kRuntime);
  Lease old = must_lease(pool.acquire("m", {0}, kT0, kWall));
  REQUIRE(old.index == i);
  CHECK(pool.remove_runtime_key(i));
  // A new key takes the same position; the old lease must not touch it.
  pool.add_runtime_keys({kRuntime2}, kT0, kWall);
  REQUIRE(index_of(pool, kRuntime2) == i);
  Lease fresh = must_lease(pool.acquire("m", {0}, kT0, kWall));
  REQUIRE(fresh.index == i);
  CHECK(fresh.gen != old.gen);
  Transition t = pool.release(old, "m", invalid(), kT0, kWall);
  CHECK(t.kind == Transition::none);
  KeyView kv = must_view(pool, kRuntime2);
  CHECK(kv.state == KeyState::active);
  CHECK(kv.in_flight == 1);
  CHECK(kv.failures == 0);
  pool.release(fresh, "m", ok(), kT0, kWall);
  CHECK(must_view(pool, kRuntime2).in_flight == 0);
}

TEST_CASE("reset clears cooldowns, failures and disabling of the keys named", "[pool]") {
  Policy p;
  p.cooldown = seconds(30);
  KeyPool pool("gemini", p, specs(4));
  attempt(pool, "pro", limited());                 // 0
  attempt(pool, "pro", invalid());                 // 1
  attempt(pool, "pro", verdict(Outcome::failed));  // 2
  attempt(pool, "pro", limited(seconds(100)));     // 3
  Now t = Now{}.after(seconds(34));                // key 0's first cooldown (30 s ± 10%) is over
  attempt(pool, "pro", limited(), t);              // key 0 again: its streak is at 2 (60 s)
  CHECK(cooling_left(pool, key_at(0), "pro", t.now) >= seconds(54));

  pool.reset({0, 1, 2, 77}, t.now, t.wall);  // an unknown position is ignored
  KeyView k0 = must_view(pool, key_at(0), t.now);
  CHECK(k0.state == KeyState::active);
  CHECK(k0.cooling.empty());
  KeyView k1 = must_view(pool, key_at(1), t.now);
  CHECK(k1.state == KeyState::active);
  CHECK(k1.reason.empty());
  CHECK(k1.share == 1.0);  // an operator's reset: no ramp-up
  CHECK(must_view(pool, key_at(2), t.now).consecutive_failures == 0);
  CHECK(must_view(pool, key_at(3), t.now).state == KeyState::cooling);  // not named
  CHECK(pool.due_probes(t.now, 10).empty());  // key 1 needs no probe now
  CHECK(pool.next_probe(t.now) == std::nullopt);

  // The 429 streak starts over.
  Lease l = must_lease(pool.acquire("pro", {1, 2, 3}, t.now, t.wall));
  REQUIRE(l.index == 0);
  pool.release(l, "pro", limited(), t.now, t.wall);
  CHECK(cooling_left(pool, key_at(0), "pro", t.now) <= seconds(33));

  pool.reset_all(t.now, t.wall);
  Counts c = pool.counts(t.now);
  CHECK(c.active == 4);
  CHECK(c.cooling == 0);
  CHECK(c.disabled == 0);
}

TEST_CASE("reset brings a ramping key to its full share", "[pool]") {
  Policy p;
  p.probe_interval = seconds(10);
  p.ramp_up = seconds(60);
  KeyPool pool("gemini", p, specs(2));
  Now back = Now{}.after(seconds(10));
  probe_back(pool, key_at(0), Now{}, back);
  CHECK(must_view(pool, key_at(0), back.now).share < 0.2);
  pool.reset({0}, back.now, back.wall);
  CHECK(must_view(pool, key_at(0), back.now).share == 1.0);
}

TEST_CASE("set_manual parks a key and brings it back", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  pool.set_manual(0, true, kT0, kWall);
  KeyView kv = must_view(pool, key_at(0));
  CHECK(kv.state == KeyState::disabled);
  CHECK(kv.reason == "manual");
  for (int i = 0; i < 3; ++i) {
    CHECK(take(pool, "m") == 1);
  }
  pool.set_manual(0, false, kT0, kWall);
  kv = must_view(pool, key_at(0));
  CHECK(kv.state == KeyState::active);
  CHECK(kv.share == 1.0);
  std::set<uint32_t> used;
  for (int i = 0; i < 2; ++i) {
    used.insert(take(pool, "m"));
  }
  CHECK(used.size() == 2);

  // Unparking a key that is not disabled, or a position that is not there: no change.
  pool.set_manual(1, false, kT0, kWall);
  pool.set_manual(42, true, kT0, kWall);
  CHECK(pool.counts(kT0).active == 2);

  // A key disabled by the upstream can be brought back by hand too.
  attempt(pool, "m", invalid());
  CHECK(pool.counts(kT0).disabled == 1);
  pool.set_manual(0, false, kT0, kWall);
  pool.set_manual(1, false, kT0, kWall);
  CHECK(pool.counts(kT0).active == 2);
}

TEST_CASE("reconfigure keeps surviving keys' state, drops gone ones, adds new ones", "[pool]") {
  Policy p;
  p.max_failures = 3;
  KeyPool pool("gemini", p, specs(4));
  attempt(pool, "pro", limited(seconds(60)));                           // 0: cooling
  attempt(pool, "pro", invalid());                                      // 1: disabled
  attempt(pool, "pro", verdict(Outcome::failed));                       // 2: one failure
  Lease gone = must_lease(pool.acquire("pro", {0, 1, 2}, kT0, kWall));  // 3, in flight
  REQUIRE(gone.index == 3);
  pool.take_changes(kT0, kWall);

  std::vector<KeySpec> next = {{key_at(0)}, {key_at(1)}, {key_at(2)}, {key_at(5)}};
  Now t = Now{}.after(seconds(1));
  pool.reconfigure(p, next, t.now, t.wall);
  CHECK(pool.size() == 4);
  CHECK(pool.match(key_at(3)).empty());
  CHECK(cooling_left(pool, key_at(0), "pro", t.now) == seconds(59));
  CHECK(must_view(pool, key_at(1), t.now).reason == "API_KEY_INVALID");
  CHECK(must_view(pool, key_at(2), t.now).consecutive_failures == 1);
  KeyView fresh = must_view(pool, key_at(5), t.now);
  CHECK(fresh.state == KeyState::active);
  CHECK_FALSE(fresh.runtime);

  auto changes = pool.take_changes(t.now, t.wall);
  CHECK(removed_hashes(changes) == std::set<std::string>{gb::key_hash(key_at(3))});
  bool new_key_written = false;
  for (const KeyChange& c : changes) {
    new_key_written |= !c.removed && c.record.hash == gb::key_hash(key_at(5));
  }
  CHECK(new_key_written);

  // The removed key's lease changes nothing, whoever holds its position now.
  CHECK(pool.release(gone, "pro", invalid(), t.now, t.wall).kind == Transition::none);
  std::multiset<std::string> served;
  for (int i = 0; i < 4; ++i) {
    Lease l = must_lease(pool.acquire("pro", {}, t.now, t.wall));
    served.insert(l.key);
    pool.release(l, "pro", ok(), t.now, t.wall);
  }
  // Keys 2 and 5 serve; 0 cools and 1 is disabled.
  CHECK(served == std::multiset<std::string>{key_at(2), key_at(2), key_at(5), key_at(5)});
}

TEST_CASE("reconfigure applies a new strategy and new weights", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2), 5);
  CHECK(take(pool, "m") == 0);
  CHECK(take(pool, "m") == 1);
  Policy weighted;
  weighted.strategy = Strategy::weighted;
  pool.reconfigure(weighted, weighted_specs({1, 99}), kT0, kWall);
  CHECK(pool.policy().strategy == Strategy::weighted);
  CHECK(must_view(pool, key_at(1)).weight == 99);
  std::vector<int> h(2);
  for (int i = 0; i < 2000; ++i) {
    ++h[take(pool, "m")];
  }
  CHECK(h[0] > 0);
  CHECK(h[0] < 60);  // about 20

  // New weights under the same strategy: now the other way round.
  pool.reconfigure(weighted, weighted_specs({99, 1}), kT0, kWall);
  h = {0, 0};
  for (int i = 0; i < 2000; ++i) {
    ++h[take(pool, "m")];
  }
  CHECK(h[1] < 60);

  Policy least;
  least.strategy = Strategy::least_busy;
  pool.reconfigure(least, weighted_specs({99, 1}), kT0, kWall);
  Lease a = must_lease(pool.acquire("m", {}, kT0, kWall));
  Lease b = must_lease(pool.acquire("m", {}, kT0, kWall));
  CHECK(a.index != b.index);  // weights no longer matter, loads do
  pool.release(a, "m", ok(), kT0, kWall);
  CHECK(must_lease(pool.acquire("flash", {}, kT0, kWall)).index == a.index);
}

TEST_CASE("reconfigure: a runtime key that was also configured stays when unlisted", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  pool.add_runtime_keys({kRuntime}, kT0, kWall);
  std::vector<KeySpec> with_it = {{key_at(0)}, {kRuntime, 3}};
  pool.reconfigure(Policy{}, with_it, kT0, kWall);
  KeyView kv = must_view(pool, kRuntime);
  CHECK_FALSE(kv.runtime);  // configured now
  CHECK(kv.weight == 3);
  CHECK_FALSE(pool.remove_runtime_key(index_of(pool, kRuntime)));

  pool.reconfigure(Policy{}, specs(1), kT0, kWall);
  CHECK(pool.size() == 2);
  CHECK(must_view(pool, kRuntime).runtime);
  CHECK(pool.remove_runtime_key(index_of(pool, kRuntime)));

  // A plain runtime key is untouched by reloads.
  pool.add_runtime_keys({kRuntime2}, kT0, kWall);
  pool.reconfigure(Policy{}, specs(3), kT0, kWall);
  CHECK(pool.size() == 4);
  CHECK(must_view(pool, kRuntime2).runtime);
}

TEST_CASE("reconfigure applies the new policy to later outcomes", "[pool]") {
  Policy p;
  p.max_failures = 5;
  KeyPool pool("gemini", p, specs(1));
  attempt(pool, "m", verdict(Outcome::failed));
  p.max_failures = 2;
  pool.reconfigure(p, specs(1), kT0, kWall);
  CHECK(pool.policy().max_failures == 2);
  Lease l = must_lease(pool.acquire("m", {}, kT0, kWall));
  CHECK(pool.release(l, "m", verdict(Outcome::failed), kT0, kWall).kind == Transition::disabled);
}
