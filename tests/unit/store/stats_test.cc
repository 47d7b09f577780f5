#include <algorithm>
#include <random>

#include "store/request_stats.h"
#include "store_test_util.h"

using gb::Duration;
using gb::Errc;
using gb::Result;
using gb::store::ErrorClass;
using gb::store::key_activity_sql;
using gb::store::KeyActivity;
using gb::store::Options;
using gb::store::RequestRecord;
using gb::store::stats_sql;
using gb::store::StatsGroup;
using gb::store::StatsQuery;
using gb::store::StatsReport;
using gb::store::Store;
using namespace gb::store::test;

namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

// Rows far in the past stay: no pruning behind the test's back; nothing is written
// unless a query or sync() asks.
Options keep_all() {
  Options opt;
  opt.retention = Duration(0);
  opt.flush_interval = Duration(3'600'000);
  return opt;
}

RequestRecord row(int64_t ts, std::string pool, std::string key, std::string model, int status,
                  std::string err = "") {
  RequestRecord r = sample_request(ts, model, status);
  r.pool = std::move(pool);
  r.key = std::move(key);
  r.err = std::move(err);
  return r;
}

Result<StatsReport> stats_now(Store& s, StatsQuery q) {
  auto p = std::make_shared<std::promise<Result<StatsReport>>>();
  auto f = p->get_future();
  s.stats(std::move(q), [p](Result<StatsReport> r) { p->set_value(std::move(r)); });
  return await(f);
}

StatsReport report_now(Store& s, StatsQuery q = {}) {
  Result<StatsReport> r = stats_now(s, std::move(q));
  INFO((r ? "" : r.error().context));
  REQUIRE(r.ok());
  return std::move(r.value());
}

std::vector<KeyActivity> activity_now(Store& s, int64_t now) {
  auto p = std::make_shared<std::promise<Result<std::vector<KeyActivity>>>>();
  auto f = p->get_future();
  s.key_activity(now, [p](Result<std::vector<KeyActivity>> r) { p->set_value(std::move(r)); });
  Result<std::vector<KeyActivity>> r = await(f);
  INFO((r ? "" : r.error().context));
  REQUIRE(r.ok());
  return std::move(r.value());
}

std::vector<std::string> names(const std::vector<StatsGroup>& groups) {
  std::vector<std::string> out;
  for (const StatsGroup& g : groups) {
    out.push_back(g.pool.empty() ? g.name : g.pool + "/" + g.name);
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> classes(const StatsGroup& g) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const ErrorClass& c : g.error_classes) {
    out.emplace_back(c.name, c.count);
  }
  return out;
}

using Names = std::vector<std::string>;
using Classes = std::vector<std::pair<std::string, uint64_t>>;

}  // namespace

TEST_CASE("a stats report counts, classifies errors and sums tokens by group", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), keep_all());
  store->start({});
  for (int i = 0; i < 3; ++i) {
    RequestRecord r = row(1000 + i, "gemini", "k1", "flash", 200);
    r.tokens_in = 10;
    r.tokens_out = 20;
    r.tokens_thought = 5;
    r.tokens_cached = 1;
    store->log_request(r);
  }
  store->log_request(row(1100, "gemini", "k1", "pro", 404));
  store->log_request(row(1101, "gemini", "k2", "pro", 504, "read_timeout"));
  store->log_request(row(1102, "gemini", "k2", "pro", 200, "client_gone"));  // ok status, err
  store->log_request(row(1103, "gemini", "", "flash", 429, "all_keys_cooling"));
  store->log_request(row(1104, "gemini", "", "flash", 429, "all_keys_cooling"));
  store->log_request(row(1105, "openai", "k3", "gpt", 200));
  store->log_request(row(1106, "openai", "k3", "gpt", 500));
  store->log_request(row(1107, "openai", "k3", "", 200));

  StatsReport r = report_now(*store);
  const StatsGroup& t = r.total;
  CHECK(t.requests == 11);
  CHECK(t.ok == 5);
  CHECK(t.errors == 6);
  CHECK(classes(t) == Classes{{"all_keys_cooling", 2},
                              {"client_gone", 1},
                              {"http_404", 1},
                              {"http_500", 1},
                              {"read_timeout", 1}});
  CHECK(t.tokens_in == 30);
  CHECK(t.tokens_out == 60);
  CHECK(t.tokens_thought == 15);
  CHECK(t.tokens_cached == 3);
  CHECK(t.latency_ms.max == 12.5);  // sample_request's latencies
  CHECK(t.ttfb_ms.p50 == 3.25);

  CHECK(names(r.by_pool) == Names{"gemini", "openai"});
  CHECK(r.by_pool[1].requests == 3);
  CHECK(r.by_pool[1].ok == 2);
  CHECK(classes(r.by_pool[1]) == Classes{{"http_500", 1}});
  CHECK(r.by_pool[1].tokens_in == 0);

  // The requests no key answered are the "-" key of their pool.
  CHECK(names(r.by_key) == Names{"gemini/k1", "openai/k3", "gemini/-", "gemini/k2"});
  CHECK(r.by_key[2].requests == 2);
  CHECK(r.by_key[2].errors == 2);
  CHECK(classes(r.by_key[2]) == Classes{{"all_keys_cooling", 2}});
  CHECK(r.by_key[0].tokens_in == 30);

  CHECK(names(r.by_model) == Names{"flash", "pro", "gpt", "-"});
  CHECK(r.by_model[0].requests == 5);
  CHECK(r.by_model[1].errors == 3);
}

