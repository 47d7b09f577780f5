// Google error bodies (WIRE.md §2), pretty-printed as Google's front end prints them.
//
// The texts are copied from captured responses; the few marked [I] in WIRE.md are our best
// guess. Fixed bodies are rendered once and reused (the benchmarks hit them hard).
// Header-only so that the unit tests can check them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json_out.h"

namespace gb::mock {

struct FieldViolation {
  std::string field;  // empty when the location is the request itself
  std::string description;
};

inline const char* google_status_name(int code) {
  switch (code) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 408:
      return "DEADLINE_EXCEEDED";
    case 409:
      return "ABORTED";
    case 413:
      return "INVALID_ARGUMENT";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 500:
      return "INTERNAL";
    case 501:
      return "UNIMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return code >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";
  }
}

// Writes {"error": {"code", "message", "status", ["details": [...]]}}; `details` writes the
// elements of the details array (nothing: no details member).
template <typename Details>
void write_error(JsonOut& j, int code, std::string_view message, Details details) {
  j.begin_object();
  j.key("error");
  j.begin_object();
  j.member("code", code);
  j.member("message", message);
  j.member("status", google_status_name(code));
  details(j);
  j.end_object();
  j.end_object();
}

inline std::string error_body(int code, std::string_view message,
                              JsonStyle style = JsonStyle::pretty) {
  std::string out;
  JsonOut j(style, &out);
  write_error(j, code, message, [](JsonOut&) {});
  return out;
}

inline std::string bad_request_body(std::string_view message,
                                    const std::vector<FieldViolation>& violations) {
  std::string out;
  JsonOut j(JsonStyle::pretty, &out);
  write_error(j, 400, message, [&](JsonOut& d) {
    d.key("details");
    d.begin_array();
    d.begin_object();
    d.member("@type", "type.googleapis.com/google.rpc.BadRequest");
    d.key("fieldViolations");
    d.begin_array();
    for (const FieldViolation& v : violations) {
      d.begin_object();
      if (!v.field.empty()) {
        d.member("field", v.field);
      }
      d.member("description", v.description);
      d.end_object();
    }
    d.end_array();
    d.end_object();
    d.end_array();
  });
  return out;
}

namespace detail {
inline void error_info(JsonOut& d, std::string_view reason,
                       const std::vector<std::pair<std::string, std::string>>& metadata) {
  d.begin_object();
  d.member("@type", "type.googleapis.com/google.rpc.ErrorInfo");
  d.member("reason", reason);
  d.member("domain", "googleapis.com");
  d.key("metadata");
  d.begin_object();
  for (const auto& [k, v] : metadata) {
    d.member(k, v);
  }
  d.end_object();
  d.end_object();
}
inline void localized(JsonOut& d, std::string_view message) {
  d.begin_object();
  d.member("@type", "type.googleapis.com/google.rpc.LocalizedMessage");
  d.member("locale", "en-US");
  d.member("message", message);
  d.end_object();
}
}  // namespace detail

inline const std::string& api_key_invalid_body() {
  static const std::string body = [] {
    static constexpr std::string_view kMsg = "API key not valid. Please pass a valid API key.";
    std::string out;
    JsonOut j(JsonStyle::pretty, &out);
    write_error(j, 400, kMsg, [](JsonOut& d) {
      d.key("details");
      d.begin_array();
      detail::error_info(d, "API_KEY_INVALID", {{"service", "generativelanguage.googleapis.com"}});
      detail::localized(d, kMsg);
      d.end_array();
    });
    return out;
  }();
  return body;
}

inline const std::string& unregistered_caller_body() {
  static const std::string body = error_body(
      403,
      "Method doesn't allow unregistered callers (callers without established identity). "
      "Please use API Key or other form of API consumer identity to call this API.");
  return body;
}

inline const std::string& leaked_key_body() {
  static const std::string body =
      error_body(403, "Your API key was reported as leaked. Please use another API key.");
  return body;
}

// Google names the consumer with the full key in this message; so do we.
inline std::string suspended_body(std::string_view key) {
  std::string out;
  JsonOut j(JsonStyle::pretty, &out);
  std::string msg =
      "Permission denied: Consumer 'api_key:" + std::string(key) + "' has been suspended.";
  write_error(j, 403, msg, [](JsonOut& d) {
    d.key("details");
    d.begin_array();
    detail::error_info(
        d, "CONSUMER_SUSPENDED",
        {{"service", "generativelanguage.googleapis.com"}, {"consumer", "projects/000000000000"}});
    d.end_array();
  });
  return out;
}

// rpc_method: e.g. "google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent".
inline std::string blocked_body(std::string_view rpc_method) {
  std::string out;
  JsonOut j(JsonStyle::pretty, &out);
  std::string msg = "Requests to this API generativelanguage.googleapis.com method " +
                    std::string(rpc_method) + " are blocked.";
  write_error(j, 403, msg, [&](JsonOut& d) {
    d.key("details");
    d.begin_array();
    detail::error_info(d, "API_KEY_SERVICE_BLOCKED",
                       {{"methodName", std::string(rpc_method)},
                        {"apiName", "generativelanguage.googleapis.com"},
                        {"consumer", "projects/000000000000"},
                        {"service", "generativelanguage.googleapis.com"}});
    detail::localized(d, msg);
    d.end_array();
  });
  return out;
}

