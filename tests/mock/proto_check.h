// Checks a parsed request body the way Google's proto3-JSON transcoder does (WIRE.md §0.1):
// unknown names, a list where a single value belongs, and values of the wrong type are
// 400 INVALID_ARGUMENT with one BadRequest field violation each. Both camelCase and
// snake_case names are accepted, and null means "unset" for any field.
//
// Paths in messages use the proto (snake_case) names and index map entries as
// `properties[0].value`, as Google prints them.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "proto_schema.h"

namespace gb::mock {

class ProtoChecker {
 public:
  // Walks `obj` (a JSON object) against `type`; violations accumulate.
  void check(const rapidjson::Value& obj, const MessageType& type) { walk(obj, type, nullptr); }

  bool ok() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }
  // All descriptions, one per line, as Google joins them in `message`.
  std::string message() const {
    std::string out;
    for (const FieldViolation& v : violations_) {
      if (!out.empty()) {
        out += '\n';
      }
      out += v.description;
    }
    return out;
  }

 private:
  static constexpr size_t kMaxViolations = 20;

  // A location in the request, kept as a chain of stack frames; it becomes a string only
  // when a violation names it, so a valid body costs no allocation here.
  struct Path {
    const Path* parent = nullptr;
    std::string_view name;   // proto (snake_case) field name
    int64_t index = -1;      // element of a repeated field or map entry
    bool map_value = false;  // `name[index].value`

    std::string str() const {
      std::string out = parent != nullptr ? parent->str() : std::string();
      if (!out.empty()) {
        out += '.';
      }
      out += name;
      if (index >= 0) {
        out += "[" + std::to_string(index) + "]";
      }
      if (map_value) {
        out += ".value";
      }
      return out;
    }
  };
  static std::string str(const Path* p) { return p != nullptr ? p->str() : std::string(); }

  void add(std::string field, std::string description) {
    if (violations_.size() < kMaxViolations) {
      violations_.push_back({std::move(field), std::move(description)});
    }
  }

  void unknown_name(std::string_view key, const Path* at, std::string_view why) {
    std::string path = str(at);
    std::string d = "Invalid JSON payload received. Unknown name \"" + std::string(key) + "\"";
    if (!path.empty()) {
      d += " at '" + path + "'";
    }
    d += ": ";
    d += why;
    add(path, std::move(d));
  }

