// EventBoundary: finds where complete SSE events end in a byte stream, without parsing
// them, so a proxy can forward whole events and, if the upstream is cut, never leave the
// client holding half an event. Line endings may be CRLF, LF or CR (WHATWG SSE), and may
// be split across feeds.
#pragma once

#include <cstddef>
#include <string_view>

namespace gb::sse {

class EventBoundary {
 public:
  // Returns how many bytes of `data` belong to events that are now complete (counted from
  // the start of `data`; bytes before it that were still open count as part of them).
  // 0 means no event ended inside `data`.
  size_t feed(std::string_view data);
  // Whether every byte fed so far belongs to a complete event.
  bool at_boundary() const { return at_boundary_; }

 private:
  bool line_start_ = true;     // the previous byte ended a line (or nothing came yet)
  bool after_cr_ = false;      // the previous byte was CR: an LF now is part of that ending
  bool cr_was_blank_ = false;  // that CR ended a blank line (an event boundary)
  bool at_boundary_ = true;
};

}  // namespace gb::sse
