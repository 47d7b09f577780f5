// Server-sent events, read incrementally by the WHATWG rules (HTML, "Server-sent events",
// event stream interpretation), because upstreams differ in framing (WIRE §0.2): Gemini
// sends CRLF, OpenAI LF, and any of them may be split at any byte by the network.
//
// Accepted: CRLF, LF and CR line endings (a CR ending one feed and an LF starting the
// next are one line ending), "field:value" with or without one space after the colon,
// comment lines (":..."), one leading UTF-8 BOM. Several data lines of one event are
// joined with "\n". An event is dispatched at a blank line, and only if it had data.
// Bytes are passed through as they are: invalid UTF-8 is not replaced.
// Pure: no I/O.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/units.h"
#include "sse/status.h"

namespace gb::sse {

struct Event {
  std::string event;  // the "event:" field; empty means the default type ("message")
  std::string data;   // the data lines joined with "\n", without a trailing "\n"
  std::string id;     // the last "id:" seen in the stream so far (it persists across events)
};

class Reader {
 public:
  using Status = sse::Status;
  using OnEvent = std::function<void(const Event&)>;

  // An event, including the line being read, may hold at most max_event_bytes.
  explicit Reader(size_t max_event_bytes = 16 * kMiB);

  // Consumes any split of the stream and calls on_event for each complete event, in
  // order, before returning. Returns ok or too_large (final). Never malformed: the SSE
  // grammar accepts every byte string.
  Status feed(std::string_view bytes, const OnEvent& on_event);

  // True if an event was started and not dispatched: a stream that ends now lost it.
  bool pending() const;

  // The last "retry:" field, if any (reconnection time in milliseconds).
  std::optional<Duration> retry() const { return retry_; }

 private:
  size_t buffered() const { return line_.size() + data_.size() + event_.size(); }
  void process_line(std::string_view line, const OnEvent& on_event);
  void process_field(std::string_view name, std::string_view value);
  void dispatch(const OnEvent& on_event);

  size_t max_event_bytes_;
  std::string line_;   // the start of a line whose ending has not arrived yet
  std::string data_;   // data lines of the current event, each followed by "\n"
  std::string event_;  // the current event's type
  std::string last_id_;
  std::optional<Duration> retry_;
  bool skip_lf_ = false;    // the previous feed ended with CR
  bool first_line_ = true;  // a BOM may only start the stream
  bool failed_ = false;
};

// Frames one event for a client: "data: " + data + "\n\n". Data containing line breaks
// becomes several data lines, so Reader gives back exactly `data` (with "\n" breaks).
std::string format_event(std::string_view data);

}  // namespace gb::sse
