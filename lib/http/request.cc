#include "http/request.h"

namespace gb::http {

std::string_view Request::path() const {
  std::string_view t = target;
  size_t q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view Request::query() const {
  std::string_view t = target;
  size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

namespace {
// Calls fn(name, value, whole_item) for each '&'-separated item.
template <typename Fn>
void each_param(std::string_view query, Fn fn) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    size_t eq = item.find('=');
    std::string_view name = item.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    if (!fn(name, value, item)) {
      return;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
}

int hexval(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}
}  // namespace

bool query_param(std::string_view query, std::string_view name, std::string* value) {
  bool found = false;
  each_param(query, [&](std::string_view n, std::string_view v, std::string_view) {
    if (n == name) {
      found = true;
      *value = std::string(v);
      return false;
    }
    return true;
  });
  return found;
}

std::string query_without(std::string_view query, std::string_view name) {
  std::string out;
  each_param(query, [&](std::string_view n, std::string_view, std::string_view item) {
    if (n != name && !item.empty()) {
      if (!out.empty()) {
        out += '&';
      }
      out += item;
    }
    return true;
  });
  return out;
}

bool percent_decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) {
        return false;
      }
      int hi = hexval(in[i + 1]);
      int lo = hexval(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return false;
      }
      *out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (in[i] == '+') {
      *out += ' ';
    } else {
      *out += in[i];
    }
  }
  return true;
}

}  // namespace gb::http
