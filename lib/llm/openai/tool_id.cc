#include "llm/openai/tool_id.h"

#include <cstdio>
#include <random>

#include "llm/openai/request_common.h"

namespace gb::llm::openai {

namespace {

constexpr std::string_view kPrefix = "call_";
constexpr std::string_view kB64url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

// Sections after "call_" + 16 random characters: '_', a tag ('i' for Gemini's id, 's' for
// the signature), 4 hex digits of length, then that many base64url characters. Lengths,
// not separators, delimit them: base64url itself holds '_'. Only [A-Za-z0-9_-] appear,
// the characters every client accepts in an id.
namespace {

void add_section(std::string* id, char tag, const std::string& b64) {
  char len[8];
  std::snprintf(len, sizeof len, "%04zx", b64.size());
  *id += '_';
  *id += tag;
  *id += len;
  *id += b64;
}

std::string std_to_url(std::string s) {
  for (char& c : s) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  while (!s.empty() && s.back() == '=') {
    s.pop_back();
  }
  return s;
}

std::string url_to_std(std::string s) {
  for (char& c : s) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (s.size() % 4 != 0) {
    s += '=';
  }
  return s;
}

constexpr size_t kRandom = 16;
constexpr size_t kMaxSection = 0xFFFF;

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace

std::string make_tool_id(const ToolIdParts& parts, std::string_view random16) {
  std::string id(kPrefix);
  id += random16;
  std::string gid = std_to_url(req::base64_encode(parts.gemini_id));
  if (!gid.empty() && gid.size() <= kMaxSection) {
    add_section(&id, 'i', gid);
  }
  std::string sig = std_to_url(parts.signature);
  if (!sig.empty() && sig.size() <= kMaxSection) {
    add_section(&id, 's', sig);
  }
  return id;
}

ToolIdParts parse_tool_id(std::string_view id) {
  ToolIdParts parts;
  if (id.substr(0, kPrefix.size()) != kPrefix || id.size() < kPrefix.size() + kRandom) {
    return parts;
  }
  size_t pos = kPrefix.size() + kRandom;
  while (pos + 6 <= id.size() && id[pos] == '_') {
    char tag = id[pos + 1];
    size_t len = 0;
    for (size_t i = pos + 2; i < pos + 6; ++i) {
      char c = id[i];
      int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0) {
        return ToolIdParts{};
      }
      len = len * 16 + static_cast<size_t>(v);
    }
    if (pos + 6 + len > id.size()) {
      return ToolIdParts{};
    }
    std::string_view payload = id.substr(pos + 6, len);
    if (payload.find_first_not_of(kB64url) != std::string_view::npos) {
      return ToolIdParts{};
    }
    if (tag == 'i') {
      // gbd made this section from Gemini's id, which is UTF-8; anything else is forged
      // and must not reach the upstream's JSON.
      std::string decoded;
      if (b64url_decode(payload, &decoded) && valid_utf8(decoded)) {
        parts.gemini_id = std::move(decoded);
      }
    } else if (tag == 's') {
      parts.signature = url_to_std(std::string(payload));
    }
    pos += 6 + len;
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
