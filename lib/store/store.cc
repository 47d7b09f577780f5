// The store thread's cycle: wait for a deadline or for work; take what is queued under
// the lock; then, without the lock, flush (one transaction), answer queries, and delete
// at most one batch of old request rows. Pruning a large backlog therefore interleaves
// with flushes and queries instead of holding them up.
#include "store/store.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "base/log.h"
#include "store/db_file.h"
#include "store/key_backlog.h"
#include "store/key_table.h"
#include "store/request_log.h"
#include "store/request_stats.h"
#include "store/retention.h"
#include "store/schema.h"
#include "store/throttle.h"
#include "base/wall_clock.h"

namespace gb::store {

namespace {

using Steady = std::chrono::steady_clock;

constexpr Duration kFirstPrune{5000};
// The longest sleep; keeps time_point arithmetic far from overflow when nothing is due.
constexpr Duration kMaxSleep{3600 * 1000};


size_t early_flush_mark(const Options& o) {
  return std::max<size_t>(1, o.max_pending_requests / 2);
}

// Logs a failed aggregate read and names the file in the error gbctl will show.
template <typename T>
Result<T> named(Result<T> r, const std::string& path, const char* query) {
  if (r) {
    return r;
  }
  LOG_WARN("store.query_failed").kv("query", query).kv("err", r.error().context);
  Error e = r.error();
  e.context = path + ": " + e.context;
  return e;
}

Error stopped(const std::string& path) {
  return Error::make(Errc::internal, Side::internal, path + ": the store has stopped");
}

}  // namespace

struct Store::Impl {
  struct Query {
    RequestQuery q;
    std::function<void(std::vector<RequestRow>)> done;
  };
  // What one cycle took from the queues.
  struct Batch {
    bool flush = false;
    bool last = false;
    Options opt;
    std::vector<RequestRecord> requests;
    std::vector<std::string> forget;
    std::vector<std::function<void(bool)>> syncs;
    std::vector<Query> queries;
    std::vector<std::function<void()>> reads;
    std::vector<std::function<void(uint64_t)>> prunes;
    bool retention_changed = false;
  };

  // The store thread's (before start(): the owner's).
  Db db;
  KeyTable keys;
  RequestLog log;
  RequestStats stats;
  KeySource source;
  KeyBacklog unwritten;
  Steady::time_point next_flush;
  Throttle write_warn;
  Retention retention{log, db, write_warn};

  // Shared, under mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  Options opt;
  std::vector<RequestRecord> pending;
  std::vector<std::string> forget;
  std::vector<std::function<void(bool)>> syncs;
  std::vector<Query> queries;
  std::vector<std::function<void()>> reads;  // aggregates: they answer their caller
  std::vector<std::function<void(uint64_t)>> prunes;
  bool retention_changed = false;
  // The last flush failed: a full queue no longer triggers an early flush, which would
  // spin on a disk that stays full; the next try is at the next flush interval.
  bool backing_off = false;
  bool started = false;
  bool stopping = false;
  bool stopped = false;  // set with the last take: later work is refused
  Throttle drop_warn;
  Counters counters;  // counters() fills in pending_requests and requests_pruned

  std::thread thread;

