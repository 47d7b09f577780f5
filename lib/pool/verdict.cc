#include "pool/verdict.h"

#include <rapidjson/document.h>

#include <cstdint>

namespace gb::pool {

namespace {

using std::chrono::system_clock;

constexpr int64_t kMaxDelayMs = 24 * 3600 * 1000;  // longer asks are capped, not trusted

// The parts of a Gemini error body (WIRE §2.1) that decide what happens to the key.
struct ErrorBody {
  std::string status;   // error.status, e.g. "RESOURCE_EXHAUSTED"
  std::string message;  // error.message
  std::string reason;   // ErrorInfo.reason, e.g. "API_KEY_INVALID"
  bool per_day = false;
  std::optional<Duration> retry_delay;

  // A Google error we could read: it says what it is about. A body without one (junk,
  // an HTML page from a proxy, a truncated body) tells nothing beyond the status.
  bool readable() const { return !status.empty() || !message.empty() || !reason.empty(); }
};

std::string string_member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) {
    return {};
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// WIRE §2.3: a per-day quota is told by its quotaId ("…PerDay…"); the metric
// ("…_per_day") says the same where a front end leaves the id out.
bool has_per_day_violation(const rapidjson::Value& detail) {
  auto it = detail.FindMember("violations");
  if (it == detail.MemberEnd() || !it->value.IsArray()) {
    return false;
  }
  for (const auto& v : it->value.GetArray()) {
    if (v.IsObject() && (contains(string_member(v, "quotaId"), "PerDay") ||
                         ends_with(string_member(v, "quotaMetric"), "_per_day"))) {
      return true;
    }
  }
  return false;
}

void read_detail(const rapidjson::Value& detail, ErrorBody* out) {
  if (!detail.IsObject()) {
    return;
  }
  std::string type = string_member(detail, "@type");
  if (ends_with(type, ".ErrorInfo") && out->reason.empty()) {
    out->reason = string_member(detail, "reason");
  } else if (ends_with(type, ".QuotaFailure")) {
    out->per_day = out->per_day || has_per_day_violation(detail);
  } else if (ends_with(type, ".RetryInfo")) {
    if (auto d = parse_proto_duration(string_member(detail, "retryDelay"))) {
      out->retry_delay = d;
    }
  }
}

// Unwraps `{"error": …}` or `[{"error": …}]`; anything else yields an empty ErrorBody.
ErrorBody parse_error_body(std::string_view body) {
  ErrorBody out;
  rapidjson::Document doc;
  // Iterative: an upstream body of deeply nested brackets must not exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    return out;
  }
  const rapidjson::Value* root = &doc;
  if (root->IsArray() && !root->Empty()) {
    root = &(*root)[0];
  }
  if (!root->IsObject()) {
    return out;
  }
  auto err = root->FindMember("error");
  if (err == root->MemberEnd() || !err->value.IsObject()) {
    return out;
  }
  out.status = string_member(err->value, "status");
  out.message = string_member(err->value, "message");
  auto details = err->value.FindMember("details");
  if (details != err->value.MemberEnd() && details->value.IsArray()) {
    for (const auto& d : details->value.GetArray()) {
      read_detail(d, &out);
    }
  }
  return out;
}

// Upstream text becomes a log word only if it looks like one.
bool is_machine_word(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string http_word(int status) {
  return "http_" + std::to_string(status);
}

// ErrorInfo reasons (google.api.ErrorReason) that are about the caller's credentials or
// project: every request made with this key gets the same answer.
bool is_key_reason(std::string_view r) {
  static constexpr std::string_view kKeyReasons[] = {
      "CONSUMER_SUSPENDED",   "CONSUMER_INVALID",
      "SERVICE_DISABLED",     "BILLING_DISABLED",
      "USER_PROJECT_DENIED",  "GCP_SUSPENDED",
      "CREDENTIALS_MISSING",  "ACCOUNT_STATE_INVALID",
      "ACCESS_TOKEN_EXPIRED", "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
      "SERVICE_NOT_VISIBLE",  "ACCESS_TOKEN_TYPE_UNSUPPORTED",
  };
  if (starts_with(r, "API_KEY_")) {  // API_KEY_INVALID, _EXPIRED, _SERVICE_BLOCKED, ...
    return true;
  }
  for (std::string_view k : kKeyReasons) {
    if (r == k) {
      return true;
    }
  }
  return false;
}

// Messages Google sends about a key, some without any ErrorInfo (WIRE §2.2). Matched at
// the start of the message only: messages about a request quote the client's words
// later on (`Invalid JSON payload received. Unknown name "API key not valid"…`), and a
// client must not be able to get keys disabled by choosing its field names.
struct KeyMessage {
  std::string_view prefix;
  const char* reason;  // nullptr: the error's status word says it
};
constexpr KeyMessage kKeyMessages[] = {
    {"API key not valid", "API_KEY_INVALID"},
    {"API key expired", "API_KEY_EXPIRED"},
    {"Your API key was reported as leaked", "API_KEY_LEAKED"},
    {"Method doesn't allow unregistered callers", nullptr},
    {"Permission denied: Consumer '", nullptr},
    {"Requests to this API ", "API_KEY_SERVICE_BLOCKED"},
    {"Generative Language API has not been used in project", "SERVICE_DISABLED"},
};

const KeyMessage* key_message(std::string_view message) {
  for (const KeyMessage& m : kKeyMessages) {
    if (starts_with(message, m.prefix)) {
      return &m;
    }
  }
  return nullptr;
}

// The body says the key itself is refused (not the request).
bool names_key(const ErrorBody& e) {
  return is_key_reason(e.reason) || key_message(e.message) != nullptr;
}

// 403 is the subtle row of DESIGN §6. Most Gemini 403s are about the key: leaked,
// suspended, blocked for the API, its project without the API, or no key at all. But a
// 403 can also refuse what the request names, whatever the key: a cachedContents, file
// or tuned model of another project ("Permission denied on resource …", "You do not have
// permission to access …"). Disabling the key there would let one client disable the
// whole pool, one retry at a time, with a request that fails on every key anyway; so such
// a 403 goes back to the client and leaves the key alone. What decides is a Google error
// body that names no key problem; a 403 that mentions an API key anywhere in its message
// is taken as about the key (403 messages quote resource names, which have no spaces, so
// a client cannot put those words there; a new wording of a key problem is still caught),
// and a 403 whose body cannot be read keeps the table's default and disables the key.
bool is_key_403(const ErrorBody& e) {
  return names_key(e) || contains(e.message, "API key") || !e.readable();
}

std::string invalid_reason(int status, const ErrorBody& e) {
  if (is_machine_word(e.reason)) {
    return e.reason;
  }
  if (const KeyMessage* m = key_message(e.message); m != nullptr && m->reason != nullptr) {
    return m->reason;
  }
  if (is_machine_word(e.status)) {
    return e.status;
  }
  return http_word(status);
}

Verdict make(Outcome o, bool retry, std::string reason) {
  Verdict v;
  v.outcome = o;
  v.retry = retry;
  v.reason = std::move(reason);
  return v;
}

// Statuses 400-599 with their (possibly empty) error body.
Verdict classify_error(int status, const ErrorBody& e) {
  if (status == 429 || e.status == "RESOURCE_EXHAUSTED") {
    Verdict v = make(Outcome::rate_limited, true, "rate_limited");
    v.per_day = e.per_day;
    return v;
  }
  bool key_refused =
      status == 401 || (status == 403 && is_key_403(e)) || (status == 400 && names_key(e));
  if (key_refused) {
    return make(Outcome::invalid, true, invalid_reason(status, e));
  }
  if (status < 500) {
    return make(Outcome::client_error, false, http_word(status));
  }
  return make(Outcome::failed, true, http_word(status));
}

std::optional<int64_t> parse_digits(std::string_view s, size_t max_digits) {
  if (s.empty() || s.size() > max_digits) {
    return std::nullopt;
  }
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    n = n * 10 + (c - '0');
  }
  return n;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

Duration capped_ms(int64_t ms) {
  return Duration(ms < kMaxDelayMs ? ms : kMaxDelayMs);
}

// ---------------------------------------------------------------- HTTP-date (RFC 9110 §5.6.7)

constexpr std::string_view kDayNames[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::string_view kLongDayNames[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                              "Friday", "Saturday", "Sunday"};
constexpr std::string_view kMonthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool equal_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) {
      return false;
    }
  }
  return true;
}

