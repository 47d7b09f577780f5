// LineBuffer: splits a byte stream into lines of at most a bound, for the NDJSON
// control protocol on both sides of the socket.
//
// Memory stays within the bound: once a line grows past it, the buffer reports
// overflow and takes nothing more (the peer is broken or hostile; the caller closes).
// The complete lines received before the long one can still be taken.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gb::ctl {

class LineBuffer {
 public:
  explicit LineBuffer(size_t max_line) : max_(max_line) {}

  // Appends bytes; false once a line is longer than max_line (and from then on).
  bool feed(std::string_view data);
  // Takes the next complete line (without '\n', and without a '\r' before it). After
  // an overflow, the lines completed before it.
  bool next(std::string* line);
  bool overflowed() const { return overflow_; }
  size_t buffered() const { return buf_.size() - start_; }

 private:
  size_t max_;
  std::string buf_;
  size_t start_ = 0;  // where the next line begins
  size_t scan_ = 0;   // bytes before this hold no '\n'
  size_t open_ = 0;   // bytes of the line not yet ended
  bool overflow_ = false;
};

}  // namespace gb::ctl
