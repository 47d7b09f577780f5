#include "http/server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "base/log.h"
#include "net/tls.h"

namespace gb::http {

HttpServer::HttpServer(uv::Loop& loop, ServerOptions opts,
                       std::shared_ptr<net::TlsServerContext> tls)
    : loop_(loop), opts_(std::move(opts)), tls_(std::move(tls)) {}

HttpServer::~HttpServer() {
  for (const Listener& l : listeners_) {
    uv::close_and_delete(l.tcp);
  }
  // Connections are deleted by the loop's deferred-delete queue; they must not call back.
  for (ServerConn* c : std::vector<ServerConn*>(conns_.begin(), conns_.end())) {
    c->terminate();
    c->detach();
  }
}

Result<uint16_t> HttpServer::listen(const sockaddr* addr, bool reuseport, uint64_t tag) {
  auto* tcp = new uv_tcp_t;
  int rc = uv_tcp_init_ex(loop_.get(), tcp, addr->sa_family);
  if (rc != 0) {
    delete tcp;
    return Error::make(Errc::io_error, Side::internal, std::string("socket: ") + uv_strerror(rc));
  }
  tcp->data = this;
  auto fail = [&](const char* what, int err) {
    uv::close_and_delete(tcp);
    Error e = Error::make(Errc::io_error, Side::internal,
                          std::string(what) + " " + format_address(addr) + ": " + uv_strerror(err));
    e.uv_errno = err;
    return e;
  };
  if (reuseport) {
    uv_os_fd_t fd;
    uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd);
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      return fail("SO_REUSEPORT on", -errno);
    }
  }
  unsigned flags = addr->sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
  if ((rc = uv_tcp_bind(tcp, addr, flags)) != 0) {
    return fail("bind", rc);
  }
  uv_tcp_nodelay(tcp, 1);
  if ((rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp), 1024, &HttpServer::on_connection)) !=
      0) {
    return fail("listen on", rc);
  }
  sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&bound), &len);
  listeners_.push_back({tcp, tag});
  uint16_t port = bound.ss_family == AF_INET6
                      ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return port;
}

void HttpServer::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<HttpServer*>(server->data);
  if (self == nullptr || status < 0) {
    return;
  }
  self->accept_one(server);
}

void HttpServer::accept_one(uv_stream_t* server) {
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(loop_.get(), tcp);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(tcp)) != 0) {
    uv::close_and_delete(tcp);
    return;
  }
  ServerStats* stats = opts_.stats;
  if (stats != nullptr) {
    stats->accepted.fetch_add(1, std::memory_order_relaxed);
    if (stats->open.load(std::memory_order_relaxed) >= opts_.max_connections) {
      // Over the limit: refuse this one at once rather than queue it without bound.
      stats->refused.fetch_add(1, std::memory_order_relaxed);
      uint64_t now = loop_.now_ms();
      if (now - last_refusal_log_ms_ >= 1000 || last_refusal_log_ms_ == 0) {
        last_refusal_log_ms_ = now;
        LOG_WARN("server.refused")
            .kv("reason", "max_connections")
            .kv("limit", opts_.max_connections)
            .kv("refused_total", stats->refused.load());
      }
      if (uv_tcp_close_reset(tcp, [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); }) !=
          0) {
        uv::close_and_delete(tcp);
      }
      return;
    }
  }
  uv_tcp_nodelay(tcp, 1);
  std::unique_ptr<net::TlsSession> tls;
  if (tls_) {
    tls = net::TlsSession::server(tls_);
  }
  auto* conn = new ServerConn(*this, tcp, std::move(tls));
  for (const Listener& l : listeners_) {
    if (reinterpret_cast<uv_stream_t*>(l.tcp) == server) {
      conn->set_listener(l.tag);
    }
  }
  conn->start();
}

void HttpServer::set_limits(const ServerLimits& limits, unsigned max_connections) {
  size_t high_water = opts_.limits.high_water;
  opts_.limits = limits;
  opts_.limits.high_water = high_water;
  opts_.max_connections = max_connections;
}

void HttpServer::close_listeners(uint64_t tag) {
  std::erase_if(listeners_, [tag](const Listener& l) {
    if (l.tag == tag) {
      uv::close_and_delete(l.tcp);
      return true;
    }
    return false;
  });
  for (ServerConn* c : std::vector<ServerConn*>(conns_.begin(), conns_.end())) {
    if (c->listener() == tag) {
      c->close_when_idle();
    }
  }
}

void HttpServer::shutdown() {
  for (const Listener& l : listeners_) {
    uv::close_and_delete(l.tcp);
  }
  listeners_.clear();
  for (ServerConn* c : std::vector<ServerConn*>(conns_.begin(), conns_.end())) {
    c->close_when_idle();
  }
}

void HttpServer::terminate() {
  for (ServerConn* c : std::vector<ServerConn*>(conns_.begin(), conns_.end())) {
    c->terminate();
  }
}

Result<sockaddr_storage> resolve_address(const std::string& host, uint16_t port) {
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&ss)) == 0) {
    return ss;
  }
  if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0) {
    return ss;
  }
  addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Error::make(Errc::dns_failed, Side::internal,
                       "cannot resolve " + host + ": " + gai_strerror(rc));
  }
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (ss.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
  }
  return ss;
}

std::string format_address(const sockaddr* sa) {
  char host[64] = {0};
  if (sa->sa_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(sa);
    uv_ip6_name(a, host, sizeof host);
    return std::string("[") + host + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  auto* a = reinterpret_cast<const sockaddr_in*>(sa);
  uv_ip4_name(a, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
}

}  // namespace gb::http
