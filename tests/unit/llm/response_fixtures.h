// Helpers for the golden tests of the Gemini -> OpenAI answer translators: fixture files,
// JSON comparison, and the normalisation of tool call ids (their 16 random characters).
//
// Setting GB_REGEN_FIXTURES=1 in the environment rewrites the expected files from what the
// code produces: for deliberate changes only, and the diff must then be read line by line.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "llm/openai/tool_id.h"

namespace gb::llm::openai::test {

inline std::string fixture_path(const std::string& rel) {
  return std::string(GB_FIXTURES) + "/openai/" + rel;
}

inline std::string read_fixture(const std::string& rel) {
  std::ifstream in(fixture_path(rel), std::ios::binary);
  INFO("fixture " << rel);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline bool regenerating() {
  const char* v = std::getenv("GB_REGEN_FIXTURES");
  return v != nullptr && std::string_view(v) == "1";
}

inline void write_fixture(const std::string& rel, std::string_view text) {
  std::ofstream out(fixture_path(rel), std::ios::binary | std::ios::trunc);
  REQUIRE(out.good());
  out << text;
}

inline std::string pretty(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

inline bool random_part_ok(std::string_view id) {
  if (id.size() < 21 || id.substr(0, 5) != "call_") {
    return false;
  }
  for (char c : id.substr(5, 16)) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

// A tool call id as "call_*|sig=<signature>|gid=<Gemini's id>": what it carries, without
// its random characters (which are checked here).
inline std::string describe_tool_id(std::string_view id) {
  INFO("tool call id " << id);
  CHECK(random_part_ok(id));
  ToolIdParts p = parse_tool_id(id);
  return "call_*|sig=" + p.signature + "|gid=" + p.gemini_id;
}

// Replaces every choices[].message.tool_calls[].id (and delta.tool_calls[].id) with
// describe_tool_id's text.
inline void normalise_tool_ids(rapidjson::Value& v, rapidjson::Document::AllocatorType& a) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) {
      normalise_tool_ids(e, a);
    }
    return;
  }
  if (!v.IsObject()) {
    return;
  }
  auto calls = v.FindMember("tool_calls");
  if (calls != v.MemberEnd() && calls->value.IsArray()) {
    for (auto& c : calls->value.GetArray()) {
      if (!c.IsObject()) {
        continue;
      }
      auto id = c.FindMember("id");
      if (id != c.MemberEnd() && id->value.IsString()) {
        std::string d = describe_tool_id(id->value.GetString());
        id->value.SetString(d.c_str(), static_cast<rapidjson::SizeType>(d.size()), a);
      }
    }
  }
  for (auto& m : v.GetObject()) {
    if (std::string_view(m.name.GetString()) != "tool_calls") {
      normalise_tool_ids(m.value, a);
    }
  }
}

// Random characters of tool ids in raw text ("call_" + 16 of [a-z0-9]) -> '#'.
inline std::string mask_tool_ids(std::string s) {
  for (size_t pos = s.find("\"call_"); pos != std::string::npos; pos = s.find("\"call_", pos + 1)) {
    std::string_view id = std::string_view(s).substr(pos + 1);
    CHECK(random_part_ok(id));
    if (random_part_ok(id)) {
      s.replace(pos + 6, 16, std::string(16, '#'));
    }
  }
  return s;
}

// Compares JSON text `actual` with the JSON file `expected_rel` (parsed, so whitespace and
// member order do not matter), after normalising tool call ids.
inline void check_golden_json(std::string_view actual, const std::string& expected_rel) {
  rapidjson::Document got;
  got.Parse(actual.data(), actual.size());
  INFO("actual: " << actual);
  REQUIRE_FALSE(got.HasParseError());
  normalise_tool_ids(got, got.GetAllocator());
  if (regenerating()) {
    write_fixture(expected_rel, pretty(got));
  }
  rapidjson::Document want;
  std::string text = read_fixture(expected_rel);
  want.Parse(text.data(), text.size());
  REQUIRE_FALSE(want.HasParseError());
  INFO("expected " << expected_rel << ":\n" << pretty(want) << "got:\n" << pretty(got));
  CHECK(got == want);
}

}  // namespace gb::llm::openai::test
