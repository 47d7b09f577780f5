// gb-mock: a faithful stand-in for the Gemini API, scripted by API keys (see README.md).
//
//   gb-mock [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--workers N] [--sse-lf]
//
// Prints "listening HOST:PORT" once every worker listens; exits 0 on SIGTERM or SIGINT.
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/log.h"
#include "http/server.h"
#include "mock_server.h"
#include "net/tls.h"
#include "worker.h"

namespace {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string cert_file;
  std::string key_file;
  unsigned workers = 1;
  bool sse_lf = false;
};

constexpr const char* kUsage =
    "usage: gb-mock [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--workers N] "
    "[--sse-lf]\n";

int usage_error(const std::string& why) {
  std::fprintf(stderr, "gb-mock: %s\n%s", why.c_str(), kUsage);
  return 2;
}

bool parse_uint(std::string_view s, unsigned long max, unsigned long* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && *out <= max;
}

// HOST:PORT, where HOST may be [v6]. Returns false on a malformed value.
bool parse_listen(std::string_view v, Options* o) {
  size_t colon = v.rfind(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  std::string_view host = v.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long port = 0;
  if (host.empty() || !parse_uint(v.substr(colon + 1), 65535, &port)) {
    return false;
  }
  o->host = std::string(host);
  o->port = static_cast<uint16_t>(port);
  return true;
}

// Returns -1 to go on, else the exit status.
int parse_args(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view* out) {
      if (i + 1 >= argc) {
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string_view v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--sse-lf") {
      o->sse_lf = true;
    } else if (a == "--listen") {
      if (!value(&v) || !parse_listen(v, o)) {
        return usage_error("--listen wants HOST:PORT");
      }
    } else if (a == "--tls-cert") {
      if (!value(&v)) {
        return usage_error("--tls-cert wants a file");
      }
      o->cert_file = std::string(v);
    } else if (a == "--tls-key") {
      if (!value(&v)) {
        return usage_error("--tls-key wants a file");
      }
      o->key_file = std::string(v);
    } else if (a == "--workers") {
      unsigned long n = 0;
      if (!value(&v) || !parse_uint(v, 256, &n) || n == 0) {
        return usage_error("--workers wants a number from 1 to 256");
      }
      o->workers = static_cast<unsigned>(n);
    } else {
      return usage_error("unknown argument " + std::string(a));
    }
  }
  if (o->cert_file.empty() != o->key_file.empty()) {
    return usage_error("--tls-cert and --tls-key go together");
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (int rc = parse_args(argc, argv, &opts); rc >= 0) {
    return rc;
  }
  // A client that disconnects mid-write must cost an EPIPE, not the process.
  signal(SIGPIPE, SIG_IGN);
  gb::log::set_level(gb::log::Level::warn);

  auto addr = gb::http::resolve_address(opts.host, opts.port);
  if (!addr) {
    std::fprintf(stderr, "gb-mock: %s\n", addr.error().context.c_str());
    return 1;
  }
  gb::mock::SharedState shared(opts.workers);
  std::vector<std::unique_ptr<gb::mock::Worker>> workers;
  for (unsigned i = 0; i < opts.workers; ++i) {
    std::shared_ptr<gb::net::TlsServerContext> tls;
    if (!opts.cert_file.empty()) {
      // One context per worker: an mbedTLS configuration is not shared across threads.
      auto ctx = gb::net::TlsServerContext::create(opts.cert_file, opts.key_file);
      if (!ctx) {
        std::fprintf(stderr, "gb-mock: %s\n", ctx.error().context.c_str());
        return 1;
      }
      tls = ctx.value();
    }
    workers.push_back(
        std::make_unique<gb::mock::Worker>(shared, i, gb::mock::MockOptions{opts.sse_lf}, tls));
  }
  // The first worker binds the requested port (maybe 0); the others join the port it got.
  auto* sa = reinterpret_cast<sockaddr*>(&addr.value());
  bool reuseport = opts.workers > 1;
  for (auto& w : workers) {
    auto port = w->listen(sa, reuseport);
    if (!port) {
      std::fprintf(stderr, "gb-mock: %s\n", port.error().context.c_str());
      return 1;
    }
    if (sa->sa_family == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(sa)->sin6_port = htons(*port);
    } else {
      reinterpret_cast<sockaddr_in*>(sa)->sin_port = htons(*port);
    }
  }
  std::printf("listening %s\n", gb::http::format_address(sa).c_str());
  std::fflush(stdout);

  for (size_t i = 1; i < workers.size(); ++i) {
    workers[i]->start_thread();
  }
  gb::mock::StopSignals signals(workers[0]->loop(), [&workers] {
    for (auto& w : workers) {
      w->stop();
    }
  });
  workers[0]->run();
  for (size_t i = 1; i < workers.size(); ++i) {
    workers[i]->join();
  }
  return 0;
}
