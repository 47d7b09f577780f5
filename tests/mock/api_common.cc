#include "api_common.h"

#include <algorithm>
#include <charconv>

#include "errors.h"
#include "mock_server.h"
#include "proto_check.h"

namespace gb::mock::api {

namespace {

thread_local char t_value_buf[64 << 10];
thread_local char t_stack_buf[16 << 10];

constexpr uint64_t kMaxChunks = 10'000'000;
constexpr uint64_t kMaxChunkBytes = 1 << 20;
constexpr uint64_t kMaxBodyBytes = 256ull << 20;
constexpr uint64_t kMaxTokens = 1'000'000'000;
constexpr uint64_t kMaxDelayMs = 600'000;
constexpr std::string_view kThought = "Thinking about the request before answering.";

std::string wrap(std::string_view body, ErrorWrap w) {
  switch (w) {
    case ErrorWrap::array:
      return wrap_in_array(body);
    case ErrorWrap::openai:
      return wrap_openai_error(body);
    case ErrorWrap::none:
      break;
  }
  return std::string(body);
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

}  // namespace

BodyDoc::BodyDoc()
    : value_alloc_(t_value_buf, sizeof t_value_buf),
      stack_alloc_(t_stack_buf, sizeof t_stack_buf),
      doc_(&value_alloc_, 1024, &stack_alloc_) {}

Reply fixed(int status, const std::string& body, const Call& c) {
  Reply r;
  r.status = status;
  if (c.wrap != ErrorWrap::none) {
    r.body = wrap(body, c.wrap);
  } else {
    r.fixed_body = &body;
  }
  return r;
}

Reply owned(int status, std::string body, const Call& c) {
  Reply r;
  r.status = status;
  r.body = c.wrap != ErrorWrap::none ? wrap(body, c.wrap) : std::move(body);
  return r;
}

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

uint64_t chunk_delay_ms(const http::Request& req) {
  uint64_t ms = 0;
  header_uint(req.headers, "x-mock-delay-ms", kMaxDelayMs, &ms);
  return ms;
}

// 0 does not count: Gemini never says 0.
uint64_t prompt_tokens(const http::Request& req, uint64_t counted) {
  uint64_t n = 0;
  return header_uint(req.headers, "x-mock-prompt-tokens", kMaxTokens, &n) && n > 0 ? n : counted;
}

std::unique_ptr<GenerationPlan> make_plan(const http::Request& req, const PromptSummary& s,
                                          std::string_view model, bool streaming) {
  auto p = std::make_unique<GenerationPlan>();
  p->model = std::string(model);
  p->response_id = response_id(model, req.body);
  p->prompt_tokens = prompt_tokens(req, s.prompt_tokens);
  header_uint(req.headers, "x-mock-candidates-tokens", kMaxTokens, &p->candidates_tokens);
  if (s.include_thoughts) {
    p->thought = std::string(kThought);
  }
  p->function_name = s.function_name;
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
  if (s.json) {
    set_json_text(*p, s.json_text);
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

std::optional<Reply> refuse_body(const http::Request& req, Doc& doc, const MessageType& type,
                                 const Call& c) {
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
  checker.check(doc, type);
  if (!checker.ok()) {
    return owned(400, bad_request_body(checker.message(), checker.violations()), c);
  }
  return std::nullopt;
}

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

}  // namespace gb::mock::api