  static std::string render(const rapidjson::Value& v) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    v.Accept(w);
    std::string s(sb.GetString(), sb.GetSize());
    if (s.size() > 200) {
      s.resize(200);
      s += "...";
    }
    return s;
  }

  static std::string type_label(const FieldSpec& f) {
    static constexpr std::string_view kPackage =
        "type.googleapis.com/google.ai.generativelanguage.v1beta.";
    switch (f.kind) {
      case FieldKind::message:
      case FieldKind::schema_map:
        return std::string(kPackage) + std::string(f.type().name);
      case FieldKind::string:
        return "TYPE_STRING";
      case FieldKind::boolean:
        return "TYPE_BOOL";
      case FieldKind::int32:
        return "TYPE_INT32";
      case FieldKind::int64:
        return "TYPE_INT64";
      case FieldKind::number:
        return "TYPE_FLOAT";
      case FieldKind::enumeration:
        return std::string(kPackage) + std::string(f.enum_name);
      case FieldKind::bytes:
        return "TYPE_BYTES";
      case FieldKind::structure:
        return "type.googleapis.com/google.protobuf.Struct";
      case FieldKind::any:
        return "type.googleapis.com/google.protobuf.Value";
    }
    return "TYPE_UNKNOWN";
  }

  void invalid_value(const Path& at, const FieldSpec& f, const rapidjson::Value& v) {
    std::string path = at.str();
    add(path, "Invalid value at '" + path + "' (" + type_label(f) + "), " + render(v));
  }

  static bool is_integer_text(std::string_view s) {
    if (!s.empty() && s.front() == '-') {
      s.remove_prefix(1);
    }
    if (s.empty() || s.size() > 20) {
      return false;
    }
    for (char c : s) {
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  static bool is_number_text(std::string_view s) {
    if (s == "NaN" || s == "Infinity" || s == "-Infinity") {
      return true;
    }
    rapidjson::Document d;
    d.Parse(s.data(), s.size());
    return !d.HasParseError() && d.IsNumber();
  }

  // Standard or URL-safe alphabet, padded or not (WIRE.md §0.1).
  static bool is_base64(std::string_view s) {
    size_t n = s.size();
    while (n > 0 && s[n - 1] == '=') {
      --n;
    }
    if (s.size() - n > 2 || n % 4 == 1) {
      return false;
    }
    for (size_t i = 0; i < n; ++i) {
      char c = s[i];
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '+' || c == '/' || c == '-' || c == '_';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  bool scalar_ok(const FieldSpec& f, const rapidjson::Value& v) const {
    switch (f.kind) {
      case FieldKind::string:
        return v.IsString();
      case FieldKind::boolean:
        return v.IsBool();
      case FieldKind::int32:
      case FieldKind::int64:
        if (v.IsString()) {
          return is_integer_text({v.GetString(), v.GetStringLength()});
        }
        if (v.IsDouble()) {
          double d = v.GetDouble();
          return d == static_cast<double>(static_cast<long long>(d));
        }
        return v.IsInt64() || v.IsUint64();
      case FieldKind::number:
        return v.IsNumber() ||
               (v.IsString() && is_number_text({v.GetString(), v.GetStringLength()}));
      case FieldKind::enumeration:
        return v.IsString() || v.IsInt64();
      case FieldKind::structure:
        return v.IsObject();
      case FieldKind::any:
        return true;
      default:
        return false;
    }
  }

  void check_one(const rapidjson::Value& v, const FieldSpec& f, const Path& path) {
    switch (f.kind) {
      case FieldKind::message:
        if (!v.IsObject()) {
          invalid_value(path, f, v);
          return;
        }
        walk(v, f.type(), &path);
        return;
      case FieldKind::schema_map: {
        if (!v.IsObject()) {
          invalid_value(path, f, v);
          return;
        }
        size_t i = 0;
        for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it, ++i) {
          Path entry{path.parent, path.name, static_cast<int64_t>(i), true};
          if (it->value.IsNull()) {
            continue;
          }
          if (!it->value.IsObject()) {
            invalid_value(entry, f, it->value);
            continue;
          }
          walk(it->value, f.type(), &entry);
        }
        return;
      }
      case FieldKind::bytes:
        if (!v.IsString()) {
          invalid_value(path, f, v);
        } else if (!is_base64({v.GetString(), v.GetStringLength()})) {
          std::string at = path.str();
          add(at, "Invalid value at '" + at + "' (TYPE_BYTES), Base64 decoding failed for " +
                      render(v));
        }
        return;
      default:
        if (!scalar_ok(f, v)) {
          invalid_value(path, f, v);
        }
        return;
    }
  }

  void walk(const rapidjson::Value& obj, const MessageType& type, const Path* path) {
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
      std::string_view key(it->name.GetString(), it->name.GetStringLength());
      const FieldSpec* f = type.find(key);
      if (f == nullptr) {
        unknown_name(key, path, "Cannot find field.");
        continue;
      }
      const rapidjson::Value& v = it->value;
      if (v.IsNull()) {
        continue;
      }
      Path fpath{path, f->snake};
      if (!f->repeated) {
        if (v.IsArray() && f->kind != FieldKind::any) {  // a Value may hold a list
          unknown_name(key, path, "Proto field is not repeating, cannot start list.");
        } else {
          check_one(v, *f, fpath);
        }
        continue;
      }
      if (!v.IsArray()) {
        invalid_value(fpath, *f, v);
        continue;
      }
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        if (!v[i].IsNull()) {
          check_one(v[i], *f, Path{path, f->snake, static_cast<int64_t>(i)});
        }
      }
    }
  }

  std::vector<FieldViolation> violations_;
};

}  // namespace gb::mock
