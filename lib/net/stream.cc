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

void delete_tcp(uv_handle_t* h) {
  delete reinterpret_cast<uv_tcp_t*>(h);
}
void delete_timer(uv_handle_t* h) {
  delete reinterpret_cast<uv_timer_t*>(h);
}

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

void on_close_timeout(uv_timer_t* t) {
  finish_close(static_cast<Closer*>(t->data));
}

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
  std::vector<Chunk> chunks;
  size_t bytes = 0;
};

Stream::Stream(uv_tcp_t* tcp, StreamOwner* owner, std::unique_ptr<TlsSession> tls)
    : tcp_(tcp), loop_(uv::Loop::from(tcp->loop)), owner_(owner), tls_(std::move(tls)) {
  tcp_->data = this;
}

Stream::~Stream() {
  owner_ = nullptr;
  if (flush_scheduled_) {
    loop_.cancel_flush(this);
  }
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
    } else {
      self->report_eof();
    }
    return;
  }
  Error e = Error::make(Errc::upstream_reset, Side::upstream,
                        std::string("connection failed: ") + uv_strerror(static_cast<int>(nread)));
  e.uv_errno = static_cast<int>(nread);
  self->fail(std::move(e));
}

void Stream::report_eof() {
  if (eof_reported_ || owner_ == nullptr) {
    return;
  }
  eof_reported_ = true;
  owner_->on_stream_eof();
}

void Stream::handle_ciphertext(const char* data, size_t n) {
  if (n > 0) {
    tls_->feed(data, n);
  }
  if (!ready_) {
    auto st = tls_->handshake();
    take_tls_output();
    if (st == TlsSession::Status::failed) {
      fail(tls_->error());
      return;
    }
    if (st == TlsSession::Status::want) {
      return;
    }
    ready_ = true;
    update_read_state();
    if (!pending_.empty()) {
      schedule();  // plaintext written before the handshake finished
    }
    if (owner_ != nullptr) {
      owner_->on_stream_ready();
    }
    if (tcp_ == nullptr || failed_) {
      return;
    }
  }
  tls_plain_.clear();
  auto st = tls_->read(tls_plain_);
  take_tls_output();  // a read can produce output (alerts)
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
  } else if (st == TlsSession::Status::done) {
    // close_notify (or EOF): nothing more will come.
    eof_seen_ = true;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
    report_eof();
  }
}

void Stream::handle_tls_eof() {
  tls_->feed_eof();
  if (!ready_) {
    fail(Error::make(Errc::tls_failed, Side::upstream, "connection closed during TLS handshake"));
    return;
  }
  handle_ciphertext(nullptr, 0);
  if (tcp_ != nullptr && !failed_) {
    report_eof();
  }
}

void Stream::take_tls_output() {
  if (tls_->has_output()) {
    raw_pending_.emplace_back(tls_->take_output());
    schedule();
  }
}

bool Stream::write(std::string data) {
  if (data.empty()) {
    return tcp_ != nullptr && !failed_;
  }
  return enqueue(Chunk(std::move(data)));
}

bool Stream::write_shared(std::shared_ptr<const std::string> data) {
  if (!data || data->empty()) {
    return tcp_ != nullptr && !failed_;
  }
  return enqueue(Chunk(std::move(data)));
}

bool Stream::enqueue(Chunk c) {
  if (tcp_ == nullptr || failed_) {
    return false;
  }
  pending_bytes_ += c.view().size();
  pending_.push_back(std::move(c));
  schedule();
  return true;
}

void Stream::schedule() {
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    loop_.schedule_flush(this);
  }
}

void Stream::flush() {
  flush_scheduled_ = false;
  if (tcp_ == nullptr || failed_) {
    drop_queued();
    return;
  }
  bool was_above = write_queue_size() > drain_mark_;
  int rc = send_pending();
  if (rc != 0) {
    Error e = Error::make(Errc::upstream_reset, Side::upstream,
                          std::string("write failed: ") + uv_strerror(rc));
    e.uv_errno = rc;
    fail(std::move(e));
    return;
  }
  // The kernel may take everything at once: then no write callback will say so.
  if (was_above && write_queue_size() <= drain_mark_ && owner_ != nullptr) {
    owner_->on_stream_drained();
  }
}

