// Client side of HTTP/1.1 towards an upstream: one ClientConn per TCP (or TLS) connection.
//
// A ClientConn dials (DNS through uv_getaddrinfo, every address in turn, TLS handshake),
// sends one request at a time and parses the response with llhttp, handing status,
// headers and body pieces to a ResponseSink as they arrive. After a complete response on
// a keep-alive connection it goes back to its UpstreamPool; a response that was not read
// to the end closes it: a half-read connection is never reused.
//
// Callbacks to the sink stop after on_response_end, on_response_error or cancel().
#pragma once

#include <llhttp.h>

#include <memory>
#include <string>

#include "base/error.h"
#include "base/url.h"
#include "http/header_collector.h"
#include "http/headers.h"
#include "net/stream.h"
#include "uv/loop.h"

namespace gb::net {
class TlsClientContext;
class TlsSessionCache;
}  // namespace gb::net

namespace gb::http {

class UpstreamPool;

struct ClientTimeouts {
  uint64_t connect_ms = 10000;    // DNS, TCP connect and TLS handshake together
  uint64_t response_ms = 600000;  // request sent -> response headers
  uint64_t idle_ms = 120000;      // between two pieces of the response body
};

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void on_response_head(int status, Headers headers) = 0;
  virtual void on_response_body(const char* data, size_t n) = 0;
  virtual void on_response_end() = 0;
  // Transport or protocol failure. `response_started` tells whether any response byte
  // was seen; `stale` that a reused keep-alive connection failed before answering (the
  // server closed it while idle), in which case sending again on a new connection is safe.
  virtual void on_response_error(const Error& err, bool response_started, bool stale) = 0;
};

class ClientConn : public net::StreamOwner, public uv::Deletable {
 public:
  ClientConn(UpstreamPool& pool, const Origin& origin, std::shared_ptr<net::TlsClientContext> tls);
  ~ClientConn() override;

  // Sends a request (head and body already serialised). Dials first if not connected.
  void send(std::string head, std::shared_ptr<const std::string> body, ResponseSink* sink,
            const ClientTimeouts& t);
  // Backpressure from the client side.
  void pause();
  void resume();
  // The caller lost interest (client gone, or the caller failed): closes the connection.
  void cancel();

  bool reused() const { return requests_ > 1; }
  const std::string& origin_key() const { return origin_key_; }

 private:
  friend class UpstreamPool;
  enum class State { fresh, resolving, connecting, handshaking, idle, busy, dead };

  // StreamOwner
  void on_stream_data(const char* data, size_t n) override;
  void on_stream_eof() override;
  void on_stream_error(const Error& err) override;
  void on_stream_ready() override;

  void resolve();
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  void connect_next();
  static void on_connected(uv_connect_t* req, int status);
  void write_request();
  void fail(Error err);
  void finish_response();
  void destroy();
  void arm(uint64_t ms, Errc code, const char* what);

  static int on_status(llhttp_t* p, const char* at, size_t n);
  static int on_header_field(llhttp_t* p, const char* at, size_t n);
  static int on_header_value(llhttp_t* p, const char* at, size_t n);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t n);
  static int on_message_complete(llhttp_t* p);
  static const llhttp_settings_t& settings();

  UpstreamPool& pool_;
  uv::Loop& loop_;
  Origin origin_;
  std::string origin_key_;
  std::shared_ptr<net::TlsClientContext> tls_ctx_;
  State state_ = State::fresh;
  std::unique_ptr<net::Stream> stream_;
  uv_getaddrinfo_t* gai_ = nullptr;
  addrinfo* addrs_ = nullptr;
  addrinfo* next_addr_ = nullptr;
  uv_tcp_t* dialing_ = nullptr;
  std::string last_connect_error_;

  ResponseSink* sink_ = nullptr;
  std::string head_;
  std::shared_ptr<const std::string> body_;
  ClientTimeouts timeouts_;
  uint64_t requests_ = 0;
  bool response_started_ = false;
  bool message_done_ = false;
  bool paused_ = false;
  bool destroyed_ = false;

  llhttp_t parser_;
  int status_ = 0;
  Headers headers_;
  HeaderCollector collector_;
  uv::Timer timer_;
};

}  // namespace gb::http
