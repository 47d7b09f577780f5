// What a proxied request and response look like on the other side: pure functions.
#pragma once

#include <string>

#include "base/url.h"
#include "http/headers.h"
#include "http/request.h"

namespace gb::proxy {

// How the request goes upstream besides its path and body.
struct UpstreamStyle {
  bool bearer = false;      // the key as Authorization: Bearer (OpenAI-compatible pools)
  bool translated = false;  // a body gbd wrote: none of the client's headers or query,
                            // Content-Type: application/json, identity encoding
};

// The request head for upstream: same method, the pool's path prefix + upstream_path, the
// client's query without `key`, the client's end-to-end headers without its credentials,
// Host set to the origin, the pool key as x-goog-api-key (or Bearer), Content-Length of
// the body.
std::string upstream_request_head(const http::Request& req, size_t body_size, const Origin& origin,
                                  const std::string& upstream_path, const std::string& key,
                                  UpstreamStyle style = {});

// Response headers for the client: the upstream's minus hop-by-hop headers (and those the
// upstream's Connection header names). Content-Length is handled by the writer.
http::Headers client_response_headers(const http::Headers& upstream);

// Whether a header must not cross the proxy in either direction.
bool is_request_only_header(std::string_view name);

}  // namespace gb::proxy
