#include "store/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace gb::store {

namespace {

using H = LatencyHistogram;

const std::vector<double>& bounds() {
  static const std::vector<double> b = [] {
    std::vector<double> v{H::kMinBoundMs};
    while (v.back() < H::kMaxBoundMs) {
      // pow rather than repeated products: no rounding drift over a thousand steps.
      v.push_back(H::kMinBoundMs * std::pow(H::kGrowth, static_cast<double>(v.size())));
    }
    return v;
  }();
  return b;
}

size_t bucket_of(double ms) {
  const std::vector<double>& b = bounds();
  if (!(ms > H::kMinBoundMs)) {
    return 0;
  }
  if (ms > b.back()) {
    return b.size();
  }
  double guess = std::ceil(std::log(ms / H::kMinBoundMs) / std::log(H::kGrowth));
  size_t i = std::clamp<size_t>(static_cast<size_t>(guess), 1, b.size() - 1);
  // The logarithm may land one bucket off at a bound; the table decides.
  while (b[i] < ms) {
    ++i;
  }
  while (b[i - 1] >= ms) {
    --i;
  }
  return i;
}

}  // namespace

size_t LatencyHistogram::finite_buckets() {
  return bounds().size();
}

double LatencyHistogram::bound(size_t i) {
  return bounds().at(i);
}

void LatencyHistogram::add(double ms) {
  if (!(ms > 0)) {
    ms = 0;  // also NaN
  }
  size_t i = bucket_of(ms);
  if (counts_.size() <= i) {
    counts_.resize(i + 1);
  }
  counts_[i]++;
  min_ = count_ ? std::min(min_, ms) : ms;
  max_ = count_ ? std::max(max_, ms) : ms;
  count_++;
}

double LatencyHistogram::percentile(double p) const {
  if (count_ == 0) {
    return -1;
  }
  p = std::clamp(p, 0.0, 100.0);
  double r = std::ceil(p * static_cast<double>(count_) / 100);
  uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(r), 1, count_);
  uint64_t seen = 0;
  size_t i = 0;
  for (; i + 1 < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      break;
    }
  }
  double upper = i < finite_buckets() ? bound(i) : max_;
  return std::clamp(upper, min_, max_);
}

}  // namespace gb::store
