// gb-mock's imitation of Gemini's OpenAI-compatible layer (/v1beta/openai/, WIRE.md §3):
// paths and the Bearer key, errors in the layer's array shape, request checks, and the
// bytes of chat answers, streams, model lists and embeddings.
#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "../../mock/errors.h"
#include "../../mock/key_stats.h"
#include "../../mock/models.h"
#include "../../mock/openai_request.h"
#include "../../mock/openai_responses.h"
#include "../../mock/proto_check.h"
#include "../../mock/responses.h"

using namespace gb::mock;

namespace {

rapidjson::Document parse_json(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  INFO(s);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// RapidJSON 1.1's Value == int recurses forever under C++20's rewritten comparisons, so
// tests compare plain values.
std::string text_of(const rapidjson::Value& v) {
  return v.IsString() ? v.GetString() : "<not a string>";
}

// The plan gb-mock builds for a chat request on a model that thinks or not: the echo of the
// last user text in `chunks` pieces, the prompt counted from the messages.
GenerationPlan chat_plan(const std::string& body, bool thinking, uint64_t chunks = 3) {
  auto d = parse_json(body);
  ChatSummary s = summarize_chat(d);
  GenerationPlan p;
  std::string model(string_field(d, "model"));
  p.model = std::string(openai_model_id(model));
  p.response_id = response_id(p.model, body);
  p.prompt_tokens = s.prompt.prompt_tokens;
  p.text = TextSource::echo("Echo: " + s.prompt.last_user_text);
  p.chunks = chunks;
  if (s.prompt.max_output_tokens > 0) {
    p.max_output_bytes = static_cast<uint64_t>(s.prompt.max_output_tokens) * 4;
  }
  p.openai = OpenAiShape{model, kOpenAiCreated, s.include_usage, !thinking};
  return p;
}

// The whole body of a stream, as the mock writes it.
std::string stream_bytes(const GenerationPlan& p) {
  std::string out;
  for (uint64_t i = 0; i < p.event_count(); ++i) {
    append_openai_event(p, i, out);
  }
  out += stream_trailer(Framing::openai_sse, p.event_count() > 0);
  return out;
}

// The payloads of the `data: ` events of an OpenAI stream, [DONE] included.
std::vector<std::string> data_lines(const std::string& sse) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    size_t end = sse.find("\n\n", pos);
    REQUIRE(end != std::string::npos);
    std::string event = sse.substr(pos, end - pos);
    REQUIRE(event.substr(0, 6) == "data: ");
    out.push_back(event.substr(6));
    pos = end + 2;
  }
  return out;
}

const std::string kHi =
    R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]})";

}  // namespace

TEST_CASE("openai layer: paths, Bearer key and model names", "[mock]") {
  Route r;
  REQUIRE(parse_openai_route("POST", "/v1beta/openai/chat/completions", &r));
  CHECK(r.method == ApiMethod::openai_chat);
  REQUIRE(parse_openai_route("POST", "/v1beta/openai/embeddings", &r));
  CHECK(r.method == ApiMethod::openai_embeddings);
  REQUIRE(parse_openai_route("GET", "/v1beta/openai/models", &r));
  CHECK(r.method == ApiMethod::openai_models);
  CHECK(r.model.empty());
  REQUIRE(parse_openai_route("GET", "/v1beta/openai/models/models/gemini-2.5-pro", &r));
  CHECK(r.model == "models/gemini-2.5-pro");
  CHECK(openai_model_id(r.model) == "gemini-2.5-pro");
  CHECK(openai_model_id("gemini-2.5-pro") == "gemini-2.5-pro");
  CHECK(openai_model_id("tunedModels/x") == "tunedModels/x");
  CHECK_FALSE(parse_openai_route("GET", "/v1beta/openai/chat/completions", &r));
  CHECK_FALSE(parse_openai_route("POST", "/v1beta/openai/models", &r));
  CHECK_FALSE(parse_openai_route("POST", "/v1beta/openai/images/generations", &r));
  CHECK_FALSE(parse_openai_route("POST", "/v1/openai/chat/completions", &r));
  CHECK(is_openai_path("/v1beta/openai/models"));
  CHECK_FALSE(is_openai_path("/v1beta/models"));

  std::string key;
  CHECK(bearer_key(nullptr, &key) == BearerAuth::missing);
  const std::string ok = "Bearer ok-1";
  REQUIRE(bearer_key(&ok, &key) == BearerAuth::ok);
  CHECK(key == "ok-1");
  const std::string lower = "bearer  ok-2";
  REQUIRE(bearer_key(&lower, &key) == BearerAuth::ok);
  CHECK(key == "ok-2");
  for (std::string bad : {"Bearer ", "Bearer", "Basic b2s6", "ok-1", ""}) {
    INFO(bad);
    CHECK(bearer_key(&bad, &key) == BearerAuth::malformed);
  }
}

