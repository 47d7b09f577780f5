#include "pool/verdict.h"

#include <catch2/catch.hpp>

using gb::Duration;
using gb::pool::classify_response;
using gb::pool::Outcome;
using std::chrono::seconds;

namespace {

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

constexpr const char* kNoKey =
    R"({ "error": { "code": 403, "message": "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "status": "PERMISSION_DENIED" } })";

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

constexpr const char* kBare429 =
    R"({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}})";

constexpr const char* k500 =
    R"({ "error": { "code": 500, "message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", "status": "INTERNAL" } })";

constexpr const char* k503 =
    R"({ "error": { "code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE" } })";

// WIRE §1.6.2: JSON-array streaming wraps the error in a one-element array.
constexpr const char* kArrayInvalidKey =
    R"([{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}])";

constexpr const char* kSuspended =
    R"({"error": {"code": 403, "message": "Permission denied: Consumer 'api_key:AIza...' has been suspended.", "status": "PERMISSION_DENIED", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CONSUMER_SUSPENDED", "domain": "googleapis.com"}]}})";

constexpr const char* kExpired =
    R"({"error": {"code": 400, "message": "API key expired. Please renew the API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_EXPIRED", "domain": "googleapis.com"}]}})";

constexpr const char* kMessageOnlyInvalid =
    R"({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}})";

struct Case {
  const char* name;
  int status;
  std::string body;
  std::string retry_after_header;
  Outcome outcome;
  bool retry;
  std::optional<Duration> retry_after;
  bool per_day;
  std::string reason;
};

}  // namespace

