#include "http/client_conn.h"

#include <netdb.h>

#include <cstring>

#include "base/log.h"
#include "http/upstream_pool.h"
#include "net/tls.h"

namespace gb::http {

namespace {
// Bounds on an upstream's response head; a larger one is a malformed response.
constexpr size_t kMaxHeaderBytes = 64 << 10;
constexpr size_t kMaxHeaders = 256;

ClientConn* conn_of(llhttp_t* p) {
  return static_cast<ClientConn*>(p->data);
}

Error upstream_error(Errc code, std::string context, int uv_err = 0) {
  Error e = Error::make(code, Side::upstream, std::move(context));
  e.uv_errno = uv_err;
  return e;
}
}  // namespace

const llhttp_settings_t& ClientConn::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t x;
    llhttp_settings_init(&x);
    x.on_status = &ClientConn::on_status;
    x.on_header_field = &ClientConn::on_header_field;
    x.on_header_value = &ClientConn::on_header_value;
    x.on_header_value_complete = &ClientConn::on_header_value_complete;
    x.on_headers_complete = &ClientConn::on_headers_complete;
    x.on_body = &ClientConn::on_body;
    x.on_message_complete = &ClientConn::on_message_complete;
    return x;
  }();
  return s;
}

ClientConn::ClientConn(UpstreamPool& pool, const Origin& origin,
                       std::shared_ptr<net::TlsClientContext> tls)
    : pool_(pool),
      loop_(pool.loop()),
      origin_(origin),
      origin_key_(origin.key()),
      tls_ctx_(std::move(tls)),
      timer_(loop_.get()) {
  llhttp_init(&parser_, HTTP_RESPONSE, &settings());
  parser_.data = this;
}

ClientConn::~ClientConn() {
  if (addrs_ != nullptr) {
    uv_freeaddrinfo(addrs_);
  }
}

void ClientConn::arm(uint64_t ms, Errc code, const char* what) {
  timer_.start(ms, [this, code, what] { fail(upstream_error(code, what)); });
}

void ClientConn::send(std::string head, std::shared_ptr<const std::string> body, ResponseSink* sink,
                      const ClientTimeouts& t) {
  sink_ = sink;
  head_ = std::move(head);
  body_ = std::move(body);
  timeouts_ = t;
  response_started_ = false;
  message_done_ = false;
  status_ = 0;
  headers_.clear();
  ++requests_;
  if (state_ == State::idle) {
    state_ = State::busy;
    write_request();
    return;
  }
  state_ = State::resolving;
  arm(timeouts_.connect_ms, Errc::connect_timeout, "connect timed out");
  resolve();
}

// ---------------------------------------------------------------- dialing

void ClientConn::resolve() {
  gai_ = new uv_getaddrinfo_t;
  gai_->data = this;
  addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  std::string port = std::to_string(origin_.port);
  int rc = uv_getaddrinfo(loop_.get(), gai_, &ClientConn::on_resolved, origin_.host.c_str(),
                          port.c_str(), &hints);
  if (rc != 0) {
    delete gai_;
    gai_ = nullptr;
    fail(upstream_error(Errc::dns_failed, "cannot resolve " + origin_.host + ": " + uv_strerror(rc),
                        rc));
  }
}

void ClientConn::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* self = static_cast<ClientConn*>(req->data);
  delete req;
  if (self == nullptr) {
    // The connection was cancelled while resolving.
    uv_freeaddrinfo(res);
    return;
  }
  self->gai_ = nullptr;
  if (status != 0 || res == nullptr) {
    uv_freeaddrinfo(res);
    self->fail(upstream_error(Errc::dns_failed,
                              "cannot resolve " + self->origin_.host + ": " + uv_strerror(status),
                              status));
    return;
  }
  self->addrs_ = res;
  self->next_addr_ = res;
  self->state_ = State::connecting;
  self->connect_next();
}

void ClientConn::connect_next() {
  if (next_addr_ == nullptr) {
    fail(upstream_error(Errc::connect_failed,
                        "cannot connect to " + origin_.authority() + ": " + last_connect_error_));
    return;
  }
  addrinfo* a = next_addr_;
  next_addr_ = a->ai_next;
  dialing_ = new uv_tcp_t;
  uv_tcp_init(loop_.get(), dialing_);
  dialing_->data = nullptr;
  auto* req = new uv_connect_t;
  req->data = this;
  int rc = uv_tcp_connect(req, dialing_, a->ai_addr, &ClientConn::on_connected);
  if (rc != 0) {
    delete req;
    uv::close_and_delete(dialing_);
    dialing_ = nullptr;
    last_connect_error_ = uv_strerror(rc);
    connect_next();
  }
}

