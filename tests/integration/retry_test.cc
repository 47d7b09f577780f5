// Retries, key health and gbd's own errors, checked through the access line's attempt
// trail ("<key id>:<status or error>" per upstream try).
//
// The pool picks keys round robin, but which key a request starts with is not part of
// the contract, so tests with one bad key send two requests: one of them starts with it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <set>

#include "base/key_id.h"
#include "harness.h"

using namespace gbt;

namespace {

// Two requests through a pool of {bad key, ok-1}: both succeed, and one of them tried the
// bad key first, which answered `outcome`.
void check_retried(const std::string& bad_key, const std::string& outcome) {
  Rig rig(with_keys({bad_key, "ok-1"}));
  CHECK(rig.gbd.generate().status == 200);
  CHECK(rig.gbd.generate().status == 200);
  std::set<std::string> trails = {rig.gbd.attempts(0), rig.gbd.attempts(1)};
  std::string retried = trail({{bad_key, outcome}, {"ok-1", "200"}});
  std::string direct = trail({{"ok-1", "200"}});
  CHECK(trails.count(retried) == 1);
  for (const auto& t : trails) {
    CHECK((t == retried || t == direct));
  }
  CHECK(rig.gbd.keys_in_log().empty());
}

}  // namespace

TEST_CASE("a 429 is retried on another key, which then serves alone", "[integration][retry]") {
  Rig rig(with_keys({"ratelimit-60s-a", "ok-1"}));
  CHECK(rig.gbd.generate().status == 200);
  CHECK(rig.gbd.generate().status == 200);
  std::set<std::string> trails = {rig.gbd.attempts(0), rig.gbd.attempts(1)};
  std::set<std::string> expected = {trail({{"ratelimit-60s-a", "429"}, {"ok-1", "200"}}),
                                    trail({{"ok-1", "200"}})};
  CHECK(trails == expected);

  // The rate-limited key is cooling: the next requests go straight to ok-1.
  CHECK(rig.gbd.generate().status == 200);
  CHECK(rig.gbd.generate().status == 200);
  CHECK(rig.gbd.attempts(2) == trail({{"ok-1", "200"}}));
  CHECK(rig.gbd.attempts(3) == trail({{"ok-1", "200"}}));
  CHECK(health_counts(rig.gbd.port(), "gemini").cooling == 1);
  CHECK(rig.gbd.keys_in_log().empty());
}

TEST_CASE("a 503 is retried on another key", "[integration][retry]") {
  check_retried("fail503-a", "503");
}

TEST_CASE("a 500 is retried on another key", "[integration][retry]") {
  check_retried("fail500-a", "500");
}

TEST_CASE("a reset before the first byte is retried on another key", "[integration][retry]") {
  check_retried("reset-a", "upstream_reset");
}

TEST_CASE("an unreachable upstream gives 502 after trying every key", "[integration][retry]") {
  TempDir dir;
  GbdConfig config = with_keys({"ok-1", "ok-2"});
  config.base_url = "http://127.0.0.1:" + std::to_string(closed_port());
  Gbd gbd(dir, config);
  check_gemini_error(gbd.generate(), 502);
  std::vector<std::string> expected = {gb::key_id("ok-1") + ":connect_failed",
                                       gb::key_id("ok-2") + ":connect_failed"};
  std::sort(expected.begin(), expected.end());
  CHECK(sorted_pieces(gbd.attempts(0)) == expected);
  CHECK(gbd.keys_in_log().empty());
}

TEST_CASE("a key answering API_KEY_INVALID is disabled after one try", "[integration][retry]") {
  Rig rig(with_keys({"invalid-a", "ok-1"}));
  std::string retried = trail({{"invalid-a", "400"}, {"ok-1", "200"}});
  int tried_invalid = 0;
  for (size_t i = 0; i < 4; ++i) {
    CHECK(rig.gbd.generate().status == 200);
    std::string t = rig.gbd.attempts(i);
    INFO("request " << i << " attempts=" << t);
    CHECK((t == retried || t == trail({{"ok-1", "200"}})));
    tried_invalid += t == retried;
  }
  CHECK(tried_invalid == 1);
  KeyCounts counts = health_counts(rig.gbd.port(), "gemini");
  CHECK(counts.disabled == 1);
  CHECK(counts.active == 1);
  CHECK(rig.gbd.keys_in_log().empty());
}

TEST_CASE("a key answering 403 is disabled after one try", "[integration][retry]") {
  Rig rig(with_keys({"denied-a", "ok-1"}));
  std::string retried = trail({{"denied-a", "403"}, {"ok-1", "200"}});
  int tried_denied = 0;
  for (size_t i = 0; i < 4; ++i) {
    CHECK(rig.gbd.generate().status == 200);
    tried_denied += rig.gbd.attempts(i) == retried;
  }
  CHECK(tried_denied == 1);
  CHECK(health_counts(rig.gbd.port(), "gemini").disabled == 1);
}

