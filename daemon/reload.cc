#include "daemon/reload.h"

#include "base/log.h"
#include "config/config.h"

namespace gb::daemon {

namespace {
bool same_pool_shape(const config::Pool& a, const config::Pool& b) {
  return a.keys == b.keys && a.max_failures == b.max_failures && a.cooldown == b.cooldown &&
         a.cooldown_max == b.cooldown_max;
}
}  // namespace

bool reload(const std::string& path, proxy::Runtime& rt) {
  auto loaded = config::load_file(path);
  if (auto* errs = std::get_if<std::vector<config::ConfigError>>(&loaded)) {
    for (const auto& e : *errs) {
      LOG_ERROR("config.error").kv("where", e.file + ":" + std::to_string(e.line) + ":" +
                                                std::to_string(e.column))
          .kv("detail", e.message);
    }
    LOG_ERROR("reload.refused").kv("config", path).kv("errors", errs->size());
    return false;
  }
  auto cfg = std::get<std::shared_ptr<const config::Config>>(loaded);
  auto old = rt.current();
  auto next = std::make_shared<proxy::Snapshot>(*proxy::make_snapshot(cfg));
  // A pool whose keys and policy did not change keeps its key pool, and with it the
  // state of every key (cooldowns, disabled keys, counters).
  for (const config::Pool& p : cfg->pools) {
    const config::Pool* before = old->config->find_pool(p.name);
    if (before != nullptr && same_pool_shape(*before, p)) {
      next->pools[p.name] = old->pools.at(p.name);
    }
  }
  log::set_level(cfg->log.level);
  rt.swap(std::move(next));
  LOG_INFO("reload.done").kv("config", path).kv("pools", cfg->pools.size());
  return true;
}

}  // namespace gb::daemon
