#include "sse/reader.h"

#include <cstdint>

namespace gb::sse {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Digits only, at most 12 of them (far below overflow); anything else is ignored.
std::optional<Duration> parse_retry(std::string_view s) {
  if (s.empty() || s.size() > 12) {
    return std::nullopt;
  }
  int64_t ms = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    ms = ms * 10 + (c - '0');
  }
  return Duration(ms);
}

}  // namespace

const char* status_name(Status s) {
  switch (s) {
    case Status::ok:
      return "ok";
    case Status::too_large:
      return "too_large";
    case Status::malformed:
      return "malformed";
  }
  return "malformed";
}

Reader::Reader(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

bool Reader::pending() const {
  return !line_.empty() || !data_.empty() || !event_.empty();
}

Reader::Status Reader::feed(std::string_view in, const OnEvent& on_event) {
  if (failed_) {
    return Status::too_large;
  }
  size_t pos = 0;
  if (skip_lf_ && !in.empty()) {
    skip_lf_ = false;
    pos = in[0] == '\n' ? 1 : 0;
  }
  while (pos < in.size()) {
    size_t eol = in.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) {
      line_.append(in.substr(pos));
      break;
    }
    // A line that arrived whole is read in place; only split lines are copied.
    std::string_view line = in.substr(pos, eol - pos);
    if (!line_.empty()) {
      line_.append(line);
      line = line_;
    }
    process_line(line, on_event);
    line_.clear();
    pos = eol + 1;
    if (in[eol] == '\r') {
      if (pos == in.size()) {
        skip_lf_ = true;
      } else if (in[pos] == '\n') {
        ++pos;
      }
    }
    if (buffered() > max_event_bytes_) {
      break;
    }
  }
  if (buffered() > max_event_bytes_) {
    failed_ = true;
    return Status::too_large;
  }
  return Status::ok;
}

void Reader::process_line(std::string_view line, const OnEvent& on_event) {
  if (first_line_) {
    first_line_ = false;
    if (line.substr(0, kBom.size()) == kBom) {
      line.remove_prefix(kBom.size());
    }
  }
  if (line.empty()) {
    dispatch(on_event);
    return;
  }
  if (line[0] == ':') {
    return;  // comment, often a keep-alive
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    process_field(line, {});
    return;
  }
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') {
    value.remove_prefix(1);
  }
  process_field(line.substr(0, colon), value);
}

void Reader::process_field(std::string_view name, std::string_view value) {
  if (name == "data") {
    data_.append(value);
    data_.push_back('\n');
  } else if (name == "event") {
    event_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_id_.assign(value);
    }
  } else if (name == "retry") {
    if (auto ms = parse_retry(value)) {
      retry_ = ms;
    }
  }
}

void Reader::dispatch(const OnEvent& on_event) {
  if (data_.empty()) {
    event_.clear();
    return;
  }
  data_.pop_back();  // the "\n" after the last data line
  Event ev{std::move(event_), std::move(data_), last_id_};
  event_.clear();
  data_.clear();
  on_event(ev);
}

std::string format_event(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 8);
  size_t pos = 0;
  while (true) {
    size_t eol = data.find_first_of("\r\n", pos);
    out.append("data: ");
    out.append(data.substr(pos, eol == std::string_view::npos ? eol : eol - pos));
    out.push_back('\n');
    if (eol == std::string_view::npos) {
      break;
    }
    pos = eol + 1;
    if (data[eol] == '\r' && pos < data.size() && data[pos] == '\n') {
      ++pos;
    }
  }
  out.push_back('\n');
  return out;
}

}  // namespace gb::sse
