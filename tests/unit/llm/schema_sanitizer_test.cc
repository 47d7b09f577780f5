// The JSON Schema -> Gemini Schema sanitizer (schema.h), on its own.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "llm/openai/schema.h"
#include "request_test_util.h"

using gb::llm::openai::sanitize_schema;
using gb::llm::openai::schema_without_properties;
using gb::llm::openai::SchemaOptions;
using gb::llm::openai::SchemaResult;

namespace {

struct Case {
  const char* what;
  const char* in;
  const char* want;
  bool ordering = false;
};

const Case kCases[] = {
    {"type names upper-cased", R"({"type":"string"})", R"({"type":"STRING"})"},
    {"Gemini spelling kept", R"({"type":"INTEGER"})", R"({"type":"INTEGER"})"},
    {"anyOf with null becomes nullable", R"({"anyOf":[{"type":"number"},{"type":"null"}]})",
     R"({"type":"NUMBER","nullable":true})"},
    {"anyOf of null alone", R"({"anyOf":[{"type":"null"}]})", R"({"type":"NULL"})"},
    {"type null alone", R"({"type":["null"]})", R"({"type":"NULL","nullable":true})"},
    {"type list with null", R"({"type":["integer","null"],"minimum":0})",
     R"({"type":"INTEGER","nullable":true,"minimum":0})"},
    {"type list without null", R"({"type":["string","number"],"description":"d"})",
     R"({"anyOf":[{"type":"STRING"},{"type":"NUMBER"}],"description":"d"})"},
    {"oneOf read as anyOf", R"({"oneOf":[{"type":"string"},{"type":"boolean"}]})",
     R"({"anyOf":[{"type":"STRING"},{"type":"BOOLEAN"}]})"},
    {"single anyOf branch merged under the parent's description",
     R"({"description":"outer","anyOf":[{"type":"string","description":"inner"}]})",
     R"({"type":"STRING","description":"outer"})"},
    {"anyOf beside properties is a partial constraint, dropped",
     R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},
         "anyOf":[{"required":["a"]},{"required":["b"]}]})",
     R"({"type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"STRING"}}})"},
    {"ref chain",
     R"({"$defs":{"A":{"$ref":"#/$defs/B"},"B":{"type":"string"}},"$ref":"#/$defs/A"})",
     R"({"type":"STRING"})"},
    {"ref siblings win", R"({"$defs":{"A":{"type":"string","description":"a"}},
                             "properties":{"x":{"$ref":"#/$defs/A","description":"x"}}})",
     R"({"type":"OBJECT","properties":{"x":{"type":"STRING","description":"x"}}})"},
    {"ref used twice is not a recursion",
     R"({"$defs":{"P":{"type":"object","properties":{"v":{"type":"number"}}}},
         "properties":{"a":{"$ref":"#/$defs/P"},"b":{"$ref":"#/$defs/P"}}})",
     R"({"type":"OBJECT","properties":{"a":{"type":"OBJECT","properties":{"v":{"type":"NUMBER"}}},
                                       "b":{"type":"OBJECT",
                                            "properties":{"v":{"type":"NUMBER"}}}}})"},
    {"diamond through allOf",
     R"({"$defs":{"A":{"properties":{"a":{"type":"string"}}},
                  "B":{"allOf":[{"$ref":"#/$defs/A"}],"properties":{"b":{"type":"string"}}}},
         "allOf":[{"$ref":"#/$defs/A"},{"$ref":"#/$defs/B"}]})",
     R"({"type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"STRING"}}})"},
    {"ref with percent-encoding", R"({"$defs":{"a b":{"type":"boolean"}},"$ref":"#/$defs/a%20b"})",
     R"({"type":"BOOLEAN"})"},
    {"allOf unites required", R"({"allOf":[{"properties":{"a":{"type":"string"}},"required":["a"]},
                                           {"properties":{"b":{"type":"string"}},
                                            "required":["b","a"]}]})",
     R"({"type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"STRING"}},
         "required":["a","b"]})"},
    {"true schema is anything", R"({"properties":{"x":true}})",
     R"({"type":"OBJECT","properties":{"x":{}}})"},
    {"null property ignored", R"({"properties":{"x":null,"y":{"type":"string"}}})",
     R"({"type":"OBJECT","properties":{"y":{"type":"STRING"}}})"},
    {"empty schema stays empty", R"({})", R"({})"},
    {"unknown keywords dropped",
     R"({"type":"string","$schema":"s","$id":"i","$comment":"c","strict":true,"default":"d",
         "examples":["e"],"readOnly":true,"writeOnly":false,"contentEncoding":"base64",
         "contentMediaType":"text/plain","x-custom":1,"deprecated":true})",
     R"({"type":"STRING"})"},
    {"object keywords dropped",
     R"({"type":"object","additionalProperties":false,"patternProperties":{},"propertyNames":{},
         "unevaluatedProperties":false,"dependentRequired":{},"minProperties":1,"maxProperties":3,
         "properties":{"a":{"type":"string"}}})",
     R"({"type":"OBJECT","minProperties":1,"maxProperties":3,
         "properties":{"a":{"type":"STRING"}}})"},
    {"number keywords", R"({"type":"number","minimum":1.5,"maximum":9,"exclusiveMinimum":1,
                            "exclusiveMaximum":10,"multipleOf":0.5})",
     R"({"type":"NUMBER","minimum":1.5,"maximum":9})"},
    {"array keywords", R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2.0,
                           "uniqueItems":true,"contains":{},"prefixItems":[]})",
     R"({"type":"ARRAY","items":{"type":"INTEGER"},"minItems":1,"maxItems":2})"},
    {"tuple items become the default", R"({"type":"array","items":[{"type":"string"}]})",
     R"({"type":"ARRAY","items":{"type":"STRING"}})"},
    {"keys of other types dropped", R"({"type":"string","minimum":3,"items":{},"properties":{}})",
     R"({"type":"STRING"})"},
    {"formats other than enum and date-time dropped",
     R"({"properties":{"a":{"type":"string","format":"uri"},
                       "b":{"type":"string","format":"date-time"},
                       "c":{"type":"string","format":"enum","enum":["x"]}}})",
     R"({"type":"OBJECT","properties":{"a":{"type":"STRING"},
                                       "b":{"type":"STRING","format":"date-time"},
                                       "c":{"type":"STRING","format":"enum","enum":["x"]}}})"},
    {"enum values become strings", R"({"enum":[1,2.5,false,"x",null]})",
     R"({"type":"STRING","enum":["1","2.5","false","x"],"nullable":true})"},
    {"enum on a number dropped", R"({"type":"number","enum":[1,2]})", R"({"type":"NUMBER"})"},
    {"string const to enum", R"({"const":"only"})", R"({"type":"STRING","enum":["only"]})"},
    {"other const dropped", R"({"type":"integer","const":3})", R"({"type":"INTEGER"})"},
    {"title example and nullable kept",
     R"({"type":"string","title":"T","example":"ex","nullable":true})",
     R"({"type":"STRING","title":"T","example":"ex","nullable":true})"},
    {"required filtered to declared properties",
     R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a","ghost","a"]})",
     R"({"type":"OBJECT","properties":{"a":{"type":"STRING"}},"required":["a"]})"},
    {"required without properties dropped", R"({"type":"object","required":["a"]})",
     R"({"type":"OBJECT"})"},
    {"property ordering when asked",
     R"({"type":"object","properties":{"b":{"type":"object","properties":{"y":{"type":"string"},
         "x":{"type":"string"}}},"a":{"type":"string"}}})",
     R"({"type":"OBJECT","properties":{"b":{"type":"OBJECT","properties":{"y":{"type":"STRING"},
         "x":{"type":"STRING"}},"propertyOrdering":["y","x"]},"a":{"type":"STRING"}},
         "propertyOrdering":["b","a"]})",
     true},
    {"no property ordering unless asked", R"({"properties":{"b":{"type":"string"}}})",
     R"({"type":"OBJECT","properties":{"b":{"type":"STRING"}}})"},
};