// Reads a fixed-layout date left to right; any mismatch makes ok() false for good.
class DateReader {
 public:
  explicit DateReader(std::string_view s) : s_(s) {}

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && pos_ == s_.size(); }

  void literal(std::string_view t) {
    ok_ = ok_ && s_.substr(pos_, t.size()) == t;
    pos_ += ok_ ? t.size() : 0;
  }
  // Exactly n digits.
  int number(size_t n) {
    auto v = ok_ && pos_ + n <= s_.size() ? parse_digits(s_.substr(pos_, n), n) : std::nullopt;
    ok_ = v.has_value();
    pos_ += ok_ ? n : 0;
    return ok_ ? static_cast<int>(*v) : 0;
  }
  // One of `names` (names are matched without regard to case, as robustness asks); returns
  // its index.
  template <size_t N>
  int name(const std::string_view (&names)[N]) {
    for (size_t i = 0; ok_ && i < N; ++i) {
      if (equal_nocase(s_.substr(pos_, names[i].size()), names[i])) {
        pos_ += names[i].size();
        return static_cast<int>(i);
      }
    }
    ok_ = false;
    return 0;
  }
  // hour ":" minute ":" second, in range (60 is a leap second).
  void time_of_day(int* h, int* m, int* sec) {
    *h = number(2);
    literal(":");
    *m = number(2);
    literal(":");
    *sec = number(2);
    ok_ = ok_ && *h <= 23 && *m <= 59 && *sec <= 60;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  bool ok_ = true;
};

