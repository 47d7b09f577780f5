#include "llm/openai/schema.h"

#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace gb::llm::openai {

namespace {

using Value = rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

std::string_view sv(const Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

std::string join(const std::string& at, std::string_view key) {
  return at.empty() ? std::string(key) : at + "." + std::string(key);
}

std::string json_text(const Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

// Sets `name` on an object, replacing a value already there.
void put(Value* obj, const char* name, Value v, Alloc& a) {
  if (obj->HasMember(name)) {
    (*obj)[name] = std::move(v);
  } else {
    obj->AddMember(rapidjson::StringRef(name), std::move(v), a);
  }
}

bool is_count(const Value& v) {
  if (v.IsUint64()) {
    return true;
  }
  return v.IsDouble() && v.GetDouble() >= 0 && v.GetDouble() < 9.2e18 &&
         std::floor(v.GetDouble()) == v.GetDouble();
}

bool percent_decode(std::string_view in, std::string* out) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size() || hex(in[i + 1]) < 0 || hex(in[i + 2]) < 0) {
      return false;
    }
    *out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
    i += 2;
  }
  return true;
}

// JSON Schema type name -> Gemini's Type enum; "" for a name Gemini has no type for.
std::string_view gemini_type(std::string_view t) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"string", "STRING"},   {"number", "NUMBER"}, {"integer", "INTEGER"},
      {"boolean", "BOOLEAN"}, {"array", "ARRAY"},   {"object", "OBJECT"},
  };
  std::string lower(t);
  for (char& c : lower) {
    c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  for (const auto& [json, gemini] : kTypes) {
    if (lower == json) {
      return gemini;
    }
  }
  return "";
}

bool is_null_type(const Value& v) {
  return v.IsString() && (sv(v) == "null" || sv(v) == "NULL");
}

// The schema a node stands for: the node itself, then what its $ref and allOf bring in,
// in priority order. The first layer holding a key gives its value, except properties
// and required, which all layers contribute to.
using Layers = std::vector<const Value*>;

class Sanitizer {
 public:
  Sanitizer(const Value& root, Alloc& a, const SchemaOptions& opt)
      : root_(root), a_(a), opt_(opt) {}

