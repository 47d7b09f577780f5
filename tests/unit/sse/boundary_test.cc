#include <catch2/catch.hpp>

#include <string>

#include "sse/boundary.h"

using gb::sse::EventBoundary;

namespace {
// Feeds `stream` split at `cut` and returns the total bytes reported complete.
size_t complete_bytes(const std::string& stream, size_t cut) {
  EventBoundary b;
  size_t first = b.feed(std::string_view(stream).substr(0, cut));
  size_t second = b.feed(std::string_view(stream).substr(cut));
  return second != 0 ? cut + second : first;
}
}  // namespace

TEST_CASE("event boundaries are found for CRLF, LF and CR framing at every split", "[sse]") {
  struct Case {
    std::string stream;
    size_t complete;  // bytes that belong to complete events
  };
  const Case cases[] = {
      {"data: {\"a\": 1}\r\n\r\ndata: {\"b\"", 18},
      {"data: x\n\ndata: y\n\n", 18},
      {"data: x\r\rdata: y", 9},
      {"data: x\r\n", 0},
      {"data: x\r\n\r\n", 11},
      {"data: one\ndata: two\n\nda", 21},
  };
  for (const Case& c : cases) {
    for (size_t cut = 0; cut <= c.stream.size(); ++cut) {
      INFO("stream " << c.stream << " cut at " << cut);
      CHECK(complete_bytes(c.stream, cut) == c.complete);
    }
  }
}

TEST_CASE("at_boundary tells whether a half event is pending", "[sse]") {
  EventBoundary b;
  CHECK(b.at_boundary());
  b.feed("data: x\r\n");
  CHECK_FALSE(b.at_boundary());
  b.feed("\r\n");
  CHECK(b.at_boundary());
  b.feed("data");
  CHECK_FALSE(b.at_boundary());
}
