#include "proxy/runtime.h"

#include <random>

namespace gb::proxy {

namespace {
pool::Strategy strategy_of(config::Strategy s) {
  switch (s) {
    case config::Strategy::round_robin:
      return pool::Strategy::round_robin;
    case config::Strategy::least_busy:
      return pool::Strategy::least_busy;
    case config::Strategy::weighted:
      return pool::Strategy::weighted;
  }
  return pool::Strategy::round_robin;
}
}  // namespace

pool::KeyPool* Snapshot::keys_of(const config::Pool& p) const {
  auto it = pools.find(p.name);
  return it == pools.end() ? nullptr : it->second.get();
}

pool::Policy policy_of(const config::Pool& p) {
  pool::Policy policy;
  policy.strategy = strategy_of(p.strategy);
  policy.max_failures = p.max_failures;
  policy.cooldown = p.cooldown;
  policy.cooldown_max = p.cooldown_max;
  policy.probe_interval = p.probe_interval;
  policy.ramp_up = p.ramp_up;
  policy.queue_max = p.queue_max;
  if (!p.quotas.empty()) {
    // The pool outlives this config, so the lookup keeps its own copy of the quotas.
    policy.quota_for = [quotas = p.quotas](std::string_view model) {
      pool::QuotaLimits q;
      if (const config::Quota* d = config::find_quota(quotas, model)) {
        q.rpm = d->rpm;
        q.tpm = d->tpm;
        q.rpd = d->rpd;
      }
      return q;
    };
  }
  return policy;
}

std::vector<pool::KeySpec> key_specs_of(const config::Pool& p) {
  std::vector<pool::KeySpec> out;
  out.reserve(p.keys.size());
  for (const config::KeySpec& k : p.keys) {
    out.push_back(pool::KeySpec{k.key, k.weight});
  }
  return out;
}

std::shared_ptr<const Snapshot> make_snapshot(std::shared_ptr<const config::Config> cfg,
                                              const Snapshot* previous, store::Store* store) {
  auto s = std::make_shared<Snapshot>();
  std::random_device rd;
  auto now = pool::Clock::now();
  auto wall = std::chrono::system_clock::now();
  for (const config::Pool& p : cfg->pools) {
    std::shared_ptr<pool::KeyPool> kept;
    if (previous != nullptr) {
      auto it = previous->pools.find(p.name);
      kept = it != previous->pools.end() ? it->second : nullptr;
    }
    if (kept) {
      kept->reconfigure(policy_of(p), key_specs_of(p), now, wall);
      s->pools.emplace(p.name, std::move(kept));
    } else {
      s->pools.emplace(p.name, std::make_shared<pool::KeyPool>(p.name, policy_of(p),
                                                               key_specs_of(p), rd()));
    }
  }
  s->config = std::move(cfg);
  s->store = store != nullptr ? store : (previous != nullptr ? previous->store : nullptr);
  return s;
}

Runtime::Runtime(std::shared_ptr<const Snapshot> s) : snap_(std::move(s)) {}

std::shared_ptr<const Snapshot> Runtime::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snap_;
}

void Runtime::swap(std::shared_ptr<const Snapshot> s) {
  std::lock_guard<std::mutex> lock(mu_);
  snap_ = std::move(s);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace gb::proxy
