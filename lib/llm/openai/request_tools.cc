#include "llm/openai/request_tools.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "llm/openai/schema.h"

namespace gb::llm::openai::req {

namespace {

// Gemini's rule for function names (WIRE.md §1.4.3).
bool gemini_function_name(std::string_view n) {
  if (n.empty() || n.size() > 128) {
    return false;
  }
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(n[0]) && n[0] != '_') {
    return false;
  }
  for (char c : n) {
    bool ok = letter(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

struct Decl {
  std::string name;
  Value value;  // the FunctionDeclaration
};

bool declaration(const Value& tool, const std::string& at, Alloc& a, Decl* out, RequestError* err) {
  if (!tool.IsObject()) {
    return fail(err, bad_type(at, "an object"));
  }
  // The type first: a custom tool is refused as such, not for its unknown fields.
  std::optional<std::string_view> type;
  const Value* fn = nullptr;
  if (!read_string(tool, "type", at, &type, err)) {
    return false;
  }
  if (!type) {
    return fail(err, missing(field_path(at, "type")));
  }
  if (*type != "function") {
    return fail(
        err, unsupported(field_path(at, "type"),
                         "only function tools exist on Gemini, not '" + std::string(*type) + "'"));
  }
  if (!only_known(tool, {"type", "function"}, at, err) ||
      !read_object(tool, "function", at, &fn, err)) {
    return false;
  }
  std::string fn_at = field_path(at, "function");
  if (fn == nullptr) {
    return fail(err, missing(fn_at));
  }
  std::optional<std::string_view> name;
  std::optional<std::string_view> description;
  std::optional<bool> strict;
  const Value* params = nullptr;
  if (!only_known(*fn, {"name", "description", "parameters", "strict"}, fn_at, err) ||
      !read_string(*fn, "name", fn_at, &name, err) ||
      !read_string(*fn, "description", fn_at, &description, err) ||
      !read_bool(*fn, "strict", fn_at, &strict, err) ||
      !read_object(*fn, "parameters", fn_at, &params, err)) {
    return false;
  }
  if (!name) {
    return fail(err, missing(field_path(fn_at, "name")));
  }
  if (!gemini_function_name(*name)) {
    return fail(err, bad_value(field_path(fn_at, "name"),
                               "Gemini needs a name that starts with a letter or '_' and holds "
                               "only letters, digits, '_', '.', ':' and '-' (at most 128)"));
  }
  out->name = std::string(*name);
  out->value.SetObject();
  out->value.AddMember("name", str(*name, a), a);
  if (description) {
    out->value.AddMember("description", str(*description, a), a);
  }
  if (params != nullptr) {
    SchemaResult s = sanitize_schema(*params, a);
    if (!s.ok) {
      std::string p = field_path(field_path(fn_at, "parameters"), s.at);
      return fail(err, bad_value(p, s.error));
    }
    if (!schema_without_properties(s.schema)) {
      out->value.AddMember("parameters", std::move(s.schema), a);
    }
  }
  return true;
}

bool web_search(const Value& req, bool* on, RequestError* err) {
  const Value* ws = nullptr;
  if (!read_object(req, "web_search_options", "", &ws, err)) {
    return false;
  }
  *on = ws != nullptr;
  if (ws == nullptr) {
    return true;
  }
  std::optional<std::string_view> size;
  if (!only_known(*ws, {"search_context_size", "user_location"}, "web_search_options", err) ||
      !read_string(*ws, "search_context_size", "web_search_options", &size, err)) {
    return false;
  }
  if (size && *size != "low" && *size != "medium" && *size != "high") {
    return fail(
        err, bad_value("web_search_options.search_context_size", "expected low, medium or high"));
  }
  if (find(*ws, "user_location") != nullptr) {
    return fail(err, unsupported("web_search_options.user_location",
                                 "Gemini's Google Search tool takes no location"));
  }
  return true;
}

bool declared(const std::vector<Decl>& decls, std::string_view name) {
  return std::any_of(decls.begin(), decls.end(), [&](const Decl& d) { return d.name == name; });
}

// The function name in {type: function, function: {name}} (a tool_choice, or an entry of
// allowed_tools.tools), which must be declared.
bool chosen_name(const Value& v, const std::string& at, const std::vector<Decl>& decls,
                 std::string* out, RequestError* err) {
  if (!v.IsObject()) {
    return fail(err, bad_type(at, "an object"));
  }
  std::optional<std::string_view> type;
  const Value* fn = nullptr;
  if (!read_string(v, "type", at, &type, err)) {
    return false;
  }
  if (type != "function") {
    return fail(err, unsupported(field_path(at, "type"), "only function tools exist on Gemini"));
  }
  if (!only_known(v, {"type", "function"}, at, err) || !read_object(v, "function", at, &fn, err)) {
    return false;
  }
  std::string fn_at = field_path(at, "function");
  std::optional<std::string_view> name;
  if (fn == nullptr) {
    return fail(err, missing(fn_at));
  }
  // An allowed_tools entry may repeat the whole definition; only the name matters here.
  if (!only_known(*fn, {"name", "description", "parameters", "strict"}, fn_at, err) ||
      !read_string(*fn, "name", fn_at, &name, err)) {
    return false;
  }
  if (!name) {
    return fail(err, missing(field_path(fn_at, "name")));
  }
  if (!declared(decls, *name)) {
    return fail(err, bad_value(field_path(fn_at, "name"),
                               "no function named '" + std::string(*name) + "' is in tools"));
  }
  *out = std::string(*name);
  return true;
}

struct Choice {
  std::string_view mode;  // "" = no toolConfig
  std::vector<std::string> allowed;
  bool cut_declarations = false;  // keep only `allowed` in the declarations
};

bool allowed_tools(const Value& choice, const std::vector<Decl>& decls, Choice* out,
                   RequestError* err) {
  constexpr std::string_view kAt = "tool_choice.allowed_tools";
  const Value* at = nullptr;
  if (!only_known(choice, {"type", "allowed_tools"}, "tool_choice", err) ||
      !read_object(choice, "allowed_tools", "tool_choice", &at, err)) {
    return false;
  }
  if (at == nullptr) {
    return fail(err, missing(std::string(kAt)));
  }
  std::optional<std::string_view> mode;
  if (!only_known(*at, {"mode", "tools"}, kAt, err) || !read_string(*at, "mode", kAt, &mode, err)) {
    return false;
  }
  if (mode != "auto" && mode != "required") {
    return fail(err, bad_value(field_path(kAt, "mode"), "expected auto or required"));
  }
  const Value* tools = find(*at, "tools");
  if (tools == nullptr || !tools->IsArray() || tools->Empty()) {
    return fail(err, bad_value(field_path(kAt, "tools"), "expected a non-empty array of tools"));
  }
  if (tools->Size() > kMaxTools) {
    return fail(err, too_large(field_path(kAt, "tools"),
                               "more than " + std::to_string(kMaxTools) + " tools"));
  }
  for (rapidjson::SizeType i = 0; i < tools->Size(); ++i) {
    std::string name;
    std::string entry = index_path(field_path(kAt, "tools"), i);
    if (!chosen_name((*tools)[i], entry, decls, &name, err)) {
      return false;
    }
    out->allowed.push_back(std::move(name));
  }
  out->mode = *mode == "required" ? "ANY" : "AUTO";
  out->cut_declarations = *mode == "auto";
  return true;
}

bool tool_choice(const Value& req, const std::vector<Decl>& decls, Choice* out, RequestError* err) {
  const Value* choice = find(req, "tool_choice");
  if (choice == nullptr) {
    return true;
  }
  if (choice->IsString()) {
    std::string_view c = sv(*choice);
    if (c != "none" && c != "auto" && c != "required") {
      return fail(err, bad_value("tool_choice", "expected none, auto, required or an object"));
    }
    if (decls.empty()) {
      return c == "required" ? fail(err, bad_value("tool_choice", "'required' needs tools")) : true;
    }
    out->mode = c == "none" ? "NONE" : c == "auto" ? "AUTO" : "ANY";
    return true;
  }
  if (!choice->IsObject()) {
    return fail(err, bad_type("tool_choice", "a string or an object"));
  }
  std::optional<std::string_view> type;
  if (!read_string(*choice, "type", "tool_choice", &type, err)) {
    return false;
  }
  if (type == "allowed_tools") {
    return allowed_tools(*choice, decls, out, err);
  }
  if (type == "function") {
    std::string name;
    if (!chosen_name(*choice, "tool_choice", decls, &name, err)) {
      return false;
    }
    out->mode = "ANY";
    out->allowed.push_back(std::move(name));
    return true;
  }
  if (type == "custom") {
    return fail(err, unsupported("tool_choice.type", "custom tools do not exist on Gemini"));
  }
  return fail(err, bad_value("tool_choice.type", "expected function or allowed_tools"));
}

Value strings(const std::vector<std::string>& list, Alloc& a) {
  Value v(rapidjson::kArrayType);
  for (const std::string& s : list) {
    v.PushBack(str(s, a), a);
  }
  return v;
}

}  // namespace

bool translate_tools(const Value& req, rapidjson::Document* body, RequestError* err) {
  Alloc& a = body->GetAllocator();
  std::vector<Decl> decls;
  if (const Value* tools = find(req, "tools")) {
    if (!tools->IsArray()) {
      return fail(err, bad_type("tools", "an array"));
    }
    if (tools->Size() > kMaxTools) {
      return fail(err, too_large("tools", "more than " + std::to_string(kMaxTools) + " tools"));
    }
    for (rapidjson::SizeType i = 0; i < tools->Size(); ++i) {
      Decl d;
      std::string at = index_path("tools", i);
      if (!declaration((*tools)[i], at, a, &d, err)) {
        return false;
      }
      if (declared(decls, d.name)) {
        return fail(
            err, bad_value(field_path(at, "function.name"), "'" + d.name + "' is declared twice"));
      }
      decls.push_back(std::move(d));
    }
  }
  bool search = false;
  Choice choice;
  if (!web_search(req, &search, err) || !tool_choice(req, decls, &choice, err)) {
    return false;
  }
  Value list(rapidjson::kArrayType);
  Value fns(rapidjson::kArrayType);
  for (Decl& d : decls) {
    bool allowed =
        std::find(choice.allowed.begin(), choice.allowed.end(), d.name) != choice.allowed.end();
    if (!choice.cut_declarations || allowed) {
      fns.PushBack(std::move(d.value), a);
    }
  }
  if (!fns.Empty()) {
    Value t(rapidjson::kObjectType);
    t.AddMember("functionDeclarations", std::move(fns), a);
    list.PushBack(std::move(t), a);
  }
  if (search) {
    Value t(rapidjson::kObjectType);
    t.AddMember("googleSearch", Value(rapidjson::kObjectType), a);
    list.PushBack(std::move(t), a);
  }
  if (!list.Empty()) {
    body->AddMember("tools", std::move(list), a);
  }
  if (!choice.mode.empty()) {
    Value fcc(rapidjson::kObjectType);
    fcc.AddMember("mode", Value(rapidjson::StringRef(choice.mode.data(), choice.mode.size())), a);
    if (!choice.allowed.empty() && !choice.cut_declarations) {
      fcc.AddMember("allowedFunctionNames", strings(choice.allowed, a), a);
    }
    Value tc(rapidjson::kObjectType);
    tc.AddMember("functionCallingConfig", std::move(fcc), a);
    body->AddMember("toolConfig", std::move(tc), a);
  }
  return true;
}

}  // namespace gb::llm::openai::req
