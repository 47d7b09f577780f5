#include "daemon/daemon.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>

#include "base/log.h"
#include "daemon/control_commands.h"
#include "daemon/control_server.h"
#include "daemon/reload.h"
#include "daemon/state.h"
#include "proxy/prober.h"
#include "base/wall_clock.h"

namespace gb::daemon {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    out += out.empty() ? s : "," + s;
  }
  return out;
}
}  // namespace

Daemon::Daemon(std::string config_path, std::shared_ptr<const config::Config> cfg)
    : config_path_(std::move(config_path)), boot_cfg_(std::move(cfg)) {}

Daemon::~Daemon() = default;

bool Daemon::start() {
  const config::Config& cfg = *boot_cfg_;
  started_ms_ = loaded_ms_ = wall_ms();
  // The control socket first: a second gbd started on the same config stops here,
  // before it touches the state database or the listeners.
  mailbox_ = std::make_shared<uv::Mailbox>(loop_.get());
  commands_ = std::make_unique<ControlCommands>(*this);
  control_ = std::make_unique<ControlServer>(
      loop_, [this](const Peer& p, ctl::Request& req, const Responder& r) {
        commands_->dispatch(p, req, r);
      });
  control_path_ = cfg.server.control_socket;
  ControlServer::Options copt{control_path_, cfg.limits.control_idle_timeout,
                              cfg.limits.control_clients};
  if (auto opened = control_->open(copt); !opened) {
    LOG_ERROR("server.control_failed").kv("detail", opened.error().context);
    return false;
  }
  store_ = open_state(cfg);
  if (!store_) {
    return false;
  }
  auto snap = proxy::make_snapshot(boot_cfg_, nullptr, store_.get());
  if (!restore_state(*store_, *snap)) {
    return false;
  }
  runtime_ = std::make_unique<proxy::Runtime>(std::move(snap));
  store_->start(key_source(*runtime_));
  unsigned n = cfg.server.workers != 0 ? cfg.server.workers : uv_available_parallelism();
  for (unsigned i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<proxy::Worker>(i, *runtime_));
  }
  listeners_ = std::make_unique<ListenerSet>(workers_);
  if (auto opened = listeners_->open_all(cfg.server.listen); !opened) {
    LOG_ERROR("server.listen_failed").kv("detail", opened.error().context);
    return false;
  }
  prober_ = std::make_unique<proxy::Prober>(loop_, *runtime_);
  prober_->start();
  watch_signals();
  worker_exit_ = new uv_async_t;
  uv_async_init(loop_.get(), worker_exit_, &Daemon::on_worker_exit);
  worker_exit_->data = this;
  for (auto& w : workers_) {
    w->start([this] {
      std::lock_guard<std::mutex> lock(exit_mu_);
      ++exited_;
      uv_async_send(worker_exit_);
    });
  }
  return true;
}

int Daemon::run() {
  if (!start()) {
    if (control_) {
      control_->close();
    }
    // The store thread reads the runtime's pools: it stops before they go.
    if (store_) {
      store_->stop();
    }
    return 1;
  }
  LOG_INFO("server.ready")
      .kv("version", GB_VERSION)
      .kv("config", config_path_)
      .kv("workers", workers_.size())
      .kv("control", control_path_);
  notify_.ready("serving");
  uv_run(loop_.get(), UV_RUN_DEFAULT);
  int leaks = 0;
  for (auto& w : workers_) {
    w->join();
    leaks += w->loop_close_result() != 0;
  }
  // Store callbacks may still post answers: none runs once the mailbox is closed.
  mailbox_->close();
  control_.reset();
  commands_.reset();
  prober_->stop();
  prober_.reset();
  workers_.clear();
  // Key state as of the last request: pulled and written before the process ends.
  store_->stop();
  LOG_INFO("server.stopped").kv("leaks", leaks);
  return 0;
}

