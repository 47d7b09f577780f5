// OpenAI error objects for Gemini's errors and for gbd's own (WIRE.md §4.5, §6.7).
//
// The HTTP status is kept, so OpenAI clients retry what Gemini would have them retry
// (429, 5xx) and give up on the rest. type and code follow OpenAI's conventions:
//
//   status  type                   code
//   400     invalid_request_error  null (invalid_api_key for Gemini's API_KEY_INVALID)
//   401     invalid_request_error  invalid_api_key
//   403     permission_error       null
//   404     invalid_request_error  model_not_found when the message is about a model,
//                                  else not_found
//   405     invalid_request_error  null
//   408     invalid_request_error  null (gbd's own 408: the client was too slow to send)
//   413     invalid_request_error  null
//   429     rate_limit_error       rate_limit_exceeded (insufficient_quota for both
//                                  when Gemini reports a per-day quota: retrying within
//                                  minutes will not help)
//   5xx     server_error           null
//   other   invalid_request_error for 4xx, server_error otherwise; code null
//
// A Gemini 400 API_KEY_INVALID keeps its 400: the key is gbd's upstream key, not the
// client's, and a 401 would tell the client its own credentials are wrong.
#include "llm/openai/error_map.h"

#include <algorithm>
#include <climits>

#include "base/key_id.h"
#include "llm/openai/chat_response.h"
#include "llm/openai/response_parts.h"

