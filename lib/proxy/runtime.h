// Runtime: what all worker threads share — the current config snapshot and the key pools.
//
// A request takes the snapshot current when it starts and keeps it to the end, so a
// reload never changes the rules under a request in flight. Workers cache the pointer and
// look at an atomic generation number per request, taking the mutex only after a swap.
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

namespace gb::proxy {

struct Snapshot {
  std::shared_ptr<const config::Config> config;
  std::map<std::string, std::shared_ptr<pool::KeyPool>, std::less<>> pools;  // by pool name

  pool::KeyPool* keys_of(const config::Pool& p) const;
};

// Builds the key pools of a config.
std::shared_ptr<const Snapshot> make_snapshot(std::shared_ptr<const config::Config> cfg);

class Runtime {
 public:
  explicit Runtime(std::shared_ptr<const Snapshot> s);
  std::shared_ptr<const Snapshot> current() const;
  void swap(std::shared_ptr<const Snapshot> s);
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  http::ServerStats server_stats;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snap_;
  std::atomic<uint64_t> generation_{1};
};

}  // namespace gb::proxy
