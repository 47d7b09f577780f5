#include "net/stream.h"

#include "net/tls.h"

namespace gb::net {

namespace {

// Reads land in one per-thread buffer: data is consumed synchronously in on_read, so a
// connection holds no read buffer of its own while idle.
constexpr size_t kReadBufSize = 64 * 1024;
thread_local char t_read_buf[kReadBufSize];

// A graceful close: queued bytes go out (up to kFlushMs), then FIN, then whatever the peer
// still sends is read and dropped for up to kLingerMs before the socket is closed. Closing
// with unread input would make the kernel send RST, and a client still uploading a body
// would lose our 413 answer with it (nginx's lingering_close).
constexpr uint64_t kFlushMs = 5000;
constexpr uint64_t kLingerMs = 2000;

struct Closer {
  uv_shutdown_t req;
  uv_tcp_t* tcp;
  uv_timer_t* timer;
  bool shutdown_pending = true;
  bool closed = false;
};

void delete_tcp(uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); }
void delete_timer(uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); }

void finish_close(Closer* c) {
  if (!c->closed) {
    c->closed = true;
    uv_close(reinterpret_cast<uv_handle_t*>(c->tcp), delete_tcp);
    uv_close(reinterpret_cast<uv_handle_t*>(c->timer), delete_timer);
  }
  // A pending shutdown request still points at c: its callback frees it.
  if (!c->shutdown_pending) {
    delete c;
  }
}

void on_close_timeout(uv_timer_t* t) { finish_close(static_cast<Closer*>(t->data)); }

void on_discard_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = t_read_buf;
  buf->len = kReadBufSize;
}

void on_discard_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  if (nread < 0) {
    finish_close(static_cast<Closer*>(s->data));
  }
}

void on_shutdown(uv_shutdown_t* req, int status) {
  auto* c = static_cast<Closer*>(req->data);
  c->shutdown_pending = false;
  if (c->closed) {
    delete c;
    return;
  }
  if (status != 0) {
    finish_close(c);
    return;
  }
  c->tcp->data = c;
  uv_read_start(reinterpret_cast<uv_stream_t*>(c->tcp), on_discard_alloc, on_discard_read);
  uv_timer_start(c->timer, on_close_timeout, kLingerMs, 0);
}

}  // namespace

struct Stream::WriteReq {
  uv_write_t req;
  std::string data;
};

Stream::Stream(uv_tcp_t* tcp, StreamOwner* owner, std::unique_ptr<TlsSession> tls)
    : tcp_(tcp), owner_(owner), tls_(std::move(tls)) {
  tcp_->data = this;
}

Stream::~Stream() {
  owner_ = nullptr;
  if (tcp_ != nullptr) {
    reset();
  }
}

void Stream::start() {
  reading_ = true;
  update_read_state();
  if (!tls_) {
    ready_ = true;
    if (owner_ != nullptr) {
      owner_->on_stream_ready();
    }
    return;
  }
  // A client sends its ClientHello now; a server waits for one.
  handle_ciphertext(nullptr, 0);
}

void Stream::pause_reading() {
  reading_ = false;
  update_read_state();
}

void Stream::resume_reading() {
  reading_ = true;
  update_read_state();
}

void Stream::update_read_state() {
  if (tcp_ == nullptr || failed_) {
    return;
  }
  auto* s = reinterpret_cast<uv_stream_t*>(tcp_);
  // During a TLS handshake we must read whatever the owner wants.
  bool want = reading_ || (tls_ && !ready_);
  if (want && !eof_seen_) {
    uv_read_start(s, &Stream::on_alloc, &Stream::on_read);
  } else {
    uv_read_stop(s);
  }
}

void Stream::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = t_read_buf;
  buf->len = kReadBufSize;
}

void Stream::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Stream*>(s->data);
  if (self == nullptr) {
    return;
  }
  if (nread > 0) {
    if (self->tls_) {
      self->handle_ciphertext(buf->base, static_cast<size_t>(nread));
    } else if (self->owner_ != nullptr) {
      self->owner_->on_stream_data(buf->base, static_cast<size_t>(nread));
    }
    return;
  }
  if (nread == 0) {
    return;
  }
  if (nread == UV_EOF) {
    self->eof_seen_ = true;
    uv_read_stop(s);
    if (self->tls_) {
      self->handle_tls_eof();
    } else if (self->owner_ != nullptr) {
      self->owner_->on_stream_eof();
    }
    return;
  }
  Error e = Error::make(Errc::upstream_reset, Side::upstream,
                        std::string("connection failed: ") + uv_strerror(static_cast<int>(nread)));
  e.uv_errno = static_cast<int>(nread);
  self->fail(std::move(e));
}

void Stream::handle_ciphertext(const char* data, size_t n) {
  if (n > 0) {
    tls_->feed(data, n);
  }
  if (!ready_) {
    auto st = tls_->handshake();
    flush_tls();
    if (st == TlsSession::Status::failed) {
      fail(tls_->error());
      return;
    }
    if (st == TlsSession::Status::want) {
      return;
    }
    ready_ = true;
    update_read_state();
    if (owner_ != nullptr) {
      owner_->on_stream_ready();
    }
    if (tcp_ == nullptr || failed_) {
      return;
    }
  }
  tls_plain_.clear();
  auto st = tls_->read(tls_plain_);
  flush_tls();  // a read can produce output (alerts, renegotiation refusals)
  if (!tls_plain_.empty() && owner_ != nullptr) {
    std::string chunk;
    chunk.swap(tls_plain_);
    owner_->on_stream_data(chunk.data(), chunk.size());
    if (tcp_ == nullptr || failed_) {
      return;
    }
  }
  if (st == TlsSession::Status::failed) {
    fail(tls_->error());
  } else if (st == TlsSession::Status::done && owner_ != nullptr) {
    eof_seen_ = true;
    owner_->on_stream_eof();
  }
}

