// What one upstream answer means for the key that served it and for the request.
// The classification follows DESIGN §6; the body shapes follow WIRE §2 (Gemini errors).
// Pure: no I/O; the wall clock comes in as an argument (Retry-After may be a date).
//
//   status                                  outcome        key            request
//   2xx                                     success        failures = 0   done
//   429, or error.status RESOURCE_EXHAUSTED rate_limited   cools          another key
//   400 naming the key (API_KEY_INVALID)    invalid        disabled       another key
//   401                                     invalid        disabled       another key
//   403 about the key, or unreadable        invalid        disabled       another key
//   403 about what the request names        client_error   untouched      to the client
//   other 4xx                               client_error   untouched      to the client
//   5xx                                     failed         failures + 1   another key
//   1xx, 3xx, < 100, > 599                  failed         failures + 1   another key
//     (reason bad_upstream_response: a final answer no Gemini front end sends)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/units.h"

namespace gb::pool {

enum class Outcome { success, rate_limited, invalid, failed, client_error, cancelled };

// "success", "rate_limited", ...: the words used in logs and control replies.
const char* outcome_name(Outcome o);

struct Verdict {
  Outcome outcome = Outcome::failed;
  bool retry = false;  // try another key (true for rate_limited, invalid, failed)
  // How long the upstream asked us to wait: RetryInfo.retryDelay, else the Retry-After
  // header (seconds or an HTTP-date). Rounded up to whole milliseconds, at most one day.
  std::optional<Duration> retry_after;
  // A QuotaFailure violation whose quotaId contains "PerDay" (or whose quotaMetric ends
  // in "_per_day"): the quota resets at Pacific midnight, whatever retryDelay says.
  bool per_day = false;
  // Short machine word: "ok", "rate_limited", "API_KEY_INVALID", "PERMISSION_DENIED",
  // "CONSUMER_SUSPENDED", "http_500", "connect_timeout", ...
  std::string reason;
};

// Classifies an HTTP answer from upstream (the table above). `body` is the error body as
// received: it may be empty, truncated, not JSON, or a one-element JSON array wrapping the
// error object; none of these crash, they only lose detail (a 429 with a junk body is still
// rate_limited, without retry_after; a 403 with a junk body disables the key). Why a
// readable 403 that names no key problem leaves the key alone: see is_key_403 in the .cc.
//
// The reason of an invalid verdict is the body's ErrorInfo.reason ("API_KEY_INVALID",
// "CONSUMER_SUSPENDED", "API_KEY_SERVICE_BLOCKED", "SERVICE_DISABLED", ...); else a word
// read from a message Google sends without details ("API_KEY_INVALID", "API_KEY_EXPIRED",
// "API_KEY_LEAKED"); else error.status ("PERMISSION_DENIED", "UNAUTHENTICATED"); else
// "http_<status>". Other error verdicts say "rate_limited", "http_<status>" or
// "bad_upstream_response".
//
// `now` is the wall clock, used only to turn a Retry-After date into a delay.
Verdict classify_response(int status, std::string_view body, std::string_view retry_after_header,
                          std::chrono::system_clock::time_point now);

// Classifies a failure before any response: connect failure or timeout, TLS failure,
// reset, read timeout, bad upstream response. Outcome failed, retry true, reason is the
// error code's name. Errc::client_gone is the exception: cancelled, no retry.
Verdict classify_transport(Errc code);

// Parses a google.protobuf.Duration string ("37s", "0.5s", "45.837906927s"): digits,
// optionally a dot and 1 to 9 digits, then "s"; no sign, no spaces. Rounds up to whole
// milliseconds and caps at one day. Exposed for tests.
std::optional<Duration> parse_proto_duration(std::string_view s);

// Parses a Retry-After header value (RFC 9110 §10.2.3), surrounding blanks allowed:
//   delay-seconds  "120"
//   HTTP-date      "Sun, 06 Nov 1994 08:49:37 GMT"   IMF-fixdate
//                  "Sunday, 06-Nov-94 08:49:37 GMT"  obsolete RFC 850 (two-digit year)
//                  "Sun Nov  6 08:49:37 1994"        obsolete asctime
// A date becomes its distance from `now`, rounded up to whole milliseconds; a date at or
// before `now` gives zero, as "Retry-After: 0" does: the upstream allows a retry now, and
// any floor under a cooldown is the key pool's policy, not the parser's. A two-digit year
// is the one within 50 years of `now` (RFC 9110 §5.6.7). Capped at one day like the rest.
// Anything else (garbage, impossible dates such as 31 Feb) gives nullopt.
std::optional<Duration> parse_retry_after(std::string_view s,
                                          std::chrono::system_clock::time_point now);

}  // namespace gb::pool
