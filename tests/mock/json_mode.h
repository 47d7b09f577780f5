// JSON mode (WIRE.md §1.4.5): with generationConfig.responseMimeType "application/json"
// Gemini answers a JSON value instead of prose. The mock's value is a pure function of the
// schema and the last user text, so a test can predict every byte:
//
//   no schema             {"echo":"<last user text>"}
//   string                "Echo: <last user text>" (the first enum value, if any; a
//                         date-time, date or time format gets a fixed date or time;
//                         minLength and maxLength honoured by padding with '.' or cutting)
//   number, integer       1, moved into [minimum, maximum] (exclusive bounds too)
//   boolean               true
//   null                  null
//   array                 one item (minItems if more, none with maxItems 0);
//                         prefixItems give one item each
//   object                every property, in propertyOrdering order, then the properties
//                         it does not name in declaration order; required names with no
//                         schema get a string
//   anyOf, oneOf          the first alternative that is not null
//   const                 its value; a JSON Schema enum: its first value as written
//   $ref                  a JSON pointer into the root schema ("#", "#/$defs/Node")
//   no type               from what the schema has: properties (object), items (array),
//                         else a string
//
// One reader serves both dialects: Gemini's Schema (responseSchema, §1.4.7: OBJECT,
// STRING, … in any case, or the enum's numbers) and JSON Schema (responseJsonSchema and the
// OpenAI layer's response_format; type may be a list such as ["string","null"]). Beyond 8
// levels of nesting only what the schema requires is written (required properties,
// minItems items), so recursive schemas end; past 64 levels, or 100000 values, the value is
// cut short (null, [] or {}) and may not validate.
//
// The text is compact JSON (no spaces) with only JSON's mandatory escapes; the response
// encoder escapes it again as the string it is.
#pragma once

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "request_fields.h"

namespace gb::mock {

namespace json_mode {

inline constexpr int kFullDepth = 8;
inline constexpr int kMaxDepth = 64;
inline constexpr uint64_t kMaxValues = 100000;
inline constexpr uint64_t kMaxItems = 1000;

// s as a JSON string with JSON's mandatory escapes only (", \ and control characters).
inline void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// Any parsed JSON value, compact.
inline void append_value(std::string& out, const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out += "null";
      return;
    case rapidjson::kFalseType:
      out += "false";
      return;
    case rapidjson::kTrueType:
      out += "true";
      return;
    case rapidjson::kStringType:
      append_string(out, {v.GetString(), v.GetStringLength()});
      return;
    case rapidjson::kArrayType: {
      out += '[';
      bool first = true;
      for (const auto& e : v.GetArray()) {
        out += first ? "" : ",";
        first = false;
        append_value(out, e);
      }
      out += ']';
      return;
    }
    case rapidjson::kObjectType: {
      out += '{';
      bool first = true;
      for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
        out += first ? "" : ",";
        first = false;
        append_string(out, {it->name.GetString(), it->name.GetStringLength()});
        out += ':';
        append_value(out, it->value);
      }
      out += '}';
      return;
    }
    case rapidjson::kNumberType:
      if (v.IsInt64()) {
        out += std::to_string(v.GetInt64());
      } else if (v.IsUint64()) {
        out += std::to_string(v.GetUint64());
      } else {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.GetDouble());
        out.append(buf, ec == std::errc() ? end : buf);
      }
      return;
  }
}

