#include "ctl/line_buffer.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

using gb::ctl::LineBuffer;

namespace {

std::vector<std::string> drain(LineBuffer& b) {
  std::vector<std::string> out;
  std::string line;
  while (b.next(&line)) {
    out.push_back(line);
  }
  return out;
}

// Feeds the pieces in order, taking lines after each, as a reader does.
struct Run {
  std::vector<std::string> lines;
  bool fed_ok = true;  // every feed returned true
  bool overflowed = false;
};

Run run(size_t max, const std::vector<std::string_view>& pieces) {
  LineBuffer b(max);
  Run r;
  for (std::string_view p : pieces) {
    r.fed_ok = b.feed(p) && r.fed_ok;
    for (std::string& l : drain(b)) {
      r.lines.push_back(std::move(l));
    }
  }
  r.overflowed = b.overflowed();
  return r;
}

std::vector<std::string_view> bytes_of(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size(); ++i) {
    out.push_back(s.substr(i, 1));
  }
  return out;
}

}  // namespace

TEST_CASE("lines split across feeds at every byte boundary come out the same", "[ctl]") {
  const std::string input =
      "{\"id\":1}\nsecond\r\n\n\r\nfourth line\nmid\rcr\n\xc3\xa9t\xc3\xa9\nrest";
  const std::vector<std::string> want = {
      "{\"id\":1}", "second", "", "", "fourth line", "mid\rcr", "\xc3\xa9t\xc3\xa9",
  };
  const std::string_view in(input);

  CHECK(run(1024, {in}).lines == want);
  CHECK(run(1024, bytes_of(in)).lines == want);
  for (size_t i = 0; i <= in.size(); ++i) {
    for (size_t j = i; j <= in.size(); ++j) {
      INFO("cut at " << i << " and " << j);
      Run r = run(1024, {in.substr(0, i), in.substr(i, j - i), in.substr(j)});
      REQUIRE(r.lines == want);
      CHECK(r.fed_ok);
      CHECK_FALSE(r.overflowed);
    }
  }
}

TEST_CASE("the unterminated tail stays buffered until its newline", "[ctl]") {
  LineBuffer b(64);
  REQUIRE(b.feed("one\ntw"));
  std::string line;
  REQUIRE(b.next(&line));
  CHECK(line == "one");
  CHECK_FALSE(b.next(&line));
  CHECK(b.buffered() == 2);
  REQUIRE(b.feed("o\r"));
  CHECK_FALSE(b.next(&line));
  REQUIRE(b.feed("\n"));
  REQUIRE(b.next(&line));
  CHECK(line == "two");
  CHECK(b.buffered() == 0);
  CHECK_FALSE(b.next(&line));
}

TEST_CASE("CRLF is stripped, a lone CR is kept and empty lines come out empty", "[ctl]") {
  LineBuffer b(64);
  REQUIRE(b.feed("a\r\n\r\n\n\rb\r\r\nc\r"));
  CHECK(drain(b) == std::vector<std::string>{"a", "", "", "\rb\r"});
  CHECK(b.buffered() == 2);
}

namespace {

// Feeds `input` whole, byte by byte and cut in two at every place; each must give `want`
// without overflowing.
void check_accepted(size_t max, const std::string& input, const std::vector<std::string>& want) {
  std::vector<std::vector<std::string_view>> feedings = {{input}, bytes_of(input)};
  for (size_t i = 0; i <= input.size(); ++i) {
    feedings.push_back({std::string_view(input).substr(0, i), std::string_view(input).substr(i)});
  }
  for (size_t f = 0; f < feedings.size(); ++f) {
    INFO("feeding " << f << " (0: whole, 1: byte by byte, 2 + i: cut at i)");
    Run r = run(max, feedings[f]);
    CHECK(r.lines == want);
    CHECK(r.fed_ok);
    CHECK_FALSE(r.overflowed);
  }
}

}  // namespace

TEST_CASE("a line of exactly max bytes is accepted however it arrives", "[ctl]") {
  constexpr size_t kMax = 32;
  const std::string line(kMax, 'x');
  check_accepted(kMax, line + "\n" + "next\n", {line, "next"});
  check_accepted(kMax, "a\n" + line + "\n", {"a", line});
}

TEST_CASE("a line of exactly max bytes before its newline is kept", "[ctl]") {
  constexpr size_t kMax = 32;
  const std::string line(kMax, 'x');
  LineBuffer b(kMax);
  REQUIRE(b.feed(line));
  CHECK_FALSE(b.overflowed());
  std::string got;
  CHECK_FALSE(b.next(&got));
  CHECK(b.buffered() == kMax);
  REQUIRE(b.feed("\n"));
  REQUIRE(b.next(&got));
  CHECK(got == line);
}

// The CR of a CRLF is part of the end of the line, not of the line: a line of max
// bytes ending in CRLF must not overflow when the CR arrives before the LF.
TEST_CASE("a line of exactly max bytes ending in CRLF is accepted however it arrives",
          "[ctl]") {
  constexpr size_t kMax = 32;
  const std::string line(kMax, 'x');
  check_accepted(kMax, line + "\r\n" + "next\r\n", {line, "next"});
}

