#include "base/units.h"

#include <limits>

namespace gb {

namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Durations in milliseconds, largest first so formatting can pick the first exact one.
constexpr Unit kDurationUnits[] = {
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1},
};

constexpr Unit kBinaryUnits[] = {
    {"TiB", 1024 * kGiB},
    {"GiB", kGiB},
    {"MiB", kMiB},
    {"KiB", kKiB},
};

constexpr Unit kDecimalUnits[] = {
    {"TB", 1'000'000'000'000},
    {"GB", 1'000'000'000},
    {"MB", 1'000'000},
    {"KB", 1'000},
    {"kB", 1'000},
};

// Splits "123unit" into its number and unit. False when there are no digits or the
// number overflows uint64_t.
bool split_number(std::string_view s, uint64_t* number, std::string_view* unit) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return false;
    }
    n = n * 10 + digit;
    ++i;
  }
  if (i == 0) {
    return false;
  }
  *number = n;
  *unit = s.substr(i);
  return true;
}

template <size_t N>
const Unit* find_unit(const Unit (&units)[N], std::string_view name) {
  for (const Unit& u : units) {
    if (u.name == name) {
      return &u;
    }
  }
  return nullptr;
}

bool multiply(uint64_t n, uint64_t factor, uint64_t limit, uint64_t* out) {
  if (factor != 0 && n > limit / factor) {
    return false;
  }
  *out = n * factor;
  return true;
}

}  // namespace

bool parse_duration(std::string_view s, Duration* out) {
  uint64_t n = 0;
  std::string_view unit;
  if (!split_number(s, &n, &unit)) {
    return false;
  }
  const Unit* u = find_unit(kDurationUnits, unit);
  if (u == nullptr) {
    return false;
  }
  uint64_t ms = 0;
  auto limit = static_cast<uint64_t>(std::numeric_limits<Duration::rep>::max());
  if (!multiply(n, u->factor, limit, &ms)) {
    return false;
  }
  *out = Duration(static_cast<Duration::rep>(ms));
  return true;
}

bool parse_size(std::string_view s, uint64_t* out) {
  uint64_t n = 0;
  std::string_view unit;
  if (!split_number(s, &n, &unit)) {
    return false;
  }
  if (unit.empty() || unit == "B") {
    *out = n;
    return true;
  }
  const Unit* u = find_unit(kBinaryUnits, unit);
  if (u == nullptr) {
    u = find_unit(kDecimalUnits, unit);
  }
  if (u == nullptr) {
    return false;
  }
  return multiply(n, u->factor, std::numeric_limits<uint64_t>::max(), out);
}

std::string format_duration(Duration d) {
  Duration::rep ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  std::string sign;
  uint64_t magnitude = 0;
  if (ms < 0) {
    sign = "-";
    // Written this way so the most negative value does not overflow on negation.
    magnitude = static_cast<uint64_t>(-(ms + 1)) + 1;
  } else {
    magnitude = static_cast<uint64_t>(ms);
  }
  for (const Unit& u : kDurationUnits) {
    if (magnitude % u.factor == 0) {
      return sign + std::to_string(magnitude / u.factor) + std::string(u.name);
    }
  }
  return sign + std::to_string(magnitude) + "ms";  // unreachable: the ms factor is 1
}

std::string format_size(uint64_t bytes) {
  if (bytes == 0) {
    return "0B";
  }
  for (const Unit& u : kBinaryUnits) {
    if (bytes % u.factor == 0) {
      return std::to_string(bytes / u.factor) + std::string(u.name);
    }
  }
  for (const Unit& u : kDecimalUnits) {
    if (bytes % u.factor == 0) {
      return std::to_string(bytes / u.factor) + std::string(u.name);
    }
  }
  return std::to_string(bytes) + "B";
}

}  // namespace gb
