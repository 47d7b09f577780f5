// What one upstream answer means for the key that served it and for the request.
// The classification follows DESIGN §6; the body shapes follow WIRE §2 (Gemini errors).
// Pure: no I/O, no clock.
#pragma once

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
  // header (delta-seconds only). Rounded up to whole milliseconds, at most one day.
  std::optional<Duration> retry_after;
  bool per_day = false;  // a QuotaFailure violation whose quotaId contains "PerDay"
  // Short machine word: "ok", "rate_limited", "API_KEY_INVALID", "PERMISSION_DENIED",
  // "CONSUMER_SUSPENDED", "http_500", "connect_timeout", ...
  std::string reason;
};

// Classifies an HTTP answer from upstream. `body` is the error body as received: it may
// be empty, truncated, not JSON, or a one-element JSON array wrapping the error object;
// none of these crash, they only lose detail (a 429 with a junk body is still
// rate_limited, without retry_after).
Verdict classify_response(int status, std::string_view body, std::string_view retry_after_header);

// Classifies a failure before any response: connect failure or timeout, TLS failure,
// reset, read timeout, bad upstream response. Outcome failed, retry true, reason is the
// error code's name. Errc::client_gone is the exception: cancelled, no retry.
Verdict classify_transport(Errc code);

// Parses a google.protobuf.Duration string ("23s", "2.463586755s"). Rounds up to whole
// milliseconds and caps at one day. Exposed for tests.
std::optional<Duration> parse_proto_duration(std::string_view s);

// Parses a Retry-After header given as delta-seconds ("120"). HTTP-dates are not
// accepted: this module has no wall clock, and upstreams send seconds.
std::optional<Duration> parse_retry_after(std::string_view s);

}  // namespace gb::pool