void Stream::handle_tls_eof() {
  tls_->feed_eof();
  if (!ready_) {
    fail(Error::make(Errc::tls_failed, Side::upstream, "connection closed during TLS handshake"));
    return;
  }
  handle_ciphertext(nullptr, 0);
  if (tcp_ != nullptr && !failed_ && owner_ != nullptr) {
    owner_->on_stream_eof();
  }
}

void Stream::flush_tls() {
  if (tls_ && tls_->has_output()) {
    raw_write(tls_->take_output());
  }
}

bool Stream::write(std::string data) {
  if (tcp_ == nullptr || failed_) {
    return false;
  }
  if (!tls_) {
    return raw_write(std::move(data));
  }
  if (tls_->write(data.data(), data.size()) == TlsSession::Status::failed) {
    fail(tls_->error());
    return false;
  }
  flush_tls();
  return true;
}

bool Stream::raw_write(std::string data) {
  if (data.empty()) {
    return true;
  }
  auto* s = reinterpret_cast<uv_stream_t*>(tcp_);
  // Fast path: most writes complete at once and need no request object.
  if (queued_ == 0) {
    uv_buf_t b = uv_buf_init(data.data(), static_cast<unsigned>(data.size()));
    int n = uv_try_write(s, &b, 1);
    if (n == static_cast<int>(data.size())) {
      return true;
    }
    if (n > 0) {
      data.erase(0, static_cast<size_t>(n));
    } else if (n != UV_EAGAIN && n != UV_ENOSYS) {
      Error e = Error::make(Errc::upstream_reset, Side::upstream,
                            std::string("write failed: ") + uv_strerror(n));
      e.uv_errno = n;
      fail(std::move(e));
      return false;
    }
  }
  auto* w = new WriteReq;
  w->data = std::move(data);
  w->req.data = w;
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, s, &b, 1, &Stream::on_written);
  if (rc != 0) {
    delete w;
    Error e = Error::make(Errc::upstream_reset, Side::upstream,
                          std::string("write failed: ") + uv_strerror(rc));
    e.uv_errno = rc;
    fail(std::move(e));
    return false;
  }
  queued_ += w->data.size();
  return true;
}

void Stream::on_written(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  size_t len = w->data.size();
  auto* self = static_cast<Stream*>(req->handle->data);
  delete w;
  if (self == nullptr || status == UV_ECANCELED) {
    return;  // the stream is closing: touch nothing else
  }
  bool was_above = self->queued_ > self->drain_mark_;
  self->queued_ -= len;
  if (status < 0) {
    Error e = Error::make(Errc::upstream_reset, Side::upstream,
                          std::string("write failed: ") + uv_strerror(status));
    e.uv_errno = status;
    self->fail(std::move(e));
    return;
  }
  if (was_above && self->queued_ <= self->drain_mark_ && self->owner_ != nullptr) {
    self->owner_->on_stream_drained();
  }
}

void Stream::fail(Error err) {
  if (failed_) {
    return;
  }
  failed_ = true;
  if (tcp_ != nullptr) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
  }
  if (owner_ != nullptr) {
    owner_->on_stream_error(err);
  }
}

void Stream::close() {
  if (tcp_ == nullptr) {
    return;
  }
  owner_ = nullptr;
  uv_tcp_t* tcp = tcp_;
  tcp_ = nullptr;
  tcp->data = nullptr;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp));
  if (failed_) {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), delete_tcp);
    return;
  }
  if (tls_ && ready_) {
    tls_->close_notify();
    if (tls_->has_output()) {
      std::string out = tls_->take_output();
      uv_buf_t b = uv_buf_init(out.data(), static_cast<unsigned>(out.size()));
      // Best effort: a close_notify that does not fit in the socket buffer is dropped.
      uv_try_write(reinterpret_cast<uv_stream_t*>(tcp), &b, 1);
    }
  }
  auto* c = new Closer;
  c->tcp = tcp;
  c->req.data = c;
  if (uv_shutdown(&c->req, reinterpret_cast<uv_stream_t*>(tcp), on_shutdown) != 0) {
    delete c;
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), delete_tcp);
    return;
  }
  c->timer = new uv_timer_t;
  uv_timer_init(tcp->loop, c->timer);
  c->timer->data = c;
  uv_timer_start(c->timer, on_close_timeout, kFlushMs, 0);
}

void Stream::reset() {
  if (tcp_ == nullptr) {
    return;
  }
  owner_ = nullptr;
  uv_tcp_t* tcp = tcp_;
  tcp_ = nullptr;
  tcp->data = nullptr;
  if (uv_tcp_close_reset(tcp, delete_tcp) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), delete_tcp);
  }
}

std::string Stream::peer_address() const {
  if (tcp_ == nullptr) {
    return "";
  }
  sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getpeername(tcp_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return "";
  }
  char host[64] = {0};
  int port = 0;
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    uv_ip6_name(a, host, sizeof host);
    port = ntohs(a->sin6_port);
    return std::string("[") + host + "]:" + std::to_string(port);
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  uv_ip4_name(a, host, sizeof host);
  port = ntohs(a->sin_port);
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace gb::net
