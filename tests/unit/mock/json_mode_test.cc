// gb-mock's JSON mode (responseMimeType application/json, WIRE.md §1.4.5): the value
// written for a Gemini Schema or a JSON Schema, the refusal of both schemas at once, and
// how the JSON text travels in answers, streams and the OpenAI-compatible layer.
#include "../../mock/json_mode.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "../../mock/openai_request.h"
#include "../../mock/request_info.h"
#include "../../mock/responses.h"

using namespace gb::mock;

namespace {

rapidjson::Document parse_doc(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  INFO(s);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string answer_for(const std::string& schema, const std::string& text = "hi") {
  auto d = parse_doc(schema);
  return json_answer(&d, text);
}

size_t chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

bool same_json(const rapidjson::Value& a, const rapidjson::Value& b) {
  if (a.IsNumber() && b.IsNumber()) {
    return a.GetDouble() == b.GetDouble();
  }
  if (a.GetType() != b.GetType()) {
    return false;
  }
  if (a.IsString()) {
    return std::string_view(a.GetString()) == b.GetString();
  }
  if (a.IsArray()) {
    if (a.Size() != b.Size()) {
      return false;
    }
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      if (!same_json(a[i], b[i])) {
        return false;
      }
    }
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) {
      return false;
    }
    for (auto it = a.MemberBegin(); it != a.MemberEnd(); ++it) {
      auto other = b.FindMember(it->name);
      if (other == b.MemberEnd() || !same_json(it->value, other->value)) {
        return false;
      }
    }
    return true;
  }
  return true;  // null, true, false
}

// An independent check of the keywords the mock honours, for either dialect.
bool validates(const rapidjson::Value& root, const rapidjson::Value& s, const rapidjson::Value& v) {
  if (!s.IsObject()) {
    return !s.IsFalse();
  }
  if (s.HasMember("$ref")) {
    const rapidjson::Value* target = json_mode::resolve_ref(root, s["$ref"].GetString());
    return target != nullptr && validates(root, *target, v);
  }
  for (const char* alt : {"anyOf", "oneOf"}) {
    if (s.HasMember(alt)) {
      bool any = false;
      for (const auto& a : s[alt].GetArray()) {
        any = any || validates(root, a, v);
      }
      if (!any) {
        return false;
      }
    }
  }
  if (s.HasMember("const") && !same_json(s["const"], v)) {
    return false;
  }
  if (s.HasMember("enum")) {
    bool found = false;
    for (const auto& e : s["enum"].GetArray()) {
      found = found || same_json(e, v);
    }
    if (!found) {
      return false;
    }
  }
  if (s.HasMember("type")) {
    std::vector<std::string> types;
    if (s["type"].IsArray()) {
      for (const auto& t : s["type"].GetArray()) {
        types.emplace_back(t.GetString());
      }
    } else {
      types.emplace_back(s["type"].GetString());
    }
    bool nullable = s.HasMember("nullable") && s["nullable"].GetBool();
    bool ok = nullable && v.IsNull();
    for (std::string t : types) {
      for (char& c : t) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      ok = ok || (t == "string" && v.IsString()) || (t == "number" && v.IsNumber()) ||
           (t == "integer" && v.IsNumber() && std::floor(v.GetDouble()) == v.GetDouble()) ||
           (t == "boolean" && v.IsBool()) || (t == "array" && v.IsArray()) ||
           (t == "object" && v.IsObject()) || (t == "null" && v.IsNull());
    }
    if (!ok) {
      return false;
    }
  }
  if (v.IsNumber()) {
    double x = v.GetDouble();
    if ((s.HasMember("minimum") && x < s["minimum"].GetDouble()) ||
        (s.HasMember("maximum") && x > s["maximum"].GetDouble()) ||
        (s.HasMember("exclusiveMinimum") && x <= s["exclusiveMinimum"].GetDouble()) ||
        (s.HasMember("exclusiveMaximum") && x >= s["exclusiveMaximum"].GetDouble())) {
      return false;
    }
  }
  if (v.IsString()) {
    size_t n = chars(v.GetString());
    if ((s.HasMember("minLength") && n < s["minLength"].GetUint64()) ||
        (s.HasMember("maxLength") && n > s["maxLength"].GetUint64())) {
      return false;
    }
  }
  if (v.IsArray()) {
    if ((s.HasMember("minItems") && v.Size() < s["minItems"].GetUint64()) ||
        (s.HasMember("maxItems") && v.Size() > s["maxItems"].GetUint64())) {
      return false;
    }
    rapidjson::SizeType prefix = 0;
    if (s.HasMember("prefixItems")) {
      prefix = s["prefixItems"].Size();
      for (rapidjson::SizeType i = 0; i < prefix && i < v.Size(); ++i) {
        if (!validates(root, s["prefixItems"][i], v[i])) {
          return false;
        }
      }
    }
    for (rapidjson::SizeType i = prefix; s.HasMember("items") && i < v.Size(); ++i) {
      if (!validates(root, s["items"], v[i])) {
        return false;
      }
    }
  }
  if (v.IsObject()) {
    if (s.HasMember("required")) {
      for (const auto& r : s["required"].GetArray()) {
        if (!v.HasMember(r.GetString())) {
          return false;
        }
      }
    }
    if (s.HasMember("properties")) {
      for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
        auto p = s["properties"].FindMember(it->name);
        if (p != s["properties"].MemberEnd() && !validates(root, p->value, it->value)) {
          return false;
        }
      }
    }
  }
  return true;
}

