// Golden pairs for whole answers (WIRE.md §6.4, §6.4.1, §6.6) and error answers (§6.7):
// tests/fixtures/openai/response/NAME.gemini.json -> NAME.openai.json.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "llm/openai/chat_response.h"
#include "response_fixtures.h"

using namespace gb::llm::openai;
using namespace gb::llm::openai::test;

namespace {

const ResponseIds kIds{"chatcmpl-gbdtest0001", 1735689600};

ResponseOptions options(std::string model = "gemini-2.5-flash") {
  ResponseOptions o;
  o.model = std::move(model);
  return o;
}

struct AnswerCase {
  const char* input;     // NAME of NAME.gemini.json
  const char* expected;  // NAME of NAME.openai.json
  ResponseOptions opt;
};

std::vector<AnswerCase> answer_cases() {
  ResponseOptions serial = options("gemini-3-pro-preview");
  serial.parallel_tool_calls = false;
  ResponseOptions two = options();
  two.n = 2;
  return {
      // §6.4
      {"text_basic", "text_basic", options("gpt-4o")},
      {"thoughts", "thoughts", options()},
      {"tool_call_signature", "tool_call_signature", options("gemini-3-pro-preview")},
      {"tool_calls_parallel", "tool_calls_parallel", options("gemini-3-pro-preview")},
      {"tool_calls_parallel", "tool_calls_parallel_off", serial},
      {"tool_call_gemini_id", "tool_call_gemini_id", options("gemini-3-pro-preview")},
      {"tool_call_no_args", "tool_call_no_args", options()},
      {"two_candidates", "two_candidates", two},
      {"inline_data", "inline_data", options("gemini-2.5-flash-image")},
      {"code_execution", "code_execution", options()},
      {"grounding", "grounding", options()},
      {"logprobs", "logprobs", options()},
      {"blocked_prompt", "blocked_prompt", options()},
      // §6.4.1
      {"finish_reasons", "finish_reasons", options()},
      {"safety_no_content", "safety_no_content", options()},
      {"max_tokens_thinking", "max_tokens_thinking", options()},
      {"malformed_function_call", "malformed_function_call", options()},
      // §6.6 (and the model echoed from modelVersion when the client's name is unknown)
      {"usage_cached_tool_use", "usage_cached_tool_use", options()},
      {"usage_thoughts_inclusive", "usage_thoughts_inclusive", options("")},
      {"usage_missing", "usage_missing", options()},
  };
}

}  // namespace

TEST_CASE("chat answers match their golden files", "[openai-response]") {
  for (const AnswerCase& c : answer_cases()) {
    SECTION(c.expected) {
      std::string gemini = read_fixture(std::string("response/") + c.input + ".gemini.json");
      ChatResponseResult r = translate_chat_response(gemini, c.opt, kIds);
      INFO("error: " << r.error);
      REQUIRE(r.ok);
      check_golden_json(r.body, std::string("response/") + c.expected + ".openai.json");
    }
  }
}

TEST_CASE("chat answer tool ids carry the signature and Gemini's id", "[openai-response]") {
  std::string gemini = read_fixture("response/tool_call_gemini_id.gemini.json");
  ChatResponseResult r = translate_chat_response(gemini, options(), kIds);
  REQUIRE(r.ok);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  const auto& call = d["choices"][0]["message"]["tool_calls"][0];
  ToolIdParts p = parse_tool_id(call["id"].GetString());
  CHECK(p.signature == "3cULk++8OJjpTUziTt7Xc+ctkxhIorTzMw==");
  CHECK(p.gemini_id == "fc-7b1d2c");
  // Two translations of one answer give two different ids.
  ChatResponseResult again = translate_chat_response(gemini, options(), kIds);
  rapidjson::Document d2;
  d2.Parse(again.body.c_str());
  CHECK(std::string(d2["choices"][0]["message"]["tool_calls"][0]["id"].GetString()) !=
        call["id"].GetString());
}

TEST_CASE("chat answers have every field OpenAI requires", "[openai-response]") {
  for (const AnswerCase& c : answer_cases()) {
    std::string gemini = read_fixture(std::string("response/") + c.input + ".gemini.json");
    ChatResponseResult r = translate_chat_response(gemini, c.opt, kIds);
    REQUIRE(r.ok);
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    INFO(c.expected << ": " << r.body);
    REQUIRE(d.IsObject());
    CHECK(d["id"].IsString());
    CHECK(std::string(d["object"].GetString()) == "chat.completion");
    CHECK(d["created"].IsInt64());
    CHECK(d["model"].IsString());
    REQUIRE(d["choices"].IsArray());
    REQUIRE(d["choices"].Size() > 0);
    for (const auto& ch : d["choices"].GetArray()) {
      CHECK(ch["index"].IsInt());
      CHECK(ch.HasMember("logprobs"));
      CHECK(ch["finish_reason"].IsString());
      const auto& m = ch["message"];
      CHECK(std::string(m["role"].GetString()) == "assistant");
      CHECK((m["content"].IsString() || m["content"].IsNull()));
      CHECK(m["refusal"].IsNull());
    }
    const auto& u = d["usage"];
    CHECK(u["prompt_tokens"].IsInt64());
    CHECK(u["completion_tokens"].IsInt64());
    CHECK(u["total_tokens"].IsInt64());
  }
}

