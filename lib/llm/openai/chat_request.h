// OpenAI Chat Completions request -> Gemini generateContent request (WIRE.md §6.1-6.3).
//
// Pure: no I/O. The one thing it cannot do alone is fetch an image given by http(s)
// URL: such parts are left as placeholders listed in GeminiCall::remote, which the
// caller downloads and hands back with attach_media() before serialize().
//
// Every field of the request is either translated, or refused with a 400 in OpenAI's
// error shape (error.param names the field) — never dropped silently when dropping it
// would change the meaning of the request. Fields that change nothing upstream (user,
// store, metadata, service_tier, ...) are accepted and ignored; each is listed in
// chat_request.cc with the reason.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace gb::llm::openai {

// A refusal of the client's request, in the terms of OpenAI's error object.
struct RequestError {
  int status = 400;
  std::string message;  // for a person: names the field and what is wrong with it
  std::string param;    // the offending field as a path ("messages[2].content"), or ""
  std::string code;     // OpenAI's code, or "" (null)
};

// What the response side needs to know about the request.
struct ResponseOptions {
  std::string model;           // as the client named it (echoed in responses)
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  unsigned n = 1;              // choices requested
  bool parallel_tool_calls = true;  // false: keep only the first tool call of a choice
};

// An http(s) image (or file) URL to download; its bytes go to
// contents[content].parts[part].inlineData.
struct RemoteMedia {
  std::string url;
  size_t content = 0;
  size_t part = 0;
};

struct GeminiCall {
  std::string model;  // for the upstream path: no "models/" prefix
  bool stream = false;
  rapidjson::Document body;  // the GenerateContentRequest
  std::vector<RemoteMedia> remote;
  ResponseOptions response;
};

// Translates a Chat Completions request body. On failure, the RequestError says why.
// Errors carry the status to answer with (400, or 413 for content over limits).
struct ChatRequestResult {
  bool ok = false;
  GeminiCall call;
  RequestError error;
};
ChatRequestResult translate_chat_request(std::string_view json);

// Puts a downloaded remote medium in place: base64 of `bytes` with `mime_type`.
void attach_media(GeminiCall& call, size_t index, std::string_view mime_type,
                  std::string_view bytes);

// The GenerateContentRequest as JSON text.
std::string serialize(const GeminiCall& call);

// OpenAI embeddings request -> Gemini batchEmbedContents (WIRE.md §4.7, §1.8).
struct EmbeddingsCall {
  std::string model;
  std::string body;          // BatchEmbedContentsRequest JSON
  size_t inputs = 0;         // how many embeddings the answer must hold
  int64_t prompt_tokens = 0;  // an estimate (Gemini's answer has no counts): see .cc
  bool base64 = false;       // encoding_format "base64"
};
struct EmbeddingsRequestResult {
  bool ok = false;
  EmbeddingsCall call;
  RequestError error;
};
EmbeddingsRequestResult translate_embeddings_request(std::string_view json);

}  // namespace gb::llm::openai