TEST_CASE("openai layer: 401 without a Bearer key", "[mock]") {
  int status = 0;
  CHECK(credential_error(BearerAuth::ok, &status) == nullptr);
  const std::string* missing = credential_error(BearerAuth::missing, &status);
  REQUIRE(missing != nullptr);
  CHECK(status == 401);
  auto d = parse_json(*missing);
  REQUIRE(d.IsArray());
  REQUIRE(d.Size() == 1);
  CHECK(d[0]["error"]["code"].GetInt() == 401);
  CHECK(text_of(d[0]["error"]["status"]) == "UNAUTHENTICATED");

  const std::string* malformed = credential_error(BearerAuth::malformed, &status);
  REQUIRE(malformed != nullptr);
  CHECK(status == 400);
  // Byte for byte the captured answer to "Authorization: Bearer" with no key.
  CHECK(*malformed ==
        "[{\n  \"error\": {\n    \"code\": 400,\n    \"message\": \"Invalid Authorization "
        "header.\",\n    \"status\": \"INVALID_ARGUMENT\"\n  }\n}\n]");
}

TEST_CASE("openai layer: errors are Google's bodies in a one-element array", "[mock]") {
  const std::string bodies[] = {
      wrap_openai_error(api_key_invalid_body()),
      wrap_openai_error(quota_body("gemini-2.5-flash", false, 3)),
      wrap_openai_error(bare_quota_body()),
      wrap_openai_error(unavailable_body()),
      wrap_openai_error(model_not_found_body("nope", "v1main", "generateContent")),
  };
  for (const std::string& b : bodies) {
    INFO(b);
    CHECK(b.substr(0, 2) == "[{");
    CHECK(b.substr(b.size() - 3) == "}\n]");
    auto d = parse_json(b);
    REQUIRE(d.IsArray());
    REQUIRE(d.Size() == 1);
    CHECK(d[0]["error"]["code"].IsInt());
    CHECK(d[0]["error"]["message"].IsString());
    CHECK(d[0]["error"]["status"].IsString());
  }
  auto quota = parse_json(bodies[1]);
  CHECK(quota[0]["error"]["code"].GetInt() == 429);
  CHECK(text_of(quota[0]["error"]["details"][2]["retryDelay"]) == "3s");
  CHECK(text_of(parse_json(bodies[0])[0]["error"]["details"][0]["reason"]) == "API_KEY_INVALID");
}

TEST_CASE("openai layer: request checks", "[mock]") {
  auto shape = [](const std::string& body, const MessageType& type) {
    auto d = parse_json(body);
    ProtoChecker c;
    c.check(d, type);
    return c;
  };
  // What the OpenAI SDK sends for a streamed chat with tools.
  CHECK(shape(R"({"model":"gemini-2.5-flash","messages":[{"role":"system","content":"s"},)"
              R"({"role":"user","content":[{"type":"text","text":"q"}]}],"stream":true,)"
              R"("stream_options":{"include_usage":true},"temperature":0.2,"max_tokens":50,)"
              R"("stop":["END"],"tool_choice":"auto","tools":[{"type":"function","function":)"
              R"({"name":"f","parameters":{"type":"object"}}}],"response_format":{"type":"text"},)"
              R"("reasoning_effort":"low","n":1,"seed":7,"user":null})",
              proto::chat_completion_request())
            .ok());
  auto unknown = shape(R"({"model":"m","messages":[],"reasoning":{"effort":"low"}})",
                       proto::chat_completion_request());
  CHECK(unknown.message() ==
        "Invalid JSON payload received. Unknown name \"reasoning\": Cannot find field.");
  CHECK_FALSE(shape(R"({"stream":"yes"})", proto::chat_completion_request()).ok());
  CHECK_FALSE(
      shape(R"({"stream_options":{"include_obfuscation":true}})", proto::chat_completion_request())
          .ok());
  CHECK(shape(R"({"model":"m","input":["a","b"],"dimensions":8,"encoding_format":"float"})",
              proto::embeddings_request())
            .ok());

  auto chat = [](const std::string& body) {
    auto d = parse_json(body);
    return check_chat_request(d);
  };
  CHECK(chat(kHi).empty());
  CHECK(chat(R"({"messages":[{"role":"user","content":"x"}]})") ==
        std::vector<std::string>{"* ChatCompletionRequest.model: model is not specified"});
  CHECK(chat(R"({"model":"m","messages":[]})") ==
        std::vector<std::string>{"* ChatCompletionRequest.messages: messages is not specified"});
  CHECK(chat(R"({"model":"m"})").size() == 1);
  CHECK(chat(R"({"model":"m","messages":[{"role":"bot","content":"x"}]})").size() == 1);
  CHECK(chat(R"({"model":"m","messages":[{"role":"user","content":"x"}],)"
             R"("reasoning_effort":"minimal"})") ==
        std::vector<std::string>{
            "Invalid reasoning_effort: minimal. Valid values are: high, low, medium, none"});

  auto embed = [](const std::string& body) {
    auto d = parse_json(body);
    return check_embeddings_request(d);
  };
  CHECK(embed(R"({"model":"m","input":"x"})").empty());
  CHECK(embed(R"({"model":"m","input":["x","y"]})").empty());
  CHECK(embed(R"({"model":"m","input":[[1,2]]})").size() == 1);
  CHECK(embed(R"({"input":"x"})").size() == 1);
  CHECK(embed(R"({"model":"m","input":"x","encoding_format":"hex"})").size() == 1);
}