// The text parts of a stream's events, concatenated.
std::string streamed_text(const GenerationPlan& p, uint64_t* text_events) {
  std::string text;
  *text_events = 0;
  for (uint64_t i = 0; i < p.event_count(); ++i) {
    std::string e;
    append_event(p, i, JsonStyle::line, e);
    auto d = parse_doc(e);
    const auto& content = d["candidates"][0]["content"];
    if (content.HasMember("parts")) {
      text += content["parts"][0]["text"].GetString();
      ++*text_events;
    }
  }
  return text;
}

constexpr const char* kGeminiSchema =
    R"({"type":"OBJECT","properties":{)"
    R"("name":{"type":"STRING"},"age":{"type":"INTEGER"},)"
    R"("score":{"type":"NUMBER","nullable":true},"ok":{"type":"BOOLEAN"},)"
    R"("tags":{"type":"ARRAY","items":{"type":"STRING","enum":["red","green"]}},)"
    R"("mood":{"type":"string","format":"enum","enum":["happy","sad"]},)"
    R"("inner":{"type":"OBJECT","properties":{"b":{"type":"NUMBER"},"a":{"type":"STRING"}},)"
    R"("propertyOrdering":["a","b"]}},)"
    R"("required":["name"],"propertyOrdering":["ok","name"]})";

constexpr const char* kJsonSchema =
    R"({"type":"object","$defs":{"Point":{"type":"object","required":["x","y"],)"
    R"("properties":{"x":{"type":"number","minimum":2.5},"y":{"type":"integer","exclusiveMaximum":0}}}},)"
    R"("properties":{)"
    R"("p":{"$ref":"#/$defs/Point"},)"
    R"("maybe":{"anyOf":[{"type":"null"},{"type":"string","maxLength":4}]},)"
    R"("kind":{"const":"fixed"},"level":{"enum":[3,"x"]},)"
    R"("pair":{"type":"array","prefixItems":[{"type":"boolean"},{"type":["null","integer"],"minimum":10}]},)"
    R"("list":{"type":"array","items":{"type":"string","minLength":10},"minItems":2},)"
    R"("none":{"type":"array","maxItems":0},)"
    R"("when":{"type":"string","format":"date-time"},)"
    R"("between":{"type":"number","exclusiveMinimum":5,"exclusiveMaximum":6}},)"
    R"("required":["extra"]})";

constexpr const char* kTreeSchema =
    R"({"type":"object","properties":{"name":{"type":"string"},)"
    R"("children":{"type":"array","items":{"$ref":"#"}}},"required":["name"]})";

}  // namespace

TEST_CASE("json mode: without a schema the answer is {echo: text}", "[mock]") {
  CHECK(json_answer(nullptr, "hi") == R"({"echo":"hi"})");
  // Only JSON's own escapes: the response encoder adds Google's \u003c and friends.
  CHECK(json_answer(nullptr, "say \"x\"\\\n\t<b>&\x01\xc3\xa9") ==
        "{\"echo\":\"say \\\"x\\\"\\\\\\n\\t<b>&\\u0001\xc3\xa9\"}");
  auto d = parse_doc(json_answer(nullptr, "a\"b\n<c>"));
  CHECK(std::string(d["echo"].GetString()) == "a\"b\n<c>");
}

TEST_CASE("json mode: a Gemini Schema gets every property, in propertyOrdering order", "[mock]") {
  std::string out = answer_for(kGeminiSchema);
  CHECK(out == R"({"ok":true,"name":"Echo: hi","age":1,"score":1,"tags":["red"],"mood":"happy",)"
               R"("inner":{"a":"Echo: hi","b":1}})");
  auto schema = parse_doc(kGeminiSchema);
  CHECK(validates(schema, schema, parse_doc(out)));

  CHECK(answer_for(R"({"type":"STRING"})", "x") == R"("Echo: x")");
  CHECK(answer_for(R"({"type":"INTEGER","minimum":7})") == "7");
  CHECK(answer_for(R"({"type":"NUMBER","maximum":-0.5})") == "-0.5");
  CHECK(answer_for(R"({"type":"BOOLEAN"})") == "true");
  CHECK(answer_for(R"({"type":"NULL"})") == "null");
  CHECK(answer_for(R"({"type":6,"properties":{"n":{"type":3}}})") == R"({"n":1})");  // enum numbers
  CHECK(answer_for(
            R"({"type":"ARRAY","items":{"type":"OBJECT","properties":{"k":{"type":"STRING"}}}})") ==
        R"([{"k":"Echo: hi"}])");
  CHECK(answer_for(R"({"type":"ARRAY","minItems":3,"items":{"type":"INTEGER"}})") == "[1,1,1]");
  // snake_case spellings are the same fields
  CHECK(answer_for(R"({"type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"STRING"}},)"
                   R"("property_ordering":["b","a"]})") == R"({"b":"Echo: hi","a":"Echo: hi"})");
}

