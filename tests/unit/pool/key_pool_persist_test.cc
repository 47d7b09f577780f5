// Persistence: the records a pool exports (take_changes) and imports (restore). Stored
// times are wall-clock milliseconds; a restored pool runs on another steady clock.
#include <catch2/catch.hpp>
#include <map>
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

int64_t ms(WallTime w) {
  return duration_cast<milliseconds>(w.time_since_epoch()).count();
}

// Folds changes into the latest record per key hash, as the store would.
void fold(std::map<std::string, KeyRecord>& db, const std::vector<KeyChange>& changes) {
  for (const KeyChange& c : changes) {
    if (c.removed) {
      db.erase(c.record.hash);
    } else {
      db[c.record.hash] = c.record;
    }
  }
}

std::vector<KeyRecord> rows(const std::map<std::string, KeyRecord>& db) {
  std::vector<KeyRecord> out;
  for (const auto& [hash, r] : db) {
    out.push_back(r);
  }
  return out;
}

// A record of config key `i` as the store would hold it.
KeyRecord record_of_key(int i) {
  KeyRecord r;
  r.pool = "gemini";
  r.hash = gb::key_hash(key_at(i));
  r.id = gb::key_id(key_at(i));
  r.mask = gb::key_mask(key_at(i));
  r.origin = "config";
  return r;
}

std::map<std::string, KeyView> by_hash(const std::vector<KeyView>& views) {
  std::map<std::string, KeyView> out;
  for (const KeyView& kv : views) {
    out[kv.hash] = kv;
  }
  return out;
}

void check_same_view(const KeyView& a, const KeyView& b) {
  INFO("key " << a.id);
  CHECK(a.id == b.id);
  CHECK(a.mask == b.mask);
  CHECK(a.runtime == b.runtime);
  CHECK(a.state == b.state);
  CHECK(a.reason == b.reason);
  CHECK(a.weight == b.weight);
  CHECK(a.consecutive_failures == b.consecutive_failures);
  CHECK(a.in_flight == b.in_flight);
  CHECK(a.share == Approx(b.share).margin(1e-9));
  CHECK(a.requests == b.requests);
  CHECK(a.failures == b.failures);
  CHECK(a.rate_limited == b.rate_limited);
  CHECK(a.tokens_in == b.tokens_in);
  CHECK(a.tokens_out == b.tokens_out);
  CHECK(a.last_error == b.last_error);
  CHECK(a.cooling == b.cooling);
}

}  // namespace

TEST_CASE("take_changes: every key at first, then only what changed", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(3));
  auto first = pool.take_changes(kT0, kWall);
  REQUIRE(first.size() == 3);
  for (const KeyChange& c : first) {
    CHECK_FALSE(c.removed);
    CHECK(c.record.pool == "gemini");
    CHECK(c.record.origin == "config");
    CHECK(c.record.secret.empty());  // config keys never reach the database
    CHECK(c.record.weight == 1);
    CHECK_FALSE(c.record.disabled);
  }
  CHECK(pool.take_changes(kT0, kWall).empty());

  attempt(pool, "m", ok());
  auto second = pool.take_changes(kT0, kWall);
  REQUIRE(second.size() == 1);
  CHECK(second[0].record.hash == gb::key_hash(key_at(0)));
  CHECK(second[0].record.id == gb::key_id(key_at(0)));
  CHECK(second[0].record.mask == gb::key_mask(key_at(0)));
  CHECK(second[0].record.requests == 1);
  CHECK(second[0].record.last_used_ms == ms(kWall));

  pool.add_runtime_keys({kRuntime}, kT0, kWall);
  auto third = pool.take_changes(kT0, kWall);
  REQUIRE(third.size() == 1);
  CHECK(third[0].record.origin == "runtime");
  CHECK(third[0].record.secret == kRuntime);
}

