// KeyPool: selection, leases and their outcomes, probes. Management, reload and
// persistence are in key_pool_manage.cc.
#include "pool/key_pool.h"

#include <algorithm>

#include "base/key_id.h"

namespace gb::pool {

namespace {

// Lanes are derived state (rebuilt in O(n) from the keys), so the least recently used
// one can go when clients send many model names; this bounds memory at 100 000 keys.
constexpr size_t kMaxLanes = 64;

int64_t ms_of(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint at_ms(int64_t ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}

Duration ceil_to_seconds(Duration d) {
  auto s = std::chrono::ceil<std::chrono::seconds>(d);
  return std::max<Duration>(s, std::chrono::seconds(1));
}

}  // namespace

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::round_robin:
      return "round_robin";
    case Strategy::least_busy:
      return "least_busy";
    case Strategy::weighted:
      return "weighted";
  }
  return "round_robin";
}

const char* key_state_name(KeyState s) {
  switch (s) {
    case KeyState::active:
      return "active";
    case KeyState::cooling:
      return "cooling";
    case KeyState::disabled:
      return "disabled";
  }
  return "active";
}

KeyPool::KeyPool(std::string name, Policy policy, const std::vector<KeySpec>& config_keys,
                 uint64_t seed)
    : name_(std::move(name)), policy_(std::move(policy)), rng_(seed) {
  for (const KeySpec& k : config_keys) {
    if (k.key.empty() || by_key_.count(k.key) != 0) {
      continue;
    }
    uint32_t i = add_slot(k.key, std::max(1u, k.weight));
    slots_[i].in_config = true;
  }
}

size_t KeyPool::size() const {
  std::lock_guard lock(mu_);
  return by_key_.size();
}

Policy KeyPool::policy() const {
  std::lock_guard lock(mu_);
  return policy_;
}

TimePoint KeyPool::monotonic(TimePoint now) {
  latest_ = std::max(latest_, now);
  return latest_;
}

void KeyPool::deliver(Deliveries& d) {
  for (auto& [waiter, lease] : d) {
    waiter->deliver(std::move(lease));
  }
  d.clear();
}

// ---------------------------------------------------------------- state of one key

TimePoint KeyPool::blocked_until(const Slot& s, std::string_view model) {
  auto it = s.models.find(model);
  if (it == s.models.end()) {
    return TimePoint{};
  }
  return std::max(it->second.cool_until, it->second.quota_until);
}

bool KeyPool::blocked(const Slot& s, std::string_view model, TimePoint now) {
  return blocked_until(s, model) > now;
}

KeyState KeyPool::state_of(const Slot& s, TimePoint now) {
  if (s.disabled) {
    return KeyState::disabled;
  }
  for (const auto& [model, m] : s.models) {
    if (m.cool_until > now || m.quota_until > now) {
      return KeyState::cooling;
    }
  }
  return KeyState::active;
}

double KeyPool::share_of(const Slot& s, TimePoint now) const {
  if (s.ramp_from == TimePoint{} || policy_.ramp_up.count() <= 0) {
    return 1.0;
  }
  double done = std::chrono::duration<double>(now - s.ramp_from).count() /
                std::chrono::duration<double>(policy_.ramp_up).count();
  return std::clamp(0.1 + 0.9 * done, 0.1, 1.0);
}

void KeyPool::mark(Slot& s) {
  if (!s.dirty) {
    s.dirty = true;
    dirty_.push_back(static_cast<uint32_t>(&s - slots_.data()));
  }
}

// ---------------------------------------------------------------- lanes

uint32_t KeyPool::leaf_value(const Slot& s) const {
  switch (policy_.strategy) {
    case Strategy::round_robin:
      return 0;
    case Strategy::least_busy:
      return std::min(s.in_flight, SelectTree::kUnavailable - 1);
    case Strategy::weighted:
      return std::max(1u, s.weight);
  }
  return 0;
}

void KeyPool::refresh_in(Lane& lane, std::string_view model, uint32_t index, TimePoint now) {
  const Slot& s = slots_[index];
  if (!s.live || s.disabled || blocked(s, model, now)) {
    lane.tree.set_unavailable(index);
  } else {
    lane.tree.set(index, leaf_value(s));
  }
}

void KeyPool::refresh(uint32_t index, TimePoint now) {
  for (auto& [model, lane] : lanes_) {
    refresh_in(lane, model, index, now);
  }
}

