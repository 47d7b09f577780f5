// The pure parts of gb-mock: key scenarios, JSON layout, Google error bodies, request
// checks, the bytes of generated answers and streams, per-key tallies and scripts.
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "../../mock/errors.h"
#include "../../mock/json_out.h"
#include "../../mock/key_stats.h"
#include "../../mock/models.h"
#include "../../mock/proto_check.h"
#include "../../mock/request_info.h"
#include "../../mock/responses.h"
#include "../../mock/route.h"
#include "../../mock/scenario.h"

using namespace gb::mock;

namespace {

rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// RapidJSON 1.1's Value == int recurses forever under C++20's rewritten comparisons, so
// tests compare plain values.
std::string str(const rapidjson::Value& v) {
  return v.IsString() ? v.GetString() : "<not a string>";
}

GenerationPlan echo_plan(const std::string& text, uint64_t chunks) {
  GenerationPlan p;
  p.model = "gemini-2.5-flash";
  p.response_id = "rid";
  p.prompt_tokens = 5;
  p.text = TextSource::echo(text);
  p.chunks = chunks;
  return p;
}

std::string all_events(const GenerationPlan& p, Framing f) {
  std::string out;
  for (uint64_t i = 0; i < p.event_count(); ++i) {
    append_framed_event(p, i, f, out);
  }
  out += stream_trailer(f, p.event_count() > 0);
  return out;
}

}  // namespace

TEST_CASE("scenario is read from the key prefix", "[mock]") {
  struct Row {
    const char* key;
    ScenarioKind kind;
    uint64_t n;
    bool has_n;
  };
  const Row rows[] = {
      {"ok", ScenarioKind::ok, 0, false},
      {"ok-1", ScenarioKind::ok, 0, false},
      {"okay", ScenarioKind::invalid, 0, false},
      {"invalid-x", ScenarioKind::invalid, 0, false},
      {"AIzaSomething", ScenarioKind::invalid, 0, false},
      {"", ScenarioKind::invalid, 0, false},
      {"denied-1", ScenarioKind::denied, 0, false},
      {"suspended-1", ScenarioKind::suspended, 0, false},
      {"blocked-1", ScenarioKind::blocked, 0, false},
      {"ratelimit-3s-a", ScenarioKind::ratelimit, 3, true},
      {"ratelimit-45s", ScenarioKind::ratelimit, 45, true},
      {"ratelimit-a", ScenarioKind::ratelimit, 0, false},
      {"ratelimit", ScenarioKind::ratelimit, 0, false},
      {"ratelimit-3sec", ScenarioKind::ratelimit, 0, false},
      {"perday-1", ScenarioKind::perday, 0, false},
      {"fail500-1", ScenarioKind::fail500, 0, false},
      {"fail503-1", ScenarioKind::fail503, 0, false},
      {"slow200ms-x", ScenarioKind::slow, 200, true},
      {"slow200ms", ScenarioKind::slow, 200, true},
      {"slow-x", ScenarioKind::invalid, 0, false},
      {"reset-1", ScenarioKind::reset, 0, false},
      {"reset", ScenarioKind::reset, 0, false},
      {"reset-after-2-chunks-a", ScenarioKind::reset_after, 2, true},
      {"reset-after-0-chunks", ScenarioKind::reset_after, 0, true},
      {"reset-after-x", ScenarioKind::reset, 0, false},
      {"truncate-1", ScenarioKind::truncate, 0, false},
      {"midstream-error-1", ScenarioKind::midstream_error, 0, false},
      {"flaky2-k", ScenarioKind::flaky, 2, true},
      {"flaky-k", ScenarioKind::flaky, 1, true},
      {"hang-1", ScenarioKind::hang, 0, false},
  };
  for (const Row& r : rows) {
    INFO(r.key);
    Scenario s = parse_scenario(r.key);
    CHECK(s.kind == r.kind);
    CHECK(s.n == r.n);
    CHECK(s.has_n == r.has_n);
  }
}

