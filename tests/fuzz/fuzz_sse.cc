// SSE Reader and EventBoundary (lib/sse) on arbitrary bytes.
//
// Input: byte 0 picks a split point, the rest is the stream. The stream is fed whole,
// in two pieces at that point, and one byte at a time; a network may cut it anywhere,
// so all three must give the same events, the same final state and the same boundary.
// EventBoundary is also checked against Reader: the bytes it calls complete hold every
// event the Reader finds in the whole stream, and leave no event half read.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "sse/boundary.h"
#include "sse/reader.h"

namespace {

using gb::sse::Event;
using gb::sse::EventBoundary;
using gb::sse::Reader;
using gb::sse::Status;

struct ReaderRun {
  std::vector<Event> events;
  Status status = Status::ok;
  bool pending = false;
  std::optional<gb::Duration> retry;
};

bool same_events(const std::vector<Event>& a, const std::vector<Event>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].event != b[i].event || a[i].data != b[i].data || a[i].id != b[i].id) {
      return false;
    }
  }
  return true;
}

void check_same(const ReaderRun& a, const ReaderRun& b) {
  FUZZ_CHECK(same_events(a.events, b.events));
  FUZZ_CHECK(a.status == b.status);
  FUZZ_CHECK(a.pending == b.pending);
  FUZZ_CHECK(a.retry == b.retry);
}

// Feeds `pieces` in order to a Reader with the given limit.
ReaderRun read_pieces(const std::vector<std::string_view>& pieces, size_t limit) {
  ReaderRun run;
  Reader reader(limit);
  auto on_event = [&](const Event& ev) {
    // Nothing over the limit may come out: the limit bounds what a stream can make us hold.
    FUZZ_CHECK(ev.data.size() + 1 + ev.event.size() <= limit);
    run.events.push_back(ev);
  };
  for (std::string_view p : pieces) {
    Status s = reader.feed(p, on_event);
    if (run.status == Status::too_large) {
      FUZZ_CHECK(s == Status::too_large);  // final
    }
    FUZZ_CHECK(s != Status::malformed);  // the SSE grammar accepts every byte string
    run.status = s;
  }
  run.pending = reader.pending();
  run.retry = reader.retry();
  return run;
}

struct BoundaryRun {
  size_t complete = 0;  // offset just past the last complete event, from the stream start
  bool at_boundary = true;
};

BoundaryRun bound_pieces(const std::vector<std::string_view>& pieces) {
  BoundaryRun run;
  EventBoundary b;
  size_t offset = 0;
  for (std::string_view p : pieces) {
    size_t n = b.feed(p);
    FUZZ_CHECK(n <= p.size());
    if (n > 0) {
      run.complete = offset + n;
    }
    offset += p.size();
    // "every byte fed so far belongs to a complete event"
    FUZZ_CHECK(b.at_boundary() == (run.complete == offset));
  }
  run.at_boundary = b.at_boundary();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  Feeds feeds = make_feeds(data, size);
  std::string_view stream = feeds.stream;
  const std::vector<std::string_view>& whole = feeds.whole;
  const std::vector<std::string_view>& halves = feeds.halves;
  const std::vector<std::string_view>& bytes = feeds.bytes;

  // Far above any input size: too_large cannot happen, so every split must agree.
  const size_t big = 16u << 20;
  ReaderRun r_whole = read_pieces(whole, big);
  FUZZ_CHECK(r_whole.status == Status::ok);
  check_same(r_whole, read_pieces(halves, big));
  check_same(r_whole, read_pieces(bytes, big));

  BoundaryRun b_whole = bound_pieces(whole);
  BoundaryRun b_halves = bound_pieces(halves);
  BoundaryRun b_bytes = bound_pieces(bytes);
  FUZZ_CHECK(b_whole.complete <= stream.size());
  FUZZ_CHECK(b_whole.complete == b_halves.complete && b_whole.at_boundary == b_halves.at_boundary);
  FUZZ_CHECK(b_whole.complete == b_bytes.complete && b_whole.at_boundary == b_bytes.at_boundary);

  // What a proxy forwards (the complete prefix) carries every event of the stream.
  ReaderRun r_prefix = read_pieces({stream.substr(0, b_whole.complete)}, big);
  FUZZ_CHECK(same_events(r_whole.events, r_prefix.events));
  FUZZ_CHECK(!r_prefix.pending);

  // A small limit (from the split byte): too_large is final and nothing large gets out.
  // Where it triggers depends on the split (a line read in place costs nothing), so the
  // runs are not compared.
  size_t small = 1 + data[0] % 64;
  read_pieces(whole, small);
  read_pieces(halves, small);
  return 0;
}
