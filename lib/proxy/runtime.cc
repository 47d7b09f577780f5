#include "proxy/runtime.h"

#include <random>

namespace gb::proxy {

pool::KeyPool* Snapshot::keys_of(const config::Pool& p) const {
  auto it = pools.find(p.name);
  return it == pools.end() ? nullptr : it->second.get();
}

std::shared_ptr<const Snapshot> make_snapshot(std::shared_ptr<const config::Config> cfg) {
  auto s = std::make_shared<Snapshot>();
  std::random_device rd;
  for (const config::Pool& p : cfg->pools) {
    pool::Policy policy;
    policy.max_failures = p.max_failures;
    policy.cooldown = p.cooldown;
    policy.cooldown_max = p.cooldown_max;
    policy.trial_after = p.probe_interval;
    s->pools.emplace(p.name, std::make_shared<pool::KeyPool>(p.name, policy, p.keys, rd()));
  }
  s->config = std::move(cfg);
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
