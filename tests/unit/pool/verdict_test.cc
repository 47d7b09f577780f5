// classify_response against DESIGN §6 (one row per row of the table) and the error shapes
// of WIRE §2, then the delays (RetryInfo.retryDelay, Retry-After in every form) and bodies
// no upstream should send.
#include "pool/verdict.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../../mock/errors.h"

using gb::Duration;
using gb::pool::classify_response;
using gb::pool::Outcome;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// 2026-03-08 09:30:00.250 UTC, a Sunday. The quarter second makes every date-based delay
// end in 750 ms, which shows the rounding.
const std::chrono::system_clock::time_point kNow =
    std::chrono::sys_days(std::chrono::year(2026) / 3 / 8) + hours(9) + std::chrono::minutes(30) +
    milliseconds(250);

constexpr Duration kOneDay = hours(24);
constexpr std::nullopt_t kNoWait = std::nullopt;  // no retry_after

// Bodies copied from WIRE §2.3 (real Gemini answers).
constexpr const char* kInvalidKey = R"({
  "error": {
    "code": 400,
    "message": "API key not valid. Please pass a valid API key.",
    "status": "INVALID_ARGUMENT",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": { "service": "generativelanguage.googleapis.com" }
      },
      {
        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
        "locale": "en-US",
        "message": "API key not valid. Please pass a valid API key."
      }
    ]
  }
})";

constexpr const char* kUnknownField =
    R"({ "error": { "code": 400, "message": "Invalid JSON payload received. Unknown name \"reasoning\": Cannot find field.", "status": "INVALID_ARGUMENT",
  "details": [ { "@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [ { "description": "Invalid JSON payload received. Unknown name \"reasoning\": Cannot find field." } ] } ] } })";

// The same error for a client that chose a field name which reads like a key problem: it
// must not get the key disabled.
constexpr const char* kUnknownFieldLooksLikeKey =
    R"({ "error": { "code": 400, "message": "Invalid JSON payload received. Unknown name \"API key not valid\": Cannot find field.", "status": "INVALID_ARGUMENT",
  "details": [ { "@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [ { "description": "Invalid JSON payload received. Unknown name \"API key not valid\": Cannot find field." } ] } ] } })";

constexpr const char* kNoContents =
    R"({ "error": { "code": 400, "message": "* GenerateContentRequest.contents: contents is not specified\n", "status": "INVALID_ARGUMENT" } })";

constexpr const char* kLocation =
    R"({ "error": { "code": 400, "message": "User location is not supported for the API use.", "status": "FAILED_PRECONDITION" } })";

// WIRE §2.1: the legacy `errors` array of other Google front doors.
constexpr const char* kLegacyBadRequest =
    R"({ "error": { "code": 400, "message": "Request contains an invalid argument.", "errors": [ { "message": "Request contains an invalid argument.", "domain": "global", "reason": "badRequest" } ], "status": "INVALID_ARGUMENT" } })";

constexpr const char* kNoKey =
    R"({ "error": { "code": 403, "message": "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "status": "PERMISSION_DENIED" } })";

constexpr const char* kLeaked =
    R"({ "error": { "code": 403, "message": "Your API key was reported as leaked. Please use another API key.", "status": "PERMISSION_DENIED" } })";

constexpr const char* kBlocked =
    R"({"error": {"code": 403, "message": "Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent are blocked.", "status": "PERMISSION_DENIED", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_SERVICE_BLOCKED", "domain": "googleapis.com", "metadata": {"consumer": "projects/123", "apiName": "generativelanguage.googleapis.com", "methodName": "google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent", "service": "generativelanguage.googleapis.com"}}, {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": "Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent are blocked."}]}})";

constexpr const char* kSuspended =
    R"({"error": {"code": 403, "message": "Permission denied: Consumer 'api_key:AIza...' has been suspended.", "status": "PERMISSION_DENIED", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CONSUMER_SUSPENDED", "domain": "googleapis.com"}]}})";