void KeyPool::build_lane(std::string_view model, Lane& lane, TimePoint now) {
  lane.tree = SelectTree(policy_.strategy == Strategy::weighted ? SelectTree::Kind::sum
                                                                : SelectTree::Kind::min,
                         static_cast<uint32_t>(slots_.size()));
  lane.wakes = {};
  lane.quota = policy_.quota_for ? policy_.quota_for(model) : QuotaLimits{};
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    refresh_in(lane, model, i, now);
    const Slot& s = slots_[i];
    if (s.live && !s.disabled && blocked(s, model, now)) {
      lane.wakes.push({blocked_until(s, model), {i, s.gen}});
    }
  }
}

KeyPool::Lane& KeyPool::lane_for(std::string_view model, TimePoint now) {
  auto it = lanes_.find(model);
  if (it == lanes_.end()) {
    if (lanes_.size() >= kMaxLanes) {
      auto victim = lanes_.end();
      for (auto l = lanes_.begin(); l != lanes_.end(); ++l) {
        if (l->second.waiters.empty() &&
            (victim == lanes_.end() || l->second.last_used < victim->second.last_used)) {
          victim = l;
        }
      }
      if (victim != lanes_.end()) {
        lanes_.erase(victim);
      }
    }
    it = lanes_.emplace(std::string(model), Lane(SelectTree::Kind::min)).first;
    build_lane(model, it->second, now);
  }
  it->second.last_used = now;
  return it->second;
}

// Makes keys whose block ended available again, and drops heap entries that no longer
// describe a blocked key, so the top is the true soonest.
void KeyPool::wake_due(Lane& lane, std::string_view model, TimePoint now) {
  while (!lane.wakes.empty()) {
    auto [when, who] = lane.wakes.top();
    auto [index, gen] = who;
    bool current = index < slots_.size() && slots_[index].live && slots_[index].gen == gen &&
                   !slots_[index].disabled;
    TimePoint until = current ? blocked_until(slots_[index], model) : TimePoint{};
    if (current && until == when && when > now) {
      return;  // the true soonest, still ahead
    }
    lane.wakes.pop();
    if (!current) {
      continue;
    }
    if (until > now) {
      lane.wakes.push({until, who});  // blocked again since, for longer
    } else {
      refresh_in(lane, model, index, now);
    }
  }
}

void KeyPool::block(std::string_view model, uint32_t index, TimePoint now) {
  auto it = lanes_.find(model);
  if (it == lanes_.end()) {
    return;  // a lane built later sees the block in the key's state
  }
  const Slot& s = slots_[index];
  refresh_in(it->second, model, index, now);
  if (s.live && !s.disabled && blocked(s, model, now)) {
    it->second.wakes.push({blocked_until(s, model), {index, s.gen}});
  }
}

// ---------------------------------------------------------------- selection

std::optional<uint32_t> KeyPool::pick_once(Lane& lane) {
  if (lane.tree.kind() == SelectTree::Kind::sum) {
    uint64_t total = lane.tree.total();
    if (total == 0) {
      return std::nullopt;
    }
    std::uniform_int_distribution<uint64_t> r(0, total - 1);
    return lane.tree.pick(r(rng_));
  }
  uint32_t lowest = lane.tree.min();
  if (lowest == SelectTree::kUnavailable) {
    return std::nullopt;
  }
  return lane.tree.first_at_most(lane.cursor, lowest);
}

// Checks a candidate against the model's declared limits; a key at a limit is blocked
// until the window frees, so later requests skip it without asking.
bool KeyPool::over_quota(Lane& lane, std::string_view model, uint32_t index, TimePoint now,
                         WallTime wall) {
  const QuotaLimits& q = lane.quota;
  if (!q.any()) {
    return false;
  }
  Slot& s = slots_[index];
  auto it = s.models.find(model);
  if (it == s.models.end()) {
    return false;  // nothing spent yet
  }
  ModelState& m = it->second;
  int64_t now_ms = ms_of(now);
  int64_t until_ms = 0;
  if (q.rpm != 0 && m.window.requests(now_ms) >= q.rpm) {
    until_ms = std::max(until_ms, m.window.requests_free_at(now_ms));
  }
  if (q.tpm != 0 && m.window.tokens(now_ms) >= q.tpm) {
    until_ms = std::max(until_ms, m.window.tokens_free_at(now_ms));
  }
  TimePoint until = until_ms > now_ms ? at_ms(until_ms) : TimePoint{};
  if (q.rpd != 0 && m.day == pacific_day(wall) && m.day_requests >= q.rpd) {
    until = std::max(until, now + std::chrono::ceil<Duration>(next_pacific_midnight(wall) - wall));
  }
  if (until <= now) {
    return false;
  }
  m.quota_until = std::max(m.quota_until, until);
  block(model, index, now);
  return true;
}

