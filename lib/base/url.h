// Upstream origins ("https://api.openai.com/v1") and listen addresses ("[::1]:8000").
// Both parsers are strict and say what is wrong in words a person can act on; they do
// no DNS and no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace gb {

// Where a pool sends its requests. host is lowercase and unbracketed ("::1" for IPv6).
struct Origin {
  bool tls = true;
  std::string host;
  uint16_t port = 443;
  std::string path_prefix;  // no trailing slash: "" or "/x" or "/x/y"

  // For the Host header: "host", or "host:port" when the port is not the scheme's
  // default; IPv6 hosts are bracketed.
  std::string authority() const;
  // "https://host:port", port always present: equal origins have equal keys, which
  // is what connection pool maps need.
  std::string key() const;
};

// Accepts http:// and https:// URLs (scheme case-insensitive) with a host (DNS name,
// dotted-quad IPv4 or [IPv6]), an optional port (1-65535; default 80 or 443) and an
// optional path prefix. Rejects userinfo, queries and fragments. Errors carry
// Errc::config_invalid and a message that does not repeat the URL.
Result<Origin> parse_origin(std::string_view url);

// A listen address. host is unbracketed; text is the canonical spelling
// ("127.0.0.1:8000", "[::1]:8000") for logs and for matching listeners on reload.
struct ListenAddr {
  std::string host;
  uint16_t port = 0;
  std::string text;
  bool is_v6 = false;

  // True for "localhost", 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. Other host names
  // are not loopback: they may resolve to anything.
  bool is_loopback() const;
};

// Accepts "HOST:PORT" (IPv4 or a host name) and "[IPV6]:PORT". The port is required
// and may be 0 (the kernel picks one; tests rely on it).
Result<ListenAddr> parse_listen(std::string_view s);

}  // namespace gb
