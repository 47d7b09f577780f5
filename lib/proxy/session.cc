#include "proxy/session.h"

#include <charconv>

#include "base/log.h"
#include "http/upstream_pool.h"
#include "pool/pacific_time.h"
#include "proxy/forward.h"
#include "proxy/gemini_error.h"
#include "store/store.h"

namespace gb::proxy {

namespace {
// Error answers are read whole before deciding whether to retry; this bounds them.
constexpr size_t kMaxErrorBody = 1 << 20;
// Longest SSE event held back while waiting for its end.
constexpr size_t kMaxHeldEvent = 4 << 20;
// Largest whole answer read to be translated (a chat completion or embeddings list).
constexpr size_t kMaxTranslated = 64 << 20;

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

pool::Verdict cancelled_verdict(const char* reason) {
  return pool::Verdict{pool::Outcome::cancelled, false, std::nullopt, false, reason};
}

std::string model_or_none(const std::string& model) {
  return model.empty() ? std::string("(none)") : model;
}
}  // namespace

Session::Session(uv::Loop& loop, std::shared_ptr<uv::Mailbox> mailbox,
                 http::UpstreamPool& upstream, http::Exchange& ex,
                 std::shared_ptr<const Snapshot> snap, Route route, const config::Pool& pool,
                 pool::KeyPool& keys, std::string token_id, uint64_t sid, SessionPlan plan)
    : loop_(loop),
      mailbox_(std::move(mailbox)),
      upstream_(upstream),
      ex_(&ex),
      snap_(std::move(snap)),
      route_(std::move(route)),
      pool_(pool),
      keys_(keys),
      token_id_(std::move(token_id)),
      sid_(sid),
      plan_(std::move(plan)),
      wall0_(std::chrono::system_clock::now()),
      t0_(std::chrono::steady_clock::now()) {
  const config::Limits& lim = snap_->config->limits;
  timeouts_.connect_ms = ms_of(lim.connect_timeout);
  timeouts_.response_ms = ms_of(lim.upstream_timeout);
  timeouts_.idle_ms = ms_of(lim.stream_idle_timeout);
}

void Session::start() {
  body_ = std::make_shared<const std::string>(plan_.body ? std::move(*plan_.body)
                                                          : std::move(ex_->request().body));
  plan_.body.reset();
  peer_ = ex_->peer();
  ex_->on_abort = [this] { on_client_abort(); };
  ex_->on_drain = [this] { on_client_drain(); };
  if (plan_.media_call) {
    // Images first: the request goes upstream once they are in it.
    fetch_ = std::make_unique<MediaFetch>(
        loop_, upstream_, *plan_.media_call, plan_.media,
        [this](std::optional<llm::openai::RequestError> err) { on_media(std::move(err)); });
    fetch_->start();
    return;
  }
  next_attempt();
}

void Session::on_media(std::optional<llm::openai::RequestError> err) {
  if (err) {
    LOG_INFO("request.media_refused").kv("sid", sid_).kv("detail", err->message);
    reply_error(err->status, Errc::bad_request, err->message);
    return;
  }
  body_ = std::make_shared<const std::string>(llm::openai::serialize(*plan_.media_call));
  plan_.media_call.reset();
  next_attempt();
}

void Session::next_attempt() {
  if (attempts_ > pool_.max_retries) {
    give_up();
    return;
  }
  auto now = pool::Clock::now();
  auto wall = std::chrono::system_clock::now();
  pool::WaitSpec wait;
  if (pool_.queue_timeout.count() > 0) {
    wait.deadline = t0_ + pool_.queue_timeout;
    wait.waiter = std::make_shared<pool::Waiter>();
    wait.waiter->token = token_id_;
    // Runs on whichever thread freed the key; the lease travels to this loop. If the
    // worker is gone, nobody will use the lease: give it straight back.
    wait.waiter->deliver = [this, mailbox = mailbox_, keys = &keys_,
                            model = route_.model](pool::Lease lease) {
      pool::Lease copy = lease;
      if (!mailbox->post([this, lease = std::move(lease)]() mutable { on_lease(std::move(lease)); })) {
        keys->release(copy, model, cancelled_verdict("worker_gone"), pool::Clock::now(),
                      std::chrono::system_clock::now());
      }
    };
  }
  auto picked = keys_.acquire(route_.model, tried_, now, wall, wait.waiter ? &wait : nullptr);
  if (auto* queued = std::get_if<pool::Queued>(&picked)) {
    phase_ = Phase::queued;
    waiter_ = std::move(wait.waiter);
    LOG_DEBUG("request.queued")
        .kv("sid", sid_)
        .kv("pool", pool_.name)
        .kv("model", route_.model)
        .kv("token", token_id_);
    arm_wait(queued->next_free);
    return;
  }
  if (auto* none = std::get_if<pool::NoKey>(&picked)) {
    if (attempts_ > 0 && !none->all_cooling) {
      give_up();
      return;
    }
    answer_no_key(*none);
    return;
  }
  use_lease(std::get<pool::Lease>(std::move(picked)));
}

void Session::use_lease(pool::Lease lease) {
  lease_ = std::move(lease);
  attempt_key_ = lease_->id;
  tried_.push_back(lease_->index);
  ++attempts_;
  fresh_retry_done_ = false;
  send(false);
}

void Session::answer_no_key(const pool::NoKey& none) {
  if (none.all_cooling) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(none.retry_after).count();
    reply_error(429, Errc::all_keys_cooling,
                "all keys of pool " + pool_.name + " are cooling down for model " +
                    model_or_none(route_.model) + "; the soonest is free in " +
                    std::to_string(secs) + "s",
                static_cast<int>(secs));
    return;
  }
  reply_error(503, Errc::no_key_available,
              "no usable key in pool " + pool_.name + " for model " + model_or_none(route_.model) +
                  ": every key is disabled (see gbd's log, ev=key.disabled)");
}

