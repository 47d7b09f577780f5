// Each validation rule, as a file that breaks it and the one error it must produce,
// at the right line:col. Then files with several mistakes, which must report them all.
#include <catch2/catch.hpp>
#include <cstring>

#include "config/config.h"

using namespace gb::config;

namespace {

const std::string kFixtures = std::string(GB_FIXTURES) + "/config/";
const std::string kName = kFixtures + "case.toml";
// Appended to cases so that "no pools" does not hide the error under test. It comes
// last, so it moves no line numbers.
const std::string kPool = "\n[pool.zz]\nkeys = [\"AIza-zz\"]\n";

std::vector<ConfigError> errors_of(const std::string& text) {
  LoadResult r = load_string(text, kName);
  if (const auto* errors = std::get_if<std::vector<ConfigError>>(&r)) {
    return *errors;
  }
  return {};
}

std::string describe(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) {
    out += e.to_string() + "\n";
  }
  return out;
}

struct Case {
  const char* text;
  unsigned line;
  unsigned column;
  const char* message;  // a substring of the message
};

void check_one_error(const Case& c, const std::string& text) {
  INFO("config:\n" << text);
  auto errors = errors_of(text);
  INFO("errors:\n" << describe(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].file == kName);
  CHECK(errors[0].line == c.line);
  CHECK(errors[0].column == c.column);
  CHECK_THAT(errors[0].message, Catch::Contains(c.message));
}

void check_cases(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    check_one_error(c, c.text + kPool);
  }
}

}  // namespace

TEST_CASE("TOML syntax errors point at the problem", "[config]") {
  check_cases({
      {"[server\nworkers = 1\n", 1, 8, "table"},
      {"[server]\nworkers = \n", 2, 11, "expected"},
      {"[server]\nworkers = 1\nworkers = 2\n", 3, 11, "cannot redefine"},
  });
}

TEST_CASE("unknown tables and keys name the key, the table and a suggestion", "[config]") {
  check_cases({
      {"[server]\nlisten = [\"127.0.0.1:1\"]\nworker = 2\n", 3, 1,
       "unknown key \"worker\" in [server]; did you mean \"workers\"?"},
      {"[limits]\nmax_bdy = \"1MiB\"\n", 2, 1, "did you mean \"max_body\"?"},
      {"[pool.gemini]\nkeys = [\"k\"]\nmax_retry = 3\n", 3, 1,
       "unknown key \"max_retry\" in [pool.gemini]; did you mean \"max_retries\"?"},
      {"[log]\nlevle = \"info\"\n", 2, 1, "did you mean \"level\"?"},
      {"[clients]\ntoken = [\"sk-12345678\"]\n", 2, 1, "did you mean \"tokens\"?"},
      {"[serverr]\n", 1, 2, "unknown table [serverr]; did you mean [server]?"},
      {"[limits.extra]\n", 1, 9, "unknown table [limits.extra]"},
      {"listen = [\"127.0.0.1:8000\"]\n", 1, 1, "unknown key \"listen\" at the top level"},
      {"server = 1\n", 1, 10, "server must be a table like [server], not an integer"},
      {"[[log]]\n", 1, 1, "log must be a table like [log], not an array"},
  });
  auto errors = errors_of("[server]\ncolour = \"blue\"\n" + kPool);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "unknown key \"colour\" in [server]");
}

TEST_CASE("[server] values are checked", "[config]") {
  check_cases({
      {"[server]\nworkers = 1025\n", 2, 11,
       "workers in [server] must be between 0 and 1024, not 1025"},
      {"[server]\nworkers = -1\n", 2, 11, "between 0 and 1024, not -1"},
      {"[server]\nworkers = \"4\"\n", 2, 11,
       "workers in [server] must be an integer, not a string"},
      {"[server]\nworkers = 1.5\n", 2, 11, "not a floating-point number"},
      {"[server]\nlisten = []\n", 2, 10, "listen in [server] is empty"},
      {"[server]\nlisten = \"127.0.0.1:8000\"\n", 2, 10,
       "listen in [server] must be an array of strings, not a string"},
      {"[server]\nlisten = [\"127.0.0.1:8000\", \"nope\"]\n", 2, 29,
       "listen in [server]: \"nope\": missing port"},
      {"[server]\nlisten = [8000]\n", 2, 11,
       "listen in [server] must hold only strings, not an integer"},
      {"[server]\nlisten = [\"[::1]:80\", \"[0::1]:80\"]\n", 2, 23,
       "listen in [server] has [::1]:80 twice"},
      {"[server]\ncontrol_socket = \"\"\n", 2, 18, "control_socket in [server] must not be empty"},
      {"[server]\ncontrol_socket = "
       "\"/run/"
       "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
       "123456789.sock\"\n",
       2, 18, "longer than 107 bytes"},
      {"[server]\nstate_dir = false\n", 2, 13,
       "state_dir in [server] must be a string, not a boolean"},
  });
}

