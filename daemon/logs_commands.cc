// logs.tail: the last requests from the request log, then (with follow) new ones as the
// store writes them.
#include "ctl/json.h"
#include "daemon/control_commands.h"
#include "daemon/daemon.h"
#include "store/store.h"

namespace gb::daemon {

using ctl::Obj;
using rapidjson::Value;

namespace {

constexpr int64_t kMaxHistory = 10000;
constexpr size_t kFollowBatch = 1000;
// A follower whose unsent output is past this is skipped until it reads (the control
// server drops it past ControlServer::kMaxQueued).
constexpr size_t kFollowBackoff = 1024 * 1024;

Value row_json(const store::RequestRow& row, ctl::Alloc& a) {
  const store::RequestRecord& r = row.r;
  Value v(rapidjson::kObjectType);
  Obj(v, a)
      .num("rowid", row.rowid)
      .num("ts_ms", r.ts_ms)
      .str("token", r.token)
      .str("route", r.route)
      .str("pool", r.pool)
      .str("model", r.model)
      .str("key", r.key)
      .str("attempts", r.attempts)
      .num("status", r.status)
      .real("ms", r.ms)
      .real("ttfb_ms", r.ttfb_ms)
      .num("tokens_in", r.tokens_in)
      .num("tokens_out", r.tokens_out)
      .num("tokens_thought", r.tokens_thought)
      .num("tokens_cached", r.tokens_cached)
      .str("err", r.err);
  return v;
}

// Sends rows oldest first; returns the largest rowid sent (or `cursor`).
int64_t send_rows(const Responder& r, std::vector<store::RequestRow>& rows, bool newest_first,
                  int64_t cursor) {
  if (newest_first) {
    std::reverse(rows.begin(), rows.end());
  }
  rapidjson::Document doc;
  for (const store::RequestRow& row : rows) {
    Value ev = row_json(row, doc.GetAllocator());
    r.event(ev);
    cursor = std::max(cursor, row.rowid);
  }
  return cursor;
}

}  // namespace

void ControlCommands::logs_tail(Call& c) {
  const rapidjson::Value& args = c.req.args;
  auto n = ctl::arg_int(args, "n", 20, 0, kMaxHistory);
  auto follow = ctl::arg_bool(args, "follow");
  auto errors = ctl::arg_bool(args, "errors");
  auto pool = ctl::arg_str(args, "pool");
  auto model = ctl::arg_str(args, "model");
  auto key = ctl::arg_str(args, "key");
  for (const Error* e : {!n ? &n.error() : nullptr, !follow ? &follow.error() : nullptr,
                         !errors ? &errors.error() : nullptr, !pool ? &pool.error() : nullptr,
                         !model ? &model.error() : nullptr, !key ? &key.error() : nullptr}) {
    if (e != nullptr) {
      c.r.error(e->code, e->context);
      return;
    }
  }
  if (!d_.runtime().current()->config->log.requests) {
    c.r.error(Errc::bad_request,
              "the request log is off ([log] requests = false in " + d_.config_path() + ")");
    return;
  }
  auto f = std::make_shared<Follower>(Follower{c.r, {}, true});
  f->q.pool = pool.value();
  f->q.model = model.value();
  f->q.key = key.value();
  f->q.errors_only = errors.value();
  store::RequestQuery history = f->q;
  // When following, some rows even with -n 0: the largest rowid among them is where
  // following starts.
  history.limit = static_cast<size_t>(std::max<int64_t>(n.value(), follow.value() ? 20 : 0));
  int64_t want = n.value();
  bool following = follow.value();
  f->r.begin_stream();
  std::weak_ptr<bool> alive = alive_;
  Daemon* d = &d_;
  auto deliver = [this, alive, f, want, following](std::vector<store::RequestRow> rows) {
    if (alive.expired() || !f->r.alive()) {
      return;
    }
    // Rows are newest first by arrival; a long request is logged (gets its rowid) late.
    int64_t cursor = 0;
    for (const store::RequestRow& row : rows) {
      cursor = std::max(cursor, row.rowid);
    }
    if (rows.size() > static_cast<size_t>(want)) {
      rows.resize(static_cast<size_t>(want));
    }
    send_rows(f->r, rows, true, 0);
    if (!following) {
      f->r.end();
      return;
    }
    f->q.after_rowid = cursor;
    f->busy = false;
    followers_.push_back(f);
    if (!follow_timer_.active()) {
      follow_timer_.start(kFollowMs, [this] { poll_followers(); }, kFollowMs);
      follow_timer_.unref();
    }
  };
  if (history.limit == 0) {
    deliver({});
    return;
  }
  d_.store().query_requests(history, [d, deliver](std::vector<store::RequestRow> rows) {
    auto shared = std::make_shared<std::vector<store::RequestRow>>(std::move(rows));
    d->post([deliver, shared] { deliver(std::move(*shared)); });
  });
}

void ControlCommands::poll_followers() {
  std::erase_if(followers_, [](const auto& f) { return !f->r.alive(); });
  if (followers_.empty()) {
    follow_timer_.stop();
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  Daemon* d = &d_;
  for (auto& f : followers_) {
    if (f->busy || f->r.queued() > kFollowBackoff) {
      continue;
    }
    f->busy = true;
    store::RequestQuery q = f->q;
    q.limit = kFollowBatch;
    // after_rowid 0 (nothing matched before): the newest rows are all new.
    bool newest_first = q.after_rowid == 0;
    d_.store().query_requests(q, [d, alive, f, newest_first](std::vector<store::RequestRow> rows) {
      auto shared = std::make_shared<std::vector<store::RequestRow>>(std::move(rows));
      d->post([alive, f, shared, newest_first] {
        if (alive.expired()) {
          return;
        }
        f->q.after_rowid = send_rows(f->r, *shared, newest_first, f->q.after_rowid);
        f->busy = false;
      });
    });
  }
}

}  // namespace gb::daemon
