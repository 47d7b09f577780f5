#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

namespace gb::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::atomic<bool> g_journal{false};

bool needs_quotes(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
      return true;
    }
  }
  return false;
}

void append_quoted(std::string& out, std::string_view v) {
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}
}  // namespace

bool parse_level(std::string_view s, Level* out) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {{"error", Level::error},
                                                                  {"warn", Level::warn},
                                                                  {"info", Level::info},
                                                                  {"debug", Level::debug}};
  for (auto& [name, l] : kNames) {
    if (s == name) {
      *out = l;
      return true;
    }
  }
  return false;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::error:
      return "error";
    case Level::warn:
      return "warn";
    case Level::info:
      return "info";
    case Level::debug:
      return "debug";
  }
  return "info";
}

void set_level(Level l) {
  g_level.store(static_cast<int>(l));
}
Level level() {
  return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}
void set_journal(bool on) {
  g_journal.store(on);
}

Line::Line(Level l, std::string_view event) : level_(l) {
  buf_.reserve(256);
  if (g_journal.load(std::memory_order_relaxed)) {
    // syslog priorities: err=3, warning=4, info=6, debug=7
    static constexpr const char* kPrio[] = {"<3>", "<4>", "<6>", "<7>"};
    buf_ += kPrio[static_cast<int>(l)];
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  ts.tv_nsec / 1000000);
    buf_ += stamp;
  }
  buf_ += "lvl=";
  buf_ += level_name(l);
  buf_ += " ev=";
  buf_ += event;
}

Line& Line::kv(std::string_view k, std::string_view v) {
  buf_ += ' ';
  buf_ += k;
  buf_ += '=';
  if (needs_quotes(v)) {
    append_quoted(buf_, v);
  } else {
    buf_ += v;
  }
  return *this;
}

Line& Line::kv_int(std::string_view k, long long v) {
  return kv(k, std::string_view(std::to_string(v)));
}
Line& Line::kv_uint(std::string_view k, unsigned long long v) {
  return kv(k, std::string_view(std::to_string(v)));
}

Line& Line::kv(std::string_view k, double v) {
  char tmp[32];
  std::snprintf(tmp, sizeof tmp, "%.3f", v);
  return kv(k, std::string_view(tmp));
}

Line::~Line() {
  buf_ += '\n';
  // One write(2) per line keeps lines from different threads whole.
  const char* p = buf_.data();
  size_t left = buf_.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) {
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  (void)level_;
}

}  // namespace gb::log
