// /_mock/blob: a file server for the tests in which gbd downloads a URL it was given (an
// image_url of an OpenAI request). Like the rest of /_mock/*, it needs no key and is not
// counted as an API request.
//
//   GET /_mock/blob?type=MIME&bytes=N[&status=S][&delay_ms=D]
//       status S (default 200), Content-Type MIME (default application/octet-stream; an
//       empty type= sends none), a body of N bytes (0 to 64 MiB) where byte i is i % 251,
//       after D ms (at most 600000).
//   GET /_mock/blob/redirect?[status=S&]to=URL
//       status S (302 by default; 301, 303, 307 or 308), Location URL, no body. `to` is
//       the last parameter and takes the rest of the query as is, so the URL needs no
//       encoding: /_mock/blob/redirect?to=http://h:1/_mock/blob?type=image/png&bytes=9.
//
// This header holds the pure part: reading the parameters and the body's bytes.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/request.h"

namespace gb::mock {

inline constexpr uint64_t kMaxBlobBytes = 64ull << 20;
inline constexpr uint64_t kMaxBlobDelayMs = 600'000;

struct BlobRequest {
  int status = 200;
  bool has_type = true;  // false: no Content-Type header
  std::string type = "application/octet-stream";
  uint64_t bytes = 0;
  uint64_t delay_ms = 0;
};

struct BlobRedirect {
  int status = 302;
  std::string location;
};

// Byte i of every blob.
inline char blob_byte(uint64_t i) {
  return static_cast<char>(i % 251);
}

// Appends bytes [begin, end) of a blob.
inline void append_blob_bytes(std::string& out, uint64_t begin, uint64_t end) {
  out.reserve(out.size() + (end - begin));
  for (uint64_t i = begin; i < end; ++i) {
    out += blob_byte(i);
  }
}

namespace detail {

inline bool whole_uint(std::string_view s, uint64_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// A header value we may send: visible ASCII, spaces and tabs (a decoded CR or LF must not
// split the response's headers).
inline bool header_safe(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u >= 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace detail

// Reads the query of /_mock/blob. False, with *error set, when a parameter is malformed or
// out of range.
inline bool parse_blob_query(std::string_view query, BlobRequest* b, std::string* error) {
  std::string raw;
  uint64_t n = 0;
  if (http::query_param(query, "type", &raw)) {
    if (!http::percent_decode(raw, &b->type) || !detail::header_safe(b->type)) {
      *error = "type= must be a percent-encoded MIME type";
      return false;
    }
    b->has_type = !b->type.empty();
  }
  if (http::query_param(query, "bytes", &raw)) {
    if (!detail::whole_uint(raw, &n) || n > kMaxBlobBytes) {
      *error = "bytes= must be 0 to 67108864";
      return false;
    }
    b->bytes = n;
  }
  if (http::query_param(query, "status", &raw)) {
    if (!detail::whole_uint(raw, &n) || n < 200 || n > 599 || n == 204 || n == 304) {
      *error = "status= must be 200 to 599, not 204 or 304";
      return false;
    }
    b->status = static_cast<int>(n);
  }
  if (http::query_param(query, "delay_ms", &raw)) {
    if (!detail::whole_uint(raw, &n) || n > kMaxBlobDelayMs) {
      *error = "delay_ms= must be 0 to 600000";
      return false;
    }
    b->delay_ms = n;
  }
  return true;
}

// Reads the query of /_mock/blob/redirect: to= (the rest of the query) and status=.
inline bool parse_redirect_query(std::string_view query, BlobRedirect* r, std::string* error) {
  size_t at = query.substr(0, 3) == "to=" ? 0 : query.find("&to=");
  if (at == std::string_view::npos) {
    *error = "use /_mock/blob/redirect?[status=S&]to=URL";
    return false;
  }
  size_t start = at == 0 ? 3 : at + 4;
  r->location.assign(query.substr(start));
  if (r->location.empty() || !detail::header_safe(r->location)) {
    *error = "to= must be a non-empty URL";
    return false;
  }
  std::string raw;
  uint64_t n = 0;
  if (http::query_param(query.substr(0, at), "status", &raw)) {
    if (!detail::whole_uint(raw, &n) ||
        (n != 301 && n != 302 && n != 303 && n != 307 && n != 308)) {
      *error = "status= must be 301, 302, 303, 307 or 308";
      return false;
    }
    r->status = static_cast<int>(n);
  }
  return true;
}

}  // namespace gb::mock
