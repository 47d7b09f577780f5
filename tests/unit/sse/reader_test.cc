#include "sse/reader.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

using gb::sse::Event;
using gb::sse::Reader;
using gb::sse::Status;
using namespace std::string_literals;

namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(GB_FIXTURES) + "/sse/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// The events a transcript should give: its "data: " lines, whatever the line endings.
std::vector<std::string> data_lines(const std::string& crlf) {
  std::vector<std::string> out;
  std::istringstream in(replace_all(crlf, "\r\n", "\n"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("data: ", 0) == 0) {
      out.push_back(line.substr(6));
    }
  }
  return out;
}

struct Collector {
  std::vector<Event> events;
  Reader::OnEvent fn() {
    return [this](const Event& e) { events.push_back(e); };
  }
  std::vector<std::string> data() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      out.push_back(e.data);
    }
    return out;
  }
};

std::vector<Event> read_all(const std::vector<std::string>& feeds, size_t max = 16 << 20) {
  Reader reader(max);
  Collector c;
  for (const auto& f : feeds) {
    REQUIRE(reader.feed(f, c.fn()) == Status::ok);
  }
  return c.events;
}

struct Case {
  const char* name;
  std::string input;
  std::vector<Event> want;
};

bool same(const std::vector<Event>& a, const std::vector<Event>& b) {
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

}  // namespace

TEST_CASE("recorded Gemini CRLF transcripts give the same events at every split", "[sse]") {
  for (const char* name : {"gemini_crlf.txt", "gemini_thinking_crlf.txt"}) {
    std::string crlf = read_fixture(name);
    REQUIRE(crlf.find("\r\n\r\n") != std::string::npos);
    std::vector<std::string> want = data_lines(crlf);
    REQUIRE(want.size() == 2);
    const std::pair<const char*, std::string> variants[] = {
        {"CRLF", crlf},
        {"LF", replace_all(crlf, "\r\n", "\n")},
        {"CR", replace_all(crlf, "\r\n", "\r")},
        {"CRLF lines, LF blank", replace_all(crlf, "\r\n\r\n", "\r\n\n")},
    };
    for (const auto& [ending, bytes] : variants) {
      INFO(name << " " << ending);
      for (size_t split = 0; split <= bytes.size(); ++split) {
        INFO("split at " << split);
        Reader reader;
        Collector c;
        REQUIRE(reader.feed(std::string_view(bytes).substr(0, split), c.fn()) == Status::ok);
        REQUIRE(reader.feed(std::string_view(bytes).substr(split), c.fn()) == Status::ok);
        REQUIRE(c.data() == want);
        CHECK_FALSE(reader.pending());
      }
      Reader reader;
      Collector c;
      for (char ch : bytes) {
        REQUIRE(reader.feed(std::string_view(&ch, 1), c.fn()) == Status::ok);
      }
      CHECK(c.data() == want);
      for (const auto& e : c.events) {
        CHECK(e.event.empty());
        CHECK(e.id.empty());
      }
    }
  }
}