TEST_CASE("[limits] sizes, counts and timeouts are checked", "[config]") {
  check_cases({
      {"[limits]\nmax_body = \"0\"\n", 2, 12,
       "max_body in [limits] must be between 1B and 4GiB, not 0B"},
      {"[limits]\nmax_body = \"5GiB\"\n", 2, 12, "not 5GiB"},
      {"[limits]\nmax_body = \"4097MiB\"\n", 2, 12, "not 4097MiB"},
      {"[limits]\nmax_body = \"32 MiB\"\n", 2, 12, "has \"32 MiB\", which is not a size"},
      {"[limits]\nmax_body = -5\n", 2, 12, "must not be negative"},
      {"[limits]\nmax_body = true\n", 2, 12, "must be a size like \"32MiB\", not a boolean"},
      {"[limits]\nmax_header = \"512\"\n", 2, 14, "between 1KiB and 1MiB, not 512B"},
      {"[limits]\nmax_header = \"2MiB\"\n", 2, 14, "between 1KiB and 1MiB, not 2MiB"},
      {"[limits]\nmax_connections = 0\n", 2, 19,
       "max_connections in [limits] must be between 1 and 1000000, not 0"},
      {"[limits]\nmax_connections = 1000001\n", 2, 19, "not 1000001"},
      {"[limits]\nidle_timeout = 60\n", 2, 16,
       "idle_timeout in [limits] must be a string with a unit"},
      {"[limits]\nupstream_timeout = \"10 minutes\"\n", 2, 20, "which is not a duration"},
      {"[limits]\nconnect_timeout = \"1.5s\"\n", 2, 19, "which is not a duration"},
  });
  // A zero timeout names the timeout.
  for (const char* key : {"header_timeout", "idle_timeout", "connect_timeout", "upstream_timeout",
                          "stream_idle_timeout", "send_timeout"}) {
    std::string text = "[limits]\n" + std::string(key) + " = \"0s\"\n";
    std::string message = std::string(key) + " in [limits] must be longer than 0s";
    check_one_error({"", 2, static_cast<unsigned>(std::strlen(key) + 4), message.c_str()},
                    text + kPool);
  }
}

TEST_CASE("[clients] tokens are checked without repeating them", "[config]") {
  check_cases({
      {"[clients]\ntokens = [\"sk-short\", \"short\"]\n", 2, 23,
       "tokens in [clients]: a token must be at least 8 characters long"},
      {"[clients]\ntokens = [\"\"]\n", 2, 11, "a token is empty"},
      {"[clients]\ntokens = [\"sk-has space\"]\n", 2, 11, "a token has whitespace inside it"},
      {"[clients]\ntokens = \"sk-12345678\"\n", 2, 10, "must be an array of strings"},
      {"[clients]\nallow_anonymous = \"yes\"\n", 2, 19,
       "allow_anonymous in [clients] must be true or false, not a string"},
  });
  auto errors = errors_of("[clients]\ntokens = [\"tiny\"]\n" + kPool);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message.find("tiny") == std::string::npos);
}

