#include "pool/key_pool.h"

#include <algorithm>
#include <set>

#include "base/key_id.h"

namespace gb::pool {

namespace {

// Cursors are only a fairness hint; clients choose model names, so a flood of made-up
// names must not grow the map without bound. Starting over costs a little fairness.
constexpr size_t kMaxCursors = 1024;

Duration ceil_to_seconds(Duration d) {
  auto s = std::chrono::ceil<std::chrono::seconds>(d);
  return std::max<Duration>(s, std::chrono::seconds(1));
}

}  // namespace

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

KeyPool::KeyPool(std::string name, Policy policy, const std::vector<std::string>& keys,
                 uint64_t seed)
    : name_(std::move(name)), policy_(policy), rng_(seed) {
  std::set<std::string_view> seen;
  for (const std::string& key : keys) {
    if (key.empty() || !seen.insert(key).second) {
      continue;
    }
    Slot s;
    s.key = key;
    s.id = key_id(key);
    s.mask = key_mask(key);
    slots_.push_back(std::move(s));
  }
}

bool KeyPool::is_cooling(const Slot& s, std::string_view model, TimePoint now) {
  auto it = s.models.find(model);
  return it != s.models.end() && it->second.cool_until > now;
}

bool KeyPool::cools_any(const Slot& s, TimePoint now) {
  return std::any_of(s.models.begin(), s.models.end(),
                     [now](const auto& m) { return m.second.cool_until > now; });
}

KeyState KeyPool::state_of(const Slot& s, TimePoint now) {
  if (s.disabled) {
    return KeyState::disabled;
  }
  return cools_any(s, now) ? KeyState::cooling : KeyState::active;
}

std::variant<Lease, NoKey> KeyPool::acquire(std::string_view model,
                                            const std::vector<uint32_t>& tried, TimePoint now) {
  std::vector<bool> excluded(slots_.size(), false);
  for (uint32_t i : tried) {
    if (i < excluded.size()) {
      excluded[i] = true;
    }
  }
  std::lock_guard lock(mu_);
  std::optional<uint32_t> index = pick_next(model, excluded, now);
  if (!index) {
    return explain_no_key(model, now);
  }
  Slot& s = slots_[*index];
  ++s.in_flight;
  bool trial = s.disabled;
  if (trial) {
    s.trial_in_flight = true;
  }
  return Lease{*index, s.key, s.id, trial};
}

// Round robin per model: scan once from the model's cursor, take the first usable key,
// and leave the cursor just past it.
std::optional<uint32_t> KeyPool::pick_next(std::string_view model,
                                           const std::vector<bool>& excluded, TimePoint now) {
  size_t n = slots_.size();
  if (n == 0) {
    return std::nullopt;
  }
  auto cursor = cursors_.find(model);
  if (cursor == cursors_.end()) {
    if (cursors_.size() >= kMaxCursors) {
      cursors_.clear();
    }
    cursor = cursors_.emplace(std::string(model), 0).first;
  }
  for (size_t step = 0; step < n; ++step) {
    uint32_t i = static_cast<uint32_t>((cursor->second + step) % n);
    const Slot& s = slots_[i];
    if (excluded[i] || (s.disabled && !trial_due(s, now)) || is_cooling(s, model, now)) {
      continue;
    }
    cursor->second = static_cast<uint32_t>((i + 1) % n);
    return i;
  }
  return std::nullopt;
}

bool KeyPool::trial_due(const Slot& s, TimePoint now) const {
  return s.reason == "max_failures" && policy_.trial_after.count() > 0 && !s.trial_in_flight &&
         now >= s.disabled_at + policy_.trial_after;
}

NoKey KeyPool::explain_no_key(std::string_view model, TimePoint now) const {
  NoKey no;
  size_t enabled = 0;
  size_t cooling = 0;
  std::optional<TimePoint> soonest;
  for (const Slot& s : slots_) {
    if (s.disabled) {
      continue;
    }
    ++enabled;
    if (!is_cooling(s, model, now)) {
      continue;
    }
    ++cooling;
    TimePoint until = s.models.find(model)->second.cool_until;
    soonest = soonest ? std::min(*soonest, until) : until;
  }
  no.all_cooling = enabled > 0 && cooling == enabled;
  if (soonest) {
    no.retry_after = ceil_to_seconds(std::chrono::ceil<Duration>(*soonest - now));
  }
  return no;
}

Transition KeyPool::release(const Lease& lease, std::string_view model, const Verdict& v,
                            TimePoint now, WallTime wall) {
  std::lock_guard lock(mu_);
  Transition t;
  if (lease.index >= slots_.size() || slots_[lease.index].key != lease.key) {
    return t;  // not one of ours: nothing safe to update
  }
  Slot& s = slots_[lease.index];
  if (s.in_flight > 0) {
    --s.in_flight;
  }
  if (lease.trial) {
    s.trial_in_flight = false;
    if (v.outcome == Outcome::success && s.disabled && s.reason == "max_failures") {
      s.disabled = false;
      s.reason.clear();
      t.kind = Transition::enabled;
    }
  }
  bool was_disabled = s.disabled;
  switch (v.outcome) {
    case Outcome::success:
      on_success(s, model, now);
      break;
    case Outcome::rate_limited: {
      TimePoint before = is_cooling(s, model, now) ? s.models.find(model)->second.cool_until : now;
      on_rate_limited(s, model, v, now, wall);
      TimePoint after = s.models.find(model)->second.cool_until;
      if (after > before) {
        t.kind = Transition::cooled;
        t.cool_for = std::chrono::ceil<Duration>(after - now);
      }
      break;
    }
    case Outcome::invalid:
      s.disabled = true;
      s.disabled_at = now;
      s.reason = v.reason.empty() ? "invalid" : v.reason;
      break;
    case Outcome::failed:
      on_failed(s, now);
      break;
    case Outcome::client_error:
    case Outcome::cancelled:
      break;
  }
  if (s.disabled && !was_disabled) {
    t.kind = Transition::disabled;
    t.reason = s.reason;
  }
  return t;
}

void KeyPool::on_success(Slot& s, std::string_view model, TimePoint now) {
  s.consecutive_failures = 0;
  auto it = s.models.find(model);
  if (it == s.models.end()) {
    return;
  }
  if (it->second.cool_until <= now) {
    s.models.erase(it);
  } else {
    it->second.rate_limits = 0;  // a lease older than the 429 succeeded: keep the cooldown
  }
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

void KeyPool::on_failed(Slot& s, TimePoint now) {
  ++s.consecutive_failures;
  if (s.disabled) {
    s.disabled_at = now;  // a failed trial: wait trial_after again
  }
  if (policy_.max_failures > 0 && s.consecutive_failures >= policy_.max_failures && !s.disabled) {
    s.disabled = true;
    s.disabled_at = now;
    s.reason = "max_failures";
  }
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

Counts KeyPool::counts(TimePoint now) const {
  std::lock_guard lock(mu_);
  Counts c;
  for (const Slot& s : slots_) {
    switch (state_of(s, now)) {
      case KeyState::active:
        ++c.active;
        break;
      case KeyState::cooling:
        ++c.cooling;
        break;
      case KeyState::disabled:
        ++c.disabled;
        break;
    }
  }
  return c;
}

std::vector<KeyView> KeyPool::snapshot(TimePoint now) const {
  std::lock_guard lock(mu_);
  std::vector<KeyView> out;
  out.reserve(slots_.size());
  for (const Slot& s : slots_) {
    KeyView kv;
    kv.id = s.id;
    kv.mask = s.mask;
    kv.state = state_of(s, now);
    kv.reason = s.disabled ? s.reason : std::string();
    kv.consecutive_failures = s.consecutive_failures;
    kv.in_flight = s.in_flight;
    for (const auto& [model, m] : s.models) {
      if (m.cool_until > now) {
        kv.cooling.emplace_back(model, std::chrono::ceil<Duration>(m.cool_until - now));
      }
    }
    out.push_back(std::move(kv));
  }
  return out;
}

}  // namespace gb::pool
