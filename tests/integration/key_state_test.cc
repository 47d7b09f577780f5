// Key state end to end (DESIGN §6): cooling per (key, model) and its end, per-day quotas,
// probes that bring disabled keys back, waiting for a key, declared quotas, and state
// that survives a restart, a kill -9 and a reload. Which key served a request is read
// from the access line's attempt trail; what the upstream saw from gb-mock's tallies.
#include <signal.h>
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <future>
#include <optional>
#include <set>
#include <thread>

#include "base/key_id.h"
#include "harness.h"
#include "pool/pacific_time.h"

using namespace gbt;

namespace {

std::string model_target(std::string_view model) {
  return "/v1beta/models/" + std::string(model) + ":generateContent";
}

Response generate_model(Gbd& gbd, std::string_view model, Headers headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  return gbd.fetch("POST", model_target(model), headers, kPrompt, 10s);
}

long retry_after(const Response& r) {
  std::string v = r.header("retry-after");
  return v.empty() ? -1 : std::stol(v);
}

bool eventually(const std::function<bool()>& cond, Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return cond();
}

// The logfmt lines of gbd's log with this event.
std::vector<std::string> events(const Gbd& gbd, std::string_view ev) {
  std::vector<std::string> out;
  std::string needle = " ev=" + std::string(ev) + " ";
  std::string log = gbd.log_text();
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string::npos) {
      end = log.size();
    }
    std::string line = log.substr(pos, end - pos) + " ";
    if (line.find(needle) != std::string::npos) {
      out.push_back(line);
    }
    pos = end + 1;
  }
  return out;
}

// Rows of gbd.db's request log: (status, key, attempts, tokens_in, tokens_out, err).
struct Row {
  int status = 0;
  std::string key, attempts, model, err;
  long tokens_in = 0, tokens_out = 0;
};

std::vector<Row> request_rows(const std::string& db_path) {
  sqlite3* db = nullptr;
  std::vector<Row> rows;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT status, key, attempts, model, err, tokens_in, tokens_out "
                             "FROM requests ORDER BY rowid",
                             -1, &st, nullptr) == SQLITE_OK);
  auto text = [st](int col) {
    const unsigned char* t = sqlite3_column_text(st, col);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  };
  while (sqlite3_step(st) == SQLITE_ROW) {
    Row r;
    r.status = sqlite3_column_int(st, 0);
    r.key = text(1);
    r.attempts = text(2);
    r.model = text(3);
    r.err = text(4);
    r.tokens_in = sqlite3_column_int64(st, 5);
    r.tokens_out = sqlite3_column_int64(st, 6);
    rows.push_back(std::move(r));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

GbdConfig pool_with(std::vector<std::string> keys, std::string extra) {
  GbdConfig c = with_keys(std::move(keys));
  c.extra = std::move(extra);
  return c;
}

}  // namespace

TEST_CASE("a key cooling for one model still serves the others", "[integration][keys]") {
  Rig rig(pool_with({"ratelimit-60s-a"}, ""));
  // The only key hits its gemini-2.5-pro limit: the client gets gbd's 429.
  Response first = generate_model(rig.gbd, "gemini-2.5-pro");
  CHECK(first.status == 429);
  CHECK(rig.gbd.attempts(0) == trail({{"ratelimit-60s-a", "429"}}));

  rig.mock.script("ratelimit-60s-a", "ok");
  // Flash is another quota: the same key serves it.
  CHECK(generate_model(rig.gbd, "gemini-2.5-flash").status == 200);
  CHECK(rig.gbd.attempts(1) == trail({{"ratelimit-60s-a", "200"}}));
  // Pro still cools: gbd answers without asking the upstream, with the time left.
  long before = rig.mock.key_requests("ratelimit-60s-a", "generateContent");
  Response again = generate_model(rig.gbd, "gemini-2.5-pro");
  check_gemini_error(again, 429, "RESOURCE_EXHAUSTED");
  CHECK(again.body.find("gemini-2.5-pro") != std::string::npos);
  CHECK(again.body.find("pool gemini") != std::string::npos);
  long ra = retry_after(again);
  CHECK(ra >= 58);
  CHECK(ra <= 60);
  CHECK(rig.mock.key_requests("ratelimit-60s-a", "generateContent") == before);
  CHECK(health_counts(rig.gbd.port(), "gemini").cooling == 1);
}

