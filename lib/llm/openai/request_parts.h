// The content parts of OpenAI messages -> Gemini Parts (WIRE.md §6.2 step 2, §6.2.1).
// Pure.
#pragma once

#include <string>
#include <string_view>

#include "llm/openai/request_common.h"

namespace gb::llm::openai::req {

// One part of a user message's content array, translated:
//   text         -> {"text"} (an empty text gives no part: `part` stays null)
//   image_url    -> data: URI: {"inlineData"}; http(s): a placeholder {"inlineData":
//                   {"mimeType":"","data":""}} and *remote_url set, for attach_media();
//                   detail low/high -> the part's mediaResolution on Gemini 3
//   input_audio  -> {"inlineData"} audio/wav (wav) or audio/mpeg (mp3)
//   file         -> file_data (a data: URI) -> {"inlineData"}; file_id is refused
// Anything else refuses, naming `path` (messages[i].content[j]).
bool user_part(const Value& part, const std::string& path, Family family, Alloc& a, Value* out,
               std::string* remote_url, RequestError* err);

// The text of a content that OpenAI allows to hold text parts only (system, developer,
// tool; assistant also allows refusal parts): a string, or the text parts joined.
bool text_content(const Value& content, const std::string& path, bool allow_refusal,
                  std::string* out, RequestError* err);

}  // namespace gb::llm::openai::req
