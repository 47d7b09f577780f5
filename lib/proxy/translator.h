// Translator: how a session rewrites the upstream's answer when the client speaks
// another API than the pool (OpenAI Chat Completions on a Gemini pool). A session
// without one forwards the answer as it is.
//
// Streaming translators turn upstream bytes into client bytes as they come;
// non-streaming ones get the whole (bounded) upstream body at the end. Upstream error
// answers are always turned into the client's error shape.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "llm/openai/chat_request.h"
#include "llm/openai/chat_response.h"
#include "config/config.h"

namespace gb::proxy {

class Translator {
 public:
  virtual ~Translator() = default;

  virtual bool streams() const = 0;
  // Streams: bytes for the client from upstream bytes; at a clean end; at a cut.
  virtual std::string feed(std::string_view) { return {}; }
  virtual std::string finish() { return {}; }
  virtual std::string fail(std::string_view /*message*/) { return {}; }
  // The stream ended with an error event (the upstream's, or a truncation).
  virtual bool failed() const { return false; }
  // Whole answers: the client's body, or nullopt when the upstream's body is not what
  // the API promises (the client gets a 502).
  virtual std::optional<std::string> translate(std::string_view /*body*/) { return {}; }
  // The status of a translated whole answer (after translate()).
  virtual int status() const { return 200; }
  // The Content-Type of the client's answer.
  virtual const char* content_type() const = 0;
  // An upstream error answer in the client's shape.
  virtual llm::openai::ClientError error(int status, std::string_view body,
                                         std::string_view retry_after) const;
};

// OpenAI chat.completions on a Gemini pool.
std::unique_ptr<Translator> chat_translator(const llm::openai::ResponseOptions& opt);
// OpenAI embeddings on a Gemini pool.
std::unique_ptr<Translator> embeddings_translator(const llm::openai::EmbeddingsCall& call);

// GET /v1/models or /v1/models/{model}: the answer of `pool`'s upstream models list goes
// into the cache; the client gets the list (or the one model, or 404) built from the
// cache of every pool.
class ModelsCache;
struct Snapshot;
std::unique_ptr<Translator> models_translator(const config::Pool& pool, ModelsCache& cache,
                                              std::shared_ptr<const Snapshot> snap,
                                              std::string one_model);
// The same answer, from the cache alone; nullopt when a pool's list is stale.
struct ModelsAnswer {
  int status = 200;
  std::string body;
};
std::optional<ModelsAnswer> models_answer(const ModelsCache& cache, const Snapshot& snap,
                                          const std::string& one_model,
                                          const config::Pool** stale);

}  // namespace gb::proxy
