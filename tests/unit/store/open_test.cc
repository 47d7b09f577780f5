#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "store/schema.h"
#include "store_test_util.h"

using gb::store::Options;
using gb::store::Store;
using namespace gb::store::test;

namespace {

unsigned mode_of(const std::string& path) {
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string open_error(const std::string& dir) {
  gb::Result<std::unique_ptr<Store>> r = Store::open(dir, Options{});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == gb::Errc::io_error);
  return r.error().context;
}

// Schema version 1 as it was released, written by hand: what an older gbd left behind.
const char* const kVersion1 = R"sql(
PRAGMA application_id = 6775396;
CREATE TABLE keys(pool TEXT NOT NULL, hash TEXT NOT NULL, id TEXT NOT NULL,
  mask TEXT NOT NULL, origin TEXT NOT NULL, secret TEXT,
  disabled INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',
  consecutive_failures INTEGER NOT NULL DEFAULT 0, disabled_at_ms INTEGER NOT NULL DEFAULT 0,
  enabled_at_ms INTEGER NOT NULL DEFAULT 0, weight INTEGER NOT NULL DEFAULT 1,
  requests INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
  rate_limited INTEGER NOT NULL DEFAULT 0, tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
  last_error_ms INTEGER NOT NULL DEFAULT 0, last_used_ms INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(pool, hash));
CREATE TABLE key_models(pool TEXT NOT NULL, hash TEXT NOT NULL, model TEXT NOT NULL,
  cool_until_ms INTEGER NOT NULL DEFAULT 0, rate_limits INTEGER NOT NULL DEFAULT 0,
  day INTEGER NOT NULL DEFAULT 0, day_requests INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(pool, hash, model),
  FOREIGN KEY(pool, hash) REFERENCES keys(pool, hash) ON DELETE CASCADE);
CREATE TABLE requests(id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,
  token TEXT NOT NULL DEFAULT '', route TEXT NOT NULL DEFAULT '',
  pool TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '',
  key TEXT NOT NULL DEFAULT '', attempts TEXT NOT NULL DEFAULT '',
  status INTEGER NOT NULL DEFAULT 0, ms REAL NOT NULL DEFAULT 0,
  ttfb_ms REAL NOT NULL DEFAULT -1, tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0, tokens_thought INTEGER NOT NULL DEFAULT 0,
  tokens_cached INTEGER NOT NULL DEFAULT 0, err TEXT NOT NULL DEFAULT '');
CREATE INDEX requests_ts ON requests(ts_ms);
INSERT INTO keys(pool, hash, id, mask, origin, secret, requests)
  VALUES('gemini', 'h1', 'h1h1h1h1', 'AIza…0001', 'runtime', 'AIzaSecretOne', 7);
INSERT INTO key_models(pool, hash, model, cool_until_ms) VALUES('gemini', 'h1', 'pro', 99);
INSERT INTO requests(ts_ms, model, status) VALUES(1000, 'pro', 200);
PRAGMA user_version = 1;
)sql";

}  // namespace

TEST_CASE("a new store creates a private directory and file at the current schema", "[store]") {
  TempDir tmp;
  std::string dir = tmp.path() + "/state/gbd";  // two levels missing
  auto store = must_open(dir);
  CHECK(store->path() == dir + "/gbd.db");
  CHECK(mode_of(tmp.path() + "/state") == 0700);
  CHECK(mode_of(dir) == 0700);
  CHECK(mode_of(dir + "/gbd.db") == 0600);

  store->start({});
  store->log_request(sample_request(now_ms()));
  REQUIRE(sync_now(*store));
  // SQLite gives the WAL the database file's mode: runtime keys pass through it too.
  CHECK(mode_of(dir + "/gbd.db-wal") == 0600);
  CHECK(mode_of(dir + "/gbd.db-shm") == 0600);

  Raw raw(dir + "/gbd.db");
  CHECK(raw.count("PRAGMA user_version") == gb::store::schema_version());
  CHECK(raw.count("PRAGMA application_id") == gb::store::kApplicationId);
  CHECK(raw.one("PRAGMA journal_mode") == "wal");
  CHECK(raw.column("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") ==
        std::vector<std::string>{"key_models", "keys", "requests"});
}