TEST_CASE("[pool.NAME] values are checked", "[config]") {
  check_cases({
      {"[pool.\"bad name\"]\nkeys = [\"k\"]\n", 1, 7,
       "pool name \"bad name\" must be 1 to 64 letters"},
      {"[pool.a1234567890123456789012345678901234567890123456789012345678901234]\nkeys = [\"k\"]\n",
       1, 7, "must be 1 to 64"},
      {"[pool]\np = 1\n", 2, 5, "pool.p must be a table like [pool.p], not an integer"},
      {"[pool.p]\nkeys = [\"k\"]\nprovider = \"gemeni\"\n", 3, 12,
       "provider in [pool.p] must be gemini, openai or anthropic, not \"gemeni\"; did you mean "
       "\"gemini\"?"},
      {"[pool.p]\nkeys = [\"k\"]\nprovider = \"mistral\"\n", 3, 12, "not \"mistral\""},
      {"[pool.p]\nkeys = [\"k\"]\nbase_url = \"ftp://example.com\"\n", 3, 12,
       "base_url in [pool.p] is not a usable URL: unsupported scheme \"ftp\""},
      {"[pool.p]\nkeys = [\"k\"]\nbase_url = \"example.com\"\n", 3, 12, "missing scheme"},
      {"[pool.p]\nkeys = [\"k\"]\nbase_url = \"https://h/v1?alt=sse\"\n", 3, 12, "query"},
      {"[pool.p]\nmodels = [\"*\"]\n", 1, 7,
       "[pool.p] has no keys: add keys = [\"...\"], or a keys_file"},
      {"[pool.p]\nkeys = []\n", 1, 7, "[pool.p] has no keys"},
      {"[pool.p]\nkeys = [\"AIza one\"]\n", 2, 9,
       "keys in [pool.p]: a key has whitespace inside it"},
      {"[pool.p]\nkeys = [\"k\", \"\"]\n", 2, 14, "keys in [pool.p]: a key is empty"},
      {"[pool.p]\nkeys = [\"k\", \"caf\u00e9\"]\n", 2, 14, "not printable ASCII"},
      {"[pool.p]\nkeys = [1]\n", 2, 9,
       "keys in [pool.p] must hold only strings or tables like { key = \"...\", weight = 2 }, not "
       "an integer"},
      {"[pool.p]\nkeys = \"k\"\n", 2, 8,
       "keys in [pool.p] must be an array of strings or tables like { key = \"...\", weight = 2 }, "
       "not a string"},
      {"[pool.p]\nkeys = [\"k\"]\nmodels = []\n", 3, 10, "models in [pool.p] is empty"},
      {"[pool.p]\nkeys = [\"k\"]\nmodels = [\"gpt-*\", \"\"]\n", 3, 20,
       "models in [pool.p] has an empty string"},
      {"[pool.p]\nkeys = [\"k\"]\nstrategy = \"round-robin\"\n", 3, 12,
       "strategy in [pool.p] must be round_robin, least_busy or weighted, not \"round-robin\"; "
       "did you mean \"round_robin\"?"},
      {"[pool.p]\nkeys = [\"k\"]\nmax_retries = 101\n", 3, 15,
       "max_retries in [pool.p] must be between 0 and 100"},
      {"[pool.p]\nkeys = [\"k\"]\nmax_failures = 0\n", 3, 16,
       "max_failures in [pool.p] must be between 1 and"},
      {"[pool.p]\nkeys = [\"k\"]\ncooldown = \"2h\"\n", 3, 12,
       "cooldown in [pool.p] (2h) is longer than cooldown_max (1h)"},
      {"[pool.p]\nkeys = [\"k\"]\ncooldown_max = \"10s\"\n", 3, 16,
       "cooldown in [pool.p] (30s) is longer than cooldown_max (10s)"},
      {"[pool.p]\nkeys = [\"k\"]\ncooldown = \"0s\"\n", 3, 12,
       "cooldown in [pool.p] must be longer than 0s"},
      {"[pool.p]\nkeys = [\"k\"]\nprobe_interval = \"0m\"\n", 3, 18, "must be longer than 0s"},
      {"[pool.p]\nkeys = [\"k\"]\nca_file = \"\"\n", 3, 11,
       "ca_file in [pool.p] must not be empty"},
      {"[pool.p]\nkeys = [\"k\"]\nproxy = \"http://proxy:3128\"\n", 3, 9,
       "proxy in [pool.p] is not supported yet"},
      {"[pool.p]\nkeys_file = 7\n", 2, 13,
       "keys_file in [pool.p] must be a string, not an integer"},
  });
}

