// Durations and sizes as people write them in gbd.toml: "250ms", "10s", "30d", "64KiB".
// Parsing is strict on purpose: integers only, a unit always required for durations,
// no signs, no spaces. A typo in a timeout must be an error, not a surprise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace gb {

using Duration = std::chrono::milliseconds;

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;

// Accepts DIGITS followed by one of ms, s, m, h, d ("0s" is fine). Rejects an empty
// string, a missing or unknown unit, a sign, fractions, and values whose millisecond
// count does not fit in Duration. Leaves *out untouched on failure.
bool parse_duration(std::string_view s, Duration* out);

// Accepts DIGITS with an optional unit: B, KiB, MiB, GiB, TiB (powers of 1024) or
// KB/kB, MB, GB, TB (powers of 1000). Rejects junk and values above UINT64_MAX.
// Leaves *out untouched on failure.
bool parse_size(std::string_view s, uint64_t* out);

// The largest unit that expresses the value exactly: "30s", "1h", "250ms", "0s".
// parse_duration(format_duration(d)) == d for every non-negative d.
std::string format_duration(Duration d);

// The largest binary unit that is exact ("32MiB"), else the largest exact decimal
// unit ("5MB"), else bytes ("1001B"). Round-trips through parse_size.
std::string format_size(uint64_t bytes);

}  // namespace gb
