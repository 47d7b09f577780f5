// Throttle: lets a repeated warning out at most once per period and counts the rest, so
// a full disk or a flood of dropped records cannot flood the log in turn.
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>

#include "base/units.h"

namespace gb::store {

class Throttle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Throttle(Duration every = Duration(10000)) : every_(every) {}

  // True when a report may go out now; *held then gets how many were held back since
  // the last one.
  bool ready(Clock::time_point now, uint64_t* held) {
    if (any_ && now - last_ < every_) {
      ++held_;
      return false;
    }
    any_ = true;
    last_ = now;
    *held = std::exchange(held_, 0);
    return true;
  }

 private:
  Duration every_;
  bool any_ = false;
  Clock::time_point last_;
  uint64_t held_ = 0;
};

}  // namespace gb::store
