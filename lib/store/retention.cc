#include "store/retention.h"

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "base/wall_clock.h"

namespace gb::store {

namespace {

// The longest wait for the next run; keeps time_point arithmetic far from overflow.
constexpr Duration kMaxInterval{3600 * 1000};


}  // namespace

void Retention::request(Done done) {
  waiters_.push_back(std::move(done));
  restart_ = true;
}

void Retention::step(Clock::time_point now, Duration retention, Duration interval, bool last) {
  if (std::exchange(restart_, false) || (!running_ && now >= next_)) {
    if (retention.count() <= 0) {
      finish(now, interval);
      return;
    }
    running_ = true;
    cutoff_ms_ = wall_ms() - retention.count();
  }
  if (!running_) {
    return;
  }
  if (last) {
    finish(now, interval);
    return;
  }
  int64_t n = log_.prune(cutoff_ms_, kBatch);
  if (n < 0) {
    uint64_t held = 0;
    if (warn_.ready(now, &held)) {
      LOG_WARN("store.prune_failed").kv("err", db_.error()).kv("suppressed", held);
    }
    finish(now, interval);
    return;
  }
  removed_ += static_cast<uint64_t>(n);
  total_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  if (n < kBatch) {
    finish(now, interval);
  }
}

void Retention::finish(Clock::time_point now, Duration interval) {
  if (removed_ > 0) {
    LOG_INFO("store.pruned").kv("requests", removed_).kv("before_ms", cutoff_ms_);
  }
  uint64_t n = std::exchange(removed_, 0);
  running_ = false;
  next_ = now + std::min(interval, kMaxInterval);
  for (Done& done : std::exchange(waiters_, {})) {
    done(n);
  }
}

}  // namespace gb::store
