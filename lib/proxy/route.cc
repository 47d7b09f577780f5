#include "proxy/route.h"

#include <array>

namespace gb::proxy {

namespace {

constexpr std::array<std::string_view, 5> kPostActions = {"generateContent",
                                                          "streamGenerateContent", "countTokens",
                                                          "embedContent", "batchEmbedContents"};

bool valid_model_name(std::string_view m) {
  if (m.empty() || m.size() > 128) {
    return false;
  }
  for (char c : m) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool consume(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) == prefix) {
    s.remove_prefix(prefix.size());
    return true;
  }
  return false;
}

// path after "/v1beta" or "/v1": "/models", "/models/M", "/models/M:ACTION"
Route match_models(std::string_view method, std::string_view version, std::string_view rest) {
  Route r;
  if (!consume(rest, "/models")) {
    return r;
  }
  // Built with += : GCC 12 at -O3 warns falsely (-Wrestrict) on a chain of + here.
  std::string base = "/";
  base += version;
  base += "/models";
  if (rest.empty()) {
    r.action = "list";
    r.upstream_path = base;
    r.kind = method == "GET" ? RouteKind::gemini : RouteKind::bad_method;
    r.allow = "GET";
    return r;
  }
  if (!consume(rest, "/")) {
    return r;
  }
  size_t colon = rest.find(':');
  std::string_view model = rest.substr(0, colon);
  r.model = std::string(model);
  r.upstream_path = base;
  r.upstream_path += '/';
  r.upstream_path += model;
  if (!valid_model_name(model)) {
    r.kind = RouteKind::bad_model;
    return r;
  }
  if (colon == std::string_view::npos) {
    r.action = "get";
    r.kind = method == "GET" ? RouteKind::gemini : RouteKind::bad_method;
    r.allow = "GET";
    return r;
  }
  std::string_view action = rest.substr(colon + 1);
  for (std::string_view a : kPostActions) {
    if (action == a) {
      r.action = std::string(a);
      r.upstream_path += ':';
      r.upstream_path += r.action;
      r.stream = a == "streamGenerateContent";
      r.kind = method == "POST" ? RouteKind::gemini : RouteKind::bad_method;
      r.allow = "POST";
      return r;
    }
  }
  return r;  // unknown action: not found
}

// path after "/v1" or "/openai/v1": the OpenAI-compatible API.
Route match_openai(std::string_view method, std::string_view rest) {
  Route r;
  r.api = ClientApi::openai;
  auto post = [&](RouteKind kind, const char* action) {
    r.action = action;
    r.kind = method == "POST" ? kind : RouteKind::bad_method;
    r.allow = "POST";
    return r;
  };
  if (rest == "/chat/completions") {
    return post(RouteKind::openai_chat, "chat.completions");
  }
  if (rest == "/embeddings") {
    return post(RouteKind::openai_embeddings, "embeddings");
  }
  if (rest == "/models") {
    r.action = "models.list";
    r.kind = method == "GET" ? RouteKind::openai_models : RouteKind::bad_method;
    r.allow = "GET";
    return r;
  }
  if (consume(rest, "/models/")) {
    r.action = "models.get";
    if (!valid_model_name(rest)) {
      r.kind = RouteKind::not_found;
      return r;
    }
    r.model = std::string(rest);
    r.kind = method == "GET" ? RouteKind::openai_model : RouteKind::bad_method;
    r.allow = "GET";
    return r;
  }
  r.kind = RouteKind::not_found;
  return r;
}

}  // namespace

Route match_route(std::string_view method, std::string_view path) {
  if (path == "/health") {
    Route r;
    r.kind = (method == "GET" || method == "HEAD") ? RouteKind::health : RouteKind::bad_method;
    r.allow = "GET, HEAD";
    return r;
  }
  std::string_view p = path;
  if (consume(p, "/openai/v1")) {
    return match_openai(method, p);
  }
  consume(p, "/gemini");
  if (consume(p, "/v1beta")) {
    return match_models(method, "v1beta", p);
  }
  if (consume(p, "/v1")) {
    Route r = match_models(method, "v1", p);
    // Bare /v1/models and /v1/models/{id} belong to the OpenAI-compatible API; only the
    // /gemini/v1/ spelling reaches Gemini's models.list and models.get.
    bool gemini_prefix = path.substr(0, 7) == "/gemini";
    if (!gemini_prefix && (r.kind == RouteKind::not_found || r.action == "list" ||
                           r.action == "get" || r.kind == RouteKind::bad_model)) {
      // /v1/models/{model}:ACTION stays Gemini v1; everything else under /v1 is OpenAI.
      if (p.find(':') == std::string_view::npos) {
        return match_openai(method, p);
      }
    }
    return r;
  }
  return Route{};
}

}  // namespace gb::proxy
