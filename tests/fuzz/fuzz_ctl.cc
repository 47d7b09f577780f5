// The NDJSON control protocol (lib/ctl) on arbitrary bytes, as gbd's control socket and
// gbctl read them.
//
// Input: byte 0 picks a split point; the rest is the stream. It goes through a
// LineBuffer with a small bound, in two feeds cut where byte 0 says, the lines taken
// after each feed as the daemon does. Every line is parsed as a request and as a reply.
// A request that parses is written again with request_line and must parse back to the
// same cmd and id; a reply that parses is written again with the builder of its kind
// and must parse back to the same kind, id and end. Fed whole and one byte at a time,
// the buffer must hand out the same lines unless one of the feedings overflowed.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/line_buffer.h"
#include "ctl/protocol.h"
#include "fuzz_check.h"

namespace {

using gb::ctl::LineBuffer;
using gb::ctl::Reply;

// Small, so that overlong lines are cheap to reach; gbd uses ctl::kMaxLine.
constexpr size_t kMaxLine = 4096;

struct Lines {
  std::vector<std::string> lines;
  bool overflowed = false;
};

Lines split(const std::vector<std::string_view>& pieces) {
  Lines out;
  LineBuffer buf(kMaxLine);
  std::string line;
  for (std::string_view p : pieces) {
    bool fed = buf.feed(p);
    FUZZ_CHECK(fed == !buf.overflowed());
    if (!fed) {
      break;
    }
    FUZZ_CHECK(buf.buffered() <= kMaxLine + p.size());
    while (buf.next(&line)) {
      FUZZ_CHECK(line.size() <= kMaxLine);
      FUZZ_CHECK(line.find('\n') == std::string::npos);
      out.lines.push_back(line);
    }
    if (buf.overflowed()) {
      FUZZ_CHECK(!buf.feed("x\n"));
      break;
    }
    FUZZ_CHECK(buf.buffered() <= kMaxLine);
  }
  out.overflowed = buf.overflowed();
  return out;
}

// One line: a single '\n', at its end.
void check_one_line(const std::string& line) {
  FUZZ_CHECK(!line.empty());
  FUZZ_CHECK(line.find('\n') == line.size() - 1);
}

void check_request(const std::string& line) {
  int64_t id = -1;
  auto req = gb::ctl::parse_request(line, &id);
  if (!req) {
    FUZZ_CHECK(req.error().code == gb::Errc::bad_request ||
               req.error().code == gb::Errc::version_unsupported);
    FUZZ_CHECK(!req.error().context.empty());
    return;
  }
  FUZZ_CHECK(id == req->id);
  FUZZ_CHECK(req->v == gb::ctl::kVersion);
  FUZZ_CHECK(req->args.IsObject());

  std::string again = gb::ctl::request_line(req->id, req->cmd, req->args);
  check_one_line(again);
  int64_t id2 = -1;
  auto req2 = gb::ctl::parse_request(std::string_view(again).substr(0, again.size() - 1), &id2);
  FUZZ_CHECK(req2.ok());
  FUZZ_CHECK(req2->cmd == req->cmd);
  FUZZ_CHECK(req2->id == req->id);
  FUZZ_CHECK(id2 == id);
  FUZZ_CHECK(req2->args.IsObject());
  FUZZ_CHECK(req2->args.MemberCount() == req->args.MemberCount());
}

void check_reply(const std::string& line) {
  auto r = gb::ctl::parse_reply(line);
  if (!r) {
    FUZZ_CHECK(r.error().code == gb::Errc::bad_request);
    return;
  }
  std::string again;
  switch (r->kind) {
    case Reply::event:
      FUZZ_CHECK(r->body != nullptr);
      FUZZ_CHECK(!r->end);
      again = gb::ctl::event_line(r->id, *r->body);
      break;
    case Reply::ok:
      again = r->end ? gb::ctl::end_line(r->id, r->body) : gb::ctl::ok_line(r->id, r->body);
      break;
    case Reply::error:
      FUZZ_CHECK(r->body != nullptr && r->body->IsObject());
      FUZZ_CHECK(!r->end);
      again = gb::ctl::error_line(r->id, gb::Errc::internal, r->message);
      break;
  }
  check_one_line(again);
  auto r2 = gb::ctl::parse_reply(again);
  FUZZ_CHECK(r2.ok());
  FUZZ_CHECK(r2->kind == r->kind);
  FUZZ_CHECK(r2->id == r->id);
  FUZZ_CHECK(r2->end == r->end);
  FUZZ_CHECK((r2->body == nullptr) == (r->body == nullptr));
  if (r->kind == Reply::error) {
    FUZZ_CHECK(r2->message == r->message);
    FUZZ_CHECK(r2->code == "internal");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  Feeds feeds = make_feeds(data, size);

  Lines halves = split(feeds.halves);
  for (const std::string& line : halves.lines) {
    check_request(line);
    check_reply(line);
  }

  Lines whole = split(feeds.whole);
  Lines bytes = split(feeds.bytes);
  if (!halves.overflowed && !whole.overflowed && !bytes.overflowed) {
    FUZZ_CHECK(whole.lines == halves.lines);
    FUZZ_CHECK(bytes.lines == halves.lines);
  }
  return 0;
}
