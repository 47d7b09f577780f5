// [server], [limits], [clients] and [log]. Each is a table of fields: the key, and how
// its value is read and checked. Ranges live here, next to the key they bound.
#include "config/sections.h"

#include <sys/un.h>

#include <algorithm>

#include "config/keys_file.h"

namespace gb::config {

namespace {

// sun_path holds the socket path and its terminating NUL.
constexpr size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;

void read_listen(const Item& it, Server& s) {
  std::vector<Entry> entries;
  if (!it.strings(&entries)) {
    return;
  }
  if (it.node.as_array()->empty()) {
    it.fail("is empty: give at least one address, like [\"127.0.0.1:8000\"]");
    return;
  }
  s.listen.clear();
  for (const Entry& e : entries) {
    auto addr = parse_listen(e.value);
    if (!addr) {
      it.r.error(*e.node, it.what() + ": \"" + e.value + "\": " + addr.error().context);
      continue;
    }
    auto same = [&](const ListenAddr& a) { return a.text == addr->text; };
    if (std::any_of(s.listen.begin(), s.listen.end(), same)) {
      it.r.error(*e.node, it.what() + " has " + addr->text + " twice");
      continue;
    }
    s.listen.push_back(std::move(*addr));
  }
}

void read_control_socket(const Item& it, Server& s) {
  std::string path;
  if (!it.string(&path)) {
    return;
  }
  if (path.size() > kMaxSocketPath) {
    it.fail("is longer than " + std::to_string(kMaxSocketPath) +
            " bytes, the limit for a Unix socket path");
    return;
  }
  s.control_socket = std::move(path);
}

constexpr Field<Server> kServerFields[] = {
    {"listen", read_listen},
    {"workers", [](const Item& it, Server& s) { it.uint(&s.workers, 0, 1024); }},
    {"control_socket", read_control_socket},
    {"state_dir", [](const Item& it, Server& s) { it.string(&s.state_dir); }},
};

constexpr Field<Limits> kLimitsFields[] = {
    {"max_body", [](const Item& it, Limits& l) { it.size(&l.max_body, 1, 4 * kGiB); }},
    {"max_header", [](const Item& it, Limits& l) { it.size(&l.max_header, kKiB, kMiB); }},
    {"max_connections",
     [](const Item& it, Limits& l) { it.uint(&l.max_connections, 1, 1'000'000); }},
    {"header_timeout", [](const Item& it, Limits& l) { it.duration(&l.header_timeout); }},
    {"idle_timeout", [](const Item& it, Limits& l) { it.duration(&l.idle_timeout); }},
    {"connect_timeout", [](const Item& it, Limits& l) { it.duration(&l.connect_timeout); }},
    {"upstream_timeout", [](const Item& it, Limits& l) { it.duration(&l.upstream_timeout); }},
    {"stream_idle_timeout", [](const Item& it, Limits& l) { it.duration(&l.stream_idle_timeout); }},
    {"send_timeout", [](const Item& it, Limits& l) { it.duration(&l.send_timeout); }},
    {"shutdown_grace",
     [](const Item& it, Limits& l) {
       it.duration(&l.shutdown_grace, true, std::chrono::hours(1));
     }},
    {"control_idle_timeout",
     [](const Item& it, Limits& l) {
       it.duration(&l.control_idle_timeout, false, std::chrono::hours(1));
     }},
    {"control_clients", [](const Item& it, Limits& l) { it.uint(&l.control_clients, 1, 1024); }},
    {"media_max", [](const Item& it, Limits& l) { it.size(&l.media_max, kKiB, 100 * kMiB); }},
    {"media_timeout",
     [](const Item& it, Limits& l) {
       it.duration(&l.media_timeout, false, std::chrono::minutes(5));
     }},
    {"media_private", [](const Item& it, Limits& l) { it.boolean(&l.media_private); }},
};

constexpr size_t kMinTokenLength = 8;

void read_tokens(const Item& it, Clients& c) {
  std::vector<Entry> entries;
  if (!it.strings(&entries)) {
    return;
  }
  c.tokens.clear();
  // Messages never repeat a token: the position says which one is meant.
  for (const Entry& e : entries) {
    if (const char* why = check_key(e.value)) {
      it.r.error(*e.node, it.what() + ": a token " + why);
      continue;
    }
    if (e.value.size() < kMinTokenLength) {
      it.r.error(*e.node, it.what() + ": a token must be at least " +
                              std::to_string(kMinTokenLength) + " characters long");
      continue;
    }
    if (std::find(c.tokens.begin(), c.tokens.end(), e.value) == c.tokens.end()) {
      c.tokens.push_back(e.value);
    }
  }
}

constexpr Field<Clients> kClientsFields[] = {
    {"tokens", read_tokens},
    {"allow_anonymous", [](const Item& it, Clients& c) { it.boolean(&c.allow_anonymous); }},
};

void read_level(const Item& it, Log& l) {
  static constexpr std::string_view kLevels[] = {"error", "warn", "info", "debug"};
  size_t i = 0;
  if (it.choice(kLevels, &i)) {
    gb::log::parse_level(kLevels[i], &l.level);
  }
}

constexpr Field<Log> kLogFields[] = {
    {"level", read_level},
    {"requests", [](const Item& it, Log& l) { it.boolean(&l.requests); }},
    {"retention", [](const Item& it, Log& l) { it.duration(&l.retention); }},
};

}  // namespace

void read_server(Reader& r, const toml::table& t, Config* c) {
  read_fields(r, t, "[server]", kServerFields, &c->server);
}

void read_limits(Reader& r, const toml::table& t, Config* c) {
  read_fields(r, t, "[limits]", kLimitsFields, &c->limits);
}

void read_clients(Reader& r, const toml::table& t, Config* c) {
  read_fields(r, t, "[clients]", kClientsFields, &c->clients);
}

void read_log(Reader& r, const toml::table& t, Config* c) {
  read_fields(r, t, "[log]", kLogFields, &c->log);
}

}  // namespace gb::config
