// Gemini error objects -> OpenAI error objects (WIRE.md §6.7), shared by translate_error
// (an error answer) and ChatStream (an error event in the middle of a stream). Internal to
// lib/llm/openai. Pure: no I/O.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

namespace gb::llm::openai::resp {

struct MappedError {
  int status = 500;
  std::string message;
  std::string type;
  std::string code;  // "" for null
  std::optional<int> retry_after_s;
};

// `error` is the value of Gemini's "error" member (or nullptr when there was none, or the
// body was not JSON; then `fallback_message` is the message). The status is kept (a
// status below 400 becomes 502: an error answer must not look like a success).
MappedError map_gemini_error(int status, const rapidjson::Value* error,
                             std::string_view fallback_message);

// Upstream messages can name gbd's own upstream key ("Consumer 'api_key:AIza...' has been
// suspended"); such keys are masked before the message reaches a client.
std::string redact_keys(std::string_view message);

}  // namespace gb::llm::openai::resp
