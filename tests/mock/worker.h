// Worker: one event loop with its HttpServer and MockServer. The first worker runs on the
// main thread (which also owns the signal handlers); the others each get a thread.
// StopSignals: SIGTERM and SIGINT on a loop, turned into one call of a stop function.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "base/error.h"
#include "http/server.h"
#include "mock_server.h"
#include "uv/loop.h"

namespace gb::net {
class TlsServerContext;
}

namespace gb::mock {

class Worker {
 public:
  Worker(SharedState& shared, unsigned index, MockOptions opts,
         std::shared_ptr<net::TlsServerContext> tls);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  Result<uint16_t> listen(const sockaddr* addr, bool reuseport);
  uv::Loop& loop() { return loop_; }
  // Runs the loop on the calling thread until stop() took effect.
  void run();
  // Runs the loop on a new thread; join() waits for it.
  void start_thread();
  void join();
  // Safe from any thread: closes the listener and every connection, then the loop ends.
  void stop();

 private:
  static void on_stop(uv_async_t* a);

  uv::Loop loop_;  // first: destroyed after everything that lives on it
  MockServer handler_;
  std::unique_ptr<http::HttpServer> server_;
  uv_async_t* stop_async_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

class StopSignals {
 public:
  StopSignals(uv::Loop& loop, std::function<void()> on_stop);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  static void on_signal(uv_signal_t* h, int signum);
  void close();

  std::function<void()> on_stop_;
  uv_signal_t* handles_[2] = {nullptr, nullptr};
};

}  // namespace gb::mock
