// What the mock knows per API key, for tests of gbd's key pool:
//   KeyCounts / KeyTally  how many requests each key made, by API method, so a test can
//                         assert which key served what and that probes (models.get) happened;
//   Scripts               keys told to behave as another key's scenario from now on
//                         (POST /_mock/script?key=invalid-a&as=ok brings a key "back").
// Pure and single-threaded; SharedState (mock_server.h) puts them behind its locks.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "json_out.h"
#include "route.h"

namespace gb::mock {

// The methods of route.h, then requests whose path names no method ("other").
inline constexpr size_t kActionCount = 11;
inline constexpr size_t kOtherAction = kActionCount - 1;
static_assert(static_cast<size_t>(ApiMethod::openai_models) + 1 == kOtherAction,
              "one action per ApiMethod, in order, then other");

inline size_t action_index(ApiMethod m) {
  return static_cast<size_t>(m);
}

// The names of WIRE.md §1.2: "models.list", "models.get", "generateContent", ...; then
// the OpenAI-compatible layer's: "openai.chat" (streamed or not), "openai.embeddings",
// "openai.models" (list and get).
inline std::string_view action_name(size_t index) {
  static constexpr std::string_view kNames[kActionCount] = {
      "models.list",           "models.get",  "generateContent",
      "streamGenerateContent", "countTokens", "embedContent",
      "batchEmbedContents",    "openai.chat", "openai.embeddings",
      "openai.models",         "other",
  };
  return index < kActionCount ? kNames[index] : kNames[kOtherAction];
}

struct KeyCounts {
  uint64_t requests = 0;
  std::array<uint64_t, kActionCount> by_action{};

  void add(const KeyCounts& o) {
    requests += o.requests;
    for (size_t i = 0; i < kActionCount; ++i) {
      by_action[i] += o.by_action[i];
    }
  }
};

// Requests per key. Keys beyond kMaxKeys distinct ones are not tallied (a runaway test
// that invents keys must not grow the mock without end); they still count in "requests".
class KeyTally {
 public:
  static constexpr size_t kMaxKeys = 10000;

  void count(const std::string& key, size_t action) {
    auto it = keys_.find(key);  // no allocation for a key seen before
    if (it == keys_.end()) {
      if (keys_.size() >= kMaxKeys) {
        return;
      }
      it = keys_.emplace(key, KeyCounts{}).first;
    }
    it->second.requests++;
    it->second.by_action[action < kActionCount ? action : kOtherAction]++;
  }

  // Adds these counts into `out`, which gathers the tallies of all workers in key order.
  void merge_into(std::map<std::string, KeyCounts>* out) const {
    for (const auto& [key, counts] : keys_) {
      (*out)[key].add(counts);
    }
  }

  void clear() { keys_.clear(); }

 private:
  std::unordered_map<std::string, KeyCounts> keys_;
};

// {"ok-1":{"requests":3,"models.get":1,"generateContent":2},…}: methods with no request
// are left out.
inline void append_key_counts_json(std::string& out, const std::map<std::string, KeyCounts>& keys) {
  out += '{';
  bool first = true;
  for (const auto& [key, counts] : keys) {
    if (!first) {
      out += ',';
    }
    first = false;
    append_google_json_string(out, valid_utf8(key));  // a key is whatever the client sent
    out += ":{\"requests\":" + std::to_string(counts.requests);
    for (size_t i = 0; i < kActionCount; ++i) {
      if (counts.by_action[i] != 0) {
        out += ",\"";
        out += action_name(i);
        out += "\":" + std::to_string(counts.by_action[i]);
      }
    }
    out += '}';
  }
  out += '}';
}

// Keys scripted to behave as another key: scenario_key(k) is the key whose prefix decides
// what k gets. Everything else about the request (the key in messages, the flaky counter,
// the tallies) stays with the key that was sent.
class Scripts {
 public:
  // as empty: k is itself again.
  void set(const std::string& key, const std::string& as) {
    if (as.empty()) {
      as_.erase(key);
    } else {
      as_[key] = as;
    }
  }
  // The key to read the scenario from: the script's, or nullptr for the key itself.
  const std::string* scenario_key(const std::string& key) const {
    auto it = as_.find(key);
    return it == as_.end() ? nullptr : &it->second;
  }
  bool empty() const { return as_.empty(); }
  void clear() { as_.clear(); }

 private:
  std::unordered_map<std::string, std::string> as_;
};

}  // namespace gb::mock
