#include "store/key_backlog.h"

namespace gb::store {

void KeyBacklog::forget_pool(std::string pool) {
  auto it = changes_.lower_bound({pool, ""});
  while (it != changes_.end() && it->first.first == pool) {
    it = changes_.erase(it);
  }
  forgotten_.insert(std::move(pool));
}

void KeyBacklog::add(pool::KeyChange c) {
  KeyId id{c.record.pool, c.record.hash};
  changes_.insert_or_assign(std::move(id), std::move(c));
}

void KeyBacklog::clear() {
  forgotten_.clear();
  changes_.clear();
}

}  // namespace gb::store