TEST_CASE("openai layer: summary of a chat request", "[mock]") {
  auto d = parse_json(R"({"model":"m","messages":[{"role":"system","content":"sys"},)"
                      R"({"role":"user","content":"first"},{"role":"assistant","content":"a"},)"
                      R"({"role":"user","content":[{"type":"text","text":"Hel"},)"
                      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}},)"
                      R"({"type":"text","text":"lo"}]}],"max_completion_tokens":7,"stream":true,)"
                      R"("stream_options":{"include_usage":true}})");
  ChatSummary s = summarize_chat(d);
  CHECK(s.prompt.last_user_text == "Hello");
  // sys + first + a + Hello = 14 bytes: 4 tokens, and 258 for the image.
  CHECK(s.prompt.prompt_tokens == 4 + 258);
  CHECK(s.prompt.max_output_tokens == 7);
  CHECK(s.stream);
  CHECK(s.include_usage);

  auto plain = parse_json(kHi);
  ChatSummary p = summarize_chat(plain);
  CHECK(p.prompt.prompt_tokens == 1);
  CHECK_FALSE(p.stream);
  CHECK_FALSE(p.include_usage);
}

TEST_CASE("openai layer: a chat completion's shape", "[mock]") {
  GenerationPlan p = chat_plan(kHi, true);
  std::string body = chat_completion_body(p);
  CHECK(body == chat_completion_body(chat_plan(kHi, true)));  // deterministic
  CHECK(std::count(body.begin(), body.end(), ' ') == 1);      // compact: only the echo's space
  auto d = parse_json(body);
  CHECK(text_of(d["id"]) == response_id("gemini-2.5-flash", kHi));
  CHECK(text_of(d["object"]) == "chat.completion");
  CHECK(d["created"].GetUint64() == kOpenAiCreated);
  CHECK(text_of(d["model"]) == "gemini-2.5-flash");
  REQUIRE(d["choices"].Size() == 1);
  const auto& choice = d["choices"][0];
  CHECK(choice["index"].GetInt() == 0);
  CHECK(text_of(choice["finish_reason"]) == "stop");
  CHECK(text_of(choice["message"]["role"]) == "assistant");
  CHECK(text_of(choice["message"]["content"]) == "Echo: hi");
  CHECK(d["usage"]["prompt_tokens"].GetInt() == 1);
  CHECK(d["usage"]["completion_tokens"].GetInt() == 2);  // ceil(8 / 4), as natively
  CHECK(d["usage"]["total_tokens"].GetInt() == 3);

  // The model is echoed as requested, prefix included.
  const std::string prefixed =
      R"({"model":"models/gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]})";
  CHECK(text_of(parse_json(chat_completion_body(chat_plan(prefixed, true)))["model"]) ==
        "models/gemini-2.5-flash");

  const std::string capped =
      R"({"model":"gemini-2.5-flash","max_tokens":1,"messages":[{"role":"user","content":"hi"}]})";
  auto c = parse_json(chat_completion_body(chat_plan(capped, true)));
  CHECK(text_of(c["choices"][0]["message"]["content"]) == "Echo");
  CHECK(text_of(c["choices"][0]["finish_reason"]) == "length");

  GenerationPlan cut = chat_plan(kHi, true);
  cut.finish = false;  // a truncate key
  CHECK(parse_json(chat_completion_body(cut))["choices"][0]["finish_reason"].IsNull());
}

