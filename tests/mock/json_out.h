// JsonOut: a small JSON writer that imitates the two layouts Google's front end produces.
//
//   pretty  2-space indent, one member per line; non-streaming bodies and error bodies.
//   line    one line, `": "` after keys and `,` with no space between members; SSE events.
//   compact one line with no spaces at all, `{"a":1,"b":[]}`; the OpenAI-compatible layer.
//
// Strings are escaped like Google's encoder: besides the JSON-mandatory escapes it writes
// < > & as \u003c \u003e \u0026 (HTML-safe output), so clients meet \u escapes in tests.
// Quotes ' and = stay plain, as in the captured error messages of WIRE.md §2.3.
// Header-only so that the unit tests can use it without linking the mock executable.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace gb::mock {

enum class JsonStyle { pretty, line, compact };

// Length of the valid UTF-8 sequence at s[i], or 0 if the bytes there are not one.
inline size_t utf8_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2)) {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      return 0;
    }
  }
  return n;
}

// s with every byte that is not part of a valid UTF-8 sequence replaced by U+FFFD, for
// echoing client bytes into JSON.
inline std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

inline void append_google_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t plain = 0;  // start of the run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    const char* esc = nullptr;
    switch (c) {
      case '"':
        esc = "\\\"";
        break;
      case '\\':
        esc = "\\\\";
        break;
      case '\n':
        esc = "\\n";
        break;
      case '\r':
        esc = "\\r";
        break;
      case '\t':
        esc = "\\t";
        break;
      case '\b':
        esc = "\\b";
        break;
      case '\f':
        esc = "\\f";
        break;
      default:
        if (c >= 0x20 && c != '<' && c != '>' && c != '&') {
          continue;
        }
    }
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    if (esc != nullptr) {
      out += esc;
    } else {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

class JsonOut {
 public:
  JsonOut(JsonStyle style, std::string* out) : style_(style), out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  void key(std::string_view k) {
    separate();
    append_google_json_string(*out_, k);
    *out_ += style_ == JsonStyle::compact ? ":" : ": ";
    after_key_ = true;
  }
  void string(std::string_view s) {
    value_prefix();
    append_google_json_string(*out_, s);
  }
  void number(int64_t v) { raw(std::to_string(v)); }
  void number(uint64_t v) { raw(std::to_string(v)); }
  void number(int v) { number(static_cast<int64_t>(v)); }
  void boolean(bool v) { raw(v ? "true" : "false"); }
  void null() { raw("null"); }
  // A value already rendered as JSON (a number literal such as 0.95).
  void raw(std::string_view json) {
    value_prefix();
    *out_ += json;
  }

  // Convenience for the common "key": value members.
  void member(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  void member(std::string_view k, const char* v) { member(k, std::string_view(v)); }
  void member(std::string_view k, const std::string& v) { member(k, std::string_view(v)); }
  void member(std::string_view k, uint64_t v) {
    key(k);
    number(v);
  }
  void member(std::string_view k, int v) {
    key(k);
    number(v);
  }
  void member(std::string_view k, bool v) {
    key(k);
    boolean(v);
  }

 private:
  struct Level {
    bool is_array;
    size_t count;
  };

  void newline_indent(size_t depth) {
    *out_ += '\n';
    out_->append(depth * 2, ' ');
  }
  // Before a key, or before an array element.
  void separate() {
    Level& top = levels_[depth_ - 1];
    if (top.count++ > 0) {
      *out_ += ',';
    }
    if (style_ == JsonStyle::pretty) {
      newline_indent(depth_);
    }
  }
  void value_prefix() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ > 0) {
      separate();
    }
  }
  void open(char c) {
    value_prefix();
    *out_ += c;
    // Our documents nest a handful of levels; deeper ones would be a bug in a builder.
    if (depth_ < levels_.size()) {
      levels_[depth_] = {c == '[', 0};
    }
    ++depth_;
  }
  void close(char c) {
    bool had_members = levels_[depth_ - 1].count > 0;
    --depth_;
    if (style_ == JsonStyle::pretty && had_members) {
      newline_indent(depth_);
    }
    *out_ += c;
  }

  JsonStyle style_;
  std::string* out_;
  std::array<Level, 32> levels_{};
  size_t depth_ = 0;
  bool after_key_ = false;
};

}  // namespace gb::mock
