#include "config/keys_file.h"

#include <cerrno>
#include <cstdio>
#include <optional>

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

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

struct LineProblem {
  size_t offset;  // into the trimmed line
  std::string message;
};

// "N" of weight=N: a whole number in range, written plainly (no sign, no spaces).
bool parse_weight(std::string_view s, unsigned* out) {
  if (s.empty() || s.size() > 4) {
    return false;
  }
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v < kMinKeyWeight || v > kMaxKeyWeight) {
    return false;
  }
  *out = v;
  return true;
}

// One trimmed, non-empty line: the key, then at most one weight=N. Messages never
// repeat what is on the line: it may be a key.
std::optional<LineProblem> parse_line(std::string_view line, KeySpec* spec) {
  size_t end = 0;
  while (end < line.size() && !is_blank(line[end])) {
    ++end;
  }
  std::string_view key = line.substr(0, end);
  if (const char* why = check_key(key)) {
    size_t bad = 0;
    while (bad < key.size() && key[bad] > 0x20 && key[bad] < 0x7f) {
      ++bad;
    }
    return LineProblem{bad, std::string("the key ") + why};
  }
  bool weighted = false;
  size_t pos = end;
  while (pos < line.size()) {
    while (pos < line.size() && is_blank(line[pos])) {
      ++pos;
    }
    size_t word_end = pos;
    while (word_end < line.size() && !is_blank(line[word_end])) {
      ++word_end;
    }
    std::string_view word = line.substr(pos, word_end - pos);
    constexpr std::string_view kWeight = "weight=";
    if (!word.starts_with(kWeight)) {
      return LineProblem{pos, "only weight=N may follow the key; write one key a line"};
    }
    if (weighted) {
      return LineProblem{pos, "weight is given twice"};
    }
    if (!parse_weight(word.substr(kWeight.size()), &spec->weight)) {
      return LineProblem{pos + kWeight.size(), "weight must be a whole number from " +
                                                   std::to_string(kMinKeyWeight) + " to " +
                                                   std::to_string(kMaxKeyWeight)};
    }
    weighted = true;
    pos = word_end;
  }
  spec->key = std::string(key);
  return std::nullopt;
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
    if (first == last) {
      continue;
    }
    KeySpec spec;
    if (auto problem = parse_line(content.substr(first, last - first), &spec)) {
      auto column = static_cast<unsigned>(first + problem->offset + 1);
      out.errors.push_back(ConfigError{path, line_no, column, problem->message});
      continue;
    }
    out.keys.push_back(std::move(spec));
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