void ClientConn::on_connected(uv_connect_t* req, int status) {
  auto* self = static_cast<ClientConn*>(req->data);
  delete req;
  if (self == nullptr || status == UV_ECANCELED) {
    return;
  }
  uv_tcp_t* tcp = self->dialing_;
  self->dialing_ = nullptr;
  if (status != 0) {
    uv::close_and_delete(tcp);
    self->last_connect_error_ = uv_strerror(status);
    self->connect_next();
    return;
  }
  uv_tcp_nodelay(tcp, 1);
  std::unique_ptr<net::TlsSession> tls;
  if (self->origin_.tls) {
    tls = net::TlsSession::client(self->tls_ctx_, self->origin_.host, self->origin_.port,
                                  self->pool_.session_cache());
    self->state_ = State::handshaking;
  }
  self->pool_.opened_++;
  self->stream_ = std::make_unique<net::Stream>(tcp, self, std::move(tls));
  self->stream_->start();  // plain: on_stream_ready at once; TLS: after the handshake
}

void ClientConn::on_stream_ready() {
  if (state_ != State::handshaking && state_ != State::connecting) {
    return;
  }
  state_ = State::busy;
  write_request();
}

// ---------------------------------------------------------------- exchange

void ClientConn::write_request() {
  llhttp_init(&parser_, HTTP_RESPONSE, &settings());
  parser_.data = this;
  collector_.reset(&headers_);
  arm(timeouts_.response_ms, Errc::read_timeout, "no response headers within upstream_timeout");
  // Queued, not sent: head and body leave in one writev after this callback returns.
  stream_->write(std::move(head_));
  head_.clear();
  stream_->write_shared(std::move(body_));
  body_.reset();
  if (paused_) {
    stream_->pause_reading();
  } else {
    stream_->resume_reading();
  }
}

void ClientConn::pause() {
  paused_ = true;
  if (stream_) {
    stream_->pause_reading();
  }
  // A slow client is not a stalled upstream: the stream-idle clock stops while paused.
  if (state_ == State::busy && status_ != 0) {
    timer_.stop();
  }
}

void ClientConn::resume() {
  paused_ = false;
  if (stream_) {
    stream_->resume_reading();
  }
  if (state_ == State::busy && status_ != 0 && !timer_.active()) {
    arm(timeouts_.idle_ms, Errc::read_timeout, "upstream stalled mid-response");
  }
}

void ClientConn::cancel() {
  sink_ = nullptr;
  destroy();
}

void ClientConn::on_stream_data(const char* data, size_t n) {
  if (state_ == State::idle) {
    // A server must not send anything unasked; the connection is unusable.
    destroy();
    return;
  }
  if (state_ != State::busy) {
    return;
  }
  response_started_ = true;
  llhttp_errno_t err = llhttp_execute(&parser_, data, n);
  if (state_ == State::dead) {
    return;
  }
  if (err == HPE_PAUSED) {
    // on_message_complete paused: anything after the response is a protocol violation.
    size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    if (used < n) {
      LOG_DEBUG("upstream.extra_bytes").kv("origin", origin_key_).kv("bytes", n - used);
      message_done_ = true;
      state_ = State::dead;  // not reusable
    }
    finish_response();
    return;
  }
  if (err != HPE_OK) {
    const char* reason = llhttp_get_error_reason(&parser_);
    fail(upstream_error(
        Errc::bad_upstream_response,
        std::string("malformed response: ") + (reason ? reason : llhttp_errno_name(err))));
  }
}

void ClientConn::on_stream_eof() {
  if (state_ == State::busy) {
    // A close-delimited body ends here; anything else is a cut.
    if (response_started_ && llhttp_message_needs_eof(&parser_) != 0) {
      llhttp_finish(&parser_);  // runs on_message_complete for a close-delimited body
    }
    if (message_done_) {
      state_ = State::dead;
      finish_response();
      return;
    }
    fail(upstream_error(Errc::upstream_reset,
                        response_started_ ? "upstream closed the connection mid-response"
                                          : "upstream closed the connection before answering"));
    return;
  }
  destroy();
}

void ClientConn::on_stream_error(const Error& err) {
  Error e = err;
  e.side = Side::upstream;
  if (state_ == State::handshaking) {
    e.code = Errc::tls_failed;
  }
  fail(std::move(e));
}

