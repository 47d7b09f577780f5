// The mock Gemini upstream: request handling for one worker, and the state all workers share.
// It serves the native API and Gemini's OpenAI-compatible layer (/v1beta/openai/).
//
// Each worker thread runs its own loop and HttpServer (SO_REUSEPORT on one port) with its
// own MockServer; they share a SharedState for what tests read back or set through
// /_mock/*: connection, request and blob counters, requests per key and method, the per-key
// counters of `flaky` keys, the keys scripted to behave as another, and the last model
// request. The hot path touches only the worker's own slot (and the scripts, only while
// there are any).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/server_conn.h"
#include "key_stats.h"
#include "stream.h"
#include "uv/loop.h"

namespace gb::mock {

struct MockOptions {
  bool sse_lf = false;  // end SSE events with \n\n instead of \r\n\r\n
};

class SharedState {
 public:
  explicit SharedState(unsigned workers);

  http::ServerStats stats;  // accepted and open connections, across workers

  void count_request(unsigned worker) {
    slots_[worker]->requests.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t requests() const;
  // A request to /_mock/blob (or, redirect, to /_mock/blob/redirect).
  void count_blob(bool redirect) {
    (redirect ? blob_redirects_ : blobs_).fetch_add(1, std::memory_order_relaxed);
  }
  // How many requests this exact key made before this one (and counts this one).
  uint64_t flaky_hit(const std::string& key);
  // Counts the request for its key (if any) and `action` (key_stats.h), and keeps it as
  // the last one seen. Takes the strings out of `req` (the handler has read what it needs;
  // the exchange only needs the method and version from here on).
  void record(unsigned worker, http::Request& req, const std::string& key, size_t action);
  // {"method":…,"target":…,"headers":[[n,v],…],"body":…,"api_key":…}
  std::string last_json() const;
  // {"connections":…,"requests":…,"open":…,"blobs":…,"blob_redirects":…,
  //  "keys":{<key>:{"requests":…,<method>:…},…}}
  std::string stats_json() const;
  // From now on `key` gets the scenario of key `as` (empty: its own again).
  void script(const std::string& key, const std::string& as);
  // True, with *as set, if `key` is scripted to behave as another key.
  bool scripted(const std::string& key, std::string* as) const;
  // Zeroes every counter, forgets the last request and every script.
  void reset();

 private:
  struct Slot {
    std::atomic<uint64_t> requests{0};
    mutable std::mutex mu;
    uint64_t seq = 0;  // 0: nothing recorded
    std::string method;
    std::string target;
    std::vector<http::Header> headers;
    std::string body;
    std::string key;
    KeyTally tally;
  };
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<uint64_t> seq_{0};
  std::atomic<uint64_t> blobs_{0};
  std::atomic<uint64_t> blob_redirects_{0};
  std::mutex flaky_mu_;
  std::unordered_map<std::string, uint64_t> flaky_;
  mutable std::mutex scripts_mu_;
  Scripts scripts_;
  std::atomic<bool> any_script_{false};  // lets every request skip the lock while none
};

class MockServer {
 public:
  MockServer(uv::Loop& loop, SharedState& shared, unsigned worker, MockOptions opts);
  void handle(http::Exchange& ex);

 private:
  // GET /_mock/stats, GET /_mock/last, POST /_mock/script, POST /_mock/reset, and the
  // blobs below.
  void handle_control(http::Exchange& ex);
  // GET /_mock/blob and GET /_mock/blob/redirect (blob.h, blob.cc).
  void handle_blob(http::Exchange& ex);
  // Everything about the answer to an API request (gemini_api.cc); *key gets the API key
  // used, empty if none, and *action the method's index (key_stats.h).
  Reply decide(http::Request& req, std::string* key, size_t* action);
  // The same for a request to the OpenAI-compatible layer, /v1beta/openai/ (openai_api.cc).
  Reply decide_openai(http::Request& req, std::string* key, size_t* action);

  uv::Loop& loop_;
  SharedState& shared_;
  unsigned worker_;
  MockOptions opts_;
};

// Renders the server's own early errors (400, 408, 413, 431) as Google error bodies (in
// an array under /v1beta/openai/).
std::string format_server_error(std::string_view target, int status, std::string_view message,
                                std::string* content_type);

}  // namespace gb::mock
