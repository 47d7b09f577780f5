#include "store/schema.h"

#include <iterator>

#include "base/log.h"

namespace gb::store {

namespace {

// Step N takes a file from version N-1 to N. Append only.
const char* const kSteps[] = {
    // 1: key state and the request log.
    // requests.id aliases the rowid, which makes it stable across VACUUM: gbctl's follow
    // mode uses it as a cursor.
    R"sql(
PRAGMA application_id = 6775396;
CREATE TABLE keys(
  pool TEXT NOT NULL,
  hash TEXT NOT NULL,
  id TEXT NOT NULL,
  mask TEXT NOT NULL,
  origin TEXT NOT NULL,
  secret TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  disabled_at_ms INTEGER NOT NULL DEFAULT 0,
  enabled_at_ms INTEGER NOT NULL DEFAULT 0,
  weight INTEGER NOT NULL DEFAULT 1,
  requests INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  rate_limited INTEGER NOT NULL DEFAULT 0,
  tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  last_error_ms INTEGER NOT NULL DEFAULT 0,
  last_used_ms INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(pool, hash)
);
CREATE TABLE key_models(
  pool TEXT NOT NULL,
  hash TEXT NOT NULL,
  model TEXT NOT NULL,
  cool_until_ms INTEGER NOT NULL DEFAULT 0,
  rate_limits INTEGER NOT NULL DEFAULT 0,
  day INTEGER NOT NULL DEFAULT 0,
  day_requests INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(pool, hash, model),
  FOREIGN KEY(pool, hash) REFERENCES keys(pool, hash) ON DELETE CASCADE
);
CREATE TABLE requests(
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  token TEXT NOT NULL DEFAULT '',
  route TEXT NOT NULL DEFAULT '',
  pool TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  key TEXT NOT NULL DEFAULT '',
  attempts TEXT NOT NULL DEFAULT '',
  status INTEGER NOT NULL DEFAULT 0,
  ms REAL NOT NULL DEFAULT 0,
  ttfb_ms REAL NOT NULL DEFAULT -1,
  tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0,
  tokens_thought INTEGER NOT NULL DEFAULT 0,
  tokens_cached INTEGER NOT NULL DEFAULT 0,
  err TEXT NOT NULL DEFAULT ''
);
CREATE INDEX requests_ts ON requests(ts_ms);
)sql",
    // 2: indexes for gbctl's filtered listings, newest first within a key, model or pool;
    // errors are rare, so a partial index finds them without walking every success.
    R"sql(
CREATE INDEX requests_key_ts ON requests(key, ts_ms);
CREATE INDEX requests_model_ts ON requests(model, ts_ms);
CREATE INDEX requests_pool_ts ON requests(pool, ts_ms);
CREATE INDEX requests_errors_ts ON requests(ts_ms) WHERE status >= 400 OR err <> '';
)sql",
};

constexpr int kVersion = static_cast<int>(std::size(kSteps));

static_assert(kApplicationId == 6775396, "step 1 writes the application id as a literal");

Error refuse(const std::string& path, const std::string& why) {
  return Error::make(Errc::io_error, Side::internal, path + ": " + why);
}

Error read_failed(Db& db, int rc, const std::string& path) {
  if (rc == SQLITE_NOTADB) {
    return refuse(path, "not a SQLite database (move it aside or point state_dir elsewhere)");
  }
  return refuse(path, "cannot read the database: " + db.error());
}

// Refuses files gbd must not write into; returns the version to migrate from.
Result<int> check(Db& db, const std::string& path) {
  int64_t app = 0;
  int64_t version = 0;
  int64_t objects = 0;
  int rc = db.query_int("PRAGMA application_id", &app);
  if (rc == SQLITE_OK) {
    rc = db.query_int("PRAGMA user_version", &version);
  }
  if (rc == SQLITE_OK) {
    rc = db.query_int("SELECT count(*) FROM sqlite_schema", &objects);
  }
  if (rc != SQLITE_OK) {
    return read_failed(db, rc, path);
  }
  if (version > kVersion) {
    return refuse(path, "schema version " + std::to_string(version) +
                            " is newer than this gbd knows (" + std::to_string(kVersion) +
                            "); run a newer gbd, or move the file aside to start afresh");
  }
  bool empty = version == 0 && app == 0 && objects == 0;
  if (!empty && (app != kApplicationId || version < 0)) {
    return refuse(path, "a SQLite database that is not gbd's (application_id " +
                            std::to_string(app) + ", user_version " + std::to_string(version) +
                            "); point state_dir elsewhere");
  }
  return static_cast<int>(version);
}

int apply(Db& db, int step, std::string* err) {
  Transaction tx(db);
  int rc = tx.begin();
  if (rc == SQLITE_OK) {
    rc = db.exec(kSteps[step - 1]);
  }
  if (rc == SQLITE_OK) {
    rc = db.exec(("PRAGMA user_version = " + std::to_string(step)).c_str());
  }
  if (rc == SQLITE_OK) {
    rc = tx.commit();
  }
  if (rc != SQLITE_OK) {
    *err = db.error();  // before the rollback in ~Transaction replaces the message
  }
  return rc;
}

}  // namespace

int schema_version() {
  return kVersion;
}

Result<int> migrate(Db& db, const std::string& path) {
  Result<int> found = check(db, path);
  if (!found) {
    return found;
  }
  for (int step = *found + 1; step <= kVersion; ++step) {
    std::string err;
    if (apply(db, step, &err) != SQLITE_OK) {
      return refuse(path,
                    "migration to schema version " + std::to_string(step) + " failed: " + err);
    }
  }
  if (*found != 0 && *found != kVersion) {
    LOG_INFO("store.migrated").kv("file", path).kv("from", *found).kv("to", kVersion);
  }
  return found;
}

}  // namespace gb::store