inline void append_number(std::string& out, double v, bool integer) {
  if (!std::isfinite(v)) {
    v = 1;
  }
  if (integer) {
    v = std::clamp(v, -9.0e15, 9.0e15);
    out += std::to_string(static_cast<int64_t>(v));
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

enum class Type { unspecified, string, number, integer, boolean, array, object, null };

inline Type type_named(std::string_view name) {
  static constexpr std::pair<std::string_view, Type> kNames[] = {
      {"STRING", Type::string},   {"NUMBER", Type::number}, {"INTEGER", Type::integer},
      {"BOOLEAN", Type::boolean}, {"ARRAY", Type::array},   {"OBJECT", Type::object},
      {"NULL", Type::null}};
  for (const auto& [n, t] : kNames) {
    if (detail::iequals_ascii(name, n)) {
      return t;
    }
  }
  return Type::unspecified;
}

// The schema's type: a name in any case, Gemini's enum number, or JSON Schema's list (its
// first type other than null; null only if it has no other).
inline Type declared_type(const rapidjson::Value& schema) {
  const rapidjson::Value* t = field(schema, "type");
  if (t == nullptr) {
    return Type::unspecified;
  }
  if (t->IsString()) {
    return type_named({t->GetString(), t->GetStringLength()});
  }
  if (t->IsInt()) {
    static constexpr Type kByNumber[] = {Type::unspecified, Type::string,  Type::number,
                                         Type::integer,     Type::boolean, Type::array,
                                         Type::object,      Type::null};
    int n = t->GetInt();
    return n >= 0 && n < 8 ? kByNumber[n] : Type::unspecified;
  }
  if (t->IsArray()) {
    bool has_null = false;
    for (const auto& e : t->GetArray()) {
      Type one =
          e.IsString() ? type_named({e.GetString(), e.GetStringLength()}) : Type::unspecified;
      if (one == Type::null) {
        has_null = true;
      } else if (one != Type::unspecified) {
        return one;
      }
    }
    return has_null ? Type::null : Type::unspecified;
  }
  return Type::unspecified;
}

inline bool is_null_schema(const rapidjson::Value& schema) {
  return schema.IsObject() && declared_type(schema) == Type::null;
}

inline const rapidjson::Value* number_field(const rapidjson::Value& schema, std::string_view name) {
  const rapidjson::Value* v = field(schema, name);
  return v != nullptr && v->IsNumber() ? v : nullptr;
}

inline uint64_t count_field(const rapidjson::Value& schema, std::string_view name, uint64_t dflt) {
  int64_t n = int_field(schema, name, -1);
  return n < 0 ? dflt : static_cast<uint64_t>(n);
}

// The member `name` of an object, or nullptr.
inline const rapidjson::Value* member(const rapidjson::Value& obj, std::string_view name) {
  if (!obj.IsObject()) {
    return nullptr;
  }
  rapidjson::Value key(rapidjson::StringRef(name.data(), name.size()));
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// Where a JSON pointer ("#", "#/$defs/Node", with ~0 and ~1) leads from the root.
inline const rapidjson::Value* resolve_ref(const rapidjson::Value& root, std::string_view ref) {
  if (ref.empty() || ref[0] != '#') {
    return nullptr;
  }
  ref.remove_prefix(1);
  const rapidjson::Value* at = &root;
  while (!ref.empty()) {
    if (ref[0] != '/') {
      return nullptr;
    }
    ref.remove_prefix(1);
    size_t end = std::min(ref.find('/'), ref.size());
    std::string token;
    for (size_t i = 0; i < end; ++i) {
      if (ref[i] == '~' && i + 1 < end && (ref[i + 1] == '0' || ref[i + 1] == '1')) {
        token += ref[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += ref[i];
      }
    }
    ref.remove_prefix(end);
    if (at->IsObject()) {
      at = member(*at, token);
      if (at == nullptr) {
        return nullptr;
      }
    } else if (at->IsArray()) {
      size_t index = 0;
      auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
      if (ec != std::errc() || p != token.data() + token.size() || index >= at->Size()) {
        return nullptr;
      }
      at = &(*at)[static_cast<rapidjson::SizeType>(index)];
    } else {
      return nullptr;
    }
  }
  return at;
}

class Maker {
 public:
  Maker(const rapidjson::Value& root, std::string_view user_text)
      : root_(root), echo_("Echo: " + std::string(user_text)) {}

  void value(const rapidjson::Value& schema, int depth, std::string& out) {
    if (depth > kMaxDepth || ++values_ > kMaxValues) {
      out += cut_short(schema);
      return;
    }
    if (schema.IsFalse()) {
      out += "null";  // nothing validates; say so plainly
      return;
    }
    if (!schema.IsObject()) {
      append_string(out, echo_);  // true, or not a schema: anything goes
      return;
    }
    std::string_view ref = string_field(schema, "$ref");
    if (!ref.empty()) {
      const rapidjson::Value* target = resolve_ref(root_, ref);
      if (target != nullptr) {
        value(*target, depth + 1, out);
      } else {
        append_string(out, echo_);
      }
      return;
    }
    for (std::string_view alt : {std::string_view("anyOf"), std::string_view("oneOf")}) {
      const rapidjson::Value* alts = array_field(schema, alt);
      if (alts != nullptr) {
        value(first_not_null(*alts), depth + 1, out);
        return;
      }
    }
    if (const rapidjson::Value* c = field(schema, "const")) {
      append_value(out, *c);
      return;
    }
    if (const rapidjson::Value* e = array_field(schema, "enum")) {
      append_value(out, (*e)[0]);
      return;
    }
    switch (type_of(schema)) {
      case Type::null:
        out += "null";
        return;
      case Type::boolean:
        out += "true";
        return;
      case Type::number:
        number(schema, false, out);
        return;
      case Type::integer:
        number(schema, true, out);
        return;
      case Type::array:
        array(schema, depth, out);
        return;
      case Type::object:
        object(schema, depth, out);
        return;
      default:
        string(schema, out);
        return;
    }
  }

 private:
  static const rapidjson::Value& first_not_null(const rapidjson::Value& alts) {
    for (const auto& a : alts.GetArray()) {
      if (!is_null_schema(a)) {
        return a;
      }
    }
    return alts[0];
  }

  static Type type_of(const rapidjson::Value& schema) {
    Type t = declared_type(schema);
    if (t != Type::unspecified) {
      return t;
    }
    if (field(schema, "properties") != nullptr) {
      return Type::object;
    }
    if (field(schema, "items") != nullptr || field(schema, "prefixItems") != nullptr) {
      return Type::array;
    }
    return Type::string;
  }

  static std::string_view cut_short(const rapidjson::Value& schema) {
    switch (schema.IsObject() ? type_of(schema) : Type::null) {
      case Type::array:
        return "[]";
      case Type::object:
        return "{}";
      default:
        return "null";
    }
  }

  void string(const rapidjson::Value& schema, std::string& out) const {
    std::string_view format = string_field(schema, "format");
    std::string s = format == "date-time" ? "2025-01-01T00:00:00Z"
                    : format == "date"    ? "2025-01-01"
                    : format == "time"    ? "00:00:00"
                                          : echo_;
    // Lengths count characters, not bytes.
    uint64_t max_len = count_field(schema, "maxLength", UINT64_MAX);
    uint64_t min_len = std::min(count_field(schema, "minLength", 0), kMaxItems);
    uint64_t chars = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) {
        continue;
      }
      if (chars == max_len) {
        s.resize(i);
        break;
      }
      ++chars;
    }
    if (chars < min_len) {
      s.append(min_len - chars, '.');
    }
    append_string(out, s);
  }

  static void number(const rapidjson::Value& schema, bool integer, std::string& out) {
    double v = 1;
    const rapidjson::Value* min = number_field(schema, "minimum");
    const rapidjson::Value* max = number_field(schema, "maximum");
    const rapidjson::Value* xmin = number_field(schema, "exclusiveMinimum");
    const rapidjson::Value* xmax = number_field(schema, "exclusiveMaximum");
    double lo = -INFINITY;
    double hi = INFINITY;
    bool lo_open = false;
    bool hi_open = false;
    if (min != nullptr) {
      lo = min->GetDouble();
    }
    if (xmin != nullptr && xmin->GetDouble() >= lo) {
      lo = xmin->GetDouble();
      lo_open = true;
    }
    if (max != nullptr) {
      hi = max->GetDouble();
    }
    if (xmax != nullptr && xmax->GetDouble() <= hi) {
      hi = xmax->GetDouble();
      hi_open = true;
    }
    if (integer) {
      // The integer bounds: the smallest and largest integers inside.
      lo = lo_open ? std::floor(lo) + 1 : std::ceil(lo);
      hi = hi_open ? std::ceil(hi) - 1 : std::floor(hi);
      lo_open = hi_open = false;
    }
    bool below = lo_open ? v <= lo : v < lo;
    bool above = hi_open ? v >= hi : v > hi;
    if (below) {
      v = !lo_open ? lo : std::isfinite(hi) ? (lo + hi) / 2 : lo + 1;
    } else if (above) {
      v = !hi_open ? hi : std::isfinite(lo) ? (lo + hi) / 2 : hi - 1;
    }
    append_number(out, v, integer);
  }

  void array(const rapidjson::Value& schema, int depth, std::string& out) {
    std::vector<const rapidjson::Value*> item_schemas;
    const rapidjson::Value* items = field(schema, "items");
    const rapidjson::Value* prefix = field(schema, "prefixItems");
    if (prefix == nullptr && items != nullptr && items->IsArray()) {
      prefix = items;  // draft-07 tuples
      items = nullptr;
    }
    uint64_t min_items = std::min(count_field(schema, "minItems", 0), kMaxItems);
    uint64_t n = depth >= kFullDepth ? min_items : std::max<uint64_t>(1, min_items);
    n = std::min(n, count_field(schema, "maxItems", UINT64_MAX));
    if (prefix != nullptr && prefix->IsArray()) {
      n = std::max<uint64_t>(n, prefix->Size());
    }
    static const rapidjson::Value kAnything(rapidjson::kTrueType);
    out += '[';
    for (uint64_t i = 0; i < n; ++i) {
      out += i == 0 ? "" : ",";
      const rapidjson::Value* s = items != nullptr ? items : &kAnything;
      if (prefix != nullptr && prefix->IsArray() && i < prefix->Size()) {
        s = &(*prefix)[static_cast<rapidjson::SizeType>(i)];
      }
      value(*s, depth + 1, out);
    }
    out += ']';
  }

  void object(const rapidjson::Value& schema, int depth, std::string& out) {
    const rapidjson::Value* props = field(schema, "properties");
    if (props != nullptr && !props->IsObject()) {
      props = nullptr;
    }
    std::vector<std::string_view> required;
    if (const rapidjson::Value* req = array_field(schema, "required")) {
      for (const auto& r : req->GetArray()) {
        if (r.IsString()) {
          required.emplace_back(r.GetString(), r.GetStringLength());
        }
      }
    }
    auto is_required = [&](std::string_view name) {
      return std::find(required.begin(), required.end(), name) != required.end();
    };
    bool all = depth < kFullDepth;
    std::vector<std::string_view> names;
    auto add = [&](std::string_view name) {
      if (std::find(names.begin(), names.end(), name) == names.end() &&
          (all || is_required(name))) {
        names.push_back(name);
      }
    };
    auto prop = [&](std::string_view name) {
      return props != nullptr ? member(*props, name) : nullptr;
    };
    if (const rapidjson::Value* order = array_field(schema, "propertyOrdering")) {
      for (const auto& o : order->GetArray()) {
        if (o.IsString() && prop({o.GetString(), o.GetStringLength()}) != nullptr) {
          add({o.GetString(), o.GetStringLength()});
        }
      }
    }
    if (props != nullptr) {
      for (auto it = props->MemberBegin(); it != props->MemberEnd(); ++it) {
        add({it->name.GetString(), it->name.GetStringLength()});
      }
    }
    for (std::string_view r : required) {
      add(r);
    }
    static const rapidjson::Value kAnything(rapidjson::kTrueType);
    out += '{';
    for (size_t i = 0; i < names.size(); ++i) {
      out += i == 0 ? "" : ",";
      append_string(out, names[i]);
      out += ':';
      const rapidjson::Value* s = prop(names[i]);
      value(s != nullptr ? *s : kAnything, depth + 1, out);
    }
    out += '}';
  }

  const rapidjson::Value& root_;
  std::string echo_;
  uint64_t values_ = 0;
};

}  // namespace json_mode

// The JSON text of an answer in JSON mode: a value valid against `schema` (Gemini Schema or
// JSON Schema), or {"echo": <user_text>} without one.
inline std::string json_answer(const rapidjson::Value* schema, std::string_view user_text) {
  std::string out;
  if (schema == nullptr) {
    out = "{\"echo\":";
    json_mode::append_string(out, user_text);
    out += '}';
    return out;
  }
  json_mode::Maker(*schema, user_text).value(*schema, 0, out);
  return out;
}

}  // namespace gb::mock
