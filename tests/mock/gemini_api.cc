// MockServer::decide: from a request to a Reply, in the order Google's front end checks:
// route, API key, the key's standing (invalid, denied, ...), the JSON shape of the body, the
// model, the request's meaning, then quota and failures, and finally the answer with the
// key's timing and ending (slow, reset, truncate, ...) applied.
#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "errors.h"
#include "http/request.h"
#include "mock_server.h"
#include "models.h"
#include "proto_check.h"
#include "request_info.h"
#include "responses.h"
#include "route.h"
#include "scenario.h"

namespace gb::mock {

namespace {

using Doc = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                       rapidjson::MemoryPoolAllocator<>>;

// Parsing allocates from per-thread buffers first: most bodies need no malloc at all.
thread_local char t_value_buf[64 << 10];
thread_local char t_stack_buf[16 << 10];

constexpr uint64_t kMaxChunks = 10'000'000;
constexpr uint64_t kMaxChunkBytes = 1 << 20;
constexpr uint64_t kMaxBodyBytes = 256ull << 20;
constexpr uint64_t kMaxDelayMs = 600'000;
constexpr uint64_t kMaxTokens = 1'000'000'000;
constexpr std::string_view kThought = "Thinking about the request before answering.";

bool header_uint(const http::Headers& h, std::string_view name, uint64_t max, uint64_t* out) {
  const std::string* v = h.find(name);
  if (v == nullptr) {
    return false;
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) {
    return false;
  }
  *out = std::min(n, max);
  return true;
}

// x-mock-prompt-tokens when a test set it (0 does not count: Gemini never says 0), else
// the count of the request's bytes.
uint64_t prompt_tokens(const http::Request& req, uint64_t counted) {
  uint64_t n = 0;
  return header_uint(req.headers, "x-mock-prompt-tokens", kMaxTokens, &n) && n > 0 ? n : counted;
}

// "Invalid JSON payload received. Unexpected token.\n<the line>\n<caret under the error>"
std::string json_syntax_message(std::string_view body, size_t offset) {
  std::string msg = "Invalid JSON payload received. ";
  msg += offset >= body.size() ? "Unexpected end of string." : "Unexpected token.";
  offset = std::min(offset, body.size());
  size_t line_start = body.rfind('\n', offset == 0 ? 0 : offset - 1);
  line_start = line_start == std::string_view::npos || offset == 0 ? 0 : line_start + 1;
  size_t from = std::max(line_start, offset > 40 ? offset - 40 : 0);
  size_t line_end = body.find('\n', offset);
  size_t to = std::min(
      {line_end == std::string_view::npos ? body.size() : line_end, offset + 20, body.size()});
  msg += '\n';
  msg += valid_utf8(body.substr(from, to - from));
  msg += '\n';
  msg.append(offset - from, ' ');
  msg += '^';
  return msg;
}

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

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) {
    if (!out.empty()) {
      out += '\n';
    }
    out += l;
  }
  return out;
}

// Everything the request's own checks need to know about where the answer goes.
struct Call {
  Route route;
  bool wrap_errors = false;  // JSON-array streaming: errors as [{...}]
  Framing framing = Framing::sse_crlf;
};

Reply fixed(int status, const std::string& body, const Call& c) {
  Reply r;
  r.status = status;
  if (c.wrap_errors) {
    r.body = wrap_in_array(body);
  } else {
    r.fixed_body = &body;
  }
  return r;
}

Reply owned(int status, std::string body, const Call& c) {
  Reply r;
  r.status = status;
  r.body = c.wrap_errors ? wrap_in_array(body) : std::move(body);
  return r;
}

std::unique_ptr<GenerationPlan> make_plan(const http::Request& req, const rapidjson::Value& doc,
                                          std::string_view model, bool streaming) {
  PromptSummary s = summarize_generate(doc);
  auto p = std::make_unique<GenerationPlan>();
  p->model = std::string(model);
  p->response_id = response_id(model, req.body);
  p->prompt_tokens = prompt_tokens(req, s.prompt_tokens);
  header_uint(req.headers, "x-mock-candidates-tokens", kMaxTokens, &p->candidates_tokens);
  if (s.include_thoughts) {
    p->thought = std::string(kThought);
  }
  p->function_name = std::move(s.function_name);
  p->signature = needs_thought_signatures(model);
  if (s.max_output_tokens > 0) {
    p->max_output_bytes = static_cast<uint64_t>(s.max_output_tokens) * 4;
  }
  uint64_t body_bytes = 0;
  bool has_body_bytes = header_uint(req.headers, "x-mock-body-bytes", kMaxBodyBytes, &body_bytes);
  if (streaming) {
    header_uint(req.headers, "x-mock-chunks", kMaxChunks, &p->chunks);
    if (p->chunks == 0) {
      return p;  // no text events: the stream is the final event alone, with no text
    }
    uint64_t chunk_bytes = 0;
    if (header_uint(req.headers, "x-mock-chunk-bytes", kMaxChunkBytes, &chunk_bytes) &&
        chunk_bytes > 0) {
      p->chunk_bytes = chunk_bytes;
      p->text = TextSource::filler(p->chunks * chunk_bytes);
      return p;
    }
  }
  if (has_body_bytes) {
    p->text = TextSource::filler(body_bytes);
    return p;
  }
  std::string echo = "Echo: " + s.last_user_text;
  // Every text event of a stream gets at least one byte: pad a short echo with the filler.
  for (size_t i = 0; streaming && echo.size() < p->chunks; ++i) {
    echo += TextSource::kFiller[i % TextSource::kFiller.size()];
  }
  p->text = TextSource::echo(std::move(echo));
  return p;
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
      auto plan = make_plan(req, doc, model->name, false);
      // A truncate key's whole answer lacks its finishReason, like its streams.
      plan->finish = s.kind != ScenarioKind::truncate;
      r.body = generate_body(*plan);
      return r;
    }
    case ApiMethod::stream:
      r.plan = make_plan(req, doc, model->name, true);
      r.framing = c.framing;
      r.event_stream = c.framing != Framing::json_array;
      header_uint(req.headers, "x-mock-delay-ms", kMaxDelayMs, &r.chunk_delay_ms);
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
  }
  return r;
}