// method: the name Google puts in the message ("generateContent", "StreamGenerateContent").
inline std::string model_not_found_body(std::string_view model, std::string_view version,
                                        std::string_view method) {
  return error_body(404, "models/" + std::string(model) + " is not found for API version " +
                             std::string(version) + ", or is not supported for " +
                             std::string(method) +
                             ". Call ListModels to see the list of available models and their "
                             "supported methods.");
}

inline const std::string& method_not_found_body() {
  static const std::string body = error_body(404, "Method not found.");
  return body;
}

inline const std::string& internal_body() {
  static const std::string body =
      error_body(500,
                 "An internal error has occurred. Please retry or report in "
                 "https://developers.generativeai.google/guide/troubleshooting");
  return body;
}

inline const std::string& unavailable_body() {
  static const std::string body =
      error_body(503, "The model is overloaded. Please try again later.");
  return body;
}

// The mid-stream error event, on one line.
inline const std::string& unavailable_line() {
  static const std::string body =
      error_body(503, "The model is overloaded. Please try again later.", JsonStyle::line);
  return body;
}

inline const std::string& bare_quota_body() {
  static const std::string body =
      error_body(429, "Resource has been exhausted (e.g. check quota).");
  return body;
}

// 429 with Help, QuotaFailure and RetryInfo, in that order. per_day selects the daily
// free-tier quota (retryDelay 23s, as Google still sends a short delay for it).
inline std::string quota_body(std::string_view model, bool per_day, uint64_t retry_seconds) {
  std::string delay = std::to_string(per_day ? 23 : retry_seconds) + "s";
  const char* limit = per_day ? "20" : "10";
  std::string msg =
      "You exceeded your current quota, please check your plan and billing details. For more "
      "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. "
      "To monitor your current usage, head to: https://ai.dev/rate-limit. \n* Quota exceeded "
      "for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, "
      "limit: " +
      std::string(limit) + ", model: " + std::string(model) + "\nPlease retry in " +
      (per_day ? std::string("23.448719018s") : delay) + ".";
  std::string out;
  JsonOut j(JsonStyle::pretty, &out);
  write_error(j, 429, msg, [&](JsonOut& d) {
    d.key("details");
    d.begin_array();
    d.begin_object();
    d.member("@type", "type.googleapis.com/google.rpc.Help");
    d.key("links");
    d.begin_array();
    d.begin_object();
    d.member("description", "Learn more about Gemini API quotas");
    d.member("url", "https://ai.google.dev/gemini-api/docs/rate-limits");
    d.end_object();
    d.end_array();
    d.end_object();
    d.begin_object();
    d.member("@type", "type.googleapis.com/google.rpc.QuotaFailure");
    d.key("violations");
    d.begin_array();
    d.begin_object();
    d.member("quotaMetric",
             "generativelanguage.googleapis.com/generate_content_free_tier_requests");
    d.member("quotaId", per_day ? "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
                                : "GenerateRequestsPerMinutePerProjectPerModel-FreeTier");
    d.key("quotaDimensions");
    d.begin_object();
    d.member("location", "global");
    d.member("model", model);
    d.end_object();
    d.member("quotaValue", limit);
    d.end_object();
    d.end_array();
    d.end_object();
    d.begin_object();
    d.member("@type", "type.googleapis.com/google.rpc.RetryInfo");
    d.member("retryDelay", delay);
    d.end_object();
    d.end_array();
  });
  return out;
}

// JSON-array streaming (no alt=sse) wraps errors in a one-element array.
inline std::string wrap_in_array(std::string_view body) {
  std::string out;
  out.reserve(body.size() + 2);
  out += '[';
  out += body;
  out += ']';
  return out;
}

// The OpenAI-compatible layer wraps errors too, ending the array on a line of its own:
// `[{` ... `}\n]`, as a captured answer shows.
inline std::string wrap_openai_error(std::string_view body) {
  std::string out;
  out.reserve(body.size() + 3);
  out += '[';
  out += body;
  out += "\n]";
  return out;
}

// The layer's 401 without an Authorization header. Google's usual text for a request with
// no credential; the capture of this exact case is missing.
inline const std::string& openai_unauthenticated_body() {
  static const std::string body = wrap_openai_error(error_body(
      401,
      "Request is missing required authentication credential. Expected OAuth 2 access token, "
      "login cookie or other valid authentication credential. See "
      "https://developers.google.com/identity/sign-in/web/devconsole-project."));
  return body;
}

// The layer's 400 for an Authorization header that is not "Bearer <key>" (captured).
inline const std::string& openai_bad_authorization_body() {
  static const std::string body =
      wrap_openai_error(error_body(400, "Invalid Authorization header."));
  return body;
}

}  // namespace gb::mock
