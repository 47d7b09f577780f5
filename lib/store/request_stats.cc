#include "store/request_stats.h"

#include <limits>
#include <map>
#include <utility>

#include "store/stats_builder.h"

namespace gb::store {

namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

constexpr const char* kStats =
    "SELECT pool, key, model, err, status, ms, ttfb_ms, "
    "tokens_in, tokens_out, tokens_thought, tokens_cached "
    "FROM requests WHERE ts_ms >= ?1 AND ts_ms < ?2";

enum Param { kSince = 1, kUntil, kPool };

StatsSample read_sample(const Stmt& st) {
  StatsSample s;
  s.pool = st.text_view(0);
  s.key = st.text_view(1);
  s.model = st.text_view(2);
  s.err = st.text_view(3);
  s.status = static_cast<int>(st.int64(4));
  s.ms = st.real(5);
  s.ttfb_ms = st.real(6);
  s.tokens_in = st.int64(7);
  s.tokens_out = st.int64(8);
  s.tokens_thought = st.int64(9);
  s.tokens_cached = st.int64(10);
  return s;
}

}  // namespace

std::string stats_sql(const StatsQuery& q) {
  std::string sql = kStats;
  if (!q.pool.empty()) {
    sql += " AND pool = ?3";
  }
  return sql;
}

std::string key_activity_sql() {
  // The error test is spelled as in requests_errors_ts and query_requests.
  return "SELECT pool, key, ts_ms, (status >= 400 OR err <> '') FROM requests "
         "WHERE ts_ms >= ?1 AND ts_ms <= ?2 AND key <> ''";
}

bool RequestStats::prepare(Db& db) {
  db_ = &db;
  StatsQuery one;
  one.pool = "any";
  every_pool_ = db.prepare(stats_sql(StatsQuery{}));
  one_pool_ = db.prepare(stats_sql(one));
  activity_ = db.prepare(key_activity_sql());
  return every_pool_ && one_pool_ && activity_;
}

Error RequestStats::failed(const char* what) const {
  return Error::make(Errc::io_error, Side::internal,
                     std::string("cannot read the request log for ") + what + ": " + db_->error());
}

Result<StatsReport> RequestStats::report(const StatsQuery& q, int64_t now_ms) {
  Stmt& st = q.pool.empty() ? every_pool_ : one_pool_;
  int64_t until = q.until_ms > 0 ? q.until_ms : std::numeric_limits<int64_t>::max();
  st.bind(kSince, q.since_ms).bind(kUntil, until);
  if (!q.pool.empty()) {
    st.bind(kPool, q.pool);
  }
  StatsBuilder b;
  int rc = SQLITE_OK;
  while ((rc = st.step()) == SQLITE_ROW) {
    b.add(read_sample(st));
  }
  st.reset();
  if (rc != SQLITE_DONE) {
    return failed("stats");
  }
  return b.finish(q.since_ms, q.until_ms > 0 ? q.until_ms : now_ms);
}

Result<std::vector<KeyActivity>> RequestStats::key_activity(int64_t now_ms) {
  std::map<std::string, std::map<std::string, KeyActivity, std::less<>>, std::less<>> pools;
  activity_.bind_all(now_ms - kDay, now_ms);
  int rc = SQLITE_OK;
  while ((rc = activity_.step()) == SQLITE_ROW) {
    std::string_view pool = activity_.text_view(0);
    auto p = pools.find(pool);
    if (p == pools.end()) {
      p = pools.emplace(std::string(pool), decltype(p->second){}).first;
    }
    std::string_view key = activity_.text_view(1);
    auto k = p->second.find(key);
    if (k == p->second.end()) {
      k = p->second.emplace(std::string(key), KeyActivity{}).first;
      k->second.pool = p->first;
      k->second.key = k->first;
    }
    int64_t ts = activity_.int64(2);
    KeyActivity& a = k->second;
    a.last_day++;
    a.last_hour += ts >= now_ms - kHour;
    a.last_minute += ts >= now_ms - kMinute;
    a.errors_last_hour += ts >= now_ms - kHour && activity_.int64(3) != 0;
  }
  activity_.reset();
  if (rc != SQLITE_DONE) {
    return failed("key activity");
  }
  std::vector<KeyActivity> out;
  for (auto& [pool, keys] : pools) {
    for (auto& [key, a] : keys) {
      out.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace gb::store
