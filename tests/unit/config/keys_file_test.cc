#include "config/keys_file.h"

#include <catch2/catch.hpp>

#include "config/suggest.h"

using namespace gb::config;

namespace {

const std::string kFixtures = std::string(GB_FIXTURES) + "/config/";

std::vector<std::string> names(const std::vector<KeySpec>& keys) {
  std::vector<std::string> out;
  for (const KeySpec& k : keys) {
    out.push_back(k.key);
  }
  return out;
}

std::vector<unsigned> weights(const std::vector<KeySpec>& keys) {
  std::vector<unsigned> out;
  for (const KeySpec& k : keys) {
    out.push_back(k.weight);
  }
  return out;
}

}  // namespace

TEST_CASE("parse_keys skips comments and blank lines and trims whitespace", "[config]") {
  KeysFile kf = parse_keys(
      "\xEF\xBB\xBF# header\n"
      "\n"
      "  key-one  \n"
      "key-two\r\n"
      "\t\n"
      "key-three # trailing comment\n"
      "key#four\n"
      "#key-five\n"
      "key-one\n"
      "last-without-newline",
      "x.keys");
  CHECK(kf.errors.empty());
  CHECK(kf.read_errno == 0);
  CHECK(names(kf.keys) == std::vector<std::string>{"key-one", "key-two", "key-three", "key#four",
                                                   "key-one", "last-without-newline"});
  CHECK(weights(kf.keys) == std::vector<unsigned>(6, 1));
}

TEST_CASE("parse_keys reports a second word or a bad byte with line and column", "[config]") {
  KeysFile kf = parse_keys("ok-1\n\n  two keys\nok-2\nbad\x7fkey\n", "p.keys");
  REQUIRE(kf.errors.size() == 2);
  CHECK(kf.errors[0].file == "p.keys");
  CHECK(kf.errors[0].line == 3);
  CHECK(kf.errors[0].column == 7);
  CHECK(kf.errors[0].message == "only weight=N may follow the key; write one key a line");
  CHECK(kf.errors[1].line == 5);
  CHECK(kf.errors[1].column == 4);
  CHECK_THAT(kf.errors[1].message, Catch::Contains("printable ASCII"));
  // The lines in error are left out; the good ones are kept.
  CHECK(names(kf.keys) == std::vector<std::string>{"ok-1", "ok-2"});
  // Messages never carry the key itself.
  CHECK(kf.errors[0].message.find("two") == std::string::npos);
}

