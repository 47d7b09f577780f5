#include <mutex>

#include "store_test_util.h"

using gb::Duration;
using gb::pool::KeyChange;
using gb::pool::KeyRecord;
using gb::pool::ModelRecord;
using gb::store::Options;
using gb::store::Store;
using namespace gb::store::test;

namespace {

// Hands each change over once, as KeyPool::take_changes does.
class FakeSource {
 public:
  void push(KeyRecord r, bool removed = false) {
    std::lock_guard lk(mu_);
    changes_.push_back(KeyChange{std::move(r), removed});
  }
  Store::KeySource fn() {
    return [this] {
      std::lock_guard lk(mu_);
      ++calls_;
      return std::exchange(changes_, {});
    };
  }
  int calls() {
    std::lock_guard lk(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::vector<KeyChange> changes_;
  int calls_ = 0;
};

KeyRecord runtime_key() {
  KeyRecord k;
  k.pool = "gemini";
  k.hash = hash_of(7);
  k.id = "aaaaaaaa";
  k.mask = "AIza…x9Qk";
  k.origin = "runtime";
  k.secret = "AIzaSyRuntimeSecret-0123456789";
  k.disabled = true;
  k.reason = "manual";
  k.consecutive_failures = 2;
  k.disabled_at_ms = 1'700'000'000'001;
  k.enabled_at_ms = 1'700'000'000'002;
  k.weight = 5;
  k.requests = 18'446'744'073'709'551'615ULL;  // UINT64_MAX survives the int64 column
  k.failures = 4;
  k.rate_limited = 6;
  k.tokens_in = 123'456'789'012;
  k.tokens_out = 987'654;
  k.last_error = "upstream_reset";
  k.last_error_ms = 1'700'000'000'003;
  k.last_used_ms = 1'700'000'000'004;
  k.models = {ModelRecord{"gemini-2.5-flash", 0, 0, 20'300, 42},
              ModelRecord{"gemini-2.5-pro", 1'700'000'500'000, 3, 20'301, 7}};
  return k;
}

void check_same(const KeyRecord& a, const KeyRecord& b) {
  CHECK(a.pool == b.pool);
  CHECK(a.hash == b.hash);
  CHECK(a.id == b.id);
  CHECK(a.mask == b.mask);
  CHECK(a.origin == b.origin);
  CHECK(a.secret == b.secret);
  CHECK(a.disabled == b.disabled);
  CHECK(a.reason == b.reason);
  CHECK(a.consecutive_failures == b.consecutive_failures);
  CHECK(a.disabled_at_ms == b.disabled_at_ms);
  CHECK(a.enabled_at_ms == b.enabled_at_ms);
  CHECK(a.weight == b.weight);
  CHECK(a.requests == b.requests);
  CHECK(a.failures == b.failures);
  CHECK(a.rate_limited == b.rate_limited);
  CHECK(a.tokens_in == b.tokens_in);
  CHECK(a.tokens_out == b.tokens_out);
  CHECK(a.last_error == b.last_error);
  CHECK(a.last_error_ms == b.last_error_ms);
  CHECK(a.last_used_ms == b.last_used_ms);
  REQUIRE(a.models.size() == b.models.size());
  for (size_t i = 0; i < a.models.size(); ++i) {
    CHECK(a.models[i].model == b.models[i].model);
    CHECK(a.models[i].cool_until_ms == b.models[i].cool_until_ms);
    CHECK(a.models[i].rate_limits == b.models[i].rate_limits);
    CHECK(a.models[i].day == b.models[i].day);
    CHECK(a.models[i].day_requests == b.models[i].day_requests);
  }
}

std::vector<KeyRecord> reload(const TempDir& tmp) {
  auto store = must_open(tmp.path());
  auto keys = store->load_keys();
  REQUIRE(keys.ok());
  return *keys;
}

}  // namespace

TEST_CASE("key records round-trip with their model rows", "[store]") {
  TempDir tmp;
  KeyRecord runtime = runtime_key();
  KeyRecord config = sample_key("gemini", 1);
  config.models = {ModelRecord{"gemini-2.5-flash", 5, 1, 0, 0}};
  KeyRecord other = sample_key("openai", 2);
  {
    FakeSource src;
    auto store = must_open(tmp.path());
    store->start(src.fn());
    src.push(runtime);
    src.push(config);
    src.push(other);
    REQUIRE(sync_now(*store));
    CHECK(src.calls() >= 1);
    CHECK(store->counters().keys_written == 3);
  }
  std::vector<KeyRecord> keys = reload(tmp);
  REQUIRE(keys.size() == 3);
  // Ordered by pool, then hash.
  check_same(keys[0], config);
  check_same(keys[1], runtime);
  check_same(keys[2], other);

  Raw raw(tmp.db());
  CHECK(raw.column("SELECT ifnull(secret, 'NULL') FROM keys ORDER BY pool, hash") ==
        std::vector<std::string>{"NULL", runtime.secret, "NULL"});
  CHECK(raw.count("SELECT count(*) FROM keys WHERE updated_ms >= " +
                  std::to_string(now_ms() - 60'000)) == 3);
}

TEST_CASE("a config key's secret never reaches the database", "[store]") {
  TempDir tmp;
  KeyRecord k = sample_key("gemini", 1);
  k.secret = "AIzaSyConfigSecretThatMustNotBeStored";
  {
    FakeSource src;
    auto store = must_open(tmp.path());
    store->start(src.fn());
    src.push(k);
    REQUIRE(sync_now(*store));
  }
  Raw raw(tmp.db());
  CHECK(raw.one("SELECT ifnull(secret, 'NULL') FROM keys") == "NULL");
  std::vector<KeyRecord> keys = reload(tmp);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].secret.empty());
}

TEST_CASE("rewriting a key replaces its model rows", "[store]") {
  TempDir tmp;
  FakeSource src;
  auto store = must_open(tmp.path());
  store->start(src.fn());
  KeyRecord k = sample_key("gemini", 1);
  k.models = {ModelRecord{"a", 1, 1, 0, 0}, ModelRecord{"b", 2, 2, 0, 0}};
  src.push(k);
  REQUIRE(sync_now(*store));
  k.models = {ModelRecord{"c", 3, 3, 0, 0}};
  k.requests = 99;
  src.push(k);
  REQUIRE(sync_now(*store));

  Raw raw(tmp.db());
  CHECK(raw.column("SELECT model FROM key_models") == std::vector<std::string>{"c"});
  CHECK(raw.count("SELECT requests FROM keys") == 99);
}

TEST_CASE("a removed key loses its row and its model rows", "[store]") {
  TempDir tmp;
  FakeSource src;
  auto store = must_open(tmp.path());
  store->start(src.fn());
  KeyRecord a = sample_key("gemini", 1);
  a.models = {ModelRecord{"pro", 1, 1, 0, 0}};
  KeyRecord b = sample_key("gemini", 2);
  src.push(a);
  src.push(b);
  REQUIRE(sync_now(*store));

  KeyRecord gone;
  gone.pool = "gemini";
  gone.hash = a.hash;
  src.push(gone, true);
  REQUIRE(sync_now(*store));

  Raw raw(tmp.db());
  CHECK(raw.column("SELECT hash FROM keys") == std::vector<std::string>{b.hash});
  CHECK(raw.count("SELECT count(*) FROM key_models") == 0);
}

TEST_CASE("forget_pool deletes every key of that pool and no other", "[store]") {
  TempDir tmp;
  FakeSource src;
  auto store = must_open(tmp.path());
  store->start(src.fn());
  KeyRecord a1 = sample_key("a", 1);
  a1.models = {ModelRecord{"m", 1, 1, 0, 0}};
  src.push(a1);
  src.push(sample_key("a", 2));
  src.push(sample_key("ab", 3));  // a pool whose name starts like the forgotten one
  src.push(sample_key("b", 4));
  REQUIRE(sync_now(*store));

  store->forget_pool("a");
  REQUIRE(sync_now(*store));
  Raw raw(tmp.db());
  CHECK(raw.column("SELECT pool FROM keys ORDER BY pool") == std::vector<std::string>{"ab", "b"});
  CHECK(raw.count("SELECT count(*) FROM key_models") == 0);

  SECTION("changes pulled after forget_pool are written after the deletion") {
    store->forget_pool("b");
    src.push(sample_key("b", 5));  // the pool came back in a later reload
    REQUIRE(sync_now(*store));
    CHECK(raw.column("SELECT hash FROM keys WHERE pool = 'b'") ==
          std::vector<std::string>{hash_of(5)});
  }
}

TEST_CASE("key changes whose write failed are kept and written at the next flush", "[store]") {
  TempDir tmp;
  FakeSource src;
  Options opt;
  opt.busy_timeout = Duration(50);
  opt.flush_interval = Duration(3'600'000);
  auto store = must_open(tmp.path(), opt);
  store->start(src.fn());

  Raw other(tmp.db());
  other.exec("BEGIN IMMEDIATE");  // holds the write lock, as a backup tool might
  KeyRecord k = sample_key("gemini", 1);
  k.requests = 1;
  src.push(k);
  src.push(sample_key("gemini", 2));
  store->log_request(sample_request(now_ms()));
  CHECK_FALSE(sync_now(*store));
  CHECK(store->counters().write_errors == 1);
  CHECK(store->counters().pending_requests == 1);

  // A newer state of the same key, pulled while the older one waits: the newer wins.
  k.requests = 2;
  src.push(k);
  CHECK_FALSE(sync_now(*store));
  CHECK(store->counters().write_errors == 2);

  other.exec("ROLLBACK");
  REQUIRE(sync_now(*store));
  CHECK(other.column("SELECT requests FROM keys ORDER BY hash") ==
        std::vector<std::string>{"2", "12"});
  CHECK(other.count("SELECT count(*) FROM requests") == 1);
  auto c = store->counters();
  CHECK(c.requests_written == 1);
  CHECK(c.requests_dropped == 0);
  CHECK(c.pending_requests == 0);
}

TEST_CASE("a pool forgotten while its keys wait for a retry stays forgotten", "[store]") {
  TempDir tmp;
  FakeSource src;
  Options opt;
  opt.busy_timeout = Duration(50);
  opt.flush_interval = Duration(3'600'000);
  auto store = must_open(tmp.path(), opt);
  store->start(src.fn());

  Raw other(tmp.db());
  other.exec("BEGIN IMMEDIATE");
  src.push(sample_key("old", 1));
  src.push(sample_key("kept", 2));
  CHECK_FALSE(sync_now(*store));
  other.exec("ROLLBACK");

  store->forget_pool("old");
  REQUIRE(sync_now(*store));
  CHECK(other.column("SELECT pool FROM keys") == std::vector<std::string>{"kept"});
}

TEST_CASE("load_keys is refused once the store thread runs", "[store]") {
  TempDir tmp;
  auto store = must_open(tmp.path());
  store->start({});
  auto keys = store->load_keys();
  CHECK_FALSE(keys.ok());
}