// The key's timing and ending, applied to a success answer.
void shape(Reply& r, const Scenario& s) {
  switch (s.kind) {
    case ScenarioKind::slow:
      r.delay_ms = std::min(s.n, kMaxDelayMs);
      break;
    case ScenarioKind::reset:
      r.ending = Ending::reset_before;
      break;
    case ScenarioKind::reset_after:
      r.ending = Ending::cut;
      r.cut_after = s.n;
      break;
    case ScenarioKind::truncate:
      if (r.plan) {
        r.plan->finish = false;
      }
      break;
    case ScenarioKind::midstream_error:
      if (r.plan) {
        r.ending = Ending::midstream_error;
      }
      break;
    case ScenarioKind::hang:
      r.ending = Ending::hang;
      break;
    default:
      break;
  }
}

// A refusal based on the key alone (before the body is read), if any.
std::optional<Reply> refuse_key(const Scenario& s, const std::string& key, const Call& c) {
  switch (s.kind) {
    case ScenarioKind::invalid:
      return fixed(400, api_key_invalid_body(), c);
    case ScenarioKind::denied:
      return fixed(403, leaked_key_body(), c);
    case ScenarioKind::suspended:
      return owned(403, suspended_body(key), c);
    case ScenarioKind::blocked:
      return owned(403,
                   blocked_body("google.ai.generativelanguage." + std::string(c.route.version) +
                                "." + std::string(rpc_name(c.route.method))),
                   c);
    default:
      return std::nullopt;
  }
}

// Parses a POST body into doc and checks its shape; an empty body is {}.
std::optional<Reply> refuse_body(const http::Request& req, Doc& doc, const Call& c) {
  doc.SetObject();
  if (req.method != "POST") {
    return std::nullopt;
  }
  if (!req.body.empty()) {
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(req.body.data(), req.body.size());
    if (doc.HasParseError()) {
      std::string msg = json_syntax_message(req.body, doc.GetErrorOffset());
      return owned(400, bad_request_body(msg, {{"", msg}}), c);
    }
    if (!doc.IsObject()) {
      std::string msg =
          "Invalid JSON payload received. Unknown name \"\": Root element must be a message.";
      return owned(400, bad_request_body(msg, {{"", msg}}), c);
    }
  }
  ProtoChecker checker;
  checker.check(doc, request_type(c.route.method));
  if (!checker.ok()) {
    return owned(400, bad_request_body(checker.message(), checker.violations()), c);
  }
  return std::nullopt;
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

// Quota and failure scenarios, once the request itself is known to be fine.
std::optional<Reply> refuse_quota(SharedState& shared, const Scenario& s, const std::string& key,
                                  const Call& c, const ModelInfo* model) {
  std::string_view quota_model = model != nullptr ? model->name : "gemini-2.5-flash";
  switch (s.kind) {
    case ScenarioKind::ratelimit:
      if (!s.has_n) {
        return fixed(429, bare_quota_body(), c);
      }
      return owned(429, quota_body(quota_model, false, s.n), c);
    case ScenarioKind::perday:
      return owned(429, quota_body(quota_model, true, 23), c);
    case ScenarioKind::fail500:
      return fixed(500, internal_body(), c);
    case ScenarioKind::fail503:
      return fixed(503, unavailable_body(), c);
    case ScenarioKind::flaky:
      if (shared.flaky_hit(key) < s.n) {
        return fixed(503, unavailable_body(), c);
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
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
    c.wrap_errors = !sse;
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
  rapidjson::MemoryPoolAllocator<> value_alloc(t_value_buf, sizeof t_value_buf);
  rapidjson::MemoryPoolAllocator<> stack_alloc(t_stack_buf, sizeof t_stack_buf);
  Doc doc(&value_alloc, 1024, &stack_alloc);
  if (auto r = refuse_body(req, doc, c)) {
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
