// Gemini's streaming without ?alt=sse (WIRE §1.6.2): one JSON array, flushed element by
// element, `[{…}` … `,\r\n{…}` … `]`, split by the network at any byte. The splitter
// tracks strings, escapes and nesting depth only (it does not validate the JSON inside an
// element; the caller parses each element) and hands out each top-level element whole,
// as soon as its last byte arrives.
// A body that is a bare object instead of an array is taken as a one-element stream, so
// an error object sent without the array still comes out.
// Pure: no I/O.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "base/units.h"
#include "sse/status.h"

namespace gb::sse {

class JsonArraySplitter {
 public:
  using OnElement = std::function<void(std::string_view element)>;

  explicit JsonArraySplitter(size_t max_element_bytes = 16 * kMiB);

  // Consumes any split of the body; calls on_element with each complete element's text
  // (valid only during the call). malformed: bytes outside the array's structure
  // (something before '[', a missing comma, data after ']'). Both errors are final.
  Status feed(std::string_view bytes, const OnElement& on_element);

  // The closing ']' (or the end of a bare object) has been seen.
  bool finished() const { return state_ == State::done; }

 private:
  enum class State { start, first, after_element, after_comma, in_element, done, failed };

  bool begin_element(char c);
  bool scan_element(char c);  // true when c ends the element (c included unless scalar)
  bool between_elements(char c);
  Status fail(Status s);

  size_t max_element_bytes_;
  State state_ = State::start;
  Status error_ = Status::ok;
  std::string element_;  // the part of the element from earlier feeds
  int depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  bool scalar_ = false;  // a number or literal: it ends at the next delimiter
  bool bare_ = false;    // the body is one object, not an array
};

}  // namespace gb::sse
