// Requests that wait for a key (WaitSpec): when they queue, who gets a freed key first,
// and every event that frees keys serving them.
#include <catch2/catch.hpp>
#include <memory>

#include "pool/key_pool.h"
#include "pool_test_util.h"

using namespace std::chrono;
using namespace gb::pool;
using namespace gb::pool::test;
using gb::Duration;

namespace {

// What waiters were handed, in order.
struct Inbox {
  std::vector<std::pair<std::string, Lease>> got;
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, lease] : got) {
      out.push_back(name);
    }
    return out;
  }
};

std::shared_ptr<Waiter> waiter(Inbox& inbox, std::string name, std::string token = "tok") {
  auto w = std::make_shared<Waiter>();
  w->token = std::move(token);
  w->deliver = [&inbox, name](Lease l) { inbox.got.emplace_back(name, std::move(l)); };
  return w;
}

Acquired wait_for(KeyPool& pool, std::string_view model, const std::shared_ptr<Waiter>& w,
                  Duration deadline, Now t = {}) {
  WaitSpec spec{w, kT0 + deadline};
  return pool.acquire(model, {}, t.now, t.wall, &spec);
}

// Two keys cooling for "m": key 0 for 10 s, key 1 for 20 s.
void cool_both(KeyPool& pool) {
  attempt(pool, "m", limited(seconds(10)));
  attempt(pool, "m", limited(seconds(20)));
}

// One request a minute for "m" per key: each freed key serves exactly one waiter.
Policy one_rpm() {
  Policy p;
  p.quota_for = [](std::string_view model) {
    return model == "m" ? QuotaLimits{1, 0, 0} : QuotaLimits{};
  };
  return p;
}

}  // namespace

TEST_CASE("wait: a request queues when every key cools and one frees in time", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  cool_both(pool);
  Inbox inbox;
  auto w = waiter(inbox, "w");
  Queued q = must_queue(wait_for(pool, "m", w, seconds(30)));
  CHECK(q.next_free == kT0 + seconds(10));
  CHECK(w->queued);
  CHECK(w->model == "m");
  CHECK(pool.counts(kT0).waiting == 1);

  Now early = Now{}.after(Duration(9999));
  CHECK(pool.poll("m", early.now, early.wall) == kT0 + seconds(10));
  CHECK(inbox.got.empty());

  Now at10 = Now{}.after(seconds(10));
  CHECK(pool.poll("m", at10.now, at10.wall) == kT0 + seconds(20));  // key 1 is next
  REQUIRE(inbox.got.size() == 1);
  const Lease& l = inbox.got[0].second;
  CHECK(l.index == 0);
  CHECK(l.key == key_at(0));
  CHECK_FALSE(w->queued);
  CHECK(pool.counts(at10.now).waiting == 0);
  CHECK(must_view(pool, key_at(0), at10.now).in_flight == 1);
  pool.release(l, "m", ok(), at10.now, at10.wall);
  CHECK(pool.poll("m", kT0 + seconds(20), kWall + seconds(20)) == std::nullopt);
  CHECK(inbox.got.size() == 1);  // delivered exactly once
}

TEST_CASE("wait: the deadline decides between queueing and 429", "[pool]") {
  struct Case {
    Duration deadline;
    bool queued;
  };
  const Case cases[] = {{Duration(9999), false}, {seconds(10), true}, {hours(1), true}};
  for (const auto& c : cases) {
    INFO("deadline " << c.deadline.count());
    KeyPool pool("gemini", Policy{}, specs(2));
    cool_both(pool);
    Inbox inbox;
    auto w = waiter(inbox, "w");
    Acquired r = wait_for(pool, "m", w, c.deadline);
    CHECK(std::holds_alternative<Queued>(r) == c.queued);
    if (!c.queued) {
      NoKey no = must_fail(r);
      CHECK(no.all_cooling);
      CHECK(no.retry_after == seconds(10));
      CHECK_FALSE(w->queued);
    }
    CHECK(pool.counts(kT0).waiting == (c.queued ? 1u : 0u));
  }
}