TEST_CASE("JsonOut writes Google's two layouts", "[mock]") {
  auto build = [](JsonStyle style) {
    std::string out;
    JsonOut j(style, &out);
    j.begin_object();
    j.key("a");
    j.begin_array();
    j.begin_object();
    j.member("t", "x<y>&'=\"\n");
    j.end_object();
    j.end_array();
    j.member("n", 0);
    j.key("e");
    j.begin_object();
    j.end_object();
    j.end_object();
    return out;
  };
  CHECK(build(JsonStyle::line) == R"({"a": [{"t": "x\u003cy\u003e\u0026'=\"\n"}],"n": 0,"e": {}})");
  CHECK(build(JsonStyle::pretty) ==
        "{\n  \"a\": [\n    {\n      \"t\": \"x\\u003cy\\u003e\\u0026'=\\\"\\n\"\n    }\n  ],\n"
        "  \"n\": 0,\n  \"e\": {}\n}");
}

TEST_CASE("client bytes are made valid UTF-8 before they are echoed", "[mock]") {
  CHECK(valid_utf8("plain \xc3\xa9") == "plain \xc3\xa9");
  CHECK(valid_utf8("a\xff"
                   "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(valid_utf8("\xc3") == "\xEF\xBF\xBD");
  CHECK(valid_utf8("\xe2\x82\xac") == "\xe2\x82\xac");
}

TEST_CASE("error bodies are valid JSON with Google's envelope", "[mock]") {
  const std::string bodies[] = {api_key_invalid_body(),
                                unregistered_caller_body(),
                                leaked_key_body(),
                                suspended_body("suspended-1"),
                                blocked_body("google.ai.generativelanguage.v1beta.X"),
                                model_not_found_body("m", "v1beta", "generateContent"),
                                internal_body(),
                                unavailable_body(),
                                bare_quota_body(),
                                quota_body("gemini-2.5-flash", false, 3),
                                quota_body("gemini-2.5-flash", true, 0),
                                bad_request_body("m", {{"", "m"}, {"f", "n"}})};
  for (const std::string& b : bodies) {
    INFO(b);
    auto d = parse(b);
    REQUIRE(d.HasMember("error"));
    CHECK(d["error"]["code"].IsInt());
    CHECK(d["error"]["status"].IsString());
  }
  auto key = parse(api_key_invalid_body());
  CHECK(str(key["error"]["details"][0]["reason"]) == "API_KEY_INVALID");
  CHECK(str(key["error"]["details"][1]["@type"]) ==
        "type.googleapis.com/google.rpc.LocalizedMessage");

  auto minute = parse(quota_body("gemini-2.5-flash", false, 3));
  const auto& details = minute["error"]["details"];
  CHECK(str(details[0]["@type"]) == "type.googleapis.com/google.rpc.Help");
  CHECK(str(details[1]["violations"][0]["quotaId"]) ==
        "GenerateRequestsPerMinutePerProjectPerModel-FreeTier");
  CHECK(details[1]["violations"][0]["quotaValue"].IsString());
  CHECK(str(details[2]["retryDelay"]) == "3s");
  auto day = parse(quota_body("gemini-2.5-flash", true, 0));
  CHECK(str(day["error"]["details"][1]["violations"][0]["quotaId"]) ==
        "GenerateRequestsPerDayPerProjectPerModel-FreeTier");
  CHECK(str(day["error"]["details"][2]["retryDelay"]) == "23s");
  CHECK_FALSE(parse(bare_quota_body())["error"].HasMember("details"));
  CHECK(wrap_in_array("{}") == "[{}]");
}

TEST_CASE("routes", "[mock]") {
  Route r;
  REQUIRE(parse_route("GET", "/v1beta/models", &r));
  CHECK(r.method == ApiMethod::list_models);
  REQUIRE(parse_route("GET", "/v1/models/gemini-2.5-pro", &r));
  CHECK(r.method == ApiMethod::get_model);
  CHECK(r.version == "v1");
  CHECK(r.model == "gemini-2.5-pro");
  REQUIRE(parse_route("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent", &r));
  CHECK(r.method == ApiMethod::stream);
  CHECK(r.model == "gemini-2.5-flash");
  CHECK_FALSE(parse_route("GET", "/v1beta/models/x:generateContent", &r));
  CHECK_FALSE(parse_route("POST", "/v1beta/models/x:nothing", &r));
  CHECK_FALSE(parse_route("GET", "/v2/models", &r));
  CHECK_FALSE(parse_route("GET", "/v1beta/tunedModels/x", &r));
}

TEST_CASE("models.list pages", "[mock]") {
  CHECK(effective_page_size(0) == 50);
  CHECK(effective_page_size(-3) == 50);
  CHECK(effective_page_size(5000) == 1000);
  auto all = parse(models_page_body(0, 50));
  CHECK(all["models"].Size() == kModelCount);
  CHECK_FALSE(all.HasMember("nextPageToken"));
  auto first = parse(models_page_body(0, 2));
  CHECK(first["models"].Size() == 2);
  std::string token = first["nextPageToken"].GetString();
  size_t next = 0;
  REQUIRE(page_token_index(token, &next));
  CHECK(next == 2);
  CHECK_FALSE(page_token_index("bogus", &next));
  const ModelInfo* emb = find_model("gemini-embedding-001");
  REQUIRE(emb != nullptr);
  CHECK(model_supports(*emb, "embedContent"));
  CHECK_FALSE(model_supports(*emb, "generateContent"));
}

TEST_CASE("proto checker accepts both spellings and null, rejects unknown names", "[mock]") {
  auto check = [](const std::string& body) {
    auto d = parse(body);
    ProtoChecker c;
    c.check(d, proto::generate_content_request());
    return c;
  };
  CHECK(check(R"({"contents":[{"role":"user","parts":[{"text":"x"}]}]})").ok());
  CHECK(
      check(
          R"({"contents":[{"parts":[{"inline_data":{"mime_type":"image/png","data":"iVBO"}}]}],)"
          R"("system_instruction":{"parts":[{"text":"s"}]},"generation_config":)"
          R"({"stop_sequences":null,"max_output_tokens":"12","thinking_config":{"thinking_budget":-1}}})")
          .ok());

  auto top = check(R"({"contents":[],"reasoning":1})");
  REQUIRE(top.violations().size() == 1);
  CHECK(top.violations()[0].field.empty());
  CHECK(top.message() ==
        "Invalid JSON payload received. Unknown name \"reasoning\": Cannot find field.");

  auto nested = check(R"({"generationConfig":{"foo":1}})");
  CHECK(nested.message() ==
        "Invalid JSON payload received. Unknown name \"foo\" at 'generation_config': Cannot find "
        "field.");
  CHECK(nested.violations()[0].field == "generation_config");

  auto list = check(
      R"({"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"OBJECT","properties":{"a":{"type":["string","null"]}}}}]}]})");
  CHECK(list.message() ==
        "Invalid JSON payload received. Unknown name \"type\" at "
        "'tools[0].function_declarations[0].parameters.properties[0].value': Proto field is not "
        "repeating, cannot start list.");

  auto scalar = check(R"({"generationConfig":{"stopSequences":"END","temperature":"hot"}})");
  REQUIRE(scalar.violations().size() == 2);
  CHECK(scalar.violations()[0].description ==
        "Invalid value at 'generation_config.stop_sequences' (TYPE_STRING), \"END\"");
  CHECK(scalar.violations()[1].field == "generation_config.temperature");

  CHECK_FALSE(check(R"({"contents":[{"parts":[{"inlineData":{"data":"no spaces!"}}]}]})").ok());
}