TEST_CASE("reopening a store keeps its data and its schema", "[store]") {
  TempDir tmp;
  {
    auto store = must_open(tmp.path());
    store->start([] { return std::vector<gb::pool::KeyChange>{{sample_key("gemini", 1)}}; });
    store->log_request(sample_request(now_ms()));
    REQUIRE(sync_now(*store));
  }
  auto store = must_open(tmp.path());
  auto keys = store->load_keys();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 1);
  CHECK((*keys)[0].hash == hash_of(1));
  Raw raw(tmp.db());
  CHECK(raw.count("SELECT count(*) FROM requests") == 1);
  CHECK(raw.count("PRAGMA user_version") == gb::store::schema_version());
}

TEST_CASE("a database at schema version 1 is migrated and keeps its rows", "[store]") {
  TempDir tmp;
  {
    Raw raw(tmp.db());
    raw.exec(kVersion1);
  }
  auto store = must_open(tmp.path());
  Raw raw(tmp.db());
  CHECK(raw.count("PRAGMA user_version") == gb::store::schema_version());
  std::vector<std::string> indexes = raw.column(
      "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'requests' "
      "AND sql IS NOT NULL ORDER BY name");
  CHECK(indexes == std::vector<std::string>{"requests_errors_ts", "requests_key_ts",
                                            "requests_model_ts", "requests_pool_ts",
                                            "requests_ts"});

  auto keys = store->load_keys();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 1);
  CHECK((*keys)[0].secret == "AIzaSecretOne");
  CHECK((*keys)[0].requests == 7);
  REQUIRE((*keys)[0].models.size() == 1);
  CHECK((*keys)[0].models[0].cool_until_ms == 99);

  store->start({});
  store->log_request(sample_request(2000, "pro", 500));
  REQUIRE(sync_now(*store));
  gb::store::RequestQuery q;
  q.model = "pro";
  auto rows = query_now(*store, q);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].r.ts_ms == 2000);  // newest first
  CHECK(rows[1].r.ts_ms == 1000);
}

TEST_CASE("a schema newer than this binary is refused, naming the file", "[store]") {
  TempDir tmp;
  {
    Raw raw(tmp.db());
    raw.exec("PRAGMA application_id = 6775396; CREATE TABLE keys(x); PRAGMA user_version = 99");
  }
  std::string err = open_error(tmp.path());
  CHECK_THAT(err, Catch::Contains(tmp.db()));
  CHECK_THAT(err, Catch::Contains("schema version 99 is newer than this gbd knows"));
  Raw raw(tmp.db());
  CHECK(raw.count("PRAGMA user_version") == 99);
}

TEST_CASE("a file that is not a SQLite database is refused and left alone", "[store]") {
  TempDir tmp;
  std::string junk(4096, 'x');
  junk.replace(0, 30, "these are not the bytes sought");
  {
    std::ofstream out(tmp.db(), std::ios::binary);
    out << junk;
  }
  std::string err = open_error(tmp.path());
  CHECK_THAT(err, Catch::Contains(tmp.db()));
  CHECK_THAT(err, Catch::Contains("not a SQLite database"));
  CHECK(read_all(tmp.db()) == junk);
}

TEST_CASE("another program's SQLite database is refused and left alone", "[store]") {
  TempDir tmp;
  {
    Raw raw(tmp.db());
    raw.exec("CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES('mine')");
  }
  std::string err = open_error(tmp.path());
  CHECK_THAT(err, Catch::Contains(tmp.db()));
  CHECK_THAT(err, Catch::Contains("not gbd's"));
  Raw raw(tmp.db());
  CHECK(raw.count("SELECT count(*) FROM sqlite_schema") == 1);
  CHECK(raw.one("PRAGMA journal_mode") == "delete");
}

TEST_CASE("an existing gbd.db readable by others is tightened to 0600", "[store]") {
  TempDir tmp;
  must_open(tmp.path()).reset();
  REQUIRE(chmod(tmp.db().c_str(), 0644) == 0);
  auto store = must_open(tmp.path());
  CHECK(mode_of(tmp.db()) == 0600);
}

TEST_CASE("a state_dir that is a file is refused", "[store]") {
  TempDir tmp;
  std::string file = tmp.path() + "/plain";
  std::ofstream(file) << "x";
  std::string err = open_error(file);
  CHECK_THAT(err, Catch::Contains(file));
  CHECK_THAT(err, Catch::Contains("not a directory"));
}
