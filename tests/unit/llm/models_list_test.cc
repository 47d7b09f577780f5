// Gemini models.list pages and OpenAI's /v1/models bodies (WIRE.md §1.3, §4.6).
#include <catch2/catch.hpp>
#include <string>

#include "llm/openai/chat_response.h"

using namespace gb::llm::openai;

TEST_CASE("a models.list page gives ids without models/ and the next token", "[openai-response]") {
  ModelsPage p = parse_models_page(R"({
    "models": [
      {"name": "models/gemini-2.5-flash", "version": "001", "displayName": "Gemini 2.5 Flash",
       "supportedGenerationMethods": ["generateContent", "countTokens"]},
      {"name": "models/gemini-embedding-001", "supportedGenerationMethods": ["embedContent"]},
      {"name": "tunedModels/mine"},
      {"displayName": "no name"},
      {"name": 7}
    ],
    "nextPageToken": "Ch1tb2RlbHMvZ2VtaW5pLTIuNS1mbGFzaA=="
  })");
  REQUIRE(p.ok);
  CHECK(p.ids ==
        std::vector<std::string>{"gemini-2.5-flash", "gemini-embedding-001", "tunedModels/mine"});
  CHECK(p.next_page_token == "Ch1tb2RlbHMvZ2VtaW5pLTIuNS1mbGFzaA==");

  ModelsPage last = parse_models_page(R"({"models": [{"name": "models/a"}]})");
  REQUIRE(last.ok);
  CHECK(last.next_page_token.empty());
  ModelsPage empty = parse_models_page("{}");
  CHECK(empty.ok);
  CHECK(empty.ids.empty());
}

TEST_CASE("what is not a models.list page is refused", "[openai-response]") {
  for (const char* b :
       {"", "[]", "null", R"({"models": {}})", R"({"error": {"code": 403, "message": "x"}})"}) {
    INFO(b);
    CHECK_FALSE(parse_models_page(b).ok);
  }
}

TEST_CASE("OpenAI model list and model bodies", "[openai-response]") {
  CHECK(models_list_body({{"gemini-2.5-flash", "google"}, {"my \"alias\"", "gbd"}}) ==
        R"({"object":"list","data":[)"
        R"({"id":"gemini-2.5-flash","object":"model","created":0,"owned_by":"google"},)"
        R"({"id":"my \"alias\"","object":"model","created":0,"owned_by":"gbd"}]})");
  CHECK(models_list_body({}) == R"({"object":"list","data":[]})");
  CHECK(model_body("gemini-2.5-pro", "google") ==
        R"({"id":"gemini-2.5-pro","object":"model","created":0,"owned_by":"google"})");
}