constexpr const char* kServiceDisabled =
    R"({"error": {"code": 403, "message": "Generative Language API has not been used in project 123 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=123 then retry.", "status": "PERMISSION_DENIED", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED", "domain": "googleapis.com", "metadata": {"consumer": "projects/123", "service": "generativelanguage.googleapis.com"}}, {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Google developers console API activation", "url": "https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=123"}]}]}})";

// A key problem in words the classifier has no entry for.
constexpr const char* kRevoked =
    R"({"error": {"code": 403, "message": "The API key used for this request has been revoked.", "status": "PERMISSION_DENIED"}})";

// 403s about what the request names (a file, a cached content, a tuned model of another
// project): every key would get them.
constexpr const char* kForbiddenFile =
    R"({"error": {"code": 403, "message": "You do not have permission to access the File abc123 or it may not exist.", "status": "PERMISSION_DENIED"}})";

constexpr const char* kForbiddenCache =
    R"({"error": {"code": 403, "message": "Permission denied on resource cachedContents/xyz (or it may not exist).", "status": "PERMISSION_DENIED"}})";

constexpr const char* kNotFound =
    R"({ "error": { "code": 404, "message": "models/gemini-pro is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.", "status": "NOT_FOUND" } })";

constexpr const char* kQuota = R"({
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 20, model: gemini-2.5-flash\nPlease retry in 23.448719018s.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        "links": [ { "description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits" } ]
      },
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
          {
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            "quotaDimensions": { "location": "global", "model": "gemini-2.5-flash" },
            "quotaValue": "20"
          }
        ]
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "23s" }
    ]
  }
})";

constexpr const char* kPerMinuteQuota =
    R"({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [
  {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
    {"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"},
    {"quotaId": "GenerateContentInputTokensPerModelPerMinute-FreeTier"}]},
  {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.463586755s"}]}})";

// Several violations, one of them per day: the day wins.
constexpr const char* kMixedQuota =
    R"({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [
  {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
    {"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"},
    {"quotaMetric": "generativelanguage.googleapis.com/generate_requests_per_model_per_day"}]},
  {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.5s"}]}})";

constexpr const char* kBare429 =
    R"({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}})";

constexpr const char* k500 =
    R"({ "error": { "code": 500, "message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", "status": "INTERNAL" } })";

constexpr const char* k503 =
    R"({ "error": { "code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE" } })";

constexpr const char* k503HighDemand =
    R"({ "error": { "code": 503, "message": "This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.", "status": "UNAVAILABLE" } })";

constexpr const char* k504 =
    R"({ "error": { "code": 504, "message": "Deadline expired before operation could complete.", "status": "DEADLINE_EXCEEDED" } })";

// WIRE §1.6.2: JSON-array streaming wraps the error in a one-element array.
constexpr const char* kArrayInvalidKey =
    R"([{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}])";

constexpr const char* kArrayQuota =
    R"([{"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]}}])";

constexpr const char* kExpired =
    R"({"error": {"code": 400, "message": "API key expired. Please renew the API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_EXPIRED", "domain": "googleapis.com"}]}})";

constexpr const char* kMessageOnlyInvalid =
    R"({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}})";

constexpr const char* kUnauthenticated =
    R"({"error": {"code": 401, "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "status": "UNAUTHENTICATED", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED", "domain": "googleapis.com"}]}})";

constexpr const char* kRetryInfoOnly =
    R"({"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE", "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "45.837906927s"}]}})";

std::string truncated(const char* body) {
  std::string s(body);
  return s.substr(0, s.size() / 2);
}

// A real 429 whose message was padded to several megabytes.
std::string huge_quota() {
  std::string s(kQuota);
  s.insert(s.find("You exceeded"), std::string(3 << 20, 'x'));
  return s;
}

struct Case {
  const char* name;
  int status;
  std::string body;
  std::string retry_after_header;
  Outcome outcome;
  std::optional<Duration> retry_after;
  bool per_day;
  std::string reason;
};

bool retries(Outcome o) {
  return o == Outcome::rate_limited || o == Outcome::invalid || o == Outcome::failed;
}

void check_cases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    INFO(c.name);
    auto v = classify_response(c.status, c.body, c.retry_after_header, kNow);
    CHECK(gb::pool::outcome_name(v.outcome) == std::string(gb::pool::outcome_name(c.outcome)));
    CHECK(v.retry == retries(c.outcome));
    CHECK(v.retry_after == c.retry_after);
    CHECK(v.per_day == c.per_day);
    CHECK(v.reason == c.reason);
  }
}

}  // namespace

TEST_CASE("DESIGN §6, 2xx: success, body unread", "[pool]") {
  check_cases({
      {"200", 200, "{}", "", Outcome::success, kNoWait, false, "ok"},
      {"200 junk", 200, "<html>", "", Outcome::success, kNoWait, false, "ok"},
      {"204 ignores an error body", 204, kQuota, "", Outcome::success, kNoWait, false, "ok"},
      {"299 with Retry-After", 299, "", "30", Outcome::success, kNoWait, false, "ok"},
  });
}