TEST_CASE("a key is disabled after max_failures failures in a row", "[integration][retry]") {
  GbdConfig config = with_keys({"fail503-a", "ok-1"});
  config.max_failures = 2;
  Rig rig(config);
  std::string retried = trail({{"fail503-a", "503"}, {"ok-1", "200"}});
  int failures = 0;
  size_t sent = 0;
  for (; sent < 8 && failures < 2; ++sent) {
    CHECK(rig.gbd.generate().status == 200);
    failures += rig.gbd.attempts(sent) == retried;
  }
  REQUIRE(failures == 2);
  for (size_t i = sent; i < sent + 3; ++i) {
    CHECK(rig.gbd.generate().status == 200);
    CHECK(rig.gbd.attempts(i) == trail({{"ok-1", "200"}}));
  }
  CHECK(health_counts(rig.gbd.port(), "gemini").disabled == 1);
}

TEST_CASE("all keys rate limited gives 429 with Retry-After", "[integration][retry]") {
  Rig rig(with_keys({"ratelimit-60s-a", "ratelimit-60s-b"}));
  CHECK(rig.gbd.generate().status == 429);
  std::vector<std::string> both = {gb::key_id("ratelimit-60s-a") + ":429",
                                   gb::key_id("ratelimit-60s-b") + ":429"};
  std::sort(both.begin(), both.end());
  CHECK(sorted_pieces(rig.gbd.attempts(0)) == both);

  // Now every key is cooling: gbd answers by itself, without trying upstream.
  Response r = rig.gbd.generate();
  check_gemini_error(r, 429, "RESOURCE_EXHAUSTED");
  INFO("Retry-After: " << r.header("retry-after"));
  REQUIRE(r.has_header("retry-after"));
  int seconds = std::atoi(r.header("retry-after").c_str());
  CHECK(seconds >= 1);
  CHECK(seconds <= 70);
  CHECK(rig.gbd.attempts(1) == "");
}

TEST_CASE("all keys invalid gives 503", "[integration][retry]") {
  Rig rig(with_keys({"invalid-a", "invalid-b"}));
  CHECK(rig.gbd.generate().status != 200);
  std::vector<std::string> both = {gb::key_id("invalid-a") + ":400",
                                   gb::key_id("invalid-b") + ":400"};
  std::sort(both.begin(), both.end());
  CHECK(sorted_pieces(rig.gbd.attempts(0)) == both);

  check_gemini_error(rig.gbd.generate(), 503, "UNAVAILABLE");
  CHECK(rig.gbd.attempts(1) == "");
  CHECK(health_counts(rig.gbd.port(), "gemini").disabled == 2);
}

TEST_CASE("404 for an unknown model passes through and is not retried", "[integration][retry]") {
  Rig rig(with_keys({"ok-1", "ok-2"}));
  std::string target = "/v1beta/models/gemini-0.0-nonexistent:generateContent";
  Response direct = rig.mock.fetch("POST", target, "ok-1", {}, kPrompt);
  Response proxied = rig.gbd.fetch("POST", target, {}, kPrompt);
  REQUIRE(direct.status == 404);
  CHECK(proxied.status == 404);
  CHECK(proxied.body == direct.body);
  std::string t = rig.gbd.attempts(0);
  CHECK((t == trail({{"ok-1", "404"}}) || t == trail({{"ok-2", "404"}})));
  CHECK(rig.mock.stats().requests == 2);  // the direct one and one through gbd
  KeyCounts counts = health_counts(rig.gbd.port(), "gemini");
  CHECK(counts.active == 2);
}

TEST_CASE("an upstream that never answers gives 504", "[integration][retry]") {
  GbdConfig config = with_keys({"hang-a"});
  config.upstream_timeout = "1s";
  Rig rig(config);
  auto start = Clock::now();
  Response r = rig.gbd.generate();
  auto took = std::chrono::duration_cast<Ms>(Clock::now() - start);
  check_gemini_error(r, 504, "DEADLINE_EXCEEDED");
  CHECK(took >= 900ms);
  CHECK(took < 4s);
  CHECK(rig.gbd.attempts(0) == trail({{"hang-a", "read_timeout"}}));
}

TEST_CASE("upstream connections are kept alive and reused", "[integration][retry]") {
  GbdConfig config;
  config.workers = 1;
  Rig rig(config);
  MockStats before = rig.mock.stats();
  for (int i = 0; i < 20; ++i) {
    REQUIRE(rig.gbd.generate().status == 200);
  }
  MockStats after = rig.mock.stats();
  CHECK(after.requests - before.requests == 20);
  CHECK(after.connections - before.connections >= 1);
  CHECK(after.connections - before.connections <= 2);
}
