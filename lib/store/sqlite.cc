#include "store/sqlite.h"

#include <utility>

namespace gb::store {

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

Stmt::~Stmt() {
  sqlite3_finalize(s_);
}

Stmt& Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  sqlite3_bind_double(s_, i, v);
  return *this;
}

Stmt& Stmt::bind(int i, std::nullptr_t) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Stmt& Stmt::bind_int64(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}

int Stmt::step() {
  return sqlite3_step(s_);
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::text(int col) const {
  return std::string(text_view(col));
}

std::string_view Stmt::text_view(int col) const {
  const unsigned char* p = sqlite3_column_text(s_, col);
  if (p == nullptr) {
    return {};
  }
  return std::string_view(reinterpret_cast<const char*>(p),
                          static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
  }
  return *this;
}

Db::~Db() {
  sqlite3_close_v2(db_);
}

int Db::open(const std::string& path, Db* out, std::string* err) {
  sqlite3* db = nullptr;
  // NOMUTEX: the store hands the connection from the opening thread to its own thread
  // once, and never shares it; SQLite's per-call locking would buy nothing.
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    *err = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return rc;
  }
  sqlite3_extended_result_codes(db, 0);
  *out = Db();
  out->db_ = db;
  return SQLITE_OK;
}

int Db::exec(const char* sql) {
  return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
}

Stmt Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    return Stmt();
  }
  return Stmt(s);
}

int Db::query_int(const char* sql, int64_t* out) {
  Stmt st = prepare(sql);
  if (!st) {
    return error_code();
  }
  int rc = st.step();
  *out = rc == SQLITE_ROW ? st.int64(0) : 0;
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

Transaction::~Transaction() {
  if (open_) {
    db_.exec("ROLLBACK");
  }
}

int Transaction::begin() {
  int rc = db_.exec("BEGIN IMMEDIATE");
  open_ = rc == SQLITE_OK;
  return rc;
}

int Transaction::commit() {
  int rc = db_.exec("COMMIT");
  if (rc == SQLITE_OK) {
    open_ = false;
  }
  return rc;
}

}  // namespace gb::store
