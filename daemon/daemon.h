// Daemon: gbd's wiring. Owns the store, the runtime (config snapshot and key pools), the
// workers and their listeners, the prober, the control socket and the signals, and runs
// the main loop until every worker has ended.
//
// Threads: the main loop's thread runs signals, the control socket, reload and the
// prober; each worker runs its own loop; the store has its own thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/listeners.h"
#include "daemon/notify.h"
#include "proxy/runtime.h"
#include "proxy/worker.h"
#include "store/store.h"
#include "uv/loop.h"
#include "uv/mailbox.h"

namespace gb::proxy {
class Prober;
}

namespace gb::daemon {

class ControlServer;
class ControlCommands;

struct ReloadOutcome {
  bool ok = false;
  std::vector<config::ConfigError> errors;  // why it was refused
  std::vector<std::string> restart_needed;  // changed settings a reload does not apply
  std::vector<std::string> opened, closed;  // listen addresses
};

class Daemon {
 public:
  Daemon(std::string config_path, std::shared_ptr<const config::Config> cfg);
  ~Daemon();

  // Starts everything, runs until shut down; the process's exit status.
  int run();

  // ---- main loop thread (signals and control commands)
  ReloadOutcome reload(const char* origin);
  void stop(const char* why);
  bool stopping() const { return stopping_; }

  proxy::Runtime& runtime() { return *runtime_; }
  store::Store& store() { return *store_; }
  const std::string& config_path() const { return config_path_; }
  const ListenerSet& listeners() const { return *listeners_; }
  size_t workers() const { return workers_.size(); }
  uint64_t requests() const;  // handled since start, all workers
  uv::Loop& loop() { return loop_; }
  // Posts onto the main loop from any thread (store callbacks).
  bool post(std::function<void()> fn) { return mailbox_->post(std::move(fn)); }
  int64_t started_ms() const { return started_ms_; }
  int64_t loaded_ms() const { return loaded_ms_; }
  unsigned reloads() const { return reloads_; }
  const std::string& control_socket() const { return control_path_; }

 private:
  bool start();
  void watch_signals();
  static void on_signal(uv_signal_t* s, int signum);
  static void on_worker_exit(uv_async_t* a);
  void apply(std::shared_ptr<const config::Config> cfg);

  std::string config_path_;
  std::shared_ptr<const config::Config> boot_cfg_;
  uv::Loop loop_;
  std::shared_ptr<uv::Mailbox> mailbox_;
  Notifier notify_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<proxy::Runtime> runtime_;
  std::vector<std::unique_ptr<proxy::Worker>> workers_;
  std::unique_ptr<ListenerSet> listeners_;
  std::unique_ptr<proxy::Prober> prober_;
  std::unique_ptr<ControlCommands> commands_;
  std::unique_ptr<ControlServer> control_;
  std::string control_path_;
  std::vector<uv_signal_t*> signals_;
  uv_async_t* worker_exit_ = nullptr;  // a worker's loop has ended
  std::mutex exit_mu_;                 // orders workers' sends before the handle's close
  unsigned exited_ = 0;
  bool stopping_ = false;
  int64_t started_ms_ = 0;
  int64_t loaded_ms_ = 0;
  unsigned reloads_ = 0;
};

}  // namespace gb::daemon