int Stream::send_pending() {
  if (!raw_pending_.empty()) {
    std::vector<Chunk> raw;
    raw.swap(raw_pending_);
    if (int rc = send_chunks(std::move(raw))) {
      return rc;
    }
  }
  if (pending_.empty() || (tls_ && !ready_)) {
    return 0;
  }
  std::vector<Chunk> plain;
  plain.swap(pending_);
  pending_bytes_ = 0;
  if (!tls_) {
    return send_chunks(std::move(plain));
  }
  for (const Chunk& c : plain) {
    std::string_view v = c.view();
    if (tls_->write(v.data(), v.size()) == TlsSession::Status::failed) {
      return UV_EPROTO;
    }
  }
  std::vector<Chunk> records;
  records.emplace_back(tls_->take_output());
  return send_chunks(std::move(records));
}

int Stream::send_chunks(std::vector<Chunk> chunks) {
  auto* s = reinterpret_cast<uv_stream_t*>(tcp_);
  std::vector<uv_buf_t> bufs;
  bufs.reserve(chunks.size());
  size_t total = 0;
  for (const Chunk& c : chunks) {
    std::string_view v = c.view();
    bufs.push_back(uv_buf_init(const_cast<char*>(v.data()), static_cast<unsigned>(v.size())));
    total += v.size();
  }
  size_t skip = 0;  // bytes the kernel took at once
  if (queued_ == 0) {
    int n = uv_try_write(s, bufs.data(), static_cast<unsigned>(bufs.size()));
    if (n > 0) {
      sent_ += static_cast<uint64_t>(n);
    }
    if (n == static_cast<int>(total)) {
      return 0;
    }
    if (n < 0 && n != UV_EAGAIN && n != UV_ENOSYS) {
      return n;
    }
    skip = n > 0 ? static_cast<size_t>(n) : 0;
  }
  // The rest goes through a write request that keeps the chunks alive until it completes.
  auto* w = new WriteReq;
  w->chunks = std::move(chunks);
  w->req.data = w;
  w->bytes = total - skip;
  std::vector<uv_buf_t> rest;
  for (const Chunk& c : w->chunks) {
    std::string_view v = c.view();
    if (skip >= v.size()) {
      skip -= v.size();
      continue;
    }
    rest.push_back(
        uv_buf_init(const_cast<char*>(v.data() + skip), static_cast<unsigned>(v.size() - skip)));
    skip = 0;
  }
  int rc =
      uv_write(&w->req, s, rest.data(), static_cast<unsigned>(rest.size()), &Stream::on_written);
  if (rc != 0) {
    delete w;
    return rc;
  }
  queued_ += w->bytes;
  return 0;
}

void Stream::on_written(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  size_t len = w->bytes;
  auto* self = static_cast<Stream*>(req->handle->data);
  delete w;
  if (self == nullptr || status == UV_ECANCELED) {
    return;  // the stream is closing: touch nothing else
  }
  bool was_above = self->write_queue_size() > self->drain_mark_;
  self->queued_ -= len;
  self->sent_ += len;
  if (status < 0) {
    Error e = Error::make(Errc::upstream_reset, Side::upstream,
                          std::string("write failed: ") + uv_strerror(status));
    e.uv_errno = status;
    self->fail(std::move(e));
    return;
  }
  if (was_above && self->write_queue_size() <= self->drain_mark_ && self->owner_ != nullptr) {
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
  if (flush_scheduled_) {
    loop_.cancel_flush(this);
    flush_scheduled_ = false;
  }
  uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
  // What the owner queued goes out before the FIN (a 413 answer, the end of a response).
  bool ok = !failed_ && send_pending() == 0;
  if (ok && tls_ && ready_) {
    tls_->close_notify();
    take_tls_output();
    loop_.cancel_flush(this);
    flush_scheduled_ = false;
    ok = send_pending() == 0;
  }
  drop_queued();
  uv_tcp_t* tcp = tcp_;
  tcp_ = nullptr;
  tcp->data = nullptr;
  if (!ok) {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), delete_tcp);
    return;
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

void Stream::drop_queued() {
  if (flush_scheduled_) {
    loop_.cancel_flush(this);
    flush_scheduled_ = false;
  }
  pending_.clear();
  raw_pending_.clear();
  pending_bytes_ = 0;
}

void Stream::reset() {
  if (tcp_ == nullptr) {
    return;
  }
  owner_ = nullptr;
  drop_queued();
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
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    uv_ip6_name(a, host, sizeof host);
    return std::string("[") + host + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  uv_ip4_name(a, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
}

}  // namespace gb::net
