// OpenAI `messages` -> Gemini `contents` + `systemInstruction` (WIRE.md §6.2). Pure.
//
//   system, developer  -> systemInstruction.parts, one text part per message, wherever
//                         the message stands
//   user               -> a "user" content (request_parts.h); a content left with no text
//                         gets {"text":" "} (media-only turns are refused by some models)
//   assistant          -> a "model" content: its text, then one functionCall per tool call
//                         (args parsed from the arguments string, {} when that is not a
//                         JSON object); the thoughtSignature and Gemini id that the tool
//                         call id carries (tool_id.h) are put back on the part
//   tool               -> a functionResponse part in a "user" content, named after the
//                         earlier tool call with that id; response is the content when it
//                         is a JSON object, else {"output": content}
// Adjacent contents of one role are merged (consecutive tool messages thus share one
// content, as Gemini wants one content answering each model turn).
//
// Choices where §6.2 leaves one:
//   - Only system messages: a user turn {"text":" "} is added (Gemini needs contents).
//   - The conversation ends on an assistant message: with tool calls it is refused (those
//     calls have no answers, and Gemini answers only a user turn or function responses);
//     with text (a prefill) a user turn {"text":" "} is appended, as older models
//     require the conversation to end on a user turn.
//   - Tool messages answering a model turn must be as many as its tool calls (Gemini's
//     rule): refused otherwise, naming the first tool message.
//   - Gemini 3 refuses a replayed function call without a thoughtSignature. When the tool
//     call id carries none (the client made the id, or the call came from another
//     provider), the first call of the turn gets "skip_thought_signature_validator", the
//     value Google documents for calls the model did not produce; later parallel calls
//     carry none, as Gemini sends them.
//   - name on messages is ignored (Gemini contents have no participant names);
//     reasoning_content on assistant messages is ignored (it cannot be replayed without
//     its signature, §6.2 step 3).
#pragma once

#include <string_view>
#include <vector>

#include "llm/openai/request_common.h"

namespace gb::llm::openai::req {

// Limits on a request's shape (413 beyond them): far above real conversations, low
// enough that a translation stays small.
constexpr size_t kMaxMessages = 10000;
constexpr size_t kMaxParts = 20000;     // all parts of all contents
constexpr size_t kMaxRemoteMedia = 64;  // http(s) images gbd would have to download

constexpr std::string_view kSkipSignature = "skip_thought_signature_validator";

// Adds "contents" (and "systemInstruction" when there is one) to `body`; http(s) media
// placeholders are listed in *remote.
bool translate_messages(const Value& messages, std::string_view model, rapidjson::Document* body,
                        std::vector<RemoteMedia>* remote, RequestError* err);

}  // namespace gb::llm::openai::req
