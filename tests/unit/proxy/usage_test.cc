// UsageScanner on real answers (gb-mock's builders and WIRE.md's captures) in every
// framing, fed whole, cut at every byte boundary and byte by byte; on long answers with
// bounded memory; and on input that is no answer at all.
#include "proxy/usage.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "../../mock/errors.h"
#include "../../mock/responses.h"

using gb::proxy::Usage;
using gb::proxy::UsageScanner;
namespace mock = gb::mock;

namespace Catch {
template <>
struct StringMaker<Usage> {
  static std::string convert(const Usage& u) {
    return "{prompt " + std::to_string(u.prompt) + ", candidates " + std::to_string(u.candidates) +
           ", thoughts " + std::to_string(u.thoughts) + ", cached " + std::to_string(u.cached) +
           ", total " + std::to_string(u.total) + (u.found ? ", found}" : ", not found}");
  }
};
}  // namespace Catch

namespace {

Usage usage(int64_t prompt, int64_t candidates, int64_t thoughts, int64_t cached, int64_t total) {
  return Usage{prompt, candidates, thoughts, cached, total, true};
}

Usage scan(const std::vector<std::string_view>& pieces) {
  UsageScanner s;
  for (std::string_view p : pieces) {
    s.feed(p);
    REQUIRE(s.buffered() <= UsageScanner::kMaxObjectBytes);
  }
  return s.result();
}

// Whole, in two pieces cut at every boundary, and one byte at a time: all agree.
void check_every_split(std::string_view answer, const Usage& want) {
  CHECK(scan({answer}) == want);
  for (size_t cut = 0; cut <= answer.size(); ++cut) {
    Usage got = scan({answer.substr(0, cut), answer.substr(cut)});
    if (!(got == want)) {
      INFO("cut at " << cut);
      CHECK(got == want);
      return;
    }
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < answer.size(); ++i) {
    bytes.push_back(answer.substr(i, 1));
  }
  CHECK(scan(bytes) == want);
}

mock::GenerationPlan echo_plan(std::string text, uint64_t chunks) {
  mock::GenerationPlan p;
  p.model = "gemini-2.5-flash";
  p.response_id = "ag4pavQTzLrj4Q-XkKnZBA";
  p.prompt_tokens = 51;
  p.text = mock::TextSource::echo(std::move(text));
  p.chunks = chunks;
  return p;
}

std::string stream(const mock::GenerationPlan& p, mock::Framing f) {
  std::string out;
  for (uint64_t i = 0; i < p.event_count(); ++i) {
    mock::append_framed_event(p, i, f, out);
  }
  out += mock::stream_trailer(f, p.event_count() > 0);
  return out;
}

// What the last event of the plan reports, by the mock's documented rules.
Usage final_usage(const mock::GenerationPlan& p) {
  auto prompt = static_cast<int64_t>(p.prompt_tokens);
  auto candidates = static_cast<int64_t>(p.candidates_after(p.text_end()));
  auto thoughts =
      static_cast<int64_t>(p.thought.empty() ? 0 : mock::tokens_for_bytes(p.thought.size()));
  return usage(prompt, candidates, thoughts, 0, prompt + candidates + thoughts);
}

constexpr mock::Framing kFramings[] = {mock::Framing::sse_crlf, mock::Framing::sse_lf,
                                       mock::Framing::json_array};

// WIRE §1.6.1, verbatim (CRLF framing).
constexpr std::string_view kCapturedStream =
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Four.\"}],\"role\": "
    "\"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 51,"
    "\"candidatesTokenCount\": 2,\"totalTokenCount\": 53},\"modelVersion\": "
    "\"gemini-2.5-flash\",\"responseId\": \"ag4pavQTzLrj4Q-XkKnZBA\"}\r\n\r\n"
    "data: {\"candidates\": [{\"content\": {\"role\": \"model\"},\"finishReason\": "
    "\"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 51,"
    "\"candidatesTokenCount\": 2,\"totalTokenCount\": 53},\"modelVersion\": "
    "\"gemini-2.5-flash\",\"responseId\": \"ag4pavQTzLrj4Q-XkKnZBA\"}\r\n\r\n";

// WIRE §1.6.1, thinking and a tool call: the first event has no candidatesTokenCount.
constexpr std::string_view kCapturedThinking =
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Planning the call.\","
    "\"thought\": true}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": "
    "{\"promptTokenCount\": 48,\"thoughtsTokenCount\": 40,\"totalTokenCount\": 88},"
    "\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n"
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": "
    "\"get_weather\",\"args\": {\"city\": \"Paris\"}},\"thoughtSignature\": \"sig-real\"}],"
    "\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": "
    "{\"promptTokenCount\": 48,\"candidatesTokenCount\": 14,\"totalTokenCount\": 102},"
    "\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n";

// WIRE §1.5 with a cache hit: every count present, details arrays included.
constexpr std::string_view kPrettyBody = R"({
  "candidates": [
    {
      "content": {
        "parts": [
          { "text": "The user asks for the capital…", "thought": true },
          { "text": "Paris." }
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "index": 0
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 9,
    "candidatesTokenCount": 2,
    "totalTokenCount": 51,
    "cachedContentTokenCount": 4,
    "promptTokensDetails": [ { "modality": "TEXT", "tokenCount": 9 } ],
    "cacheTokensDetails": [ { "modality": "TEXT", "tokenCount": 4 } ],
    "thoughtsTokenCount": 40
  },
  "modelVersion": "gemini-2.5-flash",
  "responseId": "ag4pavQTzLrj4Q-XkKnZBA"
}
)";

}  // namespace

TEST_CASE("usage of WIRE.md's captured answers", "[proxy]") {
  check_every_split(kCapturedStream, usage(51, 2, 0, 0, 53));
  check_every_split(kCapturedThinking, usage(48, 14, 0, 0, 102));
  check_every_split(kPrettyBody, usage(9, 2, 40, 4, 51));
}

TEST_CASE("usage of gb-mock's generateContent bodies", "[proxy]") {
  mock::GenerationPlan p = echo_plan("Echo: what is the usage of usageMetadata?", 3);
  check_every_split(mock::generate_body(p), final_usage(p));

  p.thought = "Thinking about the request before answering.";
  check_every_split(mock::generate_body(p), final_usage(p));

  p.max_output_bytes = 8;  // MAX_TOKENS
  check_every_split(mock::generate_body(p), final_usage(p));

  mock::GenerationPlan call = echo_plan("Echo: x", 3);
  call.function_name = "get_weather";
  call.signature = true;
  check_every_split(mock::generate_body(call), final_usage(call));
}

TEST_CASE("usage of gb-mock's streams, SSE and JSON array: the last event wins", "[proxy]") {
  for (mock::Framing f : kFramings) {
    INFO("framing " << static_cast<int>(f));
    mock::GenerationPlan p = echo_plan("Echo: count my tokens, please", 5);
    p.thought = "Thinking about the request before answering.";
    std::string s = stream(p, f);
    REQUIRE(p.event_count() == 7);
    check_every_split(s, final_usage(p));

    // Counts the test chose (x-mock-*-tokens) come out as chosen.
    p.prompt_tokens = 1234;
    p.candidates_tokens = 567;
    int64_t thoughts = final_usage(p).thoughts;
    REQUIRE(thoughts > 0);
    check_every_split(stream(p, f), usage(1234, 567, thoughts, 0, 1234 + 567 + thoughts));

    // Cut short: no final event, so the last text event's cumulative counts.
    p.finish = false;
    std::string cut = stream(p, f);
    check_every_split(cut, final_usage(p));
  }
}

TEST_CASE("a stream cut inside an event keeps the usage of the last whole one", "[proxy]") {
  mock::GenerationPlan p = echo_plan("Echo: abcdefghijklmnopqrstuvwxyz", 4);
  std::string s = stream(p, mock::Framing::sse_crlf);
  std::string last_event_start = s.substr(0, s.rfind("data: "));
  // Everything up to the middle of the final event's usageMetadata.
  size_t mid = s.find("usageMetadata", last_event_start.size()) + 30;
  UsageScanner whole;
  whole.feed(last_event_start);
  Usage before_last = whole.result();
  REQUIRE(before_last.found);
  UsageScanner cut;
  cut.feed(s.substr(0, mid));
  CHECK(cut.result() == before_last);
  CHECK(cut.buffered() > 0);  // the unfinished object
}

TEST_CASE("usageMetadata inside an answer's text does not count", "[proxy]") {
  // The model talks about usage: the text, once JSON-escaped, holds the key and an object.
  std::string text =
      "Echo: \"usageMetadata\": {\"promptTokenCount\": 999, \"totalTokenCount\": 999} and "
      "\\\"usageMetadata\\\": {\"promptTokenCount\": 998} {{{ [[[ \"";
  for (mock::Framing f : kFramings) {
    mock::GenerationPlan p = echo_plan(text, 3);
    check_every_split(stream(p, f), final_usage(p));
  }
  mock::GenerationPlan p = echo_plan(text, 3);
  check_every_split(mock::generate_body(p), final_usage(p));

  // One quote in a one-line event: the string ends at the real quote, not the escaped one.
  for (const char* t : {"Echo: say \"hi", "Echo: \\", "Echo: \\\"usageMetadata\\\": {"}) {
    INFO(t);
    mock::GenerationPlan odd = echo_plan(t, 1);
    odd.finish = false;  // a single event: text, then usage on the same line
    check_every_split(stream(odd, mock::Framing::sse_crlf), final_usage(odd));
  }

  // The text is the last thing in the answer (no real usage at all).
  check_every_split(
      R"({"candidates": [{"content": {"parts": [{"text": "\"usageMetadata\": {\"promptTokenCount\": 5}"}]}}]})",
      Usage{});
  // As a value, not a member name.
  check_every_split(R"({"note": "usageMetadata", "x": {"promptTokenCount": 5}})", Usage{});
}

