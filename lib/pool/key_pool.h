// KeyPool: the upstream API keys of one pool, their health, and which one serves next.
//
// Key states (DESIGN §6): active; cooling until a time per (key, model), because Gemini
// quotas are per model and a key that hit its gemini-2.5-pro limit still serves flash;
// disabled with a reason. Every attempt takes a Lease and gives it back with a Verdict
// (pool/verdict.h); release() moves the key through the state machine.
//
// Thread-safe: one mutex, nothing but bookkeeping under it, shared by all worker loops.
// Pure: no I/O, no clock reads. Every time-dependent call takes `now` (steady clock); the
// per-day quota reset also needs the wall clock, so release() takes `wall` too.
//
// Room to grow: each key's state is one Slot, selection is one function (pick_next), so
// other strategies, probes, ramp-up and restoring state from the store plug in there.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/units.h"
#include "pool/pacific_time.h"
#include "pool/verdict.h"

namespace gb::pool {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct Policy {
  unsigned max_failures = 3;  // consecutive failures that disable a key; 0 never disables
  Duration cooldown{30000};   // first 429 of a (key, model) that names no delay
  Duration cooldown_max{3600000};
  // A key disabled by max_failures (the upstream failing, which may not be the key's
  // fault) is lent for one trial attempt after this long; a success brings it back.
  // 0 keeps it disabled. Keys disabled as invalid stay disabled.
  Duration trial_after{0};
};

enum class KeyState { active, cooling, disabled };

// "active", "cooling", "disabled".
const char* key_state_name(KeyState s);

// One key lent to one upstream attempt. Give it back with release() exactly once.
struct Lease {
  uint32_t index = 0;  // position in the pool, stable for the pool's lifetime
  std::string key;
  std::string id;      // key_id(key): what logs may show
  bool trial = false;  // a disabled key lent for one trial attempt
};

// What a release did to the key, for the log.
struct Transition {
  enum Kind { none, cooled, disabled, enabled } kind = none;
  Duration cool_for{0};  // cooled: how long
  std::string reason;    // disabled: why
};

// Why acquire() found nothing.
struct NoKey {
  // Every key that is not disabled cools for this model (and there is at least one):
  // answer 429 with Retry-After. Otherwise (all disabled, or all usable ones tried): 503.
  bool all_cooling = false;
  // Until the soonest cooling key frees, rounded up to whole seconds, at least 1s;
  // 0 when no key cools for this model.
  Duration retry_after{0};
};

struct Counts {
  size_t active = 0;
  size_t cooling = 0;  // keys cooling for at least one model
  size_t disabled = 0;
};

// One key as gbctl shows it: id and mask only, never the key.
struct KeyView {
  std::string id;
  std::string mask;
  KeyState state = KeyState::active;
  std::string reason;  // why disabled; empty otherwise
  unsigned consecutive_failures = 0;
  unsigned in_flight = 0;
  std::vector<std::pair<std::string, Duration>> cooling;  // model, remaining; by model name
};

class KeyPool {
 public:
  // Empty and repeated keys are dropped (config validation reports them): a repeated
  // key would share one upstream quota under two slots. `seed` drives the backoff jitter.
  KeyPool(std::string name, Policy policy, const std::vector<std::string>& keys, uint64_t seed = 0);
  KeyPool(const KeyPool&) = delete;
  KeyPool& operator=(const KeyPool&) = delete;

  const std::string& name() const { return name_; }
  const Policy& policy() const { return policy_; }
  size_t size() const { return slots_.size(); }
  // The id of the key at `index`; ids never change after construction, so no lock.
  const std::string& id_of(uint32_t index) const { return slots_[index].id; }

  // Lends a key for `model` that is neither disabled nor cooling for it, and not in
  // `tried` (indexes this request already used). Round robin per model. O(n).
  std::variant<Lease, NoKey> acquire(std::string_view model, const std::vector<uint32_t>& tried,
                                     TimePoint now);

  // Gives a lease back with what its attempt meant (DESIGN §6):
  //   success       consecutive failures and this model's 429 streak reset
  //   rate_limited  cooling for (key, model): v.retry_after if set, else
  //                 cooldown * 2^(n-1) capped at cooldown_max, ±10% jitter (never above
  //                 cooldown_max), n = consecutive 429s of this key for this model;
  //                 per_day: until the next Pacific midnight (pacific_time.h).
  //                 A cooldown already running longer is kept, never shortened.
  //   invalid       disabled, reason v.reason
  //   failed        consecutive failures + 1; disabled as "max_failures" at max_failures
  //   client_error, cancelled: untouched
  // A success does not re-enable a disabled key; coming back is the probes' job.
  // A trial lease that succeeds re-enables the key; one that fails keeps it disabled and
  // the next trial waits trial_after again.
  Transition release(const Lease& lease, std::string_view model, const Verdict& v, TimePoint now,
                     WallTime wall);

  Counts counts(TimePoint now) const;
  std::vector<KeyView> snapshot(TimePoint now) const;

 private:
  struct ModelState {
    TimePoint cool_until{};
    unsigned rate_limits = 0;  // consecutive 429s, reset by a success for this model
  };
  struct Slot {
    std::string key;
    std::string id;
    std::string mask;
    bool disabled = false;
    std::string reason;
    unsigned consecutive_failures = 0;
    unsigned in_flight = 0;
    TimePoint disabled_at{};
    bool trial_in_flight = false;  // at most one trial attempt per disabled key
    std::map<std::string, ModelState, std::less<>> models;  // only models that hit a 429
  };

  static bool is_cooling(const Slot& s, std::string_view model, TimePoint now);
  static bool cools_any(const Slot& s, TimePoint now);
  static KeyState state_of(const Slot& s, TimePoint now);

  std::optional<uint32_t> pick_next(std::string_view model, const std::vector<bool>& excluded,
                                    TimePoint now);
  NoKey explain_no_key(std::string_view model, TimePoint now) const;
  void on_success(Slot& s, std::string_view model, TimePoint now);
  void on_rate_limited(Slot& s, std::string_view model, const Verdict& v, TimePoint now,
                       WallTime wall);
  void on_failed(Slot& s, TimePoint now);
  bool trial_due(const Slot& s, TimePoint now) const;
  Duration backoff(unsigned n);

  const std::string name_;
  const Policy policy_;
  mutable std::mutex mu_;
  std::vector<Slot> slots_;  // the vector's shape never changes after construction
  std::map<std::string, uint32_t, std::less<>> cursors_;  // next index to try, per model
  std::mt19937_64 rng_;
};

}  // namespace gb::pool
