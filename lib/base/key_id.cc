#include "base/key_id.h"

#include <mbedtls/sha256.h>

#include <algorithm>
#include <cstdint>

namespace gb {

namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026

void append_printable(std::string* out, std::string_view part) {
  for (char c : part) {
    bool printable = c >= 0x21 && c <= 0x7e;
    out->push_back(printable ? c : '?');
  }
}

}  // namespace

namespace {
std::string sha256_hex(std::string_view key, int bytes) {
  unsigned char digest[32];
  mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest, 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(static_cast<size_t>(bytes) * 2);
  for (int i = 0; i < bytes; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}
}  // namespace

std::string key_id(std::string_view key) {
  return sha256_hex(key, 4);
}

std::string key_hash(std::string_view key) {
  return sha256_hex(key, 32);
}

std::string key_mask(std::string_view key) {
  std::string mask;
  if (key.size() >= 12) {
    append_printable(&mask, key.substr(0, 4));
    mask.append(kEllipsis);
    append_printable(&mask, key.substr(key.size() - 4));
    return mask;
  }
  mask.append(kEllipsis);
  if (key.size() >= 6) {
    append_printable(&mask, key.substr(key.size() - 2));
  }
  return mask;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk the longer input in full and fold every byte difference into one accumulator;
  // the only branches depend on lengths, which the caller accepts may leak.
  size_t n = std::max(a.size(), b.size());
  volatile uint8_t diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    uint8_t x = i < a.size() ? static_cast<uint8_t>(a[i]) : 0;
    uint8_t y = i < b.size() ? static_cast<uint8_t>(b[i]) : 0;
    diff = diff | static_cast<uint8_t>(x ^ y);
  }
  return diff == 0;
}

}  // namespace gb