TEST_CASE("usage fields: missing ones are 0, odd values read safely", "[proxy]") {
  struct Row {
    const char* answer;
    Usage want;
  };
  const Row rows[] = {
      {R"({"usageMetadata": {}})", usage(0, 0, 0, 0, 0)},
      {R"({"usageMetadata": {"trafficType": "ON_DEMAND"}})", usage(0, 0, 0, 0, 0)},
      {R"({"usageMetadata":{"promptTokenCount":7}})", usage(7, 0, 0, 0, 0)},
      {R"({"usageMetadata" : { "promptTokenCount" : "12", "totalTokenCount": 12.0 }})",
       usage(12, 0, 0, 0, 12)},
      {R"({"usageMetadata": {"promptTokenCount": -5, "candidatesTokenCount": 1.5,)"
       R"( "totalTokenCount": "x", "thoughtsTokenCount": null, "cachedContentTokenCount": [1]}})",
       usage(0, 0, 0, 0, 0)},
      {R"({"usageMetadata": {"promptTokenCount": 99999999999999999999}})",
       usage(INT64_MAX, 0, 0, 0, 0)},
      {R"({"usageMetadata": {"promptTokenCount": 18446744073709551615}})",
       usage(INT64_MAX, 0, 0, 0, 0)},
      // Nested objects and strings with braces inside the usage object.
      {R"({"usageMetadata": {"promptTokensDetails": [{"modality": "}{]["}], "promptTokenCount": 3}})",
       usage(3, 0, 0, 0, 0)},
      // A usageMetadata that is not an object is not one.
      {R"({"usageMetadata": 5})", Usage{}},
      {R"({"usageMetadata": null})", Usage{}},
      {R"({"usageMetadata": [{"promptTokenCount": 5}]})", Usage{}},
      {R"({"usageMetadata" "promptTokenCount": 5})", Usage{}},
      // Broken inside: the object is dropped.
      {R"({"usageMetadata": {"promptTokenCount": 5,,}})", Usage{}},
      {R"({"usageMetadata": {"promptTokenCount": 5)", Usage{}},
  };
  for (const Row& r : rows) {
    INFO(r.answer);
    check_every_split(r.answer, r.want);
  }
}

