#include "http/server_conn.h"

#include "base/log.h"
#include "http/server.h"
#include "http/status.h"
#include "net/tls.h"

namespace gb::http {

namespace {
constexpr uint64_t kMaxChunkExtBytes = 4096;
// Unparsed input kept while a request is being answered; past this we stop reading.
constexpr size_t kMaxPipelined = 256 << 10;

ServerConn* conn_of(llhttp_t* p) {
  return static_cast<ServerConn*>(p->data);
}

// RFC 9112 §3.2.2: a server must accept the absolute form ("http://host/path?q") and
// route on its path and query.
void strip_absolute_form(std::string& target) {
  std::string_view t = target;
  size_t scheme = t.find("://");
  if (t.empty() || t[0] == '/' || scheme == std::string_view::npos) {
    return;
  }
  size_t path = t.find_first_of("/?", scheme + 3);
  if (path == std::string_view::npos) {
    target = "/";
  } else if (t[path] == '?') {
    target = "/" + std::string(t.substr(path));
  } else {
    target.erase(0, path);
  }
}

}  // namespace

// ---------------------------------------------------------------- Exchange

void Exchange::respond(int status, Headers headers, std::string_view body) {
  begin(status, headers, static_cast<int64_t>(body.size()));
  write(body);
  end();
}

void Exchange::begin(int status, const Headers& headers, int64_t content_length) {
  if (begun_ || ended_) {
    return;
  }
  begun_ = true;
  ServerConn* c = conn_;
  bool head = req_.method == "HEAD";
  bool no_body = head || status == 204 || status == 304 || (status >= 100 && status < 200);
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += status_reason(status);
  out += "\r\n";
  for (const auto& h : headers.list()) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  if (content_length >= 0) {
    if (!(status == 204 || status == 304)) {
      out += "Content-Length: ";
      out += std::to_string(content_length);
      out += "\r\n";
    }
  } else if (!no_body) {
    if (req_.http_minor >= 1) {
      chunked_ = true;
      out += "Transfer-Encoding: chunked\r\n";
    } else {
      c->closing_ = true;  // HTTP/1.0: the end of the body is the end of the connection
    }
  }
  if (c->closing_ || !req_.keep_alive) {
    c->closing_ = true;
    out += "Connection: close\r\n";
  } else if (req_.http_minor == 0) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  c->write_raw(std::move(out));
}

void Exchange::write(std::string_view data) {
  if (!begun_ || ended_ || data.empty() || req_.method == "HEAD") {
    return;
  }
  if (!chunked_) {
    conn_->write_raw(std::string(data));
    return;
  }
  char size_line[24];
  int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  std::string out;
  out.reserve(static_cast<size_t>(n) + data.size() + 2);
  out.append(size_line, static_cast<size_t>(n));
  out.append(data);
  out += "\r\n";
  conn_->write_raw(std::move(out));
}

void Exchange::end() {
  if (!begun_ || ended_) {
    return;
  }
  if (chunked_ && req_.method != "HEAD") {
    conn_->write_raw("0\r\n\r\n");
  }
  ended_ = true;
  conn_->finish_exchange();
}

void Exchange::abort() {
  ended_ = true;
  on_abort = nullptr;
  on_drain = nullptr;
  // What was written so far still goes out, then a FIN without the body's end: the
  // client sees a cut answer. (A reset would let the kernel drop bytes written in this
  // loop iteration that have not left yet — the status line among them.)
  conn_->stream_->close();
  conn_->destroy();
}

size_t Exchange::queued() const {
  return conn_->stream_->write_queue_size();
}

bool Exchange::over_high_water() const {
  return queued() > conn_->limits_.high_water;
}

std::string Exchange::peer() const {
  return conn_->stream_->peer_address();
}

// ---------------------------------------------------------------- ServerConn

const llhttp_settings_t& ServerConn::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t x;
    llhttp_settings_init(&x);
    x.on_message_begin = &ServerConn::on_message_begin;
    x.on_url = &ServerConn::on_url;
    x.on_header_field = &ServerConn::on_header_field;
    x.on_header_value = &ServerConn::on_header_value;
    x.on_header_value_complete = &ServerConn::on_header_value_complete;
    x.on_headers_complete = &ServerConn::on_headers_complete;
    x.on_body = &ServerConn::on_body;
    x.on_chunk_extension_name = &ServerConn::on_chunk_extension;
    x.on_chunk_extension_value = &ServerConn::on_chunk_extension;
    x.on_message_complete = &ServerConn::on_message_complete;
    return x;
  }();
  return s;
}