  bool urgent() const {
    return stopping || !syncs.empty() || !queries.empty() || !reads.empty() || !prunes.empty() ||
           retention_changed || (!backing_off && pending.size() >= early_flush_mark(opt));
  }
  bool queue_read(std::function<void()> read);
  Batch wait_and_take();
  void run();
  void cycle(Batch& b);
  bool flush(Batch& b);
  int write(const std::vector<RequestRecord>& requests, std::string* err);
  void requeue(std::vector<RequestRecord> failed);
  void prune_step(Batch& b);
};

// False once stopped: the caller answers at once.
bool Store::Impl::queue_read(std::function<void()> read) {
  std::lock_guard lk(mu);
  if (stopped) {
    return false;
  }
  reads.push_back(std::move(read));
  cv.notify_one();
  return true;
}

Store::Impl::Batch Store::Impl::wait_and_take() {
  std::unique_lock lk(mu);
  Steady::time_point now = Steady::now();
  while (!urgent() && !retention.running() && now < next_flush && now < retention.next()) {
    cv.wait_until(lk, std::min({next_flush, retention.next(), now + kMaxSleep}));
    now = Steady::now();
  }
  Batch b;
  b.last = stopping;
  b.flush = urgent() || now >= next_flush;
  b.opt = opt;
  if (b.flush) {
    b.requests.swap(pending);
    b.forget.swap(forget);
    b.syncs.swap(syncs);
  }
  b.queries.swap(queries);
  b.reads.swap(reads);
  b.prunes.swap(prunes);
  b.retention_changed = std::exchange(retention_changed, false);
  stopped = stopping;
  return b;
}

void Store::Impl::run() {
  for (;;) {
    Batch b = wait_and_take();
    cycle(b);
    if (b.last) {
      return;
    }
  }
}

void Store::Impl::cycle(Batch& b) {
  if (b.flush) {
    bool ok = flush(b);
    next_flush = Steady::now() + b.opt.flush_interval;
    for (auto& done : b.syncs) {
      done(ok);
    }
  }
  for (Query& q : b.queries) {
    int rc = SQLITE_OK;
    std::vector<RequestRow> rows = log.query(q.q, &rc);
    if (rc != SQLITE_OK) {
      LOG_WARN("store.query_failed").kv("err", db.error());
    }
    q.done(std::move(rows));
  }
  for (auto& read : b.reads) {
    read();
  }
  prune_step(b);
}

bool Store::Impl::flush(Batch& b) {
  std::vector<pool::KeyChange> changes;
  if (source) {
    changes = source();
  }
  // Order of age: unwritten changes < forget_pool() calls < what the source just gave.
  for (std::string& p : b.forget) {
    unwritten.forget_pool(std::move(p));
  }
  for (pool::KeyChange& c : changes) {
    unwritten.add(std::move(c));
  }
  if (unwritten.empty() && b.requests.empty()) {
    return true;
  }
  std::string err;
  if (write(b.requests, &err) == SQLITE_OK) {
    std::lock_guard lk(mu);
    backing_off = false;
    counters.requests_written += b.requests.size();
    counters.keys_written += unwritten.size();
    unwritten.clear();
    return true;
  }
  uint64_t held = 0;
  if (write_warn.ready(Steady::now(), &held)) {
    LOG_WARN("store.write_failed")
        .kv("err", err)
        .kv("requests", b.requests.size())
        .kv("keys", unwritten.size())
        .kv("suppressed", held)
        .kv("retry", "next flush");
  }
  requeue(std::move(b.requests));
  return false;
}

int Store::Impl::write(const std::vector<RequestRecord>& requests, std::string* err) {
  Transaction tx(db);
  int rc = tx.begin();
  int64_t now = wall_ms();
  // Deletions first: a pool's keys that came back after forget_pool() are newer.
  for (auto it = unwritten.forgotten().begin();
       rc == SQLITE_OK && it != unwritten.forgotten().end(); ++it) {
    rc = keys.remove_pool(*it);
  }
  for (auto it = unwritten.changes().begin(); rc == SQLITE_OK && it != unwritten.changes().end();
       ++it) {
    const pool::KeyChange& c = it->second;
    rc = c.removed ? keys.remove(c.record.pool, c.record.hash) : keys.write(c.record, now);
  }
  for (size_t i = 0; rc == SQLITE_OK && i < requests.size(); ++i) {
    rc = log.insert(requests[i]);
  }
  if (rc == SQLITE_OK) {
    rc = tx.commit();
  }
  if (rc != SQLITE_OK) {
    *err = db.error();  // before the rollback replaces the message
  }
  return rc;
}

// Failed records go back ahead of the newer ones, within the bound; the rest are dropped.
void Store::Impl::requeue(std::vector<RequestRecord> failed) {
  std::lock_guard lk(mu);
  size_t room =
      opt.max_pending_requests > pending.size() ? opt.max_pending_requests - pending.size() : 0;
  if (failed.size() > room) {
    counters.requests_dropped += failed.size() - room;
    failed.resize(room);
  }
  failed.insert(failed.end(), std::make_move_iterator(pending.begin()),
                std::make_move_iterator(pending.end()));
  pending.swap(failed);
  counters.write_errors++;
  backing_off = true;
}

void Store::Impl::prune_step(Batch& b) {
  for (auto& done : b.prunes) {
    retention.request(std::move(done));
  }
  if (b.retention_changed) {
    retention.restart();
  }
  retention.step(Steady::now(), b.opt.retention, b.opt.prune_interval, b.last);
}

Store::Store(std::unique_ptr<Impl> impl, std::string path)
    : impl_(std::move(impl)), path_(std::move(path)) {}

Store::~Store() {
  stop();
}

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, Options opt) {
  Result<OpenedDb> opened = open_db(dir, opt.busy_timeout);
  if (!opened) {
    return opened.error();
  }
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(opened->db);
  impl->opt = opt;
  if (!impl->keys.prepare(impl->db) || !impl->log.prepare(impl->db) ||
      !impl->stats.prepare(impl->db)) {
    return Error::make(Errc::io_error, Side::internal,
                       opened->path + ": the schema does not match this gbd: " + impl->db.error());
  }
  LOG_INFO("store.opened")
      .kv("file", opened->path)
      .kv("schema", schema_version())
      .kv("was", opened->found_version);
  return std::unique_ptr<Store>(new Store(std::move(impl), std::move(opened->path)));
}

