// Token usage of an upstream answer, read as it streams past.
//
// Gemini puts usageMetadata in every GenerateContentResponse (WIRE §1.5, §1.6): once in
// a generateContent body, and on every event of streamGenerateContent, SSE or JSON array,
// with counts that are cumulative, so the last one is the answer's total. UsageScanner is
// fed every byte of the answer, in whatever pieces they arrive, and keeps the values of
// the last usageMetadata object it has seen whole.
//
// It does not parse the answer. It follows JSON string boundaries (quotes and escapes),
// so "usageMetadata" inside an answer's text is only text; spots a string
// "usageMetadata" followed by ':' and '{' (a member name, not a value); copies that
// object until its braces balance, outside strings; and parses the copy. Memory is the
// copy alone, at most kMaxObjectBytes, however long the answer: an object that grows
// past it is dropped (its braces are still followed, without keeping the bytes).
//
// Valid JSON never has a raw line break inside a string, so a CR or LF ends any string
// the scanner thought it was in: a broken event cannot hide the usage of later ones.
//
// Pure: no I/O. Not thread-safe; one per answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gb::proxy {

// Gemini's usageMetadata counts; a missing count is 0.
struct Usage {
  int64_t prompt = 0;      // promptTokenCount (includes cached)
  int64_t candidates = 0;  // candidatesTokenCount
  int64_t thoughts = 0;    // thoughtsTokenCount
  int64_t cached = 0;      // cachedContentTokenCount
  int64_t total = 0;       // totalTokenCount
  bool found = false;      // a usageMetadata object was read whole

  friend bool operator==(const Usage&, const Usage&) = default;
};

class UsageScanner {
 public:
  // Far above a real usageMetadata (a few hundred bytes, with per-modality details).
  static constexpr size_t kMaxObjectBytes = 64 * 1024;

  // The next bytes of the answer, any split (even inside a name or a number).
  void feed(std::string_view bytes);
  // The last usageMetadata read whole so far; found is false if none was.
  Usage result() const { return usage_; }
  // Bytes kept between feeds (the object being copied): at most kMaxObjectBytes.
  size_t buffered() const { return copy_.size(); }

 private:
  enum class State : uint8_t {
    between,      // outside strings, looking for one
    in_string,    // in a string outside the object; matched_ says if it may be the name
    after_name,   // just after "usageMetadata": expecting ':'
    after_colon,  // expecting '{'
    in_object,    // inside the usageMetadata object, copying unless it grew too large
  };

  size_t step_between(std::string_view in, size_t i);
  size_t step_string(std::string_view in, size_t i);
  size_t step_object(std::string_view in, size_t i);
  void finish_object();

  State state_ = State::between;
  size_t matched_ = 0;             // in_string: bytes of "usageMetadata" matched so far
  bool escape_ = false;            // the previous byte in a string was a backslash
  bool object_in_string_ = false;  // in_object: inside one of its strings
  size_t depth_ = 0;               // in_object: open braces and brackets
  bool keeping_ = false;           // in_object: still copying
  std::string copy_;
  Usage usage_;
};

}  // namespace gb::proxy
