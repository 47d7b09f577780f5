// Integration test harness: runs the real gbd and gb-mock binaries on 127.0.0.1 (port 0)
// and talks to them over real sockets.
//
// Every wait has a deadline, so a hung server fails a test instead of hanging it. The
// output of every process started by a test is printed when that test fails.
#pragma once

#include <llhttp.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gbt {

using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

using Headers = std::vector<std::pair<std::string, std::string>>;

// HTTP header names compare case-insensitively.
bool same_header_name(std::string_view a, std::string_view b);
// `s` in lower case (ASCII).
std::string lowercase(std::string_view s);

// The client token every test config accepts, and the model the tests ask for.
inline constexpr std::string_view kToken = "sk-test-token-1";
inline constexpr std::string_view kModel = "gemini-2.5-flash";
inline constexpr std::string_view kPrompt =
    R"({"contents":[{"role":"user","parts":[{"text":"Hello"}]}]})";

// --- Processes (process.cc)

std::string read_file(const std::string& path);

// A fresh directory under /tmp, removed with its contents at the end of the test
// (kept when the environment variable GB_KEEP_TMP is set, for debugging).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const;
  // Writes `text` to `name` inside the directory; returns the full path.
  std::string write(std::string_view name, std::string_view text) const;

 private:
  std::string path_;
};

// A child process started with posix_spawn, stdin from /dev/null, stdout and stderr
// captured to <dir>/<name>.out and <dir>/<name>.err.
class Process {
 public:
  Process(const TempDir& dir, std::string name, std::vector<std::string> argv);
  ~Process();  // SIGKILL if still running; keeps the output for the failure report
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  std::string out_text() const;
  std::string err_text() const;
  std::string log_text() const { return err_text(); }

  // Polls stdout and stderr until a line matches `re`; returns the match and its groups
  // ([0] is the whole match), or nothing after `timeout`.
  std::optional<std::vector<std::string>> wait_for_line(const std::regex& re, Ms timeout);
  // Waits for the process to exit on its own: its exit status (128+N when killed by
  // signal N), or nothing after `timeout`.
  std::optional<int> wait_exit(Ms timeout);
  // SIGTERM, then waits; SIGKILL after `timeout`. Returns the exit status as wait_exit.
  int stop(Ms timeout = 5s);
  // VmRSS from /proc/PID/status, or -1.
  long rss_kib() const;

 private:
  std::string name_;
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct RunResult {
  int status = -1;  // as Process::wait_exit; -1 when it did not exit in time
  std::string out;
  std::string err;
};
// Runs a command to completion (killed after `timeout`).
RunResult run(const TempDir& dir, std::vector<std::string> argv, Ms timeout = 10s);

// --- HTTP client (http_client.cc)

// One HTTP response as the client saw it.
struct Response {
  int status = 0;  // 0: no status line arrived in time
  Headers headers;
  std::string body;       // with the chunked framing removed
  bool complete = false;  // the body ended as its framing says (not cut short)

  // First value of a header (case-insensitive name), or "".
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

// Builds "METHOD TARGET HTTP/1.1" with Host, the given headers and, when there is a body
// or the method is POST, a Content-Length.
std::string http_request(std::string_view method, std::string_view target,
                         const Headers& headers = {}, std::string_view body = {});

// A blocking HTTP/1.1 client on one connection to 127.0.0.1. Sends exact bytes and reads
// responses one at a time, so keep-alive and pipelining can be tested. Every read gives
// up after the timeout.
// Sends every byte on a socket within the timeout; false if the peer went away.
bool send_all(int fd, std::string_view bytes, Ms timeout);

class HttpClient {
 public:
  explicit HttpClient(uint16_t port, Ms timeout = 5s);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }

  // False when the bytes could not all be sent (peer gone).
  bool send(std::string_view bytes);
  // Reads one whole response (a 1xx counts as one). status 0 when none arrived in time.
  Response read_response();

  // Streaming: the status line and headers, then the body piece by piece.
  Response read_head();
  // The next decoded body bytes (at most about `max`); "" when the message is over, the
  // peer closed, or time ran out.
  std::string read_body(size_t max);
  bool message_done() const { return done_; }    // the body ended as framed
  bool peer_closed() const { return eof_; }      // EOF or reset from the peer
  bool timed_out() const { return timed_out_; }  // the last read ran out of time

  // Waits until the peer closes the connection, discarding anything it sends first.
  bool wait_closed(Ms timeout);
  void close();

 private:
  void start_message();
  bool fill(size_t max, Clock::time_point deadline);
  void parse(const char* data, size_t len);
  void finish();

  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  int fd_ = -1;
  Ms timeout_;
  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  std::string pending_;  // received bytes after the end of the last response
  Response cur_;
  bool in_value_ = false;
  bool head_done_ = false;
  bool done_ = false;
  bool eof_ = false;
  bool timed_out_ = false;
  bool broken_ = false;  // the parser rejected the response
};

// One request on a fresh connection.
Response fetch(uint16_t port, std::string_view method, std::string_view target,
               const Headers& headers = {}, std::string_view body = {}, Ms timeout = 5s);

// Response headers that describe the message rather than the connection: drops the
// hop-by-hop ones, the framing (Content-Length, Transfer-Encoding) and Date. Names are
// lowercased; the list is sorted.
Headers end_to_end_headers(const Headers& headers);

// --- gb-mock, gbd and shared checks (harness.cc)

// The value of `key` in a logfmt line (quotes removed), or "<absent>".
std::string logfmt_value(const std::string& line, std::string_view key);

// Counters of gb-mock, without the requests this harness made to read them.
struct MockStats {
  long connections = -1;
  long requests = -1;
  long open = -1;
};

// The last request gb-mock served (GET /_mock/last).
struct SeenRequest {
  std::string method;
  std::string target;
  Headers headers;
  std::string body;
  std::string api_key;
  std::string header(std::string_view name) const;  // first value, case-insensitive, or ""
  bool has_header(std::string_view name) const;
};

// gb-mock, our fake Gemini upstream, on 127.0.0.1:0 (TLS when a cert and key are given).
class Mock {
 public:
  explicit Mock(const TempDir& dir, const std::string& tls_cert = "",
                const std::string& tls_key = "");

