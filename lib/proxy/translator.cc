#include "proxy/translator.h"

#include <chrono>

#include "llm/openai/tool_id.h"

namespace gb::proxy {

using namespace llm::openai;

llm::openai::ClientError Translator::error(int status, std::string_view body,
                                           std::string_view retry_after) const {
  return translate_error(status, body, retry_after);
}

namespace {

ResponseIds fresh_ids() {
  ResponseIds ids;
  ids.id = "chatcmpl-" + random_suffix() + random_suffix();
  ids.created = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return ids;
}

class ChatStreamTranslator : public Translator {
 public:
  explicit ChatStreamTranslator(const ResponseOptions& opt) : stream_(opt, fresh_ids()) {}
  bool streams() const override { return true; }
  std::string feed(std::string_view bytes) override { return stream_.feed(bytes); }
  std::string finish() override { return stream_.finish(); }
  std::string fail(std::string_view message) override { return stream_.fail(message); }
  bool failed() const override { return stream_.failed(); }
  const char* content_type() const override { return "text/event-stream"; }

 private:
  ChatStream stream_;
};

class ChatTranslator : public Translator {
 public:
  explicit ChatTranslator(const ResponseOptions& opt) : opt_(opt) {}
  bool streams() const override { return false; }
  std::optional<std::string> translate(std::string_view body) override {
    ChatResponseResult r = translate_chat_response(body, opt_, fresh_ids());
    return r.ok ? std::optional<std::string>(std::move(r.body)) : std::nullopt;
  }
  const char* content_type() const override { return "application/json"; }

 private:
  ResponseOptions opt_;
};

class EmbeddingsTranslator : public Translator {
 public:
  explicit EmbeddingsTranslator(const EmbeddingsCall& call) : call_(call) {}
  bool streams() const override { return false; }
  std::optional<std::string> translate(std::string_view body) override {
    ChatResponseResult r = translate_embeddings_response(body, call_);
    return r.ok ? std::optional<std::string>(std::move(r.body)) : std::nullopt;
  }
  const char* content_type() const override { return "application/json"; }

 private:
  EmbeddingsCall call_;
};

}  // namespace

std::unique_ptr<Translator> chat_translator(const ResponseOptions& opt) {
  if (opt.stream) {
    return std::make_unique<ChatStreamTranslator>(opt);
  }
  return std::make_unique<ChatTranslator>(opt);
}

std::unique_ptr<Translator> embeddings_translator(const EmbeddingsCall& call) {
  auto t = std::make_unique<EmbeddingsTranslator>(call);
  return t;
}

}  // namespace gb::proxy
