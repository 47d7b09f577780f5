// Tool call ids that carry Gemini's thought signature through an OpenAI client.
//
// Gemini 3 requires the thoughtSignature of each functionCall part to come back with
// that part in the next turn; OpenAI clients keep only the tool call's id. So the id
// carries it (and Gemini's own functionCall.id when there is one): "call_" + 16 random
// [a-z0-9], then length-prefixed base64url sections (tool_id.cc). No server-side state:
// any gbd, or a restarted one, reads an id back. Pure.
#pragma once

#include <string>
#include <string_view>

namespace gb::llm::openai {

struct ToolIdParts {
  std::string signature;  // thoughtSignature as Gemini sent it (standard base64), or ""
  std::string gemini_id;  // functionCall.id, or ""
};

// `random16` supplies the 16 random characters (tests pass a fixed string).
std::string make_tool_id(const ToolIdParts& parts, std::string_view random16);
// What an id carries; empty parts for an id gbd did not make (any client id is valid).
ToolIdParts parse_tool_id(std::string_view id);
// 16 random [a-z0-9] characters.
std::string random_suffix();

}  // namespace gb::llm::openai
