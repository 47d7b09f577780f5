// The client side of the llhttp glue (lib/http/client_conn) on arbitrary upstream bytes.
//
// Input: byte 0 picks where the rest is cut in two; the first part is sent as soon as
// the connection is accepted, the second once the request has arrived, then the
// upstream closes its sending side.
//
// Each input gets its own loop and UpstreamPool. The upstream is a loopback listener
// made once per process, accepted on the loop through a uv_poll_t. The ResponseSink
// checks the order of callbacks: at most one head, body only after it, exactly one of
// end and error, nothing after that. Afterwards every handle is gone and
// uv::Loop::close() returns 0; a safety timer aborts if the loop is still busy after
// kSafetyMs although the upstream has closed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "base/log.h"
#include "base/url.h"
#include "fuzz_check.h"
#include "http/client_conn.h"
#include "http/upstream_pool.h"
#include "uv/loop.h"

namespace {

constexpr uint64_t kSafetyMs = 3000;
constexpr size_t kMaxInput = 64 << 10;

int g_listen_fd = -1;
uint16_t g_port = 0;

void listen_once() {
  g_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(g_listen_fd >= 0);
  sockaddr_in a;
  std::memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FUZZ_CHECK(bind(g_listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  FUZZ_CHECK(listen(g_listen_fd, 64) == 0);
  socklen_t len = sizeof a;
  FUZZ_CHECK(getsockname(g_listen_fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  g_port = ntohs(a.sin_port);
}

class Sink : public gb::http::ResponseSink {
 public:
  void on_response_head(int status, gb::http::Headers headers) override {
    FUZZ_CHECK(!done_ && !head_);
    FUZZ_CHECK(status >= 200 && status <= 599);  // interim answers are not handed on
    head_ = true;
    status_ = status;
    headers_ = std::move(headers);
  }
  void on_response_body(const char*, size_t n) override {
    FUZZ_CHECK(!done_ && head_);
    body_bytes_ += n;
  }
  void on_response_end() override {
    FUZZ_CHECK(!done_ && head_);
    done_ = true;
    ended_ = true;
  }
  void on_response_error(const gb::Error& err, bool response_started, bool stale) override {
    FUZZ_CHECK(!done_);
    done_ = true;
    FUZZ_CHECK(!stale);  // a fresh connection's first request
    FUZZ_CHECK(!head_ || response_started);
    FUZZ_CHECK(err.side == gb::Side::upstream);
    // The upstream answered and closed: no timeout may be what ended it.
    FUZZ_CHECK(err.code == gb::Errc::upstream_reset || err.code == gb::Errc::bad_upstream_response);
  }

  // A response that ended cleanly carried exactly its Content-Length.
  void check_length() const {
    if (!ended_ || status_ == 204 || status_ == 304 || headers_.has("transfer-encoding")) {
      return;
    }
    const std::string* cl = nullptr;
    for (const auto& h : headers_.list()) {
      if (gb::http::iequals(h.name, "content-length")) {
        if (cl != nullptr) {
          return;  // several: llhttp decided; not this check's business
        }
        cl = &h.value;
      }
    }
    if (cl == nullptr || cl->empty() || cl->size() > 15 ||
        cl->find_first_not_of("0123456789") != std::string::npos) {
      return;
    }
    FUZZ_CHECK(body_bytes_ == std::stoull(*cl));
  }

  bool done() const { return done_; }

 private:
  bool head_ = false;
  bool done_ = false;
  bool ended_ = false;
  int status_ = 0;
  gb::http::Headers headers_;
  uint64_t body_bytes_ = 0;
};

// The upstream's side of one connection.
struct Upstream {
  std::string_view first, second;
  uv_poll_t* accept_poll = nullptr;
  uv_tcp_t* conn = nullptr;
  bool sent_second = false;
};

void send_raw(uv_tcp_t* tcp, std::string_view s) {
  uv_os_fd_t fd;
  uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd);
  while (!s.empty()) {
    ssize_t n = write(fd, s.data(), s.size());
    if (n <= 0) {
      return;  // the client is gone already
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
}

void on_upstream_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  delete[] buf->base;
  auto* up = static_cast<Upstream*>(s->data);
  if (nread > 0 && !up->sent_second) {
    // The request (or its start) is in: the rest of the answer, then end of answer.
    up->sent_second = true;
    send_raw(up->conn, up->second);
    uv_os_fd_t fd;
    uv_fileno(reinterpret_cast<uv_handle_t*>(up->conn), &fd);
    shutdown(fd, SHUT_WR);
    return;
  }
  if (nread < 0) {
    // The client closed or reset: close with RST, leaving no TIME_WAIT behind.
    uv_os_fd_t fd;
    uv_fileno(reinterpret_cast<uv_handle_t*>(up->conn), &fd);
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    gb::uv::close_and_delete(up->conn);
    up->conn = nullptr;
  }
}

void on_accept(uv_poll_t* h, int status, int) {
  auto* up = static_cast<Upstream*>(h->data);
  if (status < 0) {
    return;
  }
  int fd = accept4(g_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    return;  // spurious wake-up
  }
  gb::uv::close_and_delete(up->accept_poll);
  up->accept_poll = nullptr;
  up->conn = new uv_tcp_t;
  uv_tcp_init(h->loop, up->conn);
  FUZZ_CHECK(uv_tcp_open(up->conn, fd) == 0);
  up->conn->data = up;
  send_raw(up->conn, up->first);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(up->conn),
      [](uv_handle_t*, size_t, uv_buf_t* b) { *b = uv_buf_init(new char[4096], 4096); },
      on_upstream_read);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::signal(SIGPIPE, SIG_IGN);
  gb::log::set_level(gb::log::Level::error);
  listen_once();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > kMaxInput) {
    return 0;
  }
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t split = static_cast<size_t>(data[0]) * input.size() / 255;

  Sink sink;
  Upstream up;
  up.first = input.substr(0, split);
  up.second = input.substr(split);
  bool timed_out = false;
  {
    gb::uv::Loop loop;
    {
      gb::http::UpstreamPool pool(loop);
      up.accept_poll = new uv_poll_t;
      FUZZ_CHECK(uv_poll_init(loop.get(), up.accept_poll, g_listen_fd) == 0);
      up.accept_poll->data = &up;
      uv_poll_start(up.accept_poll, UV_READABLE, on_accept);

      gb::Origin origin;
      origin.tls = false;
      origin.host = "127.0.0.1";
      origin.port = g_port;
      gb::Error err;
      gb::http::ClientConn* conn = pool.acquire(origin, "", &err);
      FUZZ_CHECK(conn != nullptr);
      gb::http::ClientTimeouts t;
      t.connect_ms = 10000;  // longer than the safety timer: none of these may be needed
      t.response_ms = 10000;
      t.idle_ms = 10000;
      std::string head = "GET /v1beta/models HTTP/1.1\r\nHost: " + origin.authority() + "\r\n\r\n";
      conn->send(std::move(head), nullptr, &sink, t);

      gb::uv::Timer safety(loop.get());
      safety.start(kSafetyMs, [&] {
        timed_out = true;
        uv_stop(loop.get());
      });
      safety.unref();
      uv_run(loop.get(), UV_RUN_DEFAULT);
      if (timed_out) {
        std::fprintf(stderr, "the loop was still busy after %llu ms\n",
                     static_cast<unsigned long long>(kSafetyMs));
      }
      FUZZ_CHECK(!timed_out);
      FUZZ_CHECK(sink.done());
      FUZZ_CHECK(up.accept_poll == nullptr && up.conn == nullptr);
    }
    FUZZ_CHECK(loop.close() == 0);
  }
  sink.check_length();
  return 0;
}
