// Every refusal of translate_chat_request: the status, error.param, and a message that
// names the field. One row per way a request can be refused.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "llm/openai/chat_request.h"
#include "llm/openai/request_messages.h"

using gb::llm::openai::ChatRequestResult;
using gb::llm::openai::translate_chat_request;

namespace {

const std::string kHi = R"([{"role":"user","content":"Hi"}])";

// A request for gemini-2.5-flash with `fields` (",..." members) and `messages`.
std::string with(const std::string& fields, const std::string& messages = kHi,
                 const std::string& model = "gemini-2.5-flash") {
  return R"({"model":")" + model + R"(","messages":)" + messages + fields + "}";
}

std::string user_part(const std::string& part) {
  return with("", R"([{"role":"user","content":[)" + part + "]}]");
}

const std::string kTool = R"(,"tools":[{"type":"function","function":{"name":"f","parameters":)"
                          R"({"type":"object","properties":{"a":{"type":"string"}}}}}])";

std::string many(const std::string& item, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += (i > 0 ? "," : "") + item;
  }
  return out;
}

struct Case {
  const char* what;
  std::string body;
  int status;
  std::string param;
};

std::vector<Case> cases() {
  const std::string two_calls =
      R"([{"role":"user","content":"go"},{"role":"assistant","tool_calls":[
        {"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},
        {"id":"b","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"a","content":"x"}])";
  return {
      // the body
      {"not JSON", "{", 400, ""},
      {"not an object", "[]", 400, ""},
      {"invalid UTF-8", with("", "[{\"role\":\"user\",\"content\":\"\xff\"}]"), 400, ""},
      {"nested too deep", R"({"model":"gemini-2.5-flash","messages":)" + std::string(200, '['), 400,
       ""},
      {"over 20 MiB", with(R"(,"user":")" + std::string(21 << 20, 'x') + "\""), 413, ""},
      // top-level fields
      {"unknown field", with(R"(,"foo":1)"), 400, "foo"},
      {"model missing", R"({"messages":[]})", 400, "model"},
      {"model not a string", R"({"model":5,"messages":[]})", 400, "model"},
      {"model with a slash", with("", kHi, "a/b"), 400, "model"},
      {"model with a query", with("", kHi, "gemini?alt=x"), 400, "model"},
      {"model prefix only", with("", kHi, "models/"), 400, "model"},
      {"messages missing", R"({"model":"gemini-2.5-flash"})", 400, "messages"},
      {"messages empty", with("", "[]"), 400, "messages"},
      {"messages not an array", with("", "{}"), 400, "messages"},
      {"logit_bias", with(R"(,"logit_bias":{"50256":-100})"), 400, "logit_bias"},
      {"prediction", with(R"(,"prediction":{"type":"content","content":"x"})"), 400, "prediction"},
      {"audio output", with(R"(,"audio":{"voice":"alloy","format":"wav"})"), 400, "audio"},
      {"functions", with(R"(,"functions":[{"name":"f"}])"), 400, "functions"},
      {"function_call", with(R"(,"function_call":"auto")"), 400, "function_call"},
      {"temperature too high", with(R"(,"temperature":3)"), 400, "temperature"},
      {"temperature a string", with(R"(,"temperature":"hot")"), 400, "temperature"},
      {"top_p over 1", with(R"(,"top_p":1.5)"), 400, "top_p"},
      {"top_k zero", with(R"(,"top_k":0)"), 400, "top_k"},
      {"max_tokens zero", with(R"(,"max_tokens":0)"), 400, "max_tokens"},
      {"max_completion_tokens a string", with(R"(,"max_completion_tokens":"9")"), 400,
       "max_completion_tokens"},
      {"max_tokens over int32", with(R"(,"max_tokens":3000000000)"), 400, "max_tokens"},
      {"six stop sequences", with(R"(,"stop":["a","b","c","d","e","f"])"), 400, "stop"},
      {"stop not strings", with(R"(,"stop":[1])"), 400, "stop[0]"},
      {"stop a number", with(R"(,"stop":5)"), 400, "stop"},
      {"n zero", with(R"(,"n":0)"), 400, "n"},
      {"n nine", with(R"(,"n":9)"), 400, "n"},
      {"n fractional", with(R"(,"n":1.5)"), 400, "n"},
      {"seed over int32", with(R"(,"seed":1099511627776)"), 400, "seed"},
      {"frequency_penalty out of range", with(R"(,"frequency_penalty":-3)"), 400,
       "frequency_penalty"},
      {"presence_penalty a bool", with(R"(,"presence_penalty":true)"), 400, "presence_penalty"},
      {"top_logprobs without logprobs", with(R"(,"top_logprobs":3)"), 400, "top_logprobs"},
      {"top_logprobs over 20", with(R"(,"logprobs":true,"top_logprobs":21)"), 400, "top_logprobs"},
      {"logprobs a string", with(R"(,"logprobs":"yes")"), 400, "logprobs"},
      {"stream a string", with(R"(,"stream":"yes")"), 400, "stream"},
      {"stream_options without stream", with(R"(,"stream_options":{"include_usage":true})"), 400,
       "stream_options"},
      {"stream_options unknown key", with(R"(,"stream":true,"stream_options":{"x":1})"), 400,
       "stream_options.x"},
      {"parallel_tool_calls a string", with(R"(,"parallel_tool_calls":"no")"), 400,
       "parallel_tool_calls"},
      {"response_format type", with(R"(,"response_format":{"type":"xml"})"), 400,
       "response_format.type"},
      {"response_format unknown key", with(R"(,"response_format":{"type":"text","x":1})"), 400,
       "response_format.x"},
      {"json_schema missing", with(R"(,"response_format":{"type":"json_schema"})"), 400,
       "response_format.json_schema"},
      {"json_schema name missing",
       with(R"(,"response_format":{"type":"json_schema","json_schema":{"schema":{}}})"), 400,
       "response_format.json_schema.name"},
      {"json_schema recursive",
       with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"t","schema":
            {"type":"object","properties":{"child":{"$ref":"#"}}}}})"),
       400, "response_format.json_schema.schema.properties.child.$ref"},
      {"reasoning_effort unknown", with(R"(,"reasoning_effort":"extreme")"), 400,
       "reasoning_effort"},
      {"reasoning_effort without thinking model",
       with(R"(,"reasoning_effort":"low")", kHi, "gemini-2.0-flash"), 400, "reasoning_effort"},
      {"modalities audio", with(R"(,"modalities":["text","audio"])"), 400, "modalities[1]"},
      {"modalities video", with(R"(,"modalities":["video"])"), 400, "modalities[0]"},
      {"verbosity low", with(R"(,"verbosity":"low")"), 400, "verbosity"},
      {"verbosity unknown", with(R"(,"verbosity":"loud")"), 400, "verbosity"},
      // tools
      {"tools not an array", with(R"(,"tools":{})"), 400, "tools"},
      {"custom tool", with(R"(,"tools":[{"type":"custom","custom":{"name":"x"}}])"), 400,
       "tools[0].type"},
      {"custom tool type", with(R"(,"tools":[{"type":"custom"}])"), 400, "tools[0].type"},
      {"tool without function", with(R"(,"tools":[{"type":"function"}])"), 400,
       "tools[0].function"},
      {"tool name missing", with(R"(,"tools":[{"type":"function","function":{}}])"), 400,
       "tools[0].function.name"},
      {"tool name Gemini refuses",
       with(R"(,"tools":[{"type":"function","function":{"name":"1abc"}}])"), 400,
       "tools[0].function.name"},
      {"tool declared twice", with(R"(,"tools":[{"type":"function","function":{"name":"f"}},
                         {"type":"function","function":{"name":"f"}}])"),
       400, "tools[1].function.name"},
      {"tool function unknown key",
       with(R"(,"tools":[{"type":"function","function":{"name":"f","x":1}}])"), 400,
       "tools[0].function.x"},
      {"tool parameters external ref",
       with(R"(,"tools":[{"type":"function","function":{"name":"f","parameters":
            {"type":"object","properties":{"a":{"$ref":"https://x/s.json"}}}}}])"),
       400, "tools[0].function.parameters.properties.a.$ref"},
      {"tool parameters unknown type",
       with(R"(,"tools":[{"type":"function","function":{"name":"f","parameters":
            {"type":"object","properties":{"a":{"type":"date"}}}}}])"),
       400, "tools[0].function.parameters.properties.a.type"},
      {"tool parameters not an object",
       with(R"(,"tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}])"), 400,
       "tools[0].function.parameters"},
      {"too many tools",
       with(R"(,"tools":[)" + many(R"({"type":"function","function":{"name":"f"}})", 513) + "]"),
       413, "tools"},
      {"tool_choice unknown", with(kTool + R"(,"tool_choice":"any")"), 400, "tool_choice"},
      {"tool_choice required without tools", with(R"(,"tool_choice":"required")"), 400,
       "tool_choice"},
      {"tool_choice function not declared",
       with(kTool + R"(,"tool_choice":{"type":"function","function":{"name":"g"}})"), 400,
       "tool_choice.function.name"},
      {"tool_choice custom", with(kTool + R"(,"tool_choice":{"type":"custom"})"), 400,
       "tool_choice.type"},
      {"tool_choice a number", with(kTool + R"(,"tool_choice":1)"), 400, "tool_choice"},
      {"allowed_tools mode",
       with(kTool + R"(,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"none",
            "tools":[{"type":"function","function":{"name":"f"}}]}})"),
       400, "tool_choice.allowed_tools.mode"},
      {"allowed_tools empty",
       with(kTool + R"(,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto",
            "tools":[]}})"),
       400, "tool_choice.allowed_tools.tools"},
      {"allowed_tools mcp entry",
       with(kTool + R"(,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto",
            "tools":[{"type":"mcp","server_label":"x"}]}})"),
       400, "tool_choice.allowed_tools.tools[0].type"},
      {"allowed_tools too many",
       with(kTool + R"(,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto",
            "tools":[)" +
            many(R"({"type":"function","function":{"name":"f"}})", 513) + "]}}"),
       413, "tool_choice.allowed_tools.tools"},
      {"web search location",
       with(R"(,"web_search_options":{"user_location":{"type":"approximate"}})"), 400,
       "web_search_options.user_location"},
      {"web search size", with(R"(,"web_search_options":{"search_context_size":"huge"})"), 400,
       "web_search_options.search_context_size"},
      // messages
      {"message not an object", with("", "[1]"), 400, "messages[0]"},
      {"role missing", with("", R"([{"content":"x"}])"), 400, "messages[0].role"},
      {"role unknown", with("", R"([{"role":"bot","content":"x"}])"), 400, "messages[0].role"},
      {"function role", with("", R"([{"role":"function","name":"f","content":"x"}])"), 400,
       "messages[0].role"},
      {"message unknown field", with("", R"([{"role":"user","content":"x","foo":1}])"), 400,
       "messages[0].foo"},
      {"user content missing", with("", R"([{"role":"user"}])"), 400, "messages[0].content"},
      {"user content a number", with("", R"([{"role":"user","content":5}])"), 400,
       "messages[0].content"},
      {"system content missing", with("", R"([{"role":"system"}])"), 400, "messages[0].content"},
      {"system image part",
       with("", R"([{"role":"system","content":[{"type":"image_url","image_url":{"url":"x"}}]}])"),
       400, "messages[0].content[0].type"},
      {"part type unknown", user_part(R"({"type":"video","video":{}})"), 400,
       "messages[0].content[0].type"},
      {"part type missing", user_part(R"({"text":"x"})"), 400, "messages[0].content[0].type"},
      {"part unknown key", user_part(R"({"type":"text","text":"x","y":1})"), 400,
       "messages[0].content[0].y"},
      {"part not an object", user_part(R"("x")"), 400, "messages[0].content[0]"},
      {"text part without text", user_part(R"({"type":"text"})"), 400,
       "messages[0].content[0].text"},
      {"image ftp URL", user_part(R"({"type":"image_url","image_url":{"url":"ftp://h/a.png"}})"),
       400, "messages[0].content[0].image_url.url"},
      {"image gs URL", user_part(R"({"type":"image_url","image_url":{"url":"gs://b/a.png"}})"), 400,
       "messages[0].content[0].image_url.url"},
      {"image data URI not base64",
       user_part(R"({"type":"image_url","image_url":{"url":"data:image/png,abc"}})"), 400,
       "messages[0].content[0].image_url.url"},
      {"image data URI bad base64",
       user_part(R"({"type":"image_url","image_url":{"url":"data:image/png;base64,a*b="}})"), 400,
       "messages[0].content[0].image_url.url"},
      {"image data URI without type",
       user_part(R"({"type":"image_url","image_url":{"url":"data:;base64,AAAA"}})"), 400,
       "messages[0].content[0].image_url.url"},
      {"image detail unknown",
       user_part(R"({"type":"image_url","image_url":{"url":"https://h/a","detail":"max"}})"), 400,
       "messages[0].content[0].image_url.detail"},
      {"image_url missing", user_part(R"({"type":"image_url"})"), 400,
       "messages[0].content[0].image_url"},
      {"audio format flac",
       user_part(R"({"type":"input_audio","input_audio":{"data":"AAAA","format":"flac"}})"), 400,
       "messages[0].content[0].input_audio.format"},
      {"audio data bad",
       user_part(R"({"type":"input_audio","input_audio":{"data":"**","format":"wav"}})"), 400,
       "messages[0].content[0].input_audio.data"},
      {"file_id", user_part(R"({"type":"file","file":{"file_id":"file-abc"}})"), 400,
       "messages[0].content[0].file.file_id"},
      {"file_data not a data URI",
       user_part(R"({"type":"file","file":{"file_data":"JVBERi0=","filename":"a.pdf"}})"), 400,
       "messages[0].content[0].file.file_data"},
      {"file empty", user_part(R"({"type":"file","file":{}})"), 400,
       "messages[0].content[0].file.file_data"},
      {"tool message for unknown id",
       with("",
            R"([{"role":"user","content":"x"},{"role":"tool","tool_call_id":"zz","content":"1"}])"),
       400, "messages[1].tool_call_id"},
      {"tool message without id",
       with("", R"([{"role":"user","content":"x"},{"role":"tool","content":"1"}])"), 400,
       "messages[1].tool_call_id"},
      {"tool message image part",
       with("", R"([{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"a",
            "type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool",
            "tool_call_id":"a","content":[{"type":"image_url","image_url":{"url":"x"}}]}])"),
       400, "messages[2].content[0].type"},
      {"assistant function_call",
       with("", R"([{"role":"user","content":"x"},{"role":"assistant","function_call":
            {"name":"f","arguments":"{}"}}])"),
       400, "messages[1].function_call"},
      {"assistant audio",
       with("", R"([{"role":"user","content":"x"},{"role":"assistant","audio":{"id":"a1"}}])"), 400,
       "messages[1].audio"},
      {"assistant content a number",
       with("", R"([{"role":"user","content":"x"},{"role":"assistant","content":1}])"), 400,
       "messages[1].content"},
      {"tool call custom",
       with("", R"([{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"a",
            "type":"custom","custom":{"name":"f","input":"x"}}]}])"),
       400, "messages[1].tool_calls[0].type"},
      {"tool call without id",
       with("", R"([{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{
            "type":"function","function":{"name":"f","arguments":"{}"}}]}])"),
       400, "messages[1].tool_calls[0].id"},
      {"tool call without name",
       with("", R"([{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"a",
            "type":"function","function":{"arguments":"{}"}}]}])"),
       400, "messages[1].tool_calls[0].function.name"},
      {"tool_calls not an array",
       with("", R"([{"role":"user","content":"x"},{"role":"assistant","tool_calls":{}}])"), 400,
       "messages[1].tool_calls"},
      {"fewer answers than calls", with("", two_calls), 400, "messages[2]"},
      {"ends with unanswered tool calls",
       with("", R"([{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"a",
            "type":"function","function":{"name":"f","arguments":"{}"}}]}])"),
       400, "messages[1]"},
      // limits
      {"too many remote images",
       user_part(many(R"({"type":"image_url","image_url":{"url":"https://h/a.png"}})",
                      gb::llm::openai::req::kMaxRemoteMedia + 1)),
       413, "messages[0].content[64]"},
      {"too many messages",
       with("",
            "[" + many(R"({"role":"user","content":"x"})", gb::llm::openai::req::kMaxMessages + 1) +
                "]"),
       413, "messages"},
      {"too many parts",
       with("", "[" +
                    many(R"({"role":"user","content":[{"type":"text","text":"a"},
                                {"type":"text","text":"b"},{"type":"text","text":"c"}]})",
                         gb::llm::openai::req::kMaxParts / 3 + 1) +
                    "]"),
       413, "messages"},
  };
}

}  // namespace