struct DateParts {
  int year = 0;
  int month = 0;  // 0-11
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool read_imf_fixdate(std::string_view s, DateParts* d) {
  DateReader r(s);
  r.name(kDayNames);
  r.literal(", ");
  d->day = r.number(2);
  r.literal(" ");
  d->month = r.name(kMonthNames);
  r.literal(" ");
  d->year = r.number(4);
  r.literal(" ");
  r.time_of_day(&d->hour, &d->minute, &d->second);
  r.literal(" GMT");
  return r.at_end();
}

// "Sunday, 06-Nov-94 08:49:37 GMT"; the century comes from `now_year`.
bool read_rfc850_date(std::string_view s, int now_year, DateParts* d) {
  DateReader r(s);
  r.name(kLongDayNames);
  r.literal(", ");
  d->day = r.number(2);
  r.literal("-");
  d->month = r.name(kMonthNames);
  r.literal("-");
  int yy = r.number(2);
  r.literal(" ");
  r.time_of_day(&d->hour, &d->minute, &d->second);
  r.literal(" GMT");
  // RFC 9110: a year more than 50 years ahead is the most recent past one with those
  // digits; symmetrically, one 50 or more years back is taken from the next century.
  d->year = now_year / 100 * 100 + yy;
  if (d->year > now_year + 50) {
    d->year -= 100;
  } else if (d->year <= now_year - 50) {
    d->year += 100;
  }
  return r.at_end();
}

// "Sun Nov  6 08:49:37 1994" (a one-digit day is padded with a space)
bool read_asctime_date(std::string_view s, DateParts* d) {
  DateReader r(s);
  r.name(kDayNames);
  r.literal(" ");
  d->month = r.name(kMonthNames);
  r.literal(" ");
  if (s.size() > 8 && s[8] == ' ') {
    r.literal(" ");
    d->day = r.number(1);
  } else {
    d->day = r.number(2);
  }
  r.literal(" ");
  r.time_of_day(&d->hour, &d->minute, &d->second);
  r.literal(" ");
  d->year = r.number(4);
  return r.at_end();
}

// The date as seconds since the epoch, or nullopt for an impossible one (30 Feb). The
// weekday is not checked against the date, as most recipients do not.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view s,
                                                        system_clock::time_point now) {
  using namespace std::chrono;
  DateParts d;
  bool read = false;
  if (s.size() > 3 && s[3] == ',') {
    read = read_imf_fixdate(s, &d);
  } else if (s.size() > 3 && s[3] == ' ') {
    read = read_asctime_date(s, &d);
  } else {
    int now_year = static_cast<int>(year_month_day(floor<days>(now)).year());
    read = read_rfc850_date(s, now_year, &d);
  }
  if (!read) {
    return std::nullopt;
  }
  year_month_day ymd{year(d.year), month(static_cast<unsigned>(d.month + 1)),
                     day(static_cast<unsigned>(d.day))};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  return sys_days(ymd) + hours(d.hour) + minutes(d.minute) + seconds(d.second);
}