// ---------------------------------------------------------------- waiting for a key

void Session::arm_wait(pool::TimePoint next_free) {
  if (!wait_timer_) {
    wait_timer_ = std::make_unique<uv::Timer>(loop_.get());
  }
  pool::TimePoint deadline = t0_ + pool_.queue_timeout;
  pool::TimePoint at = std::min(next_free, deadline);
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(at - pool::Clock::now()).count();
  wait_timer_->start(static_cast<uint64_t>(std::max<int64_t>(ms, 0)) + 1, [this] { on_wait_timer(); });
}

void Session::on_wait_timer() {
  if (lease_on_its_way_) {
    // Keeps the loop alive until the lease arrives; it was sent, it will come.
    wait_timer_->start(1000, [this] { on_wait_timer(); });
    return;
  }
  auto now = pool::Clock::now();
  std::optional<pool::TimePoint> next =
      keys_.poll(route_.model, now, std::chrono::system_clock::now());
  pool::TimePoint deadline = t0_ + pool_.queue_timeout;
  if (now < deadline) {
    arm_wait(next.value_or(deadline));
    return;
  }
  if (!keys_.cancel_wait(waiter_)) {
    lease_on_its_way_ = true;  // served just now by the poll above
    wait_timer_->start(1000, [this] { on_wait_timer(); });
    return;
  }
  waiter_.reset();
  wait_timer_.reset();
  phase_ = Phase::waiting;
  // Out of time: one last look, without waiting, gives either a key or the answer.
  auto picked = keys_.acquire(route_.model, tried_, now, std::chrono::system_clock::now());
  if (auto* none = std::get_if<pool::NoKey>(&picked)) {
    if (have_answer_ || last_error_) {
      give_up();
    } else {
      answer_no_key(*none);
    }
    return;
  }
  use_lease(std::get<pool::Lease>(std::move(picked)));
}

void Session::on_lease(pool::Lease lease) {
  lease_on_its_way_ = false;
  waiter_.reset();
  wait_timer_.reset();
  if (ex_ == nullptr) {
    // The client left while the lease was on its way.
    keys_.release(lease, route_.model, cancelled_verdict("client_gone"), pool::Clock::now(),
                  std::chrono::system_clock::now());
    finish(End::client_gone);
    return;
  }
  phase_ = Phase::waiting;
  use_lease(std::move(lease));
}

void Session::send(bool fresh_connection) {
  Error err;
  conn_ = upstream_.acquire(pool_.origin, pool_.ca_file, &err, fresh_connection);
  if (conn_ == nullptr) {
    // Not the key's fault: the pool's TLS trust store is unusable.
    settle(cancelled_verdict("config"));
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
                                           route_.upstream_path, lease_->key, plan_.style);
  conn_->send(std::move(head), body_, this, timeouts_);
}

