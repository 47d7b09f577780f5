// The OpenAI-compatible API through gbd to gb-mock: Chat Completions translated for a
// Gemini pool (whole and streamed), tool calls over two turns with Gemini 3's thought
// signatures, errors in OpenAI's shape with Retry-After, retries on another key,
// embeddings, the cached models list, and pass-through to an OpenAI-compatible pool.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <sstream>

#include "harness.h"

using namespace gbt;

namespace {

Response chat(Gbd& gbd, const std::string& body, Headers extra = {}) {
  extra.emplace_back("Content-Type", "application/json");
  return gbd.fetch("POST", "/v1/chat/completions", extra, body, 10s);
}

rapidjson::Document json_of(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  INFO("not JSON: " << text);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// The JSON objects of an OpenAI stream's `data:` lines, and whether [DONE] ended it.
struct Chunks {
  std::vector<std::string> events;
  bool done = false;
};
Chunks chunks_of(const std::string& body) {
  Chunks c;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.rfind("data: ", 0) != 0) {
      continue;
    }
    std::string data = line.substr(6);
    if (data == "[DONE]") {
      c.done = true;
    } else {
      c.events.push_back(data);
    }
  }
  return c;
}

void check_openai_error(const Response& r, int status, std::string_view type = "") {
  INFO(r.status << " " << r.body);
  CHECK(r.status == status);
  auto d = json_of(r.body);
  REQUIRE(d.HasMember("error"));
  const auto& e = d["error"];
  CHECK(e["message"].IsString());
  CHECK(e.HasMember("type"));
  CHECK(e.HasMember("param"));
  CHECK(e.HasMember("code"));
  if (!type.empty()) {
    CHECK(e["type"].GetString() == std::string(type));
  }
}

const char* kHello =
    R"({"model":"gemini-2.5-flash","messages":[{"role":"system","content":"Be brief."},)"
    R"({"role":"user","content":"Hello there"}]})";

}  // namespace

TEST_CASE("a chat completion is translated to Gemini and back", "[integration][openai]") {
  Rig rig;
  Response r = chat(rig.gbd, kHello);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").rfind("application/json", 0) == 0);
  auto d = json_of(r.body);
  CHECK(d["object"].GetString() == std::string("chat.completion"));
  CHECK(d["model"].GetString() == std::string("gemini-2.5-flash"));
  CHECK(std::string(d["id"].GetString()).rfind("chatcmpl-", 0) == 0);
  const auto& choice = d["choices"][0];
  CHECK(choice["message"]["role"].GetString() == std::string("assistant"));
  CHECK(choice["message"]["content"].GetString() == std::string("Echo: Hello there"));
  CHECK(choice["finish_reason"].GetString() == std::string("stop"));
  CHECK(d["usage"]["prompt_tokens"].GetInt() > 0);
  CHECK(d["usage"]["total_tokens"].GetInt() ==
        d["usage"]["prompt_tokens"].GetInt() + d["usage"]["completion_tokens"].GetInt());
  // What Google received: a GenerateContentRequest with the system turn hoisted.
  SeenRequest seen = rig.mock.last();
  CHECK(seen.target == "/v1beta/models/gemini-2.5-flash:generateContent");
  auto g = json_of(seen.body);
  CHECK(g.HasMember("systemInstruction"));
  CHECK(g["contents"].Size() == 1);
  CHECK(seen.api_key.rfind("ok-", 0) == 0);
  CHECK(rig.gbd.keys_in_log().empty());
}

