// JsonArraySplitter (lib/sse) on arbitrary bytes.
//
// Input: byte 0 picks a split point (and, with its high bit, a small element limit);
// the rest is the body. Fed whole, in two pieces and one byte at a time, the splitter
// must hand out the same elements and end in the same state. When the body is a valid
// JSON array (or a bare object, which the splitter takes as a one-element stream), it
// must finish and hand out exactly the array's elements, each of which parses alone.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "sse/json_array_splitter.h"

namespace {

using gb::sse::JsonArraySplitter;
using gb::sse::Status;

// Iterative: deep nesting in a fuzz input must not overflow the harness's own stack.
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag;
// Writing a value back out recurses once per level; nesting is at most the input size.
constexpr size_t kMaxCompared = 8192;

// Parses text without NUL bytes. Through a StringStream, not Parse(data, size): that
// one skips any leading 0xEF, 0xBB and 0xBF bytes as a byte order mark, which JSON
// parsers may refuse (RFC 8259 §8.1) and the splitter does.
void parse(std::string_view text, rapidjson::Document* doc) {
  std::string copy(text);
  rapidjson::StringStream in(copy.c_str());
  doc->ParseStream<kParseFlags>(in);
}

// Compact text of a value. Values are compared this way, not with ==, which looks up
// object members by name and so calls an object with a repeated name unequal to itself.
std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

struct Run {
  std::vector<std::string> elements;
  Status status = Status::ok;
  bool finished = false;
};

Run split_pieces(const std::vector<std::string_view>& pieces, size_t limit) {
  Run run;
  JsonArraySplitter splitter(limit);
  auto on_element = [&](std::string_view e) {
    FUZZ_CHECK(!e.empty());
    FUZZ_CHECK(e.size() <= limit);
    FUZZ_CHECK(!run.finished);
    run.elements.emplace_back(e);
  };
  for (std::string_view p : pieces) {
    Status s = splitter.feed(p, on_element);
    if (run.status != Status::ok) {
      FUZZ_CHECK(s == run.status);  // errors are final
    }
    run.status = s;
    run.finished = splitter.finished();
  }
  if (run.status != Status::ok) {
    FUZZ_CHECK(!run.finished);
  }
  return run;
}

void check_same(const Run& a, const Run& b) {
  FUZZ_CHECK(a.elements == b.elements);
  FUZZ_CHECK(a.status == b.status);
  FUZZ_CHECK(a.finished == b.finished);
}

// The elements must be the array's (or the bare object itself), each valid on its own.
void check_against_json(std::string_view body, const Run& run) {
  // rapidjson stops at a NUL byte and takes what came before it for the document.
  if (body.find('\0') != std::string_view::npos || body.size() > kMaxCompared) {
    return;
  }
  rapidjson::Document doc;
  parse(body, &doc);
  if (doc.HasParseError() || !(doc.IsArray() || doc.IsObject())) {
    return;
  }
  FUZZ_CHECK(run.status == Status::ok);
  FUZZ_CHECK(run.finished);
  size_t expected = doc.IsArray() ? doc.Size() : 1;
  FUZZ_CHECK(run.elements.size() == expected);
  for (size_t i = 0; i < run.elements.size(); ++i) {
    rapidjson::Document el;
    parse(run.elements[i], &el);
    FUZZ_CHECK(!el.HasParseError());
    const rapidjson::Value& want = doc.IsArray() ? doc[static_cast<rapidjson::SizeType>(i)]
                                                 : static_cast<const rapidjson::Value&>(doc);
    FUZZ_CHECK(compact(el) == compact(want));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  Feeds feeds = make_feeds(data, size);
  std::string_view body = feeds.stream;
  const std::vector<std::string_view>& whole = feeds.whole;
  const std::vector<std::string_view>& halves = feeds.halves;
  const std::vector<std::string_view>& bytes = feeds.bytes;

  // An element over the limit fails at its end when fed whole and at a piece's end when
  // split: the status and the elements handed out before it are the same either way.
  size_t limit = (data[0] & 0x80) != 0 ? 1 + (data[0] & 0x3f) : 16u << 20;
  Run r_whole = split_pieces(whole, limit);
  check_same(r_whole, split_pieces(halves, limit));
  check_same(r_whole, split_pieces(bytes, limit));
  if ((data[0] & 0x80) == 0) {
    check_against_json(body, r_whole);
  }
  return 0;
}