TEST_CASE("semantic checks of generateContent", "[mock]") {
  auto errors = [](const std::string& body, const char* model = "gemini-2.5-flash") {
    auto d = parse(body);
    return check_generate_request(d, model);
  };
  CHECK(errors(R"({})") ==
        std::vector<std::string>{"* GenerateContentRequest.contents: contents is not specified"});
  CHECK(errors(R"({"contents":[]})").size() == 1);
  CHECK(errors(R"({"contents":[{"role":"user","parts":[{"text":"x"}]}]})").empty());
  CHECK(errors(R"({"contents":[{"role":"system","parts":[{"text":"x"}]}]})") ==
        std::vector<std::string>{"Please use a valid role: user, model."});
  CHECK(errors(R"({"contents":[{"role":"user","parts":[]}]})") ==
        std::vector<std::string>{
            "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty."});

  const std::string calls =
      R"({"contents":[{"role":"user","parts":[{"text":"q"}]},)"
      R"({"role":"model","parts":[{"functionCall":{"name":"a","args":{}}},{"functionCall":{"name":"b","args":{}}}]},)"
      R"({"role":"user","parts":[{"functionResponse":{"name":"a","response":{}}}]}]})";
  auto mismatch = errors(calls);
  REQUIRE(mismatch.size() == 1);
  CHECK(mismatch[0].find("number of function response parts") != std::string::npos);

  const std::string unsigned_call =
      R"({"contents":[{"role":"user","parts":[{"text":"q"}]},)"
      R"({"role":"model","parts":[{"functionCall":{"name":"get","args":{}}}]},)"
      R"({"role":"user","parts":[{"functionResponse":{"name":"get","response":{}}}]}]})";
  CHECK(errors(unsigned_call).empty());
  auto g3 = errors(unsigned_call, "gemini-3-pro-preview");
  REQUIRE(g3.size() == 1);
  CHECK(g3[0].find("function call `default_api:get` , position 2.") != std::string::npos);

  CHECK(
      errors(
          R"({"contents":[{"parts":[{"text":"q"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{}}}]}]})") ==
      std::vector<std::string>{"* GenerateContentRequest.tools[0].function_declarations[0]."
                               "parameters.properties: should be non-empty for OBJECT type"});
}

