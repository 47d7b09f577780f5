// The OpenAI response translators (lib/llm/openai/chat_response.h) on arbitrary upstream
// bytes: ChatStream for a streamed answer, translate_chat_response for a whole one and
// translate_error for an error answer.
//
// Input: byte 0 picks the options, the rest is the upstream body.
//   bit 0  stream_options.include_usage
//   bit 1  parallel_tool_calls
//   bit 2  stream
//   bit 3  no model named by the client (the answer's modelVersion is echoed instead)
//   bits 4-7  how the body is cut for ChatStream: 0 fed whole, else into pieces of 1 to
//             kPieceMax[bits] bytes, each length taken from the byte where the piece
//             starts (1: byte by byte), so the cuts move with the content.
// The body goes through a ChatStream in those pieces, then finish(); fail(), finish() and
// feed() after that must return nothing.
// What every call returns is whole `data: <one line>\n\n` events, each `[DONE]` or a JSON
// object; nothing follows [DONE] or an error event; the stream ends with exactly one of
// them, [DONE] when failed() is false and an error event when it is true. The body is
// also given whole to translate_chat_response (its body, when ok, is a JSON object) and
// to translate_error(429, body, "") (a 429 with OpenAI's error object, and a Retry-After
// that is not negative).
//
// JSON must also be valid UTF-8 when the body is valid UTF-8 and holds no escaped UTF-16
// surrogate (\uD800-\uDFFF): the answers are not checked for encoding, so bad bytes from
// the upstream may pass through, and rapidjson turns a lone escaped surrogate into bytes
// that are not UTF-8.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "llm/openai/chat_response.h"

namespace {

using namespace gb::llm::openai;

constexpr size_t kPieceMax[16] = {0, 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 65, 129, 1025, 8193};

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      auto t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (t & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

bool has_surrogate_escape(std::string_view s) {
  for (size_t i = s.find("\\u"); i != std::string_view::npos; i = s.find("\\u", i + 1)) {
    if (i + 3 < s.size() && (s[i + 2] == 'd' || s[i + 2] == 'D') &&
        std::string_view("89abcdefABCDEF").find(s[i + 3]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// One JSON object and nothing after it; in valid UTF-8 when `strict`.
bool json_object(std::string_view text, bool strict) {
  rapidjson::Document d;
  if (strict) {
    d.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                    text.size());
  } else {
    d.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  }
  return !d.HasParseError() && d.IsObject();
}

bool is_error_event(std::string_view data) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(data.data(), data.size());
  return d.IsObject() && d.HasMember("error");
}

// What the client has been sent so far.
struct Sent {
  size_t done = 0;    // [DONE] events
  size_t errors = 0;  // error events
  bool last_done = false;
  bool last_error = false;
};

// `out` is what one call returned: whole events only, none after the end of the stream.
void check_events(std::string_view out, bool strict, Sent* sent) {
  size_t pos = 0;
  while (pos < out.size()) {
    FUZZ_CHECK(out.substr(pos, 6) == "data: ");
    size_t end = out.find("\n\n", pos);
    FUZZ_CHECK(end != std::string_view::npos);
    std::string_view data = out.substr(pos + 6, end - pos - 6);
    FUZZ_CHECK(data.find_first_of("\r\n") == std::string_view::npos);
    FUZZ_CHECK(sent->done == 0 && sent->errors == 0);  // nothing after the end
    sent->last_done = data == "[DONE]";
    sent->last_error = false;
    if (sent->last_done) {
      ++sent->done;
    } else {
      FUZZ_CHECK(json_object(data, strict));
      if (is_error_event(data)) {
        sent->last_error = true;
        ++sent->errors;
      }
    }
    pos = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const uint8_t flags = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool strict = valid_utf8(body) && !has_surrogate_escape(body);

  ResponseOptions opt;
  opt.include_usage = (flags & 0x01) != 0;
  opt.parallel_tool_calls = (flags & 0x02) != 0;
  opt.stream = (flags & 0x04) != 0;
  opt.model = (flags & 0x08) != 0 ? "" : "gemini-2.5-flash";
  const ResponseIds ids{"chatcmpl-fuzz0001", 1735689600};

  {
    ChatStream s(opt, ids);
    Sent sent;
    const size_t max = kPieceMax[flags >> 4];
    size_t pos = 0;
    while (pos < body.size()) {
      size_t n = max == 0 ? body.size()
                          : 1 + (static_cast<unsigned char>(body[pos]) + pos) % max;
      check_events(s.feed(body.substr(pos, n)), strict, &sent);
      pos += n;
    }
    check_events(s.finish(), strict, &sent);
    // The stream ends with exactly one [DONE] or exactly one error event, which failed()
    // tells apart.
    FUZZ_CHECK(sent.done + sent.errors == 1);
    FUZZ_CHECK(s.failed() == (sent.errors == 1));
    FUZZ_CHECK(s.failed() ? sent.last_error : sent.last_done);
    FUZZ_CHECK(s.fail("late").empty());
    FUZZ_CHECK(s.finish().empty());
    FUZZ_CHECK(s.feed("data: {}\n\n").empty());
    FUZZ_CHECK(s.prompt_tokens() >= 0 && s.completion_tokens() >= 0);
  }

  ChatResponseResult whole = translate_chat_response(body, opt, ids);
  if (whole.ok) {
    FUZZ_CHECK(json_object(whole.body, strict));
  } else {
    FUZZ_CHECK(!whole.error.empty());
  }

  ClientError err = translate_error(429, body, "");
  FUZZ_CHECK(err.status == 429);
  FUZZ_CHECK(json_object(err.body, strict));
  rapidjson::Document d;
  d.Parse(err.body.data(), err.body.size());
  FUZZ_CHECK(d.HasMember("error") && d["error"].IsObject());
  const rapidjson::Value& e = d["error"];
  FUZZ_CHECK(e.HasMember("message") && e["message"].IsString());
  FUZZ_CHECK(e.HasMember("type") && e["type"].IsString());
  FUZZ_CHECK(!err.retry_after_s || *err.retry_after_s >= 0);
  return 0;
}
