// Success bodies: GenerateContentResponse (whole or as stream events), countTokens and
// embeddings (WIRE.md §1.5–§1.8).
//
// Everything here is a pure function of the request, so the same request gets the same
// bytes, directly or through gbd: the answer text is "Echo: " + the last user text (or a
// fixed sentence repeated to a requested size), the responseId is a hash of the body and
// token counts are byte counts divided by four, rounded up (or what the test asked for).
//
// A stream is a list of events, each a whole GenerateContentResponse:
//   [thought]       when thinkingConfig.includeThoughts is set
//   text 0..N-1     increments of the answer text (or one functionCall event)
//   final           parts-less content with finishReason, unless the stream is truncated
// usageMetadata, modelVersion and responseId are on every event; counts are cumulative.
//
// The same plan, with `openai` set, drives the answers of Gemini's OpenAI-compatible layer;
// their bodies and chunks are written by openai_responses.h.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_out.h"
#include "request_info.h"

namespace gb::mock {

// The answer text: an echo held in memory, or a repeated sentence computed on demand so
// that a 200 MB benchmark stream needs no 200 MB buffer.
class TextSource {
 public:
  static constexpr std::string_view kFiller = "The quick brown fox jumps over the lazy dog. ";

  static TextSource echo(std::string text) {
    TextSource t;
    t.text_ = std::move(text);
    t.size_ = t.text_.size();
    return t;
  }
  static TextSource filler(uint64_t size) {
    TextSource t;
    t.is_filler_ = true;
    t.size_ = size;
    return t;
  }

  uint64_t size() const { return size_; }

  void append(std::string& out, uint64_t begin, uint64_t end) const {
    if (!is_filler_) {
      out.append(text_, begin, end - begin);
      return;
    }
    while (begin < end) {
      uint64_t off = begin % kFiller.size();
      uint64_t n = std::min<uint64_t>(kFiller.size() - off, end - begin);
      out.append(kFiller.data() + off, n);
      begin += n;
    }
  }

  // Moves a cut point forward to the start of a UTF-8 character (the filler is ASCII).
  uint64_t align(uint64_t pos) const {
    if (is_filler_) {
      return std::min(pos, size_);
    }
    while (pos < size_ && (static_cast<unsigned char>(text_[pos]) & 0xC0) == 0x80) {
      ++pos;
    }
    return std::min(pos, size_);
  }

 private:
  std::string text_;
  uint64_t size_ = 0;
  bool is_filler_ = false;
};

// How an answer of the OpenAI-compatible layer differs from a Gemini one.
struct OpenAiShape {
  std::string model;           // as the request named it
  uint64_t created = 0;        // unix seconds, the same on every chunk
  bool include_usage = false;  // stream_options.include_usage
  bool usage_chunk = false;    // usage in a chunk of its own (else on the last content chunk)
};

struct GenerationPlan {
  std::string model;
  std::string response_id;
  uint64_t prompt_tokens = 1;
  TextSource text;
  uint64_t chunks = 3;                // text events of a stream
  uint64_t chunk_bytes = 0;           // 0: split the text into `chunks` near-equal pieces
  std::string thought;                // non-empty: a thought part comes first
  std::string function_name;          // non-empty: answer with a call instead of text
  bool signature = false;             // put a thoughtSignature on the call (Gemini 3)
  uint64_t max_output_bytes = 0;      // 0: no cap; else the text stops there with MAX_TOKENS
  bool finish = true;                 // false: no finishReason at all (a truncated stream)
  uint64_t candidates_tokens = 0;     // the answer's candidatesTokenCount; 0: from the bytes
  std::optional<OpenAiShape> openai;  // set: an answer of the OpenAI-compatible layer

  bool capped() const { return max_output_bytes > 0 && max_output_bytes < text.size(); }
  uint64_t text_end() const { return capped() ? text.align(max_output_bytes) : text.size(); }
  const char* finish_reason() const { return capped() ? "MAX_TOKENS" : "STOP"; }

