#include "sse/boundary.h"

namespace gb::sse {

size_t EventBoundary::feed(std::string_view data) {
  size_t end = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (c == '\n' && after_cr_) {
      // The LF of a CRLF: the line ended at the CR already.
      after_cr_ = false;
      if (cr_was_blank_) {
        end = i + 1;
        at_boundary_ = true;
      }
      continue;
    }
    if (c == '\r' || c == '\n') {
      bool blank = line_start_;
      if (blank) {
        end = i + 1;
        at_boundary_ = true;
      }
      line_start_ = true;
      after_cr_ = c == '\r';
      cr_was_blank_ = after_cr_ && blank;
      continue;
    }
    line_start_ = false;
    after_cr_ = false;
    cr_was_blank_ = false;
    at_boundary_ = false;
  }
  return end;
}

}  // namespace gb::sse
