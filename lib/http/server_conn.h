// Server side of HTTP/1.1 on llhttp: one ServerConn per accepted connection.
//
// Requests are parsed one at a time: while a request is being answered the parser is
// paused, so pipelined requests are answered in order. Limits (header bytes and time,
// body size, idle time) are enforced here and answered with 431, 408, 413 or a close.
// llhttp runs in strict mode; what it still lets through (obs-fold, empty header names,
// long chunk extensions) is refused here with 400.
//
// The handler gets an Exchange for each request. It answers with respond() or with
// begin()/write()/end(); it may finish later, from other callbacks. It must drop its
// pointer to the Exchange after end() or when its on_abort runs (the client went away).
#pragma once

#include <llhttp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "http/header_collector.h"
#include "http/request.h"
#include "net/stream.h"
#include "uv/loop.h"

namespace gb::http {

struct ServerLimits {
  uint64_t max_body = 32ull << 20;
  uint64_t max_header = 64 << 10;
  uint64_t header_timeout_ms = 10000;
  uint64_t idle_timeout_ms = 60000;
  uint64_t send_timeout_ms = 60000;
  // Write-queue watermarks for streamed responses (see Exchange::on_drain).
  size_t high_water = 256 << 10;
};

class ServerConn;
class HttpServer;

class Exchange {
 public:
  const Request& request() const { return req_; }
  Request& request() { return req_; }

  // A whole response with Content-Length.
  void respond(int status, Headers headers, std::string_view body);
  // Starts a response. content_length < 0 streams it (chunked for HTTP/1.1 clients,
  // close-delimited for HTTP/1.0).
  void begin(int status, const Headers& headers, int64_t content_length);
  void write(std::string_view data);
  void end();
  // Cuts the connection without a clean end (a stream that failed midway must not look
  // complete to the client).
  void abort();
  bool begun() const { return begun_; }
  // Bytes waiting to go to the client; above ServerLimits::high_water the handler should
  // stop producing until on_drain.
  size_t queued() const;
  bool over_high_water() const;
  std::string peer() const;

  std::function<void()> on_drain;  // the queue fell below half of high_water
  std::function<void()> on_abort;  // client gone before end(); the Exchange is dead after

 private:
  friend class ServerConn;
  explicit Exchange(ServerConn* conn) : conn_(conn) {}
  ServerConn* conn_;
  Request req_;
  bool begun_ = false;
  bool chunked_ = false;
  bool ended_ = false;
  bool waiting_drain_ = false;
};

using Handler = std::function<void(Exchange&)>;
// Renders an error the server produces before any handler ran (400, 408, 413, 431) in the
// format the request's route speaks. Returns the body; sets *content_type.
using ErrorFormatter = std::function<std::string(
    std::string_view target, int status, std::string_view message, std::string* content_type)>;

// Process-wide counters shared by every worker's connections.
struct ServerStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> refused{0};
};

// What every connection of one server shares; owned by the server, outlives its connections.
struct ServerOptions {
  ServerLimits limits;
  Handler handler;
  ErrorFormatter format_error;  // empty: {"error":{"code":N,"message":"..."}}
  // Told of every request refused before it reached the handler (for the access log).
  std::function<void(std::string_view peer, std::string_view target, int status,
                     std::string_view reason)>
      on_reject;
  ServerStats* stats = nullptr;
  unsigned max_connections = 10000;
};

class ServerConn : public net::StreamOwner, public uv::Deletable {
 public:
  ServerConn(HttpServer& server, uv_tcp_t* tcp, std::unique_ptr<net::TlsSession> tls);
  ~ServerConn() override;
  void start();
  // Closes after the current response (or now, if idle). Used at shutdown.
  void close_when_idle();
  // Cuts the connection now (end of the shutdown grace period).
  void terminate();
  // The server is being destroyed before this connection's deferred delete.
  void detach() { server_ = nullptr; }
  // The tag of the listener that accepted it (HttpServer::listen).
  void set_listener(uint64_t tag) { listener_ = tag; }
  uint64_t listener() const { return listener_; }

 private:
  friend class Exchange;
  // StreamOwner
  void on_stream_data(const char* data, size_t n) override;
  void on_stream_eof() override;
  void on_stream_error(const Error& err) override;
  void on_stream_drained() override;

  // llhttp callbacks
  static int on_message_begin(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, size_t n);
  static int on_header_field(llhttp_t* p, const char* at, size_t n);
  static int on_header_value(llhttp_t* p, const char* at, size_t n);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t n);
  static int on_chunk_extension(llhttp_t* p, const char* at, size_t n);
  static int on_message_complete(llhttp_t* p);

  void parse();
  void parse_loop();
  bool count_header_bytes(size_t n);
  void dispatch();
  void finish_exchange();
  void reject(int status, std::string_view message);
  void write_raw(std::string data);
  void watch_send();
  void arm_send_timer();
  void after_write();
  void arm_idle();
  void destroy();
  static const llhttp_settings_t& settings();

  HttpServer* server_;  // null once the server is gone (see detach)
  ServerStats* stats_;
  uv::Loop& loop_;
  std::unique_ptr<net::Stream> stream_;
  const ServerOptions& opts_;
  const ServerLimits& limits_;
  llhttp_t parser_;
  std::string inbuf_;  // unparsed bytes (pipelined requests wait here)
  size_t inbuf_off_ = 0;
  std::unique_ptr<Exchange> ex_;  // the request being parsed or answered
  uint64_t listener_ = 0;
  bool dispatched_ = false;       // ex_ was handed to the handler
  bool closing_ = false;          // close after the current response
  bool dead_ = false;
  bool in_parse_ = false;
  bool headers_done_ = false;   // later header callbacks are trailers
  bool request_begun_ = false;  // a byte of the current request arrived
  bool send_timer_ = false;     // timer_ bounds a client that stopped reading
  uint64_t header_bytes_ = 0;
  uint64_t chunk_ext_bytes_ = 0;
  const char* exec_begin_ = nullptr;  // buffer of the current llhttp_execute, for obs-fold
  const char* exec_end_ = nullptr;
  const char* prev_value_end_ = nullptr;
  const char* prev_exec_end_ = nullptr;
  HeaderCollector collector_;
  uv::Timer timer_;  // header timeout or idle timeout, whichever applies
  bool timer_is_header_ = false;
};

}  // namespace gb::http
