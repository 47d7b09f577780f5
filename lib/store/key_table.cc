#include "store/key_table.h"

#include <tuple>

namespace gb::store {

namespace {

constexpr const char* kUpsert = R"sql(
INSERT INTO keys(pool, hash, id, mask, origin, secret, disabled, reason,
                 consecutive_failures, disabled_at_ms, enabled_at_ms, weight, requests,
                 failures, rate_limited, tokens_in, tokens_out, last_error, last_error_ms,
                 last_used_ms, updated_ms)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
       ?20, ?21)
ON CONFLICT(pool, hash) DO UPDATE SET
  id = excluded.id, mask = excluded.mask, origin = excluded.origin, secret = excluded.secret,
  disabled = excluded.disabled, reason = excluded.reason,
  consecutive_failures = excluded.consecutive_failures,
  disabled_at_ms = excluded.disabled_at_ms, enabled_at_ms = excluded.enabled_at_ms,
  weight = excluded.weight, requests = excluded.requests, failures = excluded.failures,
  rate_limited = excluded.rate_limited, tokens_in = excluded.tokens_in,
  tokens_out = excluded.tokens_out, last_error = excluded.last_error,
  last_error_ms = excluded.last_error_ms, last_used_ms = excluded.last_used_ms,
  updated_ms = excluded.updated_ms
)sql";

// OR REPLACE: a record naming one model twice must not wedge every later flush on a
// primary-key violation; the last entry wins.
constexpr const char* kInsertModel = R"sql(
INSERT OR REPLACE INTO key_models(pool, hash, model, cool_until_ms, rate_limits, day,
                                  day_requests)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)
)sql";

constexpr const char* kSelectKeys = R"sql(
SELECT pool, hash, id, mask, origin, secret, disabled, reason, consecutive_failures,
       disabled_at_ms, enabled_at_ms, weight, requests, failures, rate_limited, tokens_in,
       tokens_out, last_error, last_error_ms, last_used_ms
FROM keys ORDER BY pool, hash
)sql";

constexpr const char* kSelectModels = R"sql(
SELECT pool, hash, model, cool_until_ms, rate_limits, day, day_requests
FROM key_models ORDER BY pool, hash, model
)sql";

int run(Stmt& st) {
  int rc = st.step();
  st.reset();
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

pool::KeyRecord read_key(const Stmt& st) {
  pool::KeyRecord r;
  r.pool = st.text(0);
  r.hash = st.text(1);
  r.id = st.text(2);
  r.mask = st.text(3);
  r.origin = st.text(4);
  r.secret = st.text(5);
  r.disabled = st.int64(6) != 0;
  r.reason = st.text(7);
  r.consecutive_failures = static_cast<unsigned>(st.int64(8));
  r.disabled_at_ms = st.int64(9);
  r.enabled_at_ms = st.int64(10);
  r.weight = static_cast<unsigned>(st.int64(11));
  r.requests = static_cast<uint64_t>(st.int64(12));
  r.failures = static_cast<uint64_t>(st.int64(13));
  r.rate_limited = static_cast<uint64_t>(st.int64(14));
  r.tokens_in = static_cast<uint64_t>(st.int64(15));
  r.tokens_out = static_cast<uint64_t>(st.int64(16));
  r.last_error = st.text(17);
  r.last_error_ms = st.int64(18);
  r.last_used_ms = st.int64(19);
  return r;
}

pool::ModelRecord read_model(const Stmt& st) {
  pool::ModelRecord m;
  m.model = st.text(2);
  m.cool_until_ms = st.int64(3);
  m.rate_limits = static_cast<unsigned>(st.int64(4));
  m.day = st.int64(5);
  m.day_requests = static_cast<uint32_t>(st.int64(6));
  return m;
}

}  // namespace

bool KeyTable::prepare(Db& db) {
  upsert_ = db.prepare(kUpsert);
  delete_models_ = db.prepare("DELETE FROM key_models WHERE pool = ?1 AND hash = ?2");
  insert_model_ = db.prepare(kInsertModel);
  // key_models rows go with their key through ON DELETE CASCADE.
  delete_key_ = db.prepare("DELETE FROM keys WHERE pool = ?1 AND hash = ?2");
  delete_pool_ = db.prepare("DELETE FROM keys WHERE pool = ?1");
  select_keys_ = db.prepare(kSelectKeys);
  select_models_ = db.prepare(kSelectModels);
  return upsert_ && delete_models_ && insert_model_ && delete_key_ && delete_pool_ &&
         select_keys_ && select_models_;
}

int KeyTable::write(const pool::KeyRecord& r, int64_t now_ms) {
  upsert_.bind_all(r.pool, r.hash, r.id, r.mask, r.origin, r.secret, r.disabled ? 1 : 0, r.reason,
                   r.consecutive_failures, r.disabled_at_ms, r.enabled_at_ms, r.weight, r.requests,
                   r.failures, r.rate_limited, r.tokens_in, r.tokens_out, r.last_error,
                   r.last_error_ms, r.last_used_ms, now_ms);
  if (r.origin != "runtime" || r.secret.empty()) {
    upsert_.bind(6, nullptr);
  }
  int rc = run(upsert_);
  if (rc != SQLITE_OK) {
    return rc;
  }
  return write_models(r);
}

int KeyTable::write_models(const pool::KeyRecord& r) {
  int rc = run(delete_models_.bind_all(r.pool, r.hash));
  for (const pool::ModelRecord& m : r.models) {
    if (rc != SQLITE_OK) {
      break;
    }
    insert_model_.bind_all(r.pool, r.hash, m.model, m.cool_until_ms, m.rate_limits, m.day,
                           m.day_requests);
    rc = run(insert_model_);
  }
  return rc;
}

int KeyTable::remove(const std::string& pool, const std::string& hash) {
  return run(delete_key_.bind_all(pool, hash));
}

int KeyTable::remove_pool(const std::string& pool) {
  return run(delete_pool_.bind_all(pool));
}

std::vector<pool::KeyRecord> KeyTable::load(int* rc) {
  std::vector<pool::KeyRecord> keys;
  while ((*rc = select_keys_.step()) == SQLITE_ROW) {
    keys.push_back(read_key(select_keys_));
  }
  select_keys_.reset();
  if (*rc != SQLITE_DONE) {
    return keys;
  }
  // Both selects sort by (pool, hash) under the same collation: merge in one pass.
  size_t k = 0;
  while ((*rc = select_models_.step()) == SQLITE_ROW) {
    std::string pool = select_models_.text(0);
    std::string hash = select_models_.text(1);
    while (k < keys.size() && std::tie(keys[k].pool, keys[k].hash) < std::tie(pool, hash)) {
      ++k;
    }
    if (k < keys.size() && keys[k].pool == pool && keys[k].hash == hash) {
      keys[k].models.push_back(read_model(select_models_));
    }
  }
  select_models_.reset();
  *rc = *rc == SQLITE_DONE ? SQLITE_OK : *rc;
  return keys;
}

}  // namespace gb::store
