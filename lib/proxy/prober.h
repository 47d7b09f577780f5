// Prober: brings disabled keys back by asking the upstream a question that costs no
// tokens (DESIGN §6).
//
// Every second (or sooner, when a probe falls due) it asks each pool for the keys due a
// probe and sends each one models.get of the pool's probe_model (the models list when
// probe_model is ""), at most one probe per key in flight, at most kMaxInFlight in all.
// A success or a 429 (the key is accepted, only busy) re-enables the key, which then
// ramps up; anything else keeps it disabled until the next probe_interval.
//
// Runs on one loop (the daemon's main loop) with its own upstream connections.
#pragma once

#include <memory>

#include "http/upstream_pool.h"
#include "proxy/runtime.h"
#include "uv/loop.h"

namespace gb::proxy {

class Prober {
 public:
  Prober(uv::Loop& loop, Runtime& rt);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  void start();
  // Stops sending probes and cuts those in flight (their keys stay disabled).
  void stop();

  // The upstream request of a probe: GET, no body, the key in the provider's header.
  static std::string probe_head(const config::Pool& pool, const std::string& key);

 private:
  class Call;
  static constexpr size_t kMaxInFlight = 32;

  void tick();
  void arm();
  void call_done(Call* c);

  uv::Loop& loop_;
  Runtime& rt_;
  http::UpstreamPool upstream_;
  uv::Timer timer_;
  size_t in_flight_ = 0;
  bool stopped_ = false;
  std::vector<Call*> calls_;
};

}  // namespace gb::proxy
