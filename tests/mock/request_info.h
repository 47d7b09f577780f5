// What the mock reads from a request body once proto_check.h accepted its shape:
//   - the checks Google makes beyond the JSON shape (WIRE.md §1.4, §7 item 3), each a
//     400 INVALID_ARGUMENT message;
//   - a summary that drives the answer: the text to echo (or, in JSON mode, the JSON value
//     of json_mode.h), token counts, thoughts, and whether to answer with a function call.
// Fields may arrive in camelCase or snake_case; null counts as absent.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "json_mode.h"
#include "models.h"
#include "request_fields.h"

namespace gb::mock {

inline uint64_t tokens_for_bytes(uint64_t bytes) {
  return (bytes + 3) / 4;
}

namespace detail {

constexpr std::string_view kDataFields[] = {
    "text",           "inlineData",         "fileData", "functionCall", "functionResponse",
    "executableCode", "codeExecutionResult"};

inline size_t count_parts_with(const rapidjson::Value& content, std::string_view camel) {
  const rapidjson::Value* parts = array_field(content, "parts");
  size_t n = 0;
  if (parts != nullptr) {
    for (const auto& p : parts->GetArray()) {
      n += field(p, camel) != nullptr ? 1 : 0;
    }
  }
  return n;
}

inline bool is_model_turn(const rapidjson::Value& content) {
  return string_field(content, "role") == "model";
}

inline void check_parts(const rapidjson::Value& contents, const std::string& where,
                        std::vector<std::string>* errors) {
  for (rapidjson::SizeType i = 0; i < contents.Size(); ++i) {
    const rapidjson::Value& c = contents[i];
    std::string at = where + ".contents[" + std::to_string(i) + "]";
    std::string_view role = string_field(c, "role");
    if (!role.empty() && role != "user" && role != "model") {
      errors->push_back("Please use a valid role: user, model.");
    }
    const rapidjson::Value* parts = array_field(c, "parts");
    if (parts == nullptr) {
      errors->push_back("* " + at + ".parts: contents.parts must not be empty.");
      continue;
    }
    for (rapidjson::SizeType j = 0; j < parts->Size(); ++j) {
      size_t set = 0;
      for (std::string_view f : kDataFields) {
        set += field((*parts)[j], f) != nullptr ? 1 : 0;
      }
      if (set == 0) {
        errors->push_back("* " + at + ".parts[" + std::to_string(j) +
                          "].data: required oneof field 'data' must have one initialized field");
      } else if (set > 1) {
        errors->push_back("Invalid JSON payload received. Oneof field 'data' is already set.");
      }
    }
  }
}

// Each model turn's function calls must be answered by as many function responses.
inline void check_call_response_counts(const rapidjson::Value& contents,
                                       std::vector<std::string>* errors) {
  for (rapidjson::SizeType i = 0; i + 1 < contents.Size(); ++i) {
    size_t calls = count_parts_with(contents[i], "functionCall");
    size_t responses = count_parts_with(contents[i + 1], "functionResponse");
    if (calls > 0 && responses > 0 && calls != responses) {
      errors->push_back(
          "Please ensure that the number of function response parts is equal to the number of "
          "function call parts of the function call turn.");
      return;
    }
  }
}

// Gemini 3 validates the signatures of the current turn: the model contents after the last
// user text. Only the first call of a turn carries one (parallel calls share it).
inline void check_thought_signatures(const rapidjson::Value& contents,
                                     std::vector<std::string>* errors) {
  rapidjson::SizeType start = 0;
  for (rapidjson::SizeType i = 0; i < contents.Size(); ++i) {
    if (!is_model_turn(contents[i]) && count_parts_with(contents[i], "text") > 0) {
      start = i + 1;
    }
  }
  for (rapidjson::SizeType i = start; i < contents.Size(); ++i) {
    const rapidjson::Value* parts = array_field(contents[i], "parts");
    if (!is_model_turn(contents[i]) || parts == nullptr) {
      continue;
    }
    for (const auto& p : parts->GetArray()) {
      const rapidjson::Value* call = field(p, "functionCall");
      if (call == nullptr) {
        continue;
      }
      if (string_field(p, "thoughtSignature").empty()) {
        errors->push_back(
            "Function call is missing a thought_signature in functionCall parts. This is "
            "required for tools to work correctly, and missing thought_signature may lead to "
            "degraded model performance. Additional data, function call `default_api:" +
            std::string(string_field(*call, "name")) + "` , position " + std::to_string(i + 1) +
            ". Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more "
            "details.");
        return;
      }
      break;
    }
  }
}

inline void check_tools(const rapidjson::Value& req, const std::string& where,
                        std::vector<std::string>* errors) {
  const rapidjson::Value* tools = array_field(req, "tools");
  if (tools == nullptr) {
    return;
  }
  for (rapidjson::SizeType t = 0; t < tools->Size(); ++t) {
    const rapidjson::Value* decls = array_field((*tools)[t], "functionDeclarations");
    for (rapidjson::SizeType d = 0; decls != nullptr && d < decls->Size(); ++d) {
      const rapidjson::Value* params = field((*decls)[d], "parameters");
      if (params == nullptr || !iequals_ascii(string_field(*params, "type"), "OBJECT")) {
        continue;
      }
      const rapidjson::Value* props = field(*params, "properties");
      if (props == nullptr || !props->IsObject() || props->ObjectEmpty()) {
        errors->push_back("* " + where + ".tools[" + std::to_string(t) +
                          "].function_declarations[" + std::to_string(d) +
                          "].parameters.properties: should be non-empty for OBJECT type");
      }
    }
  }
}

// responseSchema and responseJsonSchema are mutually exclusive (WIRE.md §1.4.5). Google's
// text for this refusal is not known; this one is ours.
inline void check_response_schemas(const rapidjson::Value& req, const std::string& where,
                                   std::vector<std::string>* errors) {
  const rapidjson::Value* gc = field(req, "generationConfig");
  if (gc != nullptr && field(*gc, "responseSchema") != nullptr &&
      field(*gc, "responseJsonSchema") != nullptr) {
    errors->push_back("* " + where +
                      ".generation_config.response_json_schema: response_json_schema and "
                      "response_schema cannot both be set");
  }
}

}  // namespace detail

// The semantic checks of generateContent, streamGenerateContent and the inner request of
// countTokens. Returns the messages of every failed check (empty: fine).
inline std::vector<std::string> check_generate_request(const rapidjson::Value& req,
                                                       std::string_view model) {
  static const std::string kWhere = "GenerateContentRequest";
  std::vector<std::string> errors;
  const rapidjson::Value* contents = array_field(req, "contents");
  if (contents == nullptr) {
    errors.push_back("* GenerateContentRequest.contents: contents is not specified");
    return errors;
  }
  detail::check_parts(*contents, kWhere, &errors);
  detail::check_call_response_counts(*contents, &errors);
  if (needs_thought_signatures(model)) {
    detail::check_thought_signatures(*contents, &errors);
  }
  detail::check_tools(req, kWhere, &errors);
  detail::check_response_schemas(req, kWhere, &errors);
  return errors;
}

inline std::vector<std::string> check_embed_request(const rapidjson::Value& req,
                                                    std::string_view where) {
  std::vector<std::string> errors;
  const rapidjson::Value* content = field(req, "content");
  if (content == nullptr) {
    errors.push_back("* " + std::string(where) + ".content: content is not specified");
  } else if (array_field(*content, "parts") == nullptr) {
    errors.push_back("* " + std::string(where) +
                     ".content.parts: contents.parts must not be empty.");
  }
  return errors;
}

inline std::vector<std::string> check_batch_embed_request(const rapidjson::Value& req,
                                                          std::string_view model) {
  std::vector<std::string> errors;
  const rapidjson::Value* requests = array_field(req, "requests");
  if (requests == nullptr) {
    errors.push_back("* BatchEmbedContentsRequest.requests: requests is not specified");
    return errors;
  }
  std::string expected = "models/" + std::string(model);
  for (rapidjson::SizeType i = 0; i < requests->Size(); ++i) {
    std::string where = "BatchEmbedContentsRequest.requests[" + std::to_string(i) + "]";
    std::string_view m = string_field((*requests)[i], "model");
    if (m != expected) {
      errors.push_back("* " + where + ".model: Model \"" + std::string(m) +
                       "\" does not match the model in the request path \"" + expected + "\".");
    }
    auto inner = check_embed_request((*requests)[i], where);
    errors.insert(errors.end(), inner.begin(), inner.end());
  }
  return errors;
}

// What shapes a generated answer.
struct PromptSummary {
  std::string last_user_text;  // the text parts of the last user content, concatenated
  uint64_t prompt_tokens = 0;
  bool include_thoughts = false;
  std::string function_name;  // non-empty: answer with a call to this function
  int64_t max_output_tokens = -1;
  bool json = false;      // JSON mode: the answer is json_text instead of the echo
  std::string json_text;  // json_mode.h
};

namespace detail {

// Tokens of one content: text by bytes, media at 258 each (an image's fixed price).
inline uint64_t content_tokens(const rapidjson::Value& content) {
  const rapidjson::Value* parts = array_field(content, "parts");
  if (parts == nullptr) {
    return 0;
  }
  uint64_t bytes = 0;
  uint64_t tokens = 0;
  for (const auto& p : parts->GetArray()) {
    bytes += string_field(p, "text").size();
    if (field(p, "inlineData") != nullptr || field(p, "fileData") != nullptr) {
      tokens += 258;
    }
    for (std::string_view f :
         {std::string_view("functionCall"), std::string_view("functionResponse")}) {
      const rapidjson::Value* fc = field(p, f);
      if (fc != nullptr) {
        bytes += string_field(*fc, "name").size() + 12;
      }
    }
  }
  return tokens + tokens_for_bytes(bytes);
}

inline uint64_t tools_tokens(const rapidjson::Value& req) {
  const rapidjson::Value* tools = array_field(req, "tools");
  uint64_t bytes = 0;
  for (rapidjson::SizeType t = 0; tools != nullptr && t < tools->Size(); ++t) {
    const rapidjson::Value* decls = array_field((*tools)[t], "functionDeclarations");
    for (rapidjson::SizeType d = 0; decls != nullptr && d < decls->Size(); ++d) {
      bytes += string_field((*decls)[d], "name").size() +
               string_field((*decls)[d], "description").size() + 16;
    }
  }
  return tokens_for_bytes(bytes);
}

inline std::string call_target(const rapidjson::Value& req) {
  const rapidjson::Value* tc = field(req, "toolConfig");
  const rapidjson::Value* fcc = tc != nullptr ? field(*tc, "functionCallingConfig") : nullptr;
  if (fcc == nullptr || !iequals_ascii(string_field(*fcc, "mode"), "ANY")) {
    return "";
  }
  const rapidjson::Value* allowed = array_field(*fcc, "allowedFunctionNames");
  if (allowed != nullptr && (*allowed)[0].IsString()) {
    return (*allowed)[0].GetString();
  }
  const rapidjson::Value* tools = array_field(req, "tools");
  for (rapidjson::SizeType t = 0; tools != nullptr && t < tools->Size(); ++t) {
    const rapidjson::Value* decls = array_field((*tools)[t], "functionDeclarations");
    if (decls != nullptr) {
      return std::string(string_field((*decls)[0], "name"));
    }
  }
  return "";
}

}  // namespace detail

inline uint64_t count_request_tokens(const rapidjson::Value& req) {
  uint64_t tokens = 0;
  if (const rapidjson::Value* contents = array_field(req, "contents")) {
    for (const auto& c : contents->GetArray()) {
      tokens += detail::content_tokens(c);
    }
  }
  if (const rapidjson::Value* sys = field(req, "systemInstruction")) {
    tokens += detail::content_tokens(*sys);
  }
  return tokens + detail::tools_tokens(req);
}

inline PromptSummary summarize_generate(const rapidjson::Value& req) {
  PromptSummary s;
  const rapidjson::Value* contents = array_field(req, "contents");
  for (rapidjson::SizeType i = contents != nullptr ? contents->Size() : 0; i-- > 0;) {
    const rapidjson::Value& c = (*contents)[i];
    if (detail::is_model_turn(c)) {
      continue;
    }
    if (const rapidjson::Value* parts = array_field(c, "parts")) {
      for (const auto& p : parts->GetArray()) {
        s.last_user_text += string_field(p, "text");
      }
    }
    break;
  }
  s.prompt_tokens = count_request_tokens(req);
  if (s.prompt_tokens == 0) {
    s.prompt_tokens = 1;
  }
  if (const rapidjson::Value* gc = field(req, "generationConfig")) {
    s.max_output_tokens = int_field(*gc, "maxOutputTokens", -1);
    if (const rapidjson::Value* tc = field(*gc, "thinkingConfig")) {
      const rapidjson::Value* inc = field(*tc, "includeThoughts");
      s.include_thoughts = inc != nullptr && inc->IsBool() && inc->GetBool();
    }
    if (detail::iequals_ascii(string_field(*gc, "responseMimeType"), "application/json")) {
      const rapidjson::Value* schema = field(*gc, "responseSchema");
      if (schema == nullptr) {
        schema = field(*gc, "responseJsonSchema");
      }
      s.json = true;
      s.json_text = json_answer(schema, s.last_user_text);
    }
  }
  s.function_name = detail::call_target(req);
  return s;
}

}  // namespace gb::mock
