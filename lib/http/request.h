// A parsed HTTP/1.1 request, body included (gbd buffers request bodies: a retry on another
// key must be able to send the same bytes again).
#pragma once

#include <string>
#include <string_view>

#include "http/headers.h"

namespace gb::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request-target: path and query
  Headers headers;
  std::string body;
  unsigned http_minor = 1;
  bool keep_alive = true;

  std::string_view path() const;
  std::string_view query() const;  // without '?', "" if none
};

// Finds a query parameter (not decoded). Returns false if absent.
bool query_param(std::string_view query, std::string_view name, std::string* value);
// Returns the query with every occurrence of parameter `name` removed.
std::string query_without(std::string_view query, std::string_view name);
// Percent-decodes; false on a malformed escape.
bool percent_decode(std::string_view in, std::string* out);

}  // namespace gb::http
