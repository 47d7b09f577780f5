#include "ctl/line_buffer.h"

namespace gb::ctl {

// Only the bytes of each feed are scanned, once: a peer that sends a long line a byte
// at a time costs linear time. A line may end in "\r\n"; the '\r' does not count
// against the bound, so an open line of max + 1 bytes ending in '\r' waits for its '\n'.
bool LineBuffer::feed(std::string_view data) {
  if (overflow_) {
    return false;
  }
  if (start_ > 0 && (start_ == buf_.size() || start_ > 64 * 1024)) {
    buf_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    bool complete = nl != std::string_view::npos;
    size_t end = complete ? nl : data.size();
    size_t len = open_ + (end - pos);  // the line so far, without its '\n'
    // Whether the line so far ends in '\r' (the first half of a CRLF, perhaps).
    bool cr = len > 0 && (end > pos ? data[end - 1] == '\r' : buf_.back() == '\r');
    if (len > max_ + (cr ? 1 : 0)) {
      // Lines completed before this one stay available to next(); the long one goes.
      overflow_ = true;
      buf_.resize(buf_.size() - open_);
      open_ = 0;
      return false;
    }
    buf_.append(data.substr(pos, end - pos + (complete ? 1 : 0)));
    open_ = complete ? 0 : len;
    pos = end + (complete ? 1 : 0);
  }
  return true;
}

bool LineBuffer::next(std::string* line) {
  size_t from = scan_ > start_ ? scan_ : start_;
  size_t nl = buf_.find('\n', from);
  if (nl == std::string::npos) {
    scan_ = buf_.size();
    return false;
  }
  size_t end = nl > start_ && buf_[nl - 1] == '\r' ? nl - 1 : nl;
  line->assign(buf_, start_, end - start_);
  start_ = nl + 1;
  scan_ = start_;
  return true;
}

}  // namespace gb::ctl
