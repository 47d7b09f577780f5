// What translate_chat_request hands the proxy besides the body (model, ResponseOptions,
// remote media), attach_media and serialize, a multi-turn Gemini 3 tool conversation, and
// translate_embeddings_request.
#include <catch2/catch.hpp>
#include <string>

#include "llm/openai/chat_request.h"
#include "llm/openai/tool_id.h"
#include "request_test_util.h"

using gb::llm::openai::attach_media;
using gb::llm::openai::ChatRequestResult;
using gb::llm::openai::EmbeddingsRequestResult;
using gb::llm::openai::make_tool_id;
using gb::llm::openai::parse_tool_id;
using gb::llm::openai::random_suffix;
using gb::llm::openai::serialize;
using gb::llm::openai::ToolIdParts;
using gb::llm::openai::translate_chat_request;
using gb::llm::openai::translate_embeddings_request;

namespace {

const rapidjson::Value& part_at(const rapidjson::Value& body, size_t content, size_t part) {
  return body["contents"][static_cast<rapidjson::SizeType>(content)]["parts"]
             [static_cast<rapidjson::SizeType>(part)];
}

std::string str(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : "<not a string>";
}

}  // namespace

TEST_CASE("translate_chat_request fills the call and the response options", "[openai-request]") {
  SECTION("defaults") {
    ChatRequestResult r = translate_chat_request(
        R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]})");
    REQUIRE(r.ok);
    CHECK(r.call.model == "gemini-2.5-flash");
    CHECK_FALSE(r.call.stream);
    CHECK(r.call.remote.empty());
    CHECK(r.call.response.model == "gemini-2.5-flash");
    CHECK_FALSE(r.call.response.stream);
    CHECK_FALSE(r.call.response.include_usage);
    CHECK(r.call.response.n == 1);
    CHECK(r.call.response.parallel_tool_calls);
  }
  SECTION("models/ prefix stripped for the path, kept for the answer") {
    ChatRequestResult r = translate_chat_request(
        R"({"model":"models/gemini-2.5-pro","messages":[{"role":"user","content":"Hi"}]})");
    REQUIRE(r.ok);
    CHECK(r.call.model == "gemini-2.5-pro");
    CHECK(r.call.response.model == "models/gemini-2.5-pro");
  }
  SECTION("stream, usage, n and parallel_tool_calls") {
    ChatRequestResult r = translate_chat_request(
        R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}],
            "stream":true,"stream_options":{"include_usage":true},"n":2,
            "parallel_tool_calls":false})");
    REQUIRE(r.ok);
    CHECK(r.call.stream);
    CHECK(r.call.response.stream);
    CHECK(r.call.response.include_usage);
    CHECK(r.call.response.n == 2);
    CHECK_FALSE(r.call.response.parallel_tool_calls);
  }
  SECTION("null means unset") {
    ChatRequestResult r = translate_chat_request(
        R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}],
            "stream":null,"stream_options":null,"n":null,"temperature":null,"stop":null,
            "tools":null,"tool_choice":null,"response_format":null,"reasoning_effort":null,
            "logit_bias":null,"seed":null,"user":null})");
    INFO(r.error.message);
    REQUIRE(r.ok);
    CHECK(gb::test::json_diff(
              gb::test::parse_json(R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})"),
              r.call.body) == "");
  }
}

TEST_CASE("http(s) images become placeholders that attach_media fills", "[openai-request]") {
  ChatRequestResult r = translate_chat_request(R"({"model":"gemini-2.5-flash","messages":[
      {"role":"user","content":[{"type":"text","text":"Compare"},
        {"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]},
      {"role":"assistant","content":"Which aspect?"},
      {"role":"user","content":[{"type":"image_url","image_url":"http://example.com/b.jpg"},
        {"type":"text","text":"Colour"}]}]})");
  INFO(r.error.message);
  REQUIRE(r.ok);
  REQUIRE(r.call.remote.size() == 2);
  CHECK(r.call.remote[0].url == "https://example.com/a.png");
  CHECK(r.call.remote[0].content == 0);
  CHECK(r.call.remote[0].part == 1);
  CHECK(r.call.remote[1].url == "http://example.com/b.jpg");
  CHECK(r.call.remote[1].content == 2);
  CHECK(r.call.remote[1].part == 0);
  CHECK(str(part_at(r.call.body, 0, 1)["inlineData"]["data"]) == "");

  attach_media(r.call, 0, "Image/PNG; charset=binary", std::string("\x89PNG\r\n", 6));
  attach_media(r.call, 1, "", "abc");
  attach_media(r.call, 7, "image/gif", "ignored: no such medium");
  CHECK(str(part_at(r.call.body, 0, 1)["inlineData"]["mimeType"]) == "image/png");
  CHECK(str(part_at(r.call.body, 0, 1)["inlineData"]["data"]) == "iVBORw0K");
  CHECK(str(part_at(r.call.body, 2, 0)["inlineData"]["mimeType"]) == "application/octet-stream");
  CHECK(str(part_at(r.call.body, 2, 0)["inlineData"]["data"]) == "YWJj");

  rapidjson::Document sent = gb::test::parse_json(serialize(r.call));
  CHECK(gb::test::json_diff(r.call.body, sent) == "");
  CHECK(gb::test::mock_verdict(sent, r.call.model) == "");
}

TEST_CASE("attach_media encodes any bytes as standard padded base64", "[openai-request]") {
  struct Row {
    std::string bytes;
    const char* b64;
  };
  const Row rows[] = {{"", ""},
                      {"f", "Zg=="},
                      {"fo", "Zm8="},
                      {"foo", "Zm9v"},
                      {"foob", "Zm9vYg=="},
                      {"\xff\xfe\xfd", "//79"},
                      {std::string("\0\0", 2), "AAA="}};
  for (const Row& row : rows) {
    ChatRequestResult r = translate_chat_request(
        R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":[
            {"type":"image_url","image_url":{"url":"https://h/x"}}]}]})");
    REQUIRE(r.ok);
    attach_media(r.call, 0, "image/webp", row.bytes);
    CHECK(str(part_at(r.call.body, 0, 0)["inlineData"]["data"]) == row.b64);
  }
}

