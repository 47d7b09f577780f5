// ChatStream (WIRE.md §6.5): recorded Gemini SSE transcripts in
// tests/fixtures/openai/stream/NAME.sse -> the client's bytes in EXPECTED.openai.sse, fed
// whole, split at every byte boundary, and byte by byte; and a long stream whose state
// stays bounded.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "llm/openai/chat_response.h"
#include "response_fixtures.h"

using namespace gb::llm::openai;
using namespace gb::llm::openai::test;

namespace {

const ResponseIds kIds{"chatcmpl-gbdtest0001", 1735689600};

struct StreamCase {
  const char* input;     // NAME of NAME.sse
  const char* expected;  // NAME of NAME.openai.sse
  ResponseOptions opt;
  bool fails;  // the stream ends with an error event
};

ResponseOptions stream_options(bool include_usage, std::string model = "gemini-2.5-flash") {
  ResponseOptions o;
  o.model = std::move(model);
  o.stream = true;
  o.include_usage = include_usage;
  return o;
}

std::vector<StreamCase> stream_cases() {
  ResponseOptions serial = stream_options(true, "gemini-3-pro-preview");
  serial.parallel_tool_calls = false;
  ResponseOptions two = stream_options(true);
  two.n = 2;
  return {
      {"text", "text", stream_options(true), false},
      {"text", "text_no_usage", stream_options(false), false},
      {"text_lf", "text_lf", stream_options(false, "gpt-4o"), false},
      {"thoughts", "thoughts", stream_options(true, "gemini-3-pro-preview"), false},
      {"tool_calls", "tool_calls", stream_options(true, "gemini-3-pro-preview"), false},
      {"tool_calls", "tool_calls_serial", serial, false},
      {"two_candidates", "two_candidates", two, false},
      {"midstream_error", "midstream_error", stream_options(true), true},
      {"truncated", "truncated", stream_options(true), true},
      {"blocked_prompt", "blocked_prompt", stream_options(true), false},
      {"safety", "safety", stream_options(false), false},
      {"cut_mid_event", "cut_mid_event", stream_options(true), true},
      {"unterminated_final", "unterminated_final", stream_options(false), false},
  };
}

// Feeds `sse` cut at the given offsets (increasing), then finishes.
std::string run(const std::string& sse, const StreamCase& c, const std::vector<size_t>& cuts,
                bool* failed = nullptr) {
  ChatStream s(c.opt, kIds);
  std::string out;
  size_t pos = 0;
  for (size_t cut : cuts) {
    out += s.feed(std::string_view(sse).substr(pos, cut - pos));
    pos = cut;
  }
  out += s.feed(std::string_view(sse).substr(pos));
  out += s.finish();
  if (failed != nullptr) {
    *failed = s.failed();
  }
  return mask_tool_ids(out);
}

// Each output event is "data: " + one line + "\n\n", and each is JSON or [DONE].
void check_framing(const std::string& out) {
  size_t pos = 0;
  while (pos < out.size()) {
    REQUIRE(out.compare(pos, 6, "data: ") == 0);
    size_t end = out.find("\n\n", pos);
    REQUIRE(end != std::string::npos);
    std::string data = out.substr(pos + 6, end - pos - 6);
    CHECK(data.find('\n') == std::string::npos);
    if (data != "[DONE]") {
      rapidjson::Document d;
      d.Parse(data.c_str());
      CHECK_FALSE(d.HasParseError());
    }
    pos = end + 2;
  }
}

std::string text_event(size_t i) {
  return "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"word" +
         std::to_string(i) +
         " \"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,"
         "\"candidatesTokenCount\": " +
         std::to_string(i + 1) + ",\"totalTokenCount\": " + std::to_string(i + 9) +
         "},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": "
         "\"ag4pavQTzLrj4Q-XkKnZBA\"}\r\n\r\n";
}

size_t heap_in_use() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  return mallinfo2().uordblks;
#else
  return 0;
#endif
}

}  // namespace