TEST_CASE("DESIGN §6, 429 / RESOURCE_EXHAUSTED: rate_limited, another key", "[pool]") {
  check_cases({
      {"per-day quota (WIRE §2.3)", 429, kQuota, "", Outcome::rate_limited, seconds(23), true,
       "rate_limited"},
      {"per-minute quota, fractional retryDelay", 429, kPerMinuteQuota, "", Outcome::rate_limited,
       Duration(2464), false, "rate_limited"},
      {"per-minute and per-day metric", 429, kMixedQuota, "", Outcome::rate_limited, Duration(500),
       true, "rate_limited"},
      {"bare 429", 429, kBare429, "", Outcome::rate_limited, kNoWait, false, "rate_limited"},
      {"in an array", 429, kArrayQuota, "", Outcome::rate_limited, seconds(37), false,
       "rate_limited"},
      {"retryDelay wins over Retry-After", 429, kQuota, "99", Outcome::rate_limited, seconds(23),
       true, "rate_limited"},
      {"empty, Retry-After seconds", 429, "", "17", Outcome::rate_limited, seconds(17), false,
       "rate_limited"},
      {"empty, Retry-After date", 429, "", "Sun, 08 Mar 2026 09:31:30 GMT", Outcome::rate_limited,
       Duration(89750), false, "rate_limited"},
      {"empty, Retry-After garbage", 429, "", "soon", Outcome::rate_limited, kNoWait, false,
       "rate_limited"},
      {"truncated", 429, truncated(kQuota), "", Outcome::rate_limited, kNoWait, false,
       "rate_limited"},
      {"not JSON", 429, "Too Many Requests", "", Outcome::rate_limited, kNoWait, false,
       "rate_limited"},
      {"huge", 429, huge_quota(), "", Outcome::rate_limited, seconds(23), true, "rate_limited"},
      {"RESOURCE_EXHAUSTED under 400", 400, kBare429, "", Outcome::rate_limited, kNoWait, false,
       "rate_limited"},
      {"RESOURCE_EXHAUSTED under 403", 403, kBare429, "", Outcome::rate_limited, kNoWait, false,
       "rate_limited"},
      {"RESOURCE_EXHAUSTED under 503", 503, kQuota, "", Outcome::rate_limited, seconds(23), true,
       "rate_limited"},
  });
}

TEST_CASE("DESIGN §6, 400 API_KEY_INVALID / 401 / 403 on the key: invalid, another key", "[pool]") {
  check_cases({
      {"invalid key (WIRE §2.3)", 400, kInvalidKey, "", Outcome::invalid, kNoWait, false,
       "API_KEY_INVALID"},
      {"invalid key in an array", 400, kArrayInvalidKey, "", Outcome::invalid, kNoWait, false,
       "API_KEY_INVALID"},
      {"expired key", 400, kExpired, "", Outcome::invalid, kNoWait, false, "API_KEY_EXPIRED"},
      {"invalid key, message only", 400, kMessageOnlyInvalid, "", Outcome::invalid, kNoWait, false,
       "API_KEY_INVALID"},
      {"401 empty", 401, "", "", Outcome::invalid, kNoWait, false, "http_401"},
      {"401 UNAUTHENTICATED", 401, kUnauthenticated, "", Outcome::invalid, kNoWait, false,
       "ACCESS_TOKEN_TYPE_UNSUPPORTED"},
      {"401 with a request-looking body", 401, kNotFound, "", Outcome::invalid, kNoWait, false,
       "NOT_FOUND"},
      {"403 no key", 403, kNoKey, "", Outcome::invalid, kNoWait, false, "PERMISSION_DENIED"},
      {"403 leaked", 403, kLeaked, "", Outcome::invalid, kNoWait, false, "API_KEY_LEAKED"},
      {"403 blocked", 403, kBlocked, "", Outcome::invalid, kNoWait, false,
       "API_KEY_SERVICE_BLOCKED"},
      {"403 suspended", 403, kSuspended, "", Outcome::invalid, kNoWait, false,
       "CONSUMER_SUSPENDED"},
      {"403 service disabled", 403, kServiceDisabled, "", Outcome::invalid, kNoWait, false,
       "SERVICE_DISABLED"},
      {"403 new wording about the key", 403, kRevoked, "", Outcome::invalid, kNoWait, false,
       "PERMISSION_DENIED"},
      {"403 invalid key", 403, kInvalidKey, "", Outcome::invalid, kNoWait, false,
       "API_KEY_INVALID"},
      {"403 empty", 403, "", "", Outcome::invalid, kNoWait, false, "http_403"},
      {"403 HTML from a proxy", 403, "<html>Forbidden</html>", "", Outcome::invalid, kNoWait, false,
       "http_403"},
      {"403 truncated", 403, truncated(kSuspended), "", Outcome::invalid, kNoWait, false,
       "http_403"},
      {"403 empty error object", 403, R"({"error": {}})", "", Outcome::invalid, kNoWait, false,
       "http_403"},
      {"403 keeps a Retry-After", 403, kLeaked, "60", Outcome::invalid, seconds(60), false,
       "API_KEY_LEAKED"},
  });
}