// From `now` to `when`: zero if already past, capped at a day. Compared in whole seconds
// first, so that a date centuries away cannot overflow the clock's nanoseconds.
Duration delay_until(std::chrono::sys_seconds when, system_clock::time_point now) {
  using namespace std::chrono;
  auto ahead = when - floor<seconds>(now);
  if (ahead <= seconds(0)) {
    return Duration(0);
  }
  if (ahead > hours(24) + seconds(1)) {
    return Duration(kMaxDelayMs);
  }
  auto exact = ceil<Duration>(time_point_cast<system_clock::duration>(when) - now);
  return capped_ms(exact.count() > 0 ? exact.count() : 0);
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::success:
      return "success";
    case Outcome::rate_limited:
      return "rate_limited";
    case Outcome::invalid:
      return "invalid";
    case Outcome::failed:
      return "failed";
    case Outcome::client_error:
      return "client_error";
    case Outcome::cancelled:
      return "cancelled";
  }
  return "failed";
}

std::optional<Duration> parse_proto_duration(std::string_view s) {
  if (s.size() < 2 || s.back() != 's') {
    return std::nullopt;
  }
  s.remove_suffix(1);
  size_t dot = s.find('.');
  // 12 digits of seconds is far beyond the cap and far below int64 overflow.
  auto secs = parse_digits(s.substr(0, dot), 12);
  if (!secs) {
    return std::nullopt;
  }
  int64_t nanos = 0;
  if (dot != std::string_view::npos) {
    std::string_view frac = s.substr(dot + 1);
    auto f = parse_digits(frac, 9);
    if (!f) {
      return std::nullopt;
    }
    nanos = *f;
    for (size_t i = frac.size(); i < 9; ++i) {
      nanos *= 10;
    }
  }
  // Round up: waiting a hair too long is harmless, retrying a hair early is another 429.
  return capped_ms(*secs * 1000 + (nanos + 999999) / 1000000);
}

std::optional<Duration> parse_retry_after(std::string_view s, system_clock::time_point now) {
  s = trim_blanks(s);
  if (all_digits(s)) {
    // More digits than int64 holds is still "a very long time": the cap.
    auto secs = parse_digits(s, 12);
    return secs ? capped_ms(*secs * 1000) : Duration(kMaxDelayMs);
  }
  if (auto when = parse_http_date(s, now)) {
    return delay_until(*when, now);
  }
  return std::nullopt;
}

Verdict classify_response(int status, std::string_view body, std::string_view retry_after_header,
                          system_clock::time_point now) {
  if (status >= 200 && status < 300) {
    return make(Outcome::success, false, "ok");
  }
  if (status < 400 || status > 599) {
    // A final 1xx, a 3xx (we never ask for a redirect), or no HTTP status at all: no
    // Gemini front end answers so, whatever the key; fail over like a broken answer.
    return make(Outcome::failed, true, errc_name(Errc::bad_upstream_response));
  }
  ErrorBody e = parse_error_body(body);
  Verdict v = classify_error(status, e);
  v.retry_after = e.retry_delay ? e.retry_delay : parse_retry_after(retry_after_header, now);
  return v;
}

Verdict classify_transport(Errc code) {
  if (code == Errc::client_gone) {
    return make(Outcome::cancelled, false, errc_name(code));
  }
  return make(Outcome::failed, true, errc_name(code));
}

}  // namespace gb::pool
