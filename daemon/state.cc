#include "daemon/state.h"

#include <map>

#include "base/log.h"

namespace gb::daemon {

store::Options store_options(const config::Config& cfg) {
  store::Options opt;
  opt.retention = cfg.log.retention;
  opt.request_log = cfg.log.requests;
  return opt;
}

std::unique_ptr<store::Store> open_state(const config::Config& cfg) {
  auto opened = store::Store::open(cfg.server.state_dir, store_options(cfg));
  if (!opened) {
    LOG_ERROR("state.open_failed")
        .kv("state_dir", cfg.server.state_dir)
        .kv("detail", opened.error().context);
    return nullptr;
  }
  return std::move(opened.value());
}

bool restore_state(store::Store& store, const proxy::Snapshot& snap) {
  auto loaded = store.load_keys();
  if (!loaded) {
    LOG_ERROR("state.load_failed").kv("db", store.path()).kv("detail", loaded.error().context);
    return false;
  }
  std::map<std::string, std::vector<pool::KeyRecord>> by_pool;
  for (pool::KeyRecord& r : loaded.value()) {
    by_pool[r.pool].push_back(std::move(r));
  }
  auto now = pool::Clock::now();
  auto wall = std::chrono::system_clock::now();
  size_t keys = 0;
  for (auto& [name, records] : by_pool) {
    auto it = snap.pools.find(name);
    if (it == snap.pools.end()) {
      store.forget_pool(name);  // the pool left the config while gbd was down
      continue;
    }
    keys += records.size();
    it->second->restore(records, now, wall);
  }
  LOG_INFO("state.restored").kv("db", store.path()).kv("keys", keys);
  return true;
}

store::Store::KeySource key_source(proxy::Runtime& rt) {
  return [&rt] {
    std::shared_ptr<const proxy::Snapshot> snap = rt.current();
    auto now = pool::Clock::now();
    auto wall = std::chrono::system_clock::now();
    std::vector<pool::KeyChange> out;
    for (const auto& [name, keys] : snap->pools) {
      std::vector<pool::KeyChange> changes = keys->take_changes(now, wall);
      out.insert(out.end(), std::make_move_iterator(changes.begin()),
                 std::make_move_iterator(changes.end()));
    }
    return out;
  };
}

}  // namespace gb::daemon
