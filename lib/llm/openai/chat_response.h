// Gemini generateContent answers -> OpenAI Chat Completions answers (WIRE.md §6.4-6.7).
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/openai/chat_request.h"

namespace gb::llm::openai {

struct ResponseIds {
  std::string id;        // "chatcmpl-..." for the whole answer or stream
  int64_t created = 0;   // Unix seconds
};

// A whole GenerateContentResponse -> a chat.completion object. A body that is not a
// GenerateContentResponse gives ok = false (the caller answers 502).
struct ChatResponseResult {
  bool ok = false;
  std::string body;
  std::string error;  // why not, for the log
};
ChatResponseResult translate_chat_response(std::string_view gemini_json,
                                           const ResponseOptions& opt, const ResponseIds& ids);

// Gemini SSE (`streamGenerateContent?alt=sse`) -> OpenAI chunks, incrementally: feed
// the upstream bytes as they come, split anywhere; each call returns the bytes to send
// to the client (complete `data: ...\n\n` events only). Memory stays bounded by the
// largest single upstream event, whatever the length of the answer.
class ChatStream {
 public:
  ChatStream(ResponseOptions opt, ResponseIds ids);
  ~ChatStream();
  ChatStream(const ChatStream&) = delete;
  ChatStream& operator=(const ChatStream&) = delete;

  std::string feed(std::string_view bytes);
  // The upstream ended cleanly. If every choice finished: the usage chunk (when asked)
  // and `data: [DONE]`. If not (a truncated stream), an error event and no [DONE].
  std::string finish();
  // The upstream failed mid-stream (connection lost, timeout): an error event.
  std::string fail(std::string_view message);
  // An upstream error event arrived (it was turned into an OpenAI error event).
  bool failed() const;
  // Token counts from the last usageMetadata seen (for the request log).
  int64_t prompt_tokens() const;
  int64_t completion_tokens() const;

 private:
  struct State;
  State* s_;
};

// A Gemini error answer (status >= 400, Google's error JSON or anything else) -> the
// same status with OpenAI's error object (§6.7). Retry-After: from the upstream header,
// else RetryInfo.retryDelay rounded up, for 429 and 503.
struct ClientError {
  int status = 500;
  std::string body;
  std::optional<int> retry_after_s;
};
ClientError translate_error(int status, std::string_view gemini_body,
                            std::string_view retry_after_header);

// OpenAI's error object: {"error":{"message","type","param","code"}} (param and code
// null when empty).
std::string error_body(std::string_view message, std::string_view type, std::string_view param,
                       std::string_view code);
// The OpenAI error type for an HTTP status gbd produces itself (401 ->
// "invalid_request_error" with code "invalid_api_key", 429 -> "rate_limit_error", ...).
std::string error_body_for_status(int status, std::string_view message);

// batchEmbedContents answer -> OpenAI embeddings list.
ChatResponseResult translate_embeddings_response(std::string_view gemini_json,
                                                 const EmbeddingsCall& call);

// One page of a Gemini models.list answer: the model names without "models/", and the
// token of the next page ("" on the last). ok = false for a body that is not one.
struct ModelsPage {
  bool ok = false;
  std::vector<std::string> ids;
  std::string next_page_token;
};
ModelsPage parse_models_page(std::string_view gemini_json);

// OpenAI's model list {"object":"list","data":[{"id","object":"model","created":0,
// "owned_by"}...]} from (id, owned_by) pairs, and one model object.
std::string models_list_body(const std::vector<std::pair<std::string, std::string>>& models);
std::string model_body(std::string_view id, std::string_view owned_by);

}  // namespace gb::llm::openai
