// Client credentials: gbd checks the client token, never forwards it, and puts the pool
// key in x-goog-api-key instead.
#include <catch2/catch.hpp>

#include "harness.h"

using namespace gbt;

namespace {

// What the mock received carries the pool key, and the client token nowhere.
void check_upstream_request(const SeenRequest& seen) {
  INFO("upstream target: " << seen.target);
  CHECK(seen.api_key == "ok-1");
  CHECK(seen.header("x-goog-api-key") == "ok-1");
  CHECK_FALSE(seen.has_header("authorization"));
  CHECK(seen.target.find("key=") == std::string::npos);
  CHECK(seen.target.find(kToken) == std::string::npos);
  CHECK(seen.body.find(kToken) == std::string::npos);
  for (const auto& [name, value] : seen.headers) {
    INFO("upstream header " << name << ": " << value);
    CHECK(value.find(kToken) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("the pool key replaces the client token upstream", "[integration][auth]") {
  Rig rig(with_keys({"ok-1"}));
  std::string target = model_path("streamGenerateContent?alt=sse&key=") + std::string(kToken);
  Response r = rig.gbd.fetch("POST", target, {{"Content-Type", "application/json"}}, kPrompt);
  CHECK(r.status == 200);
  SeenRequest seen = rig.mock.last();
  CHECK(seen.method == "POST");
  CHECK(seen.target == model_path("streamGenerateContent?alt=sse"));
  CHECK(seen.body == kPrompt);
  check_upstream_request(seen);
}

TEST_CASE("all four client credential forms are accepted", "[integration][auth]") {
  Rig rig(with_keys({"ok-1"}));
  std::string token(kToken);
  struct Form {
    const char* what;
    Headers headers;
    std::string query;
  };
  const Form forms[] = {
      {"Authorization: Bearer", {{"Authorization", "Bearer " + token}}, ""},
      {"x-goog-api-key", {{"x-goog-api-key", token}}, ""},
      {"x-api-key", {{"x-api-key", token}}, ""},
      {"?key=", {}, "?key=" + token},
  };
  for (const auto& form : forms) {
    INFO("credentials in " << form.what);
    Response r =
        rig.gbd.fetch("POST", model_path("generateContent") + form.query, form.headers, kPrompt);
    CHECK(r.status == 200);
    check_upstream_request(rig.mock.last());
  }
}

TEST_CASE("a wrong or missing token gets 401 and never reaches upstream", "[integration][auth]") {
  Rig rig(with_keys({"ok-1"}));
  const Headers wrong[] = {
      {{"Authorization", "Bearer sk-wrong"}},
      {{"x-goog-api-key", "sk-wrong"}},
      {{"x-api-key", "sk-wrong"}},
      {},
  };
  for (const auto& headers : wrong) {
    Response r = fetch(rig.gbd.port(), "POST", model_path("generateContent"), headers, kPrompt);
    check_gemini_error(r, 401, "UNAUTHENTICATED");
  }
  Response by_query =
      fetch(rig.gbd.port(), "POST", model_path("generateContent?key=sk-wrong"), {}, kPrompt);
  check_gemini_error(by_query, 401, "UNAUTHENTICATED");
  CHECK(rig.mock.stats().requests == 0);
}
