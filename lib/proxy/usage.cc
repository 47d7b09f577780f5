#include "proxy/usage.h"

#include <rapidjson/document.h>

#include <cmath>
#include <limits>

namespace gb::proxy {

namespace {

constexpr std::string_view kName = "usageMetadata";
constexpr size_t kNoMatch = std::numeric_limits<size_t>::max();

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// A token count as proto3 JSON writes an integer: a number, or a string of digits.
// Anything else, negative or not integral, reads as 0; beyond int64 saturates.
int64_t count(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) {
    return 0;
  }
  const rapidjson::Value& v = it->value;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (v.IsInt64()) {
    return v.GetInt64() > 0 ? v.GetInt64() : 0;
  }
  if (v.IsUint64()) {
    return kMax;  // above INT64_MAX, or IsInt64 would have held
  }
  if (v.IsDouble()) {
    double d = v.GetDouble();
    if (!(d >= 0) || d != std::floor(d)) {
      return 0;
    }
    return d < 9.2e18 ? static_cast<int64_t>(d) : kMax;
  }
  if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) {
      return 0;
    }
    int64_t n = 0;
    for (char c : s) {
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return 0;
}

}  // namespace

void UsageScanner::feed(std::string_view in) {
  size_t i = 0;
  while (i < in.size()) {
    switch (state_) {
      case State::between:
        i = step_between(in, i);
        break;
      case State::in_string:
        i = step_string(in, i);
        break;
      case State::after_name:
        if (is_blank(in[i])) {
          ++i;
        } else if (in[i] == ':') {
          state_ = State::after_colon;
          ++i;
        } else {
          state_ = State::between;  // a value, not a member name: read this byte again
        }
        break;
      case State::after_colon:
        if (is_blank(in[i])) {
          ++i;
        } else if (in[i] == '{') {
          state_ = State::in_object;
          depth_ = 1;
          keeping_ = true;
          object_in_string_ = false;
          escape_ = false;
          copy_.assign(1, '{');
          ++i;
        } else {
          state_ = State::between;  // usageMetadata that is not an object: not ours
        }
        break;
      case State::in_object:
        i = step_object(in, i);
        break;
    }
  }
}

size_t UsageScanner::step_between(std::string_view in, size_t i) {
  size_t quote = in.find('"', i);
  if (quote == std::string_view::npos) {
    return in.size();
  }
  state_ = State::in_string;
  matched_ = 0;
  escape_ = false;
  return quote + 1;
}

size_t UsageScanner::step_string(std::string_view in, size_t i) {
  for (; i < in.size(); ++i) {
    char c = in[i];
    if (escape_) {
      escape_ = false;
      matched_ = kNoMatch;  // the name is never written with escapes
      continue;
    }
    switch (c) {
      case '\\':
        escape_ = true;
        matched_ = kNoMatch;
        break;
      case '"':
        state_ = matched_ == kName.size() ? State::after_name : State::between;
        return i + 1;
      case '\n':
      case '\r':
        state_ = State::between;  // not inside a string after all: resynchronize
        return i + 1;
      default:
        if (matched_ < kName.size() && c == kName[matched_]) {
          ++matched_;
        } else {
          matched_ = kNoMatch;
        }
        break;
    }
  }
  return i;
}

size_t UsageScanner::step_object(std::string_view in, size_t i) {
  size_t start = i;
  bool closed = false;
  for (; i < in.size() && !closed; ++i) {
    char c = in[i];
    if (object_in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"' || c == '\n' || c == '\r') {
        object_in_string_ = false;
      }
    } else if (c == '"') {
      object_in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ == 0) {
      closed = true;
    }
  }
  if (keeping_) {
    if (copy_.size() + (i - start) > kMaxObjectBytes) {
      keeping_ = false;  // not a real usageMetadata; follow it to its end without the bytes
      std::string().swap(copy_);
    } else {
      copy_.append(in.data() + start, i - start);
    }
  }
  if (closed) {
    if (keeping_) {
      finish_object();
    }
    copy_.clear();
    state_ = State::between;
  }
  return i;
}

void UsageScanner::finish_object() {
  rapidjson::Document doc;
  // Iterative: 64 KiB of brackets must not become 64 Ki stack frames.
  doc.Parse<rapidjson::kParseIterativeFlag>(copy_.data(), copy_.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return;  // keep what the previous event said
  }
  usage_.prompt = count(doc, "promptTokenCount");
  usage_.candidates = count(doc, "candidatesTokenCount");
  usage_.thoughts = count(doc, "thoughtsTokenCount");
  usage_.cached = count(doc, "cachedContentTokenCount");
  usage_.total = count(doc, "totalTokenCount");
  usage_.found = true;
}

}  // namespace gb::proxy