TEST_CASE("a streamed chat completion keeps one id and ends with usage and [DONE]",
          "[integration][openai]") {
  Rig rig;
  std::string body =
      R"({"model":"gemini-2.5-flash","stream":true,"stream_options":{"include_usage":true},)"
      R"("messages":[{"role":"user","content":"Count with me"}]})";
  Response r = chat(rig.gbd, body, {{"x-mock-chunks", "4"}});
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").rfind("text/event-stream", 0) == 0);
  Chunks c = chunks_of(r.body);
  CHECK(c.done);
  REQUIRE(c.events.size() >= 3);
  std::string text, id;
  int finishes = 0, roles = 0, usage_chunks = 0;
  for (const std::string& e : c.events) {
    auto d = json_of(e);
    if (id.empty()) {
      id = d["id"].GetString();
    }
    CHECK(d["id"].GetString() == id);
    if (d["choices"].Size() == 0) {
      ++usage_chunks;
      CHECK(d["usage"]["total_tokens"].GetInt() > 0);
      continue;
    }
    const auto& ch = d["choices"][0];
    if (ch["delta"].HasMember("role")) {
      ++roles;
    }
    if (ch["delta"].HasMember("content") && ch["delta"]["content"].IsString()) {
      text += ch["delta"]["content"].GetString();
    }
    if (ch["finish_reason"].IsString()) {
      ++finishes;
      CHECK(ch["finish_reason"].GetString() == std::string("stop"));
    }
  }
  CHECK(text == "Echo: Count with me");
  CHECK(roles == 1);
  CHECK(finishes == 1);
  CHECK(usage_chunks == 1);
  CHECK(rig.mock.last().target ==
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
}

TEST_CASE("a Gemini 3 tool call round trip keeps its thought signature",
          "[integration][openai]") {
  Rig rig;
  std::string tools =
      R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather",)"
      R"("parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])";
  std::string turn1 = R"({"model":"gemini-3-pro-preview","tool_choice":"required",)" + tools +
                      R"(,"messages":[{"role":"user","content":"Weather in Paris?"}]})";
  Response r1 = chat(rig.gbd, turn1);
  INFO(r1.body);
  REQUIRE(r1.status == 200);
  auto d1 = json_of(r1.body);
  const auto& msg = d1["choices"][0]["message"];
  CHECK(d1["choices"][0]["finish_reason"].GetString() == std::string("tool_calls"));
  REQUIRE(msg["tool_calls"].Size() == 1);
  std::string call_id = msg["tool_calls"][0]["id"].GetString();
  std::string name = msg["tool_calls"][0]["function"]["name"].GetString();
  std::string args = msg["tool_calls"][0]["function"]["arguments"].GetString();
  CHECK(name == "get_weather");

  rapidjson::StringBuffer argbuf;
  rapidjson::Writer<rapidjson::StringBuffer> w(argbuf);
  w.String(args.c_str());
  std::string turn2 = R"({"model":"gemini-3-pro-preview",)" + tools +
                      R"(,"messages":[{"role":"user","content":"Weather in Paris?"},)"
                      R"({"role":"assistant","content":null,"tool_calls":[{"id":")" +
                      call_id + R"(","type":"function","function":{"name":"get_weather",)"
                      R"("arguments":)" + argbuf.GetString() +
                      R"(}}]},{"role":"tool","tool_call_id":")" + call_id +
                      R"(","content":"{\"temp_c\":18}"}]})";
  Response r2 = chat(rig.gbd, turn2);
  INFO(r2.body);
  // gb-mock refuses a Gemini 3 function call without its signature, and a function
  // response count that does not match: a 200 proves both came through.
  REQUIRE(r2.status == 200);
  auto g = json_of(rig.mock.last().body);
  const auto& model_turn = g["contents"][1];
  CHECK(model_turn["role"].GetString() == std::string("model"));
  CHECK(model_turn["parts"][0].HasMember("thoughtSignature"));
  CHECK(std::string(model_turn["parts"][0]["thoughtSignature"].GetString()) !=
        "skip_thought_signature_validator");
  CHECK(g["contents"][2]["parts"][0]["functionResponse"]["name"].GetString() ==
        std::string("get_weather"));
}

TEST_CASE("OpenAI-shaped errors: bad request, unknown model, missing token",
          "[integration][openai]") {
  Rig rig;
  check_openai_error(chat(rig.gbd, R"({"model":"gemini-2.5-flash","messages":[],"frobnicate":1})"),
                     400, "invalid_request_error");
  check_openai_error(chat(rig.gbd, "not json"), 400);
  check_openai_error(
      chat(rig.gbd, R"({"model":"no-such-model-x","messages":[{"role":"user","content":"hi"}]})"),
      404);
  Response anon = rig.gbd.fetch("POST", "/v1/chat/completions",
                                {{"Authorization", "Bearer wrong-token-123"}}, kHello);
  check_openai_error(anon, 401);
  Response big = rig.gbd.fetch("POST", "/v1/chat/completions", {},
                               std::string(2 * 1024 * 1024, 'x'));
  check_openai_error(big, 413);
  // The same under /openai/v1/.
  Response alias = rig.gbd.fetch("POST", "/openai/v1/chat/completions",
                                 {{"Content-Type", "application/json"}}, kHello);
  CHECK(alias.status == 200);
}

TEST_CASE("a 429 from every key is an OpenAI rate limit error with Retry-After",
          "[integration][openai]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg = with_keys({"ratelimit-7s-a"});
  cfg.base_url = mock.url();
  Gbd gbd(dir, cfg);
  Response r = chat(gbd, kHello);
  check_openai_error(r, 429);
  CHECK(std::stoi(r.header("retry-after").empty() ? "0" : r.header("retry-after")) >= 1);
}