TEST_CASE("DESIGN §6, 403 on what the request names: client_error, key untouched", "[pool]") {
  check_cases({
      {"file of another project", 403, kForbiddenFile, "", Outcome::client_error, kNoWait, false,
       "http_403"},
      {"cached content of another project", 403, kForbiddenCache, "", Outcome::client_error,
       kNoWait, false, "http_403"},
  });
}

TEST_CASE("DESIGN §6, 5xx: failed, another key", "[pool]") {
  check_cases({
      {"500 (WIRE §2.3)", 500, k500, "", Outcome::failed, kNoWait, false, "http_500"},
      {"502 empty", 502, "", "", Outcome::failed, kNoWait, false, "http_502"},
      {"503 overloaded", 503, k503, "", Outcome::failed, kNoWait, false, "http_503"},
      {"503 high demand", 503, k503HighDemand, "", Outcome::failed, kNoWait, false, "http_503"},
      {"503 with Retry-After", 503, k503, "120", Outcome::failed, seconds(120), false, "http_503"},
      {"503 with RetryInfo", 503, kRetryInfoOnly, "", Outcome::failed, Duration(45838), false,
       "http_503"},
      {"504", 504, k504, "", Outcome::failed, kNoWait, false, "http_504"},
      {"529", 529, "", "", Outcome::failed, kNoWait, false, "http_529"},
      {"599 junk", 599, "\x01\x02", "", Outcome::failed, kNoWait, false, "http_599"},
      {"500 naming the key", 500, kInvalidKey, "", Outcome::failed, kNoWait, false, "http_500"},
  });
}

TEST_CASE("DESIGN §6, other 4xx: client_error, never retried, key untouched", "[pool]") {
  check_cases({
      {"400 unknown field", 400, kUnknownField, "", Outcome::client_error, kNoWait, false,
       "http_400"},
      {"400 field named like a key error", 400, kUnknownFieldLooksLikeKey, "",
       Outcome::client_error, kNoWait, false, "http_400"},
      {"400 no contents", 400, kNoContents, "", Outcome::client_error, kNoWait, false, "http_400"},
      {"400 location", 400, kLocation, "", Outcome::client_error, kNoWait, false, "http_400"},
      {"400 legacy errors array", 400, kLegacyBadRequest, "", Outcome::client_error, kNoWait, false,
       "http_400"},
      {"400 empty", 400, "", "", Outcome::client_error, kNoWait, false, "http_400"},
      // A cut invalid-key body no longer says it is about the key.
      {"400 truncated", 400, truncated(kInvalidKey), "", Outcome::client_error, kNoWait, false,
       "http_400"},
      {"404 model", 404, kNotFound, "", Outcome::client_error, kNoWait, false, "http_404"},
      {"404 junk", 404, "Not Found", "", Outcome::client_error, kNoWait, false, "http_404"},
      {"405", 405, "", "", Outcome::client_error, kNoWait, false, "http_405"},
      {"413", 413, "", "", Outcome::client_error, kNoWait, false, "http_413"},
      {"499", 499, "{}", "", Outcome::client_error, kNoWait, false, "http_499"},
  });
}

TEST_CASE("statuses no Gemini front end answers: failed bad_upstream_response", "[pool]") {
  std::vector<Case> cases;
  for (int status : {0, 99, 100, 101, 103, 199, 300, 301, 302, 304, 307, 399, 600, 999, -1}) {
    cases.push_back({"odd status", status, kQuota, "30", Outcome::failed, kNoWait, false,
                     "bad_upstream_response"});
  }
  check_cases(cases);
}

