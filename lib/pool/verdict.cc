#include "pool/verdict.h"

#include <rapidjson/document.h>

#include <cstdint>

namespace gb::pool {

namespace {

constexpr int64_t kMaxDelayMs = 24 * 3600 * 1000;  // longer asks are capped, not trusted

// The parts of a Gemini error body (WIRE §2.1) that decide what happens to the key.
struct ErrorBody {
  std::string status;   // error.status, e.g. "RESOURCE_EXHAUSTED"
  std::string message;  // error.message
  std::string reason;   // ErrorInfo.reason, e.g. "API_KEY_INVALID"
  bool per_day = false;
  std::optional<Duration> retry_delay;
};

std::string string_member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) {
    return {};
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool has_per_day_violation(const rapidjson::Value& detail) {
  auto it = detail.FindMember("violations");
  if (it == detail.MemberEnd() || !it->value.IsArray()) {
    return false;
  }
  for (const auto& v : it->value.GetArray()) {
    if (v.IsObject() && string_member(v, "quotaId").find("PerDay") != std::string::npos) {
      return true;
    }
  }
  return false;
}

void read_detail(const rapidjson::Value& detail, ErrorBody* out) {
  if (!detail.IsObject()) {
    return;
  }
  std::string type = string_member(detail, "@type");
  if (ends_with(type, ".ErrorInfo") && out->reason.empty()) {
    out->reason = string_member(detail, "reason");
  } else if (ends_with(type, ".QuotaFailure")) {
    out->per_day = out->per_day || has_per_day_violation(detail);
  } else if (ends_with(type, ".RetryInfo")) {
    out->retry_delay = parse_proto_duration(string_member(detail, "retryDelay"));
  }
}

// Unwraps `{"error": …}` or `[{"error": …}]`; anything else yields an empty ErrorBody.
ErrorBody parse_error_body(std::string_view body) {
  ErrorBody out;
  rapidjson::Document doc;
  // Iterative: an upstream body of deeply nested brackets must not exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    return out;
  }
  const rapidjson::Value* root = &doc;
  if (root->IsArray() && !root->Empty()) {
    root = &(*root)[0];
  }
  if (!root->IsObject()) {
    return out;
  }
  auto err = root->FindMember("error");
  if (err == root->MemberEnd() || !err->value.IsObject()) {
    return out;
  }
  out.status = string_member(err->value, "status");
  out.message = string_member(err->value, "message");
  auto details = err->value.FindMember("details");
  if (details != err->value.MemberEnd() && details->value.IsArray()) {
    for (const auto& d : details->value.GetArray()) {
      read_detail(d, &out);
    }
  }
  return out;
}

// Upstream text becomes a log word only if it looks like one.
bool is_machine_word(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string http_word(int status) {
  return "http_" + std::to_string(status);
}

bool is_key_invalid_400(const ErrorBody& e) {
  return e.reason == "API_KEY_INVALID" || e.reason == "API_KEY_EXPIRED" ||
         e.message.find("API key not valid") != std::string::npos ||
         e.message.find("API key expired") != std::string::npos;
}

std::string invalid_reason(int status, const ErrorBody& e) {
  if (is_machine_word(e.reason)) {
    return e.reason;
  }
  if (status == 400) {
    return e.message.find("expired") != std::string::npos ? "API_KEY_EXPIRED" : "API_KEY_INVALID";
  }
  if (is_machine_word(e.status)) {
    return e.status;
  }
  return http_word(status);
}

Verdict make(Outcome o, bool retry, std::string reason) {
  Verdict v;
  v.outcome = o;
  v.retry = retry;
  v.reason = std::move(reason);
  return v;
}

Verdict classify_status(int status, const ErrorBody& e) {
  if (status >= 200 && status < 300) {
    return make(Outcome::success, false, "ok");
  }
  if (status == 429 || e.status == "RESOURCE_EXHAUSTED") {
    Verdict v = make(Outcome::rate_limited, true, "rate_limited");
    v.per_day = e.per_day;
    return v;
  }
  if (status == 401 || status == 403 || (status == 400 && is_key_invalid_400(e))) {
    return make(Outcome::invalid, true, invalid_reason(status, e));
  }
  if (status >= 400 && status < 500) {
    return make(Outcome::client_error, false, http_word(status));
  }
  // 5xx, and statuses no upstream should send (1xx, 3xx, out of range): the key is not
  // to blame for certain, but this upstream answer is unusable, so count and move on.
  return make(Outcome::failed, true, http_word(status));
}

std::optional<int64_t> parse_digits(std::string_view s, size_t max_digits) {
  if (s.empty() || s.size() > max_digits) {
    return std::nullopt;
  }
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    n = n * 10 + (c - '0');
  }
  return n;
}

Duration capped_ms(int64_t ms) {
  return Duration(ms < kMaxDelayMs ? ms : kMaxDelayMs);
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::success:
      return "success";
    case Outcome::rate_limited:
      return "rate_limited";
    case Outcome::invalid:
      return "invalid";
    case Outcome::failed:
      return "failed";
    case Outcome::client_error:
      return "client_error";
    case Outcome::cancelled:
      return "cancelled";
  }
  return "failed";
}

std::optional<Duration> parse_proto_duration(std::string_view s) {
  if (s.size() < 2 || s.back() != 's') {
    return std::nullopt;
  }
  s.remove_suffix(1);
  size_t dot = s.find('.');
  // 12 digits of seconds is far beyond the cap and far below int64 overflow.
  auto secs = parse_digits(s.substr(0, dot), 12);
  if (!secs) {
    return std::nullopt;
  }
  int64_t nanos = 0;
  if (dot != std::string_view::npos) {
    std::string_view frac = s.substr(dot + 1);
    auto f = parse_digits(frac, 9);
    if (!f) {
      return std::nullopt;
    }
    nanos = *f;
    for (size_t i = frac.size(); i < 9; ++i) {
      nanos *= 10;
    }
  }
  // Round up: waiting a hair too long is harmless, retrying a hair early is another 429.
  return capped_ms(*secs * 1000 + (nanos + 999999) / 1000000);
}

std::optional<Duration> parse_retry_after(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  auto secs = parse_digits(s, 12);
  if (!secs) {
    return std::nullopt;
  }
  return capped_ms(*secs * 1000);
}

Verdict classify_response(int status, std::string_view body, std::string_view retry_after_header) {
  ErrorBody e;
  if (status < 200 || status >= 300) {
    e = parse_error_body(body);
  }
  Verdict v = classify_status(status, e);
  if (v.outcome == Outcome::success) {
    return v;
  }
  v.retry_after = e.retry_delay ? e.retry_delay : parse_retry_after(retry_after_header);
  return v;
}

Verdict classify_transport(Errc code) {
  if (code == Errc::client_gone) {
    return make(Outcome::cancelled, false, errc_name(code));
  }
  return make(Outcome::failed, true, errc_name(code));
}

}  // namespace gb::pool
