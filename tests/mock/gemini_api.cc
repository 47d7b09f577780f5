// MockServer::decide: from a request to a Reply, in the order Google's front end checks:
// route, API key, the key's standing (invalid, denied, ...), the JSON shape of the body, the
// model, the request's meaning, then quota and failures, and finally the answer with the
// key's timing and ending (slow, reset, truncate, ...) applied. The steps shared with the
// OpenAI-compatible layer are in api_common.cc.
#include <rapidjson/document.h>

#include <charconv>
#include <optional>

#include "api_common.h"
#include "errors.h"
#include "http/request.h"
#include "mock_server.h"
#include "models.h"
#include "request_info.h"
#include "responses.h"
#include "route.h"
#include "scenario.h"

namespace gb::mock {

namespace {

using namespace api;

const MessageType& request_type(ApiMethod m) {
  switch (m) {
    case ApiMethod::count_tokens:
      return proto::count_tokens_request();
    case ApiMethod::embed:
      return proto::embed_content_request();
    case ApiMethod::batch_embed:
      return proto::batch_embed_contents_request();
    default:
      return proto::generate_content_request();
  }
}

std::vector<std::string> check_semantics(ApiMethod m, const rapidjson::Value& doc,
                                         std::string_view model) {
  switch (m) {
    case ApiMethod::generate:
    case ApiMethod::stream:
      return check_generate_request(doc, model);
    case ApiMethod::count_tokens: {
      const rapidjson::Value* inner = field(doc, "generateContentRequest");
      return check_generate_request(inner != nullptr ? *inner : doc, model);
    }
    case ApiMethod::embed:
      return check_embed_request(doc, "EmbedContentRequest");
    case ApiMethod::batch_embed:
      return check_batch_embed_request(doc, model);
    default:
      return {};
  }
}

// The success answer of each method (the body is known to be valid).
Reply answer(const http::Request& req, const rapidjson::Value& doc, const Call& c,
             const ModelInfo* model, const Scenario& s) {
  Reply r;
  switch (c.route.method) {
    case ApiMethod::list_models: {
      std::string size;
      std::string token;
      int64_t page_size = 0;
      if (http::query_param(req.query(), "pageSize", &size)) {
        std::from_chars(size.data(), size.data() + size.size(), page_size);
      }
      size_t start = 0;
      if (http::query_param(req.query(), "pageToken", &token) && !token.empty()) {
        // Clients may or may not percent-encode the token's base64 '+', '/' and '='.
        std::string decoded;
        if (!page_token_index(token, &start) &&
            !(http::percent_decode(token, &decoded) && page_token_index(decoded, &start))) {
          return owned(400, error_body(400, "Invalid page token."), c);
        }
      }
      uint64_t size_wanted = effective_page_size(page_size);
      if (start == 0 && size_wanted >= kModelCount) {
        r.fixed_body = &all_models_body();
      } else {
        r.body = models_page_body(start, size_wanted);
      }
      return r;
    }
    case ApiMethod::get_model:
      r.fixed_body = &cached_model_body(*model);
      return r;
    case ApiMethod::generate: {
      auto plan = make_plan(req, summarize_generate(doc), model->name, false);
      // A truncate key's whole answer lacks its finishReason, like its streams.
      plan->finish = s.kind != ScenarioKind::truncate;
      r.body = generate_body(*plan);
      return r;
    }
    case ApiMethod::stream:
      r.plan = make_plan(req, summarize_generate(doc), model->name, true);
      r.framing = c.framing;
      r.event_stream = c.framing != Framing::json_array;
      r.chunk_delay_ms = chunk_delay_ms(req);
      return r;
    case ApiMethod::count_tokens: {
      const rapidjson::Value* inner = field(doc, "generateContentRequest");
      r.body = count_tokens_body(
          prompt_tokens(req, count_request_tokens(inner != nullptr ? *inner : doc)));
      return r;
    }
    case ApiMethod::embed:
      r.body = embed_body(embed_input(doc));
      return r;
    case ApiMethod::batch_embed: {
      std::vector<EmbedInput> inputs;
      for (const auto& one : array_field(doc, "requests")->GetArray()) {
        inputs.push_back(embed_input(one));
      }
      r.body = batch_embed_body(inputs);
      return r;
    }
    default:  // the OpenAI-compatible layer's methods are answered by openai_api.cc
      break;
  }
  return r;
}

// The model of the path, or the 404 Google gives for it (models.list has none).
std::optional<Reply> refuse_model(const Call& c, const ModelInfo** model) {
  if (c.route.method == ApiMethod::list_models) {
    return std::nullopt;
  }
  *model = find_model(c.route.model);
  const MethodInfo* mi = method_info(c.route.method);
  if (*model != nullptr && (mi == nullptr || model_supports(**model, mi->needs))) {
    return std::nullopt;
  }
  return owned(404,
               model_not_found_body(c.route.model, c.route.version,
                                    mi != nullptr ? mi->message_name : "GetModel"),
               c);
}

}  // namespace

Reply MockServer::decide(http::Request& req, std::string* key, size_t* action) {
  // The key is read first only so that the tallies can name it; the route is checked first.
  if (const std::string* h = req.headers.find("x-goog-api-key")) {
    *key = *h;
  } else if (std::string raw; http::query_param(req.query(), "key", &raw)) {
    http::percent_decode(raw, key);
  }
  Call c;
  if (!parse_route(req.method, req.path(), &c.route)) {
    *action = kOtherAction;
    return fixed(404, method_not_found_body(), c);
  }
  *action = action_index(c.route.method);
  if (c.route.method == ApiMethod::stream) {
    std::string alt;
    bool sse = http::query_param(req.query(), "alt", &alt) && alt == "sse";
    c.wrap = sse ? ErrorWrap::none : ErrorWrap::array;
    c.framing = !sse ? Framing::json_array : opts_.sse_lf ? Framing::sse_lf : Framing::sse_crlf;
  }
  if (key->empty()) {
    return fixed(403, unregistered_caller_body(), c);
  }
  std::string as;
  Scenario s = parse_scenario(shared_.scripted(*key, &as) ? as : *key);
  if (auto r = refuse_key(s, *key, c)) {
    return std::move(*r);
  }
  BodyDoc body;
  Doc& doc = body.doc();
  if (auto r = refuse_body(req, doc, request_type(c.route.method), c)) {
    return std::move(*r);
  }
  const ModelInfo* model = nullptr;
  if (auto r = refuse_model(c, &model)) {
    return std::move(*r);
  }
  if (req.method == "POST") {
    auto errors = check_semantics(c.route.method, doc, c.route.model);
    if (!errors.empty()) {
      return owned(400, error_body(400, join_lines(errors)), c);
    }
  }
  if (auto r = refuse_quota(shared_, s, *key, c, model)) {
    return std::move(*r);
  }
  Reply r = answer(req, doc, c, model, s);
  if (r.status == 200) {
    shape(r, s);
  }
  return r;
}

}  // namespace gb::mock