std::optional<uint32_t> KeyPool::pick(Lane& lane, std::string_view model,
                                      const std::vector<uint32_t>& tried, TimePoint now,
                                      WallTime wall) {
  // Positions taken out for this one choice (tried by this request, or passed over while
  // ramping up), with the values to put back.
  std::vector<std::pair<uint32_t, uint32_t>> held;
  auto hold = [&](uint32_t i) {
    if (lane.tree.available(i)) {
      held.emplace_back(i, lane.tree.get(i));
      lane.tree.set_unavailable(i);
    }
  };
  for (uint32_t i : tried) {
    if (i < lane.tree.size()) {
      hold(i);
    }
  }
  size_t first_passed = held.size();
  std::optional<uint32_t> chosen;
  while (auto c = pick_once(lane)) {
    if (over_quota(lane, model, *c, now, wall)) {
      continue;
    }
    Slot& s = slots_[*c];
    double share = share_of(s, now);
    if (share >= 1.0) {
      s.ramp_from = TimePoint{};
    } else if (std::uniform_real_distribution<double>(0.0, 1.0)(rng_) >= share) {
      hold(*c);  // ramping up: let another key take this one
      continue;
    }
    chosen = c;
    break;
  }
  if (!chosen && held.size() > first_passed) {
    chosen = held[first_passed].first;  // only ramping keys are left: better than none
  }
  for (auto [i, value] : held) {
    lane.tree.set(i, value);
  }
  return chosen;
}

Lease KeyPool::lend(Lane& lane, std::string_view model, uint32_t index, TimePoint now,
                    WallTime wall) {
  Slot& s = slots_[index];
  ++s.in_flight;
  ++s.requests;
  s.last_used = wall;
  if (lane.quota.any()) {
    auto it = s.models.find(model);
    if (it == s.models.end()) {
      it = s.models.emplace(std::string(model), ModelState{}).first;
    }
    ModelState& m = it->second;
    m.window.add_request(ms_of(now));
    int64_t day = pacific_day(wall);
    if (m.day != day) {
      m.day = day;
      m.day_requests = 0;
    }
    ++m.day_requests;
  }
  lane.cursor = index + 1 < slots_.size() ? index + 1 : 0;
  if (policy_.strategy == Strategy::least_busy) {
    refresh(index, now);
  }
  mark(s);
  return Lease{index, s.gen, s.key, s.id};
}

void KeyPool::serve_waiters(Lane& lane, std::string_view model, TimePoint now, WallTime wall,
                            Deliveries& out) {
  while (!lane.waiters.empty()) {
    std::optional<uint32_t> c = pick(lane, model, {}, now, wall);
    if (!c) {
      return;
    }
    std::shared_ptr<Waiter> w = lane.waiters.pop();
    --waiting_;
    out.emplace_back(std::move(w), lend(lane, model, *c, now, wall));
  }
}

void KeyPool::serve_all_waiters(TimePoint now, WallTime wall, Deliveries& out) {
  for (auto& [model, lane] : lanes_) {
    if (!lane.waiters.empty()) {
      wake_due(lane, model, now);
      serve_waiters(lane, model, now, wall, out);
    }
  }
}

NoKey KeyPool::explain_no_key(std::string_view model, TimePoint now) const {
  NoKey no;
  auto it = lanes_.find(model);
  if (it == lanes_.end() || it->second.wakes.empty()) {
    return no;
  }
  const Lane& lane = it->second;
  // wake_due ran just before: the heap's top is the soonest blocked key, and a lane
  // with nothing available and something blocked has every enabled key blocked.
  no.all_cooling = lane.tree.kind() == SelectTree::Kind::sum
                       ? lane.tree.total() == 0
                       : lane.tree.min() == SelectTree::kUnavailable;
  no.retry_after = ceil_to_seconds(std::chrono::ceil<Duration>(lane.wakes.top().first - now));
  return no;
}

std::optional<TimePoint> KeyPool::soonest_free(std::string_view model, TimePoint) const {
  auto it = lanes_.find(model);
  if (it == lanes_.end() || it->second.wakes.empty()) {
    return std::nullopt;
  }
  return it->second.wakes.top().first;
}

