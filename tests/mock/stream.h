// Reply: everything the mock decided about one answer. Responder: plays a Reply that is not
// a plain immediate response — a delay before the first byte, a stream of events (paced
// by a timer or by the client's reading speed), a cut connection, or no answer at all.
//
// A Responder owns itself from start() until the exchange ends or the client goes away;
// it never holds the Exchange past end(), abort() or on_abort, and it is freed through
// the loop's deferred-delete queue, never inside one of its own callbacks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/headers.h"
#include "http/server_conn.h"
#include "responses.h"
#include "uv/loop.h"

namespace gb::mock {

enum class Ending {
  normal,
  reset_before,     // cut the connection before any byte
  cut,              // cut after `cut_after` events (streams) or half of the body
  midstream_error,  // two events, then an error event, then a clean end
  hang,             // never answer; wait for the client to leave
};

struct Reply {
  int status = 200;
  bool event_stream = false;  // Content-Type text/event-stream (a 200 SSE stream)
  std::string body;
  const std::string* fixed_body = nullptr;  // a prebuilt body used instead of `body`
  std::unique_ptr<GenerationPlan> plan;     // set: stream these events instead of a body
  Framing framing = Framing::sse_crlf;
  Ending ending = Ending::normal;
  uint64_t cut_after = 0;
  uint64_t delay_ms = 0;        // before the first byte
  uint64_t chunk_delay_ms = 0;  // between stream events

  std::string_view payload() const {
    return fixed_body != nullptr ? std::string_view(*fixed_body) : std::string_view(body);
  }
  // Nothing to wait for: the handler answers at once without a Responder.
  bool immediate() const { return !plan && delay_ms == 0 && ending == Ending::normal; }
};

// The response headers Google's front end sends, for this reply's content type.
http::Headers reply_headers(const Reply& r);

class Responder : public uv::Deletable {
 public:
  // Takes the exchange over; the caller must not touch `ex` afterwards.
  static void start(uv::Loop& loop, http::Exchange& ex, Reply reply);

 private:
  Responder(uv::Loop& loop, http::Exchange& ex, Reply reply);
  void begin();
  void answer_body();
  void pump();
  bool flush();
  void conclude();
  void cut_when_flushed();
  uint64_t event_limit() const;
  enum class Step { begin, pump, cut };
  void arm(uint64_t ms, Step step);
  void on_timer();
  void finish();

  uv::Loop& loop_;
  http::Exchange* ex_;  // null once the exchange ended or died
  Reply reply_;
  std::unique_ptr<uv::Timer> timer_;  // created on first use: most replies need none
  Step step_ = Step::begin;
  std::string buf_;  // events not yet handed to the exchange
  uint64_t next_ = 0;
  bool waiting_drain_ = false;
  bool done_ = false;
};

}  // namespace gb::mock