TEST_CASE("stats percentiles over 1000 rows stay within the histogram's error", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), keep_all());
  store->start({});
  std::vector<int> order(1000);
  for (int i = 0; i < 1000; ++i) {
    order[i] = i + 1;
  }
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  for (int v : order) {
    RequestRecord r = row(5000 + v, "gemini", "k1", "flash", 200);
    r.ms = v;              // 1..1000 ms
    r.ttfb_ms = v / 10.0;  // 0.1..100 ms
    store->log_request(r);
  }
  store->log_request(row(4000, "other", "k9", "none", 200));
  store->log_request(row(4001, "other", "k9", "none", 200));

  StatsQuery q;
  q.pool = "gemini";
  StatsReport r = report_now(*store, q);
  auto within = [](double got, double exact) {
    INFO(got << " for " << exact);
    CHECK(got >= exact);
    CHECK(got < exact * 1.02);
  };
  within(r.total.latency_ms.p50, 500);
  within(r.total.latency_ms.p90, 900);
  within(r.total.latency_ms.p99, 990);
  CHECK(r.total.latency_ms.max == 1000);
  within(r.total.ttfb_ms.p50, 50);
  within(r.total.ttfb_ms.p90, 90);
  within(r.total.ttfb_ms.p99, 99);
  CHECK(r.total.ttfb_ms.max == 100);

  SECTION("no first byte: ttfb is none") {
    RequestRecord r1 = row(6000, "silent", "k1", "flash", 502, "upstream_reset");
    r1.ttfb_ms = -1;
    store->log_request(r1);
    q.pool = "silent";
    StatsReport s = report_now(*store, q);
    CHECK(s.total.requests == 1);
    CHECK(s.total.ttfb_ms.p50 == -1);
    CHECK(s.total.ttfb_ms.p90 == -1);
    CHECK(s.total.ttfb_ms.p99 == -1);
    CHECK(s.total.ttfb_ms.max == -1);
    CHECK(s.total.latency_ms.p50 == 12.5);
  }
}

TEST_CASE("stats honour since, until and pool, and report their window", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), keep_all());
  store->start({});
  for (int64_t ts : {1000, 2000, 3000, 4000, 5000}) {
    store->log_request(row(ts, ts % 2000 ? "odd" : "even", "k", "m", 200));
  }
  auto count = [&](int64_t since, int64_t until, std::string pool) {
    StatsQuery q;
    q.since_ms = since;
    q.until_ms = until;
    q.pool = std::move(pool);
    return report_now(*store, q).total.requests;
  };
  CHECK(count(0, 0, "") == 5);
  CHECK(count(2000, 0, "") == 4);  // since is inclusive
  CHECK(count(0, 4000, "") == 3);  // until is not
  CHECK(count(2000, 4000, "") == 2);
  CHECK(count(0, 0, "odd") == 3);
  CHECK(count(2000, 0, "odd") == 2);
  CHECK(count(0, 0, "none") == 0);

  StatsQuery q;
  q.since_ms = 1500;
  q.until_ms = 4500;
  StatsReport r = report_now(*store, q);
  CHECK(r.since_ms == 1500);
  CHECK(r.until_ms == 4500);
  int64_t before = now_ms();
  r = report_now(*store, StatsQuery{});
  CHECK(r.until_ms >= before);  // no until: the window ends when the report is made
  CHECK(r.until_ms <= now_ms());
}

TEST_CASE("stats and key activity over an empty log are empty, not failed", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), keep_all());
  store->start({});
  StatsReport r = report_now(*store);
  CHECK(r.total.requests == 0);
  CHECK(r.total.error_classes.empty());
  CHECK(r.total.latency_ms.p50 == -1);
  CHECK(r.total.latency_ms.max == -1);
  CHECK(r.total.ttfb_ms.p99 == -1);
  CHECK(r.by_pool.empty());
  CHECK(r.by_key.empty());
  CHECK(r.by_model.empty());
  CHECK(activity_now(*store, now_ms()).empty());
}

