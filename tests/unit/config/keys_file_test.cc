#include "config/keys_file.h"

#include <catch2/catch.hpp>

#include "config/suggest.h"

using namespace gb::config;

namespace {
const std::string kFixtures = std::string(GB_FIXTURES) + "/config/";
}

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
  CHECK(kf.keys == std::vector<std::string>{"key-one", "key-two", "key-three", "key#four",
                                            "key-one", "last-without-newline"});
}

TEST_CASE("parse_keys reports whitespace inside a key with line and column", "[config]") {
  KeysFile kf = parse_keys("ok-1\n\n  two keys\nok-2\nbad\x7fkey\n", "p.keys");
  REQUIRE(kf.errors.size() == 2);
  CHECK(kf.errors[0].file == "p.keys");
  CHECK(kf.errors[0].line == 3);
  CHECK(kf.errors[0].column == 6);
  CHECK_THAT(kf.errors[0].message, Catch::Contains("whitespace"));
  CHECK(kf.errors[1].line == 5);
  CHECK(kf.errors[1].column == 4);
  CHECK_THAT(kf.errors[1].message, Catch::Contains("printable ASCII"));
  // The lines in error are left out; the good ones are kept.
  CHECK(kf.keys == std::vector<std::string>{"ok-1", "ok-2"});
  // Messages never carry the key itself.
  CHECK(kf.errors[0].message.find("two") == std::string::npos);
}

TEST_CASE("read_keys_file reads a fixture and reports a missing file", "[config]") {
  KeysFile kf = read_keys_file(kFixtures + "gemini.keys");
  CHECK(kf.read_errno == 0);
  CHECK(kf.errors.empty());
  CHECK(kf.keys.size() == 7);
  CHECK(kf.keys.back() == "AIza#not-a-comment");

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
