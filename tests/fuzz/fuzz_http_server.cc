// The server side of the llhttp glue (lib/http/server_conn) on arbitrary client bytes.
//
// Input: byte 0 picks where the rest is cut in two deliveries (the second one arrives
// after the server has read the first, so requests and headers are split across reads);
// the rest is what a client sends before closing its sending side.
//
// Each input gets its own loop and a socketpair: one end is a uv_tcp_t handed to a
// ServerConn (as HttpServer::accept_one does), the other is the client. The handler
// answers at once: POST with the body length, paths under /stream chunked, anything
// else "ok". Afterwards:
//  - what the server wrote parses as HTTP/1.1 responses, one per handled request plus
//    one per refusal (interim 100 Continue aside);
//  - the connection is gone and uv::Loop::close() returns 0 (no handle left behind);
//  - the loop ends by itself: the limits are short (50 ms) and a safety timer aborts
//    if the connection is still alive after kSafetyMs.
#include <fcntl.h>
#include <linux/sockios.h>
#include <llhttp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "fuzz_check.h"
#include "http/server.h"
#include "http/server_conn.h"
#include "net/tls.h"  // TlsSession, for the (empty) unique_ptr passed to ServerConn
#include "uv/loop.h"

namespace {

constexpr uint64_t kSafetyMs = 3000;
// The server's answers must fit in the socket buffer: nobody reads them until the end.
constexpr size_t kMaxInput = 16 << 10;

struct Observed {
  std::vector<std::string> methods;  // of handled requests, in order
  size_t rejects = 0;
};

gb::http::ServerOptions make_options(Observed* seen, gb::http::ServerStats* stats) {
  gb::http::ServerOptions o;
  o.limits.max_body = 4096;
  o.limits.max_header = 2048;
  o.limits.header_timeout_ms = 50;
  o.limits.idle_timeout_ms = 50;
  o.limits.send_timeout_ms = 50;
  o.stats = stats;
  o.handler = [seen](gb::http::Exchange& ex) {
    const gb::http::Request& req = ex.request();
    seen->methods.push_back(req.method);
    gb::http::Headers h;
    h.add("Content-Type", "text/plain");
    if (req.path().starts_with("/stream")) {
      ex.begin(200, h, -1);
      ex.write("one\n");
      ex.write("two\n");
      ex.end();
    } else if (req.method == "POST") {
      ex.respond(200, std::move(h), std::to_string(req.body.size()) + "\n");
    } else {
      ex.respond(200, std::move(h), "ok\n");
    }
  };
  o.on_reject = [seen](std::string_view, std::string_view, int status, std::string_view reason) {
    FUZZ_CHECK(status >= 400 && status <= 599);
    FUZZ_CHECK(!reason.empty());
    seen->rejects++;
  };
  return o;
}

// Bytes written to `fd` that its peer has not read yet.
int unread(int fd) {
  int n = 0;
  if (ioctl(fd, SIOCOUTQ, &n) != 0) {
    return 0;
  }
  return n;
}

// Stops early if the server has closed its end already (it may, after a refusal).
void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = write(fd, s.data(), s.size());
    if (n <= 0) {
      return;
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
}

std::string drain(int fd) {
  std::string out;
  char buf[16384];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Parses the server's output as a sequence of responses. HEAD answers have no body,
// which a response parser can only know from the request: `methods` says.
struct ResponseCheck {
  const std::vector<std::string>* methods;
  size_t finals = 0;     // complete final responses
  bool interim = false;  // the response being parsed is 1xx
};

int on_headers_complete(llhttp_t* p) {
  auto* rc = static_cast<ResponseCheck*>(p->data);
  FUZZ_CHECK(p->http_major == 1 && p->http_minor == 1);
  rc->interim = p->status_code < 200;
  if (rc->interim) {
    return 0;
  }
  // Final responses come in request order; a refusal (never HEAD-shaped) comes last.
  bool head = rc->finals < rc->methods->size() && (*rc->methods)[rc->finals] == "HEAD";
  return head ? 1 : 0;  // 1: no body follows
}

int on_message_complete(llhttp_t* p) {
  auto* rc = static_cast<ResponseCheck*>(p->data);
  if (!rc->interim) {
    rc->finals++;
  }
  return 0;
}

void check_output(const std::string& out, const Observed& seen) {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_headers_complete = on_headers_complete;
  s.on_message_complete = on_message_complete;
  llhttp_t p;
  llhttp_init(&p, HTTP_RESPONSE, &s);
  ResponseCheck rc{&seen.methods};
  p.data = &rc;
  llhttp_errno_t err = llhttp_execute(&p, out.data(), out.size());
  if (err == HPE_OK) {
    err = llhttp_finish(&p);  // ends a close-delimited body
  }
  if (err != HPE_OK) {
    std::fprintf(stderr, "server output does not parse: %s (%s)\n", llhttp_errno_name(err),
                 llhttp_get_error_reason(&p));
  }
  FUZZ_CHECK(err == HPE_OK);
  FUZZ_CHECK(rc.finals == seen.methods.size() + seen.rejects);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::signal(SIGPIPE, SIG_IGN);
  gb::log::set_level(gb::log::Level::error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > kMaxInput) {
    return 0;
  }
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t split = static_cast<size_t>(data[0]) * input.size() / 255;

  int sv[2];
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  int client = sv[1];

  Observed seen;
  gb::http::ServerStats stats;
  bool timed_out = false;
  {
    gb::uv::Loop loop;
    {
      gb::http::HttpServer server(loop, make_options(&seen, &stats));
      auto* tcp = new uv_tcp_t;
      uv_tcp_init(loop.get(), tcp);
      FUZZ_CHECK(uv_tcp_open(tcp, sv[0]) == 0);  // the handle owns sv[0] from here
      uv_tcp_nodelay(tcp, 1);                    // fails on a unix socket; harmless
      auto* conn = new gb::http::ServerConn(server, tcp, nullptr);
      conn->start();

      gb::uv::Timer safety(loop.get());
      safety.start(kSafetyMs, [&] {
        timed_out = true;
        uv_stop(loop.get());
      });
      safety.unref();

      write_all(client, input.substr(0, split));
      // Let the server read the first part before the rest arrives.
      for (int i = 0; i < 100 && unread(client) > 0 && !timed_out; ++i) {
        uv_run(loop.get(), UV_RUN_ONCE);
      }
      write_all(client, input.substr(split));
      shutdown(client, SHUT_WR);
      uv_run(loop.get(), UV_RUN_DEFAULT);
      if (timed_out) {
        std::fprintf(stderr, "the connection was still open after %llu ms\n",
                     static_cast<unsigned long long>(kSafetyMs));
      }
      FUZZ_CHECK(!timed_out);
      FUZZ_CHECK(server.connections() == 0);
    }
    FUZZ_CHECK(loop.close() == 0);
  }
  FUZZ_CHECK(stats.open.load() == 0);

  fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);
  std::string out = drain(client);
  close(client);
  check_output(out, seen);
  return 0;
}
