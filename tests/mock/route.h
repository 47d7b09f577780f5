// Maps a request line onto a Gemini REST method (WIRE.md §1.2):
//   GET  /{v1beta|v1}/models
//   GET  /{v1beta|v1}/models/{model}
//   POST /{v1beta|v1}/models/{model}:{generateContent|streamGenerateContent|countTokens|
//                                      embedContent|batchEmbedContents}
// The methods of Gemini's OpenAI-compatible layer (/v1beta/openai/...) come last; their
// paths are parsed in openai_request.h.
#pragma once

#include <string_view>

namespace gb::mock {

enum class ApiMethod {
  list_models,
  get_model,
  generate,
  stream,
  count_tokens,
  embed,
  batch_embed,
  openai_chat,        // POST /v1beta/openai/chat/completions
  openai_embeddings,  // POST /v1beta/openai/embeddings
  openai_models,      // GET /v1beta/openai/models[/{model}]
};

struct Route {
  ApiMethod method = ApiMethod::list_models;
  std::string_view version;  // "v1beta" or "v1"
  std::string_view model;    // without "models/"; empty for list_models
};

struct MethodInfo {
  std::string_view action;  // after the colon in the path
  ApiMethod method;
  std::string_view needs;         // supportedGenerationMethods entry the model must list
  std::string_view message_name;  // how a 404 names the method
  std::string_view rpc;           // for the "blocked" 403
};

inline constexpr MethodInfo kMethods[] = {
    {"generateContent", ApiMethod::generate, "generateContent", "generateContent",
     "GenerativeService.GenerateContent"},
    {"streamGenerateContent", ApiMethod::stream, "generateContent", "StreamGenerateContent",
     "GenerativeService.StreamGenerateContent"},
    {"countTokens", ApiMethod::count_tokens, "countTokens", "countTokens",
     "GenerativeService.CountTokens"},
    {"embedContent", ApiMethod::embed, "embedContent", "embedContent",
     "GenerativeService.EmbedContent"},
    {"batchEmbedContents", ApiMethod::batch_embed, "embedContent", "batchEmbedContents",
     "GenerativeService.BatchEmbedContents"},
};

inline const MethodInfo* method_info(ApiMethod m) {
  for (const MethodInfo& i : kMethods) {
    if (i.method == m) {
      return &i;
    }
  }
  return nullptr;
}

// The service and method a "blocked" 403 names. Those of the OpenAI-compatible layer are
// not known from a capture; these are our guess.
inline std::string_view rpc_name(ApiMethod m) {
  switch (m) {
    case ApiMethod::list_models:
      return "ModelService.ListModels";
    case ApiMethod::get_model:
      return "ModelService.GetModel";
    case ApiMethod::openai_chat:
      return "OpenAiCompatibilityService.ChatCompletions";
    case ApiMethod::openai_embeddings:
      return "OpenAiCompatibilityService.Embeddings";
    case ApiMethod::openai_models:
      return "OpenAiCompatibilityService.Models";
    default:
      return method_info(m)->rpc;
  }
}

// False when the path names no method we serve (a Google-style 404).
inline bool parse_route(std::string_view http_method, std::string_view path, Route* r) {
  std::string_view rest;
  if (path.substr(0, 8) == "/v1beta/") {
    r->version = "v1beta";
    rest = path.substr(8);
  } else if (path.substr(0, 4) == "/v1/") {
    r->version = "v1";
    rest = path.substr(4);
  } else {
    return false;
  }
  if (rest == "models") {
    r->method = ApiMethod::list_models;
    return http_method == "GET";
  }
  if (rest.substr(0, 7) != "models/") {
    return false;
  }
  rest.remove_prefix(7);
  size_t colon = rest.find(':');
  r->model = rest.substr(0, colon);
  if (r->model.empty() || r->model.find('/') != std::string_view::npos) {
    return false;
  }
  if (colon == std::string_view::npos) {
    r->method = ApiMethod::get_model;
    return http_method == "GET";
  }
  std::string_view action = rest.substr(colon + 1);
  for (const MethodInfo& i : kMethods) {
    if (i.action == action) {
      r->method = i.method;
      return http_method == "POST";
    }
  }
  return false;
}

}  // namespace gb::mock