TEST_CASE("summary of a request", "[mock]") {
  auto d = parse(
      R"({"contents":[{"role":"user","parts":[{"text":"first"}]},{"role":"model","parts":[{"text":"m"}]},)"
      R"({"role":"user","parts":[{"text":"Hel"},{"text":"lo"}]}],)"
      R"("generation_config":{"max_output_tokens":7,"thinkingConfig":{"includeThoughts":true}},)"
      R"("tools":[{"functionDeclarations":[{"name":"look"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}})");
  PromptSummary s = summarize_generate(d);
  CHECK(s.last_user_text == "Hello");
  CHECK(s.max_output_tokens == 7);
  CHECK(s.include_thoughts);
  CHECK(s.function_name == "look");
  CHECK(s.prompt_tokens > 0);
}

TEST_CASE("generateContent body is valid, pretty and deterministic", "[mock]") {
  GenerationPlan p = echo_plan("Echo: hi", 3);
  std::string a = generate_body(p);
  CHECK(a == generate_body(p));
  auto d = parse(a);
  CHECK(str(d["candidates"][0]["content"]["parts"][0]["text"]) == "Echo: hi");
  CHECK(str(d["candidates"][0]["finishReason"]) == "STOP");
  CHECK(d["usageMetadata"]["candidatesTokenCount"].GetInt() == 2);
  CHECK(d["usageMetadata"]["totalTokenCount"].GetInt() == 7);
  CHECK(str(d["modelVersion"]) == "gemini-2.5-flash");
  CHECK(a.substr(0, 18) == "{\n  \"candidates\": ");

  p.max_output_bytes = 4;
  auto capped = parse(generate_body(p));
  CHECK(str(capped["candidates"][0]["content"]["parts"][0]["text"]) == "Echo");
  CHECK(str(capped["candidates"][0]["finishReason"]) == "MAX_TOKENS");

  CHECK(response_id("m", "body") == response_id("m", "body"));
  CHECK(response_id("m", "body") != response_id("m", "body2"));
  CHECK(response_id("m", "body").size() == 22);
}

