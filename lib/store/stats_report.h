// StatsQuery, StatsReport and KeyActivity: aggregates of the request log, as gbctl
// asks for them (`gbctl stats`, `gbctl keys status`). Pure data.
//
// A request is ok when its status is below 400 and it carries no error code; any other
// is an error, of the class named by its code (`err`), or `http_<status>` when it has
// none. An empty pool, key or model (a request no key answered, a route that names no
// model) is grouped under "-".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gb::store {

struct StatsQuery {
  int64_t since_ms = 0;  // ts_ms >= since_ms
  int64_t until_ms = 0;  // ts_ms < until_ms; 0: no bound
  std::string pool;      // "": every pool
};

// Durations in ms, within LatencyHistogram's error (less than 2% high); -1 when there
// was no value.
struct Percentiles {
  double p50 = -1;
  double p90 = -1;
  double p99 = -1;
  double max = -1;
};

struct ErrorClass {
  std::string name;  // an error code, or http_<status>
  uint64_t count = 0;
};

struct StatsGroup {
  std::string pool;  // the key's pool, in by_key groups only ("" elsewhere)
  std::string name;  // the pool, key id or model; "" for the total
  uint64_t requests = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;  // requests - ok
  // Counts add up to `errors`. Most frequent first, then by name.
  std::vector<ErrorClass> error_classes;
  Percentiles latency_ms;  // over every request
  Percentiles ttfb_ms;     // over the requests that sent a first byte
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  int64_t tokens_thought = 0;
  int64_t tokens_cached = 0;
};

struct StatsReport {
  int64_t since_ms = 0;
  int64_t until_ms = 0;  // the query's bound, or the time the report was made
  StatsGroup total;
  // Most requests first, then by (pool,) name.
  std::vector<StatsGroup> by_pool;
  std::vector<StatsGroup> by_key;
  std::vector<StatsGroup> by_model;
};

// Requests of one key over the windows that end at the caller's now: a request counts
// in a window when now - width <= ts_ms <= now.
struct KeyActivity {
  std::string pool;
  std::string key;  // key id
  uint64_t last_minute = 0;
  uint64_t last_hour = 0;
  uint64_t last_day = 0;
  uint64_t errors_last_hour = 0;
};

}  // namespace gb::store
