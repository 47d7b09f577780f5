// The OpenAI-compatible routes: which pool serves the request, and how (forwarded to an
// OpenAI-compatible pool as it is, or translated for a Gemini pool).
#include <rapidjson/document.h>

#include "base/json_depth.h"
#include "base/log.h"
#include "llm/openai/chat_request.h"
#include "llm/openai/chat_response.h"
#include "proxy/worker.h"

namespace gb::proxy {

namespace {

// The "model" of a request body, without a "models/" prefix; "" if there is none.
std::string peek_model(std::string_view body) {
  if (!json_depth_within(body, 128)) {
    return "";
  }
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("model") || !d["model"].IsString()) {
    return "";
  }
  std::string m(d["model"].GetString(), d["model"].GetStringLength());
  if (m.rfind("models/", 0) == 0) {
    m.erase(0, 7);
  }
  // A name that goes to the key pool's lanes and to the logs: short and plain.
  if (m.size() > 128 || m.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789._-") != std::string::npos) {
    return "";
  }
  return m;
}

std::string error_json(const llm::openai::RequestError& e) {
  return llm::openai::error_body(e.message, "invalid_request_error", e.param, e.code);
}

}  // namespace

void Worker::handle_openai(http::Exchange& ex, Route route, std::shared_ptr<const Snapshot> snap,
                           std::string token_id) {
  if (route.kind == RouteKind::openai_models || route.kind == RouteKind::openai_model) {
    openai_models(ex, std::move(route), std::move(snap), std::move(token_id));
    return;
  }
  const config::Config& cfg = *snap->config;
  auto refuse = [&](int status, Errc err, const std::string& body, std::string_view why) {
    http::Headers h;
    h.add("Content-Type", "application/json");
    log_access(ex, status, err, why);
    ex.respond(status, std::move(h), body);
  };
  std::string model = peek_model(ex.request().body);
  if (model.empty()) {
    refuse(400, Errc::bad_request,
           llm::openai::error_body("the request body must be a JSON object whose \"model\" is a "
                                   "model name (letters, digits, '.', '_' and '-')",
                                   "invalid_request_error", "model", ""),
           "no model");
    return;
  }
  const config::Pool* pool = cfg.pool_for_model(model);
  if (pool == nullptr || pool->provider == config::Provider::anthropic) {
    refuse(404, Errc::no_pool,
           llm::openai::error_body("The model '" + model +
                                       "' does not exist or no pool of this gbd serves it "
                                       "(check the pools' models globs).",
                                   "invalid_request_error", "model", "model_not_found"),
           "no pool");
    return;
  }
  route.model = model;
  bool chat = route.kind == RouteKind::openai_chat;
  SessionPlan plan;
  if (pool->provider == config::Provider::openai) {
    // Byte for byte, with the pool's key.
    route.upstream_path = chat ? "/chat/completions" : "/embeddings";
    plan.style.bearer = true;
    start_session(ex, std::move(route), std::move(snap), *pool, std::move(token_id),
                  std::move(plan));
    return;
  }
  plan.style.translated = true;
  if (chat) {
    llm::openai::ChatRequestResult r = llm::openai::translate_chat_request(ex.request().body);
    if (!r.ok) {
      refuse(r.error.status, Errc::bad_request, error_json(r.error), r.error.message.substr(0, 200));
      return;
    }
    route.upstream_path = "/v1beta/models/" + r.call.model +
                          (r.call.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    route.stream = r.call.stream;
    plan.translator = chat_translator(r.call.response);
    if (r.call.remote.empty()) {
      plan.body = llm::openai::serialize(r.call);
    } else {
      const config::Limits& lim = cfg.limits;
      plan.media = MediaLimits{lim.media_max, static_cast<uint64_t>(lim.media_timeout.count()),
                               lim.media_private, pool->ca_file};
      plan.media_call = std::make_unique<llm::openai::GeminiCall>(std::move(r.call));
    }
  } else {
    llm::openai::EmbeddingsRequestResult r =
        llm::openai::translate_embeddings_request(ex.request().body);
    if (!r.ok) {
      refuse(r.error.status, Errc::bad_request, error_json(r.error), r.error.message.substr(0, 200));
      return;
    }
    route.upstream_path = "/v1beta/models/" + r.call.model + ":batchEmbedContents";
    plan.body = r.call.body;
    plan.translator = embeddings_translator(r.call);
  }
  start_session(ex, std::move(route), std::move(snap), *pool, std::move(token_id),
                std::move(plan));
}

void Worker::openai_models(http::Exchange& ex, Route route, std::shared_ptr<const Snapshot> snap,
                           std::string token_id) {
  const config::Pool* stale = nullptr;
  std::optional<ModelsAnswer> cached = models_answer(rt_.models, *snap, route.model, &stale);
  if (cached) {
    http::Headers h;
    h.add("Content-Type", "application/json");
    log_access(ex, cached->status, cached->status == 200 ? Errc::ok : Errc::not_found,
               "models from cache");
    ex.respond(cached->status, std::move(h), cached->body);
    return;
  }
  // A pool's list is missing or old: ask its upstream (one page, the most it allows).
  SessionPlan plan;
  plan.style.translated = true;
  plan.style.bearer = stale->provider == config::Provider::openai;
  std::string one = route.model;
  route.model.clear();  // a models list is asked of any key, not of a model's lane
  route.upstream_path = stale->provider == config::Provider::gemini
                            ? "/v1beta/models?pageSize=1000"
                            : "/models";
  plan.translator = models_translator(*stale, rt_.models, snap, std::move(one));
  start_session(ex, std::move(route), std::move(snap), *stale, std::move(token_id),
                std::move(plan));
}

void Worker::start_session(http::Exchange& ex, Route route, std::shared_ptr<const Snapshot> snap,
                           const config::Pool& pool, std::string token_id, SessionPlan plan) {
  pool::KeyPool* keys = snap->keys_of(pool);
  auto* s = new Session(loop_, mailbox_, *upstream_, ex, snap, std::move(route), pool, *keys,
                        std::move(token_id), ++next_sid_, std::move(plan));
  s->start();
}

}  // namespace gb::proxy
