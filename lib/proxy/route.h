// Which endpoint a request is for: a pure function of method and path.
#pragma once

#include <string>
#include <string_view>

namespace gb::proxy {

enum class RouteKind {
  gemini,  // Gemini native, forwarded byte for byte
  openai_chat,        // POST /v1/chat/completions
  openai_embeddings,  // POST /v1/embeddings
  openai_models,      // GET /v1/models
  openai_model,       // GET /v1/models/{model}
  health,  // GET /health
  not_found,
  bad_method,  // known path, wrong method (405)
  bad_model,   // a model name gbd will not forward
};

// Whose error shape gbd's own answers take on this route.
enum class ClientApi { gemini, openai };

struct Route {
  RouteKind kind = RouteKind::not_found;
  ClientApi api = ClientApi::gemini;
  std::string model;          // "" for models.list
  std::string action;         // generateContent, streamGenerateContent, ... ; "get" / "list"
  std::string upstream_path;  // path to request upstream, without the pool's path prefix
  const char* allow = "";     // for bad_method: the Allow header value
  bool stream = false;        // streamGenerateContent
};

Route match_route(std::string_view method, std::string_view path);

}  // namespace gb::proxy
