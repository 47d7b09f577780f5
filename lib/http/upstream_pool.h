// UpstreamPool: one event loop's keep-alive connections to upstream origins.
//
// A connection belongs to one loop, so every worker has its own pool. Idle connections
// wait per origin (newest first, so the pool shrinks by itself when load drops), keep
// reading so a server-side close is noticed at once, and are closed after idle_ms.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/url.h"
#include "http/client_conn.h"
#include "uv/loop.h"

namespace gb::net {
class TlsClientContext;
class TlsSessionCache;
}  // namespace gb::net

namespace gb::http {

struct UpstreamPoolOptions {
  size_t max_idle_per_origin = 64;
  uint64_t idle_ms = 30000;
};

class UpstreamPool {
 public:
  UpstreamPool(uv::Loop& loop, UpstreamPoolOptions opts = {});
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // An idle connection to the origin, or a new one (which dials on send()). ca_file
  // selects the trust store for https origins. Returns null with *err set when the TLS
  // context cannot be built (unreadable CA file).
  ClientConn* acquire(const Origin& origin, const std::string& ca_file, Error* err,
                      bool fresh_only = false);
  // Closes every idle connection, and from now on closes connections as they finish
  // instead of keeping them (shutdown).
  void close_idle();

  uv::Loop& loop() { return loop_; }
  net::TlsSessionCache* session_cache() { return session_cache_.get(); }
  uint64_t connections_opened() const { return opened_; }

 private:
  friend class ClientConn;
  void put_idle(ClientConn* c);
  void forget(ClientConn* c);  // a connection is closing: drop it from the idle lists

  uv::Loop& loop_;
  UpstreamPoolOptions opts_;
  std::map<std::string, std::vector<ClientConn*>> idle_;
  std::map<std::string, std::shared_ptr<net::TlsClientContext>> tls_by_ca_;
  std::unique_ptr<net::TlsSessionCache> session_cache_;
  std::unordered_set<ClientConn*> all_;
  uint64_t opened_ = 0;
  bool closing_ = false;
};

}  // namespace gb::http
