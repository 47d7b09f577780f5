#include <catch2/catch.hpp>

#include "proxy/route.h"

using gb::proxy::match_route;
using gb::proxy::RouteKind;

TEST_CASE("Gemini native routes map to the upstream path", "[route]") {
  struct Case {
    const char* method;
    const char* path;
    RouteKind kind;
    const char* model;
    const char* action;
    const char* upstream;
  };
  const Case cases[] = {
      {"POST", "/v1beta/models/gemini-2.5-flash:generateContent", RouteKind::gemini,
       "gemini-2.5-flash", "generateContent", "/v1beta/models/gemini-2.5-flash:generateContent"},
      {"POST", "/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent", RouteKind::gemini,
       "gemini-2.5-pro", "streamGenerateContent",
       "/v1beta/models/gemini-2.5-pro:streamGenerateContent"},
      {"POST", "/v1/models/gemini-2.0-flash:countTokens", RouteKind::gemini, "gemini-2.0-flash",
       "countTokens", "/v1/models/gemini-2.0-flash:countTokens"},
      {"POST", "/gemini/v1/models/e:embedContent", RouteKind::gemini, "e", "embedContent",
       "/v1/models/e:embedContent"},
      {"POST", "/v1beta/models/e:batchEmbedContents", RouteKind::gemini, "e", "batchEmbedContents",
       "/v1beta/models/e:batchEmbedContents"},
      {"GET", "/v1beta/models", RouteKind::gemini, "", "list", "/v1beta/models"},
      {"GET", "/v1beta/models/gemini-2.5-flash", RouteKind::gemini, "gemini-2.5-flash", "get",
       "/v1beta/models/gemini-2.5-flash"},
      {"GET", "/gemini/v1/models", RouteKind::gemini, "", "list", "/v1/models"},
  };
  for (const Case& c : cases) {
    INFO(c.method << " " << c.path);
    auto r = match_route(c.method, c.path);
    CHECK(r.kind == c.kind);
    CHECK(r.model == c.model);
    CHECK(r.action == c.action);
    CHECK(r.upstream_path == c.upstream);
    CHECK(r.stream == (r.action == "streamGenerateContent"));
  }
}

TEST_CASE("unknown paths, wrong methods and odd model names are refused", "[route]") {
  CHECK(match_route("POST", "/v1beta/models/x:unknownAction").kind == RouteKind::not_found);
  CHECK(match_route("GET", "/v2/models").kind == RouteKind::not_found);
  CHECK(match_route("GET", "/").kind == RouteKind::not_found);
  CHECK(match_route("GET", "/v1/models").kind == RouteKind::not_found);  // OpenAI's, not Gemini's
  CHECK(match_route("GET", "/v1beta/models/x:generateContent").kind == RouteKind::bad_method);
  CHECK(match_route("POST", "/v1beta/models").kind == RouteKind::bad_method);
  CHECK(match_route("POST", "/health").kind == RouteKind::bad_method);
  CHECK(match_route("GET", "/health").kind == RouteKind::health);
  CHECK(match_route("POST", "/v1beta/models/..%2f:generateContent").kind == RouteKind::bad_model);
  CHECK(match_route("POST", "/v1beta/models/a/b:generateContent").kind == RouteKind::bad_model);
}
