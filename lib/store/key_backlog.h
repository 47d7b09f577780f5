// KeyBacklog: key writes that are not committed yet.
//
// The pools hand each change over once, so a change whose transaction failed must wait
// here for the next flush. Memory stays bounded by the number of keys: only the latest
// change of each (pool, hash) is kept. A forgotten pool is deleted before any change is
// written, and forgetting drops the pool's older changes, so what reaches the disk
// follows the order of events: older changes, then the deletion, then newer changes.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>

#include "pool/key_record.h"

namespace gb::store {

class KeyBacklog {
 public:
  using KeyId = std::pair<std::string, std::string>;  // (pool, hash)

  // Changes added before this call for `pool` are dropped: the deletion supersedes them.
  void forget_pool(std::string pool);
  // Replaces an older change of the same key.
  void add(pool::KeyChange c);

  bool empty() const { return changes_.empty() && forgotten_.empty(); }
  // Writes it stands for: one per key change, one per forgotten pool.
  size_t size() const { return changes_.size() + forgotten_.size(); }
  const std::set<std::string>& forgotten() const { return forgotten_; }
  const std::map<KeyId, pool::KeyChange>& changes() const { return changes_; }
  void clear();

 private:
  std::set<std::string> forgotten_;
  std::map<KeyId, pool::KeyChange> changes_;
};

}  // namespace gb::store
