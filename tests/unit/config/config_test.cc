#include "config/config.h"

#include <catch2/catch.hpp>
#include <fstream>

using namespace gb::config;
using namespace std::chrono_literals;

namespace gb::config {
// So that Catch shows a KeySpec when a comparison fails.
inline std::ostream& operator<<(std::ostream& os, const KeySpec& k) {
  return os << k.key << " weight=" << k.weight;
}
}  // namespace gb::config

namespace {

const std::string kFixtures = std::string(GB_FIXTURES) + "/config/";

std::string describe(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) {
    out += e.to_string() + "\n";
  }
  return out;
}

std::shared_ptr<const Config> must_load(const LoadResult& r) {
  if (const auto* errors = std::get_if<std::vector<ConfigError>>(&r)) {
    FAIL("unexpected errors:\n" << describe(*errors));
  }
  return std::get<std::shared_ptr<const Config>>(r);
}

std::shared_ptr<const Config> load_text(const std::string& text) {
  return must_load(load_string(text, kFixtures + "inline.toml"));
}

std::vector<std::string> names(const std::vector<KeySpec>& keys) {
  std::vector<std::string> out;
  for (const KeySpec& k : keys) {
    out.push_back(k.key);
  }
  return out;
}

}  // namespace

TEST_CASE("a complete file loads with every value in place", "[config]") {
  auto c = must_load(load_file(kFixtures + "full.toml"));
  CHECK(c->path == kFixtures + "full.toml");

  REQUIRE(c->server.listen.size() == 3);
  CHECK(c->server.listen[0].text == "127.0.0.1:8000");
  CHECK(c->server.listen[1].text == "[::1]:8001");
  CHECK(c->server.listen[2].text == "0.0.0.0:9000");
  CHECK(c->server.workers == 4);
  CHECK(c->server.control_socket == "/tmp/gbd-test.sock");
  CHECK(c->server.state_dir == "/tmp/gbd-state");

  CHECK(c->limits.max_body == 16 * gb::kMiB);
  CHECK(c->limits.max_header == 32768);
  CHECK(c->limits.max_connections == 500);
  CHECK(c->limits.header_timeout == 5s);
  CHECK(c->limits.idle_timeout == 90s);
  CHECK(c->limits.connect_timeout == 2500ms);
  CHECK(c->limits.upstream_timeout == 10min);
  CHECK(c->limits.stream_idle_timeout == 2min);
  CHECK(c->limits.send_timeout == 45s);

  CHECK(c->clients.tokens == std::vector<std::string>{"sk-test-token-1", "sk-test-token-2"});
  CHECK_FALSE(c->clients.allow_anonymous);

  CHECK(c->log.level == gb::log::Level::debug);
  CHECK_FALSE(c->log.requests);
  CHECK(c->log.retention == std::chrono::days(7));
}

TEST_CASE("pools keep file order and their own settings", "[config]") {
  auto c = must_load(load_file(kFixtures + "full.toml"));
  REQUIRE(c->pools.size() == 3);
  CHECK(c->pools[0].name == "pro");
  CHECK(c->pools[1].name == "flash");
  CHECK(c->pools[2].name == "openai");

  const Pool& pro = c->pools[0];
  CHECK(pro.provider == Provider::gemini);
  CHECK(pro.base_url == "https://generativelanguage.googleapis.com");
  CHECK(pro.origin.key() == "https://generativelanguage.googleapis.com:443");
  CHECK(pro.keys == std::vector<KeySpec>{{"AIza-pro-1", 1}, {"AIza-pro-2", 4}});
  CHECK(pro.keys_file.empty());
  CHECK(pro.strategy == Strategy::least_busy);
  CHECK(pro.max_retries == 5);
  CHECK(pro.max_failures == 2);
  CHECK(pro.cooldown == 10s);
  CHECK(pro.cooldown_max == 30min);
  CHECK(pro.probe_interval == 1h);
  CHECK(pro.probe_model == "gemini-2.0-flash-lite");
  CHECK(pro.ramp_up == 5min);
  CHECK(pro.queue_timeout == 30s);
  CHECK(pro.queue_max == 50);
  REQUIRE(pro.quotas.size() == 2);
  CHECK(pro.quotas[0] == Quota{"gemini-*-pro*", 150, 0, 0});
  CHECK(pro.quotas[1] == Quota{"gemini-2.5-pro", 5, 250000, 100});

  const Pool& flash = c->pools[1];
  CHECK(flash.base_url == "http://127.0.0.1:9999/mock/");
  CHECK_FALSE(flash.origin.tls);
  CHECK(flash.origin.port == 9999);
  CHECK(flash.origin.path_prefix == "/mock");
  CHECK(flash.strategy == Strategy::round_robin);
  CHECK(flash.quotas.empty());

  const Pool& openai = c->pools[2];
  CHECK(openai.provider == Provider::openai);
  CHECK(openai.base_url == "https://api.openai.com/v1");
  CHECK(openai.strategy == Strategy::weighted);
  CHECK(openai.proxy.empty());
  CHECK(openai.probe_model.empty());
  CHECK(c->find_pool("openai") == &openai);
  CHECK(c->find_pool("nope") == nullptr);
}