TEST_CASE("translate_chat_request refuses what it cannot translate faithfully",
          "[openai-request]") {
  for (const Case& c : cases()) {
    INFO(c.what);
    ChatRequestResult r = translate_chat_request(c.body);
    REQUIRE_FALSE(r.ok);
    CHECK(r.error.status == c.status);
    CHECK(r.error.param == c.param);
    CHECK_FALSE(r.error.message.empty());
    if (!c.param.empty()) {
      INFO(r.error.message);
      CHECK(r.error.message.find(c.param) != std::string::npos);
    }
  }
}

TEST_CASE("refusals use OpenAI's codes for unknown and unsupported fields", "[openai-request]") {
  ChatRequestResult r = translate_chat_request(with(R"(,"foo":1)"));
  CHECK(r.error.code == "unknown_parameter");
  CHECK(r.error.message == "Unrecognized request argument supplied: foo");
  r = translate_chat_request(with(R"(,"logit_bias":{"1":2})"));
  CHECK(r.error.code == "unsupported_parameter");
  CHECK(r.error.message.find("not supported by gbd's Gemini translation") != std::string::npos);
  r = translate_chat_request(user_part(R"({"type":"file","file":{"file_id":"file-abc"}})"));
  CHECK(r.error.message.find("not supported") != std::string::npos);
}

