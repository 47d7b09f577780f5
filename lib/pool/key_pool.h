// KeyPool: the upstream API keys of one pool, their health, and which one serves next.
//
// Key states (DESIGN §6): active; cooling until a time per (key, model), because Gemini
// quotas are per model and a key that hit its gemini-2.5-pro limit still serves flash;
// disabled with a reason. Every attempt takes a Lease and gives it back with a Verdict
// (pool/verdict.h); release() moves the key through the state machine. Disabled keys
// come back through probes (due_probes / probe_done), then ramp up to their full share.
//
// Selection is O(log n) per request: each model with traffic has a Lane, a SelectTree
// over key positions where a key that is disabled or blocked for that model (cooling
// after a 429, or at a declared rpm/tpm/rpd quota) is unavailable. A blocked key is
// also in the lane's wake-up heap and becomes available again when its time comes.
// When every key of a model is blocked, a request may wait in the lane's WaitQueue
// (queue_timeout); a key that frees goes to the waiters first, fairly across tokens.
//
// Thread-safe: one mutex, nothing but bookkeeping under it, shared by all worker loops.
// Pure: no I/O, no clock reads. Calls take `now` (steady clock) and, where per-day
// quotas or persistence need it, `wall` (system clock).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/units.h"
#include "pool/key_record.h"
#include "pool/pacific_time.h"
#include "pool/quota_window.h"
#include "pool/select_tree.h"
#include "pool/verdict.h"
#include "pool/wait_queue.h"

namespace gb::pool {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

enum class Strategy { round_robin, least_busy, weighted };

// "round_robin", "least_busy", "weighted": the config's words.
const char* strategy_name(Strategy s);

struct Policy {
  Strategy strategy = Strategy::round_robin;
  unsigned max_failures = 3;  // consecutive failures that disable a key; 0 never disables
  Duration cooldown{30000};   // first 429 of a (key, model) that names no delay
  Duration cooldown_max{3600000};
  Duration probe_interval{1800000};  // disabled keys are probed this often; 0 = never
  Duration ramp_up{60000};  // a probed-back key grows from 10% to its full share; 0 = at once
  size_t queue_max = 100;   // waiting requests in the whole pool
  // Declared per-key limits of a model; empty function or all-zero limits = none.
  std::function<QuotaLimits(std::string_view model)> quota_for;
};

struct KeySpec {
  std::string key;
  unsigned weight = 1;
};

enum class KeyState { active, cooling, disabled };

// "active", "cooling", "disabled".
const char* key_state_name(KeyState s);

// One key lent to one upstream attempt. Give it back with release() exactly once.
struct Lease {
  uint32_t index = 0;  // position in the pool
  uint32_t gen = 0;    // the position's generation: a removed key's lease changes nothing
  std::string key;
  std::string id;  // key_id(key): what logs may show
};

// A disabled key lent to one probe. Give it back with probe_done() exactly once.
struct ProbeLease {
  uint32_t index = 0;
  uint32_t gen = 0;
  std::string key;
  std::string id;
};

// What a release or probe did to the key, for the log.
struct Transition {
  enum Kind { none, cooled, disabled, enabled } kind = none;
  Duration cool_for{0};  // cooled: how long
  std::string reason;    // disabled: why; cooled: "rate_limited" or "quota_rpm", ...
};

// Why acquire() found nothing.
struct NoKey {
  // Every key that is not disabled is blocked for this model (and there is at least
  // one): answer 429 with Retry-After. Otherwise (all disabled, or all usable ones
  // tried): 503.
  bool all_cooling = false;
  // Until the soonest blocked key frees, rounded up to whole seconds, at least 1s;
  // 0 when no key is blocked for this model.
  Duration retry_after{0};
};

// The request was queued: its Waiter will be handed a lease, or cancel_wait() it.
struct Queued {
  TimePoint next_free;  // when the soonest blocked key frees: worth polling then
};

// What a request may do when no key is free: wait until `deadline` in the queue.
struct WaitSpec {
  std::shared_ptr<Waiter> waiter;
  TimePoint deadline;
};

using Acquired = std::variant<Lease, NoKey, Queued>;

struct Counts {
  size_t active = 0;
  size_t cooling = 0;  // keys cooling for at least one model
  size_t disabled = 0;
  size_t waiting = 0;  // queued requests
};

// One key as gbctl shows it: id and mask only, never the key.
struct KeyView {
  uint32_t index = 0;  // position, as match() returns it
  std::string id;
  std::string hash;
  std::string mask;
  bool runtime = false;  // added at run time (gbctl keys add), not from the config
  KeyState state = KeyState::active;
  std::string reason;  // why disabled; empty otherwise
  unsigned weight = 1;
  unsigned consecutive_failures = 0;
  unsigned in_flight = 0;
  double share = 1.0;  // < 1 while ramping up after a probe brought it back
  uint64_t requests = 0, failures = 0, rate_limited = 0, tokens_in = 0, tokens_out = 0;
  std::string last_error;
  std::vector<std::pair<std::string, Duration>> cooling;  // model, remaining; by model name
};

// Result of adding one key at run time.
struct AddResult {
  std::string id;
  std::string mask;
  bool added = false;  // false: the pool already had it
};

class KeyPool {
 public:
  // Empty and repeated keys are dropped (config validation reports them): a repeated
  // key would share one upstream quota under two positions. `seed` drives jitter and
  // weighted choice.
  KeyPool(std::string name, Policy policy, const std::vector<KeySpec>& config_keys,
          uint64_t seed = 0);
  KeyPool(const KeyPool&) = delete;
  KeyPool& operator=(const KeyPool&) = delete;

