// Requests to Gemini's OpenAI-compatible layer (WIRE.md §3), as the mock reads them:
//   - the paths under /v1beta/openai/, the Bearer key and the refusal of a missing or
//     malformed one;
//   - the checks made once proto_check.h accepted the body's shape (model and messages
//     present, roles, reasoning_effort, embedding input), each a 400 message;
//   - the summary that drives the answer: the same PromptSummary as a Gemini request, so
//     that the text (JSON mode included), the token counts and the stream's pieces follow
//     the native rules.
// Field names arrive in snake_case (OpenAI's) or camelCase (the transcoder takes both).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "request_info.h"
#include "route.h"

namespace gb::mock {

inline constexpr std::string_view kOpenAiPrefix = "/v1beta/openai/";

inline bool is_openai_path(std::string_view path) {
  return path.substr(0, kOpenAiPrefix.size()) == kOpenAiPrefix;
}

// POST chat/completions, POST embeddings, GET models, GET models/{model} under
// /v1beta/openai/. For models.get, r->model is the rest of the path ("gemini-2.5-flash" or
// "models/gemini-2.5-flash"). False when the path or the verb names no method we serve.
inline bool parse_openai_route(std::string_view http_method, std::string_view path, Route* r) {
  if (!is_openai_path(path)) {
    return false;
  }
  std::string_view rest = path.substr(kOpenAiPrefix.size());
  r->version = "v1beta";
  r->model = {};
  if (rest == "chat/completions") {
    r->method = ApiMethod::openai_chat;
    return http_method == "POST";
  }
  if (rest == "embeddings") {
    r->method = ApiMethod::openai_embeddings;
    return http_method == "POST";
  }
  if (rest == "models" || (rest.substr(0, 7) == "models/" && rest.size() > 7)) {
    r->method = ApiMethod::openai_models;
    r->model = rest == "models" ? std::string_view() : rest.substr(7);
    return http_method == "GET";
  }
  return false;
}

enum class BearerAuth {
  ok,
  missing,    // no Authorization header: 401
  malformed,  // not "Bearer <key>": 400 "Invalid Authorization header."
};

// The key of "Authorization: Bearer <key>" (scheme in any case). The layer reads no other
// credential: x-goog-api-key and ?key= are ignored.
inline BearerAuth bearer_key(const std::string* authorization, std::string* key) {
  if (authorization == nullptr) {
    return BearerAuth::missing;
  }
  std::string_view v = *authorization;
  if (v.size() <= 7 || !detail::iequals_ascii(v.substr(0, 7), "Bearer ")) {
    return BearerAuth::malformed;
  }
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') {
    v.remove_prefix(1);
  }
  if (v.empty()) {
    return BearerAuth::malformed;
  }
  key->assign(v);
  return BearerAuth::ok;
}

// The layer's answer to a credential that is not a usable Bearer key: 401 without an
// Authorization header, 400 when it is not "Bearer <key>"; nullptr when `a` is ok. The
// bodies are already in the layer's array shape.
inline const std::string* credential_error(BearerAuth a, int* status) {
  switch (a) {
    case BearerAuth::missing:
      *status = 401;
      return &openai_unauthenticated_body();
    case BearerAuth::malformed:
      *status = 400;
      return &openai_bad_authorization_body();
    case BearerAuth::ok:
      break;
  }
  return nullptr;
}

// "The model name will be prefixed by models/ if no slash appears in it" (WIRE.md §3):
// both "gemini-2.5-flash" and "models/gemini-2.5-flash" name the catalog's model. Any
// other slash names a model we do not have (returned as is, so the 404 quotes it).
inline std::string_view openai_model_id(std::string_view requested) {
  if (requested.substr(0, 7) == "models/") {
    requested.remove_prefix(7);
  }
  return requested;
}

namespace detail {

inline bool is_chat_role(std::string_view role) {
  for (std::string_view r : {"system", "developer", "user", "assistant", "tool", "function"}) {
    if (role == r) {
      return true;
    }
  }
  return false;
}

// The text of a message's content: the string itself, or its text parts concatenated.
// *media counts the parts that are not text (images, audio, files).
inline std::string message_text(const rapidjson::Value& message, uint64_t* media) {
  const rapidjson::Value* content = field(message, "content");
  if (content == nullptr) {
    return {};
  }
  if (content->IsString()) {
    return {content->GetString(), content->GetStringLength()};
  }
  std::string text;
  if (!content->IsArray()) {
    return text;
  }
  for (const auto& part : content->GetArray()) {
    std::string_view type = string_field(part, "type");
    if (type == "text") {
      text += string_field(part, "text");
    } else if (!type.empty()) {
      ++*media;
    }
  }
  return text;
}

// Bytes of an assistant message's tool calls: each call's name and arguments.
inline uint64_t tool_call_bytes(const rapidjson::Value& message) {
  const rapidjson::Value* calls = array_field(message, "toolCalls");
  uint64_t bytes = 0;
  for (rapidjson::SizeType i = 0; calls != nullptr && i < calls->Size(); ++i) {
    if (const rapidjson::Value* fn = field((*calls)[i], "function")) {
      bytes += string_field(*fn, "name").size() + string_field(*fn, "arguments").size() + 12;
    }
  }
  return bytes;
}

inline uint64_t openai_tools_tokens(const rapidjson::Value& req) {
  const rapidjson::Value* tools = array_field(req, "tools");
  uint64_t bytes = 0;
  for (rapidjson::SizeType t = 0; tools != nullptr && t < tools->Size(); ++t) {
    if (const rapidjson::Value* fn = field((*tools)[t], "function")) {
      bytes += string_field(*fn, "name").size() + string_field(*fn, "description").size() + 16;
    }
  }
  return tokens_for_bytes(bytes);
}

}  // namespace detail

