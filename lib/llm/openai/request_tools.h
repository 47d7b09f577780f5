// OpenAI tools, tool_choice and web_search_options -> Gemini tools + toolConfig
// (WIRE.md §1.4.3, §1.4.4, §6.1). Pure.
//
//   tools[].function  -> tools[0].functionDeclarations[] {name, description, parameters}:
//                        parameters sanitized (schema.h); dropped when they declare no
//                        properties (Gemini refuses an OBJECT without properties, and a
//                        function without parameters means the same); strict dropped
//                        (Gemini has no such switch). Names must pass Gemini's rule.
//   web_search_options -> a {"googleSearch": {}} tool. search_context_size is ignored (it
//                        tunes how much is retrieved, not what is asked); user_location
//                        is refused (Gemini's search takes no location).
//   tool_choice        -> toolConfig.functionCallingConfig:
//                        "none" NONE, "auto" AUTO, "required" ANY,
//                        {type: function, function: {name}} ANY + allowedFunctionNames,
//                        {type: allowed_tools, allowed_tools: {mode: required, tools}}
//                          ANY + allowedFunctionNames,
//                        {type: allowed_tools, allowed_tools: {mode: auto, tools}} AUTO
//                          with the declarations cut down to the allowed ones (Gemini
//                          takes allowedFunctionNames with ANY only; a function not
//                          declared cannot be called, which is what auto-but-only-these
//                          means).
//                        "none" or "auto" with no functions declared send no toolConfig;
//                        the other forms need declared functions, and their names.
#pragma once

#include "llm/openai/request_common.h"

namespace gb::llm::openai::req {

constexpr size_t kMaxTools = 512;

// Adds "tools" and "toolConfig" to `body` when the request asks for them.
bool translate_tools(const Value& req, rapidjson::Document* body, RequestError* err);

}  // namespace gb::llm::openai::req