ServerConn::ServerConn(HttpServer& server, uv_tcp_t* tcp, std::unique_ptr<net::TlsSession> tls)
    : server_(&server),
      stats_(server.options().stats),
      loop_(server.loop()),
      stream_(std::make_unique<net::Stream>(tcp, this, std::move(tls))),
      opts_(server.options()),
      limits_(opts_.limits),
      timer_(loop_.get()) {
  server_->add(this);
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
  stream_->set_drain_mark(limits_.high_water / 2);
  if (stats_ != nullptr) {
    stats_->open.fetch_add(1, std::memory_order_relaxed);
  }
}

ServerConn::~ServerConn() {
  if (server_ != nullptr) {
    server_->remove(this);
  }
  if (stats_ != nullptr) {
    stats_->open.fetch_sub(1, std::memory_order_relaxed);
  }
}

void ServerConn::start() {
  stream_->start();
  // The first request must arrive within the header timeout.
  timer_is_header_ = true;
  timer_.start(limits_.header_timeout_ms, [this] { reject(408, "request header timeout"); });
}

void ServerConn::close_when_idle() {
  closing_ = true;
  if (!dispatched_ && header_bytes_ == 0 && !dead_) {
    stream_->close();
    destroy();
  }
}

void ServerConn::terminate() {
  on_stream_eof();
}

void ServerConn::destroy() {
  if (dead_) {
    return;
  }
  dead_ = true;
  timer_.stop();
  stream_->reset();
  loop_.defer_delete(this);
}

void ServerConn::arm_idle() {
  timer_is_header_ = false;
  timer_.start(limits_.idle_timeout_ms, [this] {
    // Idle keep-alive connection: close quietly, as every HTTP server does.
    stream_->close();
    destroy();
  });
}

void ServerConn::on_stream_data(const char* data, size_t n) {
  if (dead_) {
    return;
  }
  inbuf_.append(data, n);
  if (dispatched_) {
    if (inbuf_.size() - inbuf_off_ > kMaxPipelined) {
      stream_->pause_reading();
    }
    return;
  }
  parse();
}

void ServerConn::on_stream_eof() {
  if (dispatched_ && ex_) {
    // The client went away while we were answering: tell the handler, then drop it all.
    auto cb = std::move(ex_->on_abort);
    ex_->on_abort = nullptr;
    ex_->on_drain = nullptr;
    destroy();
    if (cb) {
      cb();
    }
    return;
  }
  stream_->close();
  destroy();
}

void ServerConn::on_stream_error(const Error& err) {
  LOG_DEBUG("client.error").kv("err", err.name()).kv("detail", err.context);
  on_stream_eof();
}

void ServerConn::on_stream_drained() {
  if (dispatched_ && ex_ && ex_->on_drain) {
    auto cb = ex_->on_drain;  // the callback may end the exchange
    cb();
  }
}

void ServerConn::parse() {
  // Re-entered when a handler answers synchronously: the outer loop goes on by itself.
  if (in_parse_) {
    return;
  }
  in_parse_ = true;
  parse_loop();
  in_parse_ = false;
}

void ServerConn::parse_loop() {
  while (!dead_ && !dispatched_ && inbuf_off_ < inbuf_.size()) {
    const char* begin = inbuf_.data() + inbuf_off_;
    size_t len = inbuf_.size() - inbuf_off_;
    exec_begin_ = begin;
    exec_end_ = begin + len;
    if (!timer_is_header_ && header_bytes_ == 0) {
      // First byte of a new request: the header timeout starts now.
      timer_is_header_ = true;
      timer_.start(limits_.header_timeout_ms, [this] { reject(408, "request header timeout"); });
    }
    llhttp_errno_t err = llhttp_execute(&parser_, begin, len);
    prev_exec_end_ = exec_end_;
    if (dead_) {
      return;
    }
    if (err == HPE_OK) {
      inbuf_.clear();
      inbuf_off_ = 0;
      return;
    }
    if (err == HPE_PAUSED_UPGRADE) {
      // Only reached after an upgrade request was answered (closing_ was set): nothing
      // after it is read.
      stream_->close();
      destroy();
      return;
    }
    if (err == HPE_PAUSED) {
      const char* pos = llhttp_get_error_pos(&parser_);
      inbuf_off_ += static_cast<size_t>(pos - begin);
      dispatch();
      continue;
    }
    if (err == HPE_USER) {
      return;  // a callback already answered (413, 431, 400) and closed
    }
    reject(400, llhttp_get_error_reason(&parser_) ? llhttp_get_error_reason(&parser_)
                                                  : llhttp_errno_name(err));
    return;
  }
  if (inbuf_off_ >= inbuf_.size()) {
    inbuf_.clear();
    inbuf_off_ = 0;
  }
}

