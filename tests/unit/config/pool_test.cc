// The pool settings that selection and waiting read: key weights (in keys and in a
// keys_file), queue_timeout and queue_max, probe_model, ramp_up, and declared quotas
// with the lookup that picks one for a model. Their errors are in errors_test.cc.
#include <catch2/catch.hpp>

#include "config/config.h"

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

// The only pool of a file that must load.
Pool load_pool(const std::string& text) {
  LoadResult r = load_string(text, kFixtures + "inline.toml");
  if (const auto* errors = std::get_if<std::vector<ConfigError>>(&r)) {
    FAIL("unexpected errors:\n" << describe(*errors));
  }
  const auto& c = std::get<std::shared_ptr<const Config>>(r);
  REQUIRE(c->pools.size() == 1);
  return c->pools[0];
}

Pool pool_with(const std::string& settings) {
  return load_pool("[pool.p]\nkeys = [\"AIza-1\"]\n" + settings);
}

const char* model_of(const Quota* q) {
  return q == nullptr ? "(none)" : q->model.c_str();
}

}  // namespace

TEST_CASE("keys may be strings or tables with a weight", "[config]") {
  Pool p = load_pool(
      "[pool.p]\nstrategy = \"weighted\"\n"
      "keys = [\"AIza-a\", { key = \"AIza-b\", weight = 3 }, { key = \"AIza-c\" },\n"
      "        { weight = 1000, key = \"AIza-d\" }, { key = \"AIza-e\", weight = 1 }]\n");
  const std::vector<KeySpec> expected = {
      {"AIza-a", 1}, {"AIza-b", 3}, {"AIza-c", 1}, {"AIza-d", 1000}, {"AIza-e", 1},
  };
  CHECK(p.keys == expected);
  CHECK(p.strategy == Strategy::weighted);
}

TEST_CASE("weights are accepted with every strategy", "[config]") {
  for (const char* strategy : {"round_robin", "least_busy", "weighted"}) {
    INFO(strategy);
    Pool p = load_pool("[pool.p]\nstrategy = \"" + std::string(strategy) +
                       "\"\nkeys = [{ key = \"AIza-a\", weight = 7 }]\n");
    CHECK(p.keys == std::vector<KeySpec>{{"AIza-a", 7}});
  }
}

TEST_CASE("keys_file lines may carry weight=N", "[config]") {
  Pool p = load_pool("[pool.p]\nkeys_file = \"weighted.keys\"\n");
  // AIza-w-1 appears again further down with another weight: the first one stays.
  const std::vector<KeySpec> expected = {
      {"AIza-w-1", 3}, {"AIza-w-2", 1}, {"AIza-w-3", 10}, {"AIza-w-4", 1000}};
  CHECK(p.keys == expected);
}

TEST_CASE("a key given twice keeps its first place and weight", "[config]") {
  Pool p = load_pool(
      "[pool.p]\nkeys = [{ key = \"AIza-w-2\", weight = 9 }, \"AIza-x\", "
      "{ key = \"AIza-x\", weight = 5 }]\nkeys_file = \"weighted.keys\"\n");
  const std::vector<KeySpec> expected = {
      {"AIza-w-2", 9}, {"AIza-x", 1}, {"AIza-w-1", 3}, {"AIza-w-3", 10}, {"AIza-w-4", 1000}};
  CHECK(p.keys == expected);
}

TEST_CASE("queue_timeout and queue_max take their whole range", "[config]") {
  CHECK(pool_with("queue_timeout = \"0s\"\n").queue_timeout == 0s);
  CHECK(pool_with("queue_timeout = \"250ms\"\n").queue_timeout == 250ms);
  CHECK(pool_with("queue_timeout = \"30s\"\n").queue_timeout == 30s);
  CHECK(pool_with("queue_timeout = \"10m\"\n").queue_timeout == 10min);
  CHECK(pool_with("queue_timeout = \"600s\"\n").queue_timeout == 10min);
  CHECK(pool_with("queue_max = 0\n").queue_max == 0);
  CHECK(pool_with("queue_max = 1\n").queue_max == 1);
  CHECK(pool_with("queue_max = 100000\n").queue_max == 100000);
}

TEST_CASE("ramp_up may be off or up to an hour", "[config]") {
  CHECK(pool_with("ramp_up = \"0s\"\n").ramp_up == 0s);
  CHECK(pool_with("ramp_up = \"90s\"\n").ramp_up == 90s);
  CHECK(pool_with("ramp_up = \"1h\"\n").ramp_up == 1h);
  CHECK(pool_with("ramp_up = \"60m\"\n").ramp_up == 1h);
}