TEST_CASE("keys_file is read relative to the config file and merged without duplicates",
          "[config]") {
  auto c = must_load(load_file(kFixtures + "full.toml"));
  const Pool* flash = c->find_pool("flash");
  REQUIRE(flash != nullptr);
  CHECK(flash->keys_file == kFixtures + "gemini.keys");
  // Config keys first, then the file's; AIza-shared and AIza-file-1 appear twice.
  const std::vector<std::string> expected = {
      "AIza-config-1", "AIza-shared", "AIza-file-1",        "AIza-file-2",
      "AIza-file-3",   "AIza-file-4", "AIza#not-a-comment",
  };
  CHECK(names(flash->keys) == expected);
  for (const KeySpec& k : flash->keys) {
    CHECK(k.weight == 1);
  }
}

TEST_CASE("an absolute keys_file is used as is", "[config]") {
  auto c = load_text("[pool.g]\nkeys_file = \"" + kFixtures + "gemini.keys\"\n");
  REQUIRE(c->pools.size() == 1);
  CHECK(c->pools[0].keys_file == kFixtures + "gemini.keys");
  CHECK(c->pools[0].keys.size() == 6);
}

TEST_CASE("an empty keys_file means no file", "[config]") {
  auto c = load_text("[pool.g]\nkeys = [\"AIza-1\"]\nkeys_file = \"\"\n");
  CHECK(c->pools[0].keys_file.empty());
  CHECK(names(c->pools[0].keys) == std::vector<std::string>{"AIza-1"});
}

TEST_CASE("missing sections and keys take their defaults", "[config]") {
  auto c = load_text("[pool.only]\nkeys = [\"AIza-1\", \"AIza-1\"]\n");
  REQUIRE(c->server.listen.size() == 1);
  CHECK(c->server.listen[0].text == "127.0.0.1:8000");
  CHECK(c->server.workers == 0);
  CHECK(c->server.control_socket == "/run/gbd/gbd.sock");
  CHECK(c->server.state_dir == "/var/lib/gbd");
  CHECK(c->limits.max_body == 32 * gb::kMiB);
  CHECK(c->limits.max_header == 64 * gb::kKiB);
  CHECK(c->limits.max_connections == 10000);
  CHECK(c->limits.header_timeout == 10s);
  CHECK(c->limits.idle_timeout == 60s);
  CHECK(c->limits.connect_timeout == 10s);
  CHECK(c->limits.upstream_timeout == 600s);
  CHECK(c->limits.stream_idle_timeout == 120s);
  CHECK(c->limits.send_timeout == 60s);
  CHECK(c->clients.tokens.empty());
  CHECK_FALSE(c->clients.allow_anonymous);
  CHECK(c->log.level == gb::log::Level::info);
  CHECK(c->log.requests);
  CHECK(c->log.retention == std::chrono::days(30));

  REQUIRE(c->pools.size() == 1);
  const Pool& p = c->pools[0];
  CHECK(p.name == "only");
  CHECK(p.provider == Provider::gemini);
  CHECK(p.base_url == "https://generativelanguage.googleapis.com");
  CHECK(p.origin.tls);
  CHECK(p.keys == std::vector<KeySpec>{{"AIza-1", 1}});
  CHECK(p.models == std::vector<std::string>{"*"});
  CHECK(p.strategy == Strategy::round_robin);
  CHECK(p.max_retries == 3);
  CHECK(p.max_failures == 3);
  CHECK(p.cooldown == 30s);
  CHECK(p.cooldown_max == 1h);
  CHECK(p.probe_interval == 30min);
  CHECK(p.probe_model == "gemini-2.5-flash");
  CHECK(p.ramp_up == 60s);
  CHECK(p.queue_timeout == 0s);
  CHECK(p.queue_max == 100);
  CHECK(p.quotas.empty());
  CHECK(p.quota_for("gemini-2.5-pro") == nullptr);
  CHECK(p.ca_file == "/etc/ssl/certs/ca-certificates.crt");
}

