#include "sse/json_array_splitter.h"

namespace gb::sse {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool starts_scalar(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == 't' || c == 'f' || c == 'n';
}

}  // namespace

JsonArraySplitter::JsonArraySplitter(size_t max_element_bytes)
    : max_element_bytes_(max_element_bytes) {}

Status JsonArraySplitter::fail(Status s) {
  state_ = State::failed;
  error_ = s;
  element_.clear();
  return s;
}

// Scans byte by byte for structure but copies element bytes in runs: `run` is where the
// part of the current element inside this feed starts.
Status JsonArraySplitter::feed(std::string_view in, const OnElement& on_element) {
  if (state_ == State::failed) {
    return error_;
  }
  size_t run = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (state_ != State::in_element) {
      if (!between_elements(c)) {
        return fail(Status::malformed);
      }
      run = i;
      continue;
    }
    if (!scan_element(c)) {
      continue;
    }
    // A scalar ends before its delimiter; anything else ends with c.
    size_t end = scalar_ ? i : i + 1;
    element_.append(in.substr(run, end - run));
    if (element_.size() > max_element_bytes_) {
      return fail(Status::too_large);
    }
    on_element(element_);
    element_.clear();
    state_ = bare_ ? State::done : State::after_element;
    if (scalar_ && !between_elements(c)) {
      return fail(Status::malformed);
    }
  }
  if (state_ == State::in_element) {
    element_.append(in.substr(run));
    if (element_.size() > max_element_bytes_) {
      return fail(Status::too_large);
    }
  }
  return Status::ok;
}

// Handles a byte outside any element; false if it breaks the array's structure.
bool JsonArraySplitter::between_elements(char c) {
  if (is_space(c)) {
    return true;
  }
  switch (state_) {
    case State::start:
      if (c == '{') {
        bare_ = true;
        return begin_element(c);
      }
      state_ = State::first;
      return c == '[';
    case State::first:
      if (c == ']') {
        state_ = State::done;
        return true;
      }
      return begin_element(c);
    case State::after_element:
      if (c == ']' || c == ',') {
        state_ = c == ']' ? State::done : State::after_comma;
        return true;
      }
      return false;
    case State::after_comma:
      return begin_element(c);
    default:
      return false;  // done (trailing bytes) or failed
  }
}

bool JsonArraySplitter::begin_element(char c) {
  depth_ = 0;
  in_string_ = false;
  escape_ = false;
  scalar_ = false;
  if (c == '{' || c == '[') {
    depth_ = 1;
  } else if (c == '"') {
    in_string_ = true;
  } else if (starts_scalar(c)) {
    scalar_ = true;
  } else {
    return false;
  }
  state_ = State::in_element;
  return true;
}

// Called for every byte after an element's first one.
bool JsonArraySplitter::scan_element(char c) {
  if (in_string_) {
    if (escape_) {
      escape_ = false;
    } else if (c == '\\') {
      escape_ = true;
    } else if (c == '"') {
      in_string_ = false;
      return depth_ == 0;  // a top-level string ends here
    }
    return false;
  }
  if (scalar_) {
    return is_space(c) || c == ',' || c == ']';
  }
  if (c == '"') {
    in_string_ = true;
  } else if (c == '{' || c == '[') {
    ++depth_;
  } else if (c == '}' || c == ']') {
    --depth_;
  }
  return depth_ == 0;
}

}  // namespace gb::sse
