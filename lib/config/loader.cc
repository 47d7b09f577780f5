// load_file and load_string: parse, read each top-level table, then the checks that
// span tables. Exceptions stop here: toml++ throws on a syntax error, callers get a
// list of ConfigError.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <tuple>

#include "config/config.h"
#include "config/reader.h"
#include "config/sections.h"
#include "config/suggest.h"

namespace gb::config {

namespace {

struct Section {
  std::string_view name;
  void (*read)(Reader& r, const toml::table& t, Config* c);
};

constexpr Section kSections[] = {
    {"server", read_server}, {"limits", read_limits}, {"clients", read_clients},
    {"pool", read_pools},    {"log", read_log},
};

void unknown_top_level(Reader& r, const toml::key& key, const toml::node& node,
                       std::span<const std::string_view> names) {
  std::string name(key.str());
  if (!node.is_table()) {
    r.error(key.source(), "unknown key \"" + name +
                              "\" at the top level: settings belong in a table such as [server]");
    return;
  }
  std::string message = "unknown table [" + name + "]";
  std::string_view near = closest(name, names);
  if (!near.empty()) {
    message += "; did you mean [" + std::string(near) + "]?";
  }
  r.error(key.source(), std::move(message));
}

void read_root(Reader& r, const toml::table& root, Config* c) {
  std::string_view names[std::size(kSections)];
  for (size_t i = 0; i < std::size(kSections); ++i) {
    names[i] = kSections[i].name;
  }
  for (auto&& [key, node] : root) {
    const Section* section = nullptr;
    for (const Section& s : kSections) {
      if (s.name == key.str()) {
        section = &s;
      }
    }
    if (section == nullptr) {
      unknown_top_level(r, key, node, names);
      continue;
    }
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      r.error(node, std::string(key.str()) + " must be a table like [" + std::string(key.str()) +
                        "], not " + type_phrase(node));
      continue;
    }
    section->read(r, *t, c);
  }
}

// A [pool] table that is present but not a table was reported by read_root already.
void check_some_pool(Reader& r, const toml::table& root) {
  const toml::node* pool = root.get("pool");
  if (pool != nullptr && !(pool->is_table() && pool->as_table()->empty())) {
    return;
  }
  std::string message =
      "no pools: add a [pool.NAME] table with keys, e.g. [pool.gemini] with keys = [\"...\"]";
  if (pool == nullptr) {
    r.error(ConfigError{r.file(), 0, 0, std::move(message)});
  } else {
    r.error(*pool, std::move(message));
  }
}

// Where the first non-loopback listen address is written, for the error about it.
toml::source_region listen_source(const toml::table& root, const std::string& text) {
  const toml::array* listen = root.at_path("server.listen").as_array();
  if (listen == nullptr) {
    return {};
  }
  for (const toml::node& e : *listen) {
    const auto* s = e.as_string();
    if (s == nullptr) {
      continue;
    }
    auto addr = parse_listen(s->get());
    if (addr && addr->text == text) {
      return e.source();
    }
  }
  return listen->source();
}

// DESIGN §2: an open listener without tokens would let anyone spend the keys.
void check_open_listener(Reader& r, const toml::table& root, const Config& c) {
  if (!c.clients.tokens.empty() || c.clients.allow_anonymous) {
    return;
  }
  for (const ListenAddr& a : c.server.listen) {
    if (a.is_loopback()) {
      continue;
    }
    r.error(listen_source(root, a.text),
            "listen address " + a.text +
                " is not loopback, and [clients] has no tokens: anyone who can reach it could "
                "use your keys. Add tokens = [\"...\"] to [clients], or set allow_anonymous = "
                "true in [clients] if every client on that network may use gbd");
    return;
  }
}

void sort_errors(std::vector<ConfigError>& errors, const std::string& main_file) {
  std::stable_sort(errors.begin(), errors.end(), [&](const ConfigError& a, const ConfigError& b) {
    auto rank = [&](const ConfigError& e) {
      return std::make_tuple(e.file != main_file, e.file, e.line, e.column);
    };
    return rank(a) < rank(b);
  });
}

}  // namespace

LoadResult load_string(std::string_view text, const std::string& name) {
  std::vector<ConfigError> errors;
  toml::table root;
  try {
    root = toml::parse(text, std::string(name));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    errors.push_back(ConfigError{name, b.line, b.column, std::string(e.description())});
    return errors;
  }
  auto c = std::make_shared<Config>();
  c->path = name;
  c->server.listen.push_back(parse_listen("127.0.0.1:8000").value());
  Reader r(name, &errors);
  read_root(r, root, c.get());
  check_some_pool(r, root);
  check_open_listener(r, root, *c);
  if (!errors.empty()) {
    sort_errors(errors, name);
    return errors;
  }
  return std::shared_ptr<const Config>(std::move(c));
}

LoadResult load_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    return std::vector<ConfigError>{
        {path, 0, 0, std::string("cannot open: ") + std::strerror(err)}};
  }
  std::string text;
  char buf[8192];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
  }
  int err = std::ferror(f) ? (errno != 0 ? errno : EIO) : 0;
  std::fclose(f);
  if (err != 0) {
    return std::vector<ConfigError>{
        {path, 0, 0, std::string("cannot read: ") + std::strerror(err)}};
  }
  return load_string(text, path);
}

}  // namespace gb::config
