// HeaderCollector: turns llhttp's header spans into a Headers list. A name or value may
// arrive in several spans (split across reads) or as an empty span; a value ends only at
// llhttp's on_header_value_complete. Used by the server and the client side alike.
#pragma once

#include <cstddef>
#include <string>

#include "http/headers.h"

namespace gb::http {

class HeaderCollector {
 public:
  // Starts a new header block that goes into *out.
  void reset(Headers* out);
  void field(const char* at, size_t n);
  // A piece of the current value. False when the header has no name.
  bool value(const char* at, size_t n);
  // The current value is complete (trailing whitespace trimmed). False when the header
  // has no name.
  bool value_complete();
  // True between the first span of a value and its completion: a further span of the same
  // value is either a split read or a folded line (the caller tells them apart).
  bool in_value() const { return in_value_; }
  // A name arrived and no value followed it yet.
  bool name_pending() const { return !field_done_ && !field_.empty(); }
  size_t field_size() const { return field_.size(); }

 private:
  bool start_header();

  Headers* out_ = nullptr;
  std::string field_;
  bool field_done_ = false;  // field_ was turned into a header; the next span starts a new one
  bool in_value_ = false;
};

}  // namespace gb::http