TEST_CASE("gb-mock's error bodies classify as the scenarios they stand for", "[pool]") {
  namespace m = gb::mock;
  check_cases({
      {"invalid", 400, m::api_key_invalid_body(), "", Outcome::invalid, kNoWait, false,
       "API_KEY_INVALID"},
      {"invalid, JSON-array stream", 400, m::wrap_in_array(m::api_key_invalid_body()), "",
       Outcome::invalid, kNoWait, false, "API_KEY_INVALID"},
      {"no key", 403, m::unregistered_caller_body(), "", Outcome::invalid, kNoWait, false,
       "PERMISSION_DENIED"},
      {"denied", 403, m::leaked_key_body(), "", Outcome::invalid, kNoWait, false, "API_KEY_LEAKED"},
      {"suspended", 403, m::suspended_body("suspended-1"), "", Outcome::invalid, kNoWait, false,
       "CONSUMER_SUSPENDED"},
      {"blocked", 403,
       m::blocked_body("google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent"), "",
       Outcome::invalid, kNoWait, false, "API_KEY_SERVICE_BLOCKED"},
      {"ratelimit-3s", 429, m::quota_body("gemini-2.5-flash", false, 3), "", Outcome::rate_limited,
       seconds(3), false, "rate_limited"},
      {"ratelimit", 429, m::bare_quota_body(), "", Outcome::rate_limited, kNoWait, false,
       "rate_limited"},
      {"perday", 429, m::quota_body("gemini-2.5-flash", true, 0), "", Outcome::rate_limited,
       seconds(23), true, "rate_limited"},
      {"fail500", 500, m::internal_body(), "", Outcome::failed, kNoWait, false, "http_500"},
      {"fail503", 503, m::unavailable_body(), "", Outcome::failed, kNoWait, false, "http_503"},
      {"unknown model", 404, m::model_not_found_body("nope", "v1beta", "generateContent"), "",
       Outcome::client_error, kNoWait, false, "http_404"},
      {"bad request", 400, m::bad_request_body("Unknown name \"x\"", {{"", "x"}}), "",
       Outcome::client_error, kNoWait, false, "http_400"},
  });
}

TEST_CASE("classify_response survives hostile bodies", "[pool]") {
  const std::string bodies[] = {
      "",
      "null",
      "[]",
      "[1]",
      "[[[[",
      "\"error\"",
      "{\"error\": 5}",
      "{\"error\": {\"status\": 7, \"details\": 3}}",
      "{\"error\": {\"details\": [1, null, {\"@type\": 2}, {\"@type\": "
      "\"x.QuotaFailure\", \"violations\": 9}]}}",
      "{\"error\": {\"details\": [{\"@type\": \"x.RetryInfo\", \"retryDelay\": \"-3s\"}]}}",
      "{\"error\": {\"details\": [{\"@type\": \"x.RetryInfo\", \"retryDelay\": 37}]}}",
      "{\"error\": {\"status\": \"has spaces and\\nnewlines\"}}",
      "{\"error\": {\"details\": [{\"@type\": \"x.ErrorInfo\", \"reason\": \"two words\"}]}}",
      "[{\"error\": {\"code\": 429}}, {\"error\": 1}]",
      "{\"error\": {\"message\": \"\\u0000\\ud800\"}}",
      std::string("\0\0\0", 3),
      std::string("{\"error\": {\"message\": \"") + std::string(2 << 20, 'y'),
  };
  for (const auto& body : bodies) {
    for (int status : {400, 401, 403, 404, 429, 500, 503}) {
      INFO(body.substr(0, 80) << " " << status);
      auto v = classify_response(status, body, "", kNow);
      CHECK_FALSE(v.reason.empty());
      CHECK(v.reason.find(' ') == std::string::npos);
      CHECK(v.reason.find('\n') == std::string::npos);
      CHECK_FALSE(v.retry_after.has_value());
      CHECK(v.retry == retries(v.outcome));
    }
  }
}

TEST_CASE("a deeply nested error body does not exhaust the stack", "[pool]") {
  // Found by fuzz_verdict: the recursive parser overflowed the stack on this shape.
  std::string body(300000, '[');
  auto v = classify_response(429, body, "", kNow);
  CHECK(v.outcome == Outcome::rate_limited);
  CHECK_FALSE(v.retry_after.has_value());
}

