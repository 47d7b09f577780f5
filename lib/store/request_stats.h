// RequestStats: the aggregate queries on the requests table for gbctl: a report over a
// time window (stats_report.h) and each key's recent activity.
//
// Both read the rows of their window once, through a ts_ms index, and fold them in
// memory that grows with the number of groups, not of rows. (A GROUP BY would not do:
// SQLite sorts every row of the window to group them.) Store-thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "store/sqlite.h"
#include "store/stats_report.h"

namespace gb::store {

// The SELECTs that the queries prepare (parameters unbound), for tests that check which
// index SQLite chooses.
std::string stats_sql(const StatsQuery& q);
std::string key_activity_sql();

class RequestStats {
 public:
  // Prepares the statements; false (see db.error()) when the schema does not match.
  bool prepare(Db& db);

  // `now_ms` closes a window that has no until_ms. An Error (io_error, with SQLite's
  // message) when the read fails: no partial report.
  Result<StatsReport> report(const StatsQuery& q, int64_t now_ms);

  // Every (pool, key) with a request in the day up to now_ms, sorted by pool then key.
  // Requests that no key answered are left out.
  Result<std::vector<KeyActivity>> key_activity(int64_t now_ms);

 private:
  Error failed(const char* what) const;

  Db* db_ = nullptr;
  Stmt every_pool_;
  Stmt one_pool_;
  Stmt activity_;
};

}  // namespace gb::store