TEST_CASE("a translated request is retried on another key before anything is sent",
          "[integration][openai]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg = with_keys({"ratelimit-30s-a", "ok-b"});
  cfg.base_url = mock.url();
  Gbd gbd(dir, cfg);
  for (int i = 0; i < 3; ++i) {
    Response r = chat(gbd, kHello);
    INFO(r.body);
    CHECK(r.status == 200);
  }
  CHECK(mock.key_requests("ratelimit-30s-a") == 1);
}

TEST_CASE("an upstream error or truncation mid-stream ends the stream with an error event",
          "[integration][openai]") {
  for (const char* key : {"midstream-error-a", "truncate-a"}) {
    TempDir dir;
    Mock mock(dir);
    GbdConfig cfg = with_keys({key});
    cfg.base_url = mock.url();
    Gbd gbd(dir, cfg);
    Response r = chat(gbd,
                      R"({"model":"gemini-2.5-flash","stream":true,)"
                      R"("messages":[{"role":"user","content":"Tell me"}]})");
    INFO(key << ": " << r.body);
    REQUIRE(r.status == 200);
    Chunks c = chunks_of(r.body);
    CHECK_FALSE(c.done);
    REQUIRE_FALSE(c.events.empty());
    auto last = json_of(c.events.back());
    CHECK(last.HasMember("error"));
    CHECK(last["error"]["message"].IsString());
  }
}

TEST_CASE("embeddings are translated to batchEmbedContents", "[integration][openai]") {
  Rig rig;
  Response r = rig.gbd.fetch(
      "POST", "/v1/embeddings", {{"Content-Type", "application/json"}},
      R"({"model":"gemini-embedding-001","input":["one","two"],"dimensions":8})");
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto d = json_of(r.body);
  CHECK(d["object"].GetString() == std::string("list"));
  REQUIRE(d["data"].Size() == 2);
  CHECK(d["data"][1]["index"].GetInt() == 1);
  CHECK(d["data"][0]["embedding"].Size() == 8);
  CHECK(d["usage"]["prompt_tokens"].GetInt() > 0);
  CHECK(rig.mock.last().target == "/v1beta/models/gemini-embedding-001:batchEmbedContents");
}

TEST_CASE("the models list comes from the upstream once and then from the cache",
          "[integration][openai]") {
  Rig rig;
  rig.mock.reset();
  Response a = rig.gbd.fetch("GET", "/v1/models");
  INFO(a.body);
  REQUIRE(a.status == 200);
  auto d = json_of(a.body);
  CHECK(d["object"].GetString() == std::string("list"));
  bool flash = false;
  for (const auto& m : d["data"].GetArray()) {
    flash |= m["id"].GetString() == std::string("gemini-2.5-flash");
    CHECK(m["object"].GetString() == std::string("model"));
  }
  CHECK(flash);
  Response b = rig.gbd.fetch("GET", "/v1/models");
  CHECK(b.body == a.body);
  Response one = rig.gbd.fetch("GET", "/v1/models/gemini-2.5-pro");
  CHECK(one.status == 200);
  CHECK(json_of(one.body)["id"].GetString() == std::string("gemini-2.5-pro"));
  check_openai_error(rig.gbd.fetch("GET", "/v1/models/no-such-model"), 404);
  CHECK(rig.mock.stats().requests == 1);
}

namespace {

std::string b64(std::string_view in) {
  static constexpr char kT[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 |
                 uint8_t(in[i + 2]);
    out += {kT[v >> 18], kT[(v >> 12) & 63], kT[(v >> 6) & 63], kT[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += {kT[v >> 18], kT[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8;
    out += {kT[v >> 18], kT[(v >> 12) & 63], kT[(v >> 6) & 63], '='};
  }
  return out;
}

std::string image_request(const std::string& url) {
  return R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":[)"
         R"({"type":"text","text":"What is this?"},)"
         R"({"type":"image_url","image_url":{"url":")" +
         url + R"("}}]}]})";
}

}  // namespace