TEST_CASE("SSE framing and stream events", "[mock]") {
  GenerationPlan p = echo_plan("Echo: hello", 3);
  REQUIRE(p.event_count() == 4);
  std::string sse = all_events(p, Framing::sse_crlf);
  CHECK(sse.substr(0, 36) == "data: {\"candidates\": [{\"content\": {\"");
  CHECK(sse.substr(sse.size() - 4) == "\r\n\r\n");
  std::string text;
  size_t pos = 0;
  int events = 0;
  while ((pos = sse.find("data: ", pos)) != std::string::npos) {
    size_t end = sse.find("\r\n\r\n", pos);
    REQUIRE(end != std::string::npos);
    auto d = parse(sse.substr(pos + 6, end - pos - 6));
    const auto& cand = d["candidates"][0];
    CHECK(str(d["responseId"]) == "rid");
    CHECK(d.HasMember("usageMetadata"));
    if (cand["content"].HasMember("parts")) {
      text += cand["content"]["parts"][0]["text"].GetString();
      CHECK_FALSE(cand.HasMember("finishReason"));
    } else {
      CHECK(str(cand["finishReason"]) == "STOP");
      CHECK(d["usageMetadata"]["candidatesTokenCount"].GetInt() == 3);
    }
    ++events;
    pos = end;
  }
  CHECK(events == 4);
  CHECK(text == "Echo: hello");

  std::string lf = all_events(p, Framing::sse_lf);
  CHECK(lf.find("\r") == std::string::npos);
  CHECK(lf.substr(lf.size() - 2) == "\n\n");

  std::string arr = all_events(p, Framing::json_array);
  CHECK(arr.front() == '[');
  CHECK(arr.back() == ']');
  CHECK(arr.find("},\r\n{") != std::string::npos);
  auto whole = parse(arr);
  CHECK(whole.Size() == 4);

  p.finish = false;
  CHECK(p.event_count() == 3);
  CHECK(all_events(p, Framing::sse_crlf).find("finishReason") == std::string::npos);
}

TEST_CASE("stream text splits by fixed chunk size or evenly on UTF-8 boundaries", "[mock]") {
  GenerationPlan p;
  p.text = TextSource::filler(10 * 2048);
  p.chunks = 10;
  p.chunk_bytes = 2048;
  CHECK(p.text_events() == 10);
  CHECK(p.boundary(3) == 3 * 2048);

  GenerationPlan u = echo_plan("h\xc3\xa9llo w\xc3\xb6rld", 4);  // é and ö are two bytes
  uint64_t prev = 0;
  for (uint64_t k = 1; k <= u.chunks; ++k) {
    uint64_t b = u.boundary(k);
    CHECK(b >= prev);
    if (b < u.text.size()) {
      CHECK((static_cast<unsigned char>("h\xc3\xa9llo w\xc3\xb6rld"[b]) & 0xC0) != 0x80);
    }
    prev = b;
  }
  CHECK(u.boundary(u.chunks) == u.text.size());

  std::string s;
  TextSource::filler(100).append(s, 40, 50);
  CHECK(s == "dog. The q");
}

TEST_CASE("function call answers", "[mock]") {
  GenerationPlan p = echo_plan("Echo: x", 3);
  p.function_name = "get_weather";
  p.signature = true;
  auto d = parse(generate_body(p));
  const auto& part = d["candidates"][0]["content"]["parts"][0];
  CHECK(str(part["functionCall"]["name"]) == "get_weather");
  CHECK(part["functionCall"]["args"].IsObject());
  CHECK(part.HasMember("thoughtSignature"));
  CHECK(str(d["candidates"][0]["finishReason"]) == "STOP");
  CHECK(p.event_count() == 1);
}

TEST_CASE("countTokens and embeddings", "[mock]") {
  CHECK(parse(count_tokens_body(31))["totalTokens"].GetInt() == 31);
  EmbedInput in{"hello", 8};
  std::string a = embed_body(in);
  CHECK(a == embed_body(in));
  auto d = parse(a);
  REQUIRE(d["embedding"]["values"].Size() == 8);
  for (const auto& v : d["embedding"]["values"].GetArray()) {
    CHECK(v.IsNumber());
    CHECK(v.GetDouble() < 0.1);
    CHECK(v.GetDouble() > -0.1);
  }
  auto batch = parse(batch_embed_body({in, EmbedInput{"b", 2}}));
  CHECK(batch["embeddings"].Size() == 2);
  CHECK(batch["embeddings"][1]["values"].Size() == 2);
}

