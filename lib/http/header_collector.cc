#include "http/header_collector.h"

namespace gb::http {

void HeaderCollector::reset(Headers* out) {
  out_ = out;
  field_.clear();
  field_done_ = false;
  in_value_ = false;
}

void HeaderCollector::field(const char* at, size_t n) {
  if (field_done_) {
    field_.clear();
    field_done_ = false;
  }
  field_.append(at, n);
}

bool HeaderCollector::start_header() {
  if (field_.empty()) {
    return false;
  }
  out_->add(field_, std::string());
  field_done_ = true;
  return true;
}

bool HeaderCollector::value(const char* at, size_t n) {
  if (!in_value_) {
    if (!start_header()) {
      return false;
    }
    in_value_ = true;
  }
  out_->list().back().value.append(at, n);
  return true;
}

bool HeaderCollector::value_complete() {
  // A header with an empty value delivers no value span at all.
  if (!in_value_ && !start_header()) {
    return false;
  }
  in_value_ = false;
  std::string& v = out_->list().back().value;
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
    v.pop_back();
  }
  return true;
}

}  // namespace gb::http
