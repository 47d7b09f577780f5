// [pool.NAME] tables: fields, then the checks that need the whole pool (default
// base_url per provider, keys merged from keys and keys_file, cooldown bounds).
#include <algorithm>
#include <cstring>

#include "config/keys_file.h"
#include "config/sections.h"

namespace gb::config {

namespace {

constexpr std::string_view kProviders[] = {"gemini", "openai", "anthropic"};
constexpr std::string_view kStrategies[] = {"round_robin", "least_busy", "weighted"};
constexpr size_t kMaxPoolName = 64;

// A pool being read: the parts that are merged or checked once every field is in.
struct PoolDraft {
  Pool pool;
  std::vector<std::string> config_keys;
  std::vector<std::string> file_keys;
  bool keys_reported = false;  // a problem with keys was already reported
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

void read_keys(const Item& it, PoolDraft& d) {
  std::vector<Entry> entries;
  if (!it.strings(&entries)) {
    d.keys_reported = true;
    return;
  }
  if (entries.size() != it.node.as_array()->size()) {
    d.keys_reported = true;  // an element that is not a string was reported
  }
  for (const Entry& e : entries) {
    if (const char* why = check_key(e.value)) {
      it.r.error(*e.node, it.what() + ": a key " + why);
      d.keys_reported = true;
      continue;
    }
    d.config_keys.push_back(e.value);
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

void merge_keys(PoolDraft& d) {
  d.pool.keys.clear();
  for (auto* list : {&d.config_keys, &d.file_keys}) {
    for (std::string& k : *list) {
      if (std::find(d.pool.keys.begin(), d.pool.keys.end(), k) == d.pool.keys.end()) {
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
