// Gemini native routes are forwarded byte for byte: the same request answered by gb-mock
// directly and through gbd gives the same status, body and end-to-end headers.
#include <algorithm>
#include <catch2/catch.hpp>

#include "harness.h"

using namespace gbt;

namespace {

std::string show(const Headers& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    out += name + ": " + value + "\n";
  }
  return out;
}

// The end-to-end headers of `direct` that `proxied` lacks or changed.
std::string missing_headers(const Response& direct, const Response& proxied) {
  Headers want = end_to_end_headers(direct.headers);
  Headers have = end_to_end_headers(proxied.headers);
  Headers missing;
  for (const auto& h : want) {
    if (std::find(have.begin(), have.end(), h) == have.end()) {
      missing.push_back(h);
    }
  }
  return show(missing);
}

void check_same(const Response& direct, const Response& proxied) {
  INFO("direct headers:\n" << show(direct.headers) << "through gbd:\n" << show(proxied.headers));
  REQUIRE(direct.status != 0);
  CHECK(direct.complete);
  CHECK(proxied.status == direct.status);
  CHECK(proxied.complete);
  CHECK(proxied.body == direct.body);
  CHECK(missing_headers(direct, proxied) == "");
}

// Sends the same request to the mock (with the pool key) and through gbd (with the
// client token) and compares the answers.
// One pool key, so the mock sees the same key either way.
void check_passthrough(std::string_view method, std::string_view target, std::string_view body,
                       const Headers& headers = {}) {
  Rig rig(with_keys({"ok-1"}));
  Response direct = rig.mock.fetch(method, target, "ok-1", headers, body);
  Response proxied = rig.gbd.fetch(method, target, headers, body);
  check_same(direct, proxied);
  CHECK(rig.gbd.attempts(0) == trail({{"ok-1", "200"}}));
}

const Headers kJson = {{"Content-Type", "application/json"}};

}  // namespace

TEST_CASE("generateContent through gbd equals the upstream answer", "[integration][passthrough]") {
  check_passthrough("POST", model_path("generateContent"), kPrompt, kJson);
}

TEST_CASE("an SSE stream through gbd equals the upstream stream", "[integration][passthrough]") {
  Headers headers = kJson;
  headers.emplace_back("x-mock-chunks", "5");
  check_passthrough("POST", model_path("streamGenerateContent?alt=sse"), kPrompt, headers);
}

TEST_CASE("a JSON-array stream through gbd equals the upstream stream",
          "[integration][passthrough]") {
  Headers headers = kJson;
  headers.emplace_back("x-mock-chunks", "5");
  check_passthrough("POST", model_path("streamGenerateContent"), kPrompt, headers);
}

TEST_CASE("countTokens through gbd equals the upstream answer", "[integration][passthrough]") {
  check_passthrough("POST", model_path("countTokens"), kPrompt, kJson);
}

TEST_CASE("models list through gbd equals the upstream answer", "[integration][passthrough]") {
  check_passthrough("GET", "/v1beta/models", "");
}

TEST_CASE("models get through gbd equals the upstream answer", "[integration][passthrough]") {
  check_passthrough("GET", "/v1beta/models/" + std::string(kModel), "");
}

TEST_CASE("the /gemini prefix reaches the same upstream path", "[integration][passthrough]") {
  Rig rig(with_keys({"ok-1"}));
  Response direct = rig.mock.fetch("POST", model_path("generateContent"), "ok-1", kJson, kPrompt);
  Response proxied =
      rig.gbd.fetch("POST", "/gemini" + model_path("generateContent"), kJson, kPrompt);
  check_same(direct, proxied);
  CHECK(rig.mock.last().target == model_path("generateContent"));
}

TEST_CASE("the v1 route is forwarded to upstream v1", "[integration][passthrough]") {
  Rig rig(with_keys({"ok-1"}));
  std::string target = "/v1/models/" + std::string(kModel) + ":generateContent";
  Response direct = rig.mock.fetch("POST", target, "ok-1", kJson, kPrompt);
  Response proxied = rig.gbd.fetch("POST", target, kJson, kPrompt);
  check_same(direct, proxied);
  CHECK(rig.mock.last().target == target);
}
