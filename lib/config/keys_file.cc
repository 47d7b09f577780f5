#include "config/keys_file.h"

#include <cerrno>
#include <cstdio>

namespace gb::config {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// Cuts a '#' comment: at the start of the line or after whitespace, so a '#' inside
// a key stays part of it.
std::string_view strip_comment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || is_space(line[i - 1]))) {
      return line.substr(0, i);
    }
  }
  return line;
}

}  // namespace

const char* check_key(std::string_view key) {
  if (key.empty()) {
    return "is empty";
  }
  for (char c : key) {
    if (c == ' ' || c == '\t') {
      return "has whitespace inside it";
    }
    if (c < 0x21 || c > 0x7e) {
      return "has a character that is not printable ASCII";
    }
  }
  return nullptr;
}

KeysFile parse_keys(std::string_view text, const std::string& path) {
  KeysFile out;
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);  // a UTF-8 byte order mark left by some editors
  }
  unsigned line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    std::string_view content = strip_comment(line);
    size_t first = 0;
    while (first < content.size() && is_space(content[first])) {
      ++first;
    }
    size_t last = content.size();
    while (last > first && is_space(content[last - 1])) {
      --last;
    }
    std::string_view key = content.substr(first, last - first);
    if (key.empty()) {
      continue;
    }
    if (const char* why = check_key(key)) {
      size_t bad = 0;
      while (bad < key.size() && key[bad] > 0x20 && key[bad] < 0x7f) {
        ++bad;
      }
      auto column = static_cast<unsigned>(first + bad + 1);
      std::string message = std::string("the key ") + why;
      if (key[bad] == ' ' || key[bad] == '\t') {
        message += "; write one key a line";
      }
      out.errors.push_back(ConfigError{path, line_no, column, message});
      continue;
    }
    out.keys.emplace_back(key);
  }
  return out;
}

KeysFile read_keys_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  KeysFile out;
  if (f == nullptr) {
    out.read_errno = errno;
    return out;
  }
  std::string text;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
  }
  int err = std::ferror(f) ? (errno != 0 ? errno : EIO) : 0;
  std::fclose(f);
  if (err != 0) {
    out.read_errno = err;
    return out;
  }
  return parse_keys(text, path);
}

std::string resolve_path(std::string_view config_path, std::string_view path) {
  if (path.starts_with('/')) {
    return std::string(path);
  }
  size_t slash = config_path.rfind('/');
  if (slash == std::string_view::npos) {
    return std::string(path);
  }
  return std::string(config_path.substr(0, slash + 1)) + std::string(path);
}

}  // namespace gb::config