TEST_CASE("classify_transport fails over, except when the client left", "[pool]") {
  using gb::Errc;
  for (Errc e :
       {Errc::connect_failed, Errc::connect_timeout, Errc::tls_failed, Errc::upstream_reset,
        Errc::read_timeout, Errc::bad_upstream_response, Errc::dns_failed}) {
    auto v = gb::pool::classify_transport(e);
    INFO(gb::errc_name(e));
    CHECK(v.outcome == Outcome::failed);
    CHECK(v.retry);
    CHECK(v.reason == gb::errc_name(e));
  }
  auto gone = gb::pool::classify_transport(Errc::client_gone);
  CHECK(gone.outcome == Outcome::cancelled);
  CHECK_FALSE(gone.retry);
}

TEST_CASE("RetryInfo.retryDelay: google.protobuf.Duration strings", "[pool]") {
  using gb::pool::parse_proto_duration;
  struct Row {
    const char* text;
    std::optional<Duration> want;
  };
  const Row rows[] = {
      {"37s", seconds(37)},
      {"0.5s", Duration(500)},
      {"45.837906927s", Duration(45838)},
      {"23s", seconds(23)},
      {"0s", Duration(0)},
      {"2.463586755s", Duration(2464)},
      {"1.5s", Duration(1500)},
      {"1.000s", Duration(1000)},
      {"1.000001s", Duration(1001)},  // rounded up: early is another 429
      {"0.000000001s", Duration(1)},
      {"86401s", kOneDay},
      {"999999999999s", kOneDay},
      {"23", kNoWait},
      {"s", kNoWait},
      {"", kNoWait},
      {"-3s", kNoWait},
      {"+3s", kNoWait},
      {"1.s", kNoWait},
      {".5s", kNoWait},
      {"1.0000000001s", kNoWait},
      {"1e3s", kNoWait},
      {" 3s", kNoWait},
      {"3s ", kNoWait},
      {"3ms", kNoWait},
      {"1000000000000s", kNoWait},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    CHECK(parse_proto_duration(r.text) == r.want);
  }
}

