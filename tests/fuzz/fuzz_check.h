// FUZZ_CHECK: an invariant that holds in every build type (assert() is gone under
// NDEBUG). A failure prints what broke and aborts, which libFuzzer reports as a crash
// and saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
