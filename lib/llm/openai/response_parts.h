// Pieces shared by the translators of Gemini answers into OpenAI ones (chat_response.cc for
// a whole answer, stream_chat.cc for a stream): reading a candidate's parts, the
// finishReason and usage mappings (WIRE.md §6.4.1, §6.6), and writing the OpenAI objects
// they become. Internal to lib/llm/openai. Pure: no I/O.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gb::llm::openai::resp {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Nesting deeper than this is refused before any recursive walk (rapidjson's Accept
// recurses): an upstream answer never nests function arguments anywhere near it.
constexpr size_t kMaxJsonDepth = 256;

// Parses `json` without recursion (kParseIterativeFlag), so a hostile depth cannot
// exhaust the stack. False if it is not JSON or nests deeper than kMaxJsonDepth.
bool parse_json(std::string_view json, rapidjson::Document* doc);

// obj[name] when obj is an object that has it, else nullptr.
const rapidjson::Value* member(const rapidjson::Value& obj, const char* name);
// obj[name] as a string, "" when absent or not a string.
std::string_view string_member(const rapidjson::Value& obj, const char* name);
// A token count as proto3 JSON writes an int64: a number or a string of digits.
// Missing, negative or malformed reads as 0.
int64_t count_member(const rapidjson::Value& obj, const char* name);

void write_string(JsonWriter& w, std::string_view s);
void write_key(JsonWriter& w, std::string_view s);

// Gemini's usageMetadata, missing counts as 0.
struct GeminiUsage {
  int64_t prompt = 0;            // promptTokenCount (includes cached)
  int64_t candidates = 0;        // candidatesTokenCount
  int64_t thoughts = 0;          // thoughtsTokenCount
  int64_t cached = 0;            // cachedContentTokenCount
  int64_t tool_use = 0;          // toolUsePromptTokenCount
  int64_t total = 0;             // totalTokenCount
  int64_t prompt_audio = 0;      // promptTokensDetails[AUDIO]
  int64_t candidates_audio = 0;  // candidatesTokensDetails[AUDIO]
};
// From response.usageMetadata; all zero when there is none.
GeminiUsage read_usage(const rapidjson::Value& response);

// OpenAI's usage object (§6.6): prompt = prompt + toolUsePrompt, so that prompt +
// completion = total; completion = candidates + thoughts (OpenAI counts reasoning inside
// completion), or candidates alone when Gemini already included the thoughts in it (older
// models: prompt + toolUse + candidates == total).
struct OpenAiUsage {
  int64_t prompt = 0;
  int64_t completion = 0;
  int64_t total = 0;
  int64_t reasoning = 0;
  int64_t cached = 0;
  int64_t prompt_audio = 0;
  int64_t completion_audio = 0;
};
OpenAiUsage map_usage(const GeminiUsage& u);
void write_usage(JsonWriter& w, const OpenAiUsage& u);

// finishReason -> finish_reason for a choice without tool calls (§6.4.1).
const char* map_finish_reason(std::string_view gemini);

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // compact JSON of functionCall.args ("{}" when absent)
};

// What one candidate (or one event's increment of it) says.
struct CandidateParts {
  std::string text;       // non-thought text (and rendered code execution), concatenated
  std::string reasoning;  // thought text, concatenated
  std::vector<ToolCall> calls;
  size_t calls_dropped = 0;  // functionCall parts over the limit (parallel_tool_calls false)
  // Per part of content.parts: where its text starts in `text`, or npos when it added none
  // (groundingSupports name parts by index).
  std::vector<size_t> text_offsets;
};

// Appends candidate.content.parts to `out`. At most `max_calls` calls are kept in
// out->calls (counting those already there); more are counted in calls_dropped. Tool ids
// come from make_tool_id with a fresh random suffix.
void read_parts(const rapidjson::Value& candidate, size_t max_calls, CandidateParts* out);

// The candidate's index: its "index", or `position` when absent (proto3 omits 0).
int64_t candidate_index(const rapidjson::Value& candidate, size_t position);

// choices[].logprobs from candidate.logprobsResult, or null when it has none.
void write_logprobs(JsonWriter& w, const rapidjson::Value& candidate);

// The tool_calls array; `first_index` >= 0 writes each call's "index" (streaming deltas),
// counted from it.
void write_tool_calls(JsonWriter& w, const std::vector<ToolCall>& calls, int64_t first_index);

}  // namespace gb::llm::openai::resp