  uint16_t port() const { return port_; }
  std::string url() const;  // http://127.0.0.1:PORT
  Process& process() { return process_; }

  // Introspection (plain HTTP mocks only).
  MockStats stats();
  SeenRequest last();
  void reset();
  // From now on `key` behaves as the scenario of key `as` ("" makes it itself again).
  void script(std::string_view key, std::string_view as);
  // Requests the mock received with `key`, in all or for one action ("models.get",
  // "generateContent", ...); 0 for a key it never saw, -1 when the stats are unreadable.
  long key_requests(std::string_view key, std::string_view action = "requests");
  // A request straight to the mock, with `key` in x-goog-api-key.
  Response fetch(std::string_view method, std::string_view target, std::string_view key,
                 const Headers& headers = {}, std::string_view body = {}, Ms timeout = 5s);

 private:
  std::string introspect(std::string_view method, std::string_view target);
  MockStats raw_stats();

  Process process_;
  uint16_t port_ = 0;
  long calls_ = 0;  // introspection requests made so far
  MockStats cost_;  // what one introspection request adds to the counters (0 or 1 each)
};

// What the tests vary in gbd's configuration; to_toml() writes the rest as in the
// contract, with short timeouts.
struct GbdConfig {
  std::vector<std::string> listen = {"127.0.0.1:0"};
  int workers = 2;
  std::string max_body = "1MiB";
  std::string max_header = "8KiB";
  int max_connections = 100;
  std::string header_timeout = "2s";
  std::string idle_timeout = "3s";
  std::string connect_timeout = "2s";
  std::string upstream_timeout = "5s";
  std::string stream_idle_timeout = "5s";
  std::string send_timeout = "60s";
  std::vector<std::string> tokens = {std::string(kToken)};
  std::string base_url;  // usually Mock::url()
  std::vector<std::string> keys = {"ok-1", "ok-2"};
  int max_retries = 3;
  int max_failures = 3;
  std::string cooldown = "30s";
  std::string ca_file;
  std::string extra;  // raw TOML appended at the end (inside [pool.gemini])
  std::string limits_extra;  // raw TOML inside [limits]

  std::string to_toml(const TempDir& dir) const;
};

// The default config with these pool keys.
GbdConfig with_keys(std::vector<std::string> keys);

// The gbd daemon, started with a config written into the temp dir; the constructor
// waits until it listens (REQUIRE fails the test otherwise).
class Gbd {
 public:
  Gbd(const TempDir& dir, const GbdConfig& config);
  Gbd(const TempDir& dir, const std::string& toml, std::vector<std::string> keys = {});

  uint16_t port() const { return port_; }
  Process& process() { return process_; }
  std::string log_text() const { return process_.err_text(); }
  int stop(Ms timeout = 5s) { return process_.stop(timeout); }

  // The lines with " ev=access " so far (GET /health has one too); wait_access waits
  // until there are `n`.
  std::vector<std::string> access_lines() const;
  bool wait_access(size_t n, Ms timeout = 5s) const;
  // attempts="..." of the n-th access line (0-based), waiting for it; "<absent>" if absent.
  std::string attempts(size_t n, Ms timeout = 5s) const;
  // The pool keys that occur whole in gbd's output (must stay empty).
  std::vector<std::string> keys_in_log() const;

  // A request through gbd on a fresh connection; the client token goes in
  // Authorization: Bearer unless the headers carry credentials already.
  Response fetch(std::string_view method, std::string_view target, Headers headers = {},
                 std::string_view body = {}, Ms timeout = 5s);
  // POST /v1beta/models/<kModel>:generateContent with kPrompt.
  Response generate(Headers headers = {});

 private:
  std::string config_path_;
  std::vector<std::string> keys_;
  Process process_;
  uint16_t port_ = 0;
};

// A mock upstream and a gbd whose pool points at it (unless config.base_url is set).
struct Rig {
  TempDir dir;
  Mock mock;
  Gbd gbd;
  explicit Rig(GbdConfig config = {});
};

// "/v1beta/models/<kModel>:<action>", e.g. model_path("streamGenerateContent?alt=sse").
std::string model_path(std::string_view action);

// Checks that a response is an error in Gemini's format:
// {"error":{"code":<code>,"message":"...","status":"<status>"}} (status checked when given).
void check_gemini_error(const Response& response, int code, std::string_view status = "");

// Key counts of one pool as GET /health reports them (-1 when absent).
struct KeyCounts {
  long active = -1;
  long cooling = -1;
  long disabled = -1;
};
KeyCounts health_counts(uint16_t gbd_port, std::string_view pool);

// The comma-separated pieces of an attempts trail, sorted (for when the order of keys
// is up to the pool's strategy).
std::vector<std::string> sorted_pieces(const std::string& trail);

// "<key id>:<outcome>" pieces joined by commas, as in the access line's attempts=.
std::string trail(const std::vector<std::pair<std::string, std::string>>& attempts);

// A TCP port on 127.0.0.1 that nobody listens on (bound, then closed).
uint16_t closed_port();

}  // namespace gbt