TEST_CASE("keys_file problems name the file", "[config]") {
  const std::string missing = kFixtures + "does-not-exist.keys";
  check_cases({
      {"[pool.p]\nkeys_file = \"does-not-exist.keys\"\n", 2, 13, "No such file or directory"},
      {"[pool.p]\nkeys_file = \"empty.keys\"\n", 1, 7, "which has none"},
  });
  auto errors = errors_of("[pool.p]\nkeys_file = \"does-not-exist.keys\"\n" + kPool);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0].message, Catch::Contains("\"" + missing + "\", which cannot be read"));

  // Errors inside the keys file carry its name and the line; they sort after the
  // config file's own errors.
  errors = errors_of("[pool.p]\nkeys_file = \"bad.keys\"\nmax_retries = 200\n" + kPool);
  INFO(describe(errors));
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].file == kName);
  CHECK(errors[0].line == 3);
  CHECK(errors[1].file == kFixtures + "bad.keys");
  CHECK(errors[1].line == 3);
  CHECK(errors[1].column == 10);
  CHECK_THAT(errors[1].message,
             Catch::Contains("only weight=N may follow the key; write one key a line"));
  CHECK(errors[2].line == 5);
  CHECK(errors[2].column == 6);
  CHECK_THAT(errors[2].message, Catch::Contains("not printable ASCII"));
}

TEST_CASE("keys written as tables are checked field by field", "[config]") {
  check_cases({
      {"[pool.p]\nkeys = [{ key = \"a\", wieght = 2 }]\n", 2, 22,
       "unknown key \"wieght\" in an entry of keys in [pool.p]; did you mean \"weight\"?"},
      {"[pool.p]\nkeys = [{ kye = \"a\" }]\n", 2, 11,
       "unknown key \"kye\" in an entry of keys in [pool.p]; did you mean \"key\"?"},
      {"[pool.p]\nkeys = [{ key = \"a\", note = { x = 1 } }]\n", 2, 22,
       "unknown key \"note\" in an entry of keys in [pool.p]"},
      {"[pool.p]\nkeys = [{ key = \"a\", weight = 0 }]\n", 2, 31,
       "weight in an entry of keys in [pool.p] must be between 1 and 1000, not 0"},
      {"[pool.p]\nkeys = [\"b\", { key = \"a\", weight = 1001 }]\n", 2, 36,
       "must be between 1 and 1000, not 1001"},
      {"[pool.p]\nkeys = [{ key = \"a\", weight = -3 }]\n", 2, 31, "not -3"},
      {"[pool.p]\nkeys = [{ key = \"a\", weight = \"3\" }]\n", 2, 31,
       "weight in an entry of keys in [pool.p] must be an integer, not a string"},
      {"[pool.p]\nkeys = [{ key = \"a\", weight = 2.5 }]\n", 2, 31,
       "must be an integer, not a floating-point number"},
      {"[pool.p]\nkeys = [{ weight = 2 }]\n", 2, 9,
       "an entry of keys in [pool.p] has no key: write { key = \"...\", weight = N }"},
      {"[pool.p]\nkeys = [{}]\n", 2, 9, "an entry of keys in [pool.p] has no key"},
      {"[pool.p]\nkeys = [{ key = \"\" }]\n", 2, 17,
       "key in an entry of keys in [pool.p] is empty"},
      {"[pool.p]\nkeys = [{ key = \"AIza two\" }]\n", 2, 17,
       "key in an entry of keys in [pool.p] has whitespace inside it"},
      {"[pool.p]\nkeys = [{ key = 5 }]\n", 2, 17,
       "key in an entry of keys in [pool.p] must be a string, not an integer"},
      {"[pool.p]\nkeys = [[\"a\"]]\n", 2, 9, "not an array"},
  });
  // The key is never repeated, even when the table around it is wrong.
  auto errors = errors_of("[pool.p]\nkeys = [{ key = \"AIza secret\", weight = 0 }]\n" + kPool);
  INFO(describe(errors));
  REQUIRE(errors.size() == 2);
  for (const ConfigError& e : errors) {
    CHECK(e.message.find("secret") == std::string::npos);
  }
}

