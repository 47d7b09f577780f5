#include "proxy/forward.h"

namespace gb::proxy {

namespace {
// Headers the client sent that name themselves in Connection are hop-by-hop too.
bool named_by_connection(const http::Headers& h, std::string_view name) {
  return h.has_token("connection", name);
}
}  // namespace

bool is_request_only_header(std::string_view name) {
  static constexpr std::string_view kDrop[] = {"host", "expect", "authorization", "x-goog-api-key",
                                               "x-api-key"};
  for (std::string_view d : kDrop) {
    if (http::iequals(d, name)) {
      return true;
    }
  }
  return false;
}

std::string upstream_request_head(const http::Request& req, size_t body_size, const Origin& origin,
                                  const std::string& upstream_path, const std::string& key,
                                  UpstreamStyle style) {
  std::string out;
  out.reserve(512 + req.target.size());
  out += req.method;
  out += ' ';
  out += origin.path_prefix;
  out += upstream_path;
  std::string query = style.translated ? std::string() : http::query_without(req.query(), "key");
  if (!query.empty() && upstream_path.find('?') != std::string::npos) {
    out += '&';
    out += query;
  } else if (!query.empty()) {
    out += '?';
    out += query;
  }
  out += " HTTP/1.1\r\nHost: ";
  out += origin.authority();
  out += "\r\n";
  if (style.translated) {
    // The answer is parsed and rewritten: it must come back uncompressed.
    out += "Content-Type: application/json\r\nAccept-Encoding: identity\r\n";
  } else {
    for (const auto& h : req.headers.list()) {
      if (http::is_hop_by_hop(h.name) || is_request_only_header(h.name) ||
          named_by_connection(req.headers, h.name)) {
        continue;
      }
      out += h.name;
      out += ": ";
      out += h.value;
      out += "\r\n";
    }
  }
  out += style.bearer ? "Authorization: Bearer " : "x-goog-api-key: ";
  out += key;
  out += "\r\n";
  if (body_size > 0 || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    out += "Content-Length: ";
    out += std::to_string(body_size);
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

http::Headers client_response_headers(const http::Headers& upstream) {
  http::Headers out;
  for (const auto& h : upstream.list()) {
    if (http::is_hop_by_hop(h.name) || named_by_connection(upstream, h.name)) {
      continue;
    }
    out.add(h.name, h.value);
  }
  return out;
}

}  // namespace gb::proxy