TEST_CASE("answers without usage: found is false", "[proxy]") {
  CHECK_FALSE(scan({""}).found);
  CHECK_FALSE(scan({"{}"}).found);
  CHECK_FALSE(scan({mock::count_tokens_body(31)}).found);
  CHECK_FALSE(scan({mock::embed_body({"hello", 8})}).found);
  CHECK_FALSE(scan({R"({"error": {"code": 503, "message": "overloaded"}})"}).found);
  CHECK_FALSE(scan({"[]"}).found);
  CHECK_FALSE(scan({"usageMetadata: {promptTokenCount: 5}"}).found);
}

TEST_CASE("a mid-stream error after events keeps their usage", "[proxy]") {
  mock::GenerationPlan p = echo_plan("Echo: hello there", 3);
  std::string s;
  mock::append_framed_event(p, 0, mock::Framing::sse_crlf, s);
  mock::append_framed_event(p, 1, mock::Framing::sse_crlf, s);
  Usage after_two = scan({s});
  REQUIRE(after_two.found);
  mock::append_framed_error(mock::unavailable_line(), false, mock::Framing::sse_crlf, s);
  check_every_split(s, after_two);
}

TEST_CASE("long answers keep the scanner's memory bounded", "[proxy]") {
  // 8 MiB in 64 KiB text events, usage on each, fed in 4000-byte pieces.
  mock::GenerationPlan p;
  p.model = "gemini-2.5-flash";
  p.response_id = "rid";
  p.prompt_tokens = 10;
  p.text = mock::TextSource::filler(8 << 20);
  p.chunks = 128;
  p.chunk_bytes = 64 << 10;
  for (mock::Framing f : kFramings) {
    std::string s = stream(p, f);
    REQUIRE(s.size() > (8u << 20));
    UsageScanner scanner;
    size_t most = 0;
    for (size_t i = 0; i < s.size(); i += 4000) {
      scanner.feed(std::string_view(s).substr(i, 4000));
      most = std::max(most, scanner.buffered());
    }
    CHECK(most < 1024);  // only ever a usage object, a few hundred bytes
    CHECK(scanner.result() == final_usage(p));
  }

  // One event whose text alone is 4 MiB, fed whole.
  mock::GenerationPlan big = echo_plan("", 1);
  big.text = mock::TextSource::filler(4 << 20);
  UsageScanner one;
  one.feed(mock::generate_body(big));
  CHECK(one.buffered() == 0);
  CHECK(one.result() == final_usage(big));
}