  bool convert(const Value& in, Value* out, const std::string& at, int depth) {
    if (depth > kMaxSchemaDepth) {
      return fail(at,
                  "the schema nests deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    }
    if (++nodes_ > kMaxSchemaNodes) {
      return fail(at, "the schema holds more than " + std::to_string(kMaxSchemaNodes) +
                          " sub-schemas once its $ref are inlined");
    }
    Layers layers;
    size_t base = ref_stack_.size();
    bool ok = collect(in, at, &layers, base, 0) && shape(layers, out, at, depth);
    ref_stack_.resize(base);
    return ok;
  }

  // The root is being expanded from the start: a "#" below it is a recursion.
  bool convert_root(const Value& in, Value* out) {
    ref_stack_.push_back("#");
    return convert(in, out, "", 0);
  }

  std::string error;
  std::string at;

 private:
  bool fail(std::string where, std::string why) {
    at = std::move(where);
    error = std::move(why);
    return false;
  }

  const Value* resolve(std::string_view ref) const {
    if (ref == "#") {
      return &root_;
    }
    if (ref.substr(0, 2) != "#/") {
      return nullptr;
    }
    // RapidJSON's own URI-fragment reading refuses unencoded '$', which every "#/$defs/X"
    // holds: decode the fragment here and read the JSON Pointer it spells.
    std::string pointer;
    if (!percent_decode(ref.substr(1), &pointer)) {
      return nullptr;
    }
    rapidjson::Pointer p(pointer.data(), pointer.size());
    return p.IsValid() ? p.Get(root_) : nullptr;
  }

  // Refs pushed at or after `base` were met while collecting this same node: meeting one
  // again is a diamond (its layers are already in), not a recursion.
  bool collect(const Value& node, const std::string& where, Layers* layers, size_t base, int hops) {
    if (hops > kMaxSchemaDepth || layers->size() > 256) {
      return fail(where, "too many $ref and allOf levels");
    }
    if (node.IsBool()) {
      // true: anything (adds nothing); false: nothing, which no Gemini Schema says.
      return node.GetBool() || fail(where, "a false schema matches nothing");
    }
    if (!node.IsObject()) {
      return fail(where, "a schema must be an object");
    }
    // Every lookup walks each layer's members: a bound keeps a padded schema from
    // stalling the loop.
    if (node.MemberCount() > kMaxSchemaMembers) {
      return fail(where, "a schema object holds more than " + std::to_string(kMaxSchemaMembers) +
                             " members");
    }
    layers->push_back(&node);
    if (auto it = node.FindMember("$ref"); it != node.MemberEnd()) {
      if (!it->value.IsString()) {
        return fail(join(where, "$ref"), "$ref must be a string");
      }
      std::string ref(sv(it->value));
      const Value* target = resolve(ref);
      if (target == nullptr) {
        return fail(join(where, "$ref"), "cannot resolve \"" + ref +
                                             "\" (only references into the schema itself, "
                                             "\"#/...\", are followed)");
      }
      auto seen = std::find(ref_stack_.begin(), ref_stack_.end(), ref);
      if (seen != ref_stack_.end() && static_cast<size_t>(seen - ref_stack_.begin()) < base) {
        return fail(join(where, "$ref"),
                    "the recursive reference \"" + ref + "\" cannot be written as a Gemini Schema");
      }
      if (seen == ref_stack_.end()) {
        ref_stack_.push_back(ref);
        if (!collect(*target, where, layers, base, hops + 1)) {
          return false;
        }
      }
    }
    if (auto it = node.FindMember("allOf"); it != node.MemberEnd() && !it->value.IsNull()) {
      if (!it->value.IsArray()) {
        return fail(join(where, "allOf"), "allOf must be an array");
      }
      for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i) {
        std::string branch = join(where, "allOf[" + std::to_string(i) + "]");
        if (!collect(it->value[i], branch, layers, base, hops + 1)) {
          return false;
        }
      }
    }
    return true;
  }

  static const Value* key(const Layers& l, const char* name) {
    for (const Value* v : l) {
      auto it = v->FindMember(name);
      if (it != v->MemberEnd() && !it->value.IsNull()) {
        return &it->value;
      }
    }
    return nullptr;
  }

  bool shape(const Layers& l, Value* out, const std::string& where, int depth) {
    out->SetObject();
    bool nullable = false;
    if (const Value* n = key(l, "nullable"); n != nullptr && n->IsBool() && n->GetBool()) {
      nullable = true;
    }
    const Value* type = key(l, "type");
    const char* any_name = key(l, "anyOf") != nullptr ? "anyOf" : "oneOf";
    const Value* any = key(l, any_name);
    if (any != nullptr && type == nullptr && key(l, "properties") == nullptr) {
      return union_of(l, *any, join(where, any_name), out, where, depth, nullable);
    }
    std::vector<std::string_view> gemini;
    if (type != nullptr && !types(*type, join(where, "type"), &gemini, &nullable)) {
      return false;
    }
    if (gemini.size() >= 2) {
      // Each branch keeps the keys that apply to its type (items for ARRAY, ...).
      Value list(rapidjson::kArrayType);
      for (std::string_view t : gemini) {
        Value branch(rapidjson::kObjectType);
        if (!typed(l, t, &branch, where, depth, &nullable)) {
          return false;
        }
        list.PushBack(std::move(branch), a_);
      }
      out->AddMember("anyOf", std::move(list), a_);
    } else {
      std::string_view t = !gemini.empty() ? gemini[0] : type != nullptr ? "NULL" : inferred(l);
      if (!typed(l, t, out, where, depth, &nullable)) {
        return false;
      }
    }
    return generic(l, out, where, nullable);
  }

  // "type": a name or a list of names -> Gemini's names; "null" makes the schema nullable.
  bool types(const Value& type, const std::string& where, std::vector<std::string_view>* out,
             bool* nullable) {
    std::vector<std::string_view> names;
    if (type.IsString()) {
      names.push_back(sv(type));
    } else if (type.IsArray()) {
      for (const Value& t : type.GetArray()) {
        if (!t.IsString()) {
          return fail(where, "type must be a string or a list of strings");
        }
        names.push_back(sv(t));
      }
    } else {
      return fail(where, "type must be a string or a list of strings");
    }
    for (std::string_view t : names) {
      if (t == "null" || t == "NULL") {
        *nullable = true;
        continue;
      }
      std::string_view g = gemini_type(t);
      if (g.empty()) {
        return fail(where, "unknown type \"" + std::string(t) + "\"");
      }
      out->push_back(g);
    }
    return true;
  }

  // The type a schema without one implies ("" when nothing does).
  static std::string_view inferred(const Layers& l) {
    if (key(l, "properties") != nullptr) {
      return "OBJECT";
    }
    if (key(l, "items") != nullptr) {
      return "ARRAY";
    }
    if (key(l, "enum") != nullptr || key(l, "const") != nullptr) {
      return "STRING";
    }
    return "";
  }

  // anyOf / oneOf without a type of its own: null branches make it nullable; a single
  // branch left becomes the schema, with the parent's descriptive keys on top.
  bool union_of(const Layers& l, const Value& any, const std::string& any_at, Value* out,
                const std::string& where, int depth, bool nullable) {
    if (!any.IsArray()) {
      return fail(any_at, "anyOf and oneOf must be arrays");
    }
    std::vector<rapidjson::SizeType> keep;
    for (rapidjson::SizeType i = 0; i < any.Size(); ++i) {
      const Value& b = any[i];
      auto t = b.IsObject() ? b.FindMember("type") : Value::ConstMemberIterator();
      if (b.IsObject() && t != b.MemberEnd() && is_null_type(t->value)) {
        nullable = true;
      } else {
        keep.push_back(i);
      }
    }
    if (keep.size() == 1) {
      std::string b_at = any_at + "[" + std::to_string(keep[0]) + "]";
      return convert(any[keep[0]], out, b_at, depth + 1) && generic(l, out, where, nullable);
    }
    if (keep.empty()) {
      out->AddMember("type", "NULL", a_);
      return generic(l, out, where, false);
    }
    Value list(rapidjson::kArrayType);
    for (rapidjson::SizeType i : keep) {
      Value b;
      if (!convert(any[i], &b, any_at + "[" + std::to_string(i) + "]", depth + 1)) {
        return false;
      }
      list.PushBack(std::move(b), a_);
    }
    out->AddMember("anyOf", std::move(list), a_);
    return generic(l, out, where, nullable);
  }

  // title, description, example and nullable: they apply whatever the type.
  bool generic(const Layers& l, Value* out, const std::string& where, bool nullable) {
    // A $ref copies its target's texts each time it is used: what is copied is counted,
    // so that many refs to one long description cannot multiply it without bound.
    for (const char* name : {"title", "description"}) {
      if (const Value* v = key(l, name)) {
        if (!v->IsString()) {
          return fail(join(where, name), std::string(name) + " must be a string");
        }
        copied_ += v->GetStringLength();
        if (copied_ > kMaxSchemaCopied) {
          return fail(where, "the schema's texts, with every $ref expanded, exceed " +
                                 std::to_string(kMaxSchemaCopied >> 20) + " MiB");
        }
        put(out, name, Value(*v, a_), a_);
      }
    }
    // A scalar example is kept and counted like the texts; an object or array one is left
    // out (its copies could not be counted cheaply, and it guides no call).
    if (const Value* v = key(l, "example"); v != nullptr && !v->IsObject() && !v->IsArray()) {
      copied_ += v->IsString() ? v->GetStringLength() : 8;
      if (copied_ > kMaxSchemaCopied) {
        return fail(where, "the schema's texts, with every $ref expanded, exceed " +
                               std::to_string(kMaxSchemaCopied >> 20) + " MiB");
      }
      put(out, "example", Value(*v, a_), a_);
    }

    if (nullable) {
      put(out, "nullable", Value(true), a_);
    }
    return true;
  }

  bool count(const Layers& l, const char* name, Value* out, const std::string& where) {
    if (const Value* v = key(l, name)) {
      if (!is_count(*v)) {
        return fail(join(where, name), std::string(name) + " must be a non-negative integer");
      }
      uint64_t n = v->IsUint64() ? v->GetUint64() : static_cast<uint64_t>(v->GetDouble());
      out->AddMember(rapidjson::StringRef(name), Value(n), a_);
    }
    return true;
  }

  bool typed(const Layers& l, std::string_view t, Value* out, const std::string& where, int depth,
             bool* nullable) {
    if (!t.empty()) {
      out->AddMember("type", Value(rapidjson::StringRef(t.data(), t.size())), a_);
    }
    if (t == "STRING") {
      return strings(l, out, where, nullable);
    }
    if (t == "NUMBER" || t == "INTEGER") {
      for (const char* name : {"minimum", "maximum"}) {
        if (const Value* v = key(l, name)) {
          if (!v->IsNumber()) {
            return fail(join(where, name), std::string(name) + " must be a number");
          }
          out->AddMember(rapidjson::StringRef(name), Value(*v, a_), a_);
        }
      }
      return true;
    }
    if (t == "ARRAY") {
      return items(l, out, where, depth) && count(l, "minItems", out, where) &&
             count(l, "maxItems", out, where);
    }
    if (t == "OBJECT") {
      return properties(l, out, where, depth) && count(l, "minProperties", out, where) &&
             count(l, "maxProperties", out, where);
    }
    return true;
  }

  bool strings(const Layers& l, Value* out, const std::string& where, bool* nullable) {
    if (const Value* f = key(l, "format");
        f != nullptr && f->IsString() && (sv(*f) == "enum" || sv(*f) == "date-time")) {
      out->AddMember("format", Value(*f, a_), a_);
    }
    Value values(rapidjson::kArrayType);
    if (const Value* e = key(l, "enum")) {
      if (!e->IsArray()) {
        return fail(join(where, "enum"), "enum must be an array");
      }
      for (const Value& v : e->GetArray()) {
        if (v.IsNull()) {
          *nullable = true;
        } else if (v.IsString()) {
          values.PushBack(Value(v, a_), a_);
        } else if (v.IsNumber() || v.IsBool()) {
          std::string text = json_text(v);
          values.PushBack(Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), a_),
                          a_);
        } else {
          return fail(join(where, "enum"), "enum values must be strings, numbers or booleans");
        }
      }
    } else if (const Value* c = key(l, "const"); c != nullptr && c->IsString()) {
      values.PushBack(Value(*c, a_), a_);
    }
    if (!values.Empty()) {
      out->AddMember("enum", std::move(values), a_);
    }
    if (!count(l, "minLength", out, where) || !count(l, "maxLength", out, where)) {
      return false;
    }
    if (const Value* p = key(l, "pattern")) {
      if (!p->IsString()) {
        return fail(join(where, "pattern"), "pattern must be a string");
      }
      out->AddMember("pattern", Value(*p, a_), a_);
    }
    return true;
  }

  bool items(const Layers& l, Value* out, const std::string& where, int depth) {
    const Value* it = key(l, "items");
    Value v;
    if (it == nullptr || !it->IsObject() || it->ObjectEmpty()) {
      v.SetObject();
      v.AddMember("type", "STRING", a_);
    } else if (!convert(*it, &v, join(where, "items"), depth + 1)) {
      return false;
    }
    out->AddMember("items", std::move(v), a_);
    return true;
  }

  // Property names, in declaration order, with the schema each names (first layer wins).
  // Sets keep this linear: a hostile schema may hold a million names.
  struct Entries {
    std::vector<std::pair<std::string_view, const Value*>> list;
    std::unordered_set<std::string_view> names;
  };

  bool properties(const Layers& l, Value* out, const std::string& where, int depth) {
    Entries entries;
    for (const Value* layer : l) {
      auto p = layer->FindMember("properties");
      if (p == layer->MemberEnd() || p->value.IsNull()) {
        continue;
      }
      if (!p->value.IsObject()) {
        return fail(join(where, "properties"), "properties must be an object");
      }
      for (auto m = p->value.MemberBegin(); m != p->value.MemberEnd(); ++m) {
        if (!m->value.IsNull() && entries.names.insert(sv(m->name)).second) {
          entries.list.emplace_back(sv(m->name), &m->value);
        }
      }
      if (entries.list.size() > kMaxSchemaNodes) {
        return fail(join(where, "properties"),
                    "more than " + std::to_string(kMaxSchemaNodes) + " properties");
      }
    }
    if (entries.list.empty()) {
      return true;
    }
    Value props(rapidjson::kObjectType);
    Value order(rapidjson::kArrayType);
    for (const auto& [name, schema] : entries.list) {
      Value v;
      if (!convert(*schema, &v, join(join(where, "properties"), name), depth + 1)) {
        return false;
      }
      props.AddMember(Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), a_),
                      std::move(v), a_);
      order.PushBack(Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), a_), a_);
    }
    out->AddMember("properties", std::move(props), a_);
    if (!required(l, entries, out, where)) {
      return false;
    }
    if (opt_.property_ordering) {
      out->AddMember("propertyOrdering", std::move(order), a_);
    }
    return true;
  }

  bool required(const Layers& l, const Entries& entries, Value* out, const std::string& where) {
    Value list(rapidjson::kArrayType);
    std::unordered_set<std::string_view> listed;
    for (const Value* layer : l) {
      auto r = layer->FindMember("required");
      if (r == layer->MemberEnd() || r->value.IsNull()) {
        continue;
      }
      if (!r->value.IsArray()) {
        return fail(join(where, "required"), "required must be a list of property names");
      }
      for (const Value& n : r->value.GetArray()) {
        if (!n.IsString()) {
          return fail(join(where, "required"), "required must be a list of property names");
        }
        if (entries.names.count(sv(n)) > 0 && listed.insert(sv(n)).second) {
          list.PushBack(Value(n, a_), a_);
        }
      }
    }
    if (!list.Empty()) {
      out->AddMember("required", std::move(list), a_);
    }
    return true;
  }

  const Value& root_;
  Alloc& a_;
  const SchemaOptions& opt_;
  std::vector<std::string> ref_stack_;  // the $refs being inlined on the current path
  size_t nodes_ = 0;
  size_t copied_ = 0;  // bytes of titles and descriptions copied
};

}  // namespace

SchemaResult sanitize_schema(const Value& json_schema, Alloc& alloc, const SchemaOptions& opt) {
  SchemaResult r;
  Sanitizer s(json_schema, alloc, opt);
  r.ok = s.convert_root(json_schema, &r.schema);
  if (!r.ok) {
    r.schema.SetNull();
    r.error = std::move(s.error);
    r.at = std::move(s.at);
  }
  return r;
}

bool schema_without_properties(const Value& s) {
  if (!s.IsObject() || s.HasMember("anyOf")) {
    return false;
  }
  auto type = s.FindMember("type");
  if (type != s.MemberEnd() && !(type->value.IsString() && sv(type->value) == "OBJECT")) {
    return false;
  }
  auto props = s.FindMember("properties");
  return props == s.MemberEnd() || !props->value.IsObject() || props->value.ObjectEmpty();
}

}  // namespace gb::llm::openai
