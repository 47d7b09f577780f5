#include "proxy/session.h"

#include <charconv>

#include "base/log.h"
#include "http/upstream_pool.h"
#include "pool/pacific_time.h"
#include "proxy/forward.h"
#include "proxy/gemini_error.h"

namespace gb::proxy {

namespace {
// Error answers are read whole before deciding whether to retry; this bounds them.
constexpr size_t kMaxErrorBody = 1 << 20;
// Longest SSE event held back while waiting for its end.
constexpr size_t kMaxHeldEvent = 4 << 20;

uint64_t ms_of(std::chrono::milliseconds d) {
  return static_cast<uint64_t>(d.count());
}

int64_t content_length_of(const http::Headers& h) {
  const std::string* v = h.find("content-length");
  if (v == nullptr) {
    return -1;
  }
  int64_t n = -1;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  return (ec == std::errc() && p == v->data() + v->size()) ? n : -1;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http::iequals(s.substr(0, prefix.size()), prefix);
}

int status_for_transport(Errc c) {
  return (c == Errc::connect_timeout || c == Errc::read_timeout) ? 504 : 502;
}
}  // namespace

Session::Session(uv::Loop& loop, http::UpstreamPool& upstream, http::Exchange& ex,
                 std::shared_ptr<const Snapshot> snap, Route route, const config::Pool& pool,
                 pool::KeyPool& keys, std::string token_id, uint64_t sid)
    : loop_(loop),
      upstream_(upstream),
      ex_(&ex),
      snap_(std::move(snap)),
      route_(std::move(route)),
      pool_(pool),
      keys_(keys),
      token_id_(std::move(token_id)),
      sid_(sid),
      t0_(std::chrono::steady_clock::now()) {
  const config::Limits& lim = snap_->config->limits;
  timeouts_.connect_ms = ms_of(lim.connect_timeout);
  timeouts_.response_ms = ms_of(lim.upstream_timeout);
  timeouts_.idle_ms = ms_of(lim.stream_idle_timeout);
}

void Session::start() {
  body_ = std::make_shared<const std::string>(std::move(ex_->request().body));
  peer_ = ex_->peer();
  ex_->on_abort = [this] { on_client_abort(); };
  ex_->on_drain = [this] { on_client_drain(); };
  next_attempt();
}

void Session::next_attempt() {
  if (attempts_ > pool_.max_retries) {
    give_up();
    return;
  }
  auto now = pool::Clock::now();
  auto picked = keys_.acquire(route_.model, tried_, now);
  if (auto* none = std::get_if<pool::NoKey>(&picked)) {
    if (attempts_ > 0 && !none->all_cooling) {
      give_up();
      return;
    }
    if (none->all_cooling) {
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(none->retry_after).count();
      reply_error(429, Errc::all_keys_cooling,
                  "all keys of pool " + pool_.name + " are cooling down for model " +
                      (route_.model.empty() ? std::string("(none)") : route_.model) +
                      "; the soonest is free in " + std::to_string(secs) + "s",
                  static_cast<int>(secs));
    } else {
      reply_error(503, Errc::no_key_available,
                  "no usable key in pool " + pool_.name +
                      ": every key is disabled (see gbd's log, ev=key.disabled)");
    }
    return;
  }
  lease_ = std::get<pool::Lease>(std::move(picked));
  tried_.push_back(lease_->index);
  ++attempts_;
  fresh_retry_done_ = false;
  send(false);
}

void Session::send(bool fresh_connection) {
  Error err;
  conn_ = upstream_.acquire(pool_.origin, pool_.ca_file, &err, fresh_connection);
  if (conn_ == nullptr) {
    // Not the key's fault: the pool's TLS trust store is unusable.
    settle(pool::Verdict{pool::Outcome::cancelled, false, std::nullopt, false, "config"});
    record_attempt(err.name());
    LOG_ERROR("upstream.tls_config").kv("pool", pool_.name).kv("detail", err.context);
    reply_error(502, err.code, "gbd cannot reach pool " + pool_.name + ": " + err.context);
    return;
  }
  phase_ = Phase::waiting;
  up_status_ = 0;
  up_headers_.clear();
  up_body_.clear();
  have_answer_ = false;
  std::string head = upstream_request_head(ex_->request(), body_->size(), pool_.origin,
                                           route_.upstream_path, lease_->key);
  conn_->send(std::move(head), body_, this, timeouts_);
}

void Session::settle(const pool::Verdict& v) {
  if (!lease_) {
    return;
  }
  pool::Transition t =
      keys_.release(*lease_, route_.model, v, pool::Clock::now(), std::chrono::system_clock::now());
  last_outcome_ = v.outcome;
  switch (t.kind) {
    case pool::Transition::none:
      break;
    case pool::Transition::cooled:
      LOG_INFO("key.cooling")
          .kv("pool", pool_.name)
          .kv("key", lease_->id)
          .kv("model", route_.model)
          .kv("for_ms", static_cast<int64_t>(t.cool_for.count()))
          .kv("reason", v.reason);
      break;
    case pool::Transition::disabled:
      LOG_WARN("key.disabled").kv("pool", pool_.name).kv("key", lease_->id).kv("reason", t.reason);
      break;
    case pool::Transition::enabled:
      LOG_INFO("key.enabled").kv("pool", pool_.name).kv("key", lease_->id).kv("reason", "trial_ok");
      break;
  }
  lease_.reset();
}

void Session::record_attempt(std::string_view what) {
  if (!trail_.empty()) {
    trail_ += ',';
  }
  trail_ += tried_.empty() ? std::string("-") : keys_.id_of(tried_.back());
  trail_ += ':';
  trail_ += what;
}

// ---------------------------------------------------------------- upstream callbacks

void Session::on_response_head(int status, http::Headers headers) {
  up_status_ = status;
  if (status >= 400) {
    phase_ = Phase::reading_error;
    up_headers_ = std::move(headers);
    return;
  }
  phase_ = Phase::streaming;
  record_attempt(std::to_string(status));
  final_status_ = status;
  const std::string* ct = headers.find("content-type");
  const std::string* ce = headers.find("content-encoding");
  // Event boundaries can only be seen in an uncompressed stream; a compressed one passes
  // through as opaque bytes.
  sse_ = ct != nullptr && starts_with_ci(*ct, "text/event-stream") &&
         (ce == nullptr || http::iequals(*ce, "identity"));
  int64_t length = sse_ ? -1 : content_length_of(headers);
  t_first_byte_ = std::chrono::steady_clock::now();
  ex_->begin(status, client_response_headers(headers), length);
}

void Session::on_response_body(const char* data, size_t n) {
  if (phase_ == Phase::reading_error) {
    size_t room = kMaxErrorBody - std::min(kMaxErrorBody, up_body_.size());
    up_body_.append(data, std::min(room, n));
    return;
  }
  if (phase_ != Phase::streaming) {
    return;
  }
  forward_body(data, n);
  if (!paused_ && ex_ != nullptr && ex_->over_high_water() && conn_ != nullptr) {
    paused_ = true;
    conn_->pause();
  }
}

void Session::forward_body(const char* data, size_t n) {
  bytes_out_ += n;
  if (!sse_) {
    ex_->write(std::string_view(data, n));
    return;
  }
  // SSE: forward whole events only, so a cut never leaves half an event at the client.
  std::string_view in(data, n);
  size_t complete = boundary_.feed(in);
  if (complete == 0) {
    partial_event_.append(in);
    if (partial_event_.size() > kMaxHeldEvent) {
      // No event boundary in sight: this is not SSE as we know it. Pass it on as is.
      ex_->write(partial_event_);
      partial_event_.clear();
      sse_ = false;
    }
    return;
  }
  if (partial_event_.empty()) {
    ex_->write(in.substr(0, complete));
  } else {
    partial_event_.append(in.substr(0, complete));
    ex_->write(partial_event_);
    partial_event_.clear();
  }
  partial_event_.append(in.substr(complete));
}

void Session::on_client_drain() {
  if (paused_ && conn_ != nullptr) {
    paused_ = false;
    conn_->resume();
  }
}

void Session::on_response_end() {
  conn_ = nullptr;
  if (phase_ == Phase::streaming) {
    if (!partial_event_.empty()) {
      ex_->write(partial_event_);  // the upstream ended it; forward what it sent
      partial_event_.clear();
    }
    settle(pool::Verdict{pool::Outcome::success, false, std::nullopt, false, "ok"});
    ex_->end();
    ex_ = nullptr;
    finish(End::ok);
    return;
  }
  // An error answer, read whole: classify it, then retry or hand it to the client.
  const std::string* ra = up_headers_.find("retry-after");
  pool::Verdict v = pool::classify_response(up_status_, up_body_, ra ? *ra : std::string_view());
  settle(v);
  record_attempt(std::to_string(up_status_));
  have_answer_ = true;
  last_error_.reset();
  if (v.retry) {
    LOG_INFO("upstream.retry")
        .kv("sid", sid_)
        .kv("pool", pool_.name)
        .kv("key", keys_.id_of(tried_.back()))
        .kv("status", up_status_)
        .kv("outcome", pool::outcome_name(v.outcome))
        .kv("reason", v.reason)
        .kv("attempt", attempts_);
    next_attempt();
    return;
  }
  forward_buffered();
}

void Session::on_response_error(const Error& err, bool response_started, bool stale) {
  conn_ = nullptr;
  if (stale && !fresh_retry_done_ && phase_ == Phase::waiting) {
    // The keep-alive connection died while idle; that says nothing about the key.
    fresh_retry_done_ = true;
    send(true);
    return;
  }
  if (phase_ == Phase::streaming) {
    settle(pool::classify_transport(err.code));
    cut_stream(err);
    return;
  }
  (void)response_started;
  pool::Verdict v = pool::classify_transport(err.code);
  settle(v);
  record_attempt(err.name());
  last_error_ = err;
  have_answer_ = false;
  LOG_WARN("upstream.error")
      .kv("sid", sid_)
      .kv("pool", pool_.name)
      .kv("key", keys_.id_of(tried_.back()))
      .kv("attempt", attempts_)
      .kv("err", err.name())
      .kv("detail", err.context)
      .kv("retry", attempts_ <= pool_.max_retries);
  next_attempt();
}

void Session::cut_stream(const Error& err) {
  err_ = err.code;
  LOG_WARN("upstream.cut")
      .kv("sid", sid_)
      .kv("pool", pool_.name)
      .kv("key", keys_.id_of(tried_.back()))
      .kv("err", err.name())
      .kv("detail", err.context)
      .kv("bytes", bytes_out_);
  record_attempt(err.name());
  if (sse_) {
    // Drop the half event and end with an error event, Gemini's own mid-stream shape.
    partial_event_.clear();
    std::string ev =
        "data: " +
        gemini_error_body(502, "upstream connection lost mid-stream (" + std::string(err.name()) +
                                   "); the answer is incomplete") +
        "\r\n\r\n";
    ex_->write(ev);
    ex_->end();
  } else {
    ex_->abort();
  }
  ex_ = nullptr;
  finish(End::cut);
}

void Session::on_client_abort() {
  ex_ = nullptr;
  err_ = Errc::client_gone;
  if (conn_ != nullptr) {
    conn_->cancel();
    conn_ = nullptr;
  }
  settle(pool::Verdict{pool::Outcome::cancelled, false, std::nullopt, false, "client_gone"});
  if (phase_ != Phase::streaming) {
    record_attempt("client_gone");
  }
  finish(End::client_gone);
}

// ---------------------------------------------------------------- answers

void Session::give_up() {
  // Out of keys or attempts. A key problem (rejected or rate-limited key) is reported as
  // gbd's own answer: the upstream's "API key not valid" would mislead a client whose
  // token is fine. An upstream failure (5xx) is handed on as the upstream said it.
  if (have_answer_ && last_outcome_ == pool::Outcome::rate_limited) {
    auto picked = keys_.acquire(route_.model, tried_, pool::Clock::now());
    int secs = 1;
    if (auto* none = std::get_if<pool::NoKey>(&picked)) {
      secs = static_cast<int>(
          std::chrono::duration_cast<std::chrono::seconds>(none->retry_after).count());
    } else {
      // A key freed meanwhile; give it back untouched and let the client come again.
      keys_.release(std::get<pool::Lease>(picked), route_.model,
                    pool::Verdict{pool::Outcome::cancelled, false, std::nullopt, false, ""},
                    pool::Clock::now(), std::chrono::system_clock::now());
    }
    reply_error(429, Errc::all_keys_cooling,
                "every key tried for model " + route_.model + " in pool " + pool_.name +
                    " is rate limited (" + std::to_string(attempts_) + " attempt(s))",
                secs);
    return;
  }
  if (have_answer_ && last_outcome_ == pool::Outcome::invalid) {
    reply_error(503, Errc::no_key_available,
                "no usable key in pool " + pool_.name + ": the key(s) tried were refused by " +
                    "the upstream (" + std::to_string(attempts_) +
                    " attempt(s)); see gbd's log (ev=key.disabled)");
    return;
  }
  if (have_answer_) {
    forward_buffered();
    return;
  }
  if (last_error_) {
    int status = status_for_transport(last_error_->code);
    reply_error(status, last_error_->code,
                "upstream of pool " + pool_.name + " failed after " + std::to_string(attempts_) +
                    " attempt(s): " + last_error_->context + " (" + last_error_->name() + ")");
    return;
  }
  reply_error(503, Errc::no_key_available, "no usable key in pool " + pool_.name);
}

void Session::forward_buffered() {
  final_status_ = up_status_;
  err_ = Errc::upstream_status;
  t_first_byte_ = std::chrono::steady_clock::now();
  bytes_out_ += up_body_.size();
  ex_->respond(up_status_, client_response_headers(up_headers_), up_body_);
  ex_ = nullptr;
  finish(End::upstream_error);
}

void Session::reply_error(int status, Errc err, std::string message,
                          std::optional<int> retry_after_s) {
  err_ = err;
  http::Headers h;
  h.add("Content-Type", "application/json; charset=UTF-8");
  if (retry_after_s) {
    h.add("Retry-After", std::to_string(std::max(1, *retry_after_s)));
  }
  final_status_ = status;
  t_first_byte_ = std::chrono::steady_clock::now();
  std::string body = gemini_error_body(status, message);
  bytes_out_ += body.size();
  ex_->respond(status, std::move(h), body);
  ex_ = nullptr;
  finish(End::upstream_error);
}

void Session::finish(End end) {
  if (phase_ == Phase::done) {
    return;
  }
  phase_ = Phase::done;
  if (ex_ != nullptr) {
    ex_->on_abort = nullptr;
    ex_->on_drain = nullptr;
    ex_ = nullptr;
  }
  static constexpr const char* kEnd[] = {"ok", "client_gone", "upstream_error", "cut"};
  auto now = std::chrono::steady_clock::now();
  double ms = std::chrono::duration<double, std::milli>(now - t0_).count();
  double ttfb = t_first_byte_ == std::chrono::steady_clock::time_point{}
                    ? -1.0
                    : std::chrono::duration<double, std::milli>(t_first_byte_ - t0_).count();
  LOG_INFO("access")
      .kv("sid", sid_)
      .kv("client", peer_)
      .kv("token", token_id_)
      .kv("pool", pool_.name)
      .kv("model", route_.model.empty() ? std::string("-") : route_.model)
      .kv("action", route_.action)
      .kv("status", end == End::client_gone && final_status_ == 0 ? 499 : final_status_)
      .kv("attempts", trail_)
      .kv("end", kEnd[static_cast<int>(end)])
      .kv("err", err_ == Errc::ok ? "-" : errc_name(err_))
      .kv("bytes_out", bytes_out_)
      .kv("ms", ms)
      .kv("ttfb_ms", ttfb);
  loop_.defer_delete(this);
}

}  // namespace gb::proxy