TEST_CASE("stream transcripts match their golden output", "[openai-response]") {
  for (const StreamCase& c : stream_cases()) {
    SECTION(c.expected) {
      std::string sse = read_fixture(std::string("stream/") + c.input + ".sse");
      bool failed = false;
      std::string out = run(sse, c, {}, &failed);
      std::string rel = std::string("stream/") + c.expected + ".openai.sse";
      if (regenerating()) {
        write_fixture(rel, out);
      }
      CHECK(out == read_fixture(rel));
      CHECK(failed == c.fails);
      check_framing(out);
      bool done = out.size() >= 14 && out.compare(out.size() - 14, 14, "data: [DONE]\n\n") == 0;
      CHECK(done == !c.fails);
    }
  }
}

TEST_CASE("stream output does not depend on how the upstream bytes are split",
          "[openai-response]") {
  for (const StreamCase& c : stream_cases()) {
    SECTION(c.expected) {
      std::string sse = read_fixture(std::string("stream/") + c.input + ".sse");
      const std::string whole = run(sse, c, {});
      for (size_t cut = 0; cut <= sse.size(); ++cut) {
        INFO("split at byte " << cut);
        REQUIRE(run(sse, c, {cut}) == whole);
      }
      std::vector<size_t> every(sse.size());
      for (size_t i = 0; i < sse.size(); ++i) {
        every[i] = i;
      }
      CHECK(run(sse, c, every) == whole);
    }
  }
}

TEST_CASE("a long stream is translated as it comes, in bounded memory", "[openai-response]") {
  constexpr size_t kEvents = 100000;
  ChatStream s(stream_options(true), kIds);
  size_t heap_at_1000 = 0;
  size_t out_bytes = 0;
  for (size_t i = 0; i < kEvents; ++i) {
    std::string ev = text_event(i);
    // Half an event gives nothing yet; the rest gives exactly that event's chunk. So the
    // translator holds no more than the event being read, and none of the answer.
    size_t half = 7 + i % (ev.size() - 10);
    std::string first = s.feed(std::string_view(ev).substr(0, half));
    REQUIRE(first.empty());
    std::string out = s.feed(std::string_view(ev).substr(half));
    std::string want_text = "\"content\":\"word" + std::to_string(i) + " \"";
    REQUIRE(out.find(want_text) != std::string::npos);
    REQUIRE(out.find("\n\n") == out.size() - 2);  // one chunk
    REQUIRE(out.find("word" + std::to_string(i == 0 ? 1 : i - 1) + " ") == std::string::npos);
    out_bytes += out.size();
    if (i == 1000) {
      heap_at_1000 = heap_in_use();
    }
  }
  // Without a sanitizer, the heap in use after 100 000 events is what it was after 1 000
  // (within 1 MiB), though 100 000 events of output went by.
  size_t heap_end = heap_in_use();
  if (heap_at_1000 != 0) {
    CHECK(heap_end < heap_at_1000 + (1u << 20));
  }
  CHECK(out_bytes > kEvents * 100);
  std::string end = s.feed(
      "data: {\"candidates\": [{\"content\": {\"role\": \"model\"},\"finishReason\": \"STOP\","
      "\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"candidatesTokenCount\": "
      "100000,\"totalTokenCount\": 100008}}\r\n\r\n");
  CHECK(end.find("\"finish_reason\":\"stop\"") != std::string::npos);
  std::string tail = s.finish();
  CHECK(tail.find("\"completion_tokens\":100000") != std::string::npos);
  CHECK(tail.find("data: [DONE]\n\n") != std::string::npos);
  CHECK(s.prompt_tokens() == 8);
  CHECK(s.completion_tokens() == 100000);
}

