// Worker: one thread's event loop, listeners, upstream connections and request dispatch.
//
// Workers share only the Runtime (config snapshot, key pools, counters). Everything with
// a libuv handle belongs to exactly one worker's loop.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/server.h"
#include "http/upstream_pool.h"
#include "proxy/runtime.h"
#include "proxy/session.h"
#include "uv/loop.h"
#include "uv/mailbox.h"

namespace gb::proxy {

class Worker {
 public:
  Worker(unsigned index, Runtime& rt);
  ~Worker();

  // Binds a listener on this worker's loop (SO_REUSEPORT), tagged for close_listeners().
  // Before start(), or on the worker's thread (through post()).
  Result<uint16_t> listen(const sockaddr* addr, uint64_t tag = 0);
  // On the worker's thread: stops accepting on the tagged listeners; their connections
  // finish their current request and close.
  void close_listeners(uint64_t tag);
  // On the worker's thread: the client-side limits of a reloaded config.
  void apply_limits(const config::Limits& lim);
  // Any thread, after start(): runs fn on the worker's thread. False once the loop is
  // ending: fn will never run.
  bool post(std::function<void()> fn);
  // Runs the loop on a new thread; on_exit runs on that thread when the loop has ended.
  void start(std::function<void()> on_exit = nullptr);
  // Thread-safe: stop accepting and drain, cutting what is left after grace_ms. A second
  // call cuts everything at once.
  void request_stop(uint64_t grace_ms);
  void join();
  int loop_close_result() const { return loop_close_rc_; }
  // Requests handed to the handler so far; any thread.
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  void handle(http::Exchange& ex);
  // The OpenAI-compatible routes (worker_openai.cc), after authentication.
  void handle_openai(http::Exchange& ex, Route route, std::shared_ptr<const Snapshot> snap,
                     std::string token_id);
  void openai_models(http::Exchange& ex, Route route, std::shared_ptr<const Snapshot> snap,
                     std::string token_id);
  void start_session(http::Exchange& ex, Route route, std::shared_ptr<const Snapshot> snap,
                     const config::Pool& pool, std::string token_id, SessionPlan plan);
  void serve_health(http::Exchange& ex);
  void reply(http::Exchange& ex, int status, Errc err, std::string_view message,
             const char* allow = nullptr);
  void log_access(http::Exchange& ex, int status, Errc err, std::string_view reason);
  const Snapshot& snapshot();
  std::string format_error(std::string_view target, int status, std::string_view message,
                           std::string* content_type);
  static void on_stop(uv_async_t* a);
  void stop_now();

  unsigned index_;
  Runtime& rt_;
  uv::Loop loop_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::UpstreamPool> upstream_;
  std::shared_ptr<uv::Mailbox> mailbox_;  // leases handed to this loop's waiting requests
  std::shared_ptr<const Snapshot> snap_;
  uint64_t snap_gen_ = 0;
  uint64_t next_sid_ = 0;
  uv_async_t* stop_async_ = nullptr;
  std::mutex stop_mu_;  // guards stop_async_ against the loop's end
  bool loop_done_ = false;
  bool stopping_ = false;  // loop thread only
  std::unique_ptr<uv::Timer> grace_timer_;
  std::atomic<uint64_t> grace_ms_{0};
  std::atomic<int> stop_requests_{0};
  std::atomic<uint64_t> requests_{0};  // written by the worker's thread only
  std::thread thread_;
  bool thread_started_ = false;
  int loop_close_rc_ = 0;
};

}  // namespace gb::proxy
