#include "proxy/models_cache.h"

namespace gb::proxy {

std::optional<std::vector<std::string>> ModelsCache::get(const std::string& pool,
                                                         Clock::duration ttl,
                                                         Clock::time_point now) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(pool);
  if (it == entries_.end() || now - it->second.fetched >= ttl) {
    return std::nullopt;
  }
  return it->second.ids;
}

void ModelsCache::put(const std::string& pool, std::vector<std::string> ids,
                      Clock::time_point now) {
  std::lock_guard lock(mu_);
  entries_[pool] = Entry{now, std::move(ids)};
}

}  // namespace gb::proxy