TEST_CASE("bodies that are not a GenerateContentResponse are refused", "[openai-response]") {
  const char* bodies[] = {
      "",
      "not json",
      "[]",
      "\"text\"",
      "{}",
      R"({"candidates": []})",
      R"({"candidates": {"content": {}}})",
      R"({"usageMetadata": {"promptTokenCount": 3}})",
      R"({"error": {"code": 500, "message": "x", "status": "INTERNAL"}})",
      R"({"candidates": [{"content": {"parts": [{"text": "cut)",
  };
  for (const char* b : bodies) {
    INFO("body: " << b);
    ChatResponseResult r = translate_chat_response(b, options(), kIds);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("a deeply nested answer is refused without recursion", "[openai-response]") {
  std::string args(100000, '[');
  std::string body =
      R"({"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": )" + args +
      std::string(100000, ']') + "}}]}}]}";
  ChatResponseResult r = translate_chat_response(body, options(), kIds);
  CHECK_FALSE(r.ok);
}

TEST_CASE("strange parts and candidates do not break an answer", "[openai-response]") {
  std::string body = R"({"candidates": [
      {"content": {"parts": [1, null, {"text": 5}, {"thought": "yes", "text": "a"},
                             {"functionCall": {"name": "f", "args": [1, 2]}},
                             {"functionCall": {"args": null}}]}, "index": "zero"},
      7,
      {"content": {"parts": "not a list"}, "finishReason": 12}]})";
  ChatResponseResult r = translate_chat_response(body, options(), kIds);
  REQUIRE(r.ok);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE(d["choices"].Size() == 3);
  const auto& m0 = d["choices"][0]["message"];
  CHECK(std::string(m0["content"].GetString()) == "a");
  CHECK(std::string(m0["tool_calls"][0]["function"]["arguments"].GetString()) == "[1,2]");
  CHECK(std::string(m0["tool_calls"][1]["function"]["arguments"].GetString()) == "{}");
  CHECK(d["choices"][0]["index"].GetInt() == 0);
  CHECK(d["choices"][1]["index"].GetInt() == 1);
  CHECK(std::string(d["choices"][2]["finish_reason"].GetString()) == "stop");
}

// §6.7: status and header given here, the Gemini body in NAME.gemini.json (or .txt when it
// is not JSON), the expected {"status", "retry_after", "body"} in NAME.openai.json.
TEST_CASE("error answers match their golden files", "[openai-response]") {
  struct ErrorCase {
    const char* name;
    const char* input_ext;
    int status;
    const char* retry_after_header;
  };
  const ErrorCase cases[] = {
      {"error_api_key_invalid", "json", 400, ""},
      {"error_unknown_field", "json", 400, ""},
      {"error_failed_precondition", "json", 400, ""},
      {"error_permission_denied", "json", 403, ""},
      {"error_suspended", "json", 403, ""},
      {"error_not_found", "json", 404, ""},
      {"error_quota", "json", 429, ""},
      {"error_quota_per_day", "json", 429, ""},
      {"error_quota_fractional", "json", 429, ""},
      {"error_quota_bare", "json", 429, ""},
      {"error_internal", "json", 500, ""},
      {"error_unavailable", "json", 503, ""},
      {"error_deadline", "json", 504, ""},
      {"error_array_wrapped", "json", 400, ""},
      {"error_html", "txt", 502, ""},
      {"error_empty", "txt", 503, "120"},
  };
  for (const ErrorCase& c : cases) {
    SECTION(c.name) {
      std::string body = read_fixture(std::string("response/") + c.name + ".gemini." + c.input_ext);
      ClientError e = translate_error(c.status, body, c.retry_after_header);
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      w.StartObject();
      w.Key("status");
      w.Int(e.status);
      w.Key("retry_after");
      if (e.retry_after_s) {
        w.Int(*e.retry_after_s);
      } else {
        w.Null();
      }
      w.Key("body");
      w.RawValue(e.body.data(), e.body.size(), rapidjson::kObjectType);
      w.EndObject();
      check_golden_json(buf.GetString(), std::string("response/") + c.name + ".openai.json");
    }
  }
}
