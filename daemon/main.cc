// gbd: arguments, configuration, workers, signals. Everything else lives in lib/.
#include <signal.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/log.h"
#include "config/config.h"
#include "daemon/preflight.h"
#include "daemon/reload.h"
#include "daemon/state.h"
#include "http/server.h"
#include "proxy/prober.h"
#include "proxy/runtime.h"
#include "proxy/worker.h"
#include "store/store.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/gbd/gbd.toml";
// How long in-flight requests may run on after SIGTERM before they are cut.
constexpr uint64_t kShutdownGraceMs = 30000;

struct Args {
  std::string config = kDefaultConfig;
  bool test_only = false;
};

void usage(FILE* out) {
  std::fprintf(out,
               "usage: gbd [-t] [-c FILE]\n"
               "  -c FILE     configuration file (default %s)\n"
               "  -t          check the configuration file and exit\n"
               "  -v, --version  print the version and exit\n"
               "  -h, --help     print this help and exit\n",
               kDefaultConfig);
}

// Returns -1 to go on, or an exit status.
int parse_args(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-c" && i + 1 < argc) {
      a->config = argv[++i];
    } else if (arg == "-t") {
      a->test_only = true;
    } else if (arg == "-v" || arg == "--version") {
      std::printf("gbd %s\n", GB_VERSION);
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "gbd: unknown argument '%s'\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }
  return -1;
}

std::shared_ptr<const gb::config::Config> load_or_report(const std::string& path) {
  auto loaded = gb::config::load_file(path);
  if (auto* errs = std::get_if<std::vector<gb::config::ConfigError>>(&loaded)) {
    for (const auto& e : *errs) {
      std::fprintf(stderr, "%s\n", e.to_string().c_str());
    }
    return nullptr;
  }
  auto cfg = std::get<std::shared_ptr<const gb::config::Config>>(loaded);
  auto problems = gb::daemon::preflight(*cfg);
  for (const auto& p : problems) {
    std::fprintf(stderr, "%s\n", p.c_str());
  }
  return problems.empty() ? cfg : nullptr;
}

struct Daemon {
  std::string config_path;
  std::unique_ptr<gb::store::Store> store;
  std::unique_ptr<gb::proxy::Runtime> runtime;
  gb::proxy::Prober* prober = nullptr;
  std::vector<std::unique_ptr<gb::proxy::Worker>> workers;
  uv_loop_t* loop = nullptr;
  std::vector<uv_signal_t*> signals;
  uv_async_t* worker_exit = nullptr;  // a worker's loop has ended
  std::mutex exit_mu;                 // orders workers' sends before the handle's close
  unsigned exited = 0;
  bool stopping = false;
};

// The main loop runs until every worker has ended, so signals keep being handled while
// requests drain.
void on_worker_exit(uv_async_t* a) {
  auto* d = static_cast<Daemon*>(a->data);
  std::lock_guard<std::mutex> lock(d->exit_mu);
  if (d->exited < d->workers.size()) {
    return;
  }
  for (uv_signal_t* s : d->signals) {
    uv_close(reinterpret_cast<uv_handle_t*>(s),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_signal_t*>(h); });
  }
  d->signals.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(a),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  d->worker_exit = nullptr;
}

bool start_listeners(Daemon& d, const gb::config::Config& cfg) {
  for (const gb::ListenAddr& l : cfg.server.listen) {
    auto addr = gb::http::resolve_address(l.host, l.port);
    if (!addr) {
      LOG_ERROR("server.listen_failed").kv("addr", l.text).kv("detail", addr.error().context);
      return false;
    }
    sockaddr_storage ss = addr.value();
    // Port 0: the first worker's socket picks the port, the others share it.
    for (auto& w : d.workers) {
      auto port = w->listen(reinterpret_cast<sockaddr*>(&ss));
      if (!port) {
        LOG_ERROR("server.listen_failed").kv("addr", l.text).kv("detail", port.error().context);
        return false;
      }
      if (ss.ss_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port.value());
      } else {
        reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port.value());
      }
    }
    LOG_INFO("server.listening")
        .kv("addr", gb::http::format_address(reinterpret_cast<sockaddr*>(&ss)))
        .kv("workers", d.workers.size());
  }
  return true;
}

