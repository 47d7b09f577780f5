// Reading request fields as Google's proto-JSON parser does: a field may arrive under its
// camelCase name or its snake_case spelling, and null counts as absent.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace gb::mock {

// key == camel, or key is camel's snake_case spelling ("inline_data" for "inlineData").
inline bool names_match(std::string_view key, std::string_view camel) {
  if (key == camel) {
    return true;
  }
  size_t k = 0;
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      if (k + 1 >= key.size() || key[k] != '_' || key[k + 1] != c - 'A' + 'a') {
        return false;
      }
      k += 2;
    } else {
      if (k >= key.size() || key[k] != c) {
        return false;
      }
      ++k;
    }
  }
  return k == key.size();
}

inline const rapidjson::Value* field(const rapidjson::Value& obj, std::string_view camel) {
  if (!obj.IsObject()) {
    return nullptr;
  }
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    if (names_match({it->name.GetString(), it->name.GetStringLength()}, camel)) {
      return it->value.IsNull() ? nullptr : &it->value;
    }
  }
  return nullptr;
}

inline std::string_view string_field(const rapidjson::Value& obj, std::string_view camel) {
  const rapidjson::Value* v = field(obj, camel);
  return v != nullptr && v->IsString() ? std::string_view(v->GetString(), v->GetStringLength())
                                       : std::string_view();
}

inline int64_t int_field(const rapidjson::Value& obj, std::string_view camel, int64_t dflt) {
  const rapidjson::Value* v = field(obj, camel);
  if (v == nullptr) {
    return dflt;
  }
  if (v->IsInt64()) {
    return v->GetInt64();
  }
  if (v->IsDouble()) {
    return static_cast<int64_t>(v->GetDouble());
  }
  if (v->IsString()) {
    return std::strtoll(v->GetString(), nullptr, 10);
  }
  return dflt;
}

// An array member, or nullptr when absent or empty.
inline const rapidjson::Value* array_field(const rapidjson::Value& obj, std::string_view camel) {
  const rapidjson::Value* v = field(obj, camel);
  return v != nullptr && v->IsArray() && !v->Empty() ? v : nullptr;
}

namespace detail {

inline bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
    char y = b[i] >= 'a' && b[i] <= 'z' ? static_cast<char>(b[i] - 32) : b[i];
    if (x != y) {
      return false;
    }
  }
  return true;
}

}  // namespace detail

}  // namespace gb::mock
