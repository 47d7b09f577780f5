// Answers of Gemini's OpenAI-compatible layer (WIRE.md §3, §4.3, §4.4, §4.6, §4.7).
//
// Success bodies are OpenAI-shaped, on one line with no spaces and members in alphabetical
// order (clients must not rely on OpenAI's order). A chat answer is the GenerationPlan of
// a Gemini answer (responses.h) with `openai` set, so the text, its pieces and the token
// counts are those of the native API. A stream is:
//   content chunks  one per piece of text (at least one); the first delta carries the
//                   role, the last one the finish_reason, and the usage too when the model
//                   thinks and the client asked for usage (WIRE.md §3)
//   usage chunk     `"choices": []` and the usage, for a model that does not think when
//                   the client asked for usage (OpenAI's way, §4.4)
//   data: [DONE]
// Errors keep Google's body and come wrapped in a one-element array (errors.h).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "json_out.h"
#include "models.h"
#include "responses.h"

namespace gb::mock {

// `created` of every chat answer: fixed, so that the same request gets the same bytes.
inline constexpr uint64_t kOpenAiCreated = 1735689600;  // 2025-01-01T00:00:00Z

namespace detail {

inline void write_openai_usage(JsonOut& j, const GenerationPlan& p) {
  uint64_t completion = p.candidates_after(p.text_end());
  j.key("usage");
  j.begin_object();
  j.member("completion_tokens", completion);
  j.member("prompt_tokens", p.prompt_tokens);
  j.member("total_tokens", p.prompt_tokens + completion);
  j.end_object();
}

inline void write_finish_reason(JsonOut& j, const GenerationPlan& p) {
  j.key("finish_reason");
  if (p.finish) {
    j.string(p.capped() ? "length" : "stop");
  } else {
    j.null();
  }
}

// created, id, model, object: the members every chat answer ends with.
inline void write_openai_ids(JsonOut& j, const GenerationPlan& p, std::string_view object) {
  j.member("created", p.openai->created);
  j.member("id", p.response_id);
  j.member("model", p.openai->model);
  j.member("object", object);
}

}  // namespace detail

// The whole answer of a chat completion (p.openai must be set).
inline std::string chat_completion_body(const GenerationPlan& p) {
  std::string out;
  out.reserve(256 + p.text_end());
  JsonOut j(JsonStyle::compact, &out);
  j.begin_object();
  j.key("choices");
  j.begin_array();
  j.begin_object();
  detail::write_finish_reason(j, p);
  j.member("index", 0);
  j.key("message");
  j.begin_object();
  std::string text;
  p.text.append(text, 0, p.text_end());
  j.member("content", text);
  j.member("role", "assistant");
  j.end_object();
  j.end_object();
  j.end_array();
  detail::write_openai_ids(j, p, "chat.completion");
  detail::write_openai_usage(j, p);
  j.end_object();
  return out;
}

// Chunk i (0 <= i < p.event_count()) of a chat completion stream, unframed.
inline void append_openai_chunk(const GenerationPlan& p, uint64_t i, std::string& out) {
  JsonOut j(JsonStyle::compact, &out);
  j.begin_object();
  j.key("choices");
  j.begin_array();
  uint64_t content_chunks = p.openai_content_chunks();
  bool last = i + 1 == content_chunks;
  if (i < content_chunks) {
    j.begin_object();
    j.key("delta");
    j.begin_object();
    std::string text;
    if (i < p.text_events()) {
      p.text.append(text, p.boundary(i), p.boundary(i + 1));
    }
    j.member("content", text);
    if (i == 0) {
      j.member("role", "assistant");
    }
    j.end_object();
    if (last) {
      detail::write_finish_reason(j, p);
    } else {
      j.key("finish_reason");
      j.null();
    }
    j.member("index", 0);
    j.end_object();
  }
  j.end_array();
  detail::write_openai_ids(j, p, "chat.completion.chunk");
  bool usage_here = i >= content_chunks ||
                    (last && p.finish && p.openai->include_usage && !p.openai->usage_chunk);
  if (usage_here) {
    detail::write_openai_usage(j, p);
  }
  j.end_object();
}

// Chunk i framed as an SSE event.
inline void append_openai_event(const GenerationPlan& p, uint64_t i, std::string& out) {
  out += "data: ";
  append_openai_chunk(p, i, out);
  out += "\n\n";
}

// A catalog model as the layer lists it: the id keeps the "models/" prefix (WIRE.md §3).
inline void write_openai_model(JsonOut& j, const ModelInfo& m) {
  j.begin_object();
  j.member("id", "models/" + std::string(m.name));
  j.member("object", "model");
  j.member("owned_by", "google");
  j.end_object();
}

inline std::string openai_model_body(const ModelInfo& m) {
  std::string out;
  JsonOut j(JsonStyle::compact, &out);
  write_openai_model(j, m);
  return out;
}

inline const std::string& openai_models_body() {
  static const std::string body = [] {
    std::string out;
    JsonOut j(JsonStyle::compact, &out);
    j.begin_object();
    j.key("data");
    j.begin_array();
    for (const ModelInfo& m : kModels) {
      write_openai_model(j, m);
    }
    j.end_array();
    j.member("object", "list");
    j.end_object();
    return out;
  }();
  return body;
}

// The embedding as base64 of little-endian float32 values (encoding_format "base64").
inline std::string embedding_base64(std::string_view text, uint64_t dims) {
  std::string bytes;
  bytes.reserve(dims * 4);
  for_each_embedding_value(text, dims, [&](int64_t v) {
    float f = static_cast<float>(v) / 1e6f;
    uint32_t u = 0;
    std::memcpy(&u, &f, sizeof u);
    for (int k = 0; k < 4; ++k) {
      bytes += static_cast<char>((u >> (8 * k)) & 0xff);
    }
  });
  return base64_encode(bytes);
}

struct OpenAiEmbedRequest {
  std::string model;  // as the request named it
  std::vector<std::string> texts;
  uint64_t dims = 3072;
  bool base64 = false;
  uint64_t prompt_tokens = 0;
};

// The values are those of embedContent for the same text and dimensions.
inline std::string openai_embeddings_body(const OpenAiEmbedRequest& r) {
  std::string out;
  JsonOut j(JsonStyle::compact, &out);
  j.begin_object();
  j.key("data");
  j.begin_array();
  for (size_t i = 0; i < r.texts.size(); ++i) {
    j.begin_object();
    j.key("embedding");
    if (r.base64) {
      j.string(embedding_base64(r.texts[i], r.dims));
    } else {
      write_embedding_array(j, r.texts[i], r.dims);
    }
    j.member("index", static_cast<uint64_t>(i));
    j.member("object", "embedding");
    j.end_object();
  }
  j.end_array();
  j.member("model", r.model);
  j.member("object", "list");
  j.key("usage");
  j.begin_object();
  j.member("prompt_tokens", r.prompt_tokens);
  j.member("total_tokens", r.prompt_tokens);
  j.end_object();
  j.end_object();
  return out;
}

}  // namespace gb::mock