ReloadOutcome Daemon::reload(const char* origin) {
  ReloadOutcome out;
  notify_.reloading();
  ConfigCheck chk = check_config(config_path_);
  auto refuse = [&](std::vector<config::ConfigError> errors) {
    for (const config::ConfigError& e : errors) {
      std::string where = e.line == 0 ? e.file
                                      : e.file + ":" + std::to_string(e.line) + ":" +
                                            std::to_string(e.column);
      LOG_ERROR("config.error").kv("where", where).kv("detail", e.message);
    }
    LOG_ERROR("reload.refused").kv("config", config_path_).kv("by", origin).kv("errors", errors.size());
    out.errors = std::move(errors);
    notify_.ready("serving; the last reload was refused");
    return out;
  };
  if (!chk.config) {
    return refuse(std::move(chk.errors));
  }
  std::shared_ptr<const config::Config> cfg = chk.config;
  auto old = runtime_->current();
  auto opened = listeners_->open_new(cfg->server.listen);
  if (!opened) {
    return refuse({config::ConfigError{config_path_, 0, 0, opened.error().context}});
  }
  out.ok = true;
  out.opened = std::move(opened.value());
  out.restart_needed = restart_only_changes(*old->config, *cfg);
  apply(cfg);
  out.closed = listeners_->close_removed(cfg->server.listen);
  ++reloads_;
  loaded_ms_ = wall_ms();
  if (!out.restart_needed.empty()) {
    LOG_WARN("reload.restart_needed").kv("settings", join(out.restart_needed));
  }
  LOG_INFO("reload.done")
      .kv("config", config_path_)
      .kv("by", origin)
      .kv("pools", cfg->pools.size())
      .kv("opened", join(out.opened))
      .kv("closed", join(out.closed));
  notify_.ready("serving");
  return out;
}

// Swaps in a checked config: surviving pools keep their key pool, reconfigured in place,
// so every key keeps its state; removed keys leave, new keys start active.
void Daemon::apply(std::shared_ptr<const config::Config> cfg) {
  auto old = runtime_->current();
  auto next = proxy::make_snapshot(cfg, old.get());
  for (const auto& [name, keys] : old->pools) {
    if (cfg->find_pool(name) == nullptr) {
      store_->forget_pool(name);
    }
  }
  log::set_level(cfg->log.level);
  runtime_->swap(std::move(next));
  store_->set_options(store_options(*cfg));
  for (auto& w : workers_) {
    proxy::Worker* worker = w.get();
    worker->post([worker, lim = cfg->limits] { worker->apply_limits(lim); });
  }
  control_->set_limits(cfg->limits.control_idle_timeout, cfg->limits.control_clients);
}

uint64_t Daemon::requests() const {
  uint64_t n = 0;
  for (const auto& w : workers_) {
    n += w->requests();
  }
  return n;
}

void Daemon::stop(const char* why) {
  if (stopping_) {
    // A second TERM or INT while draining: cut what is left now.
    LOG_WARN("server.stopping").kv("signal", why).kv("grace_ms", 0);
    for (auto& w : workers_) {
      w->request_stop(0);
    }
    return;
  }
  stopping_ = true;
  notify_.stopping();
  prober_->stop();
  commands_->stop();
  control_->close();
  auto grace = static_cast<uint64_t>(runtime_->current()->config->limits.shutdown_grace.count());
  LOG_INFO("server.stopping").kv("signal", why).kv("grace_ms", grace);
  for (auto& w : workers_) {
    w->request_stop(grace);
  }
}

void Daemon::on_signal(uv_signal_t* s, int signum) {
  auto* d = static_cast<Daemon*>(s->data);
  if (signum != SIGHUP) {
    d->stop(signum == SIGTERM ? "TERM" : "INT");
  } else if (d->stopping_) {
    LOG_WARN("reload.refused").kv("reason", "shutting down");
  } else {
    d->reload("signal");
  }
}

void Daemon::watch_signals() {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    auto* s = new uv_signal_t;
    uv_signal_init(loop_.get(), s);
    s->data = this;
    uv_signal_start(s, &Daemon::on_signal, sig);
    signals_.push_back(s);
  }
}

// The main loop runs until every worker has ended, so signals keep being handled while
// requests drain.
void Daemon::on_worker_exit(uv_async_t* a) {
  auto* d = static_cast<Daemon*>(a->data);
  std::lock_guard<std::mutex> lock(d->exit_mu_);
  if (d->exited_ < d->workers_.size()) {
    return;
  }
  if (!d->stopping_) {
    d->stop("workers ended");  // closes the control socket and the prober
  }
  for (uv_signal_t* s : d->signals_) {
    uv::close_and_delete(s);
  }
  d->signals_.clear();
  uv::close_and_delete(a);
  d->worker_exit_ = nullptr;
}

}  // namespace gb::daemon
