#include "llm/openai/tool_id.h"

#include <random>

namespace gb::llm::openai {

namespace {

constexpr std::string_view kPrefix = "call_";
constexpr std::string_view kSig = "_ts_";
constexpr std::string_view kId = "_id_";
constexpr std::string_view kB64url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64url[(acc >> bits) & 63];
    }
  }
  if (bits > 0) {
    out += kB64url[(acc << (6 - bits)) & 63];
  }
  return out;
}

bool b64url_decode(std::string_view in, std::string* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    size_t v = kB64url.find(c);
    if (v == std::string_view::npos) {
      return false;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return true;
}

}  // namespace

// The signature travels as the bytes it encodes, base64url: Gemini's standard base64
// (with '+', '/' and '=') would not survive every client's handling of ids.
std::string make_tool_id(const ToolIdParts& parts, std::string_view random16) {
  std::string id(kPrefix);
  id += random16;
  if (!parts.gemini_id.empty()) {
    id += kId;
    id += b64url_encode(parts.gemini_id);
  }
  if (!parts.signature.empty()) {
    std::string raw;
    std::string std_b64 = parts.signature;
    for (char& c : std_b64) {
      c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    while (!std_b64.empty() && std_b64.back() == '=') {
      std_b64.pop_back();
    }
    id += kSig;
    id += std_b64;
  }
  return id;
}

ToolIdParts parse_tool_id(std::string_view id) {
  ToolIdParts parts;
  if (id.substr(0, kPrefix.size()) != kPrefix) {
    return parts;
  }
  size_t sig = id.find(kSig);
  size_t gid = id.find(kId);
  if (sig != std::string_view::npos) {
    std::string s(id.substr(sig + kSig.size()));
    bool valid = !s.empty();
    for (char& c : s) {
      valid &= kB64url.find(c) != std::string_view::npos;
      c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (valid && s.size() % 4 != 0) {
      s += '=';
    }
    if (valid) {
      parts.signature = std::move(s);
    }
  }
  if (gid != std::string_view::npos) {
    size_t end = sig != std::string_view::npos && sig > gid ? sig : id.size();
    std::string decoded;
    if (b64url_decode(id.substr(gid + kId.size(), end - gid - kId.size()), &decoded)) {
      parts.gemini_id = std::move(decoded);
    }
  }
  return parts;
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr std::string_view kChars = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(16, 'a');
  for (char& c : out) {
    c = kChars[rng() % kChars.size()];
  }
  return out;
}

}  // namespace gb::llm::openai