namespace gb::llm::openai {

using namespace resp;

namespace {

// Longest non-JSON upstream body quoted in a message.
constexpr size_t kSnippetBytes = 200;

bool about_model(std::string_view message) {
  for (size_t i = 0; i + 5 <= message.size(); ++i) {
    std::string_view w = message.substr(i, 5);
    if ((w[0] == 'm' || w[0] == 'M') && w.substr(1) == "odel") {
      return true;
    }
  }
  return false;
}

struct Kind {
  const char* type;
  const char* code;  // "" for null
};

Kind kind_for_status(int status, std::string_view message) {
  switch (status) {
    case 401:
      return {"invalid_request_error", "invalid_api_key"};
    case 403:
      return {"permission_error", ""};
    case 404:
      return {"invalid_request_error", about_model(message) ? "model_not_found" : "not_found"};
    case 429:
      return {"rate_limit_error", "rate_limit_exceeded"};
    default:
      return {status >= 400 && status < 500 ? "invalid_request_error" : "server_error", ""};
  }
}

bool is_detail(const rapidjson::Value& d, std::string_view type_suffix) {
  std::string_view t = string_member(d, "@type");
  return t.size() >= type_suffix.size() && t.substr(t.size() - type_suffix.size()) == type_suffix;
}

const rapidjson::Value* details(const rapidjson::Value* error) {
  const rapidjson::Value* d = error != nullptr ? member(*error, "details") : nullptr;
  return d != nullptr && d->IsArray() ? d : nullptr;
}

bool api_key_invalid(const rapidjson::Value* error) {
  if (const rapidjson::Value* ds = details(error)) {
    for (const auto& d : ds->GetArray()) {
      if (is_detail(d, "google.rpc.ErrorInfo") && string_member(d, "reason") == "API_KEY_INVALID") {
        return true;
      }
    }
  }
  return false;
}

bool per_day_quota(const rapidjson::Value* error) {
  if (const rapidjson::Value* ds = details(error)) {
    for (const auto& d : ds->GetArray()) {
      const rapidjson::Value* vs = member(d, "violations");
      if (!is_detail(d, "google.rpc.QuotaFailure") || vs == nullptr || !vs->IsArray()) {
        continue;
      }
      for (const auto& v : vs->GetArray()) {
        if (string_member(v, "quotaId").find("PerDay") != std::string_view::npos) {
          return true;
        }
      }
    }
  }
  return false;
}

// A google.protobuf.Duration ("37s", "0.5s", "45.837906927s") in whole seconds, rounded
// up; nullopt when it is not one. Saturates at INT_MAX.
std::optional<int> duration_seconds(std::string_view s) {
  if (s.size() < 2 || s.back() != 's') {
    return std::nullopt;
  }
  s.remove_suffix(1);
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (whole.empty() || whole.find_first_not_of("0123456789") != std::string_view::npos ||
      frac.find_first_not_of("0123456789") != std::string_view::npos ||
      (dot != std::string_view::npos && frac.empty())) {
    return std::nullopt;
  }
  int64_t n = 0;
  for (char c : whole) {
    n = std::min<int64_t>(n * 10 + (c - '0'), INT_MAX);
  }
  if (frac.find_first_not_of('0') != std::string_view::npos && n < INT_MAX) {
    ++n;
  }
  return static_cast<int>(n);
}

std::optional<int> retry_info_delay(const rapidjson::Value* error) {
  if (const rapidjson::Value* ds = details(error)) {
    for (const auto& d : ds->GetArray()) {
      if (is_detail(d, "google.rpc.RetryInfo")) {
        return duration_seconds(string_member(d, "retryDelay"));
      }
    }
  }
  return std::nullopt;
}

// Retry-After as delta-seconds. An HTTP-date is ignored: translating it needs a clock, and
// Gemini sends no Retry-After at all (§2.4).
std::optional<int> header_seconds(std::string_view h) {
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) {
    h.remove_prefix(1);
  }
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) {
    h.remove_suffix(1);
  }
  if (h.empty() || h.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  int64_t n = 0;
  for (char c : h) {
    n = std::min<int64_t>(n * 10 + (c - '0'), INT_MAX);
  }
  return static_cast<int>(n);
}

// A body that is not Google's error JSON (a proxy's HTML page, plain text): its start, in
// printable ASCII, so the client still learns something.
std::string snippet(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, kSnippetBytes)) {
    bool printable = c >= 0x20 && c < 0x7F;
    char ch = printable ? c : ' ';
    if (ch != ' ' || (!out.empty() && out.back() != ' ')) {
      out += ch;
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

bool key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// Replaces the run of key characters starting at `from` with its mask, when it is at least
// `min_len` long; returns where to continue.
size_t mask_run(std::string& s, size_t from, size_t min_len) {
  size_t end = from;
  while (end < s.size() && key_char(s[end])) {
    ++end;
  }
  if (end - from < min_len) {
    return end;
  }
  std::string masked = key_mask(std::string_view(s).substr(from, end - from));
  s.replace(from, end - from, masked);
  return from + masked.size();
}

}  // namespace

std::string resp::redact_keys(std::string_view message) {
  std::string s(message);
  constexpr std::string_view kConsumer = "api_key:";
  for (size_t pos = s.find(kConsumer); pos != std::string::npos; pos = s.find(kConsumer, pos)) {
    pos = mask_run(s, pos + kConsumer.size(), 1);
  }
  // Google API keys: "AIza" and 35 more characters.
  for (size_t pos = s.find("AIza"); pos != std::string::npos; pos = s.find("AIza", pos)) {
    pos = mask_run(s, pos, 20);
  }
  return s;
}

MappedError resp::map_gemini_error(int status, const rapidjson::Value* error,
                                   std::string_view fallback_message) {
  MappedError e;
  e.status = status < 400 ? 502 : status;
  std::string_view message = error != nullptr ? string_member(*error, "message") : "";
  e.message = redact_keys(message.empty() ? fallback_message : message);
  Kind k = kind_for_status(e.status, e.message);
  if (e.status == 400 && api_key_invalid(error)) {
    k = {"invalid_request_error", "invalid_api_key"};
  } else if (e.status == 429 && per_day_quota(error)) {
    k = {"insufficient_quota", "insufficient_quota"};
  }
  e.type = k.type;
  e.code = k.code;
  if (e.status == 429 || e.status == 503) {
    e.retry_after_s = retry_info_delay(error);
  }
  return e;
}

ClientError translate_error(int status, std::string_view gemini_body,
                            std::string_view retry_after_header) {
  rapidjson::Document doc;
  const rapidjson::Value* error = nullptr;
  if (parse_json(gemini_body, &doc)) {
    // JSON-array streaming and some front doors wrap the error in a one-element array.
    const rapidjson::Value* top = &doc;
    if (doc.IsArray() && doc.Size() == 1) {
      top = &doc[0];
    }
    error = member(*top, "error");
    if (error != nullptr && !error->IsObject()) {
      error = nullptr;
    }
  }
  std::string fallback = "upstream answered HTTP " + std::to_string(status);
  if (error == nullptr) {
    std::string quoted = snippet(gemini_body);
    fallback += quoted.empty() ? " with an empty body" : " without a JSON error: " + quoted;
  }
  MappedError m = map_gemini_error(status, error, fallback);
  ClientError out;
  out.status = m.status;
  out.body = error_body(m.message, m.type, "", m.code);
  if (m.status == 429 || m.status == 503) {
    std::optional<int> header = header_seconds(retry_after_header);
    out.retry_after_s = header ? header : m.retry_after_s;
  }
  return out;
}

std::string error_body(std::string_view message, std::string_view type, std::string_view param,
                       std::string_view code) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("message");
  write_string(w, message);
  w.Key("type");
  write_string(w, type);
  w.Key("param");
  if (param.empty()) {
    w.Null();
  } else {
    write_string(w, param);
  }
  w.Key("code");
  if (code.empty()) {
    w.Null();
  } else {
    write_string(w, code);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string error_body_for_status(int status, std::string_view message) {
  Kind k = kind_for_status(status, message);
  return error_body(message, k.type, "", k.code);
}

}  // namespace gb::llm::openai
