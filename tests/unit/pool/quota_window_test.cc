#include "pool/quota_window.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <deque>
#include <random>

using gb::pool::QuotaLimits;
using gb::pool::QuotaWindow;

namespace {

constexpr int64_t kSec = 1000;
// An arbitrary monotonic base on a bucket boundary, like a steady clock some days up.
constexpr int64_t kBase = 3'600'000'000;

}  // namespace

TEST_CASE("quota window: counts requests and tokens of the last minute", "[pool]") {
  QuotaWindow w;
  CHECK(w.requests(kBase) == 0);
  CHECK(w.tokens(kBase) == 0);
  CHECK(w.requests_free_at(kBase) == kBase);  // nothing counts: free now
  CHECK(w.tokens_free_at(kBase) == kBase);
  w.add_request(kBase);
  w.add_request(kBase + 9 * kSec);
  w.add_tokens(kBase + 9 * kSec, 500);
  w.add_request(kBase + 25 * kSec);
  w.add_tokens(kBase + 25 * kSec, 70);
  CHECK(w.requests(kBase + 25 * kSec) == 3);
  CHECK(w.tokens(kBase + 25 * kSec) == 570);
  CHECK(w.requests(kBase + 59 * kSec) == 3);
  CHECK(w.tokens(kBase + 59 * kSec) == 570);
}

TEST_CASE("quota window: a request counts for at least 60 and at most 70 seconds", "[pool]") {
  // The window must stop a key before the upstream says 429: forgetting a request
  // sooner than 60 s after it lets a key exceed its declared rpm within one minute.
  for (int64_t at = 0; at < 20 * kSec; at += 250) {
    QuotaWindow w;
    int64_t t = kBase + at;
    w.add_request(t);
    w.add_tokens(t, 42);
    INFO("request at +" << at << "ms");
    CHECK(w.requests(t + 60 * kSec - 1) == 1);
    CHECK(w.tokens(t + 60 * kSec - 1) == 42);
    CHECK(w.requests(t + 70 * kSec) == 0);
    CHECK(w.tokens(t + 70 * kSec) == 0);
    int64_t free_at = w.requests_free_at(t);
    CHECK(free_at >= t + 60 * kSec);
    CHECK(free_at <= t + 70 * kSec);
    CHECK(w.tokens_free_at(t) == free_at);
    // free_at is exactly when it stops counting.
    CHECK(w.requests(free_at - 1) == 1);
    CHECK(w.requests(free_at) == 0);
  }
}

TEST_CASE("quota window: free_at is when the oldest counting bucket leaves", "[pool]") {
  QuotaWindow w;
  w.add_request(kBase + 5 * kSec);       // bucket [0, 10)
  w.add_tokens(kBase + 15 * kSec, 100);  // bucket [10, 20): tokens only
  w.add_request(kBase + 35 * kSec);      // bucket [30, 40)
  int64_t now = kBase + 40 * kSec;
  int64_t first = w.requests_free_at(now);
  CHECK(w.tokens_free_at(now) == first + 10 * kSec);  // the token bucket is 10 s younger
  // Once the oldest request bucket left, the next one is named.
  CHECK(w.requests(first) == 1);
  CHECK(w.requests_free_at(first) == first + 30 * kSec);
  CHECK(w.tokens(first + 10 * kSec) == 0);
  CHECK(w.tokens_free_at(first + 10 * kSec) == first + 10 * kSec);
}

TEST_CASE("quota window: buckets are reused without leaking old counts", "[pool]") {
  // Against an exact log of every event: the window's count must lie between what
  // happened in the last 60 s and what happened in the last 70 s.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> step(0, 4 * kSec);
  std::uniform_int_distribution<uint64_t> tokens(0, 300);
  QuotaWindow w;
  struct Event {
    int64_t at;
    uint64_t tokens;
  };
  std::deque<Event> log;
  int64_t now = kBase;
  for (int i = 0; i < 5000; ++i) {
    now += step(rng);
    uint64_t t = tokens(rng);
    w.add_request(now);
    w.add_tokens(now, t);
    log.push_back({now, t});
    while (log.front().at <= now - 70 * kSec) {
      log.pop_front();
    }
    uint32_t req60 = 0, req70 = 0;
    uint64_t tok60 = 0, tok70 = 0;
    for (const Event& e : log) {
      req70 += 1;
      tok70 += e.tokens;
      if (e.at > now - 60 * kSec) {
        req60 += 1;
        tok60 += e.tokens;
      }
    }
    INFO("step " << i);
    REQUIRE(w.requests(now) >= req60);
    REQUIRE(w.requests(now) <= req70);
    REQUIRE(w.tokens(now) >= tok60);
    REQUIRE(w.tokens(now) <= tok70);
  }
}

TEST_CASE("quota limits: any() is true when one limit is set", "[pool]") {
  CHECK_FALSE(QuotaLimits{}.any());
  CHECK(QuotaLimits{1, 0, 0}.any());
  CHECK(QuotaLimits{0, 1, 0}.any());
  CHECK(QuotaLimits{0, 0, 1}.any());
}