TEST_CASE("cooling ends when the retry hint says", "[integration][keys]") {
  Rig rig(pool_with({"ratelimit-2s-a"}, ""));
  auto t0 = Clock::now();
  CHECK(rig.gbd.generate().status == 429);
  rig.mock.script("ratelimit-2s-a", "ok");
  Response during = rig.gbd.generate();
  CHECK(during.status == 429);
  CHECK(retry_after(during) >= 1);
  CHECK(retry_after(during) <= 2);
  std::this_thread::sleep_until(t0 + 2200ms);
  Response after = rig.gbd.generate();
  CHECK(after.status == 200);
  CHECK(rig.gbd.attempts(2) == trail({{"ratelimit-2s-a", "200"}}));
}

TEST_CASE("a per-day quota cools the key until Pacific midnight", "[integration][keys]") {
  Rig rig(pool_with({"perday-a", "ok-1"}, ""));
  // Two requests: one of them starts on perday-a, which then cools for the day.
  CHECK(rig.gbd.generate().status == 200);
  CHECK(rig.gbd.generate().status == 200);
  std::vector<std::string> cooled = events(rig.gbd, "key.cooling");
  REQUIRE(cooled.size() == 1);
  CHECK(logfmt_value(cooled[0], "key") == gb::key_id("perday-a"));
  auto wall = std::chrono::system_clock::now();
  double until_midnight =
      std::chrono::duration<double, std::milli>(gb::pool::next_pacific_midnight(wall) - wall)
          .count();
  double for_ms = std::stod(logfmt_value(cooled[0], "for_ms"));
  CHECK(std::abs(for_ms - until_midnight) < 10000);
  for (int i = 0; i < 4; ++i) {
    CHECK(rig.gbd.generate().status == 200);
    CHECK(rig.gbd.attempts(2 + i) == trail({{"ok-1", "200"}}));
  }
}

TEST_CASE("a probe brings a disabled key back, and it ramps up", "[integration][keys][probe]") {
  Rig rig(pool_with({"invalid-a", "ok-1"}, "probe_interval = \"1s\"\nramp_up = \"0s\"\n"));
  CHECK(rig.gbd.generate().status == 200);
  CHECK(rig.gbd.generate().status == 200);
  REQUIRE(health_counts(rig.gbd.port(), "gemini").disabled == 1);

  // Still invalid: probes run (models.get, no tokens spent) and keep it disabled.
  CHECK(eventually([&] { return rig.mock.key_requests("invalid-a", "models.get") >= 2; }, 5s));
  CHECK(health_counts(rig.gbd.port(), "gemini").disabled == 1);
  CHECK(rig.mock.key_requests("invalid-a", "generateContent") == 1);

  rig.mock.script("invalid-a", "ok");
  CHECK(eventually([&] { return !events(rig.gbd, "key.enabled").empty(); }, 5s));
  std::vector<std::string> enabled = events(rig.gbd, "key.enabled");
  REQUIRE(enabled.size() == 1);
  CHECK(logfmt_value(enabled[0], "key") == gb::key_id("invalid-a"));
  CHECK(logfmt_value(enabled[0], "reason") == "probe_ok");
  CHECK(health_counts(rig.gbd.port(), "gemini").disabled == 0);
  // Back in rotation.
  for (int i = 0; i < 4; ++i) {
    CHECK(rig.gbd.generate().status == 200);
  }
  CHECK(rig.mock.key_requests("invalid-a", "generateContent") >= 2);
  CHECK(rig.gbd.keys_in_log().empty());
}