TEST_CASE("a line of max + 1 bytes overflows however it arrives", "[ctl]") {
  constexpr size_t kMax = 32;
  const std::string line(kMax + 1, 'y');

  auto check_overflowed = [](LineBuffer& b) {
    CHECK(b.overflowed());
    std::string got;
    CHECK_FALSE(b.next(&got));
    CHECK_FALSE(b.feed("ok\n"));
    CHECK_FALSE(b.feed(""));
    CHECK_FALSE(b.next(&got));
    CHECK(b.overflowed());
  };

  SECTION("in one feed without its newline") {
    LineBuffer b(kMax);
    CHECK_FALSE(b.feed(line));
    check_overflowed(b);
    CHECK(b.buffered() == 0);
  }
  SECTION("in one feed with its newline") {
    LineBuffer b(kMax);
    b.feed(line + "\nafter\n");
    std::string got;
    CHECK_FALSE(b.next(&got));
    check_overflowed(b);
  }
  SECTION("byte by byte without its newline") {
    LineBuffer b(kMax);
    for (size_t i = 0; i < kMax; ++i) {
      REQUIRE(b.feed(std::string_view(line).substr(i, 1)));
    }
    CHECK_FALSE(b.overflowed());
    CHECK_FALSE(b.feed("y"));
    check_overflowed(b);
    CHECK(b.buffered() == 0);
  }
  SECTION("cut anywhere, with its newline") {
    const std::string input = line + "\n";
    for (size_t i = 0; i <= input.size(); ++i) {
      INFO("cut at " << i);
      Run r = run(kMax, {std::string_view(input).substr(0, i), std::string_view(input).substr(i)});
      CHECK(r.lines.empty());
      CHECK(r.overflowed);
    }
  }
  SECTION("cut anywhere, with CRLF") {
    const std::string input = line + "\r\n";
    for (size_t i = 0; i <= input.size(); ++i) {
      INFO("cut at " << i);
      Run r = run(kMax, {std::string_view(input).substr(0, i), std::string_view(input).substr(i)});
      CHECK(r.lines.empty());
      CHECK(r.overflowed);
    }
  }
}

TEST_CASE("complete lines before an overlong one are still returned", "[ctl]") {
  constexpr size_t kMax = 16;
  const std::string input = "first\n\nsecond\r\n" + std::string(kMax + 1, 'z') + "\nnever\n";
  const std::vector<std::string> want = {"first", "", "second"};

  SECTION("taken between feeds") {
    Run r = run(kMax, bytes_of(input));
    CHECK(r.lines == want);
    CHECK(r.overflowed);
    CHECK_FALSE(r.fed_ok);
  }
  SECTION("overlong line ends in the same feed") {
    // The newline of the long line is in the feed: the lines before it come out first.
    Run r = run(kMax, {input});
    CHECK(r.lines == want);
    CHECK(r.overflowed);
  }
}

// A reader that feeds a complete line and the first bytes of an overlong one in the
// same read must still get the complete line: the daemon answers it before refusing.
TEST_CASE("complete lines in the same feed as an unterminated overlong one are returned",
          "[ctl]") {
  constexpr size_t kMax = 16;
  const std::string input = "first\nsecond\n" + std::string(kMax + 1, 'z');
  LineBuffer b(kMax);
  CHECK_FALSE(b.feed(input));
  CHECK(drain(b) == std::vector<std::string>{"first", "second"});
  CHECK(b.overflowed());
}

TEST_CASE("buffered memory stays bounded over a long session of short lines", "[ctl]") {
  constexpr size_t kMax = 4096;
  constexpr int kLines = 100000;
  std::string stream;
  for (int i = 0; i < kLines; ++i) {
    stream += "{\"v\":1,\"id\":" + std::to_string(i) + ",\"cmd\":\"status\"}";
    stream += (i % 3 == 0) ? "\r\n" : "\n";
  }
  LineBuffer b(kMax);
  size_t pos = 0;
  size_t step = 1;
  int seen = 0;
  size_t most = 0;
  std::string line;
  while (pos < stream.size()) {
    // Feeds of 1 to 997 bytes, so lines end at every place within a feed.
    step = (step * 31 + 7) % 997 + 1;
    std::string_view piece = std::string_view(stream).substr(pos, step);
    pos += piece.size();
    REQUIRE(b.feed(piece));
    most = std::max(most, b.buffered());
    REQUIRE(b.buffered() <= kMax + piece.size());
    while (b.next(&line)) {
      REQUIRE(line == "{\"v\":1,\"id\":" + std::to_string(seen) + ",\"cmd\":\"status\"}");
      ++seen;
    }
    REQUIRE(b.buffered() <= kMax);
  }
  CHECK(seen == kLines);
  CHECK(b.buffered() == 0);
  CHECK_FALSE(b.overflowed());
  CHECK(most < 1100);
}