TEST_CASE("an image given by URL is downloaded by gbd and sent inline", "[integration][openai]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  cfg.limits_extra = "media_private = true\nmedia_max = \"4KiB\"\nmedia_timeout = \"1s\"\n";
  Gbd gbd(dir, cfg);
  Response r = chat(gbd, image_request(mock.url() + "/_mock/blob?type=image/png&bytes=1000"));
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto g = json_of(mock.last().body);
  const auto& parts = g["contents"][0]["parts"];
  const rapidjson::Value* inline_data = nullptr;
  for (const auto& p : parts.GetArray()) {
    if (p.HasMember("inlineData")) {
      inline_data = &p["inlineData"];
    }
  }
  REQUIRE(inline_data != nullptr);
  CHECK((*inline_data)["mimeType"].GetString() == std::string("image/png"));
  std::string bytes;
  for (int i = 0; i < 1000; ++i) {
    bytes += static_cast<char>(i % 251);
  }
  CHECK((*inline_data)["data"].GetString() == b64(bytes));

  // Too large, not an image, an error status, a redirect, too slow: each a clear 400.
  for (const std::string& bad :
       {std::string("/_mock/blob?type=image/png&bytes=5000"),
        std::string("/_mock/blob?type=text/html&bytes=10"),
        std::string("/_mock/blob?type=image/png&bytes=10&status=404"),
        std::string("/_mock/blob/redirect?to=http://example.invalid/x.png"),
        std::string("/_mock/blob?type=image/png&bytes=10&delay_ms=3000")}) {
    Response e = chat(gbd, image_request(mock.url() + bad));
    INFO(bad << ": " << e.body);
    check_openai_error(e, 400);
  }
}

TEST_CASE("an image URL on a private address is refused unless media_private is set",
          "[integration][openai]") {
  Rig rig;
  Response r = chat(rig.gbd, image_request(rig.mock.url() + "/_mock/blob?type=image/png&bytes=10"));
  check_openai_error(r, 400);
  CHECK(r.body.find("media_private") != std::string::npos);
  CHECK(rig.mock.stats().requests == 0);
}

TEST_CASE("an openai pool gets the request byte for byte with its key as Bearer",
          "[integration][openai]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig base;
  base.base_url = mock.url();
  // The OpenAI-compatible pool first: it serves gemini-2.0-flash through Google's
  // OpenAI layer; the Gemini pool serves the rest by translation.
  std::string toml = base.to_toml(dir);
  size_t at = toml.find("[pool.gemini]");
  toml.insert(at, "[pool.oai]\nprovider = \"openai\"\nbase_url = \"" + mock.url() +
                      "/v1beta/openai\"\nkeys = [\"ok-oai\"]\nmodels = [\"gemini-2.0-flash\"]\n"
                      "probe_model = \"\"\n\n");
  Gbd gbd(dir, toml, {"ok-1", "ok-2", "ok-oai"});
  std::string body =
      R"({"model":"gemini-2.0-flash","messages":[{"role":"user","content":"Hello oai"}],)"
      R"("temperature":0.5})";
  Response r = chat(gbd, body);
  INFO(r.body);
  REQUIRE(r.status == 200);
  SeenRequest seen = mock.last();
  CHECK(seen.target == "/v1beta/openai/chat/completions");
  CHECK(seen.body == body);
  CHECK(seen.header("authorization") == "Bearer ok-oai");
  auto d = json_of(r.body);
  CHECK(std::string(d["choices"][0]["message"]["content"].GetString()) == "Echo: Hello oai");
  // Streams pass through too, [DONE] and all.
  Response s = chat(gbd, R"({"model":"gemini-2.0-flash","stream":true,)"
                         R"("messages":[{"role":"user","content":"Hi"}]})");
  CHECK(s.status == 200);
  CHECK(chunks_of(s.body).done);
  // The translated pool still answers the other models.
  CHECK(chat(gbd, kHello).status == 200);
  CHECK(mock.key_requests("ok-oai") == 2);
}

TEST_CASE("a stream of an openai pool that breaks off ends with an OpenAI error event",
          "[integration][openai]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig base;
  base.base_url = mock.url();
  std::string toml = base.to_toml(dir);
  toml.insert(toml.find("[pool.gemini]"),
              "[pool.oai]\nprovider = \"openai\"\nbase_url = \"" + mock.url() +
                  "/v1beta/openai\"\nkeys = [\"reset-after-2-chunks-oai\"]\n"
                  "models = [\"gemini-2.0-flash\"]\nprobe_model = \"\"\n\n");
  Gbd gbd(dir, toml, {"ok-1", "ok-2", "reset-after-2-chunks-oai"});
  Response r = chat(gbd, R"({"model":"gemini-2.0-flash","stream":true,)"
                         R"("messages":[{"role":"user","content":"Hi"}]})",
                    {{"x-mock-chunks", "5"}});
  INFO(r.body);
  REQUIRE(r.status == 200);
  Chunks c = chunks_of(r.body);
  CHECK_FALSE(c.done);
  REQUIRE_FALSE(c.events.empty());
  auto last = json_of(c.events.back());
  REQUIRE(last.HasMember("error"));
  CHECK(last["error"]["type"].GetString() == std::string("server_error"));
}
