// LatencyHistogram: percentiles of durations in fixed memory, whatever the number of
// values, so that a report over a month of requests keeps no per-request value.
//
// Buckets grow by 2% from 0.01 ms up to one hour (about 1000 of them, at most 8 KiB,
// allocated only up to the largest value seen); min and max are kept exactly.
// percentile(p) is the upper bound of the bucket that holds the value of rank
// ceil(p/100 * count) in sorted order (the nearest-rank percentile q), clamped to
// [min, max]. Hence the error bound, for q in (0.01 ms, 1 h]:
//     q <= percentile(p) < 1.02 * q        (never low, less than 2% high)
// Below 0.01 ms the result is at most 0.01 ms; a value above one hour falls in a last,
// open bucket, reported as the exact max. Negative values and NaN count as 0.
//
// Pure data; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gb::store {

class LatencyHistogram {
 public:
  static constexpr double kMinBoundMs = 0.01;         // upper bound of the first bucket
  static constexpr double kGrowth = 1.02;             // ratio of consecutive bounds
  static constexpr double kMaxBoundMs = 3'600'000.0;  // one hour: beyond, one open bucket

  void add(double ms);

  uint64_t count() const { return count_; }
  // -1 when empty.
  double min() const { return count_ ? min_ : -1; }
  double max() const { return count_ ? max_ : -1; }
  // p in (0, 100] (clamped into it); -1 when empty.
  double percentile(double p) const;

  // The number of finite buckets, and the upper bound of bucket i (bucket 0 holds
  // [0, kMinBoundMs]; bucket i > 0 holds (bound(i-1), bound(i)]). For tests.
  static size_t finite_buckets();
  static double bound(size_t i);

 private:
  std::vector<uint64_t> counts_;  // index finite_buckets(): the open bucket past one hour
  uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace gb::store