TEST_CASE("probe_model defaults by provider and may be set or emptied", "[config]") {
  CHECK(pool_with("").probe_model == "gemini-2.5-flash");
  CHECK(pool_with("provider = \"gemini\"\n").probe_model == "gemini-2.5-flash");
  CHECK(pool_with("provider = \"openai\"\n").probe_model.empty());
  CHECK(pool_with("provider = \"anthropic\"\n").probe_model.empty());
  // An explicit value wins over the provider's default, wherever it is written.
  CHECK(pool_with("probe_model = \"\"\n").probe_model.empty());
  CHECK(pool_with("probe_model = \"gpt-4o-mini\"\nprovider = \"openai\"\n").probe_model ==
        "gpt-4o-mini");
  CHECK(pool_with("probe_model = \"gemini-2.0-flash-lite_001.x\"\n").probe_model ==
        "gemini-2.0-flash-lite_001.x");
  CHECK(pool_with("probe_model = \"" + std::string(128, 'm') + "\"\n").probe_model.size() == 128);
  CHECK(std::string(default_probe_model(Provider::gemini)) == "gemini-2.5-flash");
  CHECK(std::string(default_probe_model(Provider::openai)).empty());
  CHECK(std::string(default_probe_model(Provider::anthropic)).empty());
}

TEST_CASE("quota tables are read, sorted by model", "[config]") {
  Pool p = pool_with(
      "[pool.p.quota.\"gemini-2.5-pro\"]\nrpm = 5\ntpm = 250000\nrpd = 100\n"
      "[pool.p.quota.\"gemini-2.5-flash\"]\nrpm = 10\nrpd = 250\n"
      "[pool.p.quota.\"*\"]\ntpm = 100000000000\n"
      "[pool.p.quota.\"gemini-*\"]\nrpm = 0\nrpd = 1000000000\n"
      "[pool.p.quota.\"gpt-4o\"]\nrpm = 10000000\n");
  const std::vector<Quota> expected = {
      {"*", 0, 100'000'000'000, 0},     {"gemini-*", 0, 0, 1'000'000'000},
      {"gemini-2.5-flash", 10, 0, 250}, {"gemini-2.5-pro", 5, 250000, 100},
      {"gpt-4o", 10'000'000, 0, 0},
  };
  REQUIRE(p.quotas.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO(i);
    CHECK(p.quotas[i].model == expected[i].model);
    CHECK(p.quotas[i].rpm == expected[i].rpm);
    CHECK(p.quotas[i].tpm == expected[i].tpm);
    CHECK(p.quotas[i].rpd == expected[i].rpd);
  }
}

TEST_CASE("quota may also be written inline", "[config]") {
  Pool p = pool_with("quota = { \"gemini-2.5-pro\" = { rpm = 5, rpd = 100 } }\n");
  REQUIRE(p.quotas.size() == 1);
  CHECK(p.quotas[0] == Quota{"gemini-2.5-pro", 5, 0, 100});
}

TEST_CASE("quota_for: an exact name, else the longest glob, else the first by name", "[config]") {
  Pool p = pool_with(
      "[pool.p.quota.\"gemini-2.5-pro\"]\nrpm = 1\n"
      "[pool.p.quota.\"gemini-2.5-pro*\"]\nrpm = 2\n"  // longer than the exact name
      "[pool.p.quota.\"gemini-*\"]\nrpm = 3\n"
      "[pool.p.quota.\"*-flash\"]\nrpm = 4\n"
      "[pool.p.quota.\"gemini-?.?-flash\"]\nrpm = 5\n"
      "[pool.p.quota.\"gemini-*-flash\"]\nrpm = 6\n"
      "[pool.p.quota.\"*\"]\nrpm = 7\n");
  struct Case {
    const char* model;
    const char* quota;
  };
  const Case cases[] = {
      {"gemini-2.5-pro", "gemini-2.5-pro"},           // exact beats a longer glob
      {"gemini-2.5-pro-preview", "gemini-2.5-pro*"},  // the longest glob
      {"gemini-2.0-flash-lite", "gemini-*"},
      // "gemini-*-flash" and "gemini-?.?-flash" both match and are 14 and 16 long.
      {"gemini-2.5-flash", "gemini-?.?-flash"},
      {"gemini-2.10-flash", "gemini-*-flash"},
      {"other-flash", "*-flash"},
      {"gpt-4o", "*"},
      {"", "*"},
  };
  for (const Case& c : cases) {
    INFO(c.model);
    CHECK(std::string(model_of(p.quota_for(c.model))) == c.quota);
  }
}

TEST_CASE("quota_for breaks a tie between equally long globs by name", "[config]") {
  // Both match gemini-2.5-pro and are 12 characters long; "gemini-*-pro" sorts first.
  Pool p = pool_with(
      "[pool.p.quota.\"gemini-2.5-*\"]\nrpm = 1\n"
      "[pool.p.quota.\"gemini-*-pro\"]\nrpm = 2\n");
  const Quota* q = p.quota_for("gemini-2.5-pro");
  REQUIRE(q != nullptr);
  CHECK(q->model == "gemini-*-pro");
  CHECK(q->rpm == 2);
  CHECK(p.quota_for("gpt-4o") == nullptr);
}

TEST_CASE("quota_for works on a pool built by hand", "[config]") {
  Pool p;
  CHECK(p.quota_for("m") == nullptr);
  p.quotas = {{"a*", 1, 0, 0}, {"ab*", 2, 0, 0}, {"abc", 3, 0, 0}};
  CHECK(model_of(p.quota_for("abc")) == std::string("abc"));
  CHECK(model_of(p.quota_for("abcd")) == std::string("ab*"));
  CHECK(model_of(p.quota_for("ax")) == std::string("a*"));
  CHECK(p.quota_for("b") == nullptr);
}