TEST_CASE("weights in a keys_file are checked with file, line and column", "[config]") {
  auto errors = errors_of("[pool.p]\nkeys_file = \"bad-weights.keys\"\n" + kPool);
  INFO(describe(errors));
  REQUIRE(errors.size() == 4);
  const std::string file = kFixtures + "bad-weights.keys";
  CHECK(errors[0].to_string() == file + ":2:19: weight must be a whole number from 1 to 1000");
  CHECK(errors[1].to_string() ==
        file + ":3:12: only weight=N may follow the key; write one key a line");
  CHECK(errors[2].to_string() == file + ":4:21: weight is given twice");
  CHECK(errors[3].to_string() ==
        file + ":5:12: only weight=N may follow the key; write one key a line");
}

TEST_CASE("queue, probe and ramp-up settings are checked", "[config]") {
  check_cases({
      {"[pool.p]\nkeys = [\"k\"]\nqueue_timeout = \"11m\"\n", 3, 17,
       "queue_timeout in [pool.p] must be at most 10m, not 11m"},
      {"[pool.p]\nkeys = [\"k\"]\nqueue_timeout = \"600001ms\"\n", 3, 17,
       "must be at most 10m, not 600001ms"},
      {"[pool.p]\nkeys = [\"k\"]\nqueue_timeout = 5\n", 3, 17,
       "queue_timeout in [pool.p] must be a string with a unit"},
      {"[pool.p]\nkeys = [\"k\"]\nqueue_timeout = \"-1s\"\n", 3, 17, "which is not a duration"},
      {"[pool.p]\nkeys = [\"k\"]\nqueue_max = 100001\n", 3, 13,
       "queue_max in [pool.p] must be between 0 and 100000, not 100001"},
      {"[pool.p]\nkeys = [\"k\"]\nqueue_max = -1\n", 3, 13, "between 0 and 100000, not -1"},
      {"[pool.p]\nkeys = [\"k\"]\nqueue_max = \"10\"\n", 3, 13,
       "queue_max in [pool.p] must be an integer, not a string"},
      {"[pool.p]\nkeys = [\"k\"]\nramp_up = \"2h\"\n", 3, 11,
       "ramp_up in [pool.p] must be at most 1h, not 2h"},
      {"[pool.p]\nkeys = [\"k\"]\nramp_up = \"61m\"\n", 3, 11, "at most 1h, not 61m"},
      {"[pool.p]\nkeys = [\"k\"]\nramp_up = true\n", 3, 11,
       "ramp_up in [pool.p] must be a string with a unit"},
      {"[pool.p]\nkeys = [\"k\"]\nprobe_model = \"models/gemini-2.5-flash\"\n", 3, 15,
       "probe_model in [pool.p] has \"models/gemini-2.5-flash\", but a model name may hold only "
       "letters, digits, '.', '_' and '-'; leave out \"models/\""},
      {"[pool.p]\nkeys = [\"k\"]\nprobe_model = \"gemini 2.5\"\n", 3, 15,
       "may hold only letters, digits, '.', '_' and '-'"},
      {"[pool.p]\nkeys = [\"k\"]\nprobe_model = \"gemini-2.5-flash?x=1\"\n", 3, 15,
       "may hold only"},
      {"[pool.p]\nkeys = [\"k\"]\nprobe_model = \"caf\u00e9\"\n", 3, 15, "may hold only"},
      {"[pool.p]\nkeys = [\"k\"]\nprobe_model = 3\n", 3, 15,
       "probe_model in [pool.p] must be a string, not an integer"},
      {"[pool.p]\nkeys = [\"k\"]\nprobe_modle = \"x\"\n", 3, 1,
       "unknown key \"probe_modle\" in [pool.p]; did you mean \"probe_model\"?"},
      {"[pool.p]\nkeys = [\"k\"]\nqueue_mx = 10\n", 3, 1, "did you mean \"queue_max\"?"},
      {"[pool.p]\nkeys = [\"k\"]\nrampup = \"1m\"\n", 3, 1, "did you mean \"ramp_up\"?"},
      {"[pool.p]\nkeys = [\"k\"]\nqueue_timout = \"1m\"\n", 3, 1,
       "did you mean \"queue_timeout\"?"},
      {"[pool.p]\nkeys = [\"k\"]\nquotas = 1\n", 3, 1, "did you mean \"quota\"?"},
  });
  const std::string long_model =
      "[pool.p]\nkeys = [\"k\"]\nprobe_model = \"" + std::string(129, 'm') + "\"\n";
  check_one_error({"", 3, 15, "probe_model in [pool.p] is longer than 128 characters"},
                  long_model + kPool);
}