TEST_CASE("take_changes: a record says what happened to the key", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  pool.take_changes(kT0, kWall);
  Now t = Now{}.after(seconds(5));
  Lease a = must_lease(pool.acquire("pro", {}, t.now, t.wall));
  pool.release(a, "pro", limited(seconds(90)), t.now, t.wall, 10, 0);
  Lease b = must_lease(pool.acquire("pro", {}, t.now, t.wall));
  pool.release(b, "pro", invalid("API_KEY_EXPIRED"), t.now, t.wall, 3, 0);
  std::map<std::string, KeyRecord> db;
  fold(db, pool.take_changes(t.now, t.wall));
  REQUIRE(db.size() == 2);

  const KeyRecord& cooled = db.at(gb::key_hash(key_at(0)));
  REQUIRE(cooled.models.size() == 1);
  CHECK(cooled.models[0].model == "pro");
  CHECK(cooled.models[0].cool_until_ms == ms(t.wall) + 90000);
  CHECK(cooled.models[0].rate_limits == 1);
  CHECK(cooled.rate_limited == 1);
  CHECK(cooled.tokens_in == 10);
  CHECK(cooled.last_error == "rate_limited");
  CHECK(cooled.last_error_ms == ms(t.wall));
  CHECK_FALSE(cooled.disabled);

  const KeyRecord& off = db.at(gb::key_hash(key_at(1)));
  CHECK(off.disabled);
  CHECK(off.reason == "API_KEY_EXPIRED");
  CHECK(off.disabled_at_ms == ms(t.wall));
  CHECK(off.failures == 1);

  // Once the cooldown is over, an exported record no longer carries it.
  Now later = Now{}.after(seconds(200));
  attempt(pool, "pro", ok(), later);
  fold(db, pool.take_changes(later.now, later.wall));
  const KeyRecord& after = db.at(gb::key_hash(key_at(0)));
  CHECK(after.models.empty());  // no cooldown, the streak reset by the success
}

TEST_CASE("export and restore into a fresh pool give the same snapshot", "[pool]") {
  Policy p;
  p.probe_interval = seconds(30);
  p.ramp_up = seconds(100);
  p.max_failures = 3;
  std::vector<KeySpec> config = weighted_specs({1, 2, 3, 4, 5, 6});
  KeyPool a("gemini", p, config, 1);
  std::map<std::string, KeyRecord> db;
  fold(db, a.take_changes(kT0, kWall));

  Now t;
  a.add_runtime_keys({kRuntime}, t.now, t.wall);
  auto only = [&](int i) {
    std::vector<uint32_t> tried;
    for (uint32_t j = 0; j < a.size(); ++j) {
      if (j != static_cast<uint32_t>(i)) {
        tried.push_back(j);
      }
    }
    return tried;
  };
  auto outcome = [&](int i, std::string_view model, const Verdict& v, uint64_t in = 0,
                     uint64_t out = 0) {
    Lease l = must_lease(a.acquire(model, only(i), t.now, t.wall));
    REQUIRE(l.index == static_cast<uint32_t>(i));
    a.release(l, model, v, t.now, t.wall, in, out);
  };
  outcome(0, "pro", limited(seconds(600)), 100, 0);                    // cooling for pro
  outcome(0, "flash", limited(seconds(300)), 5, 1);                    // and for flash
  outcome(1, "pro", invalid("API_KEY_INVALID"));                       // disabled
  outcome(2, "pro", verdict(Outcome::failed, {}, false, "http_502"));  // two failures
  outcome(2, "pro", verdict(Outcome::failed, {}, false, "http_503"));
  outcome(3, "pro", invalid());  // probed back below: ramping
  fold(db, a.take_changes(t.now, t.wall));
  t.advance(seconds(30));
  auto due = a.due_probes(t.now, 10);
  REQUIRE(due.size() == 2);  // keys 1 and 3
  for (const ProbeLease& pr : due) {
    a.probe_done(pr, pr.index == 3 ? ok() : invalid(), t.now, t.wall);
  }
  a.set_manual(4, true, t.now, t.wall);  // parked
  outcome(5, "pro", ok(), 40, 60);
  outcome(6, "lite", ok(), 1, 1);  // the runtime key
  t.advance(seconds(20));          // some of the cooldowns and of the ramp-up went by
  fold(db, a.take_changes(t.now, t.wall));

  // Another process: its steady clock started elsewhere, the wall clock is the same.
  TimePoint other_now = TimePoint{} + hours(5);
  KeyPool b("gemini", p, config, 2);
  b.restore(rows(db), other_now, t.wall);
  REQUIRE(b.size() == a.size());
  auto va = by_hash(a.snapshot(t.now));
  auto vb = by_hash(b.snapshot(other_now));
  REQUIRE(va.size() == vb.size());
  for (const auto& [hash, kv] : va) {
    REQUIRE(vb.count(hash) == 1);
    check_same_view(kv, vb.at(hash));
  }
  // Spot checks that the states were not trivially empty.
  CHECK(vb.at(gb::key_hash(key_at(0))).cooling.size() == 2);
  CHECK(vb.at(gb::key_hash(key_at(1))).state == KeyState::disabled);
  CHECK(vb.at(gb::key_hash(key_at(3))).share == Approx(0.1 + 0.9 * 0.2));
  CHECK(vb.at(gb::key_hash(key_at(4))).reason == "manual");
  CHECK(vb.at(gb::key_hash(kRuntime)).runtime);
  Counts ca = a.counts(t.now), cb = b.counts(other_now);
  CHECK(cb.active == ca.active);
  CHECK(cb.cooling == ca.cooling);
  CHECK(cb.disabled == ca.disabled);

  // What the restore read is not written back. Records keep when a key was disabled,
  // not when it was last probed: key 1, disabled 50 s ago, is probed at once.
  CHECK(b.take_changes(other_now, t.wall).empty());
  CHECK(b.next_probe(other_now) == other_now);
}

