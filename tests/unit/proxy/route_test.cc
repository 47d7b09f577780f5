#include <catch2/catch.hpp>

#include "proxy/route.h"

using gb::proxy::match_route;
using gb::proxy::ClientApi;
using gb::proxy::Route;
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
  CHECK(match_route("GET", "/v2/chat/completions").kind == RouteKind::not_found);
  CHECK(match_route("GET", "/v1beta/models/x:generateContent").kind == RouteKind::bad_method);
  CHECK(match_route("POST", "/v1beta/models").kind == RouteKind::bad_method);
  CHECK(match_route("POST", "/health").kind == RouteKind::bad_method);
  CHECK(match_route("GET", "/health").kind == RouteKind::health);
  CHECK(match_route("POST", "/v1beta/models/..%2f:generateContent").kind == RouteKind::bad_model);
  CHECK(match_route("POST", "/v1beta/models/a/b:generateContent").kind == RouteKind::bad_model);
}

TEST_CASE("OpenAI-compatible routes under /v1 and /openai/v1", "[route]") {
  struct Case {
    const char* method;
    const char* path;
    RouteKind kind;
    const char* model;
  };
  const Case cases[] = {
      {"POST", "/v1/chat/completions", RouteKind::openai_chat, ""},
      {"POST", "/openai/v1/chat/completions", RouteKind::openai_chat, ""},
      {"GET", "/v1/chat/completions", RouteKind::bad_method, ""},
      {"POST", "/v1/embeddings", RouteKind::openai_embeddings, ""},
      {"POST", "/openai/v1/embeddings", RouteKind::openai_embeddings, ""},
      {"GET", "/v1/models", RouteKind::openai_models, ""},
      {"GET", "/openai/v1/models", RouteKind::openai_models, ""},
      {"GET", "/v1/models/gemini-2.5-flash", RouteKind::openai_model, "gemini-2.5-flash"},
      {"GET", "/openai/v1/models/gpt-4o", RouteKind::openai_model, "gpt-4o"},
      {"POST", "/v1/models", RouteKind::bad_method, ""},
      {"GET", "/v1/completions", RouteKind::not_found, ""},
      {"GET", "/openai/v1/models/a/b", RouteKind::not_found, ""},
  };
  for (const Case& c : cases) {
    INFO(c.method << " " << c.path);
    Route r = match_route(c.method, c.path);
    CHECK(r.kind == c.kind);
    CHECK(r.api == ClientApi::openai);
    CHECK(r.model == c.model);
  }
  // Gemini v1 calls and the /gemini spellings stay Gemini's.
  Route g = match_route("POST", "/v1/models/gemini-2.5-flash:generateContent");
  CHECK(g.kind == RouteKind::gemini);
  CHECK(g.api == ClientApi::gemini);
  CHECK(match_route("GET", "/gemini/v1/models").kind == RouteKind::gemini);
  CHECK(match_route("GET", "/gemini/v1/models").api == ClientApi::gemini);
}
