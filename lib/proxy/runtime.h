// Runtime: what all worker threads share — the current config snapshot, the key pools,
// and the store that keeps their state and the request log.
//
// A request takes the snapshot current when it starts and keeps it to the end, so a
// reload never changes the rules under a request in flight. Key pools outlive snapshots:
// a reload hands each surviving pool its new policy and keys (KeyPool::reconfigure), so
// every key keeps its state. Workers cache the pointer and look at an atomic generation
// number per request, taking the mutex only after a swap.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.h"
#include "http/server_conn.h"
#include "pool/key_pool.h"
#include "proxy/models_cache.h"

namespace gb::store {
class Store;
}

namespace gb::proxy {

struct Snapshot {
  std::shared_ptr<const config::Config> config;
  std::map<std::string, std::shared_ptr<pool::KeyPool>, std::less<>> pools;  // by pool name
  store::Store* store = nullptr;  // request log; nullptr when there is none

  pool::KeyPool* keys_of(const config::Pool& p) const;
};

// The pool's policy and keys as the key pool wants them.
pool::Policy policy_of(const config::Pool& p);
std::vector<pool::KeySpec> key_specs_of(const config::Pool& p);

// Builds the snapshot of a config. Pools of `previous` with the same name are kept and
// reconfigured in place; others are new. `previous` may be null (startup).
std::shared_ptr<const Snapshot> make_snapshot(std::shared_ptr<const config::Config> cfg,
                                              const Snapshot* previous = nullptr,
                                              store::Store* store = nullptr);

class Runtime {
 public:
  explicit Runtime(std::shared_ptr<const Snapshot> s);
  std::shared_ptr<const Snapshot> current() const;
  void swap(std::shared_ptr<const Snapshot> s);
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  http::ServerStats server_stats;
  ModelsCache models;  // upstream models lists, for GET /v1/models
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snap_;
  std::atomic<uint64_t> generation_{1};
};

}  // namespace gb::proxy
