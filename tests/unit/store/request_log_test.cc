#include "store/request_log.h"

#include "store_test_util.h"

using gb::store::listing_sql;
using gb::store::Options;
using gb::store::RequestQuery;
using gb::store::RequestRecord;
using gb::store::RequestRow;
using namespace gb::store::test;

namespace {

RequestRecord row(int64_t ts, std::string pool, std::string model, std::string key, int status,
                  std::string err = "") {
  RequestRecord r = sample_request(ts, model, status);
  r.pool = std::move(pool);
  r.key = std::move(key);
  r.err = std::move(err);
  return r;
}

std::vector<int64_t> times(const std::vector<RequestRow>& rows) {
  std::vector<int64_t> out;
  for (const RequestRow& r : rows) {
    out.push_back(r.r.ts_ms);
  }
  return out;
}

using T = std::vector<int64_t>;

}  // namespace

TEST_CASE("request rows come back whole, newest first, and every filter applies", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path());
  store->start({});
  RequestRecord full = row(1000, "gemini", "pro", "k1", 200);
  full.token = "-";
  full.route = "streamGenerateContent";
  full.attempts = "k0:429,k1:200";
  full.ms = 1234.5;
  full.ttfb_ms = -1;
  full.tokens_in = 11;
  full.tokens_out = 22;
  full.tokens_thought = 33;
  full.tokens_cached = 44;
  // Logged out of arrival order, as long requests end after short ones.
  store->log_request(row(3000, "gemini", "flash", "k2", 429, "all_keys_cooling"));
  store->log_request(full);
  store->log_request(row(2000, "gemini", "flash", "k1", 200));
  store->log_request(row(5000, "openai", "gpt", "k3", 502, "connect_failed"));
  store->log_request(row(4000, "openai", "gpt", "k3", 200));
  store->log_request(row(6000, "gemini", "pro", "k2", 200, "client_gone"));

  RequestQuery all;
  std::vector<RequestRow> rows = query_now(*store, all);
  CHECK(times(rows) == T{6000, 5000, 4000, 3000, 2000, 1000});
  const RequestRecord& got = rows.back().r;
  CHECK(got.token == "-");
  CHECK(got.route == "streamGenerateContent");
  CHECK(got.pool == "gemini");
  CHECK(got.model == "pro");
  CHECK(got.key == "k1");
  CHECK(got.attempts == "k0:429,k1:200");
  CHECK(got.status == 200);
  CHECK(got.ms == 1234.5);
  CHECK(got.ttfb_ms == -1);
  CHECK(got.tokens_in == 11);
  CHECK(got.tokens_out == 22);
  CHECK(got.tokens_thought == 33);
  CHECK(got.tokens_cached == 44);
  CHECK(got.err.empty());

  auto with = [&](auto edit) {
    RequestQuery q;
    edit(q);
    return times(query_now(*store, q));
  };
  CHECK(with([](RequestQuery& q) { q.since_ms = 3000; }) == T{6000, 5000, 4000, 3000});
  CHECK(with([](RequestQuery& q) { q.until_ms = 3000; }) == T{2000, 1000});
  CHECK(with([](RequestQuery& q) { q.pool = "openai"; }) == T{5000, 4000});
  CHECK(with([](RequestQuery& q) { q.model = "flash"; }) == T{3000, 2000});
  CHECK(with([](RequestQuery& q) { q.key = "k1"; }) == T{2000, 1000});
  CHECK(with([](RequestQuery& q) { q.errors_only = true; }) == T{6000, 5000, 3000});
  CHECK(with([](RequestQuery& q) { q.limit = 2; }) == T{6000, 5000});
  CHECK(with([](RequestQuery& q) { q.limit = 0; }).empty());
  CHECK(with([](RequestQuery& q) {
          q.pool = "gemini";
          q.errors_only = true;
          q.since_ms = 2500;
          q.until_ms = 6000;
        }) == T{3000});
  CHECK(with([](RequestQuery& q) { q.model = "nope"; }).empty());
}

TEST_CASE("follow mode lists rows logged after a rowid, in log order", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path());
  store->start({});
  store->log_request(row(1000, "gemini", "pro", "k1", 200));
  store->log_request(row(2000, "gemini", "pro", "k1", 200));
  RequestQuery q;
  q.limit = 1;
  std::vector<RequestRow> newest = query_now(*store, q);
  REQUIRE(newest.size() == 1);
  int64_t cursor = newest[0].rowid;

  // A long request that arrived before the cursor row ends after it.
  store->log_request(row(500, "gemini", "pro", "k1", 200));
  store->log_request(row(3000, "openai", "gpt", "k3", 200));
  store->log_request(row(4000, "gemini", "flash", "k2", 500, "upstream_reset"));

  RequestQuery follow;
  follow.after_rowid = cursor;
  std::vector<RequestRow> next = query_now(*store, follow);
  CHECK(times(next) == T{500, 3000, 4000});
  REQUIRE(next.size() == 3);
  CHECK(next[0].rowid > cursor);
  CHECK(next[0].rowid < next[1].rowid);
  CHECK(next[1].rowid < next[2].rowid);

  follow.pool = "gemini";
  CHECK(times(query_now(*store, follow)) == T{500, 4000});
  follow.errors_only = true;
  CHECK(times(query_now(*store, follow)) == T{4000});
  follow = RequestQuery{};
  follow.after_rowid = next.back().rowid;
  CHECK(query_now(*store, follow).empty());
}

TEST_CASE("listings are served by an index, without sorting the table", "[store]") {
  TempDir tmp;
  must_open(tmp.path()).reset();
  Raw raw(tmp.db());
  struct Case {
    const char* what;
    RequestQuery q;
    const char* expect;  // in the plan
  };
  auto q = [](auto edit) {
    RequestQuery r;
    edit(r);
    return r;
  };
  const Case cases[] = {
      {"all", q([](RequestQuery&) {}), "requests_ts"},
      {"since", q([](RequestQuery& r) { r.since_ms = 1; }), "requests_ts"},
      {"key", q([](RequestQuery& r) { r.key = "k"; }), "requests_key_ts"},
      {"model", q([](RequestQuery& r) { r.model = "m"; }), "requests_model_ts"},
      {"pool", q([](RequestQuery& r) { r.pool = "p"; }), "requests_pool_ts"},
      {"key since", q([](RequestQuery& r) {
         r.key = "k";
         r.since_ms = 1;
       }),
       "requests_key_ts"},
      {"errors", q([](RequestQuery& r) { r.errors_only = true; }), "requests_errors_ts"},
      {"follow", q([](RequestQuery& r) {
         r.after_rowid = 5;
         r.model = "m";
       }),
       "INTEGER PRIMARY KEY"},
  };
  for (const Case& c : cases) {
    std::string plan;
    // EXPLAIN QUERY PLAN rows: id, parent, notused, detail.
    for (const std::string& step : raw.column("EXPLAIN QUERY PLAN " + listing_sql(c.q), 3)) {
      plan += step + "; ";
    }
    INFO(c.what << ": " << plan);
    CHECK_THAT(plan, Catch::Contains(c.expect));
    CHECK_THAT(plan, !Catch::Contains("TEMP B-TREE"));
    CHECK_THAT(plan, !Catch::Contains("SCAN requests;"));
  }
}
