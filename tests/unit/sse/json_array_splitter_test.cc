#include "sse/json_array_splitter.h"

#include <catch2/catch.hpp>

using gb::sse::JsonArraySplitter;
using gb::sse::Status;

namespace {

// Gemini's JSON-array streaming shape (WIRE §1.6.2): pretty-printed elements joined by
// ",\r\n", with strings that hold braces, brackets, escaped quotes and backslashes.
const std::string kElements[] = {
    R"({
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "text": "a } closing brace, a ] bracket, and a \"quoted {\" word"
          }
        ],
        "role": "model"
      },
      "index": 0
    }
  ],
  "modelVersion": "gemini-2.5-flash"
})",
    R"({
  "candidates": [
    {
      "content": {
        "parts": [
          {
            "text": "backslash at the end \\",
            "more": "\\\"{[\\\\]}\"",
            "unicode": "\u007d \u005d"
          }
        ],
        "role": "model"
      },
      "index": 0
    }
  ]
})",
    R"({
  "candidates": [
    {
      "content": {
        "role": "model"
      },
      "finishReason": "STOP",
      "index": 0
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 51,
    "candidatesTokenCount": 2,
    "totalTokenCount": 53
  }
})",
};

std::string body() {
  return "[" + kElements[0] + ",\r\n" + kElements[1] + ",\r\n" + kElements[2] + "]";
}

struct Split {
  std::vector<std::string> elements;
  Status status = Status::ok;
  bool finished = false;
};

Split split_all(const std::vector<std::string>& feeds, size_t max = 16 << 20) {
  JsonArraySplitter s(max);
  Split out;
  for (const auto& f : feeds) {
    out.status = s.feed(f, [&](std::string_view e) { out.elements.emplace_back(e); });
  }
  out.finished = s.finished();
  return out;
}

}  // namespace

TEST_CASE("JSON array elements come out whole at every split position", "[sse]") {
  const std::string b = body();
  const std::vector<std::string> want(std::begin(kElements), std::end(kElements));
  for (size_t i = 0; i <= b.size(); ++i) {
    INFO("split at " << i);
    Split got = split_all({b.substr(0, i), b.substr(i)});
    REQUIRE(got.status == Status::ok);
    REQUIRE(got.elements == want);
    REQUIRE(got.finished);
  }
  std::vector<std::string> bytes;
  for (char c : b) {
    bytes.emplace_back(1, c);
  }
  Split got = split_all(bytes);
  CHECK(got.elements == want);
  CHECK(got.finished);
}

TEST_CASE("three-way splits of the JSON array", "[sse]") {
  const std::string b = body();
  const std::vector<std::string> want(std::begin(kElements), std::end(kElements));
  for (size_t i = 0; i <= b.size(); i += 7) {
    for (size_t j = i; j <= b.size(); j += 5) {
      Split got = split_all({b.substr(0, i), b.substr(i, j - i), b.substr(j)});
      INFO(i << " " << j);
      REQUIRE(got.elements == want);
      REQUIRE(got.finished);
    }
  }
}

TEST_CASE("an element is handed out as soon as it closes", "[sse]") {
  JsonArraySplitter s;
  std::vector<std::string> got;
  auto on = [&](std::string_view e) { got.emplace_back(e); };
  CHECK(s.feed("[{\"a\": \"}\"}", on) == Status::ok);
  CHECK(got == std::vector<std::string>{"{\"a\": \"}\"}"});
  CHECK_FALSE(s.finished());
  CHECK(s.feed("\r\n,\r\n{\"b\": 2}", on) == Status::ok);
  CHECK(got.size() == 2);
  CHECK(s.feed("\r\n]\r\n", on) == Status::ok);
  CHECK(s.finished());
}

TEST_CASE("JSON array splitter shapes", "[sse]") {
  struct Case {
    const char* name;
    std::string input;
    std::vector<std::string> elements;
    Status status;
    bool finished;
  };
  const Case cases[] = {
      {"empty array", " [ ] ", {}, Status::ok, true},
      {"scalars and strings",
       "[1, \"a]\" ,true,null,-2.5e3 ,{\"x\":[1]},[[]]]",
       {"1", "\"a]\"", "true", "null", "-2.5e3", "{\"x\":[1]}", "[[]]"},
       Status::ok,
       true},
      {"error wrapped in an array",
       "[{\"error\": {\"code\": 400, \"message\": \"API key not valid.\"}}]",
       {"{\"error\": {\"code\": 400, \"message\": \"API key not valid.\"}}"},
       Status::ok,
       true},
      {"bare object",
       "{\"error\": {\"code\": 503}}\n",
       {"{\"error\": {\"code\": 503}}"},
       Status::ok,
       true},
      {"unfinished", "[{\"a\": 1},{\"b\"", {"{\"a\": 1}"}, Status::ok, false},
      {"junk before", "x[{}]", {}, Status::malformed, false},
      {"missing comma", "[{} {}]", {"{}"}, Status::malformed, false},
      {"leading comma", "[,{}]", {}, Status::malformed, false},
      {"trailing comma", "[{},]", {"{}"}, Status::malformed, false},
      {"bytes after the end", "[{}] x", {"{}"}, Status::malformed, false},
      {"two bare objects", "{}{}", {"{}"}, Status::malformed, false},
      {"stray closer", "[}]", {}, Status::malformed, false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Split got = split_all({c.input});
    CHECK(got.elements == c.elements);
    CHECK(got.status == c.status);
    CHECK(got.finished == c.finished);
  }
}

TEST_CASE("an element above the bound is too_large, and stays so", "[sse]") {
  const std::string big = "{\"text\": \"" + std::string(100, 'x') + "\"}";
  Split whole = split_all({"[" + big + "]"}, 64);
  CHECK(whole.status == Status::too_large);
  CHECK(whole.elements.empty());
  Split pieces = split_all({"[", big.substr(0, 50), big.substr(50, 30), big.substr(80), "]"}, 64);
  CHECK(pieces.status == Status::too_large);
  Split fits = split_all({"[" + big + "]"}, big.size());
  CHECK(fits.status == Status::ok);
  CHECK(fits.elements.size() == 1);

  JsonArraySplitter s(64);
  auto ignore = [](std::string_view) {};
  CHECK(s.feed("[" + big, ignore) == Status::too_large);
  CHECK(s.feed("]", ignore) == Status::too_large);
  CHECK_FALSE(s.finished());
}