TEST_CASE("a Gemini 3 tool conversation gives each call its signature back", "[openai-request]") {
  // Turn 1 answered with two parallel calls; Gemini signed the first only. Turn 2 with one
  // call and a signature holding '+' and '/', which the id carries as base64url.
  std::string id_a = make_tool_id({"c2lnLWE=", "gem-a"}, random_suffix());
  std::string id_b = make_tool_id({"", "gem-b"}, random_suffix());
  std::string id_c = make_tool_id({"ab+/cd==", ""}, random_suffix());
  REQUIRE(parse_tool_id(id_c).signature == "ab+/cd==");
  std::string body =
      R"({"model":"gemini-3-pro-preview","tools":[{"type":"function","function":
      {"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],
      "messages":[
        {"role":"user","content":"Find a and b, then c"},
        {"role":"assistant","content":null,"tool_calls":[
          {"id":")" +
      id_a + R"(","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"a\"}"}},
          {"id":")" +
      id_b + R"(","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"b\"}"}}]},
        {"role":"tool","tool_call_id":")" +
      id_a + R"(","content":"A"},
        {"role":"tool","tool_call_id":")" +
      id_b + R"(","content":"B"},
        {"role":"assistant","content":"Now c.","tool_calls":[
          {"id":")" +
      id_c + R"(","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"c\"}"}}]},
        {"role":"tool","tool_call_id":")" +
      id_c + R"(","content":"{\"found\":true}"}]})";
  ChatRequestResult r = translate_chat_request(body);
  INFO(r.error.message);
  REQUIRE(r.ok);
  const rapidjson::Value& b = r.call.body;
  REQUIRE(b["contents"].Size() == 5);
  const rapidjson::Value& first = part_at(b, 1, 0);
  CHECK(str(first["thoughtSignature"]) == "c2lnLWE=");
  CHECK(str(first["functionCall"]["id"]) == "gem-a");
  const rapidjson::Value& second = part_at(b, 1, 1);
  CHECK_FALSE(second.HasMember("thoughtSignature"));  // parallel calls: only the first
  CHECK(str(second["functionCall"]["id"]) == "gem-b");
  CHECK(str(part_at(b, 2, 0)["functionResponse"]["id"]) == "gem-a");
  CHECK(str(part_at(b, 2, 1)["functionResponse"]["id"]) == "gem-b");
  CHECK(str(part_at(b, 2, 1)["functionResponse"]["response"]["output"]) == "B");
  const rapidjson::Value& third = part_at(b, 3, 1);
  CHECK(str(third["thoughtSignature"]) == "ab+/cd==");
  CHECK_FALSE(third["functionCall"].HasMember("id"));
  CHECK(part_at(b, 4, 0)["functionResponse"]["response"]["found"].IsTrue());
  CHECK(gb::test::mock_verdict(gb::test::parse_json(serialize(r.call)), r.call.model) == "");
}

