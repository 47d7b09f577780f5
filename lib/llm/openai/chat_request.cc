// translate_chat_request: the table of every top-level field of a Chat Completions
// request and what becomes of it, then the translators that own each group of fields:
//   request_messages.cc    messages
//   request_tools.cc       tools, tool_choice, web_search_options
//   request_generation.cc  sampling, lengths, stop, n, logprobs, response_format,
//                          reasoning_effort, modalities, verbosity
//   here                   model, stream, stream_options, parallel_tool_calls
#include "llm/openai/chat_request.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <utility>

#include "llm/openai/request_common.h"
#include "llm/openai/request_generation.h"
#include "llm/openai/request_messages.h"
#include "llm/openai/request_tools.h"

namespace gb::llm::openai {

namespace {

using namespace req;

// Gemini takes at most 20 MB of prompt (WIRE.md §1.4.1); a bigger body cannot succeed,
// and media bytes go through this translation nearly unchanged in size.
constexpr size_t kMaxBody = 20 * 1024 * 1024;

enum class Use {
  translated,  // by the translator named in the table's comments
  ignored,     // accepted, changes nothing upstream (the reason is in `why`)
  refused,     // would change the answer, cannot be honoured: 400 unless null/empty
};

struct Field {
  std::string_view name;
  Use use;
  std::string_view why;
};

constexpr Field kFields[] = {
    {"model", Use::translated, ""},
    {"messages", Use::translated, ""},
    {"stream", Use::translated, ""},
    {"stream_options", Use::translated, ""},
    {"parallel_tool_calls", Use::translated, ""},
    // request_tools.cc
    {"tools", Use::translated, ""},
    {"tool_choice", Use::translated, ""},
    {"web_search_options", Use::translated, ""},
    // request_generation.cc
    {"temperature", Use::translated, ""},
    {"top_p", Use::translated, ""},
    {"top_k", Use::translated, ""},  // not OpenAI's: an extension some clients send
    {"max_tokens", Use::translated, ""},
    {"max_completion_tokens", Use::translated, ""},
    {"stop", Use::translated, ""},
    {"n", Use::translated, ""},
    {"seed", Use::translated, ""},
    {"frequency_penalty", Use::translated, ""},
    {"presence_penalty", Use::translated, ""},
    {"logprobs", Use::translated, ""},
    {"top_logprobs", Use::translated, ""},
    {"response_format", Use::translated, ""},
    {"reasoning_effort", Use::translated, ""},
    {"modalities", Use::translated, ""},
    {"verbosity", Use::translated, ""},
    {"user", Use::ignored,
     "an end-user id for OpenAI's abuse monitoring; the answer does not depend on it"},
    {"safety_identifier", Use::ignored, "the newer name of user: the same"},
    {"prompt_cache_key", Use::ignored,
     "routes requests to OpenAI's prompt cache; Gemini caches implicitly, and the answer "
     "does not depend on it"},
    {"store", Use::ignored,
     "asks OpenAI to keep the completion for its dashboard; gbd keeps nothing, and the "
     "answer is the same"},
    {"metadata", Use::ignored, "tags for stored completions (see store)"},
    {"service_tier", Use::ignored,
     "OpenAI's processing tier (latency and price, not content); Gemini's API has no tiers "
     "to choose"},
    {"logit_bias", Use::refused, "Gemini has no token biasing"},
    {"prediction", Use::refused, "Gemini has no predicted outputs"},
    {"audio", Use::refused, "gbd's translated answers cannot carry audio"},
    {"functions", Use::refused, "the deprecated function calling; use tools"},
    {"function_call", Use::refused, "the deprecated function calling; use tool_choice"},
};

// null, {} and [] ask for nothing, whatever the field.
bool unset(const Value& v) {
  return v.IsNull() || (v.IsObject() && v.ObjectEmpty()) || (v.IsArray() && v.Empty());
}

bool check_fields(const Value& req, RequestError* err) {
  for (auto it = req.MemberBegin(); it != req.MemberEnd(); ++it) {
    std::string_view name = sv(it->name);
    const Field* f = nullptr;
    for (const Field& x : kFields) {
      if (x.name == name) {
        f = &x;
        break;
      }
    }
    if (f == nullptr) {
      return fail(err, unknown(std::string(name)));
    }
    if (f->use == Use::refused && !unset(it->value)) {
      return fail(err, unsupported(std::string(name), f->why));
    }
  }
  return true;
}

bool response_options(const Value& req, ResponseOptions* opt, RequestError* err) {
  std::optional<bool> stream;
  std::optional<bool> parallel;
  const Value* so = nullptr;
  if (!read_bool(req, "stream", "", &stream, err) ||
      !read_bool(req, "parallel_tool_calls", "", &parallel, err) ||
      !read_object(req, "stream_options", "", &so, err)) {
    return false;
  }
  opt->stream = stream.value_or(false);
  opt->parallel_tool_calls = parallel.value_or(true);
  if (so == nullptr) {
    return true;
  }
  if (!opt->stream) {
    return fail(err, bad_value("stream_options", "only allowed when stream is true"));
  }
  // include_obfuscation is ignored: OpenAI pads its stream events with random text against
  // side channels; gbd's events carry none, and Gemini is asked the same either way.
  std::optional<bool> usage;
  std::optional<bool> obfuscation;
  if (!only_known(*so, {"include_usage", "include_obfuscation"}, "stream_options", err) ||
      !read_bool(*so, "include_usage", "stream_options", &usage, err) ||
      !read_bool(*so, "include_obfuscation", "stream_options", &obfuscation, err)) {
    return false;
  }
  opt->include_usage = usage.value_or(false);
  return true;
}

bool translate(std::string_view json, GeminiCall* call, RequestError* err) {
  if (json.size() > kMaxBody) {
    return fail(err, too_large("", "the body is over the 20 MiB Gemini accepts"));
  }
  rapidjson::Document doc;
  if (!parse_body(json, &doc, err) || !check_fields(doc, err)) {
    return false;
  }
  std::string as_named;
  if (!read_model(doc, &as_named, &call->model, err)) {
    return false;
  }
  const Value* messages = find(doc, "messages");
  if (messages == nullptr) {
    return fail(err, missing("messages"));
  }
  call->body.SetObject();
  ResponseOptions& opt = call->response;
  if (!translate_messages(*messages, call->model, &call->body, &call->remote, err) ||
      !translate_tools(doc, &call->body, err) ||
      !translate_generation(doc, call->model, &call->body, &opt.n, err) ||
      !response_options(doc, &opt, err)) {
    return false;
  }
  opt.model = std::move(as_named);
  call->stream = opt.stream;
  return true;
}

}  // namespace

ChatRequestResult translate_chat_request(std::string_view json) {
  ChatRequestResult r;
  r.ok = translate(json, &r.call, &r.error);
  if (!r.ok) {
    r.call = GeminiCall{};
  }
  return r;
}

void attach_media(GeminiCall& call, size_t index, std::string_view mime_type,
                  std::string_view bytes) {
  if (index >= call.remote.size() || !call.body.IsObject()) {
    return;
  }
  const RemoteMedia& m = call.remote[index];
  if (!call.body.HasMember("contents") || m.content >= call.body["contents"].Size()) {
    return;
  }
  Value& parts = call.body["contents"][static_cast<rapidjson::SizeType>(m.content)]["parts"];
  if (m.part >= parts.Size()) {
    return;
  }
  Value& part = parts[static_cast<rapidjson::SizeType>(m.part)];
  if (!part.HasMember("inlineData")) {
    return;
  }
  auto blob = part.FindMember("inlineData");
  // The type comes from an HTTP header: parameters ("; charset=...") dropped, lower-cased.
  std::string mime = clean_mime_type(mime_type);
  Alloc& a = call.body.GetAllocator();
  blob->value["mimeType"] = str(mime.empty() ? "application/octet-stream" : mime, a);
  blob->value["data"] = str(base64_encode(bytes), a);
}

std::string serialize(const GeminiCall& call) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  call.body.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

}  // namespace gb::llm::openai