TEST_CASE("a request waits for a cooling key within queue_timeout", "[integration][keys][queue]") {
  Rig rig(pool_with({"ratelimit-2s-a"}, "queue_timeout = \"5s\"\n"));
  auto t0 = Clock::now();
  auto pending = std::async(std::launch::async, [&] { return rig.gbd.generate(); });
  // Once the upstream said 429, the key heals; the waiting request gets it when it frees.
  REQUIRE(eventually([&] { return rig.mock.key_requests("ratelimit-2s-a") == 1; }, 5s));
  rig.mock.script("ratelimit-2s-a", "ok");
  Response r = pending.get();
  auto waited = Clock::now() - t0;
  CHECK(r.status == 200);
  CHECK(waited >= 1900ms);
  CHECK(rig.gbd.attempts(0) == trail({{"ratelimit-2s-a", "429"}, {"ratelimit-2s-a", "200"}}));
}

TEST_CASE("a request does not wait past queue_timeout or beyond queue_max",
          "[integration][keys][queue]") {
  SECTION("the soonest key frees after the deadline") {
    Rig rig(pool_with({"ratelimit-60s-a"}, "queue_timeout = \"1s\"\n"));
    auto t0 = Clock::now();
    Response r = rig.gbd.generate();
    CHECK(Clock::now() - t0 < 1s);
    check_gemini_error(r, 429);
    CHECK(retry_after(r) >= 58);
  }
  SECTION("the queue is full") {
    Rig rig(pool_with({"ratelimit-3s-a"}, "queue_timeout = \"10s\"\nqueue_max = 0\n"));
    auto t0 = Clock::now();
    Response r = rig.gbd.generate();
    CHECK(Clock::now() - t0 < 1s);
    check_gemini_error(r, 429);
  }
}

TEST_CASE("declared quotas avoid the upstream's 429", "[integration][keys][quota]") {
  Rig rig(pool_with({"ok-1", "ok-2"}, "[pool.gemini.quota.\"" + std::string(kModel) +
                                          "\"]\nrpm = 2\n"));
  for (int i = 0; i < 4; ++i) {
    CHECK(rig.gbd.generate().status == 200);
  }
  CHECK(rig.mock.key_requests("ok-1", "generateContent") == 2);
  CHECK(rig.mock.key_requests("ok-2", "generateContent") == 2);
  // Both keys are at their declared limit: gbd answers itself, nothing goes upstream.
  Response r = rig.gbd.generate();
  check_gemini_error(r, 429);
  CHECK(retry_after(r) >= 50);
  CHECK(retry_after(r) <= 70);
  CHECK(rig.mock.stats().requests == 4);
  // Another model has no declared quota.
  CHECK(generate_model(rig.gbd, "gemini-2.5-pro").status == 200);
}

TEST_CASE("key state survives a restart and a kill -9", "[integration][keys][state]") {
  auto kill9 = GENERATE(false, true);
  TempDir dir;
  Mock mock(dir);
  GbdConfig config = pool_with({"invalid-a", "ratelimit-60s-b", "ok-1"}, "");
  config.base_url = mock.url();
  {
    Gbd gbd(dir, config);
    for (int i = 0; i < 3; ++i) {
      CHECK(gbd.generate().status == 200);
    }
    KeyCounts c = health_counts(gbd.port(), "gemini");
    REQUIRE(c.disabled == 1);
    REQUIRE(c.cooling == 1);
    if (kill9) {
      std::this_thread::sleep_for(1500ms);  // the store writes every second
      ::kill(gbd.process().pid(), SIGKILL);
      gbd.process().wait_exit(5s);
    } else {
      CHECK(gbd.stop() == 0);
    }
  }
  mock.reset();
  Gbd gbd(dir, config);
  CHECK(gbd.log_text().find("ev=state.restored") != std::string::npos);
  KeyCounts c = health_counts(gbd.port(), "gemini");
  CHECK(c.disabled == 1);
  CHECK(c.cooling == 1);
  CHECK(c.active == 1);
  size_t seen = gbd.access_lines().size();  // /health has an access line too
  for (size_t i = 0; i < 3; ++i) {
    CHECK(gbd.generate().status == 200);
    CHECK(gbd.attempts(seen + i) == trail({{"ok-1", "200"}}));
  }
  CHECK(mock.key_requests("invalid-a") == 0);
  CHECK(mock.key_requests("ratelimit-60s-b") == 0);
}

