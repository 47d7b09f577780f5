// Session: one proxied request, from the client's request to the access line.
//
// It leases a key, sends the request upstream, and either streams the answer to the
// client or — for an error answer, whose body it reads first (bounded) — classifies it,
// settles the lease, and tries another key while nothing has reached the client yet.
// After the first byte went to the client there is no retry: a cut stream ends with an
// error event (SSE) or a cut connection, never a clean-looking end.
//
// When every key for the model is cooling and the pool has a queue_timeout, the request
// waits: the key pool hands it a lease when one frees (through the worker's mailbox, as
// the key may free on another thread), or it gives up at the deadline. A waiting session
// whose lease is already on its way stays alive until the lease arrives.
//
// One teardown path: finish() writes the access line and the request-log record and
// hands the session to the loop's deferred-delete queue. Nothing touches the Exchange
// after end(), abort() or on_abort.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/client_conn.h"
#include "http/server_conn.h"
#include "pool/key_pool.h"
#include "proxy/forward.h"
#include "proxy/media_fetch.h"
#include "proxy/route.h"
#include "proxy/runtime.h"
#include "proxy/translator.h"
#include "proxy/usage.h"
#include "sse/boundary.h"
#include "uv/loop.h"
#include "uv/mailbox.h"

namespace gb::http {
class UpstreamPool;
}

namespace gb::proxy {

// What differs from forwarding a native request byte for byte.
struct SessionPlan {
  std::optional<std::string> body;         // sent instead of the client's body
  // A translated request with images to download first; its body is serialised then.
  std::unique_ptr<llm::openai::GeminiCall> media_call;
  MediaLimits media;
  std::unique_ptr<Translator> translator;  // rewrites the answer; null: as it is
  UpstreamStyle style;                     // key header, client headers or not
};

class Session : public http::ResponseSink, public uv::Deletable {
 public:
  Session(uv::Loop& loop, std::shared_ptr<uv::Mailbox> mailbox, http::UpstreamPool& upstream,
          http::Exchange& ex, std::shared_ptr<const Snapshot> snap, Route route,
          const config::Pool& pool, pool::KeyPool& keys, std::string token_id, uint64_t sid,
          SessionPlan plan = {});
  void start();

 private:
  enum class Phase { queued, waiting, reading_error, streaming, done };
  enum class End { ok, client_gone, upstream_error, cut };

  void next_attempt();
  void answer_no_key(const pool::NoKey& none);
  void arm_wait(pool::TimePoint next_free);
  void on_wait_timer();
  void on_lease(pool::Lease lease);
  void use_lease(pool::Lease lease);
  void send(bool fresh_connection);
  void settle(const pool::Verdict& v);
  void record_attempt(std::string_view what);
  void give_up();
  void reply_error(int status, Errc err, std::string message,
                   std::optional<int> retry_after_s = {});
  void forward_buffered();
  void forward_body(const char* data, size_t n);
  void answer_translated();
  void on_media(std::optional<llm::openai::RequestError> err);
  void write_out(std::string_view bytes);
  void cut_stream(const Error& err);
  void finish(End end);
  void log_request(End end, double ms, double ttfb);

  void on_response_head(int status, http::Headers headers) override;
  void on_response_body(const char* data, size_t n) override;
  void on_response_end() override;
  void on_response_error(const Error& err, bool response_started, bool stale) override;
  void on_client_abort();
  void on_client_drain();

  uv::Loop& loop_;
  std::shared_ptr<uv::Mailbox> mailbox_;
  http::UpstreamPool& upstream_;
  http::Exchange* ex_;
  std::shared_ptr<const Snapshot> snap_;  // keeps config and pool alive for this request
  Route route_;
  const config::Pool& pool_;
  pool::KeyPool& keys_;
  std::string token_id_;
  uint64_t sid_;
  std::shared_ptr<const std::string> body_;
  http::ClientTimeouts timeouts_;
  SessionPlan plan_;
  std::unique_ptr<MediaFetch> fetch_;
  std::string translated_in_;  // a whole upstream answer to translate at its end

  Phase phase_ = Phase::waiting;
  http::ClientConn* conn_ = nullptr;
  std::optional<pool::Lease> lease_;
  std::string attempt_key_;  // id of the key of the latest attempt
  std::string answer_key_;   // id of the key whose answer the client got
  std::vector<uint32_t> tried_;

  // Waiting for a key (Phase::queued).
  std::shared_ptr<pool::Waiter> waiter_;
  std::unique_ptr<uv::Timer> wait_timer_;
  bool lease_on_its_way_ = false;  // the pool handed us a lease that has not arrived yet
  unsigned attempts_ = 0;
  bool fresh_retry_done_ = false;
  std::string trail_;

  // The upstream answer being read (error answers are held until classified).
  int up_status_ = 0;
  http::Headers up_headers_;
  std::string up_body_;
  bool have_answer_ = false;  // up_* hold a complete answer we may forward at the end
  std::optional<Error> last_error_;
  pool::Outcome last_outcome_ = pool::Outcome::success;

  bool sse_ = false;
  sse::EventBoundary boundary_;
  std::string partial_event_;
  bool paused_ = false;

  int final_status_ = 0;
  Errc err_ = Errc::ok;  // what went wrong, for the access line
  uint64_t bytes_out_ = 0;
  UsageScanner usage_;
  std::chrono::system_clock::time_point wall0_;
  std::chrono::steady_clock::time_point t0_;
  std::chrono::steady_clock::time_point t_first_byte_{};
  std::string peer_;
};

}  // namespace gb::proxy