void ClientConn::fail(Error err) {
  if (state_ == State::dead && sink_ == nullptr) {
    return;
  }
  ResponseSink* sink = sink_;
  bool started = response_started_;
  bool stale = requests_ > 1 && !response_started_ && state_ == State::busy &&
               (err.code == Errc::upstream_reset);
  sink_ = nullptr;
  destroy();
  if (sink != nullptr) {
    sink->on_response_error(err, started, stale);
  }
}

void ClientConn::finish_response() {
  timer_.stop();
  ResponseSink* sink = sink_;
  sink_ = nullptr;
  bool reusable = state_ == State::busy && llhttp_should_keep_alive(&parser_) != 0;
  if (reusable) {
    state_ = State::idle;
    paused_ = false;
    stream_->resume_reading();  // notice a server-side close while idle
    pool_.put_idle(this);
  } else {
    destroy();
  }
  if (sink != nullptr) {
    sink->on_response_end();
  }
}

void ClientConn::destroy() {
  if (destroyed_) {
    return;
  }
  destroyed_ = true;
  bool was_idle = state_ == State::idle;
  state_ = State::dead;
  sink_ = nullptr;
  timer_.stop();
  if (gai_ != nullptr) {
    gai_->data = nullptr;  // on_resolved frees the request
    uv_cancel(reinterpret_cast<uv_req_t*>(gai_));
    gai_ = nullptr;
  }
  if (dialing_ != nullptr) {
    uv::close_and_delete(dialing_);  // the pending connect callback gets UV_ECANCELED
    dialing_ = nullptr;
  }
  if (stream_) {
    // An idle connection ends politely; one with a request in flight is cut, so the
    // upstream stops working on an answer nobody will read.
    // The Stream object itself lives until the deferred delete: destroy() may run inside
    // one of its callbacks.
    if (was_idle) {
      stream_->close();
    } else {
      stream_->reset();
    }
  }
  pool_.forget(this);
  loop_.defer_delete(this);
}

// ---------------------------------------------------------------- llhttp callbacks

int ClientConn::on_status(llhttp_t* p, const char*, size_t) {
  conn_of(p)->status_ = p->status_code;
  return 0;
}

int ClientConn::on_header_field(llhttp_t* p, const char* at, size_t n) {
  ClientConn* c = conn_of(p);
  c->collector_.field(at, n);
  return c->collector_.field_size() > kMaxHeaderBytes ? HPE_USER : 0;
}

int ClientConn::on_header_value(llhttp_t* p, const char* at, size_t n) {
  ClientConn* c = conn_of(p);
  if (!c->collector_.value(at, n)) {
    return HPE_USER;
  }
  bool too_big =
      c->headers_.list().back().value.size() > kMaxHeaderBytes || c->headers_.size() > kMaxHeaders;
  return too_big ? HPE_USER : 0;
}

int ClientConn::on_header_value_complete(llhttp_t* p) {
  return conn_of(p)->collector_.value_complete() ? 0 : HPE_USER;
}

int ClientConn::on_headers_complete(llhttp_t* p) {
  ClientConn* c = conn_of(p);
  c->status_ = p->status_code;
  if (c->status_ < 100 || c->status_ > 599) {
    // RFC 9110 §15: not a status code; never handed on as one.
    llhttp_set_error_reason(p, "invalid status code");
    return HPE_USER;
  }
  if (c->status_ >= 100 && c->status_ < 200) {
    // Interim responses (100 Continue) are not forwarded; wait for the final one. A 1xx
    // response ends at its headers (RFC 9110 §15.2): 1 tells llhttp it has no body.
    c->headers_.clear();
    c->collector_.reset(&c->headers_);
    return 1;
  }
  c->arm(c->timeouts_.idle_ms, Errc::read_timeout, "upstream stalled mid-response");
  if (c->sink_ != nullptr) {
    c->sink_->on_response_head(c->status_, std::move(c->headers_));
    c->headers_.clear();
  }
  return c->state_ == State::dead ? HPE_USER : 0;
}

int ClientConn::on_body(llhttp_t* p, const char* at, size_t n) {
  ClientConn* c = conn_of(p);
  if (!c->paused_) {
    c->arm(c->timeouts_.idle_ms, Errc::read_timeout, "upstream stalled mid-response");
  }
  if (c->sink_ != nullptr) {
    c->sink_->on_response_body(at, n);
  }
  return c->state_ == State::dead ? HPE_USER : 0;
}

int ClientConn::on_message_complete(llhttp_t* p) {
  ClientConn* c = conn_of(p);
  if (c->status_ >= 100 && c->status_ < 200) {
    return 0;
  }
  c->message_done_ = true;
  return HPE_PAUSED;
}

}  // namespace gb::http