TEST_CASE("quota tables are checked", "[config]") {
  const std::string head = "[pool.p]\nkeys = [\"k\"]\n";
  auto text = [&](const char* rest) { return head + rest; };
  struct QuotaCase {
    std::string text;
    unsigned line;
    unsigned column;
    const char* message;
  };
  const QuotaCase cases[] = {
      {text("[pool.p.quota.\"gemini-2.5-pro\"]\nrpm = 5\nrpx = 1\n"), 5, 1,
       "unknown key \"rpx\" in [pool.p.quota.\"gemini-2.5-pro\"]; did you mean \"rpm\"?"},
      {text("[pool.p.quota.\"m\"]\nrpm = 5\ntokens_per_minute = 1\n"), 5, 1,
       "unknown key \"tokens_per_minute\" in [pool.p.quota.\"m\"]"},
      {text("[pool.p.quota.\"m\".extra]\n"), 3, 19, "unknown table [pool.p.quota.\"m\".extra]"},
      {text("[pool.p.quota.\"gemini-2.5-pro\"]\n"), 3, 15,
       "[pool.p.quota.\"gemini-2.5-pro\"] limits nothing: set rpm, tpm or rpd above 0"},
      {text("[pool.p.quota.\"m\"]\nrpm = 0\ntpm = 0\nrpd = 0\n"), 3, 15, "limits nothing"},
      {text("[pool.p.quota.\"m\"]\nrpm = -1\n"), 4, 7,
       "rpm in [pool.p.quota.\"m\"] must be between 0 and 10000000, not -1"},
      {text("[pool.p.quota.\"m\"]\nrpm = 10000001\n"), 4, 7, "not 10000001"},
      {text("[pool.p.quota.\"m\"]\ntpm = 100000000001\n"), 4, 7,
       "tpm in [pool.p.quota.\"m\"] must be between 0 and 100000000000, not 100000000001"},
      {text("[pool.p.quota.\"m\"]\nrpd = 1000000001\n"), 4, 7,
       "rpd in [pool.p.quota.\"m\"] must be between 0 and 1000000000"},
      {text("[pool.p.quota.\"m\"]\ntpm = \"250k\"\n"), 4, 7,
       "tpm in [pool.p.quota.\"m\"] must be an integer, not a string"},
      {text("[pool.p.quota.\"m\"]\nrpd = 1.5\n"), 4, 7, "not a floating-point number"},
      {text("quota = 5\n"), 3, 9,
       "quota in [pool.p] must be a table like [pool.p.quota.\"MODEL\"], not an integer"},
      {text("[pool.p.quota]\nrpm = 5\n"), 4, 7,
       "quota in [pool.p] holds one table per model or glob, like "
       "[pool.p.quota.\"gemini-2.5-pro\"], but \"rpm\" is an integer"},
      {text("[pool.p.quota.\"\"]\nrpm = 1\n"), 3, 15,
       "quota in [pool.p] has an empty model name; \"*\" matches every model"},
  };
  for (const QuotaCase& c : cases) {
    check_one_error({"", c.line, c.column, c.message}, c.text + kPool);
  }
  // Each quota is checked on its own, and every mistake is reported.
  auto errors = errors_of(
      text("[pool.p.quota.\"a\"]\nrpm = -1\n[pool.p.quota.\"b\"]\n[pool.p.quota.\"c\"]\nrpm = 1\n"
           "[pool.p.quota.\"d\"]\nrpn = 1\n"));
  INFO(describe(errors));
  std::vector<unsigned> lines;
  for (const ConfigError& e : errors) {
    lines.push_back(e.line);
  }
  CHECK(lines == std::vector<unsigned>{4, 5, 9});
}