TEST_CASE("restore: cooldowns come back from wall-clock milliseconds", "[pool]") {
  Policy p;
  p.cooldown = seconds(30);
  KeyPool pool("gemini", p, specs(2));
  KeyRecord r = record_of_key(0);
  r.models.push_back({"pro", ms(kWall) + 90000, 3, 0, 0});
  r.models.push_back({"flash", ms(kWall) - 1, 0, 0, 0});  // already over
  pool.restore({r}, kT0, kWall);
  CHECK(cooling_left(pool, key_at(0), "pro") == seconds(90));
  CHECK(cooling_left(pool, key_at(0), "flash") == Duration(0));
  for (int i = 0; i < 3; ++i) {
    CHECK(take(pool, "pro") == 1);
  }
  CHECK(take(pool, "flash") == 0);
  Now t = Now{}.after(seconds(90));
  Lease l = must_lease(pool.acquire("pro", {1}, t.now, t.wall));
  CHECK(l.index == 0);
  // The restored 429 streak drives the next backoff: n = 4, 240 s ± 10%.
  pool.release(l, "pro", limited(), t.now, t.wall);
  Duration left = cooling_left(pool, key_at(0), "pro", t.now);
  CHECK(left >= seconds(216));
  CHECK(left <= seconds(264));
}

TEST_CASE("restore: disabled keys come back disabled, probed on schedule", "[pool]") {
  Policy p;
  p.probe_interval = minutes(30);
  KeyPool pool("gemini", p, specs(3));
  KeyRecord recent = record_of_key(0);
  recent.disabled = true;
  recent.reason = "CONSUMER_SUSPENDED";
  recent.disabled_at_ms = ms(kWall - minutes(10));
  KeyRecord old = record_of_key(1);
  old.disabled = true;
  old.reason = "max_failures";
  old.consecutive_failures = 3;
  old.disabled_at_ms = ms(kWall - hours(5));
  KeyRecord parked = record_of_key(2);
  parked.disabled = true;
  parked.reason = "manual";
  parked.disabled_at_ms = ms(kWall - hours(5));
  pool.restore({recent, old, parked}, kT0, kWall);

  CHECK(must_view(pool, key_at(0)).reason == "CONSUMER_SUSPENDED");
  KeyView kv = must_view(pool, key_at(1));
  CHECK(kv.reason == "max_failures");
  CHECK(kv.consecutive_failures == 3);
  CHECK(pool.counts(kT0).disabled == 3);
  NoKey no = must_fail(pool.acquire("m", {}, kT0, kWall));
  CHECK_FALSE(no.all_cooling);

  CHECK(pool.next_probe(kT0) == kT0);  // overdue: at once
  auto due = pool.due_probes(kT0, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].index == 1);
  CHECK(pool.next_probe(kT0) == kT0 + minutes(20));
  due = pool.due_probes(kT0 + minutes(20), 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].index == 0);
  CHECK(pool.due_probes(kT0 + hours(24), 10).empty());  // the parked one never
}