void stop_daemon(Daemon& d, const char* why) {
  if (d.stopping) {
    // A second TERM or INT while draining: cut what is left now.
    LOG_WARN("server.stopping").kv("signal", why).kv("grace_ms", 0);
    for (auto& w : d.workers) {
      w->request_stop(0);
    }
    return;
  }
  d.stopping = true;
  if (d.prober != nullptr) {
    d.prober->stop();
  }
  LOG_INFO("server.stopping").kv("signal", why).kv("grace_ms", kShutdownGraceMs);
  for (auto& w : d.workers) {
    w->request_stop(kShutdownGraceMs);
  }
}

void on_signal(uv_signal_t* s, int signum) {
  auto* d = static_cast<Daemon*>(s->data);
  if (signum == SIGHUP) {
    if (d->stopping) {
      LOG_WARN("reload.refused").kv("reason", "shutting down");
      return;
    }
    if (gb::daemon::reload(d->config_path, *d->runtime) && d->store) {
      d->store->set_options(gb::daemon::store_options(*d->runtime->current()->config));
    }
    return;
  }
  stop_daemon(*d, signum == SIGTERM ? "TERM" : "INT");
}

void watch_signals(Daemon& d) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    auto* s = new uv_signal_t;
    uv_signal_init(d.loop, s);
    s->data = &d;
    uv_signal_start(s, on_signal, sig);
    d.signals.push_back(s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (int rc = parse_args(argc, argv, &args); rc >= 0) {
    return rc;
  }
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    gb::log::set_journal(true);  // stderr goes to the journal: priorities, no timestamps
  }
  auto cfg = load_or_report(args.config);
  if (!cfg) {
    return 1;
  }
  if (args.test_only) {
    std::fprintf(stderr, "gbd: the configuration file %s syntax is ok\n", args.config.c_str());
    return 0;
  }
  gb::log::set_level(cfg->log.level);
  signal(SIGPIPE, SIG_IGN);

  Daemon d;
  d.config_path = args.config;
  d.store = gb::daemon::open_state(*cfg);
  if (!d.store) {
    return 1;
  }
  auto snap = gb::proxy::make_snapshot(cfg, nullptr, d.store.get());
  if (!gb::daemon::restore_state(*d.store, *snap)) {
    return 1;
  }
  d.runtime = std::make_unique<gb::proxy::Runtime>(std::move(snap));
  d.store->start(gb::daemon::key_source(*d.runtime));
  unsigned n = cfg->server.workers != 0 ? cfg->server.workers : uv_available_parallelism();
  for (unsigned i = 0; i < n; ++i) {
    d.workers.push_back(std::make_unique<gb::proxy::Worker>(i, *d.runtime));
  }
  if (!start_listeners(d, *cfg)) {
    return 1;
  }
  gb::uv::Loop main_loop;
  uv_loop_t& loop = *main_loop.get();
  d.loop = &loop;
  gb::proxy::Prober prober(main_loop, *d.runtime);
  d.prober = &prober;
  prober.start();
  watch_signals(d);
  d.worker_exit = new uv_async_t;
  uv_async_init(&loop, d.worker_exit, on_worker_exit);
  d.worker_exit->data = &d;
  for (auto& w : d.workers) {
    w->start([&d] {
      std::lock_guard<std::mutex> lock(d.exit_mu);
      ++d.exited;
      uv_async_send(d.worker_exit);
    });
  }
  LOG_INFO("server.ready").kv("version", GB_VERSION).kv("config", args.config).kv("workers", n);
  uv_run(&loop, UV_RUN_DEFAULT);
  int bad = 0;
  for (auto& w : d.workers) {
    w->join();
    bad += w->loop_close_result() != 0;
  }
  d.workers.clear();
  prober.stop();
  d.prober = nullptr;
  // Key state as of the last request: pulled and written before the process ends.
  d.store->stop();
  LOG_INFO("server.stopped").kv("leaks", bad);
  return 0;
}
