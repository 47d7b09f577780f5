// Helpers for the OpenAI request translation tests: JSON parsing, a comparison of JSON
// values that names the first difference, and gb-mock's own request checks (what the
// integration tests' upstream will say of a translated body).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "../../mock/proto_check.h"
#include "../../mock/request_info.h"

namespace gb::test {

inline rapidjson::Document parse_json(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  INFO(text);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

inline std::string to_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

// "" when equal (object members in any order, numbers by value), else where they differ.
// RapidJSON 1.1's operator== misbehaves under C++20's rewritten comparisons, hence this.
inline std::string json_diff(const rapidjson::Value& want, const rapidjson::Value& got,
                             const std::string& at = "$") {
  if (want.IsNumber() && got.IsNumber()) {
    return want.GetDouble() == got.GetDouble() ? "" : at + ": number differs";
  }
  if (want.GetType() != got.GetType()) {
    return at + ": want " + to_text(want) + ", got " + to_text(got);
  }
  if (want.IsString()) {
    std::string_view a(want.GetString(), want.GetStringLength());
    std::string_view b(got.GetString(), got.GetStringLength());
    return a == b ? "" : at + ": want \"" + std::string(a) + "\", got \"" + std::string(b) + "\"";
  }
  if (want.IsArray()) {
    if (want.Size() != got.Size()) {
      return at + ": want " + std::to_string(want.Size()) + " elements, got " +
             std::to_string(got.Size()) + ": " + to_text(got);
    }
    for (rapidjson::SizeType i = 0; i < want.Size(); ++i) {
      std::string d = json_diff(want[i], got[i], at + "[" + std::to_string(i) + "]");
      if (!d.empty()) {
        return d;
      }
    }
    return "";
  }
  if (want.IsObject()) {
    for (auto it = want.MemberBegin(); it != want.MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      auto g = got.FindMember(it->name);
      if (g == got.MemberEnd()) {
        return at + "." + key + ": missing";
      }
      std::string d = json_diff(it->value, g->value, at + "." + key);
      if (!d.empty()) {
        return d;
      }
    }
    for (auto it = got.MemberBegin(); it != got.MemberEnd(); ++it) {
      if (!want.HasMember(it->name)) {
        return at + "." + std::string(it->name.GetString()) + ": unexpected " + to_text(it->value);
      }
    }
    return "";
  }
  if (want.IsBool()) {
    return want.GetBool() == got.GetBool() ? "" : at + ": boolean differs";
  }
  return "";  // both null
}

// gb-mock's verdict on a generateContent body for `model`: "" when it would accept it.
inline std::string mock_verdict(const rapidjson::Value& body, std::string_view model) {
  gb::mock::ProtoChecker checker;
  checker.check(body, gb::mock::proto::generate_content_request());
  if (!checker.ok()) {
    return checker.message();
  }
  std::string out;
  for (const std::string& e : gb::mock::check_generate_request(body, model)) {
    out += e + "\n";
  }
  return out;
}

inline std::string mock_embed_verdict(const rapidjson::Value& body, std::string_view model) {
  gb::mock::ProtoChecker checker;
  checker.check(body, gb::mock::proto::batch_embed_contents_request());
  if (!checker.ok()) {
    return checker.message();
  }
  std::string out;
  for (const std::string& e : gb::mock::check_batch_embed_request(body, model)) {
    out += e + "\n";
  }
  return out;
}

}  // namespace gb::test
