#include "stream.h"

#include <algorithm>

#include "errors.h"
#include "openai_responses.h"

namespace gb::mock {

namespace {
// Without a pacing delay, events are gathered into writes of about this size: one write per
// 40-byte event would make the mock, not gbd, the bottleneck of a streaming benchmark.
constexpr size_t kBatchBytes = 16 << 10;
// How often a connection about to be cut checks that its last bytes left.
constexpr uint64_t kFlushPollMs = 1;
}  // namespace

http::Headers reply_headers(const Reply& r) {
  http::Headers h;
  h.list().reserve(7);
  if (r.event_stream) {
    h.add("Content-Type", "text/event-stream");
    h.add("Content-Disposition", "attachment");
  } else {
    h.add("Content-Type", "application/json; charset=UTF-8");
  }
  h.add("Vary", "Origin, X-Origin, Referer");
  h.add("Server", "scaffolding on HTTPServer2");
  h.add("X-XSS-Protection", "0");
  h.add("X-Frame-Options", "SAMEORIGIN");
  h.add("X-Content-Type-Options", "nosniff");
  return h;
}

void Responder::start(uv::Loop& loop, http::Exchange& ex, Reply reply) {
  auto* r = new Responder(loop, ex, std::move(reply));
  ex.on_abort = [r] { r->finish(); };
  ex.on_drain = [r] {
    if (r->waiting_drain_) {
      r->waiting_drain_ = false;
      r->pump();
    }
  };
  if (r->reply_.delay_ms > 0) {
    r->arm(r->reply_.delay_ms, Step::begin);
  } else {
    r->begin();
  }
}

Responder::Responder(uv::Loop& loop, http::Exchange& ex, Reply reply)
    : loop_(loop), ex_(&ex), reply_(std::move(reply)) {}

// Every arming installs the same callback, so re-arming from inside it swaps in an
// identical function object; what to do next lives in step_.
void Responder::arm(uint64_t ms, Step step) {
  if (!timer_) {
    timer_ = std::make_unique<uv::Timer>(loop_.get());
  }
  step_ = step;
  timer_->start(ms, [this] { on_timer(); });
}

void Responder::on_timer() {
  switch (step_) {
    case Step::begin:
      begin();
      return;
    case Step::pump:
      pump();
      return;
    case Step::cut:
      cut_when_flushed();
      return;
  }
}

void Responder::finish() {
  if (done_) {
    return;
  }
  done_ = true;
  ex_ = nullptr;
  if (timer_) {
    timer_->stop();
  }
  loop_.defer_delete(this);
}

void Responder::begin() {
  switch (reply_.ending) {
    case Ending::hang:
      return;  // on_abort ends us when the client leaves
    case Ending::reset_before:
      ex_->abort();
      finish();
      return;
    default:
      break;
  }
  if (!reply_.plan) {
    answer_body();
    return;
  }
  ex_->begin(reply_.status, reply_headers(reply_), -1);
  if (!done_) {
    pump();
  }
}

void Responder::answer_body() {
  std::string_view body = reply_.payload();
  if (reply_.ending != Ending::cut) {
    ex_->respond(reply_.status, reply_headers(reply_), body);
    finish();
    return;
  }
  // The whole length is announced, then only half arrives: the client must see a short body.
  ex_->begin(reply_.status, reply_headers(reply_), static_cast<int64_t>(body.size()));
  if (!done_) {
    ex_->write(body.substr(0, std::max<size_t>(1, body.size() / 2)));
  }
  if (!done_) {
    cut_when_flushed();
  }
}

uint64_t Responder::event_limit() const {
  const GenerationPlan& p = *reply_.plan;
  uint64_t total = p.event_count();
  switch (reply_.ending) {
    case Ending::cut:
      return std::min(reply_.cut_after, total);
    case Ending::midstream_error:
      return std::min<uint64_t>(2, total - p.closing_events());
    default:
      return total;
  }
}

// Hands buffered events to the exchange. False if the client went away meanwhile.
bool Responder::flush() {
  if (!buf_.empty()) {
    ex_->write(buf_);
    buf_.clear();
  }
  return !done_;
}

void Responder::pump() {
  const uint64_t limit = event_limit();
  while (!done_) {
    if (next_ >= limit) {
      conclude();
      return;
    }
    if (ex_->over_high_water()) {
      waiting_drain_ = true;  // on_drain resumes us
      return;
    }
    if (reply_.framing == Framing::openai_sse) {
      append_openai_event(*reply_.plan, next_++, buf_);
    } else {
      append_framed_event(*reply_.plan, next_++, reply_.framing, buf_);
    }
    bool paced = reply_.chunk_delay_ms > 0 && next_ < limit;
    if ((paced || buf_.size() >= kBatchBytes) && !flush()) {
      return;
    }
    if (paced) {
      arm(reply_.chunk_delay_ms, Step::pump);
      return;
    }
  }
}

void Responder::conclude() {
  if (reply_.ending == Ending::cut) {
    if (flush()) {
      cut_when_flushed();
    }
    return;
  }
  if (reply_.ending == Ending::midstream_error) {
    const std::string error =
        reply_.framing == Framing::json_array
            ? error_body(503, "The model is overloaded. Please try again later.")
            : unavailable_line();
    append_framed_error(error, next_ == 0, reply_.framing, buf_);
    ++next_;
  }
  // An error event ends an OpenAI stream: no [DONE] after it.
  if (reply_.ending != Ending::midstream_error || reply_.framing != Framing::openai_sse) {
    buf_ += stream_trailer(reply_.framing, next_ > 0);
  }
  if (!flush()) {
    return;
  }
  ex_->end();
  finish();
}

// Cuts the connection once every byte written so far has left our queue, so that the client
// sees the partial response and then the reset.
void Responder::cut_when_flushed() {
  if (done_) {
    return;
  }
  if (ex_->queued() > 0) {
    arm(kFlushPollMs, Step::cut);
    return;
  }
  ex_->abort();
  finish();
}

}  // namespace gb::mock