// Regression: many $refs to one long description multiplied it in the translated
// request (4000 refs x 4000 bytes = 16 MB from a 130 KB body).
TEST_CASE("a schema whose $refs multiply a long description is refused", "[openai-request]") {
  std::string props;
  for (int i = 0; i < 4000; ++i) {
    props += (i ? "," : "") + std::string("\"p") + std::to_string(i) + "\":{\"$ref\":\"#/$defs/X\"}";
  }
  std::string body =
      R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}],)"
      R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object",)"
      R"("$defs":{"X":{"type":"string","description":")" +
      std::string(4000, 'd') + R"("}},"properties":{)" + props + "}}}}]}";
  ChatRequestResult r = translate_chat_request(body);
  REQUIRE_FALSE(r.ok);
  CHECK(r.error.status == 400);
  CHECK(r.error.message.find("$ref") != std::string::npos);
}

// Found by fuzzing: RapidJSON turns a lone low-surrogate escape into bytes that are not
// UTF-8, which would have gone upstream.
TEST_CASE("a lone low surrogate escape is refused", "[openai-request]") {
  ChatRequestResult r = translate_chat_request(
      R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"\udc00"}]})");
  REQUIRE_FALSE(r.ok);
  CHECK(r.error.status == 400);
  ChatRequestResult pair = translate_chat_request(
      R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"\ud83d\ude00 \\udc00"}]})");
  CHECK(pair.ok);  // a real pair, and an escaped backslash before "udc00", are fine
}
