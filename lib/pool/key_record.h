// KeyRecord: one key's durable state, as the store keeps it and a pool restores it.
//
// The pool exports records of keys that changed (KeyPool::take_changes) and imports them
// at startup (KeyPool::restore). Times are wall-clock Unix milliseconds, because steady
// clock values mean nothing after a restart. Pure data: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gb::pool {

// Per (key, model) state worth keeping: a running cooldown, the 429 streak that drives
// the backoff, and the per-day request count for declared `rpd` quotas.
struct ModelRecord {
  std::string model;
  int64_t cool_until_ms = 0;  // 0: not cooling
  unsigned rate_limits = 0;   // consecutive 429s for this model
  int64_t day = 0;            // Pacific calendar day (days since epoch) of day_requests
  uint32_t day_requests = 0;
};

struct KeyRecord {
  std::string pool;
  std::string hash;    // SHA-256 of the key, 64 lowercase hex: the identity (ids may collide)
  std::string id;      // key_id(key): first 8 hex digits, for people
  std::string mask;    // key_mask(key)
  std::string origin;  // "config" or "runtime"
  // The key itself, kept only for runtime keys (added through gbctl), which exist nowhere
  // else. Config keys are matched by hash and never written to the database.
  std::string secret;
  bool disabled = false;
  std::string reason;  // why disabled: "API_KEY_INVALID", "max_failures", "manual", ...
  unsigned consecutive_failures = 0;
  int64_t disabled_at_ms = 0;
  int64_t enabled_at_ms = 0;  // when a probe re-enabled it: the ramp-up starts here
  unsigned weight = 1;
  // Lifetime counters.
  uint64_t requests = 0;
  uint64_t failures = 0;
  uint64_t rate_limited = 0;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  std::string last_error;  // reason word of the last failed attempt
  int64_t last_error_ms = 0;
  int64_t last_used_ms = 0;
  std::vector<ModelRecord> models;
};

// A change to write: a record to upsert, or a key that left its pool.
struct KeyChange {
  KeyRecord record;  // for a removal only pool and hash are meaningful
  bool removed = false;
};

}  // namespace gb::pool
