// StatsBuilder: folds request rows, one at a time, into a StatsReport (stats_report.h
// says what counts as ok and how errors are named).
//
// Memory grows with the number of distinct pools, keys, models and error classes, never
// with the number of rows: latencies go into fixed-size histograms. Pure; not
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "store/latency_histogram.h"
#include "store/stats_report.h"

namespace gb::store {

// One row; the views need to last only for the call to add().
struct StatsSample {
  std::string_view pool;
  std::string_view key;
  std::string_view model;
  std::string_view err;
  int status = 0;
  double ms = 0;
  double ttfb_ms = -1;  // < 0: no first byte was sent
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  int64_t tokens_thought = 0;
  int64_t tokens_cached = 0;
};

class StatsBuilder {
 public:
  void add(const StatsSample& s);

  // The report over every row added, groups sorted. Leaves the builder empty.
  StatsReport finish(int64_t since_ms, int64_t until_ms);

 private:
  struct Group {
    void add(const StatsSample& s, std::string_view error_class);
    StatsGroup finish(std::string pool, std::string name);

    StatsGroup sums;  // counts and tokens; the rest is built by finish()
    std::map<std::string, uint64_t, std::less<>> errors;
    LatencyHistogram latency;
    LatencyHistogram ttfb;
  };
  using Groups = std::map<std::string, Group, std::less<>>;

  Group total_;
  Groups pools_;
  Groups models_;
  std::map<std::string, Groups, std::less<>> keys_;  // pool -> key id -> group
};

}  // namespace gb::store