// The checks of chat/completions beyond the body's shape. Empty: fine. The texts are our
// own, in the style of Google's required-field messages, except reasoning_effort's [T].
inline std::vector<std::string> check_chat_request(const rapidjson::Value& req) {
  std::vector<std::string> errors;
  if (string_field(req, "model").empty()) {
    errors.push_back("* ChatCompletionRequest.model: model is not specified");
  }
  const rapidjson::Value* messages = array_field(req, "messages");
  if (messages == nullptr) {
    errors.push_back("* ChatCompletionRequest.messages: messages is not specified");
    return errors;
  }
  for (rapidjson::SizeType i = 0; i < messages->Size(); ++i) {
    std::string_view role = string_field((*messages)[i], "role");
    if (!detail::is_chat_role(role)) {
      errors.push_back("* ChatCompletionRequest.messages[" + std::to_string(i) +
                       "].role: role must be one of system, developer, user, assistant, tool");
    }
  }
  if (const rapidjson::Value* effort = field(req, "reasoningEffort")) {
    std::string_view e = string_field(req, "reasoningEffort");
    if (!effort->IsString() || (e != "none" && e != "low" && e != "medium" && e != "high")) {
      errors.push_back("Invalid reasoning_effort: " + std::string(e) +
                       ". Valid values are: high, low, medium, none");
    }
  }
  return errors;
}

// The texts to embed: `input` as one string or a list of strings.
inline bool embedding_texts(const rapidjson::Value& req, std::vector<std::string>* texts) {
  const rapidjson::Value* input = field(req, "input");
  if (input == nullptr) {
    return false;
  }
  if (input->IsString()) {
    texts->emplace_back(input->GetString(), input->GetStringLength());
    return true;
  }
  if (!input->IsArray() || input->Empty()) {
    return false;
  }
  for (const auto& one : input->GetArray()) {
    if (!one.IsString()) {
      return false;  // token arrays: Gemini embeds text only
    }
    texts->emplace_back(one.GetString(), one.GetStringLength());
  }
  return true;
}

inline std::vector<std::string> check_embeddings_request(const rapidjson::Value& req) {
  std::vector<std::string> errors;
  if (string_field(req, "model").empty()) {
    errors.push_back("* EmbeddingsRequest.model: model is not specified");
  }
  std::vector<std::string> texts;
  if (!embedding_texts(req, &texts)) {
    errors.push_back(
        "* EmbeddingsRequest.input: input must be a non-empty string or list of strings");
  }
  std::string_view format = string_field(req, "encodingFormat");
  if (!format.empty() && format != "float" && format != "base64") {
    errors.push_back("* EmbeddingsRequest.encoding_format: must be float or base64");
  }
  return errors;
}

// What shapes the answer to a chat request (known to pass check_chat_request).
struct ChatSummary {
  PromptSummary prompt;  // last_user_text, prompt_tokens, max_output_tokens
  bool stream = false;
  bool include_usage = false;
};

inline ChatSummary summarize_chat(const rapidjson::Value& req) {
  ChatSummary s;
  const rapidjson::Value* messages = array_field(req, "messages");
  uint64_t bytes = 0;
  uint64_t media = 0;
  bool found_user = false;
  for (rapidjson::SizeType i = messages != nullptr ? messages->Size() : 0; i-- > 0;) {
    const rapidjson::Value& m = (*messages)[i];
    std::string text = detail::message_text(m, &media);
    bytes += text.size() + detail::tool_call_bytes(m);
    if (!found_user && string_field(m, "role") == "user") {
      s.prompt.last_user_text = std::move(text);
      found_user = true;
    }
  }
  s.prompt.prompt_tokens = tokens_for_bytes(bytes) + 258 * media + detail::openai_tools_tokens(req);
  if (s.prompt.prompt_tokens == 0) {
    s.prompt.prompt_tokens = 1;
  }
  s.prompt.max_output_tokens = int_field(req, "maxCompletionTokens", -1);
  if (s.prompt.max_output_tokens < 0) {
    s.prompt.max_output_tokens = int_field(req, "maxTokens", -1);
  }
  // response_format json_object or json_schema: JSON mode, as generationConfig's
  // responseMimeType application/json with the schema as responseJsonSchema.
  if (const rapidjson::Value* format = field(req, "responseFormat")) {
    std::string_view type = string_field(*format, "type");
    if (type == "json_object" || type == "json_schema") {
      const rapidjson::Value* js = field(*format, "jsonSchema");
      s.prompt.json = true;
      s.prompt.json_text =
          json_answer(js != nullptr ? field(*js, "schema") : nullptr, s.prompt.last_user_text);
    }
  }
  const rapidjson::Value* stream = field(req, "stream");
  s.stream = stream != nullptr && stream->IsBool() && stream->GetBool();
  if (const rapidjson::Value* opts = field(req, "streamOptions")) {
    const rapidjson::Value* inc = field(*opts, "includeUsage");
    s.include_usage = inc != nullptr && inc->IsBool() && inc->GetBool();
  }
  return s;
}

}  // namespace gb::mock
