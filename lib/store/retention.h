// Retention: deletes request rows older than the retention period, one small batch per
// call, so that the store thread runs queued flushes and queries between batches and a
// large backlog (a first start after months) never holds them up for long.
//
// Store-thread only. A run starts when one is due (every `interval`), when asked
// (request()), or when the retention changed (restart()); it ends when a batch finds
// fewer rows than its size, and then calls back whoever asked.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "base/units.h"
#include "store/request_log.h"
#include "store/sqlite.h"
#include "store/throttle.h"

namespace gb::store {

class Retention {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(uint64_t removed)>;

  static constexpr int64_t kBatch = 1000;

  Retention(RequestLog& log, Db& db, Throttle& warn) : log_(log), db_(db), warn_(warn) {}

  void schedule(Clock::time_point when) { next_ = when; }
  // Starts a run now (or continues the current one with a fresh cutoff).
  void request(Done done);
  void restart() { restart_ = true; }

  // A run is under way: the store thread should come back without sleeping.
  bool running() const { return running_; }
  Clock::time_point next() const { return next_; }

  // Starts a run if one is due, then deletes one batch. `retention` 0 keeps every row
  // (and ends a run); `last` (the store is stopping) ends any run without deleting.
  void step(Clock::time_point now, Duration retention, Duration interval, bool last);

  // Rows deleted since the store opened. Any thread; counted before callbacks run.
  uint64_t removed_total() const { return total_.load(std::memory_order_relaxed); }

 private:
  void finish(Clock::time_point now, Duration interval);

  RequestLog& log_;
  Db& db_;
  Throttle& warn_;
  Clock::time_point next_;
  bool running_ = false;
  bool restart_ = false;
  int64_t cutoff_ms_ = 0;
  uint64_t removed_ = 0;  // in the current run
  std::atomic<uint64_t> total_{0};
  std::vector<Done> waiters_;
};

}  // namespace gb::store
