// Helpers for the store tests: a private temporary directory, a second SQLite
// connection that reads what the store committed, and sample records.
#pragma once

#include <sqlite3.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "pool/key_record.h"
#include "store/request_record.h"
#include "store/store.h"

namespace gb::store::test {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/gbd-store-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string db() const { return path_ + "/gbd.db"; }

 private:
  std::string path_;
};

// A connection of its own, as another process would have.
class Raw {
 public:
  explicit Raw(const std::string& file) {
    REQUIRE(sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 2000);
  }
  ~Raw() { sqlite3_close_v2(db_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  void exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  // One column of every row, as text ("NULL" for NULL).
  std::vector<std::string> column(const std::string& sql, int col = 0) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_OK);
    std::vector<std::string> out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, col);
      out.push_back(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
    sqlite3_finalize(st);
    REQUIRE(rc == SQLITE_DONE);
    return out;
  }
  std::string one(const std::string& sql) {
    std::vector<std::string> rows = column(sql);
    REQUIRE(rows.size() == 1);
    return rows[0];
  }
  int64_t count(const std::string& sql) { return std::stoll(one(sql)); }

 private:
  sqlite3* db_ = nullptr;
};

inline std::unique_ptr<Store> must_open(const std::string& dir, Options opt = {}) {
  Result<std::unique_ptr<Store>> r = Store::open(dir, opt);
  INFO((r ? "" : r.error().context));
  REQUIRE(r.ok());
  return std::move(r.value());
}

inline std::string hash_of(int n) {
  std::string h = std::to_string(n);
  return std::string(64 - h.size(), 'a') + h;
}

inline pool::KeyRecord sample_key(const std::string& pool, int n) {
  pool::KeyRecord k;
  k.pool = pool;
  k.hash = hash_of(n);
  k.id = k.hash.substr(0, 8);
  k.mask = "AIza…" + std::to_string(1000 + n);
  k.origin = "config";
  k.requests = 10 + n;
  return k;
}

inline RequestRecord sample_request(int64_t ts_ms, const std::string& model = "gemini-2.5-flash",
                                    int status = 200) {
  RequestRecord r;
  r.ts_ms = ts_ms;
  r.token = "0a1b2c3d";
  r.route = "generateContent";
  r.pool = "gemini";
  r.model = model;
  r.key = "3fa9c2d1";
  r.attempts = "3fa9c2d1:" + std::to_string(status);
  r.status = status;
  r.ms = 12.5;
  r.ttfb_ms = 3.25;
  return r;
}

// Waits for a callback that runs on the store thread.
template <typename T>
T await(std::future<T>& f) {
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return f.get();
}

inline bool sync_now(Store& s) {
  auto p = std::make_shared<std::promise<bool>>();
  std::future<bool> f = p->get_future();
  s.sync([p](bool ok) { p->set_value(ok); });
  return await(f);
}

inline std::vector<RequestRow> query_now(Store& s, RequestQuery q) {
  auto p = std::make_shared<std::promise<std::vector<RequestRow>>>();
  auto f = p->get_future();
  s.query_requests(std::move(q),
                   [p](std::vector<RequestRow> rows) { p->set_value(std::move(rows)); });
  return await(f);
}

inline int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace gb::store::test
