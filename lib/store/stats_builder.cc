#include "store/stats_builder.h"

#include <algorithm>
#include <charconv>
#include <tuple>
#include <utility>
#include <vector>

namespace gb::store {

namespace {

constexpr std::string_view kNone = "-";

std::string_view or_none(std::string_view name) {
  return name.empty() ? kNone : name;
}

// Finds or inserts without building a std::string for every row.
template <typename Map>
typename Map::mapped_type& at(Map& m, std::string_view name) {
  auto it = m.find(name);
  if (it == m.end()) {
    it = m.emplace(std::string(name), typename Map::mapped_type{}).first;
  }
  return it->second;
}

Percentiles percentiles(const LatencyHistogram& h) {
  return Percentiles{h.percentile(50), h.percentile(90), h.percentile(99), h.max()};
}

bool busier(const StatsGroup& a, const StatsGroup& b) {
  if (a.requests != b.requests) {
    return a.requests > b.requests;
  }
  return std::tie(a.pool, a.name) < std::tie(b.pool, b.name);
}

}  // namespace

void StatsBuilder::Group::add(const StatsSample& s, std::string_view error_class) {
  sums.requests++;
  if (error_class.empty()) {
    sums.ok++;
  } else {
    sums.errors++;
    at(errors, error_class)++;
  }
  latency.add(s.ms);
  if (s.ttfb_ms >= 0) {
    ttfb.add(s.ttfb_ms);
  }
  sums.tokens_in += s.tokens_in;
  sums.tokens_out += s.tokens_out;
  sums.tokens_thought += s.tokens_thought;
  sums.tokens_cached += s.tokens_cached;
}

StatsGroup StatsBuilder::Group::finish(std::string pool, std::string name) {
  StatsGroup g = std::move(sums);
  g.pool = std::move(pool);
  g.name = std::move(name);
  for (auto& [cls, n] : errors) {
    g.error_classes.push_back(ErrorClass{cls, n});
  }
  std::stable_sort(g.error_classes.begin(), g.error_classes.end(),
                   [](const ErrorClass& a, const ErrorClass& b) { return a.count > b.count; });
  g.latency_ms = percentiles(latency);
  g.ttfb_ms = percentiles(ttfb);
  return g;
}

void StatsBuilder::add(const StatsSample& s) {
  std::string_view error_class;
  char buf[32] = "http_";
  if (!s.err.empty()) {
    error_class = s.err;
  } else if (s.status >= 400) {
    char* end = std::to_chars(buf + 5, buf + sizeof buf, s.status).ptr;
    error_class = std::string_view(buf, static_cast<size_t>(end - buf));
  }
  total_.add(s, error_class);
  at(pools_, or_none(s.pool)).add(s, error_class);
  at(at(keys_, or_none(s.pool)), or_none(s.key)).add(s, error_class);
  at(models_, or_none(s.model)).add(s, error_class);
}

StatsReport StatsBuilder::finish(int64_t since_ms, int64_t until_ms) {
  StatsReport r;
  r.since_ms = since_ms;
  r.until_ms = until_ms;
  r.total = total_.finish("", "");
  for (auto& [pool, g] : pools_) {
    r.by_pool.push_back(g.finish("", pool));
  }
  for (auto& [pool, keys] : keys_) {
    for (auto& [key, g] : keys) {
      r.by_key.push_back(g.finish(pool, key));
    }
  }
  for (auto& [model, g] : models_) {
    r.by_model.push_back(g.finish("", model));
  }
  for (auto* list : {&r.by_pool, &r.by_key, &r.by_model}) {
    std::sort(list->begin(), list->end(), busier);
  }
  *this = StatsBuilder{};
  return r;
}

}  // namespace gb::store