void Session::settle(const pool::Verdict& v) {
  if (!lease_) {
    return;
  }
  Usage u = usage_.result();
  uint64_t tokens_in = v.outcome == pool::Outcome::success ? static_cast<uint64_t>(u.prompt) : 0;
  uint64_t tokens_out =
      v.outcome == pool::Outcome::success ? static_cast<uint64_t>(u.candidates + u.thoughts) : 0;
  pool::Transition t = keys_.release(*lease_, route_.model, v, pool::Clock::now(),
                                     std::chrono::system_clock::now(), tokens_in, tokens_out);
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
      break;  // only probes enable keys
  }
  lease_.reset();
}

void Session::record_attempt(std::string_view what) {
  if (!trail_.empty()) {
    trail_ += ',';
  }
  trail_ += attempt_key_.empty() ? std::string("-") : attempt_key_;
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
  answer_key_ = attempt_key_;
  record_attempt(std::to_string(status));
  final_status_ = status;
  if (plan_.translator) {
    // A whole answer is translated at its end; a stream as it comes.
    if (plan_.translator->streams()) {
      http::Headers h;
      h.add("Content-Type", plan_.translator->content_type());
      h.add("Cache-Control", "no-cache");
      t_first_byte_ = std::chrono::steady_clock::now();
      ex_->begin(200, std::move(h), -1);
    }
    return;
  }
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
  usage_.feed(std::string_view(data, n));
  if (plan_.translator && !plan_.translator->streams()) {
    if (translated_in_.size() + n > kMaxTranslated) {
      Error e = Error::make(Errc::bad_upstream_response, Side::upstream,
                            "an answer to translate is larger than " +
                                std::to_string(kMaxTranslated >> 20) + " MiB");
      if (conn_ != nullptr) {
        conn_->cancel();
        conn_ = nullptr;
      }
      settle(pool::Verdict{pool::Outcome::success, false, std::nullopt, false, "ok"});
      reply_error(502, e.code, e.context);
      return;
    }
    translated_in_.append(data, n);
    return;
  }
  if (plan_.translator) {
    write_out(plan_.translator->feed(std::string_view(data, n)));
  } else {
    forward_body(data, n);
  }
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

void Session::write_out(std::string_view bytes) {
  if (!bytes.empty()) {
    bytes_out_ += bytes.size();
    ex_->write(bytes);
  }
}

// The end of an answer that a translator rewrites whole.
void Session::answer_translated() {
  std::optional<std::string> body = plan_.translator->translate(translated_in_);
  translated_in_.clear();
  if (!body) {
    reply_error(502, Errc::bad_upstream_response,
                "pool " + pool_.name + " answered with a body gbd could not translate");
    return;
  }
  http::Headers h;
  h.add("Content-Type", plan_.translator->content_type());
  t_first_byte_ = std::chrono::steady_clock::now();
  bytes_out_ += body->size();
  final_status_ = plan_.translator->status();
  ex_->respond(final_status_, std::move(h), *body);
  ex_ = nullptr;
  finish(End::ok);
}

void Session::on_response_end() {
  conn_ = nullptr;
  if (phase_ == Phase::streaming && plan_.translator) {
    if (!plan_.translator->streams()) {
      settle(pool::Verdict{pool::Outcome::success, false, std::nullopt, false, "ok"});
      answer_translated();
      return;
    }
    write_out(plan_.translator->finish());
    if (plan_.translator->failed()) {
      // The upstream said it failed mid-stream (an error event, or no end): not a
      // success of the key, and not a clean end for the log.
      settle(pool::classify_transport(Errc::bad_upstream_response));
      err_ = Errc::bad_upstream_response;
      ex_->end();
      ex_ = nullptr;
      finish(End::cut);
      return;
    }
    settle(pool::Verdict{pool::Outcome::success, false, std::nullopt, false, "ok"});
    ex_->end();
    ex_ = nullptr;
    finish(End::ok);
    return;
  }
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
  pool::Verdict v = pool::classify_response(up_status_, up_body_, ra ? *ra : std::string_view(),
                                             std::chrono::system_clock::now());
  settle(v);
  record_attempt(std::to_string(up_status_));
  have_answer_ = true;
  last_error_.reset();
  if (v.retry) {
    LOG_INFO("upstream.retry")
        .kv("sid", sid_)
        .kv("pool", pool_.name)
        .kv("key", attempt_key_)
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
  bool whole_answer = plan_.translator && !plan_.translator->streams();
  if (phase_ == Phase::streaming && !whole_answer) {
    settle(pool::classify_transport(err.code));
    cut_stream(err);
    return;
  }
  // A whole answer being read for translation has sent nothing to the client yet: like
  // a failure before the first byte, it is retried on another key.
  translated_in_.clear();
  (void)response_started;
  pool::Verdict v = pool::classify_transport(err.code);
  settle(v);
  record_attempt(err.name());
  last_error_ = err;
  have_answer_ = false;
  LOG_WARN("upstream.error")
      .kv("sid", sid_)
      .kv("pool", pool_.name)
      .kv("key", attempt_key_)
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
      .kv("key", attempt_key_)
      .kv("err", err.name())
      .kv("detail", err.context)
      .kv("bytes", bytes_out_);
  record_attempt(err.name());
  if (plan_.translator && plan_.translator->streams()) {
    write_out(plan_.translator->fail("upstream connection lost mid-stream (" +
                                     std::string(err.name()) + "); the answer is incomplete"));
    ex_->end();
  } else if (plan_.translator) {
    // Nothing reached the client yet: a whole answer was being read.
    ex_->abort();
  } else if (sse_) {
    // Drop the half event and end with an error event in the stream's own shape.
    partial_event_.clear();
    std::string message =
        "upstream connection lost mid-stream (" + std::string(err.name()) +
        "); the answer is incomplete";
    std::string ev = route_.api == ClientApi::openai
                         ? "data: " + llm::openai::error_body(message, "server_error", "",
                                                              errc_name(err.code)) +
                               "\n\n"
                         : "data: " + gemini_error_body(502, message) + "\r\n\r\n";
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
  if (fetch_) {
    fetch_->cancel();
  }
  if (phase_ == Phase::queued) {
    if (lease_on_its_way_ || !keys_.cancel_wait(waiter_)) {
      lease_on_its_way_ = true;  // on_lease gives it back and finishes
      if (!wait_timer_->active()) {
        wait_timer_->start(1000, [this] { on_wait_timer(); });
      }
      return;
    }
    waiter_.reset();
    wait_timer_.reset();
    record_attempt("client_gone");
    finish(End::client_gone);
    return;
  }
  if (conn_ != nullptr) {
    conn_->cancel();
    conn_ = nullptr;
  }
  settle(cancelled_verdict("client_gone"));
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
    auto picked =
        keys_.acquire(route_.model, tried_, pool::Clock::now(), std::chrono::system_clock::now());
    int secs = 1;
    if (auto* none = std::get_if<pool::NoKey>(&picked)) {
      secs = static_cast<int>(
          std::chrono::duration_cast<std::chrono::seconds>(none->retry_after).count());
    } else if (auto* lease = std::get_if<pool::Lease>(&picked)) {
      // A key freed meanwhile; give it back untouched and let the client come again.
      keys_.release(*lease, route_.model, cancelled_verdict(""), pool::Clock::now(),
                    std::chrono::system_clock::now());
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
  answer_key_ = attempt_key_;
  err_ = Errc::upstream_status;
  t_first_byte_ = std::chrono::steady_clock::now();
  if (plan_.translator) {
    const std::string* ra = up_headers_.find("retry-after");
    llm::openai::ClientError e =
        plan_.translator->error(up_status_, up_body_, ra ? *ra : std::string_view());
    http::Headers h;
    h.add("Content-Type", "application/json");
    if (e.retry_after_s) {
      h.add("Retry-After", std::to_string(*e.retry_after_s));
    }
    final_status_ = e.status;
    bytes_out_ += e.body.size();
    ex_->respond(e.status, std::move(h), e.body);
    ex_ = nullptr;
    finish(End::upstream_error);
    return;
  }
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
  std::string body = route_.api == ClientApi::openai
                         ? llm::openai::error_body_for_status(status, message)
                         : gemini_error_body(status, message);
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
  log_request(end, ms, ttfb);
  loop_.defer_delete(this);
}

void Session::log_request(End end, double ms, double ttfb) {
  store::Store* store = snap_->store;
  if (store == nullptr || !snap_->config->log.requests) {
    return;
  }
  Usage u = usage_.result();
  store::RequestRecord r;
  r.ts_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall0_.time_since_epoch()).count();
  r.token = token_id_;
  r.route = route_.action;
  r.pool = pool_.name;
  r.model = route_.model;
  r.key = answer_key_;
  r.attempts = trail_;
  r.status = end == End::client_gone && final_status_ == 0 ? 499 : final_status_;
  r.ms = ms;
  r.ttfb_ms = ttfb;
  r.tokens_in = u.prompt;
  r.tokens_out = u.candidates;
  r.tokens_thought = u.thoughts;
  r.tokens_cached = u.cached;
  r.err = err_ == Errc::ok ? std::string() : std::string(errc_name(err_));
  store->log_request(std::move(r));
}

}  // namespace gb::proxy