TEST_CASE("requests are tallied per key and method, across workers", "[mock]") {
  auto action_of = [](const char* method, const char* path) {
    Route r;
    return parse_route(method, path, &r) ? action_index(r.method) : kOtherAction;
  };
  KeyTally worker0;
  KeyTally worker1;
  worker0.count("ok-1", action_of("GET", "/v1beta/models/gemini-2.5-flash"));
  worker0.count("ok-1", action_of("POST", "/v1beta/models/gemini-2.5-flash:generateContent"));
  worker1.count("ok-1", action_of("POST", "/v1beta/models/gemini-2.5-flash:generateContent"));
  worker1.count("ok-1", action_of("POST", "/v1/models/m:streamGenerateContent"));
  worker1.count("invalid-a", action_of("GET", "/v1beta/models/gemini-2.5-pro"));
  worker1.count("invalid-a", action_of("GET", "/v1beta/nothing"));
  worker1.count("k\"\xff", action_of("GET", "/v1beta/models"));

  std::map<std::string, KeyCounts> all;
  worker0.merge_into(&all);
  worker1.merge_into(&all);
  REQUIRE(all.size() == 3);
  const KeyCounts& ok = all["ok-1"];
  CHECK(ok.requests == 4);
  CHECK(ok.by_action[action_index(ApiMethod::get_model)] == 1);
  CHECK(ok.by_action[action_index(ApiMethod::generate)] == 2);
  CHECK(ok.by_action[action_index(ApiMethod::stream)] == 1);

  std::string json;
  append_key_counts_json(json, all);
  auto d = parse(json);
  CHECK(d["ok-1"]["requests"].GetInt() == 4);
  CHECK(d["ok-1"]["models.get"].GetInt() == 1);
  CHECK(d["ok-1"]["generateContent"].GetInt() == 2);
  CHECK(d["ok-1"]["streamGenerateContent"].GetInt() == 1);
  CHECK_FALSE(d["ok-1"].HasMember("countTokens"));  // no request: left out
  CHECK(d["invalid-a"]["models.get"].GetInt() == 1);
  CHECK(d["invalid-a"]["other"].GetInt() == 1);
  CHECK(d["k\"\xEF\xBF\xBD"]["models.list"].GetInt() == 1);  // any key stays valid JSON

  std::string none;
  append_key_counts_json(none, {});
  CHECK(none == "{}");

  worker0.clear();
  std::map<std::string, KeyCounts> after;
  worker0.merge_into(&after);
  CHECK(after.empty());
}

TEST_CASE("every method has its WIRE.md name in the tallies", "[mock]") {
  CHECK(action_name(action_index(ApiMethod::list_models)) == "models.list");
  CHECK(action_name(action_index(ApiMethod::get_model)) == "models.get");
  CHECK(action_name(action_index(ApiMethod::count_tokens)) == "countTokens");
  CHECK(action_name(action_index(ApiMethod::batch_embed)) == "batchEmbedContents");
  CHECK(action_name(kOtherAction) == "other");
  for (const MethodInfo& m : kMethods) {
    CHECK(action_name(action_index(m.method)) == m.action);
  }
}

TEST_CASE("the tally stops growing at its limit of distinct keys", "[mock]") {
  KeyTally t;
  for (size_t i = 0; i < KeyTally::kMaxKeys + 10; ++i) {
    t.count("ok-" + std::to_string(i), 0);
  }
  t.count("ok-0", 0);  // a key already known still counts
  std::map<std::string, KeyCounts> all;
  t.merge_into(&all);
  CHECK(all.size() == KeyTally::kMaxKeys);
  CHECK(all["ok-0"].requests == 2);
}

TEST_CASE("a scripted key takes another key's scenario until unscripted", "[mock]") {
  Scripts scripts;
  CHECK(scripts.empty());
  CHECK(scripts.scenario_key("invalid-a") == nullptr);

  scripts.set("invalid-a", "ok");
  scripts.set("ok-2", "fail503");
  REQUIRE(scripts.scenario_key("invalid-a") != nullptr);
  CHECK(parse_scenario(*scripts.scenario_key("invalid-a")).kind == ScenarioKind::ok);
  CHECK(parse_scenario(*scripts.scenario_key("ok-2")).kind == ScenarioKind::fail503);
  CHECK(scripts.scenario_key("invalid-b") == nullptr);

  scripts.set("invalid-a", "ratelimit-3s");  // a new script replaces the old one
  CHECK(parse_scenario(*scripts.scenario_key("invalid-a")).n == 3);

  scripts.set("invalid-a", "");  // as= empty: itself again
  CHECK(scripts.scenario_key("invalid-a") == nullptr);
  CHECK_FALSE(scripts.empty());
  scripts.clear();
  CHECK(scripts.empty());
  CHECK(scripts.scenario_key("ok-2") == nullptr);
}

