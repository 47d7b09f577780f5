// Header lists: order-preserving, case-insensitive lookup, as received on the wire.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gb::http {

struct Header {
  std::string name;
  std::string value;
};

bool iequals(std::string_view a, std::string_view b);

class Headers {
 public:
  void add(std::string name, std::string value) {
    list_.push_back({std::move(name), std::move(value)});
  }
  // First value of a header, or nullptr.
  const std::string* find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  // Removes every header with that name; returns how many were removed.
  size_t remove(std::string_view name);
  // Replaces all headers of that name with one.
  void set(std::string name, std::string value);
  // Whether a comma-separated header (Connection, Expect) contains a token.
  bool has_token(std::string_view name, std::string_view token) const;
  const std::vector<Header>& list() const { return list_; }
  std::vector<Header>& list() { return list_; }
  size_t size() const { return list_.size(); }
  void clear() { list_.clear(); }

 private:
  std::vector<Header> list_;
};

// Hop-by-hop headers (RFC 9110 §7.6.1) that a proxy must not forward, plus the ones the
// writer sets itself (Content-Length, Transfer-Encoding).
bool is_hop_by_hop(std::string_view name);

}  // namespace gb::http