TEST_CASE("classify_response follows the DESIGN table on real Gemini bodies", "[pool]") {
  const Case cases[] = {
      {"200", 200, "{}", "", Outcome::success, false, {}, false, "ok"},
      {"204 ignores the body", 204, kQuota, "", Outcome::success, false, {}, false, "ok"},
      {"invalid key", 400, kInvalidKey, "", Outcome::invalid, true, {}, false, "API_KEY_INVALID"},
      {"invalid key in an array",
       400,
       kArrayInvalidKey,
       "",
       Outcome::invalid,
       true,
       {},
       false,
       "API_KEY_INVALID"},
      {"expired key", 400, kExpired, "", Outcome::invalid, true, {}, false, "API_KEY_EXPIRED"},
      {"invalid key, message only",
       400,
       kMessageOnlyInvalid,
       "",
       Outcome::invalid,
       true,
       {},
       false,
       "API_KEY_INVALID"},
      {"unknown field",
       400,
       kUnknownField,
       "",
       Outcome::client_error,
       false,
       {},
       false,
       "http_400"},
      {"no key", 403, kNoKey, "", Outcome::invalid, true, {}, false, "PERMISSION_DENIED"},
      {"suspended", 403, kSuspended, "", Outcome::invalid, true, {}, false, "CONSUMER_SUSPENDED"},
      {"401 without body", 401, "", "", Outcome::invalid, true, {}, false, "http_401"},
      {"403 junk",
       403,
       "<html>Forbidden</html>",
       "",
       Outcome::invalid,
       true,
       {},
       false,
       "http_403"},
      {"404", 404, kNotFound, "", Outcome::client_error, false, {}, false, "http_404"},
      {"413", 413, "", "", Outcome::client_error, false, {}, false, "http_413"},
      {"per-day quota", 429, kQuota, "", Outcome::rate_limited, true, seconds(23), true,
       "rate_limited"},
      {"per-minute quota", 429, kPerMinuteQuota, "", Outcome::rate_limited, true, Duration(2464),
       false, "rate_limited"},
      {"bare 429", 429, kBare429, "", Outcome::rate_limited, true, {}, false, "rate_limited"},
      {"429 junk",
       429,
       "{\"error\": {\"code\": 4",
       "",
       Outcome::rate_limited,
       true,
       {},
       false,
       "rate_limited"},
      {"429 empty with Retry-After", 429, "", "17", Outcome::rate_limited, true, seconds(17), false,
       "rate_limited"},
      {"retryDelay wins over Retry-After", 429, kQuota, "99", Outcome::rate_limited, true,
       seconds(23), true, "rate_limited"},
      {"429 HTTP-date Retry-After ignored",
       429,
       "",
       "Wed, 21 Oct 2015 07:28:00 GMT",
       Outcome::rate_limited,
       true,
       {},
       false,
       "rate_limited"},
      {"RESOURCE_EXHAUSTED under another status",
       400,
       kBare429,
       "",
       Outcome::rate_limited,
       true,
       {},
       false,
       "rate_limited"},
      {"500", 500, k500, "", Outcome::failed, true, {}, false, "http_500"},
      {"502 empty", 502, "", "", Outcome::failed, true, {}, false, "http_502"},
      {"503", 503, k503, "", Outcome::failed, true, {}, false, "http_503"},
      {"504", 504, "", "", Outcome::failed, true, {}, false, "http_504"},
      {"529", 529, "", "", Outcome::failed, true, {}, false, "http_529"},
      {"302", 302, "", "", Outcome::failed, true, {}, false, "http_302"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto v = classify_response(c.status, c.body, c.retry_after_header);
    CHECK(v.outcome == c.outcome);
    CHECK(v.retry == c.retry);
    CHECK(v.retry_after == c.retry_after);
    CHECK(v.per_day == c.per_day);
    CHECK(v.reason == c.reason);
  }
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
      "{\"error\": {\"status\": \"has spaces and\\nnewlines\"}}",
      std::string("\0\0\0", 3),
  };
  for (const auto& body : bodies) {
    for (int status : {400, 401, 403, 429, 500}) {
      INFO(body << " " << status);
      auto v = classify_response(status, body, "");
      CHECK_FALSE(v.reason.empty());
      CHECK(v.reason.find(' ') == std::string::npos);
      CHECK_FALSE(v.retry_after.has_value());
    }
  }
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

TEST_CASE("proto Duration and Retry-After parsing", "[pool]") {
  using gb::pool::parse_proto_duration;
  using gb::pool::parse_retry_after;
  struct DurationCase {
    const char* text;
    std::optional<Duration> want;
  };
  const DurationCase durations[] = {
      {"23s", seconds(23)},
      {"0s", Duration(0)},
      {"2.463586755s", Duration(2464)},
      {"45.837906927s", Duration(45838)},
      {"1.5s", Duration(1500)},
      {"0.000000001s", Duration(1)},
      {"1.000s", Duration(1000)},
      {"999999999999s", seconds(86400)},
      {"23", {}},
      {"s", {}},
      {"-3s", {}},
      {"1.s", {}},
      {".5s", {}},
      {"1.0000000001s", {}},
      {"1e3s", {}},
      {" 3s", {}},
  };
  for (const auto& c : durations) {
    INFO(c.text);
    CHECK(parse_proto_duration(c.text) == c.want);
  }
  CHECK(parse_retry_after("120") == seconds(120));
  CHECK(parse_retry_after(" 5 ") == seconds(5));
  CHECK(parse_retry_after("0") == seconds(0));
  CHECK_FALSE(parse_retry_after("").has_value());
  CHECK_FALSE(parse_retry_after("1.5").has_value());
  CHECK_FALSE(parse_retry_after("-1").has_value());
  CHECK(parse_retry_after("99999999999") == seconds(86400));
}

TEST_CASE("outcome names are the contract words", "[pool]") {
  CHECK(std::string(gb::pool::outcome_name(Outcome::success)) == "success");
  CHECK(std::string(gb::pool::outcome_name(Outcome::rate_limited)) == "rate_limited");
  CHECK(std::string(gb::pool::outcome_name(Outcome::invalid)) == "invalid");
  CHECK(std::string(gb::pool::outcome_name(Outcome::failed)) == "failed");
  CHECK(std::string(gb::pool::outcome_name(Outcome::client_error)) == "client_error");
  CHECK(std::string(gb::pool::outcome_name(Outcome::cancelled)) == "cancelled");
}

TEST_CASE("a deeply nested error body does not exhaust the stack", "[pool]") {
  // Found by fuzz_verdict: the recursive parser overflowed the stack on this shape.
  std::string body(300000, '[');
  auto v = classify_response(429, body, "");
  CHECK(v.outcome == Outcome::rate_limited);
  CHECK_FALSE(v.retry_after.has_value());
}
