// FUZZ_CHECK: an invariant that holds in every build type (assert() is gone under
// NDEBUG). A failure prints what broke and aborts, which libFuzzer reports as a crash
// and saves the input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

// The three ways a stream target feeds its input: whole, cut in two where the first
// byte says, and one byte at a time. data[0] chooses the cut; the stream is the rest.
struct Feeds {
  std::string_view stream;
  std::vector<std::string_view> whole, halves, bytes;
};

inline Feeds make_feeds(const uint8_t* data, size_t size) {
  Feeds f;
  f.stream = std::string_view(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t split = static_cast<size_t>(data[0]) * f.stream.size() / 255;
  f.whole = {f.stream};
  f.halves = {f.stream.substr(0, split), f.stream.substr(split)};
  f.bytes.reserve(f.stream.size());
  for (size_t i = 0; i < f.stream.size(); ++i) {
    f.bytes.push_back(f.stream.substr(i, 1));
  }
  return f;
}
