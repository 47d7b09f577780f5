// Randomized runs against an independent model of what the pool may and may not do,
// and a thread-safety smoke test (run it under the ASan build too).
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <random>
#include <thread>

#include "pool/key_pool.h"
#include "pool_test_util.h"

using namespace std::chrono;
using namespace gb::pool;
using namespace gb::pool::test;
using gb::Duration;

namespace {

constexpr int kKeys = 8;
const char* const kModels[] = {"a", "b", "c"};

QuotaLimits quota_of(std::string_view model) {
  if (model == "a") {
    return QuotaLimits{4, 0, 0};
  }
  if (model == "c") {
    return QuotaLimits{3, 3000, 0};
  }
  return QuotaLimits{};
}

// What the pool told us, kept on our side: which keys it disabled, until when it cooled
// them (Transition::cool_for is exact to the millisecond), and every lease and token
// spent, to judge the declared quotas.
struct Model {
  struct PerModel {
    TimePoint cool_until{};
    std::deque<TimePoint> lends;
    std::deque<std::pair<TimePoint, uint64_t>> tokens;
  };
  std::vector<bool> disabled = std::vector<bool>(kKeys);
  std::vector<bool> manual = std::vector<bool>(kKeys);
  std::vector<unsigned> in_flight = std::vector<unsigned>(kKeys);
  std::vector<std::map<std::string, PerModel, std::less<>>> per =
      std::vector<std::map<std::string, PerModel, std::less<>>>(kKeys);
  uint64_t leases = 0, tokens_in = 0;

  uint32_t lends_within(int k, std::string_view m, TimePoint now, Duration d) {
    uint32_t n = 0;
    for (TimePoint t : per[k][std::string(m)].lends) {
      n += t > now - d ? 1 : 0;
    }
    return n;
  }
  uint64_t tokens_within(int k, std::string_view m, TimePoint now, Duration d) {
    uint64_t n = 0;
    for (auto [t, tok] : per[k][std::string(m)].tokens) {
      n += t > now - d ? tok : 0;
    }
    return n;
  }
  bool cooling(int k, std::string_view m, TimePoint now) {
    return per[k][std::string(m)].cool_until > now;
  }
  // Whether the pool may hold key k back for model m at `now` because of a quota: its
  // window counts 60 to 70 s, so what happened in the last 70 s is the most it sees.
  bool maybe_at_quota(int k, std::string_view m, TimePoint now) {
    QuotaLimits q = quota_of(m);
    return (q.rpm != 0 && lends_within(k, m, now, seconds(70)) >= q.rpm) ||
           (q.tpm != 0 && tokens_within(k, m, now, seconds(70)) >= q.tpm);
  }
  // Whether it must: what happened in the last 60 s is the least it sees.
  bool surely_at_quota(int k, std::string_view m, TimePoint now) {
    QuotaLimits q = quota_of(m);
    return (q.rpm != 0 && lends_within(k, m, now, seconds(60)) >= q.rpm) ||
           (q.tpm != 0 && tokens_within(k, m, now, seconds(60)) >= q.tpm);
  }
};

struct Held {
  Lease lease;
  std::string model;
  std::vector<uint32_t> tried;
};

Verdict random_verdict(std::mt19937_64& rng) {
  int r = std::uniform_int_distribution<int>(0, 999)(rng);
  if (r < 450) {
    return ok();
  }
  if (r < 600) {
    int kind = std::uniform_int_distribution<int>(0, 999)(rng);
    if (kind < 3) {
      return limited(seconds(20), true);
    }
    if (kind < 400) {
      return limited();
    }
    if (kind < 500) {
      return limited(Duration(0));
    }
    return limited(Duration(std::uniform_int_distribution<int64_t>(1, 120000)(rng)));
  }
  if (r < 750) {
    return verdict(Outcome::failed, {}, false, "http_503");
  }
  if (r < 770) {
    return invalid();
  }
  if (r < 850) {
    return verdict(Outcome::client_error);
  }
  return verdict(Outcome::cancelled);
}

class Run {
 public:
  Run(Strategy s, uint64_t seed) : rng_(seed), pool_("gemini", policy(s), specs(kKeys), seed) {}

