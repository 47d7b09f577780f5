// Which endpoint a request is for: a pure function of method and path.
#pragma once

#include <string>
#include <string_view>

namespace gb::proxy {

enum class RouteKind {
  gemini,  // Gemini native, forwarded byte for byte
  health,  // GET /health
  not_found,
  bad_method,  // known path, wrong method (405)
  bad_model,   // a model name gbd will not forward
};

struct Route {
  RouteKind kind = RouteKind::not_found;
  std::string model;          // "" for models.list
  std::string action;         // generateContent, streamGenerateContent, ... ; "get" / "list"
  std::string upstream_path;  // path to request upstream, without the pool's path prefix
  const char* allow = "";     // for bad_method: the Allow header value
  bool stream = false;        // streamGenerateContent
};

Route match_route(std::string_view method, std::string_view path);

}  // namespace gb::proxy