TEST_CASE("openai layer: a stream is its chunks, then data DONE", "[mock]") {
  const std::string req =
      R"({"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"hello"}]})";
  GenerationPlan p = chat_plan(req, true);
  REQUIRE(p.event_count() == 3);
  std::string sse = stream_bytes(p);
  CHECK(sse.find('\r') == std::string::npos);
  std::vector<std::string> events = data_lines(sse);
  REQUIRE(events.size() == 4);
  CHECK(events.back() == "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    INFO(events[i]);
    auto d = parse_json(events[i]);
    CHECK(text_of(d["object"]) == "chat.completion.chunk");
    CHECK(text_of(d["id"]) == p.response_id);
    CHECK(d["created"].GetUint64() == kOpenAiCreated);
    CHECK(text_of(d["model"]) == "gemini-2.5-flash");
    CHECK_FALSE(d.HasMember("usage"));  // not asked for
    REQUIRE(d["choices"].Size() == 1);
    const auto& choice = d["choices"][0];
    CHECK(choice["index"].GetInt() == 0);
    CHECK(choice["delta"].HasMember("role") == (i == 0));
    if (i == 0) {
      CHECK(text_of(choice["delta"]["role"]) == "assistant");
    }
    bool last = i + 2 == events.size();
    if (last) {
      CHECK(text_of(choice["finish_reason"]) == "stop");
    } else {
      CHECK(choice["finish_reason"].IsNull());
    }
    text += choice["delta"]["content"].GetString();
  }
  CHECK(text == "Echo: hello");

  // x-mock-chunks: 0 leaves one chunk: the role, no text, the finish_reason.
  GenerationPlan empty = chat_plan(req, true, 0);
  std::vector<std::string> only = data_lines(stream_bytes(empty));
  REQUIRE(only.size() == 2);
  auto d = parse_json(only[0]);
  CHECK(text_of(d["choices"][0]["delta"]["content"]).empty());
  CHECK(text_of(d["choices"][0]["finish_reason"]) == "stop");

  // A truncate key: no finish_reason anywhere, but the stream still ends with [DONE].
  p.finish = false;
  std::string cut = stream_bytes(p);
  CHECK(cut.find("\"finish_reason\":\"") == std::string::npos);
  CHECK(data_lines(cut).back() == "[DONE]");
  CHECK(p.closing_events() == 0);
}

TEST_CASE("openai layer: include_usage folds usage in or adds a usage chunk", "[mock]") {
  const std::string req =
      R"({"model":"gemini-2.0-flash","stream":true,"stream_options":{"include_usage":true},)"
      R"("messages":[{"role":"user","content":"hello"}]})";
  auto usage_of = [](const rapidjson::Value& chunk) {
    const auto& u = chunk["usage"];
    CHECK(u["total_tokens"].GetInt() ==
          u["prompt_tokens"].GetInt() + u["completion_tokens"].GetInt());
    return u["completion_tokens"].GetInt();
  };

  // A model that does not think: OpenAI's way, an extra chunk with no choices.
  GenerationPlan flat = chat_plan(req, false);
  REQUIRE(flat.event_count() == 4);
  CHECK(flat.closing_events() == 2);
  std::vector<std::string> events = data_lines(stream_bytes(flat));
  REQUIRE(events.size() == 5);
  for (size_t i = 0; i < 3; ++i) {
    CHECK_FALSE(parse_json(events[i]).HasMember("usage"));
  }
  CHECK(text_of(parse_json(events[2])["choices"][0]["finish_reason"]) == "stop");
  auto usage_chunk = parse_json(events[3]);
  CHECK(usage_chunk["choices"].IsArray());
  CHECK(usage_chunk["choices"].Empty());
  CHECK(text_of(usage_chunk["id"]) == flat.response_id);
  CHECK(usage_of(usage_chunk) == 3);  // "Echo: hello", 11 bytes
  CHECK(usage_chunk["usage"]["prompt_tokens"].GetInt() == 2);
  CHECK(events[4] == "[DONE]");

  // A thinking model: usage on the last content chunk (WIRE.md §3), no extra chunk.
  GenerationPlan folded = chat_plan(req, true);
  REQUIRE(folded.event_count() == 3);
  CHECK(folded.closing_events() == 1);
  events = data_lines(stream_bytes(folded));
  REQUIRE(events.size() == 4);
  CHECK_FALSE(parse_json(events[1]).HasMember("usage"));
  auto last = parse_json(events[2]);
  CHECK(text_of(last["choices"][0]["finish_reason"]) == "stop");
  CHECK(usage_of(last) == 3);
  CHECK(events[3] == "[DONE]");

  // A test's chosen counts come out exactly.
  folded.prompt_tokens = 1000;
  folded.candidates_tokens = 250;
  auto chosen = parse_json(data_lines(stream_bytes(folded))[2]);
  CHECK(chosen["usage"]["prompt_tokens"].GetInt() == 1000);
  CHECK(chosen["usage"]["completion_tokens"].GetInt() == 250);
  CHECK(chosen["usage"]["total_tokens"].GetInt() == 1250);

  // A truncated stream reports no usage.
  flat.finish = false;
  CHECK(flat.event_count() == 3);
  CHECK(stream_bytes(flat).find("usage") == std::string::npos);
}