TEST_CASE("each provider has its default base_url", "[config]") {
  auto c = load_text(
      "[pool.a]\nprovider = \"anthropic\"\nkeys = [\"sk-ant-1\"]\n"
      "[pool.o]\nprovider = \"openai\"\nkeys = [\"sk-1\"]\n"
      "[pool.g]\nprovider = \"gemini\"\nkeys = [\"AIza-1\"]\n");
  REQUIRE(c->pools.size() == 3);
  CHECK(c->pools[0].origin.host == "api.anthropic.com");
  CHECK(c->pools[1].origin.host == "api.openai.com");
  CHECK(c->pools[2].origin.host == "generativelanguage.googleapis.com");
  CHECK(std::string(default_base_url(Provider::anthropic)) == "https://api.anthropic.com");
  CHECK(std::string(provider_name(Provider::openai)) == "openai");
  CHECK(std::string(strategy_name(Strategy::least_busy)) == "least_busy");
}

TEST_CASE("open listeners are fine with tokens or with allow_anonymous", "[config]") {
  auto with_tokens = load_text(
      "[server]\nlisten = [\"0.0.0.0:80\"]\n[clients]\ntokens = [\"sk-12345678\"]\n"
      "[pool.p]\nkeys = [\"k\"]\n");
  CHECK(with_tokens->server.listen[0].port == 80);
  auto anonymous = load_text(
      "[server]\nlisten = [\"[::]:0\"]\n[clients]\nallow_anonymous = true\n"
      "[pool.p]\nkeys = [\"k\"]\n");
  CHECK(anonymous->clients.allow_anonymous);
  auto loopback_only = load_text(
      "[server]\nlisten = [\"localhost:1\", \"127.0.0.2:2\", \"[::1]:3\"]\n[pool.p]\nkeys = "
      "[\"k\"]\n");
  CHECK(loopback_only->server.listen.size() == 3);
}

TEST_CASE("pool_for_model picks the first pool whose globs match", "[config]") {
  auto c = must_load(load_file(kFixtures + "full.toml"));
  struct Case {
    const char* model;
    const char* pool;
  };
  const Case cases[] = {
      {"gemini-2.5-pro", "pro"},
      {"gemini-2.5-pro-preview-06-05", "pro"},
      {"gemini-2.5-flash", "flash"},
      {"gemini-2.0-flash", "flash"},
      {"gemini-2.0-flash-lite", "flash"},
      {"gemini-2.10-flash", "openai"},  // '?' is one character, so only "*" matches
      {"gpt-4o", "openai"},
      {"o3-mini", "openai"},
      {"anything-else", "openai"},
      {"", "openai"},
  };
  for (const Case& t : cases) {
    INFO(t.model);
    const Pool* p = c->pool_for_model(t.model);
    REQUIRE(p != nullptr);
    CHECK(p->name == t.pool);
  }
}

TEST_CASE("pool_for_model returns nullptr when no glob matches", "[config]") {
  auto c = load_text("[pool.p]\nkeys = [\"k\"]\nmodels = [\"gemini-*\"]\n");
  CHECK(c->pool_for_model("gpt-4o") == nullptr);
  CHECK(c->pool_for_model("gemini-2.5-pro") == &c->pools[0]);
}

