#include "base/url.h"

#include <arpa/inet.h>

#include <cstring>

namespace gb {

namespace {

Error invalid(std::string message) {
  return Error::make(Errc::config_invalid, Side::internal, std::move(message));
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

// Strict dotted quad: four decimal parts 0-255 without leading zeros, because
// inet_aton would read "010" as octal and "1.2.3" as something else entirely.
bool is_ipv4(std::string_view s) {
  int parts = 0;
  while (true) {
    size_t dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    if (!all_digits(part) || part.size() > 3 || (part.size() > 1 && part[0] == '0')) {
      return false;
    }
    if (std::stoi(std::string(part)) > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      break;
    }
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool char_ok_in_label(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// A DNS name, or a dotted quad when the last label is numeric (so "1.2.3.400" is
// reported as a bad address instead of being looked up as a name).
const char* check_host_name(std::string_view host) {
  if (host.size() > 253) {
    return "host name is longer than 253 characters";
  }
  std::string_view last = host.substr(host.rfind('.') + 1);
  if (all_digits(last)) {
    return is_ipv4(host) ? nullptr : "not a valid IPv4 address";
  }
  std::string_view rest = host;
  while (true) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63) {
      return "host name has an empty or too long label";
    }
    if (label.front() == '-' || label.back() == '-') {
      return "host name label starts or ends with '-'";
    }
    for (char c : label) {
      if (!char_ok_in_label(c)) {
        return "host name has a character that is not a letter, digit, '-' or '_'";
      }
    }
    if (dot == std::string_view::npos) {
      return nullptr;
    }
    rest.remove_prefix(dot + 1);
  }
}

// Parses an unbracketed IPv6 literal into its canonical text ("0:0::1" -> "::1").
bool canonical_ipv6(std::string_view s, std::string* out, unsigned char bytes[16] = nullptr) {
  unsigned char buf[16];
  if (s.empty() || s.size() > 45 || s.find('%') != std::string_view::npos) {
    return false;
  }
  if (inet_pton(AF_INET6, std::string(s).c_str(), buf) != 1) {
    return false;
  }
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, buf, text, sizeof text) == nullptr) {
    return false;
  }
  *out = text;
  if (bytes != nullptr) {
    std::memcpy(bytes, buf, 16);
  }
  return true;
}

// "65535" -> 65535. Empty, non-digits and values above 65535 fail.
bool parse_port(std::string_view s, uint16_t* out) {
  if (!all_digits(s) || s.size() > 5) {
    return false;
  }
  int v = std::stoi(std::string(s));
  if (v > 65535) {
    return false;
  }
  *out = static_cast<uint16_t>(v);
  return true;
}

struct HostPort {
  std::string host;  // lowercase, unbracketed, canonical for IPv6
  bool is_v6 = false;
  std::string_view port;  // as written, may be empty
  bool has_port = false;
};

// Splits "host", "host:port", "[v6]" or "[v6]:port" and checks the host.
Result<HostPort> split_host_port(std::string_view s) {
  HostPort hp;
  std::string_view host;
  std::string_view after;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) {
      return invalid("IPv6 address has no closing ']'");
    }
    host = s.substr(1, close - 1);
    after = s.substr(close + 1);
    if (!canonical_ipv6(host, &hp.host)) {
      return invalid("not a valid IPv6 address");
    }
    hp.is_v6 = true;
    if (!after.empty() && after.front() != ':') {
      return invalid("unexpected text after ']'");
    }
  } else {
    size_t colon = s.find(':');
    if (colon != std::string_view::npos && s.find(':', colon + 1) != std::string_view::npos) {
      return invalid("IPv6 addresses must be in brackets, e.g. [::1]:8000");
    }
    host = s.substr(0, colon);
    after = colon == std::string_view::npos ? std::string_view() : s.substr(colon);
    if (host.empty()) {
      return invalid("missing host");
    }
    if (const char* why = check_host_name(host)) {
      return invalid(why);
    }
    hp.host = to_lower(host);
  }
  if (!after.empty()) {
    hp.has_port = true;
    hp.port = after.substr(1);
  }
  return hp;
}

std::string bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

Result<std::string> parse_path_prefix(std::string_view rest) {
  if (rest.find('?') != std::string_view::npos) {
    return invalid("a query (?...) is not allowed");
  }
  if (rest.find('#') != std::string_view::npos) {
    return invalid("a fragment (#...) is not allowed");
  }
  for (char c : rest) {
    if (c <= ' ' || c >= 0x7f || c == '\\') {
      return invalid("the path has a space, control or non-ASCII character; percent-encode it");
    }
  }
  while (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  return std::string(rest);
}

}  // namespace

std::string Origin::authority() const {
  uint16_t default_port = tls ? 443 : 80;
  std::string out = bracketed(host);
  if (port != default_port) {
    out += ':' + std::to_string(port);
  }
  return out;
}

std::string Origin::key() const {
  return std::string(tls ? "https://" : "http://") + bracketed(host) + ':' + std::to_string(port);
}

Result<Origin> parse_origin(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return invalid("missing scheme: write http://HOST or https://HOST");
  }
  Origin o;
  std::string scheme = to_lower(url.substr(0, sep));
  if (scheme == "https") {
    o.tls = true;
  } else if (scheme == "http") {
    o.tls = false;
  } else {
    return invalid("unsupported scheme \"" + scheme + "\": use http:// or https://");
  }
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return invalid("credentials in the URL (user@host) are not allowed");
  }
  if (authority.empty()) {
    return invalid("missing host");
  }
  auto hp = split_host_port(authority);
  if (!hp) {
    return hp.error();
  }
  o.host = std::move(hp->host);
  o.port = o.tls ? 443 : 80;
  if (hp->has_port && (!parse_port(hp->port, &o.port) || o.port == 0)) {
    return invalid("port must be a number from 1 to 65535");
  }
  auto prefix = parse_path_prefix(rest);
  if (!prefix) {
    return prefix.error();
  }
  o.path_prefix = std::move(*prefix);
  return o;
}

bool ListenAddr::is_loopback() const {
  if (host == "localhost") {
    return true;
  }
  if (!is_v6) {
    return is_ipv4(host) && host.starts_with("127.");
  }
  std::string canonical;
  unsigned char b[16];
  if (!canonical_ipv6(host, &canonical, b)) {
    return false;
  }
  static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kLoopback, 16) == 0) {
    return true;
  }
  return std::memcmp(b, kMappedPrefix, 12) == 0 && b[12] == 127;
}

Result<ListenAddr> parse_listen(std::string_view s) {
  if (s.empty()) {
    return invalid("empty address: write HOST:PORT, e.g. 127.0.0.1:8000");
  }
  if (s.find("://") != std::string_view::npos) {
    return invalid("a listen address has no scheme: write HOST:PORT, e.g. 127.0.0.1:8000");
  }
  if (s.front() == ':' && s.find(':', 1) == std::string_view::npos) {
    return invalid("missing host: use 0.0.0.0:PORT for every IPv4 address, [::]:PORT for IPv6");
  }
  auto hp = split_host_port(s);
  if (!hp) {
    return hp.error();
  }
  if (!hp->has_port) {
    return invalid("missing port: write HOST:PORT, e.g. 127.0.0.1:8000");
  }
  ListenAddr a;
  if (!parse_port(hp->port, &a.port)) {
    return invalid("port must be a number from 0 to 65535");
  }
  a.host = std::move(hp->host);
  a.is_v6 = hp->is_v6;
  a.text = bracketed(a.host) + ':' + std::to_string(a.port);
  return a;
}

}  // namespace gb
