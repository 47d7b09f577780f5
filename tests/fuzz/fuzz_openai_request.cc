// The OpenAI request translators (lib/llm/openai/chat_request.h) on arbitrary bytes, as
// a client's POST /v1/chat/completions and /v1/embeddings bodies reach them.
//
// Input: the request body, whole. It goes to translate_chat_request and to
// translate_embeddings_request. A chat request that translates is serialized, each
// remote medium it lists is attached (as the proxy does after downloading it) and it is
// serialized again: both must be one JSON object in valid UTF-8, since the request was
// parsed with its encoding validated and the upstream reads them as JSON. An embeddings
// request that translates must give a JSON object the same way. A refusal must carry a
// 400 or 413 and a message, and the OpenAI error body made of it must be valid JSON.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "llm/openai/chat_request.h"
#include "llm/openai/chat_response.h"

namespace {

using namespace gb::llm::openai;

// One JSON value, nothing after it, its bytes valid UTF-8 (RFC 8259 §8.1). Iterative:
// a translated body may nest as deep as the request did.
bool strict_json(std::string_view text, bool want_object) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                  text.size());
  return !d.HasParseError() && (!want_object || d.IsObject());
}

void check_refusal(const RequestError& e) {
  FUZZ_CHECK(e.status == 400 || e.status == 413);
  FUZZ_CHECK(!e.message.empty());
  // What the proxy sends back for it.
  FUZZ_CHECK(strict_json(error_body(e.message, "invalid_request_error", e.param, e.code), true));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);

  ChatRequestResult chat = translate_chat_request(body);
  if (chat.ok) {
    FUZZ_CHECK(strict_json(serialize(chat.call), true));
    if (!chat.call.remote.empty()) {
      // The downloaded bytes and their Content-Type, made up from the input.
      std::string_view bytes = body.substr(0, 16);
      for (size_t i = 0; i < chat.call.remote.size(); ++i) {
        attach_media(chat.call, i, i % 2 == 0 ? "Image/PNG; charset=binary" : "", bytes);
      }
      FUZZ_CHECK(strict_json(serialize(chat.call), true));
    }
  } else {
    check_refusal(chat.error);
  }

  EmbeddingsRequestResult emb = translate_embeddings_request(body);
  if (emb.ok) {
    FUZZ_CHECK(strict_json(emb.call.body, true));
    FUZZ_CHECK(emb.call.prompt_tokens >= 0);
  } else {
    check_refusal(emb.error);
  }
  return 0;
}