Result<std::vector<pool::KeyRecord>> Store::load_keys() {
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->started) {
      return Error::make(Errc::internal, Side::internal,
                         path_ + ": keys are loaded before the store starts");
    }
  }
  int rc = SQLITE_OK;
  std::vector<pool::KeyRecord> keys = impl_->keys.load(&rc);
  if (rc != SQLITE_OK) {
    return Error::make(Errc::io_error, Side::internal,
                       path_ + ": cannot read keys: " + impl_->db.error());
  }
  return keys;
}

void Store::start(KeySource source) {
  Impl& s = *impl_;
  std::lock_guard lk(s.mu);
  if (s.started || s.stopping) {
    return;
  }
  s.started = true;
  s.source = std::move(source);
  Steady::time_point now = Steady::now();
  s.next_flush = now + s.opt.flush_interval;
  s.retention.schedule(now + std::min(kFirstPrune, s.opt.prune_interval));
  s.thread = std::thread([&s] { s.run(); });
}

void Store::log_request(RequestRecord r) {
  Impl& s = *impl_;
  uint64_t held = 0;
  size_t bound = 0;
  bool warn = false;
  bool stopped = false;
  {
    std::lock_guard lk(s.mu);
    if (!s.opt.request_log) {
      return;
    }
    bound = s.opt.max_pending_requests;
    if (!s.stopped && s.pending.size() < bound) {
      s.pending.push_back(std::move(r));
      if (s.started && s.pending.size() == early_flush_mark(s.opt)) {
        s.cv.notify_one();
      }
      return;
    }
    s.counters.requests_dropped++;
    stopped = s.stopped;
    warn = s.drop_warn.ready(Steady::now(), &held);
  }
  if (warn) {
    LOG_WARN("store.request_dropped")
        .kv("why", stopped ? "stopped" : "queue full")
        .kv("max_pending", bound)
        .kv("also_dropped", held);
  }
}

void Store::forget_pool(std::string pool) {
  std::lock_guard lk(impl_->mu);
  if (!impl_->stopped) {
    impl_->forget.push_back(std::move(pool));
  }
}

void Store::sync(std::function<void(bool ok)> done) {
  {
    std::lock_guard lk(impl_->mu);
    if (!impl_->stopped) {
      impl_->syncs.push_back(std::move(done));
      impl_->cv.notify_one();
      return;
    }
  }
  done(false);
}

void Store::query_requests(RequestQuery q, std::function<void(std::vector<RequestRow>)> done) {
  {
    std::lock_guard lk(impl_->mu);
    if (!impl_->stopped) {
      impl_->queries.push_back(Impl::Query{std::move(q), std::move(done)});
      impl_->cv.notify_one();
      return;
    }
  }
  done({});
}

void Store::stats(StatsQuery q, std::function<void(Result<StatsReport>)> done) {
  auto read = [this, q = std::move(q), done] {
    done(named(impl_->stats.report(q, wall_ms()), path_, "stats"));
  };
  if (!impl_->queue_read(std::move(read))) {
    done(stopped(path_));
  }
}

void Store::key_activity(int64_t now_ms,
                         std::function<void(Result<std::vector<KeyActivity>>)> done) {
  auto read = [this, now_ms, done] {
    done(named(impl_->stats.key_activity(now_ms), path_, "key_activity"));
  };
  if (!impl_->queue_read(std::move(read))) {
    done(stopped(path_));
  }
}

void Store::prune(std::function<void(uint64_t removed)> done) {
  {
    std::lock_guard lk(impl_->mu);
    if (!impl_->stopped) {
      impl_->prunes.push_back(std::move(done));
      impl_->cv.notify_one();
      return;
    }
  }
  done(0);
}

void Store::set_options(const Options& opt) {
  std::lock_guard lk(impl_->mu);
  impl_->retention_changed |= impl_->opt.retention != opt.retention;
  impl_->opt = opt;
  impl_->cv.notify_one();
}

Counters Store::counters() const {
  std::lock_guard lk(impl_->mu);
  Counters c = impl_->counters;
  c.pending_requests = impl_->pending.size();
  c.requests_pruned = impl_->retention.removed_total();
  return c;
}

void Store::stop() {
  Impl& s = *impl_;
  bool run_here = false;
  {
    std::lock_guard lk(s.mu);
    if (s.stopping) {
      return;
    }
    s.stopping = true;
    run_here = !s.started;
    s.cv.notify_one();
  }
  if (run_here) {
    Impl::Batch b = s.wait_and_take();
    s.cycle(b);
  } else {
    s.thread.join();
  }
  // Keeps the planner's statistics current for the next start; cheap when nothing changed.
  s.db.exec("PRAGMA optimize");
}

}  // namespace gb::store
