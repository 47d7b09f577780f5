// The wall clock as Unix milliseconds: request-log timestamps, control replies.
#pragma once

#include <chrono>
#include <cstdint>

namespace gb {

inline int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace gb