TEST_CASE("openai layer: model ids keep the models/ prefix", "[mock]") {
  auto list = parse_json(openai_models_body());
  CHECK(text_of(list["object"]) == "list");
  REQUIRE(list["data"].Size() == kModelCount);
  for (size_t i = 0; i < kModelCount; ++i) {
    const auto& m = list["data"][static_cast<rapidjson::SizeType>(i)];
    CHECK(text_of(m["id"]) == "models/" + std::string(kModels[i].name));
    CHECK(text_of(m["object"]) == "model");
    CHECK(text_of(m["owned_by"]) == "google");
  }
  const ModelInfo* pro = find_model("gemini-2.5-pro");
  REQUIRE(pro != nullptr);
  CHECK(text_of(parse_json(openai_model_body(*pro))["id"]) == "models/gemini-2.5-pro");
}

TEST_CASE("openai layer: embeddings", "[mock]") {
  OpenAiEmbedRequest r;
  r.model = "gemini-embedding-001";
  r.texts = {"hello", "b"};
  r.dims = 8;
  r.prompt_tokens = 2;
  auto d = parse_json(openai_embeddings_body(r));
  CHECK(text_of(d["object"]) == "list");
  CHECK(text_of(d["model"]) == "gemini-embedding-001");
  CHECK(d["usage"]["prompt_tokens"].GetInt() == 2);
  CHECK(d["usage"]["total_tokens"].GetInt() == 2);
  REQUIRE(d["data"].Size() == 2);
  // The values are embedContent's for the same text.
  auto native = parse_json(embed_body(EmbedInput{"hello", 8}));
  for (rapidjson::SizeType i = 0; i < 2; ++i) {
    const auto& e = d["data"][i];
    CHECK(text_of(e["object"]) == "embedding");
    CHECK(e["index"].GetUint() == i);
    REQUIRE(e["embedding"].Size() == 8);
  }
  for (rapidjson::SizeType k = 0; k < 8; ++k) {
    CHECK(d["data"][0]["embedding"][k].GetDouble() == native["embedding"]["values"][k].GetDouble());
  }

  r.base64 = true;
  auto b = parse_json(openai_embeddings_body(r));
  std::string encoded = text_of(b["data"][0]["embedding"]);
  CHECK(encoded.size() == 44);  // 8 float32 values, 32 bytes
  CHECK(encoded == embedding_base64("hello", 8));

  std::vector<std::string> texts;
  auto req = parse_json(R"({"model":"m","input":["a","bc"]})");
  REQUIRE(embedding_texts(req, &texts));
  CHECK(texts == std::vector<std::string>{"a", "bc"});
}

TEST_CASE("openai layer: requests are tallied under their own method names", "[mock]") {
  CHECK(action_name(action_index(ApiMethod::openai_chat)) == "openai.chat");
  CHECK(action_name(action_index(ApiMethod::openai_embeddings)) == "openai.embeddings");
  CHECK(action_name(action_index(ApiMethod::openai_models)) == "openai.models");
  CHECK(action_name(kOtherAction) == "other");
  KeyTally t;
  t.count("ok-1", action_index(ApiMethod::openai_chat));
  t.count("ok-1", action_index(ApiMethod::openai_chat));
  t.count("ok-1", action_index(ApiMethod::openai_models));
  std::map<std::string, KeyCounts> all;
  t.merge_into(&all);
  std::string json;
  append_key_counts_json(json, all);
  CHECK(json == R"({"ok-1":{"requests":3,"openai.chat":2,"openai.models":1}})");
}
