#include "base/key_id.h"

#include <catch2/catch.hpp>

namespace {

struct IdCase {
  std::string key;
  std::string id;
};

struct MaskCase {
  std::string key;
  std::string mask;
};

}  // namespace

TEST_CASE("key_id is the first 8 hex digits of SHA-256", "[keyid]") {
  // Digests from FIPS 180-2 examples and `printf %s KEY | sha256sum`.
  const IdCase cases[] = {
      {"", "e3b0c442"},
      {"abc", "ba7816bf"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61"},
  };
  for (const auto& c : cases) {
    INFO(c.key);
    CHECK(gb::key_id(c.key) == c.id);
  }
}

TEST_CASE("key_hash is the whole SHA-256 and starts with the id", "[keyid]") {
  CHECK(gb::key_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(gb::key_hash("abc").substr(0, 8) == gb::key_id("abc"));
}

TEST_CASE("key_id is stable and differs between keys", "[keyid]") {
  std::string a = "AIzaSyA-example-key-000000000000000001";
  std::string b = "AIzaSyA-example-key-000000000000000002";
  CHECK(gb::key_id(a) == gb::key_id(a));
  CHECK(gb::key_id(a) != gb::key_id(b));
  CHECK(gb::key_id(a).size() == 8);
}

TEST_CASE("key_mask shows at most 8 characters and never the whole key", "[keyid]") {
  const MaskCase cases[] = {
      {"AIzaSyA-example-key-x9Qk", "AIza\u2026x9Qk"},
      {"abcdefghijkl", "abcd\u2026ijkl"},  // 12: the shortest with both ends
      {"abcdefghijk", "\u2026jk"},         // 11
      {"abcdef", "\u2026ef"},
      {"abcde", "\u2026"},
      {"ab", "\u2026"},
      {"", "\u2026"},
      {"ab\ncdefghij\x01kl", "ab?c\u2026j?kl"},  // control bytes cannot break a log line
  };
  for (const auto& c : cases) {
    INFO(c.key);
    CHECK(gb::key_mask(c.key) == c.mask);
  }
}

TEST_CASE("key_mask never contains the key for any length", "[keyid]") {
  std::string key;
  for (int n = 1; n <= 40; ++n) {
    key.push_back(static_cast<char>('A' + n % 26));
    std::string mask = gb::key_mask(key);
    INFO(n);
    CHECK(mask.find(key) == std::string::npos);
    CHECK(mask.size() <= 8 + 3);  // 8 key bytes and the 3-byte ellipsis
  }
}

TEST_CASE("constant_time_equal compares contents and lengths", "[keyid]") {
  CHECK(gb::constant_time_equal("", ""));
  CHECK(gb::constant_time_equal("sk-abc", "sk-abc"));
  CHECK_FALSE(gb::constant_time_equal("sk-abc", "sk-abd"));
  CHECK_FALSE(gb::constant_time_equal("sk-abc", "xk-abc"));
  CHECK_FALSE(gb::constant_time_equal("sk-abc", "sk-ab"));
  CHECK_FALSE(gb::constant_time_equal("sk-ab", "sk-abc"));
  CHECK_FALSE(gb::constant_time_equal("", "a"));
  CHECK_FALSE(gb::constant_time_equal(std::string("a\0", 2), "a"));
}