Acquired KeyPool::acquire(std::string_view model, const std::vector<uint32_t>& tried,
                          TimePoint now, WallTime wall, const WaitSpec* wait) {
  Deliveries d;
  Acquired result;
  {
    std::lock_guard lock(mu_);
    now = monotonic(now);
    Lane& lane = lane_for(model, now);
    wake_due(lane, model, now);
    serve_waiters(lane, model, now, wall, d);
    // Waiters still queued means nothing is free for them; a newcomer must not pass them.
    std::optional<uint32_t> c;
    if (lane.waiters.empty()) {
      c = pick(lane, model, tried, now, wall);
    }
    if (c) {
      result = lend(lane, model, *c, now, wall);
    } else {
      NoKey no = explain_no_key(model, now);
      std::optional<TimePoint> free_at = soonest_free(model, now);
      if (wait != nullptr && no.all_cooling && free_at && *free_at <= wait->deadline &&
          waiting_ < policy_.queue_max) {
        wait->waiter->model = std::string(model);
        lane.waiters.push(wait->waiter);
        ++waiting_;
        result = Queued{*free_at};
      } else {
        result = no;
      }
    }
  }
  deliver(d);
  return result;
}

std::optional<TimePoint> KeyPool::poll(std::string_view model, TimePoint now, WallTime wall) {
  Deliveries d;
  std::optional<TimePoint> next;
  {
    std::lock_guard lock(mu_);
    now = monotonic(now);
    Lane& lane = lane_for(model, now);
    wake_due(lane, model, now);
    serve_waiters(lane, model, now, wall, d);
    next = soonest_free(model, now);
  }
  deliver(d);
  return next;
}

bool KeyPool::cancel_wait(const std::shared_ptr<Waiter>& w) {
  std::lock_guard lock(mu_);
  auto it = lanes_.find(w->model);
  if (it == lanes_.end() || !it->second.waiters.remove(w)) {
    return false;
  }
  --waiting_;
  return true;
}

// ---------------------------------------------------------------- outcomes

Transition KeyPool::release(const Lease& lease, std::string_view model, const Verdict& v,
                            TimePoint now, WallTime wall, uint64_t tokens_in,
                            uint64_t tokens_out) {
  std::lock_guard lock(mu_);
  now = monotonic(now);
  Transition t;
  if (lease.index >= slots_.size() || !slots_[lease.index].live ||
      slots_[lease.index].gen != lease.gen) {
    return t;  // the key left the pool meanwhile
  }
  Slot& s = slots_[lease.index];
  if (s.in_flight > 0) {
    --s.in_flight;
  }
  s.tokens_in += tokens_in;
  s.tokens_out += tokens_out;
  mark(s);
  auto quota_model = s.models.find(model);
  if (tokens_in + tokens_out > 0 && quota_model != s.models.end()) {
    quota_model->second.window.add_tokens(ms_of(now), tokens_in + tokens_out);
  }
  if (v.outcome != Outcome::success && v.outcome != Outcome::client_error &&
      v.outcome != Outcome::cancelled) {
    s.last_error = v.reason;
    s.last_error_at = wall;
  }
  switch (v.outcome) {
    case Outcome::success: {
      s.consecutive_failures = 0;
      auto it = s.models.find(model);
      if (it != s.models.end()) {
        it->second.rate_limits = 0;
      }
      break;
    }
    case Outcome::rate_limited: {
      ++s.rate_limited;
      TimePoint before = std::max(blocked_until(s, model), now);
      on_rate_limited(s, model, v, now, wall);
      TimePoint after = blocked_until(s, model);
      block(model, lease.index, now);
      if (after > before) {
        t.kind = Transition::cooled;
        t.cool_for = std::chrono::ceil<Duration>(after - now);
        t.reason = v.reason;
      }
      break;
    }
    case Outcome::invalid:
      ++s.failures;
      if (!s.disabled) {
        disable(lease.index, v.reason.empty() ? "invalid" : v.reason, now);
        t.kind = Transition::disabled;
        t.reason = s.reason;
      }
      break;
    case Outcome::failed:
      ++s.failures;
      ++s.consecutive_failures;
      if (policy_.max_failures > 0 && s.consecutive_failures >= policy_.max_failures &&
          !s.disabled) {
        disable(lease.index, "max_failures", now);
        t.kind = Transition::disabled;
        t.reason = s.reason;
      }
      break;
    case Outcome::client_error:
    case Outcome::cancelled:
      break;
  }
  if (policy_.strategy == Strategy::least_busy) {
    refresh(lease.index, now);
  }
  return t;
}

void KeyPool::on_rate_limited(Slot& s, std::string_view model, const Verdict& v, TimePoint now,
                              WallTime wall) {
  auto it = s.models.find(model);
  if (it == s.models.end()) {
    it = s.models.emplace(std::string(model), ModelState{}).first;
  }
  ModelState& m = it->second;
  ++m.rate_limits;
  Duration cool;
  if (v.per_day) {
    // A per-day 429 still names a short retryDelay; the quota itself resets at midnight.
    cool = std::chrono::ceil<Duration>(next_pacific_midnight(wall) - wall);
  } else if (v.retry_after) {
    cool = *v.retry_after;
  } else {
    cool = backoff(m.rate_limits);
  }
  m.cool_until = std::max(m.cool_until, now + cool);
}