bool ServerConn::count_header_bytes(size_t n) {
  header_bytes_ += n;
  if (header_bytes_ > limits_.max_header) {
    reject(431, "request headers are larger than max_header");
    return false;
  }
  return true;
}

int ServerConn::on_message_begin(llhttp_t* p) {
  ServerConn* c = conn_of(p);
  c->ex_.reset(new Exchange(c));
  c->header_bytes_ = 0;
  c->chunk_ext_bytes_ = 0;
  c->collector_.reset(&c->ex_->req_.headers);
  c->prev_value_end_ = nullptr;
  c->headers_done_ = false;
  c->request_begun_ = true;
  return 0;
}

int ServerConn::on_url(llhttp_t* p, const char* at, size_t n) {
  ServerConn* c = conn_of(p);
  if (!c->count_header_bytes(n)) {
    return HPE_USER;
  }
  c->ex_->req_.target.append(at, n);
  return 0;
}

int ServerConn::on_header_field(llhttp_t* p, const char* at, size_t n) {
  ServerConn* c = conn_of(p);
  if (!c->count_header_bytes(n)) {
    return HPE_USER;
  }
  if (!c->headers_done_) {  // a trailer field is counted, never merged into the headers
    c->collector_.field(at, n);
  }
  return 0;
}

int ServerConn::on_header_value(llhttp_t* p, const char* at, size_t n) {
  ServerConn* c = conn_of(p);
  if (!c->count_header_bytes(n + 4)) {
    return HPE_USER;
  }
  if (c->headers_done_) {
    return 0;
  }
  if (c->collector_.in_value() &&
      !(c->prev_value_end_ == c->prev_exec_end_ && at == c->exec_begin_)) {
    // A second span of one value inside one buffer is a folded line (obs-fold), which
    // RFC 9112 §5.2 lets a server reject; proxies that unfold it differently smuggle.
    c->reject(400, "obsolete line folding in header value");
    return HPE_USER;
  }
  if (!c->collector_.value(at, n)) {
    c->reject(400, "empty header name");
    return HPE_USER;
  }
  c->prev_value_end_ = at + n;
  return 0;
}

int ServerConn::on_header_value_complete(llhttp_t* p) {
  ServerConn* c = conn_of(p);
  if (!c->headers_done_ && !c->collector_.value_complete()) {
    c->reject(400, "empty header name");
    return HPE_USER;
  }
  return 0;
}

int ServerConn::on_headers_complete(llhttp_t* p) {
  ServerConn* c = conn_of(p);
  c->headers_done_ = true;
  Request& r = c->ex_->req_;
  if (p->upgrade != 0) {
    // gbd never switches protocols (no h2c, no websockets): answer as HTTP/1.1 and close,
    // since the parser cannot go on after an upgrade request.
    c->closing_ = true;
  }
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  r.http_minor = p->http_minor;
  r.keep_alive = llhttp_should_keep_alive(p) != 0;
  if (c->collector_.name_pending()) {
    c->reject(400, "header without a value");
    return HPE_USER;
  }
  if (p->http_major != 1) {
    c->reject(505, "only HTTP/1.0 and HTTP/1.1 are supported");
    return HPE_USER;
  }
  strip_absolute_form(r.target);
  if (p->method == HTTP_CONNECT) {
    c->reject(405, "CONNECT is not supported");
    return HPE_USER;
  }
  if (r.http_minor >= 1 && !r.headers.has("host")) {
    c->reject(400, "missing Host header");
    return HPE_USER;
  }
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->limits_.max_body) {
    c->reject(413, "request body is larger than max_body");
    return HPE_USER;
  }
  if (r.http_minor >= 1 && r.headers.has("expect")) {
    if (!r.headers.has_token("expect", "100-continue")) {
      c->reject(417, "only Expect: 100-continue is supported");
      return HPE_USER;
    }
    if ((p->flags & F_CHUNKED) || p->content_length > 0) {
      c->write_raw("HTTP/1.1 100 Continue\r\n\r\n");
    }
  }
  // Headers are in: the header timeout no longer applies; the body arrives under the
  // idle timeout (a client that stalls mid-body is cut).
  c->arm_idle();
  return 0;
}

