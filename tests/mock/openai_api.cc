// MockServer::decide_openai: Gemini's OpenAI-compatible layer (WIRE.md §3) under
// /v1beta/openai/. The checks come in the native order (api_common.h): route, the Bearer
// key, the key's standing, the body's shape (proto-JSON, so unknown OpenAI fields are
// refused), the request's meaning, the model, quota and failures, then the answer shaped
// by the key's scenario. Every error is Google's body wrapped in a one-element array.
#include <rapidjson/document.h>

#include <algorithm>
#include <optional>

#include "api_common.h"
#include "errors.h"
#include "mock_server.h"
#include "models.h"
#include "openai_request.h"
#include "openai_responses.h"

namespace gb::mock {

namespace {

using namespace api;

// The version the layer's 404 names: it answers from an internal API version.
constexpr std::string_view kOpenAiVersion = "v1main";

const MessageType& openai_request_type(ApiMethod m) {
  return m == ApiMethod::openai_embeddings ? proto::embeddings_request()
                                           : proto::chat_completion_request();
}

std::vector<std::string> check_openai_semantics(ApiMethod m, const rapidjson::Value& doc) {
  switch (m) {
    case ApiMethod::openai_chat:
      return check_chat_request(doc);
    case ApiMethod::openai_embeddings:
      return check_embeddings_request(doc);
    default:
      return {};
  }
}

// The model named by the path (models/{model}) or the body, or the 404 Google gives for it.
// models.list names none.
std::optional<Reply> refuse_openai_model(const Call& c, std::string_view requested,
                                         const ModelInfo** model) {
  std::string_view needs;
  std::string_view method_name = "GetModel";
  switch (c.route.method) {
    case ApiMethod::openai_chat:
      needs = method_name = "generateContent";
      break;
    case ApiMethod::openai_embeddings:
      needs = method_name = "embedContent";
      break;
    default:
      if (requested.empty()) {
        return std::nullopt;
      }
      break;
  }
  std::string_view id = openai_model_id(requested);
  *model = find_model(id);
  if (*model != nullptr && (needs.empty() || model_supports(**model, needs))) {
    return std::nullopt;
  }
  return owned(404, model_not_found_body(id, kOpenAiVersion, method_name), c);
}

Reply answer_chat(const http::Request& req, const rapidjson::Value& doc, const ModelInfo& model,
                  const Scenario& s) {
  ChatSummary sum = summarize_chat(doc);
  Reply r;
  auto plan = make_plan(req, sum.prompt, model.name, sum.stream);
  OpenAiShape oa;
  oa.model = std::string(string_field(doc, "model"));
  oa.created = kOpenAiCreated;
  oa.include_usage = sum.include_usage;
  oa.usage_chunk = !model.thinking;  // thinking models fold it into the last chunk (§3)
  plan->openai = std::move(oa);
  if (!sum.stream) {
    plan->finish = s.kind != ScenarioKind::truncate;
    r.body = chat_completion_body(*plan);
    return r;
  }
  r.plan = std::move(plan);
  r.framing = Framing::openai_sse;
  r.event_stream = true;
  r.chunk_delay_ms = chunk_delay_ms(req);
  return r;
}

Reply answer_embeddings(const http::Request& req, const rapidjson::Value& doc) {
  OpenAiEmbedRequest e;
  e.model = std::string(string_field(doc, "model"));
  embedding_texts(doc, &e.texts);
  uint64_t bytes = 0;
  for (const std::string& t : e.texts) {
    bytes += t.size();
  }
  e.prompt_tokens = prompt_tokens(req, std::max<uint64_t>(1, tokens_for_bytes(bytes)));
  int64_t dims = int_field(doc, "dimensions", 3072);
  e.dims = dims <= 0 || dims > 3072 ? 3072 : static_cast<uint64_t>(dims);
  e.base64 = string_field(doc, "encodingFormat") == "base64";
  Reply r;
  r.body = openai_embeddings_body(e);
  return r;
}

Reply answer_openai(const http::Request& req, const rapidjson::Value& doc, const Call& c,
                    const ModelInfo* model, const Scenario& s) {
  switch (c.route.method) {
    case ApiMethod::openai_chat:
      return answer_chat(req, doc, *model, s);
    case ApiMethod::openai_embeddings:
      return answer_embeddings(req, doc);
    default: {
      Reply r;
      if (model == nullptr) {
        r.fixed_body = &openai_models_body();
      } else {
        r.body = openai_model_body(*model);
      }
      return r;
    }
  }
}

}  // namespace

Reply MockServer::decide_openai(http::Request& req, std::string* key, size_t* action) {
  Call c;
  c.wrap = ErrorWrap::openai;
  // The key is read before the route only so that the tallies can name it.
  BearerAuth auth = bearer_key(req.headers.find("authorization"), key);
  if (!parse_openai_route(req.method, req.path(), &c.route)) {
    *action = kOtherAction;
    return fixed(404, method_not_found_body(), c);
  }
  *action = action_index(c.route.method);
  int status = 0;
  if (const std::string* body = credential_error(auth, &status)) {
    return fixed(status, *body, Call{});  // already wrapped
  }
  std::string as;
  Scenario s = parse_scenario(shared_.scripted(*key, &as) ? as : *key);
  if (auto r = refuse_key(s, *key, c)) {
    return std::move(*r);
  }
  BodyDoc body;
  Doc& doc = body.doc();
  if (auto r = refuse_body(req, doc, openai_request_type(c.route.method), c)) {
    return std::move(*r);
  }
  if (req.method == "POST") {
    auto errors = check_openai_semantics(c.route.method, doc);
    if (!errors.empty()) {
      return owned(400, error_body(400, join_lines(errors)), c);
    }
  }
  const ModelInfo* model = nullptr;
  std::string_view requested = req.method == "POST" ? string_field(doc, "model") : c.route.model;
  if (auto r = refuse_openai_model(c, requested, &model)) {
    return std::move(*r);
  }
  if (auto r = refuse_quota(shared_, s, *key, c, model)) {
    return std::move(*r);
  }
  Reply r = answer_openai(req, doc, c, model, s);
  if (r.status == 200) {
    shape(r, s);
  }
  return r;
}

}  // namespace gb::mock
