// UsageScanner (lib/proxy/usage.h) on arbitrary upstream answers.
//
// Input: byte 0 picks a split point, the rest is the answer. It is fed whole, in two pieces
// at that point, and one byte at a time: the network cuts answers anywhere, so all three
// must report the same usage. Memory stays within kMaxObjectBytes after every feed, and
// counts are never negative.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "proxy/usage.h"

namespace {

using gb::proxy::Usage;
using gb::proxy::UsageScanner;

Usage scan(const std::vector<std::string_view>& pieces) {
  UsageScanner s;
  for (std::string_view p : pieces) {
    s.feed(p);
    FUZZ_CHECK(s.buffered() <= UsageScanner::kMaxObjectBytes);
  }
  Usage u = s.result();
  FUZZ_CHECK(u.prompt >= 0 && u.candidates >= 0 && u.thoughts >= 0 && u.cached >= 0 &&
             u.total >= 0);
  FUZZ_CHECK(u.found || u == Usage{});
  return u;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  Feeds f = make_feeds(data, size);
  Usage whole = scan(f.whole);
  FUZZ_CHECK(scan(f.halves) == whole);
  FUZZ_CHECK(scan(f.bytes) == whole);
  return 0;
}
