// The model catalog served by models.list and models.get (WIRE.md §1.3), and the page
// tokens of models.list. Header-only so that the unit tests can check it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json_out.h"

namespace gb::mock {

struct ModelInfo {
  std::string_view name;  // without "models/"
  std::string_view version;
  std::string_view display_name;
  std::string_view description;
  uint64_t input_limit;
  uint64_t output_limit;
  std::string_view methods[4];
  std::string_view temperature;  // JSON numbers as Google prints them; empty: absent
  std::string_view top_p;
  std::string_view top_k;
  std::string_view max_temperature;
  bool thinking;
};

inline constexpr ModelInfo kModels[] = {
    {"gemini-2.5-flash",
     "001",
     "Gemini 2.5 Flash",
     "Stable version of Gemini 2.5 Flash, our mid-size multimodal model that supports up to 1 "
     "million tokens, released in June of 2025.",
     1048576,
     65536,
     {"generateContent", "countTokens", "createCachedContent", "batchGenerateContent"},
     "1",
     "0.95",
     "64",
     "2",
     true},
    {"gemini-2.5-pro",
     "2.5",
     "Gemini 2.5 Pro",
     "Stable release (June 17th, 2025) of Gemini 2.5 Pro",
     1048576,
     65536,
     {"generateContent", "countTokens", "createCachedContent", "batchGenerateContent"},
     "1",
     "0.95",
     "64",
     "2",
     true},
    {"gemini-2.0-flash",
     "2.0",
     "Gemini 2.0 Flash",
     "Gemini 2.0 Flash",
     1048576,
     8192,
     {"generateContent", "countTokens", "createCachedContent", "batchGenerateContent"},
     "1",
     "0.95",
     "40",
     "2",
     false},
    {"gemini-2.5-flash-lite",
     "001",
     "Gemini 2.5 Flash-Lite",
     "Stable version of Gemini 2.5 Flash-Lite, released in July of 2025",
     1048576,
     65536,
     {"generateContent", "countTokens", "createCachedContent", "batchGenerateContent"},
     "1",
     "0.95",
     "64",
     "2",
     true},
    {"gemini-3-pro-preview",
     "3-pro-preview-11-2025",
     "Gemini 3 Pro Preview",
     "Gemini 3 Pro Preview",
     1048576,
     65536,
     {"generateContent", "countTokens", "createCachedContent", "batchGenerateContent"},
     "1",
     "0.95",
     "64",
     "2",
     true},
    {"gemini-embedding-001",
     "001",
     "Gemini Embedding 001",
     "Obtain a distributed representation of a text.",
     2048,
     1,
     {"embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"},
     "",
     "",
     "",
     "",
     false},
};
inline constexpr size_t kModelCount = sizeof kModels / sizeof kModels[0];

inline const ModelInfo* find_model(std::string_view name) {
  for (const ModelInfo& m : kModels) {
    if (m.name == name) {
      return &m;
    }
  }
  return nullptr;
}

inline bool model_supports(const ModelInfo& m, std::string_view method) {
  for (std::string_view x : m.methods) {
    if (x == method) {
      return true;
    }
  }
  return false;
}

// Gemini 3 models require thought signatures on replayed function calls.
inline bool needs_thought_signatures(std::string_view model) {
  return model.substr(0, 9) == "gemini-3-";
}

inline void write_model(JsonOut& j, const ModelInfo& m) {
  j.begin_object();
  j.member("name", "models/" + std::string(m.name));
  j.member("version", m.version);
  j.member("displayName", m.display_name);
  j.member("description", m.description);
  j.member("inputTokenLimit", m.input_limit);
  j.member("outputTokenLimit", m.output_limit);
  j.key("supportedGenerationMethods");
  j.begin_array();
  for (std::string_view x : m.methods) {
    j.string(x);
  }
  j.end_array();
  const std::pair<std::string_view, std::string_view> numbers[] = {
      {"temperature", m.temperature},
      {"topP", m.top_p},
      {"topK", m.top_k},
      {"maxTemperature", m.max_temperature}};
  for (const auto& [k, v] : numbers) {
    if (!v.empty()) {
      j.key(k);
      j.raw(v);
    }
  }
  if (m.thinking) {
    j.member("thinking", true);
  }
  j.end_object();
}

inline std::string model_body(const ModelInfo& m) {
  std::string out;
  JsonOut j(JsonStyle::pretty, &out);
  write_model(j, m);
  return out;
}

// The bodies asked for most often, rendered once.
inline const std::string& cached_model_body(const ModelInfo& m) {
  static const std::vector<std::string> bodies = [] {
    std::vector<std::string> v;
    for (const ModelInfo& x : kModels) {
      v.push_back(model_body(x));
    }
    return v;
  }();
  return bodies[static_cast<size_t>(&m - kModels)];
}

inline std::string base64_encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// A page token names the first model of the next page, as base64 of "models/<name>".
inline std::string page_token_for(size_t index) {
  return base64_encode("models/" + std::string(kModels[index].name));
}

// Index of the model a page token points at; false for a token we never issued.
inline bool page_token_index(std::string_view token, size_t* index) {
  for (size_t i = 0; i < kModelCount; ++i) {
    if (page_token_for(i) == token) {
      *index = i;
      return true;
    }
  }
  return false;
}

// pageSize: absent or <= 0 means 50; more than 1000 is clamped to 1000.
inline uint64_t effective_page_size(int64_t requested) {
  if (requested <= 0) {
    return 50;
  }
  return requested > 1000 ? 1000 : static_cast<uint64_t>(requested);
}

inline std::string models_page_body(size_t start, uint64_t page_size) {
  std::string out;
  JsonOut j(JsonStyle::pretty, &out);
  j.begin_object();
  j.key("models");
  j.begin_array();
  size_t end = start;
  for (; end < kModelCount && end - start < page_size; ++end) {
    write_model(j, kModels[end]);
  }
  j.end_array();
  if (end < kModelCount) {
    j.member("nextPageToken", page_token_for(end));
  }
  j.end_object();
  return out;
}

// The whole catalog on one page (any pageSize from 6 up gives these bytes).
inline const std::string& all_models_body() {
  static const std::string body = models_page_body(0, kModelCount);
  return body;
}

}  // namespace gb::mock
