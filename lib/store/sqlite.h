// Db and Stmt: move-only owners of a sqlite3 connection and a prepared statement.
//
// Thin on purpose: callers keep SQLite's own result codes (SQLITE_ROW, SQLITE_DONE, ...)
// and read the message from Db::error(). Text is bound with SQLITE_TRANSIENT, so bound
// values need not outlive the call. Neither type is thread-safe; one thread at a time
// owns a connection and every statement prepared on it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace gb::store {

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  explicit operator bool() const { return s_ != nullptr; }

  // Parameters are numbered from 1, as in SQLite.
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::nullptr_t);
  template <typename T>
  requires(std::is_integral_v<T>) Stmt& bind(int i, T v) {
    // Unsigned 64-bit counters are stored as their two's-complement int64 and read back
    // with the same cast, so the full range round-trips.
    return bind_int64(i, static_cast<int64_t>(v));
  }
  // Binds 1..N in order: st.bind_all(pool, hash, 3).
  template <typename... Args>
  Stmt& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  // Ready for the next use: unbinds every parameter and rewinds.
  void reset();

  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  double real(int col) const { return sqlite3_column_double(s_, col); }
  std::string text(int col) const;
  // No copy, for values folded rather than kept: valid until the next step() or reset().
  std::string_view text_view(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  Stmt& bind_int64(int i, int64_t v);
  sqlite3_stmt* s_ = nullptr;
};

class Db {
 public:
  Db() = default;
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Opens an existing file read-write (the caller creates it, to choose its mode).
  // Returns the SQLite code; on failure *err holds the message.
  static int open(const std::string& path, Db* out, std::string* err);

  explicit operator bool() const { return db_ != nullptr; }
  sqlite3* get() const { return db_; }

  // Runs statements that return no rows we need. Returns the SQLite code.
  int exec(const char* sql);
  // A null Stmt on failure; see error().
  Stmt prepare(std::string_view sql);
  // Reads the first column of the first row of a one-value query (a PRAGMA) into *out
  // (0 when there is no row). Returns the SQLite code.
  int query_int(const char* sql, int64_t* out);

  std::string error() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }
  int error_code() const { return db_ ? sqlite3_errcode(db_) : SQLITE_MISUSE; }
  int64_t changes() const { return sqlite3_changes64(db_); }

 private:
  sqlite3* db_ = nullptr;
};

// A transaction that rolls back unless commit() succeeded. BEGIN IMMEDIATE takes the
// write lock up front, so a busy database fails at begin() rather than halfway through.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  int begin();
  int commit();

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace gb::store