TEST_CASE("parse_keys reads weight=N after a key", "[config]") {
  KeysFile kf = parse_keys(
      "a weight=3\n"
      "b\tweight=1000\n"
      "  c   weight=1   # comment\n"
      "d weight=0007\r\n"
      "e\n"
      "f weight=1#not-a-comment-so-not-a-number\n",
      "w.keys");
  CHECK(names(kf.keys) == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(weights(kf.keys) == std::vector<unsigned>{3, 1000, 1, 7, 1});
  REQUIRE(kf.errors.size() == 1);
  CHECK(kf.errors[0].line == 6);
  CHECK(kf.errors[0].column == 10);
}

TEST_CASE("parse_keys reports every kind of bad weight", "[config]") {
  struct Case {
    const char* line;
    unsigned column;
    const char* message;
  };
  const std::string range = "weight must be a whole number from 1 to 1000";
  const std::string stray = "only weight=N may follow the key; write one key a line";
  const Case cases[] = {
      {"key weight=0", 12, range.c_str()},
      {"key weight=1001", 12, range.c_str()},
      {"key weight=10000", 12, range.c_str()},
      {"key weight=99999999999999999999", 12, range.c_str()},
      {"key weight=", 12, range.c_str()},
      {"key weight=-1", 12, range.c_str()},
      {"key weight=+1", 12, range.c_str()},
      {"key weight=2x", 12, range.c_str()},
      {"key weight=1.5", 12, range.c_str()},
      {"key weight = 2", 5, stray.c_str()},
      {"key weight= 2", 12, range.c_str()},
      {"key Weight=2", 5, stray.c_str()},
      {"key w=2", 5, stray.c_str()},
      {"key 2", 5, stray.c_str()},
      {"key weight=2 weight=2", 14, "weight is given twice"},
      {"key weight=2 extra", 14, stray.c_str()},
      {"\tkey  weight=2  other-key", 17, stray.c_str()},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    KeysFile kf = parse_keys(std::string("ok\n") + c.line + "\n", "w.keys");
    REQUIRE(kf.errors.size() == 1);
    CHECK(kf.errors[0].file == "w.keys");
    CHECK(kf.errors[0].line == 2);
    CHECK(kf.errors[0].column == c.column);
    CHECK(kf.errors[0].message == c.message);
    CHECK(names(kf.keys) == std::vector<std::string>{"ok"});
  }
}

TEST_CASE("read_keys_file reads a fixture and reports a missing file", "[config]") {
  KeysFile kf = read_keys_file(kFixtures + "gemini.keys");
  CHECK(kf.read_errno == 0);
  CHECK(kf.errors.empty());
  CHECK(kf.keys.size() == 7);
  CHECK(kf.keys.back().key == "AIza#not-a-comment");

  KeysFile weighted = read_keys_file(kFixtures + "weighted.keys");
  CHECK(weighted.errors.empty());
  CHECK(names(weighted.keys) ==
        std::vector<std::string>{"AIza-w-1", "AIza-w-2", "AIza-w-3", "AIza-w-4", "AIza-w-1"});
  CHECK(weights(weighted.keys) == std::vector<unsigned>{3, 1, 10, 1000, 7});

  KeysFile missing = read_keys_file(kFixtures + "no-such.keys");
  CHECK(missing.read_errno == ENOENT);
  KeysFile dir = read_keys_file(kFixtures);
  CHECK(dir.read_errno != 0);
}

TEST_CASE("check_key accepts printable ASCII without spaces", "[config]") {
  CHECK(check_key("AIzaSyA-0123456789_abcdefghijklmnopqrstu") == nullptr);
  CHECK(check_key("sk-ant-api03-~!@#$%^&*()") == nullptr);
  CHECK(check_key("") != nullptr);
  CHECK(check_key("a b") != nullptr);
  CHECK(check_key("a\tb") != nullptr);
  CHECK(check_key("a\nb") != nullptr);
  CHECK(check_key("caf\xC3\xA9") != nullptr);
}

TEST_CASE("resolve_path anchors relative paths at the config file's directory", "[config]") {
  CHECK(resolve_path("/etc/gbd/gbd.toml", "gemini.keys") == "/etc/gbd/gemini.keys");
  CHECK(resolve_path("/etc/gbd/gbd.toml", "../keys/a") == "/etc/gbd/../keys/a");
  CHECK(resolve_path("/etc/gbd/gbd.toml", "/srv/keys") == "/srv/keys");
  CHECK(resolve_path("etc/gbd.dev.toml", "k.keys") == "etc/k.keys");
  CHECK(resolve_path("gbd.toml", "k.keys") == "k.keys");
}

TEST_CASE("suggestions come from close edit distances only", "[config]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("max_retry", "max_retries") == 3);
  CHECK(suggestion_limit("max_retry") == 3);
  CHECK(suggestion_limit("levle") == 2);
  CHECK(suggestion_limit("ab") == 1);
  CHECK(suggestion_limit("") == 0);
  CHECK(edit_distance("retires", "retries") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  const std::string_view known[] = {"max_retries", "max_failures", "cooldown", "cooldown_max"};
  CHECK(closest("max_retry", known) == "max_retries");
  CHECK(closest("max_failure", known) == "max_failures");
  CHECK(closest("colldown", known) == "cooldown");
  CHECK(closest("cooldown_mx", known) == "cooldown_max");
  CHECK(closest("strategy", known).empty());
  CHECK(closest("x", known).empty());
  const std::string_view sections[] = {"server", "limits", "clients", "pool", "log"};
  CHECK(closest("lg", sections) == "log");
  CHECK(closest("ab", sections).empty());
  CHECK(closest("cooldown", known).empty());  // an exact match needs no suggestion
}