int ServerConn::on_body(llhttp_t* p, const char* at, size_t n) {
  ServerConn* c = conn_of(p);
  std::string& body = c->ex_->req_.body;
  if (body.size() + n > c->limits_.max_body) {
    c->reject(413, "request body is larger than max_body");
    return HPE_USER;
  }
  body.append(at, n);
  // A body that keeps arriving is not idle: the idle timeout bounds pauses, not uploads.
  c->arm_idle();
  return 0;
}

int ServerConn::on_chunk_extension(llhttp_t* p, const char*, size_t n) {
  ServerConn* c = conn_of(p);
  c->chunk_ext_bytes_ += n;
  if (c->chunk_ext_bytes_ > kMaxChunkExtBytes) {
    c->reject(400, "chunk extensions too long");
    return HPE_USER;
  }
  return 0;
}

int ServerConn::on_message_complete(llhttp_t* p) {
  (void)p;
  return HPE_PAUSED;  // answer this request before parsing the next one
}

void ServerConn::dispatch() {
  timer_.stop();
  timer_is_header_ = false;
  dispatched_ = true;
  header_bytes_ = 0;
  request_begun_ = false;
  opts_.handler(*ex_);
}

void ServerConn::finish_exchange() {
  ex_.reset();
  send_timer_ = false;
  dispatched_ = false;
  if (dead_) {
    return;
  }
  if (closing_) {
    stream_->close();
    destroy();
    return;
  }
  llhttp_resume(&parser_);
  stream_->resume_reading();
  arm_idle();
  parse();
}

void ServerConn::reject(int status, std::string_view message) {
  if (dead_) {
    return;
  }
  if (dispatched_ || (ex_ && ex_->begun_)) {
    // A response is already under way: all we can do is cut the connection.
    auto cb = ex_ ? std::move(ex_->on_abort) : nullptr;
    destroy();
    if (cb) {
      cb();
    }
    return;
  }
  closing_ = true;
  std::string target = ex_ ? ex_->req_.target : std::string();
  if (status == 408 && !request_begun_) {
    // Nothing of a request arrived: an idle connection, closed without a word.
    timer_.stop();
    stream_->close();
    destroy();
    return;
  }
  LOG_DEBUG("client.reject").kv("status", status).kv("reason", message);
  if (opts_.on_reject) {
    opts_.on_reject(stream_->peer_address(), target, status, message);
  }
  std::string content_type = "application/json; charset=UTF-8";
  std::string body = opts_.format_error ? opts_.format_error(target, status, message, &content_type)
                                        : default_error_body(status, message);
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + status_reason(status) +
                    "\r\nContent-Type: " + content_type +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body;
  write_raw(std::move(out));
  timer_.stop();
  stream_->close();
  destroy();
}

void ServerConn::write_raw(std::string data) {
  stream_->write(std::move(data));
  watch_send();
}

// A client that stops reading a response must not hold its session, key lease and
// upstream connection forever: while the output is above the high-water mark the idle
// send timeout runs (nginx's send_timeout), and on expiry the client is gone.
void ServerConn::watch_send() {
  if (send_timer_ || !dispatched_ || stream_->write_queue_size() <= limits_.high_water) {
    return;
  }
  arm_send_timer();
}

void ServerConn::arm_send_timer() {
  send_timer_ = true;
  uint64_t sent = stream_->bytes_sent();
  timer_.start(limits_.send_timeout_ms, [this, sent] {
    send_timer_ = false;
    if (stream_->write_queue_size() == 0) {
      return;  // everything went out; the next large write watches again
    }
    if (stream_->bytes_sent() != sent) {
      arm_send_timer();  // slow but reading: another period
      return;
    }
    LOG_INFO("client.send_timeout").kv("peer", stream_->peer_address());
    on_stream_eof();
  });
}

}  // namespace gb::http
