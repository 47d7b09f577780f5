// KeyPool: what operators and the daemon do to a pool besides serving requests —
// runtime keys, resets, manual parking, reloads, persistence, views.
#include <algorithm>
#include <unordered_map>

#include "base/key_id.h"
#include "pool/key_pool.h"

namespace gb::pool {

namespace {

int64_t wall_ms(WallTime w) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(w.time_since_epoch()).count();
}

// Steady-clock time of a stored wall-clock instant.
TimePoint steady_of(int64_t ms, TimePoint now, WallTime wall) {
  return now + std::chrono::milliseconds(ms - wall_ms(wall));
}

int64_t stored_ms(TimePoint t, TimePoint now, WallTime wall) {
  return wall_ms(wall) + std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
}

}  // namespace

uint32_t KeyPool::add_slot(const std::string& key, unsigned weight) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
    for (auto& [model, lane] : lanes_) {
      lane.tree.resize(static_cast<uint32_t>(slots_.size()));
    }
  }
  Slot& s = slots_[index];
  uint32_t gen = s.gen + 1;
  bool listed_dirty = s.dirty;  // a reused position may still be in dirty_
  s = Slot{};
  s.dirty = listed_dirty;
  s.live = true;
  s.gen = gen;
  s.key = key;
  s.id = key_id(key);
  s.hash = key_hash(key);
  s.mask = key_mask(key);
  s.weight = std::max(1u, weight);
  by_key_.emplace(key, index);
  mark(s);
  for (auto& [model, lane] : lanes_) {
    refresh_in(lane, model, index, TimePoint{});
  }
  return index;
}

void KeyPool::remove_slot(uint32_t index) {
  Slot& s = slots_[index];
  KeyChange gone;
  gone.record.pool = name_;
  gone.record.hash = s.hash;
  gone.removed = true;
  removed_.push_back(std::move(gone));
  by_key_.erase(s.key);
  s.live = false;
  ++s.gen;  // leases and probes of the old key change nothing from now on
  s.key.clear();
  s.models.clear();
  for (auto& [model, lane] : lanes_) {
    lane.tree.set_unavailable(index);
  }
  free_.push_back(index);
}

std::vector<uint32_t> KeyPool::match(std::string_view selector) const {
  std::lock_guard lock(mu_);
  std::vector<uint32_t> out;
  if (selector.empty()) {
    return out;
  }
  auto exact = by_key_.find(selector);
  if (exact != by_key_.end()) {
    return {exact->second};
  }
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.live) {
      continue;
    }
    if (s.id == selector || s.hash == selector || s.mask.rfind(selector, 0) == 0 ||
        (selector.size() >= 8 && s.hash.rfind(selector, 0) == 0)) {
      out.push_back(i);
    }
  }
  return out;
}

std::vector<AddResult> KeyPool::add_runtime_keys(const std::vector<std::string>& keys,
                                                 TimePoint now, WallTime wall) {
  Deliveries d;
  std::vector<AddResult> out;
  {
    std::lock_guard lock(mu_);
    now = monotonic(now);
    for (const std::string& k : keys) {
      AddResult r{key_id(k), key_mask(k), false};
      if (!k.empty() && by_key_.count(k) == 0) {
        uint32_t i = add_slot(k, 1);
        slots_[i].runtime = true;
        r.added = true;
      }
      out.push_back(std::move(r));
    }
    serve_all_waiters(now, wall, d);
  }
  deliver(d);
  return out;
}

bool KeyPool::remove_runtime_key(uint32_t index) {
  std::lock_guard lock(mu_);
  if (index >= slots_.size() || !slots_[index].live || !slots_[index].runtime ||
      slots_[index].in_config) {
    return false;
  }
  remove_slot(index);
  return true;
}

void KeyPool::reset(const std::vector<uint32_t>& indexes, TimePoint now, WallTime wall) {
  Deliveries d;
  {
    std::lock_guard lock(mu_);
    now = monotonic(now);
    for (uint32_t i : indexes) {
      if (i >= slots_.size() || !slots_[i].live) {
        continue;
      }
      Slot& s = slots_[i];
      s.consecutive_failures = 0;
      for (auto& [model, m] : s.models) {
        m.cool_until = TimePoint{};
        m.quota_until = TimePoint{};
        m.rate_limits = 0;
      }
      mark(s);
      if (s.disabled) {
        enable(i, now, false);
      } else {
        s.ramp_from = TimePoint{};
        refresh(i, now);
      }
    }
    serve_all_waiters(now, wall, d);
  }
  deliver(d);
}