TEST_CASE("stats and key activity see the records logged just before them", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), keep_all());
  store->start({});
  int64_t now = now_ms();
  store->log_request(row(now - 10, "gemini", "k1", "flash", 200));
  store->log_request(row(now - 5, "gemini", "k1", "flash", 500));
  CHECK(report_now(*store).total.requests == 2);
  store->log_request(row(now - 1, "gemini", "k1", "flash", 200));
  std::vector<KeyActivity> a = activity_now(*store, now);
  REQUIRE(a.size() == 1);
  CHECK(a[0].last_minute == 3);
  CHECK(a[0].errors_last_hour == 1);
}

TEST_CASE("key activity counts each window up to its exact edge", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), keep_all());
  store->start({});
  const int64_t now = 100 * kDay;
  for (int64_t ts : {now, now - kMinute, now - kMinute - 1, now - kHour, now - kHour - 1,
                     now - kDay, now - kDay - 1, now + 1}) {
    store->log_request(row(ts, "gemini", "k1", "flash", 200));
  }
  store->log_request(row(now - kHour, "gemini", "k1", "flash", 503));           // in the hour
  store->log_request(row(now - kHour - 1, "gemini", "k1", "flash", 200, "x"));  // before it
  store->log_request(row(now - 5, "gemini", "", "flash", 429, "no_key_available"));
  store->log_request(row(now - 5, "alpha", "k9", "m", 200));
  store->log_request(row(now - kDay - 1, "alpha", "old", "m", 200));  // a day and 1 ms ago

  std::vector<KeyActivity> a = activity_now(*store, now);
  REQUIRE(a.size() == 2);
  CHECK(a[0].pool == "alpha");
  CHECK(a[0].key == "k9");
  CHECK(a[0].last_minute == 1);
  CHECK(a[1].pool == "gemini");
  CHECK(a[1].key == "k1");
  CHECK(a[1].last_minute == 2);       // now, now - 1 min
  CHECK(a[1].last_hour == 5);         // + now - 1 min - 1, now - 1 h (twice)
  CHECK(a[1].last_day == 8);          // + now - 1 h - 1 (twice), now - 1 day
  CHECK(a[1].errors_last_hour == 1);  // the 503; the error 1 ms before the hour is not
}

TEST_CASE("a failed stats read is an error, not an empty report", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), keep_all());
  store->start({});
  {
    Raw raw(tmp.db());
    raw.exec("DROP TABLE requests");
  }
  Result<StatsReport> r = stats_now(*store, StatsQuery{});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::io_error);
  CHECK_THAT(r.error().context, Catch::Contains(tmp.db()));
  CHECK_THAT(r.error().context, Catch::Contains("requests"));
}

TEST_CASE("stats and key activity after stop() fail at once on the caller", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), keep_all());
  store->start({});
  store->stop();
  bool stats_called = false;
  store->stats(StatsQuery{}, [&](Result<StatsReport> r) {
    stats_called = true;
    CHECK_FALSE(r.ok());
    CHECK(r.error().code == Errc::internal);
  });
  CHECK(stats_called);
  bool activity_called = false;
  store->key_activity(now_ms(), [&](Result<std::vector<KeyActivity>> r) {
    activity_called = true;
    CHECK_FALSE(r.ok());
  });
  CHECK(activity_called);
}

TEST_CASE("stats and key activity read through a ts_ms index", "[store]") {
  TempDir tmp;
  must_open(tmp.path()).reset();
  Raw raw(tmp.db());
  StatsQuery one_pool;
  one_pool.pool = "p";
  struct Case {
    const char* what;
    std::string sql;
    const char* expect;
  };
  const Case cases[] = {
      {"stats", stats_sql(StatsQuery{}), "requests_ts"},
      {"stats of a pool", stats_sql(one_pool), "requests_pool_ts"},
      {"key activity", key_activity_sql(), "requests_ts"},
  };
  for (const Case& c : cases) {
    std::string plan;
    for (const std::string& step : raw.column("EXPLAIN QUERY PLAN " + c.sql, 3)) {
      plan += step + "; ";
    }
    INFO(c.what << ": " << plan);
    CHECK_THAT(plan, Catch::Contains(c.expect));
    CHECK_THAT(plan, Catch::Contains("ts_ms>?"));
    CHECK_THAT(plan, !Catch::Contains("TEMP B-TREE"));
    CHECK_THAT(plan, !Catch::Contains("SCAN requests;"));
  }
}
