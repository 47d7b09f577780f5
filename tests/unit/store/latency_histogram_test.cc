#include "store/latency_histogram.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using gb::store::LatencyHistogram;

namespace {

// The value of rank ceil(p/100 * n) in sorted order: what percentile() approximates.
double nearest_rank(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()) / 100));
  return v[std::max<size_t>(rank, 1) - 1];
}

}  // namespace

TEST_CASE("an empty histogram reports -1", "[store]") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.min() == -1);
  CHECK(h.max() == -1);
  CHECK(h.percentile(50) == -1);
  CHECK(h.percentile(100) == -1);
}

TEST_CASE("one value is every percentile, exactly", "[store]") {
  LatencyHistogram h;
  h.add(123.4);
  CHECK(h.count() == 1);
  CHECK(h.min() == 123.4);
  CHECK(h.max() == 123.4);
  for (double p : {0.0, 1.0, 50.0, 99.0, 100.0, 250.0}) {
    CHECK(h.percentile(p) == 123.4);
  }
}

TEST_CASE("histogram buckets grow by 2 percent from 0.01 ms to one hour", "[store]") {
  size_t n = LatencyHistogram::finite_buckets();
  CHECK(LatencyHistogram::bound(0) == LatencyHistogram::kMinBoundMs);
  CHECK(LatencyHistogram::bound(n - 1) >= 3'600'000.0);
  CHECK(LatencyHistogram::bound(n - 2) < 3'600'000.0);
  CHECK(n < 1100);  // a fixed size of a few KiB
  for (size_t i = 1; i < n; ++i) {
    INFO(i);
    REQUIRE(LatencyHistogram::bound(i) / LatencyHistogram::bound(i - 1) ==
            Approx(1.02).epsilon(1e-9));
  }
}

TEST_CASE("a value on a bucket bound is reported exactly", "[store]") {
  for (size_t i : {0, 1, 2, 100, 500, 994}) {
    LatencyHistogram h;
    double v = LatencyHistogram::bound(i);
    h.add(v);
    h.add(v * 10);  // max is not v: no clamping hides a wrong bucket
    INFO(i);
    CHECK(h.percentile(50) == v);
  }
}

TEST_CASE("percentiles are monotone and within 2 percent above the exact ones", "[store]") {
  std::mt19937 rng(42);
  std::lognormal_distribution<double> dist(5.0, 2.0);  // ~0.1 ms to ~1 min, a long tail
  std::vector<double> values;
  LatencyHistogram h;
  for (int i = 0; i < 20000; ++i) {
    double v = dist(rng);
    values.push_back(v);
    h.add(v);
  }
  double prev = 0;
  for (double p = 0.5; p <= 100; p += 0.5) {
    double got = h.percentile(p);
    double exact = nearest_rank(values, p);
    INFO("p" << p << " got " << got << " exact " << exact);
    CHECK(got >= prev);
    CHECK(got >= exact);
    CHECK(got < exact * 1.02);
    CHECK(got >= h.min());
    CHECK(got <= h.max());
    prev = got;
  }
  CHECK(h.percentile(100) == *std::max_element(values.begin(), values.end()));
  CHECK(h.min() == *std::min_element(values.begin(), values.end()));
}

TEST_CASE("values past one hour are reported as the max", "[store]") {
  LatencyHistogram h;
  h.add(5);
  h.add(2 * 3'600'000.0);
  h.add(1e12);
  CHECK(h.percentile(33) == Approx(5).epsilon(0.02));
  CHECK(h.percentile(50) == 1e12);  // the open bucket has no bound but the max
  CHECK(h.percentile(100) == 1e12);
  CHECK(h.max() == 1e12);

  LatencyHistogram inf;
  inf.add(std::numeric_limits<double>::infinity());
  CHECK(inf.percentile(50) == std::numeric_limits<double>::infinity());
}

TEST_CASE("tiny, zero, negative and NaN durations fall in the first bucket", "[store]") {
  LatencyHistogram h;
  h.add(0);
  h.add(-5);
  h.add(std::nan(""));
  CHECK(h.count() == 3);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.percentile(100) == 0);

  LatencyHistogram tiny;
  tiny.add(0.001);
  tiny.add(0.002);
  tiny.add(1);
  CHECK(tiny.percentile(50) >= 0.002);
  CHECK(tiny.percentile(50) <= LatencyHistogram::kMinBoundMs);
  CHECK(tiny.min() == 0.001);
}