struct Refusal {
  const char* what;
  std::string in;
  std::string at;
};

// Items nested `n` deep.
std::string deep_items(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += R"({"type":"array","items":)";
  }
  s += R"({"type":"string"})";
  s += std::string(static_cast<size_t>(n), '}');
  return s;
}

// Each level refers to the one below twice: 2^20 sub-schemas once inlined.
std::string exponential_refs() {
  std::string defs = R"("d0":{"type":"string"})";
  for (int i = 1; i <= 20; ++i) {
    std::string below = "#/$defs/d" + std::to_string(i - 1);
    defs += ",\"d" + std::to_string(i) + R"(":{"properties":{"a":{"$ref":")" + below +
            R"("},"b":{"$ref":")" + below + R"("}}})";
  }
  return R"({"$defs":{)" + defs + R"(},"$ref":"#/$defs/d20"})";
}

// An object with `n` properties.
std::string wide_object(int n) {
  std::string s = R"({"type":"object","properties":{)";
  for (int i = 0; i < n; ++i) {
    s += (i > 0 ? ",\"p" : "\"p") + std::to_string(i) + R"(":{})";
  }
  return s + "}}";
}

std::vector<Refusal> refusals() {
  return {
      {"recursive ref",
       R"({"$defs":{"N":{"properties":{"next":{"$ref":"#/$defs/N"}}}},"$ref":"#/$defs/N"})",
       "properties.next.$ref"},
      {"recursive root", R"({"properties":{"kids":{"type":"array","items":{"$ref":"#"}}}})",
       "properties.kids.items.$ref"},
      {"external ref", R"({"$ref":"other.json#/x"})", "$ref"},
      {"dangling ref", R"({"properties":{"a":{"$ref":"#/$defs/none"}}})", "properties.a.$ref"},
      {"ref not a string", R"({"$ref":1})", "$ref"},
      {"false schema", R"({"properties":{"a":false}})", "properties.a"},
      {"schema not an object", R"({"properties":{"a":"string"}})", "properties.a"},
      {"unknown type", R"({"type":"date"})", "type"},
      {"type not a string", R"({"type":1})", "type"},
      {"enum of objects", R"({"enum":[{"a":1}]})", "enum"},
      {"enum not an array", R"({"enum":"a"})", "enum"},
      {"negative minItems", R"({"type":"array","minItems":-1})", "minItems"},
      {"fractional maxLength", R"({"type":"string","maxLength":1.5})", "maxLength"},
      {"minimum a string", R"({"type":"number","minimum":"1"})", "minimum"},
      {"description a number", R"({"type":"string","description":5})", "description"},
      {"pattern a number", R"({"type":"string","pattern":5})", "pattern"},
      {"properties an array", R"({"type":"object","properties":[]})", "properties"},
      {"required a string", R"({"properties":{"a":{}},"required":"a"})", "required"},
      {"allOf an object", R"({"allOf":{}})", "allOf"},
      {"anyOf an object", R"({"anyOf":{}})", "anyOf"},
      {"too deep", deep_items(70), ""},
      {"too many sub-schemas", exponential_refs(), ""},
      {"too many properties", wide_object(200000), "properties"},
  };
}

}  // namespace

TEST_CASE("sanitize_schema writes what Gemini's Schema accepts", "[openai-request]") {
  for (const Case& c : kCases) {
    INFO(c.what);
    rapidjson::Document in = gb::test::parse_json(c.in);
    rapidjson::Document want = gb::test::parse_json(c.want);
    rapidjson::Document out;
    SchemaOptions opt;
    opt.property_ordering = c.ordering;
    SchemaResult r = sanitize_schema(in, out.GetAllocator(), opt);
    INFO(r.error << " at " << r.at);
    REQUIRE(r.ok);
    CHECK(gb::test::json_diff(want, r.schema) == "");
  }
}

TEST_CASE("sanitize_schema output passes gb-mock's Schema check", "[openai-request]") {
  for (const Case& c : kCases) {
    INFO(c.what);
    rapidjson::Document in = gb::test::parse_json(c.in);
    rapidjson::Document body;
    body.SetObject();
    SchemaOptions opt;
    opt.property_ordering = true;
    SchemaResult r = sanitize_schema(in, body.GetAllocator(), opt);
    REQUIRE(r.ok);
    gb::mock::ProtoChecker checker;
    checker.check(r.schema, gb::mock::proto::schema());
    CHECK(checker.message() == "");
  }
}

TEST_CASE("sanitize_schema refuses what no Gemini Schema can say", "[openai-request]") {
  for (const Refusal& c : refusals()) {
    INFO(c.what);
    rapidjson::Document in = gb::test::parse_json(c.in);
    rapidjson::Document out;
    SchemaResult r = sanitize_schema(in, out.GetAllocator());
    REQUIRE_FALSE(r.ok);
    CHECK_FALSE(r.error.empty());
    CHECK(r.schema.IsNull());
    if (!c.at.empty()) {
      CHECK(r.at == c.at);
    }
  }
}

TEST_CASE("schema_without_properties spots parameters Gemini refuses", "[openai-request]") {
  struct Row {
    const char* schema;
    bool empty;
  };
  const Row rows[] = {
      {R"({"type":"OBJECT"})", true},
      {R"({"type":"OBJECT","properties":{}})", true},
      {R"({})", true},
      {R"({"description":"none"})", true},
      {R"({"type":"OBJECT","properties":{"a":{"type":"STRING"}}})", false},
      {R"({"type":"STRING"})", false},
      {R"({"anyOf":[{"type":"STRING"},{"type":"NUMBER"}]})", false},
  };
  for (const Row& r : rows) {
    INFO(r.schema);
    CHECK(schema_without_properties(gb::test::parse_json(r.schema)) == r.empty);
  }
}
