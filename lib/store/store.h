// Store: gbd.db, owned by one thread, so that no event loop ever waits on the disk.
//
// Worker loops hand request records to log_request() and return at once: records wait
// in a bounded queue. The store thread wakes every flush_interval, pulls the keys that
// changed from the pools (KeySource), and writes keys and queued records in one
// transaction. Control commands that must be durable before they are acknowledged call
// sync() and answer from its callback. Old request rows are pruned in small batches,
// between which queued work runs.
//
// A failed write (disk full, read-only file, lock held elsewhere) is logged at most
// every few seconds and retried at the next flush: key changes are kept, latest per
// (pool, hash), because the source hands each change over only once; request records
// go back to the queue, within its bound.
//
// Threads: open(), load_keys() and start() on the owning thread, in that order; then
// log_request(), forget_pool(), sync(), query_requests(), stats(), key_activity(),
// prune(), set_options() and counters() from any thread; stop() (or the destructor)
// once, from the owning thread. Callbacks run on the store thread (or, once stopped, as
// noted) and must not call stop(); they may queue more work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/units.h"
#include "pool/key_record.h"
#include "store/request_query.h"
#include "store/request_record.h"
#include "store/stats_report.h"

namespace gb::store {

struct Options {
  Duration flush_interval{1000};
  // Request rows older than this are deleted; 0 keeps them forever.
  Duration retention{30LL * 24 * 3600 * 1000};
  Duration prune_interval{60000};  // how often retention runs (and once soon after start)
  bool request_log = true;         // false: log_request() discards records
  // Records waiting for the disk; past this, log_request() drops and counts. Half-way,
  // the store thread flushes early.
  size_t max_pending_requests = 100000;
  // How long a write waits for a lock held by another connection (a backup, sqlite3
  // opened by hand) before it counts as failed and is retried at the next flush. Read
  // by open() only.
  Duration busy_timeout{5000};
};

struct Counters {
  uint64_t requests_written = 0;
  uint64_t requests_dropped = 0;  // queue full, or logged after stop()
  uint64_t keys_written = 0;      // key rows written or removed
  uint64_t requests_pruned = 0;
  uint64_t write_errors = 0;  // failed flushes
  size_t pending_requests = 0;
};

class Store {
 public:
  // Pulls the key changes since the last call. Called on the store thread.
  using KeySource = std::function<std::vector<pool::KeyChange>()>;

  // Opens `dir`/gbd.db, creating the directory (mode 0700) and the file (mode 0600:
  // runtime keys are stored in it) when missing, and tightening an existing file that
  // others can read. Sets WAL and synchronous=NORMAL and migrates the schema. Refuses,
  // with an Error naming the file, a file that is not a SQLite database, another
  // program's database, and a schema newer than this binary knows. Synchronous.
  static Result<std::unique_ptr<Store>> open(const std::string& dir, Options opt);

  ~Store();  // stop()
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }

  // Every key of every pool, with its model rows. Before start(): it reads on the
  // calling thread. Fails only when the file cannot be read.
  Result<std::vector<pool::KeyRecord>> load_keys();

  // Starts the store thread. `source` may be empty (no pools to persist).
  void start(KeySource source);

  // Queues one record. Never blocks on the disk. Drops the record and counts it when
  // the queue is full or the store has stopped (with a warning at most every 10s).
  void log_request(RequestRecord r);

  // Queues the deletion of every key row of `pool` (the pool left the config). Changes
  // for that pool pulled from the source later are written after the deletion.
  void forget_pool(std::string pool);

  // Flushes now: pulls the source, writes, commits. done(true) runs on the store thread
  // once committed, done(false) when the write failed (it will be retried). With WAL and
  // synchronous=NORMAL a commit survives a crash of gbd; a power cut may undo the last
  // ones.
  // Before start() it waits for start(); after stop() done(false) runs at once on the
  // calling thread.
  void sync(std::function<void(bool ok)> done);

  // Runs a listing on the store thread, after flushing what was queued before the call,
  // so a query sees every record logged before it. Order and cursors: request_query.h.
  // A failed query logs a warning and delivers no rows. After stop(): done({}) at once.
  void query_requests(RequestQuery q, std::function<void(std::vector<RequestRow>)> done);

  // Aggregates over the request log, queued and flushed first like query_requests(), so
  // they count every record logged before the call. Unlike it, they tell a failure from
  // an empty log: a failed read logs a warning and delivers an io_error naming the file.
  // After stop(): done(Error internal) at once on the calling thread.
  //
  // stats(): the report over q's window (stats_report.h), reading each row of the window
  // once; a window without until_ms ends at the time the report is made. A wide window
  // holds up the store thread while it reads (records wait in the queue, within its
  // bound).
  void stats(StatsQuery q, std::function<void(Result<StatsReport>)> done);
  // Every key with a request in the day up to now_ms, and its requests in the last
  // minute, hour and day and its errors in the last hour (KeyActivity).
  void key_activity(int64_t now_ms, std::function<void(Result<std::vector<KeyActivity>>)> done);

  // Deletes request rows older than the retention now rather than at the next period;
  // done(rows deleted) runs on the store thread when no old row is left (or at stop()).
  void prune(std::function<void(uint64_t removed)> done);

  // New options on reload. A new retention starts a pruning run at once; a new
  // flush_interval counts from the next flush; busy_timeout is not changed.
  void set_options(const Options& opt);

  Counters counters() const;

  // Final flush (the source is pulled one last time: it must still be valid), callbacks
  // of queued work, join. Idempotent. Without start(), flushes on the calling thread.
  void stop();

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl, std::string path);

  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace gb::store
