// Declared per-key quotas (Policy::quota_for): a key at its rpm, tpm or rpd limit for a
// model is blocked for that model, exactly like a cooling key, until the limit frees.
#include <catch2/catch.hpp>

#include "pool/key_pool.h"
#include "pool_test_util.h"

using namespace std::chrono;
using namespace gb::pool;
using namespace gb::pool::test;
using gb::Duration;

namespace {

// Limits `q` for model "pro", none for any other model.
Policy quota_policy(QuotaLimits q) {
  Policy p;
  p.quota_for = [q](std::string_view model) { return model == "pro" ? q : QuotaLimits{}; };
  return p;
}

QuotaLimits rpm(uint32_t n) {
  return QuotaLimits{n, 0, 0};
}

}  // namespace

TEST_CASE("rpm blocks a key after rpm requests and frees it after the window", "[pool]") {
  KeyPool pool("gemini", quota_policy(rpm(2)), specs(1));
  // Late in a 10 s bucket: the window must still hold these requests for a full minute.
  Now t = Now{}.after(Duration(9500));
  CHECK(take(pool, "pro", t) == 0);
  CHECK(take(pool, "pro", t) == 0);
  NoKey no = must_fail(pool.acquire("pro", {}, t.now, t.wall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(61));  // the bucket of +9.5 s leaves at +70 s
  CHECK(take(pool, "flash", t) == 0);    // another model has no quota
  KeyView kv = must_view(pool, key_at(0), t.now);
  CHECK(kv.state == KeyState::cooling);
  REQUIRE(kv.cooling.size() == 1);
  CHECK(kv.cooling[0] == std::pair<std::string, Duration>("pro", Duration(60500)));
  CHECK(pool.counts(t.now).cooling == 1);

  must_fail(pool.acquire("pro", {}, t.now + seconds(60), t.wall + seconds(60)));
  Now free = Now{}.after(seconds(70));
  CHECK(take(pool, "pro", free) == 0);
  CHECK(take(pool, "pro", free) == 0);
  no = must_fail(pool.acquire("pro", {}, free.now, free.wall));
  CHECK(no.retry_after == seconds(70));
}

TEST_CASE("rpm is per key: the other keys go on serving", "[pool]") {
  KeyPool pool("gemini", quota_policy(rpm(2)), specs(3));
  std::vector<int> h(3);
  for (int i = 0; i < 6; ++i) {
    ++h[take(pool, "pro")];
  }
  CHECK(h == std::vector<int>{2, 2, 2});
  NoKey no = must_fail(pool.acquire("pro", {}, kT0, kWall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(70));
}

TEST_CASE("a quota-blocked pool names the soonest key to free", "[pool]") {
  KeyPool pool("gemini", quota_policy(rpm(1)), specs(2));
  CHECK(take(pool, "pro", Now{}) == 0);                     // bucket [0, 10): frees at 70 s
  CHECK(take(pool, "pro", Now{}.after(seconds(15))) == 1);  // bucket [10, 20): at 80 s
  Now t = Now{}.after(seconds(20));
  NoKey no = must_fail(pool.acquire("pro", {}, t.now, t.wall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(50));
  Now at70 = Now{}.after(seconds(70));
  CHECK(take(pool, "pro", at70) == 0);
  no = must_fail(pool.acquire("pro", {}, at70.now, at70.wall));
  CHECK(no.retry_after == seconds(10));  // key 1, at 80 s
}

TEST_CASE("a quota block and a cooldown: the later one holds the key", "[pool]") {
  KeyPool pool("gemini", quota_policy(rpm(1)), specs(1));
  attempt(pool, "pro", limited(seconds(5)));  // counts as the minute's one request
  NoKey no = must_fail(pool.acquire("pro", {}, kT0 + seconds(5), kWall + seconds(5)));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(65));
}

TEST_CASE("tpm counts the tokens given to release()", "[pool]") {
  KeyPool pool("gemini", quota_policy(QuotaLimits{0, 100, 0}), specs(1));
  Now t = Now{}.after(seconds(12));
  Lease a = must_lease(pool.acquire("pro", {}, t.now, t.wall));
  pool.release(a, "pro", ok(), t.now, t.wall, 60, 30);
  // Tokens spent on another model do not count against pro's.
  Lease f = must_lease(pool.acquire("flash", {}, t.now, t.wall));
  pool.release(f, "flash", ok(), t.now, t.wall, 1000, 1000);
  Lease b = must_lease(pool.acquire("pro", {}, t.now, t.wall));  // 90 < 100: still free
  pool.release(b, "pro", ok(), t.now, t.wall, 5, 5);
  NoKey no = must_fail(pool.acquire("pro", {}, t.now, t.wall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(68));  // the bucket of +12 s leaves at +80 s
  Now later = Now{}.after(seconds(80));
  CHECK(take(pool, "pro", later) == 0);
}

TEST_CASE("tpm: tokens of a failed attempt count too", "[pool]") {
  KeyPool pool("gemini", quota_policy(QuotaLimits{0, 50, 0}), specs(1));
  Lease a = must_lease(pool.acquire("pro", {}, kT0, kWall));
  pool.release(a, "pro", verdict(Outcome::failed), kT0, kWall, 50, 0);
  must_fail(pool.acquire("pro", {}, kT0, kWall));
}

TEST_CASE("rpd blocks until Pacific midnight and resets on the next day", "[pool]") {
  KeyPool pool("gemini", quota_policy(QuotaLimits{0, 0, 3}), specs(1));
  Now t;  // 12:00 PDT
  for (int i = 0; i < 3; ++i) {
    CHECK(take(pool, "pro", t) == 0);
  }
  NoKey no = must_fail(pool.acquire("pro", {}, t.now, t.wall));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == hours(12));
  Now before = t.after(hours(12) - seconds(1));
  no = must_fail(pool.acquire("pro", {}, before.now, before.wall));
  CHECK(no.retry_after == seconds(1));
  CHECK(take(pool, "flash", before) == 0);

  Now midnight = t.after(hours(12));
  for (int i = 0; i < 3; ++i) {
    CHECK(take(pool, "pro", midnight) == 0);
  }
  no = must_fail(pool.acquire("pro", {}, midnight.now, midnight.wall));
  CHECK(no.retry_after == hours(24));
}

TEST_CASE("rpd counts per day even when requests are spread out", "[pool]") {
  KeyPool pool("gemini", quota_policy(QuotaLimits{0, 0, 2}), specs(1));
  Now t;
  CHECK(take(pool, "pro", t) == 0);
  t.advance(hours(3));
  CHECK(take(pool, "pro", t) == 0);
  t.advance(hours(3));  // 18:00 PDT
  NoKey no = must_fail(pool.acquire("pro", {}, t.now, t.wall));
  CHECK(no.retry_after == hours(6));
}

TEST_CASE("a quota changed by a reload applies to the next requests", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  for (int i = 0; i < 5; ++i) {
    CHECK(take(pool, "pro") == 0);  // no quota: nothing is counted
  }
  pool.reconfigure(quota_policy(rpm(2)), specs(1), kT0, kWall);
  CHECK(take(pool, "pro") == 0);
  CHECK(take(pool, "pro") == 0);
  must_fail(pool.acquire("pro", {}, kT0, kWall));
  pool.reconfigure(Policy{}, specs(1), kT0 + seconds(1), kWall + seconds(1));
  CHECK(take(pool, "pro", Now{}.after(seconds(1))) == 0);
}

TEST_CASE("a raised rpd applies at once, not at midnight", "[pool]") {
  KeyPool pool("gemini", quota_policy(QuotaLimits{0, 0, 2}), specs(1));
  CHECK(take(pool, "pro") == 0);
  CHECK(take(pool, "pro") == 0);
  CHECK(must_fail(pool.acquire("pro", {}, kT0, kWall)).retry_after == hours(12));
  Now t = Now{}.after(seconds(1));
  pool.reconfigure(quota_policy(QuotaLimits{0, 0, 5}), specs(1), t.now, t.wall);
  for (int i = 0; i < 3; ++i) {
    CHECK(take(pool, "pro", t) == 0);
  }
  // The day's count survived the reload: the fifth request was the last.
  NoKey no = must_fail(pool.acquire("pro", {}, t.now, t.wall));
  CHECK(no.retry_after == hours(12) - seconds(1));
}

TEST_CASE("reset lifts a quota block and the window decides again at the next pick", "[pool]") {
  KeyPool pool("gemini", quota_policy(rpm(1)), specs(1));
  CHECK(take(pool, "pro") == 0);
  must_fail(pool.acquire("pro", {}, kT0, kWall));
  CHECK(must_view(pool, key_at(0)).state == KeyState::cooling);
  pool.reset_all(kT0 + seconds(1), kWall + seconds(1));
  KeyView kv = must_view(pool, key_at(0), kT0 + seconds(1));
  CHECK(kv.state == KeyState::active);
  CHECK(kv.cooling.empty());
  // The upstream still counts the minute's request: the key blocks again when picked.
  NoKey no = must_fail(pool.acquire("pro", {}, kT0 + seconds(1), kWall + seconds(1)));
  CHECK(no.retry_after == seconds(69));
}
