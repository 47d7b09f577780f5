// OpenAI sampling and output parameters -> Gemini generationConfig (WIRE.md §1.4.5, §6.1).
// Pure.
//
//   temperature (0..2), top_p (0..1), top_k (an extension) -> temperature, topP, topK
//   max_completion_tokens, else max_tokens                -> maxOutputTokens
//   stop: a string or up to 5 strings                     -> stopSequences
//   n (1..8)                                              -> candidateCount when > 1
//   seed (a 32-bit integer: Gemini's seed is int32)       -> seed
//   frequency_penalty, presence_penalty (-2..2)           -> frequencyPenalty, presencePenalty
//   logprobs, top_logprobs (0..20, needs logprobs)        -> responseLogprobs, logprobs
//   response_format text / json_object                    -> responseMimeType text/plain /
//                                                            application/json
//   response_format json_schema                           -> application/json + responseSchema
//     One rule for every model: the schema is sanitized into Gemini's Schema (schema.h)
//     with propertyOrdering, which every Gemini model takes (responseJsonSchema is newer
//     and not on all of them). A schema declaring no properties (any object) sends no
//     responseSchema: JSON mode alone means the same. json_schema.description becomes the
//     schema's description when it has none; name and strict are dropped (Gemini holds
//     its answer to the schema without being asked).
//   reasoning_effort                                       -> thinkingConfig (below)
//   modalities text / image                               -> responseModalities TEXT / IMAGE
//     (audio is refused: gbd's translated answers cannot carry audio)
//   verbosity: medium (OpenAI's default) is accepted; low and high are refused (Gemini
//     has no such control)
//
// reasoning_effort, by model:
//   gemini-2.5*: thinkingBudget none 0, minimal the model's minimum, low 1024, medium 8192,
//     high 24576, xhigh and max the model's maximum (clamped to the model's range).
//     2.5 Pro cannot stop thinking: none gives its minimum, 128, without thought parts.
//     Minimum / maximum: 2.5 Pro 128 / 32768, 2.5 Flash-Lite 512 / 24576, 2.5 Flash
//     1 / 24576, other 2.5 models 128 / 24576.
//   gemini-3*: thinkingLevel LOW for none, minimal and low; HIGH for medium, high, xhigh
//     and max (Gemini 3 Pro has no MEDIUM and no MINIMAL: the next level up serves medium,
//     as litellm does, and the lowest level serves none, as thinking cannot be stopped).
//   includeThoughts is true unless reasoning_effort is none (the thoughts then come back as
//     reasoning_content).
//   Other models: "none" changes nothing; any other effort is refused (no thinking
//     settings are known for them).
#pragma once

#include <string_view>

#include "llm/openai/request_common.h"

namespace gb::llm::openai::req {

constexpr size_t kMaxStopSequences = 5;
constexpr int64_t kMaxCandidates = 8;

// Adds "generationConfig" to `body` when any parameter sets one; *n is the choices asked.
bool translate_generation(const Value& req, std::string_view model, rapidjson::Document* body,
                          unsigned* n, RequestError* err);

}  // namespace gb::llm::openai::req