  void step() {
    t_.advance(Duration(std::uniform_int_distribution<int64_t>(0, 1500)(rng_)));
    int op = std::uniform_int_distribution<int>(0, 99)(rng_);
    if (op < 50) {
      request(kModels[rng_() % 3], {});
    } else if (op < 90) {
      release_one();
    } else if (op < 96) {
      probe();
    } else if (op < 98) {
      int k = static_cast<int>(rng_() % kKeys);
      pool_.reset({static_cast<uint32_t>(k)}, t_.now, t_.wall);
      m_.disabled[k] = false;
      m_.manual[k] = false;
      for (auto& [name, pm] : m_.per[k]) {
        pm.cool_until = TimePoint{};
      }
    } else {
      int k = static_cast<int>(rng_() % kKeys);
      bool park = rng_() % 2 == 0;
      pool_.set_manual(static_cast<uint32_t>(k), park, t_.now, t_.wall);
      if (park) {
        m_.disabled[k] = true;
        m_.manual[k] = true;
      } else if (m_.disabled[k]) {
        m_.disabled[k] = false;
        m_.manual[k] = false;
      }
    }
  }

  // Views agree with the model: who is disabled, what is in flight, what cools.
  void check_views() {
    auto view = pool_.snapshot(t_.now);
    REQUIRE(view.size() == static_cast<size_t>(kKeys));
    for (int k = 0; k < kKeys; ++k) {
      INFO("key " << k);
      REQUIRE((view[k].state == KeyState::disabled) == m_.disabled[k]);
      REQUIRE(view[k].in_flight == m_.in_flight[k]);
      for (const char* m : kModels) {
        if (!m_.disabled[k] && m_.cooling(k, m, t_.now)) {
          REQUIRE(view[k].state == KeyState::cooling);
        }
      }
    }
  }

  void finish() {
    for (const Held& h : held_) {
      pool_.release(h.lease, h.model, ok(), t_.now, t_.wall);
      --m_.in_flight[h.lease.index];
    }
    held_.clear();
    // Past every quota window, only cooldowns and disabling remain.
    t_.advance(seconds(71));
    check_views();
    Counts want;
    uint64_t requests = 0, tokens_in = 0;
    auto view = pool_.snapshot(t_.now);
    for (int k = 0; k < kKeys; ++k) {
      bool cooling = false;
      for (const char* m : kModels) {
        cooling = cooling || m_.cooling(k, m, t_.now);
      }
      KeyState s = m_.disabled[k] ? KeyState::disabled
                   : cooling      ? KeyState::cooling
                                  : KeyState::active;
      CHECK(view[k].state == s);
      ++(s == KeyState::active    ? want.active
         : s == KeyState::cooling ? want.cooling
                                  : want.disabled);
      requests += view[k].requests;
      tokens_in += view[k].tokens_in;
    }
    Counts got = pool_.counts(t_.now);
    CHECK(got.active == want.active);
    CHECK(got.cooling == want.cooling);
    CHECK(got.disabled == want.disabled);
    CHECK(requests == m_.leases);
    CHECK(tokens_in == m_.tokens_in);
  }

  uint64_t leases() const { return m_.leases; }
  uint64_t refusals() const { return refusals_; }

 private:
  static Policy policy(Strategy s) {
    Policy p;
    p.strategy = s;
    p.cooldown = seconds(5);
    p.cooldown_max = seconds(120);
    p.probe_interval = seconds(60);
    p.ramp_up = seconds(30);
    p.max_failures = 3;
    p.quota_for = quota_of;
    return p;
  }

  void request(std::string_view model, std::vector<uint32_t> tried) {
    Acquired r = pool_.acquire(model, tried, t_.now, t_.wall);
    INFO("model " << model << " at +" << duration_cast<milliseconds>(t_.now - kT0).count());
    if (auto* l = std::get_if<Lease>(&r)) {
      int k = static_cast<int>(l->index);
      INFO("key " << k);
      REQUIRE(k < kKeys);
      REQUIRE_FALSE(m_.disabled[k]);
      REQUIRE_FALSE(m_.cooling(k, model, t_.now));
      REQUIRE_FALSE(m_.surely_at_quota(k, model, t_.now));
      REQUIRE(std::find(tried.begin(), tried.end(), l->index) == tried.end());
      REQUIRE(l->key == key_at(k));
      m_.per[k][std::string(model)].lends.push_back(t_.now);
      ++m_.in_flight[k];
      ++m_.leases;
      held_.push_back(Held{*l, std::string(model), std::move(tried)});
      return;
    }
    REQUIRE(std::holds_alternative<NoKey>(r));
    NoKey no = std::get<NoKey>(r);
    ++refusals_;
    // Refused: every key it could have lent is disabled, tried, cooling or at a quota.
    bool any_enabled = false;
    for (int k = 0; k < kKeys; ++k) {
      if (m_.disabled[k]) {
        continue;
      }
      any_enabled = true;
      bool was_tried = std::find(tried.begin(), tried.end(), k) != tried.end();
      INFO("key " << k);
      REQUIRE((was_tried || m_.cooling(k, model, t_.now) || m_.maybe_at_quota(k, model, t_.now)));
    }
    if (tried.empty()) {
      CHECK(no.all_cooling == any_enabled);
    }
    if (no.all_cooling) {
      CHECK(no.retry_after >= seconds(1));
      CHECK(no.retry_after <= hours(24));
    }
  }