TEST_CASE("wait: queue_max bounds the waiting requests of the whole pool", "[pool]") {
  Policy p;
  p.queue_max = 2;
  KeyPool pool("gemini", p, specs(1));
  attempt(pool, "a", limited(seconds(10)));
  attempt(pool, "b", limited(seconds(10)));
  Inbox inbox;
  must_queue(wait_for(pool, "a", waiter(inbox, "a1"), seconds(60)));
  must_queue(wait_for(pool, "b", waiter(inbox, "b1"), seconds(60)));
  auto third = waiter(inbox, "a2");
  NoKey no = must_fail(wait_for(pool, "a", third, seconds(60)));
  CHECK(no.all_cooling);
  CHECK_FALSE(third->queued);
  CHECK(pool.counts(kT0).waiting == 2);

  Policy none;
  none.queue_max = 0;
  KeyPool never("gemini", none, specs(1));
  attempt(never, "a", limited(seconds(10)));
  must_fail(wait_for(never, "a", waiter(inbox, "x"), seconds(60)));
}

TEST_CASE("wait: no queueing when keys are disabled or only tried", "[pool]") {
  Inbox inbox;
  SECTION("all disabled: 503 at once") {
    KeyPool pool("gemini", Policy{}, specs(1));
    attempt(pool, "m", invalid());
    NoKey no = must_fail(wait_for(pool, "m", waiter(inbox, "w"), hours(1)));
    CHECK_FALSE(no.all_cooling);
  }
  SECTION("the free key was tried") {
    KeyPool pool("gemini", Policy{}, specs(2));
    attempt(pool, "m", limited(seconds(10)));
    WaitSpec spec{waiter(inbox, "w"), kT0 + hours(1)};
    NoKey no = must_fail(pool.acquire("m", {1}, kT0, kWall, &spec));
    CHECK_FALSE(no.all_cooling);
  }
  CHECK(inbox.got.empty());
}

TEST_CASE("wait: a free key is lent at once, not queued", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  attempt(pool, "m", limited(seconds(10)));
  Inbox inbox;
  auto w = waiter(inbox, "w");
  CHECK(must_lease(wait_for(pool, "m", w, hours(1))).index == 1);
  CHECK_FALSE(w->queued);
  CHECK(inbox.got.empty());
}

TEST_CASE("wait: freed keys go to tokens in turn, FIFO within a token", "[pool]") {
  KeyPool pool("gemini", one_rpm(), specs(1));
  CHECK(take(pool, "m") == 0);  // the minute's request: blocked until +70 s
  Inbox inbox;
  std::vector<std::shared_ptr<Waiter>> ws;
  for (auto [name, token] :
       {std::pair{"a1", "A"}, {"a2", "A"}, {"a3", "A"}, {"b1", "B"}, {"c1", "C"}, {"b2", "B"}}) {
    ws.push_back(waiter(inbox, name, token));
    must_queue(wait_for(pool, "m", ws.back(), hours(1)));
  }
  CHECK(pool.counts(kT0).waiting == 6);
  // Each 70 s the key's window frees for exactly one request.
  for (int round = 1; round <= 6; ++round) {
    Now t = Now{}.after(seconds(70 * round));
    // The key is found at its limit when the next waiter asks; after the last one,
    // nothing asked, so nothing is known to be blocked.
    auto next = round < 6 ? std::optional(kT0 + seconds(70 * (round + 1))) : std::nullopt;
    CHECK(pool.poll("m", t.now, t.wall) == next);
    CHECK(inbox.got.size() == static_cast<size_t>(round));
  }
  CHECK(inbox.names() == std::vector<std::string>{"a1", "b1", "c1", "a2", "b2", "a3"});
  CHECK(pool.counts(kT0 + hours(1)).waiting == 0);
}

TEST_CASE("wait: a key that frees serves every waiter it can", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  cool_both(pool);
  Inbox inbox;
  for (const char* name : {"x", "y", "z"}) {
    must_queue(wait_for(pool, "m", waiter(inbox, name, name), seconds(30)));
  }
  pool.poll("m", kT0 + seconds(10), kWall + seconds(10));
  CHECK(inbox.names() == std::vector<std::string>{"x", "y", "z"});
  for (const auto& [name, lease] : inbox.got) {
    CHECK(lease.index == 0);
  }
  CHECK(must_view(pool, key_at(0), kT0 + seconds(10)).in_flight == 3);
}

