#include "ctl/line_buffer.h"

namespace gb::ctl {

bool LineBuffer::feed(std::string_view data) {
  if (overflow_) {
    return false;
  }
  if (start_ > 0 && start_ == buf_.size()) {
    buf_.clear();
    start_ = scan_ = 0;
  }
  buf_.append(data);
  // A complete line may be followed by the start of the next one: only the bytes after
  // the last newline count against the bound.
  size_t last_nl = buf_.rfind('\n');
  size_t open = last_nl == std::string::npos || last_nl < start_ ? buf_.size() - start_
                                                                 : buf_.size() - last_nl - 1;
  if (open > max_) {
    overflow_ = true;
    buf_.clear();
    start_ = scan_ = 0;
    return false;
  }
  return true;
}

bool LineBuffer::next(std::string* line) {
  if (overflow_) {
    return false;
  }
  size_t from = scan_ > start_ ? scan_ : start_;
  size_t nl = buf_.find('\n', from);
  if (nl == std::string::npos) {
    scan_ = buf_.size();
    return false;
  }
  size_t end = nl > start_ && buf_[nl - 1] == '\r' ? nl - 1 : nl;
  if (end - start_ > max_) {
    overflow_ = true;
    return false;
  }
  line->assign(buf_, start_, end - start_);
  start_ = nl + 1;
  scan_ = start_;
  // Compact once the consumed prefix dominates, so a long session does not grow.
  if (start_ > 64 * 1024 && start_ * 2 > buf_.size()) {
    buf_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  return true;
}

}  // namespace gb::ctl