  void release_one() {
    if (held_.empty()) {
      return;
    }
    size_t i = rng_() % held_.size();
    Held h = std::move(held_[i]);
    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
    int k = static_cast<int>(h.lease.index);
    Verdict v = random_verdict(rng_);
    uint64_t in = rng_() % 800, out = rng_() % 400;
    Transition tr = pool_.release(h.lease, h.model, v, t_.now, t_.wall, in, out);
    --m_.in_flight[k];
    m_.tokens_in += in;
    m_.per[k][h.model].tokens.emplace_back(t_.now, in + out);
    switch (tr.kind) {
      case Transition::cooled:
        REQUIRE(v.outcome == Outcome::rate_limited);
        REQUIRE(tr.cool_for > Duration(0));
        m_.per[k][h.model].cool_until = t_.now + tr.cool_for;
        break;
      case Transition::disabled:
        REQUIRE_FALSE(m_.disabled[k]);
        REQUIRE((v.outcome == Outcome::invalid || v.outcome == Outcome::failed));
        m_.disabled[k] = true;
        break;
      case Transition::enabled:
        FAIL("a release never enables");
        break;
      case Transition::none:
        break;
    }
    // A retryable answer: the same request tries another key at once.
    if (v.retry && rng_() % 2 == 0) {
      h.tried.push_back(h.lease.index);
      request(h.model, h.tried);
    }
  }

  void probe() {
    for (const ProbeLease& p : pool_.due_probes(t_.now, 3)) {
      int k = static_cast<int>(p.index);
      REQUIRE(m_.disabled[k]);
      REQUIRE_FALSE(m_.manual[k]);
      Verdict v = rng_() % 2 == 0 ? ok() : verdict(Outcome::failed);
      Transition tr = pool_.probe_done(p, v, t_.now, t_.wall);
      REQUIRE((tr.kind == Transition::enabled) == (v.outcome == Outcome::success));
      if (tr.kind == Transition::enabled) {
        m_.disabled[k] = false;
      }
    }
  }

  std::mt19937_64 rng_;
  KeyPool pool_;
  Now t_;
  Model m_;
  std::vector<Held> held_;
  uint64_t refusals_ = 0;
};

}  // namespace

TEST_CASE("random outcomes never lend a disabled, cooling or exhausted key", "[pool]") {
  for (Strategy s : {Strategy::round_robin, Strategy::least_busy, Strategy::weighted}) {
    for (uint64_t seed : {1u, 2u}) {
      INFO("strategy " << static_cast<int>(s) << " seed " << seed);
      Run run(s, seed);
      for (int i = 0; i < 6000; ++i) {
        INFO("step " << i);
        run.step();
        if (i % 25 == 0) {
          run.check_views();
        }
      }
      run.finish();
      // The run went through both lending and refusing.
      CHECK(run.leases() > 1000);
      CHECK(run.refusals() > 10);
    }
  }
}

