#include <thread>

#include "store_test_util.h"

using gb::Duration;
using gb::store::Options;
using gb::store::Store;
using namespace gb::store::test;

namespace {

constexpr int64_t kDay = 86'400'000;

uint64_t prune_now(Store& s) {
  auto p = std::make_shared<std::promise<uint64_t>>();
  std::future<uint64_t> f = p->get_future();
  s.prune([p](uint64_t n) { p->set_value(n); });
  return await(f);
}

Options thirty_days() {
  Options opt;
  opt.retention = Duration(30 * kDay);
  opt.prune_interval = Duration(3'600'000);  // only when asked
  return opt;
}

}  // namespace

TEST_CASE("retention deletes only rows older than it", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), thirty_days());
  store->start({});
  int64_t now = now_ms();
  store->log_request(sample_request(now - 40 * kDay, "old"));
  store->log_request(sample_request(now - 30 * kDay - 60'000, "old"));
  store->log_request(sample_request(now - 29 * kDay, "young"));
  store->log_request(sample_request(now - 1000, "young"));
  REQUIRE(sync_now(*store));

  CHECK(prune_now(*store) == 2);
  Raw raw(tmp.db());
  CHECK(raw.column("SELECT model FROM requests ORDER BY ts_ms") ==
        std::vector<std::string>{"young", "young"});
  CHECK(store->counters().requests_pruned == 2);
  CHECK(prune_now(*store) == 0);
}

TEST_CASE("a large backlog is pruned in several batches", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), thirty_days());
  {
    // Written directly: 2500 rows through the queue would only slow the test down.
    Raw raw(tmp.db());
    raw.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) "
        "INSERT INTO requests(ts_ms, model) SELECT i, 'old' FROM n");
  }
  store->start({});
  store->log_request(sample_request(now_ms(), "young"));
  CHECK(prune_now(*store) == 2500);
  Raw raw(tmp.db());
  CHECK(raw.column("SELECT model FROM requests") == std::vector<std::string>{"young"});
}

TEST_CASE("retention runs by itself every prune_interval", "[store]") {
  TempDir tmp;
  Options opt = thirty_days();
  opt.prune_interval = Duration(50);
  auto store = must_open(tmp.path(), opt);
  store->start({});
  store->log_request(sample_request(now_ms() - 31 * kDay, "old"));
  store->log_request(sample_request(now_ms(), "young"));
  REQUIRE(sync_now(*store));
  for (int i = 0; i < 500 && store->counters().requests_pruned < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(store->counters().requests_pruned == 1);
  Raw raw(tmp.db());
  CHECK(raw.column("SELECT model FROM requests") == std::vector<std::string>{"young"});
}

TEST_CASE("retention 0 keeps rows forever, and a new retention applies at once", "[store]") {
  TempDir tmp;
  Options opt = thirty_days();
  opt.retention = Duration(0);
  auto store = must_open(tmp.path(), opt);
  store->start({});
  store->log_request(sample_request(now_ms() - 400 * kDay, "ancient"));
  REQUIRE(sync_now(*store));
  CHECK(prune_now(*store) == 0);
  Raw raw(tmp.db());
  CHECK(raw.count("SELECT count(*) FROM requests") == 1);

  store->set_options(thirty_days());
  for (int i = 0; i < 500 && store->counters().requests_pruned < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(store->counters().requests_pruned == 1);
  CHECK(raw.count("SELECT count(*) FROM requests") == 0);
}