void KeyPool::reset_all(TimePoint now, WallTime wall) {
  std::vector<uint32_t> all;
  {
    std::lock_guard lock(mu_);
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].live) {
        all.push_back(i);
      }
    }
  }
  reset(all, now, wall);
}

void KeyPool::set_manual(uint32_t index, bool disabled, TimePoint now, WallTime wall) {
  Deliveries d;
  {
    std::lock_guard lock(mu_);
    now = monotonic(now);
    if (index >= slots_.size() || !slots_[index].live) {
      return;
    }
    Slot& s = slots_[index];
    if (disabled) {
      if (s.disabled) {
        s.reason = "manual";  // parked by hand: no more probes
        mark(s);
      } else {
        disable(index, "manual", now);
      }
    } else if (s.disabled) {
      enable(index, now, false);
      serve_all_waiters(now, wall, d);
    }
  }
  deliver(d);
}

void KeyPool::reconfigure(Policy policy, const std::vector<KeySpec>& config_keys, TimePoint now,
                          WallTime wall) {
  Deliveries d;
  {
    std::lock_guard lock(mu_);
    now = monotonic(now);
    bool rebuild = policy.strategy != policy_.strategy;
    policy_ = std::move(policy);
    std::unordered_map<std::string_view, unsigned> wanted;
    for (const KeySpec& k : config_keys) {
      if (!k.key.empty()) {
        wanted.emplace(k.key, std::max(1u, k.weight));
      }
    }
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (!s.live || !s.in_config || wanted.count(s.key) != 0) {
        continue;
      }
      if (s.runtime) {
        s.in_config = false;  // stays as the runtime key it also is
        mark(s);
      } else {
        remove_slot(i);
      }
    }
    for (const KeySpec& k : config_keys) {
      if (k.key.empty()) {
        continue;
      }
      auto it = by_key_.find(k.key);
      uint32_t i = it != by_key_.end() ? it->second : add_slot(k.key, k.weight);
      Slot& s = slots_[i];
      if (!s.in_config || s.weight != std::max(1u, k.weight)) {
        s.in_config = true;
        s.weight = std::max(1u, k.weight);
        mark(s);
      }
    }
    // Quota blocks were decided under the old limits; the next pick decides them again
    // under the new ones (a raised rpd must not hold keys until Pacific midnight).
    for (Slot& s : slots_) {
      for (auto& [model, m] : s.models) {
        m.quota_until = TimePoint{};
      }
    }
    for (auto& [model, lane] : lanes_) {
      if (rebuild) {
        build_lane(model, lane, now);  // waiters and cursor stay
      } else {
        lane.quota = policy_.quota_for ? policy_.quota_for(model) : QuotaLimits{};
        for (uint32_t i = 0; i < slots_.size(); ++i) {
          refresh_in(lane, model, i, now);
        }
      }
    }
    serve_all_waiters(now, wall, d);
  }
  deliver(d);
}

void KeyPool::restore(const std::vector<KeyRecord>& records, TimePoint now, WallTime wall) {
  std::lock_guard lock(mu_);
  std::unordered_map<std::string, uint32_t> by_hash;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].live) {
      by_hash.emplace(slots_[i].hash, i);
    }
  }
  for (const KeyRecord& r : records) {
    auto it = by_hash.find(r.hash);
    uint32_t i;
    if (it != by_hash.end()) {
      i = it->second;
    } else if (r.origin == "runtime" && !r.secret.empty() && by_key_.count(r.secret) == 0) {
      i = add_slot(r.secret, r.weight);
    } else {
      KeyChange gone;  // a config key that is configured no more
      gone.record.pool = name_;
      gone.record.hash = r.hash;
      gone.removed = true;
      removed_.push_back(std::move(gone));
      continue;
    }
    Slot& s = slots_[i];
    s.runtime = s.runtime || r.origin == "runtime";
    s.consecutive_failures = r.consecutive_failures;
    s.requests = r.requests;
    s.failures = r.failures;
    s.rate_limited = r.rate_limited;
    s.tokens_in = r.tokens_in;
    s.tokens_out = r.tokens_out;
    s.last_error = r.last_error;
    s.last_error_at = WallTime(std::chrono::milliseconds(r.last_error_ms));
    s.last_used = WallTime(std::chrono::milliseconds(r.last_used_ms));
    for (const ModelRecord& mr : r.models) {
      ModelState m;
      if (mr.cool_until_ms > wall_ms(wall)) {
        m.cool_until = steady_of(mr.cool_until_ms, now, wall);
      }
      m.rate_limits = mr.rate_limits;
      m.day = mr.day;
      m.day_requests = mr.day_requests;
      s.models[mr.model] = m;
    }
    if (r.disabled) {
      s.disabled = true;
      s.reason = r.reason.empty() ? "invalid" : r.reason;
      s.disabled_at = steady_of(r.disabled_at_ms, now, wall);
      if (s.reason != "manual" && policy_.probe_interval.count() > 0) {
        schedule_probe(i, std::max(now, s.disabled_at + policy_.probe_interval));
      }
    } else if (r.enabled_at_ms > 0) {
      TimePoint from = steady_of(r.enabled_at_ms, now, wall);
      if (now - from < policy_.ramp_up) {
        s.ramp_from = from;
      }
    }
    // The database holds this state already; only later changes need writing. A
    // runtime key re-added above is written again, which is harmless.
    s.dirty = false;
  }
  dirty_.erase(std::remove_if(dirty_.begin(), dirty_.end(),
                              [this](uint32_t i) { return !slots_[i].dirty; }),
               dirty_.end());
  for (auto& [model, lane] : lanes_) {
    build_lane(model, lane, now);
  }
}

