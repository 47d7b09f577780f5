// classify_response (lib/pool/verdict.h) on arbitrary upstream answers.
//
// Input: bytes 0-1 give the status (mapped into 100..599), byte 2 the length of the
// Retry-After header value, taken from the end of the rest; the remainder is the body.
// The body is what an upstream sent, so nothing in it may crash the classifier, and
// the verdict must hang together: retry exactly for the outcomes that try another key,
// a reason that is a short machine word (it goes into logs), a bounded retry_after.
// The wall clock is fixed, so that a Retry-After date gives the same delay every run.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "pool/verdict.h"

namespace {

using gb::pool::Outcome;
using gb::pool::Verdict;

constexpr gb::Duration kOneDay = std::chrono::hours(24);

// 2026-03-08 09:30:00.250 UTC: a Sunday, the day US daylight time starts, with a fraction
// of a second so that dates land between whole milliseconds.
const std::chrono::system_clock::time_point kNow =
    std::chrono::sys_days(std::chrono::year(2026) / 3 / 8) + std::chrono::hours(9) +
    std::chrono::minutes(30) + std::chrono::milliseconds(250);

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

void check_duration(const std::optional<gb::Duration>& d) {
  if (d) {
    FUZZ_CHECK(d->count() >= 0);
    FUZZ_CHECK(*d <= kOneDay);
  }
}

void check_verdict(int status, const Verdict& v) {
  bool tries_another = v.outcome == Outcome::rate_limited || v.outcome == Outcome::invalid ||
                       v.outcome == Outcome::failed;
  FUZZ_CHECK(v.retry == tries_another);
  FUZZ_CHECK(v.outcome != Outcome::cancelled);  // only a transport verdict
  FUZZ_CHECK(is_machine_word(v.reason));
  check_duration(v.retry_after);
  FUZZ_CHECK(!v.per_day || v.outcome == Outcome::rate_limited);

  bool ok = status >= 200 && status < 300;
  FUZZ_CHECK((v.outcome == Outcome::success) == ok);
  if (ok) {
    FUZZ_CHECK(v.reason == "ok" && !v.retry_after && !v.per_day);
    return;
  }
  if (status == 429) {
    FUZZ_CHECK(v.outcome == Outcome::rate_limited);
  } else if (status == 401) {
    FUZZ_CHECK(v.outcome == Outcome::invalid || v.outcome == Outcome::rate_limited);
  } else if (status == 403) {
    // A 403 about what the request names goes back to the client.
    FUZZ_CHECK(v.outcome != Outcome::failed);
  } else if (status >= 400 && status < 500) {
    FUZZ_CHECK(v.outcome != Outcome::failed);
  } else if (status >= 500) {
    // Never the client's fault, never the key's for certain.
    FUZZ_CHECK(v.outcome == Outcome::failed || v.outcome == Outcome::rate_limited);
  } else {
    // 1xx, 3xx: not an answer a Gemini front end gives; the body is not even read.
    FUZZ_CHECK(v.outcome == Outcome::failed && v.reason == "bad_upstream_response");
    FUZZ_CHECK(!v.retry_after);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) {
    return 0;
  }
  int status = 100 + (data[0] << 8 | data[1]) % 500;
  std::string_view rest(reinterpret_cast<const char*>(data + 3), size - 3);
  size_t ra_len = data[2] < rest.size() ? data[2] : rest.size();
  std::string_view retry_after = rest.substr(rest.size() - ra_len);
  std::string_view body = rest.substr(0, rest.size() - ra_len);

  Verdict v = gb::pool::classify_response(status, body, retry_after, kNow);
  check_verdict(status, v);

  // Same answer, same verdict: nothing depends on state.
  Verdict again = gb::pool::classify_response(status, body, retry_after, kNow);
  FUZZ_CHECK(again.outcome == v.outcome && again.retry == v.retry &&
             again.retry_after == v.retry_after && again.per_day == v.per_day &&
             again.reason == v.reason);

  // Time only shortens a wait: an hour later, a date is as near or nearer, and a number
  // of seconds stays what it is; what parses at one time parses at the other.
  auto at_now = gb::pool::parse_retry_after(retry_after, kNow);
  auto later = gb::pool::parse_retry_after(retry_after, kNow + std::chrono::hours(1));
  check_duration(at_now);
  check_duration(later);
  FUZZ_CHECK(at_now.has_value() == later.has_value());
  FUZZ_CHECK(!at_now || *later <= *at_now);
  check_duration(gb::pool::parse_proto_duration(retry_after));
  return 0;
}
