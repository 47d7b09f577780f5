#include "worker.h"

#include <signal.h>

#include <cstdio>

#include "net/tls.h"

namespace gb::mock {

Worker::Worker(SharedState& shared, unsigned index, MockOptions opts,
               std::shared_ptr<net::TlsServerContext> tls)
    : handler_(loop_, shared, index, opts), stop_async_(new uv_async_t) {
  http::ServerOptions so;
  so.handler = [this](http::Exchange& ex) { handler_.handle(ex); };
  so.format_error = &format_server_error;
  so.stats = &shared.stats;
  // Benchmarks open thousands of connections; the mock must not be the one refusing them.
  so.max_connections = 1 << 20;
  server_ = std::make_unique<http::HttpServer>(loop_, std::move(so), std::move(tls));
  uv_async_init(loop_.get(), stop_async_, &Worker::on_stop);
  stop_async_->data = this;
}

Worker::~Worker() {
  server_.reset();
  uv::close_and_delete(stop_async_);
}

Result<uint16_t> Worker::listen(const sockaddr* addr, bool reuseport) {
  return server_->listen(addr, reuseport);
}

void Worker::run() {
  int rc = loop_.run();
  if (rc != 0) {
    std::fprintf(stderr, "gb-mock: loop closed with handles left: %s\n", uv_strerror(rc));
  }
}

void Worker::start_thread() {
  thread_ = std::thread([this] { run(); });
}

void Worker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Worker::stop() {
  if (!stopping_.exchange(true)) {
    uv_async_send(stop_async_);
  }
}

void Worker::on_stop(uv_async_t* a) {
  auto* self = static_cast<Worker*>(a->data);
  if (self == nullptr) {
    return;
  }
  // Open exchanges hear on_abort from the server's teardown and stop their timers.
  self->server_.reset();
  uv::close_and_delete(self->stop_async_);
  self->stop_async_ = nullptr;
}

StopSignals::StopSignals(uv::Loop& loop, std::function<void()> on_stop)
    : on_stop_(std::move(on_stop)) {
  const int signums[2] = {SIGTERM, SIGINT};
  for (int i = 0; i < 2; ++i) {
    handles_[i] = new uv_signal_t;
    uv_signal_init(loop.get(), handles_[i]);
    handles_[i]->data = this;
    uv_signal_start(handles_[i], &StopSignals::on_signal, signums[i]);
  }
}

StopSignals::~StopSignals() {
  close();
}

void StopSignals::on_signal(uv_signal_t* h, int /*signum*/) {
  auto* self = static_cast<StopSignals*>(h->data);
  if (self == nullptr) {
    return;
  }
  self->close();  // the signals no longer keep the loop alive
  self->on_stop_();
}

void StopSignals::close() {
  for (uv_signal_t*& h : handles_) {
    uv::close_and_delete(h);
    h = nullptr;
  }
}

}  // namespace gb::mock
