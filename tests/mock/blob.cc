#include "blob.h"

#include <algorithm>
#include <memory>

#include "http/status.h"
#include "mock_server.h"

namespace gb::mock {

namespace {

// Pieces handed to the exchange; the write queue's high-water mark paces them, so a 64 MiB
// blob to a slow reader never sits in memory whole.
constexpr uint64_t kPieceBytes = 64 << 10;

// Plays one blob: the delay, then the status, headers and body, backpressured.
class BlobResponder : public uv::Deletable {
 public:
  static void start(uv::Loop& loop, http::Exchange& ex, BlobRequest b) {
    auto* r = new BlobResponder(loop, ex, std::move(b));
    ex.on_abort = [r] { r->finish(); };
    ex.on_drain = [r] { r->pump(); };
    if (r->blob_.delay_ms > 0) {
      r->timer_ = std::make_unique<uv::Timer>(loop.get());
      r->timer_->start(r->blob_.delay_ms, [r] { r->begin(); });
    } else {
      r->begin();
    }
  }

 private:
  BlobResponder(uv::Loop& loop, http::Exchange& ex, BlobRequest b)
      : loop_(loop), ex_(&ex), blob_(std::move(b)) {}

  void begin() {
    http::Headers h;
    if (blob_.has_type) {
      h.add("Content-Type", blob_.type);
    }
    ex_->begin(blob_.status, h, static_cast<int64_t>(blob_.bytes));
    begun_ = true;
    pump();
  }

  void pump() {
    if (done_ || !begun_) {
      return;
    }
    std::string piece;
    while (sent_ < blob_.bytes) {
      if (ex_->over_high_water()) {
        return;  // on_drain resumes us
      }
      uint64_t end = std::min(blob_.bytes, sent_ + kPieceBytes);
      piece.clear();
      append_blob_bytes(piece, sent_, end);
      sent_ = end;
      ex_->write(piece);
      if (done_) {
        return;
      }
    }
    ex_->end();
    finish();
  }

  void finish() {
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

  uv::Loop& loop_;
  http::Exchange* ex_;  // null once the exchange ended or died
  BlobRequest blob_;
  std::unique_ptr<uv::Timer> timer_;
  uint64_t sent_ = 0;
  bool begun_ = false;
  bool done_ = false;
};

void answer_error(http::Exchange& ex, int status, const std::string& message) {
  http::Headers h;
  h.add("Content-Type", "application/json");
  std::string body = "{\"error\":";
  http::append_json_string(body, message);
  body += '}';
  ex.respond(status, std::move(h), body);
}

}  // namespace

void MockServer::handle_blob(http::Exchange& ex) {
  const http::Request& req = ex.request();
  bool redirect = req.path() == "/_mock/blob/redirect";
  shared_.count_blob(redirect);
  if (req.method != "GET") {
    return answer_error(ex, 405, "use GET");
  }
  std::string error;
  if (redirect) {
    BlobRedirect r;
    if (!parse_redirect_query(req.query(), &r, &error)) {
      return answer_error(ex, 400, error);
    }
    http::Headers h;
    h.add("Location", r.location);
    ex.respond(r.status, std::move(h), "");
    return;
  }
  BlobRequest b;
  if (!parse_blob_query(req.query(), &b, &error)) {
    return answer_error(ex, 400, error);
  }
  BlobResponder::start(loop_, ex, std::move(b));
}

}  // namespace gb::mock
