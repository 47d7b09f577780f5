// QuotaWindow: requests and tokens a key spent on one model in the last minute.
//
// Declared quotas (rpm, tpm) are per minute; the window is seven 10-second buckets (the
// current one and the six before it), so it counts what happened in the last 60 to 70
// seconds. Erring on the long side is the point: the window exists to stop before the
// upstream says 429, never after. Six buckets would forget a request after only 50 s.
#pragma once

#include <array>
#include <cstdint>

#include "base/units.h"
#include "pool/key_record.h"

namespace gb::pool {

struct QuotaLimits {
  uint32_t rpm = 0;  // 0 = no limit
  uint64_t tpm = 0;
  uint32_t rpd = 0;
  bool any() const { return rpm != 0 || tpm != 0 || rpd != 0; }
};

class QuotaWindow {
 public:
  static constexpr int64_t kBucketMs = 10000;
  static constexpr int kBuckets = 7;

  // `now_ms` is any monotonic millisecond count.
  void add_request(int64_t now_ms);
  void add_tokens(int64_t now_ms, uint64_t tokens);
  uint32_t requests(int64_t now_ms) const;
  uint64_t tokens(int64_t now_ms) const;
  // When the oldest bucket still counting (with requests, or with tokens) leaves the
  // window; now_ms when nothing counts.
  int64_t requests_free_at(int64_t now_ms) const;
  int64_t tokens_free_at(int64_t now_ms) const;

 private:
  struct Bucket {
    int64_t slot = -1;  // now_ms / kBucketMs of the bucket's 10 seconds
    uint32_t requests = 0;
    uint64_t tokens = 0;
  };
  Bucket& current(int64_t now_ms);
  bool counts(const Bucket& b, int64_t now_ms) const;

  std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace gb::pool