TEST_CASE("an upstream event over 16 MiB ends the stream with an error", "[openai-response]") {
  ChatStream s(stream_options(true), kIds);
  std::string first = s.feed(text_event(0));
  CHECK(first.find("word0") != std::string::npos);
  std::string out = s.feed("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"");
  std::string block(1 << 20, 'x');
  for (int i = 0; i < 17 && out.empty(); ++i) {
    out = s.feed(block);
  }
  CHECK(out.find("data: {\"error\":") == 0);
  CHECK(out.find("16 MiB") != std::string::npos);
  CHECK(s.failed());
  CHECK(s.feed(block).empty());
  CHECK(s.finish().empty());
  CHECK(s.fail("late").empty());
}

TEST_CASE("fail() ends a stream with an error event and nothing after it", "[openai-response]") {
  ChatStream s(stream_options(true), kIds);
  CHECK_FALSE(s.feed(text_event(0)).empty());
  std::string out = s.fail("upstream connection reset");
  CHECK(out ==
        "data: {\"error\":{\"message\":\"upstream connection reset\",\"type\":\"server_error\","
        "\"param\":null,\"code\":null}}\n\n");
  CHECK(s.failed());
  CHECK(s.feed(text_event(1)).empty());
  CHECK(s.finish().empty());

  ChatStream done(stream_options(false), kIds);
  done.feed(
      "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"hi\"}]},\"finishReason\": "
      "\"STOP\"}]}\n\n");
  CHECK(done.finish() == "data: [DONE]\n\n");
  CHECK(done.fail("too late").empty());
  CHECK_FALSE(done.failed());
}

TEST_CASE("a stream with no event at all is an error", "[openai-response]") {
  ChatStream s(stream_options(true), kIds);
  CHECK(s.feed(": keep-alive\r\n\r\n").empty());
  std::string out = s.finish();
  CHECK(out.find("data: {\"error\":") == 0);
  CHECK(out.find("[DONE]") == std::string::npos);
}

TEST_CASE("a stream event that is not JSON is an error", "[openai-response]") {
  ChatStream s(stream_options(false), kIds);
  std::string out = s.feed("data: <html>\r\n\r\n");
  CHECK(out.find("not a JSON object") != std::string::npos);
  CHECK(s.failed());
}

TEST_CASE("a mid-stream 429 becomes a rate limit error event", "[openai-response]") {
  ChatStream s(stream_options(false), kIds);
  std::string out = s.feed(
      "data: {\"error\": {\"code\": 429,\"message\": \"Resource has been exhausted (e.g. check "
      "quota).\",\"status\": \"RESOURCE_EXHAUSTED\"}}\r\n\r\n");
  CHECK(out ==
        "data: {\"error\":{\"message\":\"Resource has been exhausted (e.g. check quota).\","
        "\"type\":\"rate_limit_error\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}\n\n");
}

TEST_CASE("content after a choice finished is dropped", "[openai-response]") {
  ChatStream s(stream_options(false), kIds);
  std::string out = s.feed(
      "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"a\"}]},\"finishReason\": "
      "\"STOP\"}]}\n\n"
      "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"b\"}]},\"finishReason\": "
      "\"STOP\"}]}\n\n");
  CHECK(out.find("\"content\":\"a\"") != std::string::npos);
  CHECK(out.find("\"content\":\"b\"") == std::string::npos);
  size_t first = out.find("finish_reason\":\"stop\"");
  CHECK(first != std::string::npos);
  CHECK(out.find("finish_reason\":\"stop\"", first + 1) == std::string::npos);
}

// Found by fuzzing: RapidJSON's full-precision number parser misread a zero with a
// large exponent (and UBSan flagged it). Upstream bodies are parsed at default precision.
TEST_CASE("numbers like 0e100 in an upstream answer are read as zero", "[openai-response]") {
  ResponseOptions opt;
  opt.model = "gemini-2.5-flash";
  ResponseIds ids{"chatcmpl-x", 1};
  ChatResponseResult r = translate_chat_response(
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},)"
      R"("finishReason":"STOP","avgLogprobs":0e100}],"usageMetadata":{"promptTokenCount":1,)"
      R"("candidatesTokenCount":1,"totalTokenCount":2}})",
      opt, ids);
  CHECK(r.ok);
  ChatStream s(opt, ids);
  std::string out = s.feed("data: 0e100\r\n\r\n") + s.finish();
  CHECK(s.failed());
  CHECK(out.find("\"error\"") != std::string::npos);
}