// cooldown * 2^(n-1), capped, then ±10% jitter so keys that cooled together do not all
// come back in the same millisecond; the cap still holds after the jitter.
Duration KeyPool::backoff(unsigned n) {
  Duration d = policy_.cooldown;
  for (unsigned i = 1; i < n && d < policy_.cooldown_max; ++i) {
    d *= 2;
  }
  d = std::min(d, policy_.cooldown_max);
  int64_t tenth = d.count() / 10;
  std::uniform_int_distribution<int64_t> jitter(-tenth, tenth);
  d += Duration(jitter(rng_));
  return std::min(d, policy_.cooldown_max);
}

void KeyPool::disable(uint32_t index, std::string reason, TimePoint now) {
  Slot& s = slots_[index];
  s.disabled = true;
  s.reason = std::move(reason);
  s.disabled_at = now;
  s.ramp_from = TimePoint{};
  mark(s);
  refresh(index, now);
  if (s.reason != "manual" && policy_.probe_interval.count() > 0) {
    schedule_probe(index, now + policy_.probe_interval);
  }
}

void KeyPool::enable(uint32_t index, TimePoint now, bool ramp) {
  Slot& s = slots_[index];
  s.disabled = false;
  s.reason.clear();
  s.consecutive_failures = 0;
  s.ramp_from = ramp && policy_.ramp_up.count() > 0 ? now : TimePoint{};
  mark(s);
  for (auto& [model, lane] : lanes_) {
    refresh_in(lane, model, index, now);
    if (blocked(s, model, now)) {
      lane.wakes.push({blocked_until(s, model), {index, s.gen}});
    }
  }
}

// ---------------------------------------------------------------- probes

void KeyPool::schedule_probe(uint32_t index, TimePoint at) {
  slots_[index].next_probe = at;
  probes_.push({at, {index, slots_[index].gen}});
}

bool KeyPool::probe_current(const Wake& w) const {
  auto [index, gen] = w.second;
  if (index >= slots_.size()) {
    return false;
  }
  const Slot& s = slots_[index];
  return s.live && s.gen == gen && s.disabled && s.reason != "manual" && !s.probe_in_flight &&
         s.next_probe == w.first;
}

std::vector<ProbeLease> KeyPool::due_probes(TimePoint now, size_t max) {
  std::lock_guard lock(mu_);
  now = monotonic(now);
  std::vector<ProbeLease> out;
  while (!probes_.empty() && out.size() < max && probes_.top().first <= now) {
    Wake w = probes_.top();
    probes_.pop();
    if (!probe_current(w)) {
      continue;  // stale: the key changed since this probe was scheduled
    }
    Slot& s = slots_[w.second.first];
    s.probe_in_flight = true;
    out.push_back(ProbeLease{w.second.first, w.second.second, s.key, s.id});
  }
  return out;
}

std::optional<TimePoint> KeyPool::next_probe(TimePoint) {
  std::lock_guard lock(mu_);
  while (!probes_.empty() && !probe_current(probes_.top())) {
    probes_.pop();
  }
  if (probes_.empty()) {
    return std::nullopt;
  }
  return probes_.top().first;
}

Transition KeyPool::probe_done(const ProbeLease& p, const Verdict& v, TimePoint now,
                               WallTime wall) {
  Deliveries d;
  Transition t;
  {
    std::lock_guard lock(mu_);
    now = monotonic(now);
    if (p.index >= slots_.size() || !slots_[p.index].live || slots_[p.index].gen != p.gen) {
      return t;
    }
    Slot& s = slots_[p.index];
    s.probe_in_flight = false;
    if (!s.disabled || s.reason == "manual") {
      return t;  // an operator changed it while the probe ran
    }
    if (v.outcome == Outcome::success || v.outcome == Outcome::rate_limited) {
      enable(p.index, now, true);
      t.kind = Transition::enabled;
      t.reason = "probe_ok";
      serve_all_waiters(now, wall, d);
    } else {
      if (v.outcome == Outcome::invalid && !v.reason.empty() && v.reason != s.reason) {
        s.reason = v.reason;
        mark(s);
      }
      s.last_error = v.reason;
      s.last_error_at = wall;
      schedule_probe(p.index, now + std::max(policy_.probe_interval, Duration(1000)));
    }
  }
  deliver(d);
  return t;
}

}  // namespace gb::pool