TEST_CASE("wait: cancel_wait takes a waiter out", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  cool_both(pool);
  Inbox inbox;
  auto w1 = waiter(inbox, "w1", "A");
  auto w2 = waiter(inbox, "w2", "A");
  must_queue(wait_for(pool, "m", w1, seconds(30)));
  must_queue(wait_for(pool, "m", w2, seconds(30)));
  CHECK(pool.cancel_wait(w1));
  CHECK_FALSE(w1->queued);
  CHECK(pool.counts(kT0).waiting == 1);
  CHECK_FALSE(pool.cancel_wait(w1));  // once only
  pool.poll("m", kT0 + seconds(10), kWall + seconds(10));
  CHECK(inbox.names() == std::vector<std::string>{"w2"});
  CHECK_FALSE(pool.cancel_wait(w2));  // served: its lease is on its way
  CHECK(pool.counts(kT0).waiting == 0);
  auto never = waiter(inbox, "never");
  never->model = "no-such-model";
  CHECK_FALSE(pool.cancel_wait(never));
}

TEST_CASE("wait: a newcomer does not pass queued waiters", "[pool]") {
  KeyPool pool("gemini", one_rpm(), specs(1));
  CHECK(take(pool, "m") == 0);
  Inbox inbox;
  must_queue(wait_for(pool, "m", waiter(inbox, "first", "A"), hours(1)));
  // The key frees at +70 s. Nobody polled yet when a newcomer arrives: the waiter gets
  // the key, during the newcomer's call, and the newcomer finds none.
  Now t = Now{}.after(seconds(70));
  NoKey no = must_fail(pool.acquire("m", {}, t.now, t.wall));
  CHECK(inbox.names() == std::vector<std::string>{"first"});
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(70));

  // A newcomer who may wait lines up behind those already waiting.
  must_queue(wait_for(pool, "m", waiter(inbox, "second", "B"), hours(1), t));
  Queued q = must_queue(wait_for(pool, "m", waiter(inbox, "newcomer", "C"), hours(1), t));
  CHECK(q.next_free == kT0 + seconds(140));
  pool.poll("m", kT0 + seconds(140), kWall + seconds(140));
  CHECK(inbox.names() == std::vector<std::string>{"first", "second"});
}

TEST_CASE("wait: a newcomer behind waiters is not lent a key while they wait", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  cool_both(pool);
  Inbox inbox;
  must_queue(wait_for(pool, "m", waiter(inbox, "w"), seconds(30)));
  NoKey no = must_fail(pool.acquire("m", {}, kT0 + seconds(5), kWall + seconds(5)));
  CHECK(no.all_cooling);
  CHECK(no.retry_after == seconds(5));
  CHECK(inbox.got.empty());
}

TEST_CASE("wait: reset serves waiters at once", "[pool]") {
  for (bool all : {false, true}) {
    KeyPool pool("gemini", Policy{}, specs(2));
    cool_both(pool);
    Inbox inbox;
    must_queue(wait_for(pool, "m", waiter(inbox, "w"), seconds(30)));
    if (all) {
      pool.reset_all(kT0 + seconds(1), kWall + seconds(1));
    } else {
      pool.reset({1}, kT0 + seconds(1), kWall + seconds(1));
    }
    REQUIRE(inbox.got.size() == 1);
    CHECK(inbox.got[0].second.index == (all ? 0u : 1u));
    CHECK(pool.counts(kT0).waiting == 0);
  }
}

TEST_CASE("wait: new runtime keys serve waiters", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  attempt(pool, "m", limited(seconds(60)));
  Inbox inbox;
  must_queue(wait_for(pool, "m", waiter(inbox, "w"), seconds(90)));
  auto added = pool.add_runtime_keys({"AIzaSyRuntimeKey-0000000000000"}, kT0 + seconds(1),
                                     kWall + seconds(1));
  REQUIRE(added.size() == 1);
  CHECK(added[0].added);
  REQUIRE(inbox.got.size() == 1);
  CHECK(inbox.got[0].second.key == "AIzaSyRuntimeKey-0000000000000");
}