TEST_CASE("[log] values are checked and list the valid levels", "[config]") {
  check_cases({
      {"[log]\nlevel = \"verbose\"\n", 2, 9,
       "level in [log] must be error, warn, info or debug, not \"verbose\""},
      {"[log]\nlevel = \"debgu\"\n", 2, 9, "did you mean \"debug\"?"},
      {"[log]\nlevel = 3\n", 2, 9, "level in [log] must be a string, not an integer"},
      {"[log]\nrequests = 1\n", 2, 12, "requests in [log] must be true or false"},
      {"[log]\nretention = \"0d\"\n", 2, 13, "retention in [log] must be longer than 0s"},
  });
}

TEST_CASE("a file without any pool is refused", "[config]") {
  for (const char* text : {"", "[server]\nworkers = 2\n", "# only a comment\n"}) {
    auto errors = errors_of(text);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line == 0);
    CHECK(errors[0].to_string() == kName + ": " + errors[0].message);
    CHECK_THAT(errors[0].message, Catch::StartsWith("no pools"));
  }
  auto errors = errors_of("[server]\nworkers = 2\n[pool]\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == 3);
  CHECK_THAT(errors[0].message, Catch::StartsWith("no pools"));
}

TEST_CASE("an open listener without tokens is refused with both fixes", "[config]") {
  check_cases({
      {"[server]\nlisten = [\"127.0.0.1:8000\", \"0.0.0.0:8000\"]\n", 2, 29,
       "listen address 0.0.0.0:8000 is not loopback, and [clients] has no tokens"},
      {"[server]\nlisten = [\"[::]:8000\"]\n[clients]\nallow_anonymous = false\n", 2, 11,
       "[::]:8000 is not loopback"},
      {"[server]\nlisten = [\"gbd.example.net:8000\"]\n", 2, 11, "is not loopback"},
  });
  auto errors = errors_of("[server]\nlisten = [\"0.0.0.0:1\", \"10.0.0.1:2\"]\n" + kPool);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0].message, Catch::Contains("tokens = [\"...\"]"));
  CHECK_THAT(errors[0].message, Catch::Contains("allow_anonymous = true"));
}

TEST_CASE("every mistake in a file is reported, in file order", "[config]") {
  const std::string text =
      "[server]\n"
      "workers = 5000\n"  // 2: out of range
      "[limits]\n"
      "idle_timeout = \"0s\"\n"  // 4: zero timeout
      "[pool.gemini]\n"
      "keys = [\"AIza-1\"]\n"
      "max_retry = 3\n";  // 7: unknown key
  auto errors = errors_of(text);
  INFO(describe(errors));
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].to_string() ==
        kName + ":2:11: workers in [server] must be between 0 and 1024, not 5000");
  CHECK(errors[1].to_string() == kName + ":4:16: idle_timeout in [limits] must be longer than 0s");
  CHECK(errors[2].to_string() == kName +
                                     ":7:1: unknown key \"max_retry\" in [pool.gemini]; did you "
                                     "mean \"max_retries\"?");
}

TEST_CASE("mistakes across every section are all collected", "[config]") {
  const std::string text =
      "[server]\n"
      "listen = [\"0.0.0.0:8000\", \"bad\"]\n"  // 2: bad address, then open listener
      "[limits]\n"
      "max_header = \"1B\"\n"  // 4
      "[clients]\n"
      "tokens = [\"short\"]\n"  // 6: too short, so no tokens at all
      "[pool.b]\n"              // 7: no keys
      "provider = \"nope\"\n"   // 8
      "[pool.a]\n"
      "keys = [\"k\"]\n"
      "cooldown = \"2h\"\n"  // 11
      "[log]\n"
      "level = \"loud\"\n"  // 13
      "[extra]\n";          // 14
  auto errors = errors_of(text);
  INFO(describe(errors));
  std::vector<unsigned> lines;
  for (const ConfigError& e : errors) {
    lines.push_back(e.line);
  }
  CHECK(lines == std::vector<unsigned>{2, 2, 4, 6, 7, 8, 11, 13, 14});
}
