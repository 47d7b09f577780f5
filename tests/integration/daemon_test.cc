// The daemon itself: /health, config checking, --version, refusing an open listener
// without tokens, and secrets kept out of its log.
#include <rapidjson/document.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

#include "harness.h"

using namespace gbt;

namespace {

// The 1-based line of `text` that starts with `prefix`, or 0.
int line_of(const std::string& text, std::string_view prefix) {
  std::istringstream lines(text);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (line.rfind(prefix, 0) == 0) {
      return n;
    }
  }
  return 0;
}

std::string regex_escape(const std::string& s) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(s, special, R"(\$&)");
}

}  // namespace

TEST_CASE("/health answers without auth with status, version, uptime and key counts",
          "[integration][daemon]") {
  Rig rig;
  Response r = fetch(rig.gbd.port(), "GET", "/health");
  INFO(r.body);
  CHECK(r.status == 200);
  CHECK(r.header("content-type").find("application/json") != std::string::npos);
  rapidjson::Document doc;
  doc.Parse(r.body);
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK((doc.HasMember("status") && doc["status"].IsString()));
  CHECK((doc.HasMember("version") && doc["version"].IsString() &&
         std::string(doc["version"].GetString()) == "0.1.0"));
  CHECK((doc.HasMember("uptime") && doc["uptime"].IsNumber()));
  KeyCounts counts = health_counts(rig.gbd.port(), "gemini");
  CHECK(counts.active == 2);
  CHECK(counts.cooling == 0);
  CHECK(counts.disabled == 0);
}

TEST_CASE("gbd -t accepts a good config", "[integration][daemon]") {
  TempDir dir;
  GbdConfig config;
  config.base_url = "http://127.0.0.1:1";
  std::string path = dir.write("good.toml", config.to_toml(dir));
  RunResult r = run(dir, {GBD_PATH, "-t", "-c", path});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
}

TEST_CASE("gbd -t reports each error of a bad config as FILE:LINE:COL", "[integration][daemon]") {
  TempDir dir;
  GbdConfig config;
  config.base_url = "http://127.0.0.1:1";
  config.idle_timeout = "soon";
  std::string text = config.to_toml(dir);
  text.replace(text.find("workers = "), 0, "no_such_setting = 1\n");
  std::string path = dir.write("bad.toml", text);
  int unknown_line = line_of(text, "no_such_setting");
  int duration_line = line_of(text, "idle_timeout");

  RunResult r = run(dir, {GBD_PATH, "-t", "-c", path});
  INFO(r.err);
  CHECK(r.status == 1);
  std::string where = regex_escape(path) + ":";
  CHECK(std::regex_search(
      r.err, std::regex(where + std::to_string(unknown_line) + R"(:\d+: .*no_such_setting)")));
  CHECK(std::regex_search(r.err, std::regex(where + std::to_string(duration_line) + R"(:\d+: )")));
}

TEST_CASE("gbd --version prints its version", "[integration][daemon]") {
  TempDir dir;
  RunResult r = run(dir, {GBD_PATH, "--version"});
  CHECK(r.status == 0);
  CHECK(r.out == "gbd 0.1.0\n");
}

TEST_CASE("gbd refuses a non-loopback listener without tokens", "[integration][daemon]") {
  TempDir dir;
  GbdConfig config;
  config.listen = {"0.0.0.0:0"};
  config.tokens = {};
  config.base_url = "http://127.0.0.1:1";
  std::string path = dir.write("open.toml", config.to_toml(dir));
  RunResult r = run(dir, {GBD_PATH, "-c", path}, 5s);
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find("allow_anonymous") != std::string::npos);
}

TEST_CASE("SIGTERM stops an idle gbd with exit 0", "[integration][daemon]") {
  Rig rig;
  REQUIRE(rig.gbd.generate().status == 200);  // leaves an idle upstream connection
  HttpClient idle_client(rig.gbd.port());     // and an idle client connection
  REQUIRE(idle_client.send(http_request("GET", "/health")));
  REQUIRE(idle_client.read_response().status == 200);

  auto start = Clock::now();
  REQUIRE(kill(rig.gbd.process().pid(), SIGTERM) == 0);
  CHECK(idle_client.wait_closed(1s));  // gbd closes idle connections at once
  idle_client.close();                 // as a client does when the server closes
  CHECK(rig.gbd.process().wait_exit(2s).value_or(-1) == 0);  // -1: still running
  CHECK(Clock::now() - start < 1s);
}

TEST_CASE("pool keys never appear whole in gbd's log", "[integration][daemon]") {
  GbdConfig config;
  config.keys = {"ok-1", "invalid-k3y", "ratelimit-60s-k3y", "fail503-k3y", "reset-k3y"};
  config.max_retries = 4;
  config.extra = "[log]\nlevel = \"debug\"\n";
  Rig rig(config);
  for (int i = 0; i < 5; ++i) {
    CHECK(rig.gbd.generate().status == 200);
  }
  REQUIRE(rig.gbd.wait_access(5));
  CHECK(rig.gbd.keys_in_log().empty());
  CHECK(rig.gbd.log_text().find(kToken) == std::string::npos);
}
