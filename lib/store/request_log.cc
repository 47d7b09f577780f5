#include "store/request_log.h"

#include <limits>

namespace gb::store {

namespace {

constexpr const char* kInsert = R"sql(
INSERT INTO requests(ts_ms, token, route, pool, model, key, attempts, status, ms, ttfb_ms,
                     tokens_in, tokens_out, tokens_thought, tokens_cached, err)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
)sql";

constexpr const char* kColumns =
    "SELECT id, ts_ms, token, route, pool, model, key, attempts, status, ms, ttfb_ms, "
    "tokens_in, tokens_out, tokens_thought, tokens_cached, err FROM requests WHERE 1";

// Parameter numbers are fixed whatever the filters, so one bind sequence fits every
// shape; LIMIT ?7 is always present, which keeps every number in range.
enum Param { kSince = 1, kUntil, kPool, kModel, kKey, kAfter, kLimit };

}  // namespace

std::string listing_sql(const RequestQuery& q) {
  bool follow = q.after_rowid > 0;
  // In follow mode the few rows past the cursor are found by rowid; a unary + keeps the
  // planner from preferring a column index and then sorting a whole day of rows.
  std::string p = follow ? "+" : "";
  std::string sql = kColumns;
  if (q.since_ms > 0) {
    sql += " AND " + p + "ts_ms >= ?1";
  }
  if (q.until_ms > 0) {
    sql += " AND " + p + "ts_ms < ?2";
  }
  if (!q.pool.empty()) {
    sql += " AND " + p + "pool = ?3";
  }
  if (!q.model.empty()) {
    sql += " AND " + p + "model = ?4";
  }
  if (!q.key.empty()) {
    sql += " AND " + p + "key = ?5";
  }
  if (q.errors_only) {
    // Spelled exactly as the partial index requests_errors_ts, or SQLite will not use it.
    sql += " AND (status >= 400 OR err <> '')";
  }
  if (follow) {
    sql += " AND id > ?6 ORDER BY id ASC";
  } else {
    sql += " ORDER BY ts_ms DESC, id DESC";
  }
  sql += " LIMIT ?7";
  return sql;
}

namespace {

RequestRow read_row(const Stmt& st) {
  RequestRow row;
  row.rowid = st.int64(0);
  RequestRecord& r = row.r;
  r.ts_ms = st.int64(1);
  r.token = st.text(2);
  r.route = st.text(3);
  r.pool = st.text(4);
  r.model = st.text(5);
  r.key = st.text(6);
  r.attempts = st.text(7);
  r.status = static_cast<int>(st.int64(8));
  r.ms = st.real(9);
  r.ttfb_ms = st.real(10);
  r.tokens_in = st.int64(11);
  r.tokens_out = st.int64(12);
  r.tokens_thought = st.int64(13);
  r.tokens_cached = st.int64(14);
  r.err = st.text(15);
  return row;
}

}  // namespace

bool RequestLog::prepare(Db& db) {
  db_ = &db;
  insert_ = db.prepare(kInsert);
  prune_ = db.prepare(
      "DELETE FROM requests WHERE id IN "
      "(SELECT id FROM requests WHERE ts_ms < ?1 ORDER BY ts_ms LIMIT ?2)");
  return insert_ && prune_;
}

int RequestLog::insert(const RequestRecord& r) {
  insert_.bind_all(r.ts_ms, r.token, r.route, r.pool, r.model, r.key, r.attempts, r.status, r.ms,
                   r.ttfb_ms, r.tokens_in, r.tokens_out, r.tokens_thought, r.tokens_cached, r.err);
  int rc = insert_.step();
  insert_.reset();
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

Stmt* RequestLog::listing(const RequestQuery& q) {
  std::string sql = listing_sql(q);
  auto it = listings_.find(sql);
  if (it == listings_.end()) {
    Stmt st = db_->prepare(sql);
    if (!st) {
      return nullptr;
    }
    it = listings_.emplace(std::move(sql), std::move(st)).first;
  }
  return &it->second;
}

std::vector<RequestRow> RequestLog::query(const RequestQuery& q, int* rc) {
  std::vector<RequestRow> rows;
  Stmt* st = listing(q);
  if (st == nullptr) {
    *rc = db_->error_code();
    return rows;
  }
  int64_t limit = q.limit > static_cast<size_t>(std::numeric_limits<int64_t>::max())
                      ? std::numeric_limits<int64_t>::max()
                      : static_cast<int64_t>(q.limit);
  st->bind(kSince, q.since_ms).bind(kUntil, q.until_ms).bind(kPool, q.pool);
  st->bind(kModel, q.model).bind(kKey, q.key).bind(kAfter, q.after_rowid).bind(kLimit, limit);
  while ((*rc = st->step()) == SQLITE_ROW) {
    rows.push_back(read_row(*st));
  }
  st->reset();
  *rc = *rc == SQLITE_DONE ? SQLITE_OK : *rc;
  return rows;
}

int64_t RequestLog::prune(int64_t cutoff_ms, int64_t batch) {
  prune_.bind_all(cutoff_ms, batch);
  int rc = prune_.step();
  prune_.reset();
  if (rc != SQLITE_DONE) {
    return -1;
  }
  return db_->changes();
}

}  // namespace gb::store
