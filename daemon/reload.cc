#include "daemon/reload.h"

#include "base/log.h"
#include "config/config.h"
#include "daemon/preflight.h"
#include "store/store.h"

namespace gb::daemon {

namespace {
// Listeners, workers and the client-side limits are read when the workers start.
void warn_restart_only(const config::Config& a, const config::Config& b) {
  std::vector<std::string> la, lb;
  for (const auto& l : a.server.listen) la.push_back(l.text);
  for (const auto& l : b.server.listen) lb.push_back(l.text);
  const config::Limits& x = a.limits;
  const config::Limits& y = b.limits;
  if (la != lb || a.server.workers != b.server.workers || x.max_body != y.max_body ||
      x.max_header != y.max_header || x.max_connections != y.max_connections ||
      x.header_timeout != y.header_timeout || x.idle_timeout != y.idle_timeout ||
      x.send_timeout != y.send_timeout || a.server.state_dir != b.server.state_dir) {
    LOG_WARN("reload.restart_needed")
        .kv("detail",
            "listen, workers, state_dir, max_body, max_header, max_connections, "
            "header_timeout, idle_timeout and send_timeout changes take effect at the next "
            "restart");
  }
}
}  // namespace

bool reload(const std::string& path, proxy::Runtime& rt) {
  auto loaded = config::load_file(path);
  if (auto* errs = std::get_if<std::vector<config::ConfigError>>(&loaded)) {
    for (const auto& e : *errs) {
      LOG_ERROR("config.error")
          .kv("where", e.file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column))
          .kv("detail", e.message);
    }
    LOG_ERROR("reload.refused").kv("config", path).kv("errors", errs->size());
    return false;
  }
  auto cfg = std::get<std::shared_ptr<const config::Config>>(loaded);
  auto problems = preflight(*cfg);
  if (!problems.empty()) {
    for (const auto& p : problems) {
      LOG_ERROR("config.error").kv("detail", p);
    }
    LOG_ERROR("reload.refused").kv("config", path).kv("errors", problems.size());
    return false;
  }
  auto old = rt.current();
  warn_restart_only(*old->config, *cfg);
  // Surviving pools keep their key pool, reconfigured in place: every key keeps its
  // state (cooldowns, disabled keys, counters); removed keys leave, new keys start active.
  auto next = proxy::make_snapshot(cfg, old.get());
  if (old->store != nullptr) {
    for (const auto& [name, keys] : old->pools) {
      if (cfg->find_pool(name) == nullptr) {
        old->store->forget_pool(name);
      }
    }
  }
  log::set_level(cfg->log.level);
  rt.swap(std::move(next));
  LOG_INFO("reload.done").kv("config", path).kv("pools", cfg->pools.size());
  return true;
}

}  // namespace gb::daemon
