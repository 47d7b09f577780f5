#include <atomic>
#include <thread>

#include "store_test_util.h"

using gb::Duration;
using gb::pool::KeyChange;
using gb::store::Options;
using gb::store::RequestQuery;
using gb::store::Store;
using namespace gb::store::test;

namespace {

Options slow_flush() {
  Options opt;
  opt.flush_interval = Duration(3'600'000);  // nothing is written unless asked
  return opt;
}

}  // namespace

TEST_CASE("log_request from several threads loses nothing below the bound", "[store]") {
  TempDir tmp;
  Options opt;
  opt.flush_interval = Duration(5);  // flushes race with the producers
  auto store = must_open(tmp.path(), opt);
  store->start({});
  constexpr int kThreads = 4;
  constexpr int kEach = 2500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = sample_request(1000 + i);
        r.token = "thread" + std::to_string(t);
        store->log_request(std::move(r));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  REQUIRE(sync_now(*store));
  auto c = store->counters();
  CHECK(c.requests_written == kThreads * kEach);
  CHECK(c.requests_dropped == 0);
  CHECK(c.pending_requests == 0);
  Raw raw(tmp.db());
  CHECK(raw.column("SELECT count(*) FROM requests GROUP BY token ORDER BY token") ==
        std::vector<std::string>(kThreads, std::to_string(kEach)));
}

TEST_CASE("past max_pending_requests records are dropped and counted", "[store]") {
  TempDir tmp;
  Options opt = slow_flush();
  opt.max_pending_requests = 10;
  auto store = must_open(tmp.path(), opt);
  for (int i = 0; i < 25; ++i) {
    store->log_request(sample_request(1000 + i));  // queued before start: nothing drains
  }
  auto c = store->counters();
  CHECK(c.requests_dropped == 15);
  CHECK(c.pending_requests == 10);
  store->start({});
  REQUIRE(sync_now(*store));
  CHECK(store->counters().requests_written == 10);
  Raw raw(tmp.db());
  // The first ones are kept: dropping happens at the door.
  CHECK(raw.count("SELECT max(ts_ms) FROM requests") == 1009);
}

TEST_CASE("a queue half full is flushed without waiting for the interval", "[store]") {
  TempDir tmp;
  Options opt = slow_flush();
  opt.max_pending_requests = 100;
  auto store = must_open(tmp.path(), opt);
  store->start({});
  for (int i = 0; i < 50; ++i) {
    store->log_request(sample_request(1000 + i));
  }
  for (int i = 0; i < 500 && store->counters().requests_written < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(store->counters().requests_written == 50);
}

TEST_CASE("sync() answers after the commit, with the source's changes in it", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), slow_flush());
  std::atomic<int> pulls{0};
  store->start([&pulls] {
    ++pulls;
    return std::vector<KeyChange>{{sample_key("gemini", pulls.load())}};
  });
  for (int i = 0; i < 3; ++i) {
    store->log_request(sample_request(1000 + i));
  }
  int before = pulls.load();
  auto p = std::make_shared<std::promise<std::pair<int64_t, int64_t>>>();
  auto f = p->get_future();
  std::string file = tmp.db();
  store->sync([p, file](bool ok) {
    // Another connection sees the rows only once they are committed.
    Raw raw(file);
    p->set_value({ok ? raw.count("SELECT count(*) FROM requests") : -1,
                  raw.count("SELECT count(*) FROM keys")});
  });
  auto [requests, keys] = await(f);
  CHECK(requests == 3);
  CHECK(keys >= 1);
  CHECK(pulls.load() > before);
}

TEST_CASE("a query sees the records logged before it", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), slow_flush());
  store->start({});
  store->log_request(sample_request(1000));
  store->log_request(sample_request(2000));
  CHECK(query_now(*store, RequestQuery{}).size() == 2);
}

TEST_CASE("stop() writes what is queued and pulls the source once more", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path(), slow_flush());
  std::atomic<int> pulls{0};
  store->start([&pulls] {
    ++pulls;
    return std::vector<KeyChange>{{sample_key("gemini", 1)}};
  });
  for (int i = 0; i < 5; ++i) {
    store->log_request(sample_request(1000 + i));
  }
  store->forget_pool("gone");
  store->stop();
  CHECK(pulls.load() == 1);
  {
    Raw raw(tmp.db());
    CHECK(raw.count("SELECT count(*) FROM requests") == 5);
    CHECK(raw.count("SELECT count(*) FROM keys") == 1);
  }

  SECTION("work after stop() is refused at once") {
    store->log_request(sample_request(9000));
    CHECK(store->counters().requests_dropped == 1);
    bool called = false;
    bool result = true;
    store->sync([&](bool ok) {
      called = true;
      result = ok;
    });
    CHECK(called);
    CHECK_FALSE(result);
    bool answered = false;
    store->query_requests(
        RequestQuery{}, [&](std::vector<gb::store::RequestRow> rows) { answered = rows.empty(); });
    CHECK(answered);
    store->stop();  // idempotent
  }
}

TEST_CASE("stop() without start() flushes on the calling thread", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path());
  store->log_request(sample_request(1000));
  bool synced = false;
  store->sync([&](bool ok) { synced = ok; });
  store->stop();
  CHECK(synced);
  Raw raw(tmp.db());
  CHECK(raw.count("SELECT count(*) FROM requests") == 1);
}

TEST_CASE("with request_log off records are discarded, not counted as dropped", "[store]") {
  TempDir tmp;
  Options opt;
  opt.request_log = false;
  auto store = must_open(tmp.path(), opt);
  store->start({});
  store->log_request(sample_request(1000));
  REQUIRE(sync_now(*store));
  opt.request_log = true;
  store->set_options(opt);
  store->log_request(sample_request(2000));
  REQUIRE(sync_now(*store));
  auto c = store->counters();
  CHECK(c.requests_written == 1);
  CHECK(c.requests_dropped == 0);
  Raw raw(tmp.db());
  CHECK(raw.count("SELECT ts_ms FROM requests") == 2000);
}