TEST_CASE("restore: runtime keys come back with their secret", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  KeyRecord r;
  r.pool = "gemini";
  r.hash = gb::key_hash(kRuntime);
  r.origin = "runtime";
  r.secret = kRuntime;
  r.weight = 4;
  r.requests = 17;
  KeyRecord lost = r;  // a runtime record without its secret cannot come back
  lost.hash = gb::key_hash("AIzaSyLostRuntimeKey-000000000");
  lost.secret.clear();
  pool.restore({r, lost}, kT0, kWall);
  CHECK(pool.size() == 2);
  KeyView kv = must_view(pool, kRuntime);
  CHECK(kv.runtime);
  CHECK(kv.weight == 4);
  CHECK(kv.requests == 17);
  Lease l = must_lease(pool.acquire("m", {0}, kT0, kWall));
  CHECK(l.key == kRuntime);
  CHECK(pool.remove_runtime_key(l.index));
  auto changes = pool.take_changes(kT0, kWall);
  std::set<std::string> removed;
  for (const KeyChange& c : changes) {
    if (c.removed) {
      removed.insert(c.record.hash);
    }
  }
  CHECK(removed == std::set<std::string>{lost.hash, r.hash});
}

TEST_CASE("restore: records of keys no longer configured become removals", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  pool.take_changes(kT0, kWall);
  KeyRecord gone = record_of_key(7);
  gone.disabled = true;
  gone.reason = "API_KEY_INVALID";
  KeyRecord kept = record_of_key(1);
  kept.requests = 5;
  pool.restore({gone, kept}, kT0, kWall);
  CHECK(pool.size() == 2);
  CHECK(pool.match(key_at(7)).empty());
  CHECK(must_view(pool, key_at(1)).requests == 5);
  auto changes = pool.take_changes(kT0, kWall);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].removed);
  CHECK(changes[0].record.pool == "gemini");
  CHECK(changes[0].record.hash == gone.hash);
}

TEST_CASE("restore: config keys without a record are written out", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(3));
  pool.restore({record_of_key(0)}, kT0, kWall);
  std::set<std::string> written;
  for (const KeyChange& c : pool.take_changes(kT0, kWall)) {
    written.insert(c.record.hash);
  }
  CHECK(written == std::set<std::string>{gb::key_hash(key_at(1)), gb::key_hash(key_at(2))});
}

TEST_CASE("restore: a ramp-up in progress continues", "[pool]") {
  Policy p;
  p.ramp_up = seconds(60);
  KeyPool pool("gemini", p, specs(2));
  KeyRecord ramping = record_of_key(0);
  ramping.enabled_at_ms = ms(kWall - seconds(30));
  KeyRecord done = record_of_key(1);
  done.enabled_at_ms = ms(kWall - seconds(61));
  pool.restore({ramping, done}, kT0, kWall);
  CHECK(must_view(pool, key_at(0)).share == Approx(0.55));
  CHECK(must_view(pool, key_at(1)).share == 1.0);
}

TEST_CASE("restore: the day's request count holds a per-day quota", "[pool]") {
  Policy p;
  p.quota_for = [](std::string_view) { return QuotaLimits{0, 0, 5}; };
  KeyPool pool("gemini", p, specs(2));
  KeyRecord spent = record_of_key(0);
  spent.models.push_back({"pro", 0, 0, pacific_day(kWall), 5});
  KeyRecord yesterday = record_of_key(1);
  yesterday.models.push_back({"pro", 0, 0, pacific_day(kWall) - 1, 5});
  pool.restore({spent, yesterday}, kT0, kWall);
  for (int i = 0; i < 5; ++i) {
    CHECK(take(pool, "pro") == 1);
  }
  NoKey no = must_fail(pool.acquire("pro", {}, kT0, kWall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == hours(12));
}

TEST_CASE("restore rebuilds lanes that already served", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  CHECK(take(pool, "pro") == 0);  // the pro lane exists before the restore
  KeyRecord r = record_of_key(1);
  r.models.push_back({"pro", ms(kWall) + 60000, 1, 0, 0});
  KeyRecord off = record_of_key(0);
  off.disabled = true;
  off.reason = "API_KEY_INVALID";
  off.disabled_at_ms = ms(kWall);
  pool.restore({r, off}, kT0, kWall);
  NoKey no = must_fail(pool.acquire("pro", {}, kT0, kWall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(60));
}