TEST_CASE("a usageMetadata object too large to be real is dropped, later ones still count",
          "[proxy]") {
  std::string huge = R"({"usageMetadata": {"promptTokenCount": 1, "pad": ")" +
                     std::string(UsageScanner::kMaxObjectBytes, 'x') + R"("}})";
  std::string real = "\n" + std::string(kCapturedStream);
  UsageScanner s;
  for (size_t i = 0; i < huge.size(); i += 1000) {
    s.feed(std::string_view(huge).substr(i, 1000));
    CHECK(s.buffered() <= UsageScanner::kMaxObjectBytes);
  }
  CHECK_FALSE(s.result().found);
  CHECK(s.buffered() == 0);
  s.feed(real);
  CHECK(s.result() == usage(51, 2, 0, 0, 53));
}

TEST_CASE("garbage in, no crash, bounded memory", "[proxy]") {
  // Deterministic noise made of JSON's structural bytes and the key itself.
  const std::string_view atoms[] = {
      "\"usageMetadata\"",       ":", "{",    "}", "[", "]", "\"", "\\", "\n", " ",
      "\"promptTokenCount\": 5", ",", "\xff", "x"};
  uint64_t x = 88172645463325252ull;
  std::string noise;
  while (noise.size() < (1 << 20)) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    noise += atoms[x % (sizeof atoms / sizeof atoms[0])];
  }
  UsageScanner s;
  for (size_t i = 0; i < noise.size(); i += 777) {
    s.feed(std::string_view(noise).substr(i, 777));
    REQUIRE(s.buffered() <= UsageScanner::kMaxObjectBytes);
  }
  Usage u = s.result();
  CHECK(u.prompt >= 0);
  CHECK(u.total >= 0);

  // Brackets without end inside a usage object: followed, never kept past the limit.
  UsageScanner deep;
  deep.feed(R"({"usageMetadata": {"a": )");
  deep.feed(std::string(1 << 20, '['));
  CHECK(deep.buffered() <= UsageScanner::kMaxObjectBytes);
  CHECK_FALSE(deep.result().found);

  // NUL bytes, a lone quote, a backslash at the very end.
  CHECK_FALSE(scan({std::string_view("\0\0\"usage\0Metadata\": {}", 22)}).found);
  CHECK_FALSE(scan({"\"", "\\"}).found);
}

TEST_CASE("a string broken by a line break does not hide the events after it", "[proxy]") {
  // A raw newline cannot be inside a JSON string: the scanner stops believing it is in one.
  std::string s = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"cut\r\n\r\n";
  s += kCapturedStream;
  check_every_split(s, usage(51, 2, 0, 0, 53));
}
