#include "http/headers.h"

#include <algorithm>

namespace gb::http {

namespace {
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

const std::string* Headers::find(std::string_view name) const {
  for (const auto& h : list_) {
    if (iequals(h.name, name)) {
      return &h.value;
    }
  }
  return nullptr;
}

size_t Headers::remove(std::string_view name) {
  size_t before = list_.size();
  std::erase_if(list_, [&](const Header& h) { return iequals(h.name, name); });
  return before - list_.size();
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

bool Headers::has_token(std::string_view name, std::string_view token) const {
  for (const auto& h : list_) {
    if (!iequals(h.name, name)) {
      continue;
    }
    std::string_view v = h.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view item = trim(v.substr(0, comma));
      if (iequals(item, token)) {
        return true;
      }
      if (comma == std::string_view::npos) {
        break;
      }
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool is_hop_by_hop(std::string_view name) {
  static constexpr std::string_view kHop[] = {
      "connection", "keep-alive", "proxy-connection",   "transfer-encoding",   "te",
      "trailer",    "upgrade",    "proxy-authenticate", "proxy-authorization", "content-length"};
  return std::any_of(std::begin(kHop), std::end(kHop),
                     [&](std::string_view h) { return iequals(h, name); });
}

}  // namespace gb::http
