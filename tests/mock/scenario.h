// The behaviour of one request, chosen by the prefix of its API key.
//
// Tests script the upstream through the keys they configure in gbd: `ok-1` succeeds,
// `ratelimit-3s-a` answers 429 with a 3 s retryDelay, `reset-after-2-chunks-x` cuts a
// stream after two events, and so on (the table is in tests/mock/README.md). Whatever
// follows the prefix is free, so a test can hold several distinct keys of one kind.
// A key that matches no prefix behaves as an invalid key, as Google's does.
#pragma once

#include <cstdint>
#include <string_view>

namespace gb::mock {

enum class ScenarioKind {
  ok,
  invalid,          // 400 API_KEY_INVALID
  denied,           // 403 leaked key
  suspended,        // 403 CONSUMER_SUSPENDED
  blocked,          // 403 API_KEY_SERVICE_BLOCKED
  ratelimit,        // 429 per-minute quota (n = retryDelay seconds) or bare (no n)
  perday,           // 429 per-day quota, retryDelay 23s
  fail500,          // 500 INTERNAL
  fail503,          // 503 UNAVAILABLE
  slow,             // answer normally after n ms
  reset,            // cut the connection before any response byte
  reset_after,      // cut after n stream events (or part of a body)
  truncate,         // stream ends cleanly without finishReason
  midstream_error,  // two events, then an error event
  flaky,            // the first n requests with this exact key answer 503
  hang,             // never answer
};

struct Scenario {
  ScenarioKind kind = ScenarioKind::invalid;
  uint64_t n = 0;
  bool has_n = false;
};

namespace detail {

// The key continues with nothing or with '-' and a free suffix.
inline bool at_suffix(std::string_view rest) {
  return rest.empty() || rest.front() == '-';
}

// Reads a decimal number at the front of s (at most 12 digits); false if none.
inline bool take_number(std::string_view& s, uint64_t* n) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < s.size() && i < 12 && s[i] >= '0' && s[i] <= '9') {
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    ++i;
  }
  if (i == 0) {
    return false;
  }
  s.remove_prefix(i);
  *n = v;
  return true;
}

inline bool take(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) {
    return false;
  }
  s.remove_prefix(prefix.size());
  return true;
}

// `word` alone or followed by '-' and a suffix.
inline bool is_word(std::string_view key, std::string_view word) {
  return take(key, word) && at_suffix(key);
}

// `<word><N><unit>` followed by the end or '-', e.g. slow200ms-x; N lands in *n.
inline bool numbered(std::string_view key, std::string_view word, std::string_view unit,
                     uint64_t* n) {
  return take(key, word) && take_number(key, n) && take(key, unit) && at_suffix(key);
}

}  // namespace detail

inline Scenario parse_scenario(std::string_view key) {
  using detail::is_word;
  using detail::numbered;
  struct Simple {
    std::string_view word;
    ScenarioKind kind;
  };
  static constexpr Simple kSimple[] = {
      {"ok", ScenarioKind::ok},
      {"invalid", ScenarioKind::invalid},
      {"denied", ScenarioKind::denied},
      {"suspended", ScenarioKind::suspended},
      {"blocked", ScenarioKind::blocked},
      {"perday", ScenarioKind::perday},
      {"fail500", ScenarioKind::fail500},
      {"fail503", ScenarioKind::fail503},
      {"truncate", ScenarioKind::truncate},
      {"midstream-error", ScenarioKind::midstream_error},
      {"hang", ScenarioKind::hang},
  };
  Scenario s;
  uint64_t n = 0;
  // Numbered forms first: "reset-after-2-chunks" must not read as "reset".
  if (numbered(key, "reset-after-", "-chunks", &n)) {
    return {ScenarioKind::reset_after, n, true};
  }
  if (numbered(key, "ratelimit-", "s", &n)) {
    return {ScenarioKind::ratelimit, n, true};
  }
  if (numbered(key, "slow", "ms", &n)) {
    return {ScenarioKind::slow, n, true};
  }
  if (numbered(key, "flaky", "", &n)) {
    return {ScenarioKind::flaky, n, true};
  }
  if (is_word(key, "ratelimit")) {
    return {ScenarioKind::ratelimit, 0, false};
  }
  if (is_word(key, "flaky")) {
    return {ScenarioKind::flaky, 1, true};
  }
  if (is_word(key, "reset")) {
    return {ScenarioKind::reset, 0, false};
  }
  for (const Simple& e : kSimple) {
    if (is_word(key, e.word)) {
      s.kind = e.kind;
      return s;
    }
  }
  return s;  // unknown prefix: an invalid key
}

}  // namespace gb::mock
