// HttpServer: the listeners and live connections of one event loop.
//
// Each worker runs its own HttpServer on its own loop with its own SO_REUSEPORT listening
// socket on the same address, so the kernel spreads connections over the workers.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/error.h"
#include "http/server_conn.h"
#include "uv/loop.h"

namespace gb::net {
class TlsServerContext;
}

namespace gb::http {

class HttpServer {
 public:
  HttpServer(uv::Loop& loop, ServerOptions opts,
             std::shared_ptr<net::TlsServerContext> tls = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns the bound port (useful with port 0). Connections accepted
  // on it carry `tag`, so that close_listeners() can find them.
  Result<uint16_t> listen(const sockaddr* addr, bool reuseport, uint64_t tag = 0);
  // Stops accepting on the listeners with `tag` (a listen address removed by a reload);
  // their idle connections close now, busy ones after their current response.
  void close_listeners(uint64_t tag);
  // Stops accepting; idle connections close now, busy ones after their current response.
  void shutdown();
  // Cuts every remaining connection.
  void terminate();
  size_t connections() const { return conns_.size(); }
  // New limits (a reload), on the loop's thread. Connections read them live: a changed
  // body or header limit applies to the next request, a timeout from its next start.
  void set_limits(const ServerLimits& limits, unsigned max_connections);

  uv::Loop& loop() { return loop_; }
  const ServerOptions& options() const { return opts_; }
  void add(ServerConn* c) { conns_.insert(c); }
  void remove(ServerConn* c) { conns_.erase(c); }

 private:
  static void on_connection(uv_stream_t* server, int status);
  void accept_one(uv_stream_t* server);

  uv::Loop& loop_;
  ServerOptions opts_;
  std::shared_ptr<net::TlsServerContext> tls_;
  struct Listener {
    uv_tcp_t* tcp;
    uint64_t tag;
  };
  std::vector<Listener> listeners_;
  std::unordered_set<ServerConn*> conns_;
  uint64_t last_refusal_log_ms_ = 0;
};

// Resolves "host" and port into a socket address (numeric or a name, at startup only).
Result<sockaddr_storage> resolve_address(const std::string& host, uint16_t port);
std::string format_address(const sockaddr* sa);

}  // namespace gb::http