TEST_CASE("concurrent acquire and release keep counts consistent", "[pool]") {
  constexpr int kThreads = 4;
  constexpr int kRounds = 5000;
  KeyPool pool("gemini", Policy{}, specs(5));
  std::atomic<bool> over_lent{false};
  std::atomic<int> leases{0};
  auto work = [&](int t) {
    const Outcome outcomes[] = {Outcome::success, Outcome::client_error, Outcome::cancelled,
                                Outcome::rate_limited};
    const char* models[] = {"pro", "flash"};
    for (int i = 0; i < kRounds; ++i) {
      std::string_view model = models[(i + t) % 2];
      auto r = pool.acquire(model, {}, kT0, kWall);
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
  uint64_t requests = 0;
  for (const auto& kv : pool.snapshot(kT0)) {
    CHECK(kv.in_flight == 0);
    requests += kv.requests;
  }
  CHECK(requests == static_cast<uint64_t>(kThreads * kRounds));
}

TEST_CASE("concurrent requests, waiters, probes and management", "[pool]") {
  // Every kind of call at once, on a clock all threads move forward. Checks little
  // beyond the end state; its job is to give ASan and the mutex something to chew on.
  constexpr int kThreads = 3;
  constexpr int kRounds = 3000;
  Policy p;
  p.strategy = Strategy::least_busy;
  p.cooldown = Duration(50);
  p.cooldown_max = Duration(500);
  p.probe_interval = Duration(200);
  p.max_failures = 2;
  p.quota_for = [](std::string_view model) {
    return model == "pro" ? QuotaLimits{50, 0, 0} : QuotaLimits{};
  };
  KeyPool pool("gemini", p, specs(6), 3);
  std::atomic<int64_t> clock{0};
  std::atomic<int64_t> lent{0}, returned{0};
  auto tick = [&] {
    int64_t ms = clock.fetch_add(1);
    return std::pair{kT0 + milliseconds(ms), kWall + milliseconds(ms)};
  };
  auto worker = [&](int id) {
    std::mt19937_64 rng(static_cast<uint64_t>(id));
    const char* models[] = {"pro", "flash", "lite"};
    for (int i = 0; i < kRounds; ++i) {
      auto [now, wall] = tick();
      std::string model = models[rng() % 3];
      auto w = std::make_shared<Waiter>();
      w->token = "tok" + std::to_string(rng() % 3);
      w->deliver = [&pool, &returned, &tick, model](Lease l) {
        auto [n, wl] = tick();
        pool.release(l, model, verdict(Outcome::cancelled), n, wl);
        ++returned;
      };
      WaitSpec spec{w, now + milliseconds(300)};
      Acquired r = pool.acquire(model, {}, now, wall, rng() % 2 ? &spec : nullptr);
      if (auto* l = std::get_if<Lease>(&r)) {
        ++lent;
        pool.release(*l, model, random_verdict(rng), now, wall, rng() % 100, rng() % 100);
        ++returned;
      } else if (std::holds_alternative<Queued>(r)) {
        ++lent;  // its lease comes through deliver, or never if cancelled first
        if (rng() % 2 == 0 && pool.cancel_wait(w)) {
          --lent;
        }
      }
      pool.poll(model, now, wall);
    }
  };
  auto manager = [&] {
    std::mt19937_64 rng(99);
    for (int i = 0; i < kRounds; ++i) {
      auto [now, wall] = tick();
      for (const ProbeLease& pr : pool.due_probes(now, 2)) {
        pool.probe_done(pr, rng() % 2 ? ok() : verdict(Outcome::failed), now, wall);
      }
      switch (rng() % 6) {
        case 0:
          pool.reset({static_cast<uint32_t>(rng() % 6)}, now, wall);
          break;
        case 1:
          pool.set_manual(static_cast<uint32_t>(rng() % 6), rng() % 2 == 0, now, wall);
          break;
        case 2:
          pool.take_changes(now, wall);
          break;
        case 3:
          pool.snapshot(now);
          pool.counts(now);
          break;
        case 4:
          pool.add_runtime_keys({"AIzaSyRuntime-" + std::to_string(rng() % 4) + "-padding"}, now,
                                wall);
          break;
        default:
          for (uint32_t k : pool.match("AIzaSyRuntime-")) {
            pool.remove_runtime_key(k);
          }
          break;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(worker, t);
  }
  threads.emplace_back(manager);
  for (auto& th : threads) {
    th.join();
  }
  // Serve whatever still waits: a reset frees every key of the pool.
  auto [now, wall] = tick();
  pool.reset_all(now + hours(48), wall + hours(48));
  for (const char* model : {"pro", "flash", "lite"}) {
    pool.poll(model, now + hours(48), wall + hours(48));
  }
  CHECK(pool.counts(now).waiting == 0);
  CHECK(lent.load() == returned.load());
  for (const auto& kv : pool.snapshot(now)) {
    CHECK(kv.in_flight == 0);
  }
}