  // Where text event k starts (k == chunks: the end).
  uint64_t boundary(uint64_t k) const {
    uint64_t end = text_end();
    if (k >= chunks) {
      return end;
    }
    uint64_t pos = chunk_bytes > 0 ? k * chunk_bytes : text.align(k * text.size() / chunks);
    return std::min(pos, end);
  }
  uint64_t text_events() const {
    if (!function_name.empty()) {
      return 1;
    }
    // Boundaries never decrease: find the first k whose piece would start at the end.
    uint64_t end = text_end();
    uint64_t lo = 0;
    uint64_t hi = chunks;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (boundary(mid) < end) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
  // candidatesTokenCount once the text up to `bytes` was sent (a call: the whole call).
  // A count the test chose is spread in proportion to the bytes, rounded up, so that the
  // counts still grow from event to event and the last one is exactly what was asked.
  uint64_t candidates_after(uint64_t bytes) const {
    if (!function_name.empty()) {
      return candidates_tokens > 0 ? candidates_tokens
                                   : tokens_for_bytes(function_name.size() + 10);
    }
    uint64_t end = text_end();
    if (candidates_tokens == 0) {
      return tokens_for_bytes(std::min(bytes, end));
    }
    if (end == 0 || bytes >= end) {
      return candidates_tokens;
    }
    // 128 bits: 1e9 tokens times a stream of 1e7 chunks of 1 MiB overflows 64.
    unsigned __int128 scaled = static_cast<unsigned __int128>(candidates_tokens) * bytes;
    return static_cast<uint64_t>((scaled + end - 1) / end);
  }
  bool has_thought_event() const { return !thought.empty(); }
  bool has_final_event() const { return finish && function_name.empty(); }
  // OpenAI chunks: one per piece of text, at least one (it carries the role and, when the
  // answer finishes, the finish_reason), then the usage chunk if it stands alone.
  uint64_t openai_content_chunks() const { return std::max<uint64_t>(1, text_events()); }
  bool has_usage_chunk() const {
    return openai && finish && openai->include_usage && openai->usage_chunk;
  }
  uint64_t event_count() const {
    if (openai) {
      return openai_content_chunks() + (has_usage_chunk() ? 1 : 0);
    }
    return (has_thought_event() ? 1 : 0) + text_events() + (has_final_event() ? 1 : 0);
  }
  // The events at the end that finish the answer (a mid-stream error comes before them).
  uint64_t closing_events() const {
    if (openai) {
      return finish ? 1 + (has_usage_chunk() ? 1 : 0) : 0;
    }
    return has_final_event() ? 1 : 0;
  }
};

// JSON mode (json_mode.h): the answer is the JSON text, split like any text. It cannot be
// padded as a short echo is, so a stream has at most one text event per byte of it.
inline void set_json_text(GenerationPlan& p, std::string json) {
  p.chunks = std::min<uint64_t>(p.chunks, json.size());
  p.text = TextSource::echo(std::move(json));
}

namespace detail {

inline void write_usage(JsonOut& j, const GenerationPlan& p, uint64_t candidates, bool details) {
  uint64_t thoughts = p.thought.empty() ? 0 : tokens_for_bytes(p.thought.size());
  j.key("usageMetadata");
  j.begin_object();
  j.member("promptTokenCount", p.prompt_tokens);
  if (candidates > 0) {
    j.member("candidatesTokenCount", candidates);
  }
  j.member("totalTokenCount", p.prompt_tokens + candidates + thoughts);
  if (details) {
    j.key("promptTokensDetails");
    j.begin_array();
    j.begin_object();
    j.member("modality", "TEXT");
    j.member("tokenCount", p.prompt_tokens);
    j.end_object();
    j.end_array();
  }
  if (thoughts > 0) {
    j.member("thoughtsTokenCount", thoughts);
  }
  j.end_object();
}

inline void write_thought_part(JsonOut& j, const GenerationPlan& p) {
  j.begin_object();
  j.member("text", p.thought);
  j.member("thought", true);
  j.end_object();
}

inline void write_call_part(JsonOut& j, const GenerationPlan& p) {
  j.begin_object();
  j.key("functionCall");
  j.begin_object();
  j.member("name", p.function_name);
  j.key("args");
  j.begin_object();
  j.end_object();
  j.end_object();
  if (p.signature) {
    j.member("thoughtSignature", "bW9jay1zaWduYXR1cmU=");
  }
  j.end_object();
}

// One GenerateContentResponse. parts(j) writes the parts (nothing: a parts-less content).
template <typename Parts>
void write_response(JsonOut& j, const GenerationPlan& p, bool has_parts, Parts parts,
                    const char* finish_reason, uint64_t candidates, bool details) {
  j.begin_object();
  j.key("candidates");
  j.begin_array();
  j.begin_object();
  j.key("content");
  j.begin_object();
  if (has_parts) {
    j.key("parts");
    j.begin_array();
    parts(j);
    j.end_array();
  }
  j.member("role", "model");
  j.end_object();
  if (finish_reason != nullptr) {
    j.member("finishReason", finish_reason);
  }
  j.member("index", 0);
  j.end_object();
  j.end_array();
  write_usage(j, p, candidates, details);
  j.member("modelVersion", p.model);
  j.member("responseId", p.response_id);
  j.end_object();
}

}  // namespace detail

// The whole answer of generateContent, pretty-printed.
inline std::string generate_body(const GenerationPlan& p) {
  std::string out;
  out.reserve(512 + p.text_end());
  JsonOut j(JsonStyle::pretty, &out);
  bool call = !p.function_name.empty();
  uint64_t candidates = p.candidates_after(p.text_end());
  const char* finish = p.finish ? (call ? "STOP" : p.finish_reason()) : nullptr;
  detail::write_response(
      j, p, true,
      [&](JsonOut& w) {
        if (!p.thought.empty()) {
          detail::write_thought_part(w, p);
        }
        if (call) {
          detail::write_call_part(w, p);
          return;
        }
        std::string text;
        p.text.append(text, 0, p.text_end());
        w.begin_object();
        w.member("text", text);
        w.end_object();
      },
      finish, candidates, true);
  return out;
}

// Stream event i (0 <= i < p.event_count()), appended to out.
inline void append_event(const GenerationPlan& p, uint64_t i, JsonStyle style, std::string& out) {
  JsonOut j(style, &out);
  if (p.has_thought_event()) {
    if (i == 0) {
      detail::write_response(
          j, p, true, [&](JsonOut& w) { detail::write_thought_part(w, p); }, nullptr, 0, false);
      return;
    }
    --i;
  }
  if (!p.function_name.empty()) {
    detail::write_response(
        j, p, true, [&](JsonOut& w) { detail::write_call_part(w, p); }, p.finish ? "STOP" : nullptr,
        p.candidates_after(0), false);
    return;
  }
  uint64_t n = p.text_events();
  if (i < n) {
    uint64_t begin = p.boundary(i);
    uint64_t end = p.boundary(i + 1);
    detail::write_response(
        j, p, true,
        [&](JsonOut& w) {
          std::string text;
          text.reserve(end - begin);
          p.text.append(text, begin, end);
          w.begin_object();
          w.member("text", text);
          w.end_object();
        },
        nullptr, p.candidates_after(end), false);
    return;
  }
  detail::write_response(
      j, p, false, [](JsonOut&) {}, p.finish_reason(), p.candidates_after(p.text_end()), false);
}

// How stream events are framed on the wire.
enum class Framing {
  sse_crlf,    // data: {...}\r\n\r\n   (current Gemini models)
  sse_lf,      // data: {...}\n\n
  json_array,  // [{...},\r\n{...}]     (streamGenerateContent without alt=sse)
  openai_sse,  // data: {...}\n\n, then data: [DONE]\n\n (the OpenAI-compatible layer;
               // its events come from openai_responses.h)
};

inline JsonStyle event_style(Framing f) {
  return f == Framing::json_array ? JsonStyle::pretty : JsonStyle::line;
}

// Appends the framing before event `index`, the event, and the framing after it.
inline void append_framed_event(const GenerationPlan& p, uint64_t index, Framing f,
                                std::string& out) {
  if (f == Framing::json_array) {
    out += index == 0 ? "[" : ",\r\n";
    append_event(p, index, JsonStyle::pretty, out);
    return;
  }
  out += "data: ";
  append_event(p, index, JsonStyle::line, out);
  out += f == Framing::sse_crlf ? "\r\n\r\n" : "\n\n";
}

// Frames an error object (already rendered in the event style) as the next event.
inline void append_framed_error(std::string_view error_json, bool first, Framing f,
                                std::string& out) {
  if (f == Framing::json_array) {
    out += first ? "[" : ",\r\n";
    out += error_json;
    return;
  }
  out += "data: ";
  out += error_json;
  out += f == Framing::sse_crlf ? "\r\n\r\n" : "\n\n";
}

// What closes the body after the last event.
inline std::string_view stream_trailer(Framing f, bool any_event) {
  if (f == Framing::openai_sse) {
    return "data: [DONE]\n\n";
  }
  if (f != Framing::json_array) {
    return {};
  }
  return any_event ? "]" : "[]";
}

// responseId: 16 bytes of two FNV-1a hashes of the model and the body, base64url (22 chars).
inline std::string response_id(std::string_view model, std::string_view body) {
  auto fnv = [&](uint64_t h) {
    for (std::string_view part : {model, std::string_view("\n"), body}) {
      for (char c : part) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
      }
    }
    return h;
  };
  uint64_t a = fnv(0xcbf29ce484222325ull);
  uint64_t b = fnv(0x84222325cbf29ce4ull);
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(a >> (56 - 8 * i));
    bytes[8 + i] = static_cast<unsigned char>(b >> (56 - 8 * i));
  }
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      out += kAlphabet[(acc >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) {
    out += kAlphabet[(acc << (6 - bits)) & 63];
  }
  return out;
}

inline std::string count_tokens_body(uint64_t tokens) {
  std::string out;
  JsonOut j(JsonStyle::pretty, &out);
  j.begin_object();
  j.member("totalTokens", tokens);
  j.key("promptTokensDetails");
  j.begin_array();
  j.begin_object();
  j.member("modality", "TEXT");
  j.member("tokenCount", tokens);
  j.end_object();
  j.end_array();
  j.end_object();
  return out;
}

// Embedding values: a deterministic pseudo-random vector seeded by the text, each value a
// multiple of 1e-6 in (-0.1, 0.1). f(v) gets each value in millionths.
template <typename F>
void for_each_embedding_value(std::string_view text, uint64_t dims, F f) {
  uint64_t x = 0xcbf29ce484222325ull;
  for (char c : text) {
    x ^= static_cast<unsigned char>(c);
    x *= 0x100000001b3ull;
  }
  for (uint64_t i = 0; i < dims; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    f(static_cast<int64_t>(x % 199999) - 99999);
  }
}

// The values as a JSON array of numbers in plain decimal.
inline void write_embedding_array(JsonOut& j, std::string_view text, uint64_t dims) {
  j.begin_array();
  char buf[24];
  for_each_embedding_value(text, dims, [&](int64_t v) {
    uint64_t mag = static_cast<uint64_t>(v < 0 ? -v : v);
    int n = mag == 0 ? std::snprintf(buf, sizeof buf, "0")
                     : std::snprintf(buf, sizeof buf, "%s0.%06llu", v < 0 ? "-" : "",
                                     static_cast<unsigned long long>(mag));
    while (n > 1 && buf[n - 1] == '0' && mag != 0) {
      buf[--n] = '\0';
    }
    j.raw(std::string_view(buf, static_cast<size_t>(n)));
  });
  j.end_array();
}

inline void write_embedding_values(JsonOut& j, std::string_view text, uint64_t dims) {
  j.key("values");
  write_embedding_array(j, text, dims);
}

struct EmbedInput {
  std::string text;
  uint64_t dims = 3072;
};

inline EmbedInput embed_input(const rapidjson::Value& req) {
  EmbedInput in;
  if (const rapidjson::Value* content = field(req, "content")) {
    if (const rapidjson::Value* parts = array_field(*content, "parts")) {
      for (const auto& p : parts->GetArray()) {
        in.text += string_field(p, "text");
      }
    }
  }
  int64_t dims = int_field(req, "outputDimensionality", 3072);
  in.dims = dims <= 0 || dims > 3072 ? 3072 : static_cast<uint64_t>(dims);
  return in;
}

inline std::string embed_body(const EmbedInput& in) {
  std::string out;
  JsonOut j(JsonStyle::pretty, &out);
  j.begin_object();
  j.key("embedding");
  j.begin_object();
  write_embedding_values(j, in.text, in.dims);
  j.end_object();
  j.end_object();
  return out;
}

inline std::string batch_embed_body(const std::vector<EmbedInput>& inputs) {
  std::string out;
  JsonOut j(JsonStyle::pretty, &out);
  j.begin_object();
  j.key("embeddings");
  j.begin_array();
  for (const EmbedInput& in : inputs) {
    j.begin_object();
    write_embedding_values(j, in.text, in.dims);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return out;
}

}  // namespace gb::mock