  const std::string& name() const { return name_; }
  size_t size() const;
  Policy policy() const;

  // ---- requests

  // Lends a key for `model` that is neither disabled nor blocked for it, and not in
  // `tried` (positions this request already used). With `wait`, a request that finds
  // every key blocked and the soonest free before wait->deadline is queued instead
  // (if the pool's queue has room). Keys that freed go to earlier waiters first; a
  // waiter may be handed a key it tried before, which has cooled down since.
  Acquired acquire(std::string_view model, const std::vector<uint32_t>& tried, TimePoint now,
                   WallTime wall, const WaitSpec* wait = nullptr);

  // Serves waiters of `model` whose keys have freed by `now`. Returns when the next
  // blocked key frees (for the caller's timer), or nullopt when no key is blocked.
  std::optional<TimePoint> poll(std::string_view model, TimePoint now, WallTime wall);

  // Takes a waiter out of the queue; false if it is not there (a lease is on its way).
  bool cancel_wait(const std::shared_ptr<Waiter>& w);

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
  // `tokens` (from the answer's usageMetadata) count against a declared tpm.
  // A success does not re-enable a disabled key; coming back is the probes' job.
  Transition release(const Lease& lease, std::string_view model, const Verdict& v, TimePoint now,
                     WallTime wall, uint64_t tokens_in = 0, uint64_t tokens_out = 0);

  // ---- probes

  // Disabled keys due for a probe (not disabled by hand, no probe in flight, at least
  // probe_interval since they were disabled or last probed), at most `max`.
  std::vector<ProbeLease> due_probes(TimePoint now, size_t max);
  // When the next probe falls due; nullopt when no key waits for one.
  std::optional<TimePoint> next_probe(TimePoint now);
  // A probe's answer: success (or a 429, which proves the key is accepted) re-enables
  // the key with a ramp-up; anything else keeps it disabled until the next probe.
  Transition probe_done(const ProbeLease& p, const Verdict& v, TimePoint now, WallTime wall);

  // ---- management (gbctl)

  // Positions of the keys a selector names: an id (8 hex), a hash, the whole key, or a
  // mask or a prefix of one. Several positions when a short selector is ambiguous.
  std::vector<uint32_t> match(std::string_view selector) const;
  std::vector<AddResult> add_runtime_keys(const std::vector<std::string>& keys, TimePoint now,
                                          WallTime wall);
  // Removes a runtime key; false if the position holds a config key (or nothing).
  bool remove_runtime_key(uint32_t index);
  // Failure counters to 0, cooldowns and quota blocks cleared, disabled keys back to
  // active at full share (an operator asked for it).
  void reset(const std::vector<uint32_t>& indexes, TimePoint now, WallTime wall);
  void reset_all(TimePoint now, WallTime wall);
  // Parks a key (reason "manual", never probed) or brings a parked or disabled key back.
  void set_manual(uint32_t index, bool disabled, TimePoint now, WallTime wall);

  // ---- configuration and persistence

  // A reload: new policy and config keys. A config key already here keeps its state;
  // a config key no longer listed leaves (unless it was also added at run time); new
  // keys start active. Runtime keys stay.
  void reconfigure(Policy policy, const std::vector<KeySpec>& config_keys, TimePoint now,
                   WallTime wall);
  // Startup: state saved by the store. Config keys reattach by hash (records of config
  // keys no longer configured become removals in take_changes); runtime keys come back
  // with their secret.
  void restore(const std::vector<KeyRecord>& records, TimePoint now, WallTime wall);
  // Keys whose state changed since the last call, and keys that left.
  std::vector<KeyChange> take_changes(TimePoint now, WallTime wall);

  // ---- views

  Counts counts(TimePoint now) const;
  std::vector<KeyView> snapshot(TimePoint now) const;

