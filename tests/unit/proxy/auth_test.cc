#include <catch2/catch.hpp>

#include "base/key_id.h"
#include "proxy/auth.h"

using gb::proxy::AuthResult;
using gb::proxy::authenticate;

namespace {
gb::http::Request request_with(const char* header, const char* value, const char* target = "/x") {
  gb::http::Request r;
  r.method = "POST";
  r.target = target;
  if (header != nullptr) {
    r.headers.add(header, value);
  }
  return r;
}
}  // namespace

TEST_CASE("every credential form is accepted and compared", "[auth]") {
  const std::vector<std::string> tokens = {"sk-first-token", "sk-second-token"};
  std::string id;
  CHECK(authenticate(request_with("Authorization", "Bearer sk-second-token"), tokens, false,
                     &id) == AuthResult::ok);
  CHECK(id == gb::key_id("sk-second-token"));
  CHECK(authenticate(request_with("authorization", "bearer sk-first-token"), tokens, false, &id) ==
        AuthResult::ok);
  CHECK(authenticate(request_with("x-goog-api-key", "sk-first-token"), tokens, false, &id) ==
        AuthResult::ok);
  CHECK(authenticate(request_with("X-Api-Key", "sk-first-token"), tokens, false, &id) ==
        AuthResult::ok);
  CHECK(authenticate(request_with(nullptr, nullptr, "/x?alt=sse&key=sk-first-token"), tokens,
                     false, &id) == AuthResult::ok);
  CHECK(authenticate(request_with("x-goog-api-key", "sk-first-tokem"), tokens, false, &id) ==
        AuthResult::invalid);
  CHECK(authenticate(request_with("Authorization", "Basic abc"), tokens, false, &id) ==
        AuthResult::missing);
  CHECK(authenticate(request_with(nullptr, nullptr), tokens, false, &id) == AuthResult::missing);
}

TEST_CASE("anonymous access needs no tokens or allow_anonymous", "[auth]") {
  std::string id;
  CHECK(authenticate(request_with(nullptr, nullptr), {}, false, &id) == AuthResult::ok);
  CHECK(id == "-");
  CHECK(authenticate(request_with(nullptr, nullptr), {"sk-a-token"}, true, &id) == AuthResult::ok);
  // A wrong credential is refused even when anonymous requests are allowed.
  CHECK(authenticate(request_with("x-api-key", "sk-wrong"), {"sk-a-token"}, true, &id) ==
        AuthResult::invalid);
}

TEST_CASE("client credentials are stripped from forwarded headers", "[auth]") {
  gb::http::Headers h;
  h.add("Authorization", "Bearer t");
  h.add("X-Goog-Api-Key", "t");
  h.add("x-api-key", "t");
  h.add("Content-Type", "application/json");
  gb::proxy::strip_client_credentials(h);
  REQUIRE(h.size() == 1);
  CHECK(h.list()[0].name == "Content-Type");
}
