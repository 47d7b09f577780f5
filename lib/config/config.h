// The configuration: gbd.toml parsed, validated and resolved into an immutable snapshot.
//
// A Config is built once and never changed; a reload builds a new one and swaps the
// shared pointer, and a request keeps the snapshot it started with. Loading collects
// every error it finds, each with file:line:col, because a person fixing a file wants
// all of them at once. Key health is not config: it lives in the store, keyed by pool
// and key, and reattaches to each new snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/log.h"
#include "base/units.h"
#include "base/url.h"

namespace gb::config {

enum class Provider { gemini, openai, anthropic };
enum class Strategy { round_robin, least_busy, weighted };

const char* provider_name(Provider p);
const char* strategy_name(Strategy s);
// Where a pool of this provider sends requests when base_url is not set.
const char* default_base_url(Provider p);
// The model a probe of a disabled key asks for when probe_model is not set; "" means
// the models list instead.
const char* default_probe_model(Provider p);

struct Server {
  std::vector<ListenAddr> listen;  // never empty once loaded
  unsigned workers = 0;            // 0 = one per CPU, resolved by the daemon
  std::string control_socket = "/run/gbd/gbd.sock";
  std::string state_dir = "/var/lib/gbd";
};

struct Limits {
  uint64_t max_body = 32 * kMiB;
  uint64_t max_header = 64 * kKiB;
  unsigned max_connections = 10000;
  Duration header_timeout = std::chrono::seconds(10);
  Duration idle_timeout = std::chrono::seconds(60);
  Duration connect_timeout = std::chrono::seconds(10);
  Duration upstream_timeout = std::chrono::seconds(600);
  Duration stream_idle_timeout = std::chrono::seconds(120);
  Duration send_timeout = std::chrono::seconds(60);
  // After TERM or INT, how long requests and streams in flight may run before they are
  // cut; 0 cuts at once. Read when the signal arrives.
  Duration shutdown_grace = std::chrono::seconds(30);
  // A control connection that sends nothing for this long is closed (not while it
  // follows a stream).
  Duration control_idle_timeout = std::chrono::seconds(60);
  unsigned control_clients = 64;  // control connections open at once
  // Images that OpenAI requests name by http(s) URL are downloaded by gbd: at most
  // media_max bytes each, within media_timeout; from private, loopback and link-local
  // addresses only with media_private (a client could otherwise make gbd reach
  // services that only gbd's host can see).
  uint64_t media_max = 20 * kMiB;
  Duration media_timeout = std::chrono::seconds(10);
  bool media_private = false;
};

struct Clients {
  std::vector<std::string> tokens;  // deduplicated, order kept
  bool allow_anonymous = false;
};

// One upstream key of a pool.
struct KeySpec {
  std::string key;
  unsigned weight = 1;  // 1..1000; only strategy = "weighted" uses it
  bool operator==(const KeySpec&) const = default;
};

// Limits the upstream enforces per key for one model or glob of models
// ([pool.NAME.quota."MODEL"]), declared so that selection can skip a key before the
// upstream answers 429. 0 = no limit; at least one of the three is above 0.
struct Quota {
  std::string model;  // an exact model name or a glob
  uint32_t rpm = 0;   // requests per minute per key
  uint64_t tpm = 0;   // tokens per minute per key, as counted by the upstream's answers
  uint32_t rpd = 0;   // requests per day per key; the day ends at midnight Pacific time
  bool operator==(const Quota&) const = default;
};

struct Pool {
  std::string name;
  Provider provider = Provider::gemini;
  std::string base_url;       // as written, or the provider's default
  Origin origin;              // base_url parsed
  std::vector<KeySpec> keys;  // config keys then keys_file keys, deduplicated by key
                              // (the first one wins), order kept; never empty
  std::string keys_file;      // resolved against the config file's directory; "" if unset
  std::vector<std::string> models = {"*"};
  Strategy strategy = Strategy::round_robin;
  unsigned max_retries = 3;
  unsigned max_failures = 3;
  Duration cooldown = std::chrono::seconds(30);
  Duration cooldown_max = std::chrono::hours(1);
  Duration probe_interval = std::chrono::minutes(30);
  // The model a probe asks for (models.get); "" probes with the models list. Only
  // letters, digits, '.', '_' and '-'. Defaults per provider: default_probe_model().
  std::string probe_model = "gemini-2.5-flash";
  // A key that a probe re-enabled grows from a small share of traffic to its full
  // share over this time; 0 = full share at once.
  Duration ramp_up = std::chrono::seconds(60);
  // How long a request may wait for a key when every key for its model is cooling or
  // at a declared quota; 0 = answer at once.
  Duration queue_timeout{0};
  unsigned queue_max = 100;   // requests waiting at once in this pool; more are answered at once
  std::vector<Quota> quotas;  // sorted by model, no two with the same model
  // How long the upstream's models list, which GET /v1/models shows, is kept.
  Duration models_ttl = std::chrono::minutes(10);
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  std::string proxy;  // always "" for now: a non-empty proxy is refused

  // The quota declared for model: a quota named exactly model, else the one with the
  // longest glob that matches it (the first by name among equally long ones); nullptr
  // if none.
  const Quota* quota_for(std::string_view model) const;
};

// The quota rule of Pool::quota_for over any list sorted by model.
const Quota* find_quota(const std::vector<Quota>& quotas, std::string_view model);

struct Log {
  gb::log::Level level = gb::log::Level::info;
  bool requests = true;
  Duration retention = std::chrono::days(30);
};

struct Config {
  std::string path;  // the file it was loaded from (or the name given to load_string)
  Server server;
  Limits limits;
  Clients clients;
  std::vector<Pool> pools;  // in file order
  Log log;

  // The first pool (in file order) one of whose models globs matches; nullptr if none.
  const Pool* pool_for_model(std::string_view model) const;
  // The pool with this name; nullptr if none.
  const Pool* find_pool(std::string_view name) const;
};

struct ConfigError {
  std::string file;
  unsigned line = 0, column = 0;  // 1-based; 0 when the error is about the whole file
  std::string message;

  // "file:line:col: message", or "file: message" without a position.
  std::string to_string() const;
};

using LoadResult = std::variant<std::shared_ptr<const Config>, std::vector<ConfigError>>;

// Loads, validates and resolves; on failure returns every error found, sorted by
// position. Reads keys_file files (relative paths against the config file's directory).
LoadResult load_file(const std::string& path);
// Same, from memory; name stands for the file in errors and anchors relative paths.
LoadResult load_string(std::string_view toml, const std::string& name);

// fnmatch-style match of a whole string: '*' is any run of characters, '?' any one.
// No character classes and no escapes: model names never need them.
bool glob_match(std::string_view pattern, std::string_view s);

}  // namespace gb::config