TEST_CASE("calls without a carried signature get the sentinel on Gemini 3 only",
          "[openai-request]") {
  const std::string msgs = R"("messages":[{"role":"user","content":"go"},
      {"role":"assistant","tool_calls":[{"id":"toolu_01","type":"function",
        "function":{"name":"f","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"toolu_01","content":"done"}]})";
  ChatRequestResult g3 = translate_chat_request(R"({"model":"gemini-3-pro-preview",)" + msgs);
  REQUIRE(g3.ok);
  CHECK(str(part_at(g3.call.body, 1, 0)["thoughtSignature"]) == "skip_thought_signature_validator");
  CHECK(gb::test::mock_verdict(g3.call.body, g3.call.model) == "");

  ChatRequestResult g25 = translate_chat_request(R"({"model":"gemini-2.5-flash",)" + msgs);
  REQUIRE(g25.ok);
  CHECK_FALSE(part_at(g25.call.body, 1, 0).HasMember("thoughtSignature"));
  // gb-mock would refuse the 2.5 body on a Gemini 3 model: the sentinel is what passes.
  CHECK(gb::test::mock_verdict(g25.call.body, "gemini-3-pro-preview") != "");
}

TEST_CASE("translate_embeddings_request builds one batch request per input", "[openai-request]") {
  SECTION("a string") {
    EmbeddingsRequestResult r =
        translate_embeddings_request(R"({"model":"gemini-embedding-001","input":"hello world"})");
    INFO(r.error.message);
    REQUIRE(r.ok);
    CHECK(r.call.model == "gemini-embedding-001");
    CHECK(r.call.inputs == 1);
    CHECK(r.call.prompt_tokens == 3);  // 11 bytes
    CHECK_FALSE(r.call.base64);
    rapidjson::Document body = gb::test::parse_json(r.call.body);
    CHECK(gb::test::json_diff(gb::test::parse_json(R"({"requests":[
              {"model":"models/gemini-embedding-001",
               "content":{"parts":[{"text":"hello world"}]}}]})"),
                              body) == "");
    CHECK(gb::test::mock_embed_verdict(body, r.call.model) == "");
  }
  SECTION("an array, dimensions and base64") {
    EmbeddingsRequestResult r = translate_embeddings_request(
        R"({"model":"models/gemini-embedding-001","input":["a","bcdef"],"dimensions":256,
            "encoding_format":"base64","user":"u1"})");
    INFO(r.error.message);
    REQUIRE(r.ok);
    CHECK(r.call.model == "gemini-embedding-001");
    CHECK(r.call.inputs == 2);
    CHECK(r.call.prompt_tokens == 1 + 2);
    CHECK(r.call.base64);
    rapidjson::Document body = gb::test::parse_json(r.call.body);
    CHECK(gb::test::json_diff(gb::test::parse_json(R"({"requests":[
              {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]},
               "outputDimensionality":256},
              {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"bcdef"}]},
               "outputDimensionality":256}]})"),
                              body) == "");
    CHECK(gb::test::mock_embed_verdict(body, r.call.model) == "");
  }
  SECTION("float encoding is the default") {
    EmbeddingsRequestResult r = translate_embeddings_request(
        R"({"model":"gemini-embedding-001","input":["x"],"encoding_format":"float"})");
    REQUIRE(r.ok);
    CHECK_FALSE(r.call.base64);
  }
}

TEST_CASE("translate_embeddings_request refusals", "[openai-request]") {
  struct Case {
    const char* what;
    std::string body;
    int status;
    std::string param;
  };
  std::string many = "[";
  for (int i = 0; i < 2049; ++i) {
    many += i > 0 ? ",\"x\"" : "\"x\"";
  }
  many += "]";
  const Case cases[] = {
      {"not JSON", "nope", 400, ""},
      {"unknown field", R"({"model":"m","input":"x","foo":1})", 400, "foo"},
      {"model missing", R"({"input":"x"})", 400, "model"},
      {"model unsafe", R"({"model":"../x","input":"x"})", 400, "model"},
      {"input missing", R"({"model":"m"})", 400, "input"},
      {"input a number", R"({"model":"m","input":5})", 400, "input"},
      {"input empty array", R"({"model":"m","input":[]})", 400, "input"},
      {"input empty string", R"({"model":"m","input":""})", 400, "input"},
      {"input element empty", R"({"model":"m","input":["a",""]})", 400, "input[1]"},
      {"input mixed", R"({"model":"m","input":["a",1]})", 400, "input[1]"},
      {"token array", R"({"model":"m","input":[1,2,3]})", 400, "input"},
      {"token arrays", R"({"model":"m","input":[[1,2],[3]]})", 400, "input"},
      {"too many inputs", R"({"model":"m","input":)" + many + "}", 400, "input"},
      {"encoding unknown", R"({"model":"m","input":"x","encoding_format":"int8"})", 400,
       "encoding_format"},
      {"dimensions zero", R"({"model":"m","input":"x","dimensions":0})", 400, "dimensions"},
      {"dimensions a string", R"({"model":"m","input":"x","dimensions":"8"})", 400, "dimensions"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    EmbeddingsRequestResult r = translate_embeddings_request(c.body);
    REQUIRE_FALSE(r.ok);
    CHECK(r.error.status == c.status);
    CHECK(r.error.param == c.param);
    CHECK(r.error.message.find(c.param) != std::string::npos);
  }
  EmbeddingsRequestResult r = translate_embeddings_request(R"({"model":"m","input":[1]})");
  CHECK(r.error.message.find("not supported") != std::string::npos);
}