KeyRecord KeyPool::record_of(const Slot& s, TimePoint now, WallTime wall) const {
  KeyRecord r;
  r.pool = name_;
  r.hash = s.hash;
  r.id = s.id;
  r.mask = s.mask;
  r.origin = s.in_config ? "config" : "runtime";
  if (!s.in_config) {
    r.secret = s.key;
  }
  r.disabled = s.disabled;
  r.reason = s.disabled ? s.reason : std::string();
  r.consecutive_failures = s.consecutive_failures;
  r.disabled_at_ms = s.disabled ? stored_ms(s.disabled_at, now, wall) : 0;
  r.enabled_at_ms = s.ramp_from != TimePoint{} ? stored_ms(s.ramp_from, now, wall) : 0;
  r.weight = s.weight;
  r.requests = s.requests;
  r.failures = s.failures;
  r.rate_limited = s.rate_limited;
  r.tokens_in = s.tokens_in;
  r.tokens_out = s.tokens_out;
  r.last_error = s.last_error;
  r.last_error_ms = s.last_error_at == WallTime{} ? 0 : wall_ms(s.last_error_at);
  r.last_used_ms = s.last_used == WallTime{} ? 0 : wall_ms(s.last_used);
  for (const auto& [model, m] : s.models) {
    ModelRecord mr;
    mr.model = model;
    mr.cool_until_ms = m.cool_until > now ? stored_ms(m.cool_until, now, wall) : 0;
    mr.rate_limits = m.rate_limits;
    mr.day = m.day;
    mr.day_requests = m.day_requests;
    if (mr.cool_until_ms != 0 || mr.rate_limits != 0 || mr.day_requests != 0) {
      r.models.push_back(std::move(mr));
    }
  }
  return r;
}

std::vector<KeyChange> KeyPool::take_changes(TimePoint now, WallTime wall) {
  std::lock_guard lock(mu_);
  std::vector<KeyChange> out = std::move(removed_);
  removed_.clear();
  for (uint32_t i : dirty_) {
    Slot& s = slots_[i];
    s.dirty = false;
    if (s.live) {
      out.push_back(KeyChange{record_of(s, now, wall), false});
    }
  }
  dirty_.clear();
  return out;
}

Counts KeyPool::counts(TimePoint now) const {
  std::lock_guard lock(mu_);
  Counts c;
  for (const Slot& s : slots_) {
    if (!s.live) {
      continue;
    }
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
  c.waiting = waiting_;
  return c;
}

std::vector<KeyView> KeyPool::snapshot(TimePoint now) const {
  std::lock_guard lock(mu_);
  std::vector<KeyView> out;
  out.reserve(by_key_.size());
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.live) {
      continue;
    }
    KeyView kv;
    kv.index = i;
    kv.id = s.id;
    kv.hash = s.hash;
    kv.mask = s.mask;
    kv.runtime = !s.in_config;
    kv.state = state_of(s, now);
    kv.reason = s.disabled ? s.reason : std::string();
    kv.weight = s.weight;
    kv.consecutive_failures = s.consecutive_failures;
    kv.in_flight = s.in_flight;
    kv.share = s.disabled ? 0.0 : share_of(s, now);
    kv.requests = s.requests;
    kv.failures = s.failures;
    kv.rate_limited = s.rate_limited;
    kv.tokens_in = s.tokens_in;
    kv.tokens_out = s.tokens_out;
    kv.last_error = s.last_error;
    for (const auto& [model, m] : s.models) {
      TimePoint until = std::max(m.cool_until, m.quota_until);
      if (until > now) {
        kv.cooling.emplace_back(model, std::chrono::ceil<Duration>(until - now));
      }
    }
    out.push_back(std::move(kv));
  }
  return out;
}

}  // namespace gb::pool