TEST_CASE("json mode: a JSON Schema's refs, unions, consts and bounds", "[mock]") {
  std::string out = answer_for(kJsonSchema);
  CHECK(out == R"({"p":{"x":2.5,"y":-1},"maybe":"Echo","kind":"fixed","level":3,"pair":[true,10],)"
               R"("list":["Echo: hi..","Echo: hi.."],"none":[],"when":"2025-01-01T00:00:00Z",)"
               R"("between":5.5,"extra":"Echo: hi"})");
  auto schema = parse_doc(kJsonSchema);
  CHECK(validates(schema, schema, parse_doc(out)));

  CHECK(answer_for(R"({"type":["string","null"]})") == R"("Echo: hi")");
  CHECK(answer_for(R"({"type":"null"})") == "null");
  CHECK(answer_for(R"({})") == R"("Echo: hi")");
  CHECK(answer_for(R"({"properties":{"a":{}}})") == R"({"a":"Echo: hi"})");
  CHECK(answer_for(R"({"items":{"type":"boolean"}})") == "[true]");
  CHECK(answer_for(R"({"type":"string","maxLength":0})") == R"("")");
  CHECK(answer_for(R"({"type":"string","maxLength":7})", "\xc3\xa9t\xc3\xa9") ==
        "\"Echo: \xc3\xa9\"");  // characters, not bytes
  CHECK(answer_for(R"({"type":"integer","exclusiveMinimum":1.5})") == "2");
  CHECK(answer_for(R"({"$ref":"#/nowhere"})") == R"("Echo: hi")");
}

TEST_CASE("json mode: recursive schemas end with what is required", "[mock]") {
  std::string out = answer_for(kTreeSchema);
  CHECK(out == R"({"name":"Echo: hi","children":[{"name":"Echo: hi","children":[)"
               R"({"name":"Echo: hi","children":[{"name":"Echo: hi"}]}]}]})");
  auto schema = parse_doc(kTreeSchema);
  CHECK(validates(schema, schema, parse_doc(out)));

  // A schema that requires its own recursion is cut short, but the answer stays JSON.
  std::string forced =
      answer_for(R"({"type":"object","properties":{"next":{"$ref":"#"}},"required":["next"]})");
  parse_doc(forced);
  CHECK(forced.size() < 2000);
}

TEST_CASE("json mode: many schemas, each answer validates", "[mock]") {
  const char* schemas[] = {
      kGeminiSchema,
      kJsonSchema,
      kTreeSchema,
      R"({"type":"ARRAY","items":{"type":"ARRAY","items":{"type":"NUMBER","minimum":-3,"maximum":-2}}})",
      R"({"type":"object","properties":{"a":{"oneOf":[{"type":"integer","maximum":0},{"type":"string"}]}}})",
      R"({"type":"string","minLength":30})",
      R"({"type":"number","minimum":10,"maximum":20})",
      R"({"anyOf":[{"type":"null"},{"type":"object","properties":{"q":{"enum":["a","b"]}}}]})",
  };
  for (const char* s : schemas) {
    INFO(s);
    std::string out = answer_for(s, "question \"quoted\"");
    INFO(out);
    auto schema = parse_doc(s);
    CHECK(validates(schema, schema, parse_doc(out)));
  }
  // No integer fits: the answer is still a number.
  CHECK(answer_for(R"({"type":"integer","minimum":0.2,"maximum":0.9})") == "0");
}

TEST_CASE("json mode: responseSchema and responseJsonSchema together are refused", "[mock]") {
  auto errors = [](const std::string& body) {
    auto d = parse_doc(body);
    return check_generate_request(d, "gemini-2.5-flash");
  };
  const std::string contents = R"("contents":[{"role":"user","parts":[{"text":"q"}]}])";
  CHECK(errors("{" + contents +
               R"(,"generationConfig":{"responseMimeType":"application/json",)"
               R"("responseSchema":{"type":"STRING"}}})")
            .empty());
  CHECK(errors("{" + contents +
               R"(,"generationConfig":{"responseMimeType":"application/json",)"
               R"("responseJsonSchema":{"type":"string"}}})")
            .empty());
  const std::string both =
      "{" + contents +
      R"(,"generation_config":{"response_mime_type":"application/json",)"
      R"("response_schema":{"type":"STRING"},"responseJsonSchema":{"type":"string"}}})";
  CHECK(errors(both) ==
        std::vector<std::string>{"* GenerateContentRequest.generation_config.response_json_schema: "
                                 "response_json_schema and response_schema cannot both be set"});
  // null is absent
  CHECK(
      errors(
          "{" + contents +
          R"(,"generationConfig":{"responseSchema":{"type":"STRING"},"responseJsonSchema":null}})")
          .empty());
}

TEST_CASE("json mode: the summary of a Gemini request", "[mock]") {
  auto summary = [](const std::string& gc) {
    auto d = parse_doc(
        R"({"contents":[{"role":"user","parts":[{"text":"hello"}]}],"generationConfig":)" + gc +
        "}");
    return summarize_generate(d);
  };
  PromptSummary plain = summary(R"({"responseMimeType":"application/json"})");
  CHECK(plain.json);
  CHECK(plain.json_text == R"({"echo":"hello"})");
  CHECK(plain.last_user_text == "hello");

  PromptSummary gemini = summary(
      R"({"response_mime_type":"application/json","response_schema":{"type":"ARRAY","items":{"type":"STRING"}}})");
  CHECK(gemini.json_text == R"(["Echo: hello"])");
  PromptSummary js = summary(
      R"({"responseMimeType":"application/json","responseJsonSchema":{"type":"object","properties":{"n":{"type":"integer"}}}})");
  CHECK(js.json_text == R"({"n":1})");

  // Another MIME type keeps the echo, even with a schema.
  CHECK_FALSE(
      summary(R"({"responseMimeType":"text/plain","responseSchema":{"type":"STRING"}})").json);
  CHECK_FALSE(summary(R"({"temperature":0.5})").json);
}

TEST_CASE("json mode: the JSON text is the answer, split over stream events", "[mock]") {
  const std::string json = R"({"answer":"Echo: a question long enough for three events","n":1})";
  GenerationPlan p;
  p.model = "gemini-2.5-flash";
  p.response_id = "rid";
  p.prompt_tokens = 4;
  set_json_text(p, json);

  auto whole = parse_doc(generate_body(p));
  CHECK(std::string(whole["candidates"][0]["content"]["parts"][0]["text"].GetString()) == json);
  CHECK(whole["usageMetadata"]["candidatesTokenCount"].GetUint64() == (json.size() + 3) / 4);
  parse_doc(whole["candidates"][0]["content"]["parts"][0]["text"].GetString());

  uint64_t events = 0;
  CHECK(streamed_text(p, &events) == json);
  CHECK(events == 3);
  std::string last;
  append_event(p, p.event_count() - 1, JsonStyle::line, last);
  CHECK(parse_doc(last)["usageMetadata"]["candidatesTokenCount"].GetUint64() ==
        (json.size() + 3) / 4);

  // More events asked than bytes: one event per byte, no padding that would break the JSON.
  GenerationPlan small;
  small.chunks = 100;
  set_json_text(small, R"({"echo":"hi"})");
  CHECK(small.chunks == 13);
  CHECK(streamed_text(small, &events) == R"({"echo":"hi"})");
  CHECK(events == 13);

  // The JSON text is escaped once more as the string it is.
  GenerationPlan escaped;
  set_json_text(escaped, json_answer(nullptr, "<a & \"b\">"));
  std::string body = generate_body(escaped);
  CHECK(body.find(R"(\"echo\":\"\u003ca \u0026 \\\"b\\\"\u003e\")") != std::string::npos);
}

TEST_CASE("json mode: the OpenAI layer's response_format", "[mock]") {
  auto summary = [](const std::string& format) {
    auto d =
        parse_doc(R"({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hey"}],)"
                  R"("response_format":)" +
                  format + "}");
    return summarize_chat(d).prompt;
  };
  PromptSummary object = summary(R"({"type":"json_object"})");
  CHECK(object.json);
  CHECK(object.json_text == R"({"echo":"hey"})");

  PromptSummary schema =
      summary(R"({"type":"json_schema","json_schema":{"name":"r","strict":true,"schema":)"
              R"({"type":"object","properties":{"title":{"type":"string"},"n":{"type":"number"}},)"
              R"("required":["title","n"],"additionalProperties":false}}})");
  CHECK(schema.json_text == R"({"title":"Echo: hey","n":1})");

  CHECK(summary(R"({"type":"json_schema","json_schema":{"name":"r"}})").json_text ==
        R"({"echo":"hey"})");
  CHECK_FALSE(summary(R"({"type":"text"})").json);
}