TEST_CASE("wait: a key back from a probe or from parking serves waiters", "[pool]") {
  Policy p;
  p.probe_interval = seconds(10);
  for (bool probe : {true, false}) {
    INFO((probe ? "probe" : "unpark"));
    KeyPool pool("gemini", p, specs(2));
    attempt(pool, "m", limited(seconds(60)));  // key 0
    if (probe) {
      attempt(pool, "m", invalid());  // key 1
    } else {
      pool.set_manual(1, true, kT0, kWall);
    }
    Inbox inbox;
    must_queue(wait_for(pool, "m", waiter(inbox, "w"), seconds(90)));
    Now t = Now{}.after(seconds(10));
    if (probe) {
      auto due = pool.due_probes(t.now, 10);
      REQUIRE(due.size() == 1);
      CHECK(inbox.got.empty());  // lending a probe serves nobody yet
      CHECK(pool.probe_done(due[0], ok(), t.now, t.wall).kind == Transition::enabled);
    } else {
      pool.set_manual(1, false, t.now, t.wall);
    }
    REQUIRE(inbox.got.size() == 1);
    CHECK(inbox.got[0].second.index == 1);
  }
}

TEST_CASE("wait: a reload that adds keys serves waiters", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  attempt(pool, "m", limited(seconds(60)));
  Inbox inbox;
  must_queue(wait_for(pool, "m", waiter(inbox, "w"), seconds(90)));
  pool.reconfigure(Policy{}, specs(2), kT0 + seconds(1), kWall + seconds(1));
  REQUIRE(inbox.got.size() == 1);
  CHECK(inbox.got[0].second.index == 1);
}

TEST_CASE("wait: a strategy change keeps the waiters", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(2));
  cool_both(pool);
  Inbox inbox;
  must_queue(wait_for(pool, "m", waiter(inbox, "w"), seconds(30)));
  Policy weighted;
  weighted.strategy = Strategy::weighted;
  pool.reconfigure(weighted, specs(2), kT0 + seconds(1), kWall + seconds(1));
  CHECK(pool.counts(kT0).waiting == 1);
  pool.poll("m", kT0 + seconds(10), kWall + seconds(10));
  CHECK(inbox.names() == std::vector<std::string>{"w"});
}

TEST_CASE("wait: deliver runs outside the pool's lock", "[pool]") {
  // A waiter that releases its lease from inside deliver (a request that went away)
  // would deadlock if the pool still held its mutex.
  KeyPool pool("gemini", Policy{}, specs(1));
  attempt(pool, "m", limited(seconds(10)));
  auto w = std::make_shared<Waiter>();
  w->token = "t";
  int delivered = 0;
  w->deliver = [&](Lease l) {
    ++delivered;
    pool.release(l, "m", verdict(Outcome::cancelled), kT0 + seconds(10), kWall + seconds(10));
    CHECK(pool.counts(kT0 + seconds(10)).waiting == 0);
  };
  WaitSpec spec{w, kT0 + seconds(30)};
  must_queue(pool.acquire("m", {}, kT0, kWall, &spec));
  pool.poll("m", kT0 + seconds(10), kWall + seconds(10));
  CHECK(delivered == 1);
  CHECK(must_view(pool, key_at(0), kT0 + seconds(10)).in_flight == 0);
}

TEST_CASE("wait: waiters of one model are served by that model's keys only", "[pool]") {
  KeyPool pool("gemini", Policy{}, specs(1));
  attempt(pool, "pro", limited(seconds(60)));
  Inbox inbox;
  must_queue(wait_for(pool, "pro", waiter(inbox, "w"), seconds(90)));
  CHECK(take(pool, "flash") == 0);
  pool.poll("flash", kT0, kWall);
  CHECK(inbox.got.empty());
  pool.poll("pro", kT0 + seconds(60), kWall + seconds(60));
  CHECK(inbox.got.size() == 1);
}