TEST_CASE("SSE field rules follow WHATWG", "[sse]") {
  const Case cases[] = {
      {"data with a space", "data: a\n\n", {{"", "a", ""}}},
      {"data without a space", "data:a\n\n", {{"", "a", ""}}},
      {"only one space is removed", "data:  a \n\n", {{"", " a ", ""}}},
      {"data lines joined", "data: a\ndata:b\ndata\n\n", {{"", "a\nb\n", ""}}},
      {"empty data is an event", "data:\n\n", {{"", "", ""}}},
      {"field without colon", "data\n\n", {{"", "", ""}}},
      {"no data, no event", "event: ping\n\n: keep-alive\n\n\n\n", {}},
      {"comment lines", ": hi\ndata: x\n:data: y\n\n", {{"", "x", ""}}},
      {"event type", "event: message_start\ndata: {}\n\n", {{"message_start", "{}", ""}}},
      {"event type resets after dispatch",
       "event: x\ndata: 1\n\ndata: 2\n\n",
       {{"x", "1", ""}, {"", "2", ""}}},
      {"event type dropped by a dataless event", "event: x\n\ndata: 1\n\n", {{"", "1", ""}}},
      {"id persists",
       "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
       {{"", "a", "7"}, {"", "b", "7"}, {"", "c", ""}}},
      {"id with NUL ignored",
       "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"s,
       {{"", "a", "1"}, {"", "b", "1"}}},
      {"unknown fields ignored", "foo: bar\nDATA: no\ndata: a\n\n", {{"", "a", ""}}},
      {"value keeps colons", "data: {\"a\": \"b:c\"}\n\n", {{"", "{\"a\": \"b:c\"}", ""}}},
      {"leading BOM",
       "\xEF\xBB\xBF"
       "data: a\n\n",
       {{"", "a", ""}}},
      {"a later BOM is not stripped",
       "data: a\n\n\xEF\xBB\xBF"
       "data: b\n\n",
       {{"", "a", ""}}},
      {"CR endings", "data: a\rdata: b\r\rdata: c\r\r", {{"", "a\nb", ""}, {"", "c", ""}}},
      {"mixed endings",
       "data: a\r\n\ndata: b\n\r\ndata: c\r\r\n",
       {{"", "a", ""}, {"", "b", ""}, {"", "c", ""}}},
      {"unterminated event dropped", "data: a\n\ndata: b\n", {{"", "a", ""}}},
      {"OpenAI terminator is plain data",
       "data: {}\n\ndata: [DONE]\n\n",
       {{"", "{}", ""}, {"", "[DONE]", ""}}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(same(read_all({c.input}), c.want));
    // Byte by byte must agree with one feed.
    std::vector<std::string> bytes;
    for (char ch : c.input) {
      bytes.emplace_back(1, ch);
    }
    CHECK(same(read_all(bytes), c.want));
  }
}

TEST_CASE("a CR ending one feed and an LF starting the next are one line ending", "[sse]") {
  struct FeedCase {
    const char* name;
    std::vector<std::string> feeds;
    std::vector<std::string> want;
  };
  const FeedCase cases[] = {
      {"CR | LF CRLF", {"data: a\r", "\n", "\r\n"}, {"a"}},
      {"CR | LF | CR | LF", {"data: a\r", "\n", "\r", "\n"}, {"a"}},
      {"empty feed between CR and LF", {"data: a\r", "", "\n", "\r", "", "\n"}, {"a"}},
      {"CR | CR dispatches", {"data: a\r", "\r"}, {"a"}},
      {"CR | LF LF: the second LF is the blank line", {"data: a\r", "\n\n"}, {"a"}},
      {"CR | data: two lines", {"data: a\r", "data: b\r\r"}, {"a\nb"}},
      {"CR | LF data: the LF is not a blank line", {"data: a\r", "\ndata: b\n\n"}, {"a\nb"}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Reader reader;
    Collector col;
    for (const auto& f : c.feeds) {
      REQUIRE(reader.feed(f, col.fn()) == Status::ok);
    }
    CHECK(col.data() == c.want);
  }
}

TEST_CASE("pending tells a truncated stream", "[sse]") {
  Reader reader;
  Collector c;
  CHECK_FALSE(reader.pending());
  reader.feed("data: a", c.fn());
  CHECK(reader.pending());
  reader.feed("\n", c.fn());
  CHECK(reader.pending());
  reader.feed("\n", c.fn());
  CHECK_FALSE(reader.pending());
  CHECK(c.data() == std::vector<std::string>{"a"});
}

TEST_CASE("retry field sets the reconnection time", "[sse]") {
  Reader reader;
  Collector c;
  CHECK_FALSE(reader.retry().has_value());
  reader.feed("retry: 3000\n\nretry: x1\n\n", c.fn());
  CHECK(reader.retry() == gb::Duration(3000));
  CHECK(c.events.empty());
}

TEST_CASE("an event above the bound is too_large, and stays so", "[sse]") {
  struct SizeCase {
    const char* name;
    std::vector<std::string> feeds;
    Status want;
  };
  const std::string big(200, 'x');
  const SizeCase cases[] = {
      {"fits", {"data: " + std::string(50, 'x') + "\n\n"}, Status::ok},
      {"one long line in one feed", {"data: " + big + "\n\n"}, Status::too_large},
      {"a long line without its ending", {"data: " + big}, Status::too_large},
      {"a long line in pieces", {"data: ", big.substr(0, 90), big.substr(90)}, Status::too_large},
      {"many data lines",
       {"data: " + big.substr(0, 40) + "\ndata: " + big.substr(0, 40) +
        "\ndata: " + big.substr(0, 40) + "\n"},
       Status::too_large},
      {"a long comment", {":" + big}, Status::too_large},
      {"many small events fit",
       {"data: 1234567890\n\ndata: 1234567890\n\ndata: 1234567890\n\n"},
       Status::ok},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Reader reader(100);
    Collector col;
    Status last = Status::ok;
    for (const auto& f : c.feeds) {
      last = reader.feed(f, col.fn());
    }
    CHECK(last == c.want);
    if (c.want == Status::too_large) {
      CHECK(reader.feed("\n\ndata: a\n\n", col.fn()) == Status::too_large);
      CHECK(col.events.empty());
    }
  }
  CHECK(std::string(gb::sse::status_name(Status::too_large)) == "too_large");
}

TEST_CASE("format_event frames data that Reader reads back", "[sse]") {
  struct FormatCase {
    std::string data;
    std::string framed;
    std::string read_back;
  };
  const FormatCase cases[] = {
      {"{\"a\":1}", "data: {\"a\":1}\n\n", "{\"a\":1}"},
      {"[DONE]", "data: [DONE]\n\n", "[DONE]"},
      {"", "data: \n\n", ""},
      {"a\nb", "data: a\ndata: b\n\n", "a\nb"},
      {"a\r\nb\rc", "data: a\ndata: b\ndata: c\n\n", "a\nb\nc"},
      {"a\n", "data: a\ndata: \n\n", "a\n"},
  };
  for (const auto& c : cases) {
    INFO(c.data);
    CHECK(gb::sse::format_event(c.data) == c.framed);
    auto events = read_all({c.framed});
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == c.read_back);
  }
}