 private:
  struct ModelState {
    TimePoint cool_until{};   // after a 429
    TimePoint quota_until{};  // at a declared rpm/tpm/rpd limit
    unsigned rate_limits = 0;  // consecutive 429s, reset by a success for this model
    QuotaWindow window;
    int64_t day = 0;  // Pacific day of day_requests
    uint32_t day_requests = 0;
  };
  struct Slot {
    bool live = false;
    uint32_t gen = 0;
    std::string key, id, hash, mask;
    bool in_config = false;
    bool runtime = false;
    unsigned weight = 1;
    bool disabled = false;
    std::string reason;
    unsigned consecutive_failures = 0;
    unsigned in_flight = 0;
    TimePoint disabled_at{};
    TimePoint next_probe{};
    bool probe_in_flight = false;
    TimePoint ramp_from{};  // {} = not ramping
    bool dirty = false;
    uint64_t requests = 0, failures = 0, rate_limited = 0, tokens_in = 0, tokens_out = 0;
    std::string last_error;
    WallTime last_error_at{}, last_used{};
    std::map<std::string, ModelState, std::less<>> models;
  };
  using Wake = std::pair<TimePoint, std::pair<uint32_t, uint32_t>>;  // when, (index, gen)
  struct Lane {
    explicit Lane(SelectTree::Kind k) : tree(k) {}
    SelectTree tree;
    uint32_t cursor = 0;
    std::priority_queue<Wake, std::vector<Wake>, std::greater<>> wakes;
    WaitQueue waiters;
    TimePoint last_used{};
    QuotaLimits quota;
  };
  using Deliveries = std::vector<std::pair<std::shared_ptr<Waiter>, Lease>>;

  static void deliver(Deliveries& d);
  // Callers read the clock before taking the lock, so two threads can arrive out of
  // order by a few microseconds; the pool's own time never goes back, or a key whose
  // wake-up already ran could be marked blocked again with nothing left to wake it.
  TimePoint monotonic(TimePoint now);
  static bool blocked(const Slot& s, std::string_view model, TimePoint now);
  static TimePoint blocked_until(const Slot& s, std::string_view model);
  static KeyState state_of(const Slot& s, TimePoint now);

  Lane& lane_for(std::string_view model, TimePoint now);
  void build_lane(std::string_view model, Lane& lane, TimePoint now);
  uint32_t leaf_value(const Slot& s) const;
  void refresh(uint32_t index, TimePoint now);  // every lane's leaf of one key
  void refresh_in(Lane& lane, std::string_view model, uint32_t index, TimePoint now);
  void wake_due(Lane& lane, std::string_view model, TimePoint now);
  std::optional<uint32_t> pick(Lane& lane, std::string_view model,
                               const std::vector<uint32_t>& tried, TimePoint now, WallTime wall);
  std::optional<uint32_t> pick_once(Lane& lane);
  bool over_quota(Lane& lane, std::string_view model, uint32_t index, TimePoint now,
                  WallTime wall);
  Lease lend(Lane& lane, std::string_view model, uint32_t index, TimePoint now, WallTime wall);
  void serve_waiters(Lane& lane, std::string_view model, TimePoint now, WallTime wall,
                     Deliveries& out);
  void serve_all_waiters(TimePoint now, WallTime wall, Deliveries& out);
  NoKey explain_no_key(std::string_view model, TimePoint now) const;
  std::optional<TimePoint> soonest_free(std::string_view model, TimePoint now) const;
  void block(std::string_view model, uint32_t index, TimePoint until);
  void on_rate_limited(Slot& s, std::string_view model, const Verdict& v, TimePoint now,
                       WallTime wall);
  void disable(uint32_t index, std::string reason, TimePoint now);
  void enable(uint32_t index, TimePoint now, bool ramp);
  void schedule_probe(uint32_t index, TimePoint at);
  bool probe_current(const Wake& w) const;  // the entry still describes a due probe
  Duration backoff(unsigned n);
  double share_of(const Slot& s, TimePoint now) const;
  uint32_t add_slot(const std::string& key, unsigned weight);
  void remove_slot(uint32_t index);
  KeyRecord record_of(const Slot& s, TimePoint now, WallTime wall) const;
  void mark(Slot& s);
  std::map<std::string, uint32_t, std::less<>>::const_iterator find_key(std::string_view k) const;

  const std::string name_;
  mutable std::mutex mu_;
  Policy policy_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;  // positions of removed keys, for reuse
  std::map<std::string, uint32_t, std::less<>> by_key_;
  std::map<std::string, Lane, std::less<>> lanes_;
  std::priority_queue<Wake, std::vector<Wake>, std::greater<>> probes_;
  std::vector<uint32_t> dirty_;
  std::vector<KeyChange> removed_;
  size_t waiting_ = 0;
  TimePoint latest_{};
  std::mt19937_64 rng_;
};

}  // namespace gb::pool