namespace {

struct Counts {
  int64_t prompt = -1;
  int64_t candidates = -1;
  int64_t total = -1;
};

Counts usage_of(const rapidjson::Value& response) {
  Counts c;
  const auto& u = response["usageMetadata"];
  c.prompt = u.HasMember("promptTokenCount") ? u["promptTokenCount"].GetInt64() : 0;
  c.candidates = u.HasMember("candidatesTokenCount") ? u["candidatesTokenCount"].GetInt64() : 0;
  c.total = u.HasMember("totalTokenCount") ? u["totalTokenCount"].GetInt64() : 0;
  return c;
}

// The usage of each event of a stream, in order.
std::vector<Counts> stream_usages(const GenerationPlan& p) {
  std::vector<Counts> out;
  for (uint64_t i = 0; i < p.event_count(); ++i) {
    std::string e;
    append_event(p, i, JsonStyle::line, e);
    out.push_back(usage_of(parse(e)));
  }
  return out;
}

}  // namespace

TEST_CASE("every success carries non-zero prompt and candidates counts", "[mock]") {
  std::vector<GenerationPlan> plans;
  plans.push_back(echo_plan("Echo: hi", 3));
  plans.push_back(echo_plan("Echo: a longer question, split in many events", 9));
  plans.push_back(echo_plan("Echo: thinking", 2));
  plans.back().thought = "Thinking about the request before answering.";
  plans.push_back(echo_plan("Echo: capped", 2));
  plans.back().max_output_bytes = 1;
  plans.push_back(echo_plan("Echo: call", 1));
  plans.back().function_name = "f";
  plans.push_back(echo_plan("", 1));
  plans.back().text = TextSource::filler(100000);
  plans.push_back(echo_plan("Echo: truncated", 3));
  plans.back().finish = false;
  for (const GenerationPlan& p : plans) {
    INFO(p.text.size() << " bytes, " << p.chunks << " chunks");
    Counts whole = usage_of(parse(generate_body(p)));
    CHECK(whole.prompt > 0);
    CHECK(whole.candidates > 0);
    CHECK(whole.total >= whole.prompt + whole.candidates);
    Counts last = stream_usages(p).back();
    CHECK(last.prompt > 0);
    CHECK(last.candidates > 0);
    CHECK(last.candidates == whole.candidates);
  }
}

TEST_CASE("token counts a test chose (x-mock-*-tokens) come out exactly", "[mock]") {
  GenerationPlan p = echo_plan("Echo: some text that takes several events to stream", 7);
  p.prompt_tokens = 1000;
  p.candidates_tokens = 250;
  Counts whole = usage_of(parse(generate_body(p)));
  CHECK(whole.prompt == 1000);
  CHECK(whole.candidates == 250);
  CHECK(whole.total == 1250);

  // Streamed: cumulative counts grow and end on the chosen number.
  std::vector<Counts> events = stream_usages(p);
  REQUIRE(events.size() == 8);
  int64_t prev = 0;
  for (const Counts& c : events) {
    CHECK(c.prompt == 1000);
    CHECK(c.candidates >= prev);
    CHECK(c.candidates <= 250);
    CHECK(c.total == c.prompt + c.candidates);
    prev = c.candidates;
  }
  CHECK(events.back().candidates == 250);
  CHECK(events[events.size() - 2].candidates == 250);  // the last text event has it all

  p.chunks = 0;  // only the final event
  CHECK(stream_usages(p).back().candidates == 250);
  p.chunks = 7;
  p.max_output_bytes = 10;  // cut by MAX_TOKENS: the chosen count is still the total
  CHECK(stream_usages(p).back().candidates == 250);
  p.function_name = "f";
  CHECK(usage_of(parse(generate_body(p))).candidates == 250);

  // Without a choice the count stays ceil(bytes / 4) of the text sent.
  GenerationPlan plain = echo_plan("Echo: 12345678", 2);  // 14 bytes
  CHECK(usage_of(parse(generate_body(plain))).candidates == 4);
  CHECK(plain.candidates_after(7) == 2);
}
