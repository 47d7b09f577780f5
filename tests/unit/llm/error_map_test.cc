// OpenAI error objects (WIRE.md §4.5, §6.7): gbd's own errors, Retry-After, key masking.
// The Gemini error bodies themselves are golden files (response_golden_test.cc).
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <string>

#include "llm/openai/chat_response.h"

using namespace gb::llm::openai;

namespace {

struct Fields {
  std::string message, type;
  bool param_null = false, code_null = false;
  std::string code;
};

Fields fields(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  REQUIRE(d.IsObject());
  REQUIRE(d.MemberCount() == 1);
  const auto& e = d["error"];
  REQUIRE(e.MemberCount() == 4);
  Fields f;
  f.message = e["message"].GetString();
  f.type = e["type"].GetString();
  f.param_null = e["param"].IsNull();
  f.code_null = e["code"].IsNull();
  f.code = e["code"].IsString() ? e["code"].GetString() : "";
  return f;
}

const char* kQuota503 = R"({"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE",
  "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.5s"}]}})";

std::string with_delay(const std::string& delay) {
  return R"({"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED",
    "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": ")" +
         delay + R"("}]}})";
}

}  // namespace

TEST_CASE("error_body writes all four members, null when empty", "[openai-response]") {
  CHECK(error_body("bad \"x\"", "invalid_request_error", "messages[0].role", "") ==
        R"({"error":{"message":"bad \"x\"","type":"invalid_request_error",)"
        R"("param":"messages[0].role","code":null}})");
  CHECK(error_body("m", "t", "", "c") ==
        R"({"error":{"message":"m","type":"t","param":null,"code":"c"}})");
}

TEST_CASE("gbd's own errors get OpenAI's type and code for their status", "[openai-response]") {
  struct Row {
    int status;
    const char* message;
    const char* type;
    const char* code;  // "" for null
  };
  const Row rows[] = {
      {400, "the body is not JSON", "invalid_request_error", ""},
      {401, "missing or wrong token", "invalid_request_error", "invalid_api_key"},
      {403, "this token may not use the pool", "permission_error", ""},
      {404, "The model 'gpt-x' does not exist", "invalid_request_error", "model_not_found"},
      {404, "no route for /v1/nothing", "invalid_request_error", "not_found"},
      {405, "use POST", "invalid_request_error", ""},
      {408, "the request took too long to arrive", "invalid_request_error", ""},
      {409, "conflict", "invalid_request_error", ""},
      {413, "the body is over 32 MiB", "invalid_request_error", ""},
      {429, "every key is cooling down", "rate_limit_error", "rate_limit_exceeded"},
      {500, "internal error", "server_error", ""},
      {502, "upstream unreachable", "server_error", ""},
      {503, "no key available", "server_error", ""},
      {504, "upstream timed out", "server_error", ""},
  };
  for (const Row& r : rows) {
    INFO(r.status << " " << r.message);
    Fields f = fields(error_body_for_status(r.status, r.message));
    CHECK(f.message == r.message);
    CHECK(f.type == r.type);
    CHECK(f.param_null);
    CHECK(f.code == r.code);
    CHECK(f.code_null == (std::string(r.code).empty()));
  }
}

TEST_CASE("Retry-After comes from the header, else RetryInfo rounded up", "[openai-response]") {
  CHECK(translate_error(429, with_delay("37s"), "").retry_after_s == 37);
  CHECK(translate_error(429, with_delay("0.5s"), "").retry_after_s == 1);
  CHECK(translate_error(429, with_delay("45.837906927s"), "").retry_after_s == 46);
  CHECK(translate_error(429, with_delay("2.000s"), "").retry_after_s == 2);
  CHECK(translate_error(429, with_delay("0s"), "").retry_after_s == 0);
  CHECK(translate_error(429, with_delay("99999999999999s"), "").retry_after_s == INT_MAX);
  for (const char* bad : {"", "s", "12", "-3s", "1.s", ".5s", "1e3s", "5m"}) {
    INFO(bad);
    CHECK_FALSE(translate_error(429, with_delay(bad), "").retry_after_s.has_value());
  }
  // The header wins; an HTTP-date header cannot be read without a clock and is ignored.
  CHECK(translate_error(429, with_delay("37s"), "5").retry_after_s == 5);
  CHECK(translate_error(429, with_delay("37s"), " 7 ").retry_after_s == 7);
  CHECK(translate_error(429, with_delay("37s"), "Wed, 21 Oct 2015 07:28:00 GMT").retry_after_s ==
        37);
  CHECK(translate_error(503, kQuota503, "").retry_after_s == 1);
  // Only 429 and 503 carry one.
  CHECK_FALSE(translate_error(500, with_delay("37s"), "9").retry_after_s.has_value());
  CHECK_FALSE(translate_error(400, with_delay("37s"), "9").retry_after_s.has_value());
}

TEST_CASE("an error answer below 400 still reads as an error", "[openai-response]") {
  ClientError e = translate_error(200, "{}", "");
  CHECK(e.status == 502);
  CHECK(fields(e.body).type == "server_error");
}

TEST_CASE("upstream keys in error messages are masked", "[openai-response]") {
  const std::string key = "AIzaSyD-3fQ9x1Vb8kLm2Nq7Rt5Wz0Yc4Hj6Pa8";
  std::string body = R"({"error": {"code": 403, "message": "Consumer 'api_key:)" + key +
                     R"(' has been suspended. Key )" + key + R"( again.", "status": "X"}})";
  ClientError e = translate_error(403, body, "");
  CHECK(e.body.find("AIzaSyD") == std::string::npos);
  CHECK(e.body.find("3fQ9x1Vb8kLm2Nq7Rt5Wz0Yc4Hj") == std::string::npos);
  const std::string masked = "AIza\u2026" + key.substr(key.size() - 4);
  CHECK(fields(e.body).message ==
        "Consumer 'api_key:" + masked + "' has been suspended. Key " + masked + " again.");
}

TEST_CASE("a huge non-JSON error body is quoted only in part", "[openai-response]") {
  std::string body(1 << 20, 'z');
  ClientError e = translate_error(502, body, "");
  CHECK(e.status == 502);
  CHECK(e.body.size() < 400);
  CHECK(fields(e.body).message.find("zzzz") != std::string::npos);
}
