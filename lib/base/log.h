// Logging: one event per line, logfmt, event name first.
//   lvl=warn ev=upstream.error sid=9f2c pool=gemini key=3fa9c2d1 err=read_timeout
// Lines go to stderr with a timestamp, or with a <N> priority prefix and no timestamp
// when running under systemd (the journal stamps lines itself).
// Secrets never reach a log: callers pass key ids or masks, never keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace gb::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

bool parse_level(std::string_view s, Level* out);
const char* level_name(Level l);

// Process-wide settings, set once at startup (and on reload for the level).
void set_level(Level l);
Level level();
void set_journal(bool on);  // <N> prefixes, no timestamp

inline bool enabled(Level l) {
  return static_cast<int>(l) <= static_cast<int>(level());
}

// Builds one logfmt line; values are quoted when they need to be.
class Line {
 public:
  Line(Level l, std::string_view event);
  Line& kv(std::string_view k, std::string_view v);
  Line& kv(std::string_view k, const char* v) { return kv(k, std::string_view(v ? v : "")); }
  Line& kv(std::string_view k, const std::string& v) { return kv(k, std::string_view(v)); }
  Line& kv(std::string_view k, bool v) { return kv(k, std::string_view(v ? "yes" : "no")); }
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) Line& kv(std::string_view k, T v) {
    if constexpr (std::is_signed_v<T>) {
      return kv_int(k, static_cast<long long>(v));
    } else {
      return kv_uint(k, static_cast<unsigned long long>(v));
    }
  }
  Line& kv(std::string_view k, double v);
  ~Line();  // writes the line with one write(2)

 private:
  Line& kv_int(std::string_view k, long long v);
  Line& kv_uint(std::string_view k, unsigned long long v);
  Level level_;
  std::string buf_;
};

}  // namespace gb::log

#define GB_LOG(lvl, ev)           \
  if (!::gb::log::enabled(lvl)) { \
  } else                          \
    ::gb::log::Line(lvl, ev)

#define LOG_ERROR(ev) GB_LOG(::gb::log::Level::error, ev)
#define LOG_WARN(ev) GB_LOG(::gb::log::Level::warn, ev)
#define LOG_INFO(ev) GB_LOG(::gb::log::Level::info, ev)
#define LOG_DEBUG(ev) GB_LOG(::gb::log::Level::debug, ev)
