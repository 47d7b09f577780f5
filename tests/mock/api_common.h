// What the two front doors of the mock share: gemini_api.cc (the native API) and
// openai_api.cc (the OpenAI-compatible layer) check a request in the same order — route,
// key, the key's standing, the body's JSON shape, the model, the request's meaning, quota
// and failures — and answer with the same plans, shaped by the same key scenarios. Only
// the paths, the credential and the wrapping of errors differ.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.h"
#include "models.h"
#include "proto_schema.h"
#include "request_info.h"
#include "responses.h"
#include "route.h"
#include "scenario.h"
#include "stream.h"

namespace gb::mock {

class SharedState;

namespace api {

using Doc = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                       rapidjson::MemoryPoolAllocator<>>;

// A request body parsed into allocators that take per-thread buffers first, so that most
// bodies need no malloc at all. One at a time per thread.
class BodyDoc {
 public:
  BodyDoc();
  BodyDoc(const BodyDoc&) = delete;
  BodyDoc& operator=(const BodyDoc&) = delete;
  Doc& doc() { return doc_; }

 private:
  rapidjson::MemoryPoolAllocator<> value_alloc_;
  rapidjson::MemoryPoolAllocator<> stack_alloc_;
  Doc doc_;
};

// How the errors of a request are wrapped.
enum class ErrorWrap {
  none,    // Google's body as is
  array,   // [{...}]: JSON-array streaming (streamGenerateContent without alt=sse)
  openai,  // [{...}\n]: the OpenAI-compatible layer
};

// Everything the request's own checks need to know about where the answer goes.
struct Call {
  Route route;
  ErrorWrap wrap = ErrorWrap::none;
  Framing framing = Framing::sse_crlf;
};

// An error reply: a prebuilt body (kept by reference when not wrapped), or one of its own.
Reply fixed(int status, const std::string& body, const Call& c);
Reply owned(int status, std::string body, const Call& c);

// A request header holding an unsigned number, clamped to max; false if absent or not one.
bool header_uint(const http::Headers& h, std::string_view name, uint64_t max, uint64_t* out);

// x-mock-delay-ms, for streams.
uint64_t chunk_delay_ms(const http::Request& req);

// The answer to a generation request: the text (echo, JSON-mode value, or the x-mock-*
// sizes), its pieces, token counts (x-mock-prompt-tokens, x-mock-candidates-tokens win),
// thoughts and caps.
std::unique_ptr<GenerationPlan> make_plan(const http::Request& req, const PromptSummary& s,
                                          std::string_view model, bool streaming);

// x-mock-prompt-tokens when a test set it (and not 0), else `counted`.
uint64_t prompt_tokens(const http::Request& req, uint64_t counted);

// A refusal based on the key alone (before the body is read), if any.
std::optional<Reply> refuse_key(const Scenario& s, const std::string& key, const Call& c);

// Parses a POST body into doc and checks its shape against `type`; an empty body is {}.
std::optional<Reply> refuse_body(const http::Request& req, Doc& doc, const MessageType& type,
                                 const Call& c);

// Quota and failure scenarios, once the request itself is known to be fine. model: the
// model the 429 names (nullptr: gemini-2.5-flash).
std::optional<Reply> refuse_quota(SharedState& shared, const Scenario& s, const std::string& key,
                                  const Call& c, const ModelInfo* model);

// The key's timing and ending, applied to a success answer.
void shape(Reply& r, const Scenario& s);

std::string join_lines(const std::vector<std::string>& lines);

}  // namespace api
}  // namespace gb::mock