TEST_CASE("a reload keeps the state of surviving keys", "[integration][keys][state]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig config = pool_with({"invalid-a", "ok-1", "ok-2"}, "");
  config.base_url = mock.url();
  Gbd gbd(dir, config);
  for (int i = 0; i < 3; ++i) {
    CHECK(gbd.generate().status == 200);
  }
  REQUIRE(health_counts(gbd.port(), "gemini").disabled == 1);

  config.keys = {"invalid-a", "ok-1", "ok-3"};  // ok-2 leaves, ok-3 comes
  dir.write("gbd.toml", config.to_toml(dir));
  ::kill(gbd.process().pid(), SIGHUP);
  REQUIRE(gbd.process().wait_for_line(std::regex("ev=reload.done"), 5s));
  KeyCounts c = health_counts(gbd.port(), "gemini");
  CHECK(c.disabled == 1);
  CHECK(c.active == 2);
  mock.reset();
  for (int i = 0; i < 4; ++i) {
    CHECK(gbd.generate().status == 200);
  }
  CHECK(mock.key_requests("invalid-a") == 0);
  CHECK(mock.key_requests("ok-2") == 0);
  CHECK(mock.key_requests("ok-1", "generateContent") == 2);
  CHECK(mock.key_requests("ok-3", "generateContent") == 2);
}

TEST_CASE("the request log keeps one row per request, without keys or text",
          "[integration][keys][log]") {
  Rig rig(pool_with({"fail503-a", "ok-1"}, ""));
  CHECK(rig.gbd.generate().status == 200);
  CHECK(rig.gbd.generate().status == 200);
  CHECK(generate_model(rig.gbd, "no-such-model").status == 404);
  CHECK(rig.gbd.stop() == 0);
  std::string db = rig.dir.file("gbd.db");
  std::vector<Row> rows = request_rows(db);
  REQUIRE(rows.size() == 3);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(rows[i].status == 200);
    CHECK(rows[i].key == gb::key_id("ok-1"));
    CHECK(rows[i].model == kModel);
    CHECK(rows[i].tokens_in > 0);
    CHECK(rows[i].tokens_out > 0);
    CHECK(rows[i].err.empty());
  }
  std::set<std::string> trails = {rows[0].attempts, rows[1].attempts};
  CHECK(trails.count(trail({{"fail503-a", "503"}, {"ok-1", "200"}})) == 1);
  CHECK(rows[2].status == 404);
  CHECK(rows[2].err == "upstream_status");
  // Neither the config keys nor the prompt are anywhere in the database files.
  std::string bytes = read_file(db) + read_file(db + "-wal");
  CHECK(bytes.find("fail503-a") == std::string::npos);
  CHECK(bytes.find("Hello") == std::string::npos);
}

TEST_CASE("a mixed pool learns each bad key once and wastes no request after",
          "[integration][keys]") {
  GbdConfig config = with_keys({"invalid-a", "ratelimit-60s-b", "perday-c", "flaky2-d", "ok-1"});
  config.max_retries = 4;
  Rig rig(config);
  const int n = 20;
  for (int i = 0; i < n; ++i) {
    CHECK(rig.gbd.generate().status == 200);
  }
  // Each dead or rate-limited key was asked once; from then on it was passed over.
  CHECK(rig.mock.key_requests("invalid-a", "generateContent") == 1);
  CHECK(rig.mock.key_requests("ratelimit-60s-b", "generateContent") == 1);
  CHECK(rig.mock.key_requests("perday-c", "generateContent") == 1);
  // The flaky key failed twice (below max_failures) and then served its share.
  CHECK(rig.mock.key_requests("flaky2-d", "generateContent") > 2);
  long served = 0;
  std::string flaky = gb::key_id("flaky2-d");
  for (int i = 0; i < n; ++i) {
    std::string t = rig.gbd.attempts(static_cast<size_t>(i));
    CHECK(t.size() >= 12);
    served += t.compare(t.size() - 12, 12, flaky + ":200") == 0;
  }
  CHECK(served == rig.mock.key_requests("flaky2-d", "generateContent") - 2);
  KeyCounts c = health_counts(rig.gbd.port(), "gemini");
  CHECK(c.disabled == 1);
  CHECK(c.cooling == 2);
  CHECK(c.active == 2);
  CHECK(rig.gbd.keys_in_log().empty());
}