TEST_CASE("Retry-After: delay-seconds and the three HTTP-date forms", "[pool]") {
  using gb::pool::parse_retry_after;
  struct Row {
    const char* text;
    std::optional<Duration> want;
  };
  // kNow is Sun, 08 Mar 2026 09:30:00.250 GMT.
  const Row rows[] = {
      {"120", seconds(120)},
      {" 5 ", seconds(5)},
      {"\t7", seconds(7)},
      {"0", Duration(0)},
      {"007", seconds(7)},
      {"99999999999", kOneDay},
      {"123456789012345678901234567890", kOneDay},
      // IMF-fixdate, RFC 850 and asctime: 89.75 s ahead.
      {"Sun, 08 Mar 2026 09:31:30 GMT", Duration(89750)},
      {"Sunday, 08-Mar-26 09:31:30 GMT", Duration(89750)},
      {"Sun Mar  8 09:31:30 2026", Duration(89750)},
      {"Sun Mar 08 09:31:30 2026", Duration(89750)},
      {"  Sun, 08 Mar 2026 09:31:30 GMT  ", Duration(89750)},
      {"sun, 08 MAR 2026 09:31:30 GMT", Duration(89750)},
      {"Mon, 08 Mar 2026 09:31:30 GMT", Duration(89750)},  // weekday not checked
      {"Sun, 08 Mar 2026 09:30:01 GMT", Duration(750)},
      {"Sun, 08 Mar 2026 09:31:60 GMT", Duration(119750)},  // leap second
      {"Mon, 09 Mar 2026 09:30:00 GMT", kOneDay - Duration(250)},
      {"Tue, 10 Mar 2026 09:30:00 GMT", kOneDay},
      {"Fri, 31 Dec 9999 23:59:59 GMT", kOneDay},
      // In the past, or this very second: retry now.
      {"Sun, 08 Mar 2026 09:30:00 GMT", Duration(0)},
      {"Sun, 06 Nov 1994 08:49:37 GMT", Duration(0)},
      {"Sunday, 06-Nov-94 08:49:37 GMT", Duration(0)},
      {"Sun Nov  6 08:49:37 1994", Duration(0)},
      {"Thu, 29 Feb 2024 12:00:00 GMT", Duration(0)},
      {"Mon, 01 Jan 0001 00:00:00 GMT", Duration(0)},
      // RFC 850's two-digit year: within 50 years of now (2076 ahead, 1977 behind).
      {"Thursday, 01-Jan-76 00:00:00 GMT", kOneDay},
      {"Saturday, 01-Jan-77 00:00:00 GMT", Duration(0)},
      // Garbage.
      {"", kNoWait},
      {"soon", kNoWait},
      {"1.5", kNoWait},
      {"-1", kNoWait},
      {"120s", kNoWait},
      {"12 0", kNoWait},
      {"2026-03-08T09:31:30Z", kNoWait},
      {"Sun, 08 Mar 2026 09:31:30 UTC", kNoWait},
      {"Sun, 08 Mar 2026 09:31:30", kNoWait},
      {"Sun, 08 Mar 2026 09:31:30 GMT x", kNoWait},
      {"Sun, 8 Mar 2026 09:31:30 GMT", kNoWait},
      {"Sun, 08 Mar 26 09:31:30 GMT", kNoWait},
      {"Sun,08 Mar 2026 09:31:30 GMT", kNoWait},
      {"Sun, 31 Feb 2026 09:31:30 GMT", kNoWait},
      {"Sun, 29 Feb 2026 09:31:30 GMT", kNoWait},
      {"Sun, 00 Mar 2026 09:31:30 GMT", kNoWait},
      {"Sun, 08 Foo 2026 09:31:30 GMT", kNoWait},
      {"Xyz, 08 Mar 2026 09:31:30 GMT", kNoWait},
      {"Sun, 08 Mar 2026 24:00:00 GMT", kNoWait},
      {"Sun, 08 Mar 2026 09:60:00 GMT", kNoWait},
      {"Sun, 08 Mar 2026 09:31:61 GMT", kNoWait},
      {"Sun, 08 Mar 2026 9:31:30 GMT", kNoWait},
      {"Sun, 08 Mar 2026 09:31 GMT", kNoWait},
      {"Sun, 08 Mar 2026 09:31:30 GMT\r\n", kNoWait},
      {"Sun, 08-Mar-26 09:31:30 GMT", kNoWait},       // RFC 850 needs the long day name
      {"Sunday, 08 Mar 2026 09:31:30 GMT", kNoWait},  // IMF-fixdate needs the short one
      {"Sunday, 08-Mar-2026 09:31:30 GMT", kNoWait},
      {"Sun Mar 8 09:31:30 2026", kNoWait},
      {"Sun Mar  8 09:31:30 26", kNoWait},
      {"Sun Mar  8 09:31:30 2026 GMT", kNoWait},
      {"Sun", kNoWait},
      {",", kNoWait},
  };
  for (const auto& r : rows) {
    INFO("\"" << r.text << "\"");
    CHECK(parse_retry_after(r.text, kNow) == r.want);
  }
}

TEST_CASE("a Retry-After date counts down with the clock but seconds do not", "[pool]") {
  using gb::pool::parse_retry_after;
  const char* date = "Sun, 08 Mar 2026 09:31:30 GMT";
  CHECK(parse_retry_after(date, kNow + seconds(80)) == Duration(9750));
  CHECK(parse_retry_after(date, kNow + seconds(90)) == Duration(0));
  CHECK(parse_retry_after(date, kNow + hours(1)) == Duration(0));
  CHECK(parse_retry_after("120", kNow + hours(1)) == seconds(120));
  // The two-digit year follows the clock: "77" is 1977 in 2026 (above) and 2077 in 2027.
  auto in_2027 = std::chrono::sys_days(std::chrono::year(2027) / 1 / 2) + hours(0);
  CHECK(parse_retry_after("Saturday, 01-Jan-77 00:00:00 GMT", in_2027) == kOneDay);
}

TEST_CASE("outcome names are the contract words", "[pool]") {
  CHECK(std::string(gb::pool::outcome_name(Outcome::success)) == "success");
  CHECK(std::string(gb::pool::outcome_name(Outcome::rate_limited)) == "rate_limited");
  CHECK(std::string(gb::pool::outcome_name(Outcome::invalid)) == "invalid");
  CHECK(std::string(gb::pool::outcome_name(Outcome::failed)) == "failed");
  CHECK(std::string(gb::pool::outcome_name(Outcome::client_error)) == "client_error");
  CHECK(std::string(gb::pool::outcome_name(Outcome::cancelled)) == "cancelled");
}