TEST_CASE("glob_match handles star and question mark", "[config]") {
  struct Case {
    const char* pattern;
    const char* s;
    bool match;
  };
  const Case cases[] = {
      {"*", "", true},
      {"*", "abc", true},
      {"", "", true},
      {"", "a", false},
      {"abc", "abc", true},
      {"abc", "abd", false},
      {"abc", "ab", false},
      {"a?c", "abc", true},
      {"a?c", "ac", false},
      {"a*c", "ac", true},
      {"a*c", "abbbc", true},
      {"a*c", "abbbd", false},
      {"*-pro", "gemini-2.5-pro", true},
      {"*-pro", "gemini-2.5-pro-x", false},
      {"gemini-*-flash*", "gemini-2.0-flash-lite", true},
      {"*a*b*", "xxaxxbxx", true},
      {"*a*b", "xxbxxa", false},
      {"**", "x", true},
      {"?", "", false},
      {"a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
  };
  for (const Case& c : cases) {
    INFO(c.pattern << " vs " << c.s);
    CHECK(glob_match(c.pattern, c.s) == c.match);
  }
}

TEST_CASE("the shipped example configurations load cleanly", "[config]") {
  const std::string etc = std::string(GB_FIXTURES) + "/../../etc/";
  auto example = must_load(load_file(etc + "gbd.toml"));
  CHECK_FALSE(example->pools.empty());
  auto dev = must_load(load_file(etc + "gbd.dev.toml"));
  REQUIRE(dev->pools.size() == 1);
  CHECK(dev->server.listen[0].text == "127.0.0.1:8000");
  CHECK(dev->server.state_dir == "var");
  CHECK(dev->server.control_socket == "var/gbd.sock");
}

TEST_CASE("the commented pool examples in etc/gbd.toml load once uncommented", "[config]") {
  // A commented example starts at "# [pool." and runs to a bare "#" or to a line that
  // is not a comment; uncommenting drops the leading "# ".
  const std::string path = std::string(GB_FIXTURES) + "/../../etc/gbd.toml";
  std::ifstream in(path);
  REQUIRE(in);
  std::string text;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.starts_with("# [pool.")) {
      inside = true;
    } else if (line == "#" || !line.starts_with("#")) {
      inside = false;
    }
    text += (inside ? line.substr(2) : line) + "\n";
  }
  auto c = must_load(load_string(text, path));
  const Pool* gemini = c->find_pool("gemini");
  REQUIRE(gemini != nullptr);
  REQUIRE(gemini->quota_for("gemini-2.5-pro") != nullptr);
  CHECK(*gemini->quota_for("gemini-2.5-pro") == Quota{"gemini-2.5-pro", 5, 250000, 100});
  CHECK(gemini->quota_for("gemini-2.0-flash-lite") != nullptr);
  const Pool* weighted = c->find_pool("pro");
  REQUIRE(weighted != nullptr);
  CHECK(weighted->strategy == Strategy::weighted);
  REQUIRE(weighted->keys.size() == 3);
  CHECK(weighted->keys[0].weight == 3);
  CHECK(c->find_pool("openai") != nullptr);
}

TEST_CASE("load_file reports a file it cannot read", "[config]") {
  auto missing = load_file(kFixtures + "no-such.toml");
  const auto* errors = std::get_if<std::vector<ConfigError>>(&missing);
  REQUIRE(errors != nullptr);
  REQUIRE(errors->size() == 1);
  CHECK((*errors)[0].to_string() ==
        kFixtures + "no-such.toml: cannot open: No such file or directory");
  auto dir = load_file(kFixtures);
  errors = std::get_if<std::vector<ConfigError>>(&dir);
  REQUIRE(errors != nullptr);
  REQUIRE(errors->size() == 1);
  CHECK_THAT((*errors)[0].message, Catch::Contains("Is a directory"));
}

TEST_CASE("ConfigError formats as file:line:col", "[config]") {
  CHECK(ConfigError{"a.toml", 3, 7, "bad"}.to_string() == "a.toml:3:7: bad");
  CHECK(ConfigError{"a.toml", 0, 0, "no pools"}.to_string() == "a.toml: no pools");
}
