// [pool.NAME] tables: fields, then the checks that need the whole pool (defaults per
// provider, keys merged from keys and keys_file, cooldown bounds). Two kinds of value
// have tables of their own: an entry of keys may be { key = "...", weight = N }, and
// [pool.NAME.quota."MODEL"] declares a model's limits.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "config/keys_file.h"
#include "config/sections.h"

namespace gb::config {

namespace {

constexpr std::string_view kProviders[] = {"gemini", "openai", "anthropic"};
constexpr std::string_view kStrategies[] = {"round_robin", "least_busy", "weighted"};
constexpr size_t kMaxPoolName = 64;
constexpr size_t kMaxProbeModel = 128;
constexpr unsigned kMaxQueue = 100'000;
constexpr Duration kMaxQueueTimeout = std::chrono::minutes(10);
constexpr Duration kMaxRampUp = std::chrono::hours(1);
// Far above any quota a provider sells, low enough to catch a misplaced digit.
constexpr uint64_t kMaxRpm = 10'000'000;
constexpr uint64_t kMaxTpm = 100'000'000'000;
constexpr uint64_t kMaxRpd = 1'000'000'000;

// A pool being read: the parts that are merged or checked once every field is in.
struct PoolDraft {
  Pool pool;
  std::vector<KeySpec> config_keys;
  std::vector<KeySpec> file_keys;
  bool keys_reported = false;  // a problem with keys was already reported
  bool probe_model_set = false;
  const toml::node* cooldown = nullptr;
  const toml::node* cooldown_max = nullptr;
};

void read_provider(const Item& it, PoolDraft& d) {
  size_t i = 0;
  if (it.choice(kProviders, &i)) {
    d.pool.provider = static_cast<Provider>(i);
  }
}

void read_base_url(const Item& it, PoolDraft& d) {
  std::string url;
  if (!it.string(&url)) {
    return;
  }
  // The message leaves the URL out: it might carry credentials.
  auto origin = parse_origin(url);
  if (!origin) {
    it.fail("is not a usable URL: " + origin.error().context);
    return;
  }
  d.pool.base_url = std::move(url);
  d.pool.origin = std::move(*origin);
}

// How an entry of keys may be written, for messages.
constexpr std::string_view kKeyForms = "strings or tables like { key = \"...\", weight = 2 }";

// An entry of keys written as a table: { key = "...", weight = N }.
struct KeyDraft {
  KeySpec spec;
  bool has_key = false;
  bool bad = false;
};

constexpr Field<KeyDraft> kKeyFields[] = {
    {"key",
     [](const Item& it, KeyDraft& k) {
       std::string key;
       if (!it.string(&key, true)) {
         k.bad = true;
       } else if (const char* why = check_key(key)) {
         it.fail(why);
         k.bad = true;
       } else {
         k.spec.key = std::move(key);
         k.has_key = true;
       }
     }},
    {"weight",
     [](const Item& it, KeyDraft& k) {
       k.bad |= !it.uint(&k.spec.weight, kMinKeyWeight, kMaxKeyWeight);
     }},
};

// Returns false when the entry is unusable (and was reported).
bool read_key_entry(const Item& it, const toml::node& e, KeySpec* out) {
  if (const auto* s = e.as_string()) {
    if (const char* why = check_key(s->get())) {
      it.r.error(e, it.what() + ": a key " + why);
      return false;
    }
    out->key = s->get();
    return true;
  }
  const auto* t = e.as_table();
  if (t == nullptr) {
    it.r.error(e,
               it.what() + " must hold only " + std::string(kKeyForms) + ", not " + type_phrase(e));
    return false;
  }
  std::string label = "an entry of " + it.what();
  KeyDraft k;
  bool all_known = read_fields(it.r, *t, label, kKeyFields, &k);
  if (k.bad || !all_known) {
    return false;  // reported already
  }
  if (!k.has_key) {
    it.r.error(e, label + " has no key: write { key = \"...\", weight = N }");
    return false;
  }
  *out = std::move(k.spec);
  return true;
}

void read_keys(const Item& it, PoolDraft& d) {
  const auto* a = it.node.as_array();
  if (a == nullptr) {
    it.fail("must be an array of " + std::string(kKeyForms) + ", not " + type_phrase(it.node));
    d.keys_reported = true;
    return;
  }
  for (const toml::node& e : *a) {
    KeySpec spec;
    if (read_key_entry(it, e, &spec)) {
      d.config_keys.push_back(std::move(spec));
    } else {
      d.keys_reported = true;
    }
  }
}

void read_keys_file_field(const Item& it, PoolDraft& d) {
  std::string path;
  if (!it.string(&path, true)) {
    d.keys_reported = true;
    return;
  }
  if (path.empty()) {
    return;  // "" spells "no keys file", so an example config can show the key
  }
  d.pool.keys_file = resolve_path(it.r.file(), path);
  KeysFile kf = read_keys_file(d.pool.keys_file);
  if (kf.read_errno != 0) {
    it.fail("names \"" + d.pool.keys_file +
            "\", which cannot be read: " + std::strerror(kf.read_errno));
    d.keys_reported = true;
    return;
  }
  for (ConfigError& e : kf.errors) {
    it.r.error(std::move(e));
    d.keys_reported = true;
  }
  d.file_keys = std::move(kf.keys);
}

void read_models(const Item& it, PoolDraft& d) {
  std::vector<Entry> entries;
  if (!it.strings(&entries)) {
    return;
  }
  if (it.node.as_array()->empty()) {
    it.fail("is empty: list the model globs this pool serves, or \"*\" for every model");
    return;
  }
  d.pool.models.clear();
  for (const Entry& e : entries) {
    if (e.value.empty()) {
      it.r.error(*e.node, it.what() + " has an empty string; \"*\" matches every model");
      continue;
    }
    d.pool.models.push_back(e.value);
  }
}

void read_strategy(const Item& it, PoolDraft& d) {
  size_t i = 0;
  if (it.choice(kStrategies, &i)) {
    d.pool.strategy = static_cast<Strategy>(i);
  }
}

void read_probe_model(const Item& it, PoolDraft& d) {
  std::string model;
  if (!it.string(&model, true)) {
    return;
  }
  // The name goes into a request path unescaped, so only characters that need no escaping.
  auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (model.size() > kMaxProbeModel) {
    it.fail("is longer than " + std::to_string(kMaxProbeModel) + " characters");
    return;
  }
  if (!std::all_of(model.begin(), model.end(), plain)) {
    std::string message =
        "has \"" + model + "\", but a model name may hold only letters, digits, '.', '_' and '-'";
    if (model.starts_with("models/")) {
      message += "; leave out \"models/\"";
    }
    it.fail(message);
    return;
  }
  d.pool.probe_model = std::move(model);
  d.probe_model_set = true;
}

// [pool.NAME.quota."MODEL"]: one declared quota.
struct QuotaDraft {
  Quota quota;
  bool bad = false;
};

template <typename T>
void read_limit(const Item& it, QuotaDraft& q, T* out, uint64_t max) {
  uint64_t v = 0;
  if (it.uint64(&v, 0, max)) {
    *out = static_cast<T>(v);
  } else {
    q.bad = true;
  }
}

constexpr Field<QuotaDraft> kQuotaFields[] = {
    {"rpm", [](const Item& it, QuotaDraft& q) { read_limit(it, q, &q.quota.rpm, kMaxRpm); }},
    {"tpm", [](const Item& it, QuotaDraft& q) { read_limit(it, q, &q.quota.tpm, kMaxTpm); }},
    {"rpd", [](const Item& it, QuotaDraft& q) { read_limit(it, q, &q.quota.rpd, kMaxRpd); }},
};

// One entry of quota: key is the model or glob, node should be its table of limits.
// inner is the pool's table name without brackets ("pool.p").
void read_quota(const Item& it, std::string_view inner, const toml::key& key,
                const toml::node& node, PoolDraft& d) {
  std::string model(key.str());
  if (model.empty()) {
    it.r.error(key.source(), "quota in " + std::string(it.table) +
                                 " has an empty model name; \"*\" matches every model");
    return;
  }
  const toml::table* t = node.as_table();
  if (t == nullptr) {
    // Most likely [pool.p.quota] with rpm = N right under it: the model is missing.
    it.r.error(node, "quota in " + std::string(it.table) +
                         " holds one table per model or glob, like [" + std::string(inner) +
                         ".quota.\"gemini-2.5-pro\"], but \"" + model + "\" is " +
                         type_phrase(node));
    return;
  }
  std::string label = "[" + std::string(inner) + ".quota.\"" + model + "\"]";
  QuotaDraft q;
  q.quota.model = std::move(model);
  if (!read_fields(it.r, *t, label, kQuotaFields, &q) || q.bad) {
    return;
  }
  if (q.quota.rpm == 0 && q.quota.tpm == 0 && q.quota.rpd == 0) {
    it.r.error(key.source(), label + " limits nothing: set rpm, tpm or rpd above 0");
    return;
  }
  d.pool.quotas.push_back(std::move(q.quota));
}

void read_quotas(const Item& it, PoolDraft& d) {
  std::string_view inner = it.table.substr(1, it.table.size() - 2);
  const toml::table* t = it.node.as_table();
  if (t == nullptr) {
    it.fail("must be a table like [" + std::string(inner) + ".quota.\"MODEL\"], not " +
            type_phrase(it.node));
    return;
  }
  for (auto&& [key, node] : *t) {
    read_quota(it, inner, key, node, d);
  }
  // quota_for breaks ties by this order; toml++ happens to iterate in it already.
  std::sort(d.pool.quotas.begin(), d.pool.quotas.end(),
            [](const Quota& a, const Quota& b) { return a.model < b.model; });
}

void read_proxy(const Item& it, PoolDraft& /*d*/) {
  std::string proxy;
  if (it.string(&proxy, true) && !proxy.empty()) {
    it.fail("is not supported yet: gbd connects to base_url directly; remove it or set \"\"");
  }
}

constexpr Field<PoolDraft> kPoolFields[] = {
    {"provider", read_provider},
    {"base_url", read_base_url},
    {"keys", read_keys},
    {"keys_file", read_keys_file_field},
    {"models", read_models},
    {"strategy", read_strategy},
    {"max_retries", [](const Item& it, PoolDraft& d) { it.uint(&d.pool.max_retries, 0, 100); }},
    {"max_failures", [](const Item& it, PoolDraft& d) { it.uint(&d.pool.max_failures, 1, 1000); }},
    {"cooldown",
     [](const Item& it, PoolDraft& d) {
       if (it.duration(&d.pool.cooldown)) {
         d.cooldown = &it.node;
       }
     }},
    {"cooldown_max",
     [](const Item& it, PoolDraft& d) {
       if (it.duration(&d.pool.cooldown_max)) {
         d.cooldown_max = &it.node;
       }
     }},
    {"probe_interval", [](const Item& it, PoolDraft& d) { it.duration(&d.pool.probe_interval); }},
    {"probe_model", read_probe_model},
    {"ramp_up",
     [](const Item& it, PoolDraft& d) { it.duration(&d.pool.ramp_up, true, kMaxRampUp); }},
    {"queue_timeout",
     [](const Item& it, PoolDraft& d) {
       it.duration(&d.pool.queue_timeout, true, kMaxQueueTimeout);
     }},
    {"queue_max", [](const Item& it, PoolDraft& d) { it.uint(&d.pool.queue_max, 0, kMaxQueue); }},
    {"quota", read_quotas},
    {"models_ttl",
     [](const Item& it, PoolDraft& d) {
       it.duration(&d.pool.models_ttl, false, std::chrono::hours(24));
     }},
    {"ca_file", [](const Item& it, PoolDraft& d) { it.string(&d.pool.ca_file); }},
    {"proxy", read_proxy},
};

bool valid_pool_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxPoolName) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// A key given twice keeps its first place and its first weight.
void merge_keys(PoolDraft& d) {
  d.pool.keys.clear();
  std::unordered_set<std::string> seen;
  for (auto* list : {&d.config_keys, &d.file_keys}) {
    for (KeySpec& k : *list) {
      if (seen.insert(k.key).second) {
        d.pool.keys.push_back(std::move(k));
      }
    }
  }
}

void finish_pool(Reader& r, const toml::key& name, std::string_view label, PoolDraft& d) {
  Pool& p = d.pool;
  if (p.base_url.empty()) {
    p.base_url = default_base_url(p.provider);
    p.origin = parse_origin(p.base_url).value();
  }
  if (!d.probe_model_set) {
    p.probe_model = default_probe_model(p.provider);
  }
  merge_keys(d);
  if (p.keys.empty() && !d.keys_reported) {
    std::string message = std::string(label) + " has no keys: add keys = [\"...\"]";
    message += p.keys_file.empty() ? ", or a keys_file with one key a line"
                                   : ", or put keys in \"" + p.keys_file + "\", which has none";
    r.error(name.source(), std::move(message));
  }
  if (p.cooldown > p.cooldown_max) {
    const toml::node* at = d.cooldown != nullptr ? d.cooldown : d.cooldown_max;
    r.error(*at, "cooldown in " + std::string(label) + " (" + format_duration(p.cooldown) +
                     ") is longer than cooldown_max (" + format_duration(p.cooldown_max) + ")");
  }
}

}  // namespace

void read_pools(Reader& r, const toml::table& t, Config* c) {
  // toml::table iterates in key order; pools keep the order of the file.
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, node] : t) {
    entries.emplace_back(&key, &node);
  }
  auto position = [](const auto& e) {
    const auto& b = e.first->source().begin;
    return std::make_pair(b.line, b.column);
  };
  std::sort(entries.begin(), entries.end(),
            [&](const auto& a, const auto& b) { return position(a) < position(b); });
  for (auto [key, node] : entries) {
    std::string name(key->str());
    std::string label = "[pool." + name + "]";
    if (!valid_pool_name(name)) {
      r.error(key->source(),
              "pool name \"" + name + "\" must be 1 to 64 letters, digits, '_' or '-'");
    }
    const toml::table* pt = node->as_table();
    if (pt == nullptr) {
      r.error(*node,
              "pool." + name + " must be a table like " + label + ", not " + type_phrase(*node));
      continue;
    }
    PoolDraft d;
    d.pool.name = name;
    read_fields(r, *pt, label, kPoolFields, &d);
    finish_pool(r, *key, label, d);
    c->pools.push_back(std::move(d.pool));
  }
}

}  // namespace gb::config
