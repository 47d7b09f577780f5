#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <rapidjson/document.h>

#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include "base/key_id.h"

extern char** environ;

namespace gbt {
namespace {

// Output of the processes a test started, printed if the test fails.
std::vector<std::string>& saved_output() {
  static std::vector<std::string> output;
  return output;
}

std::string tail(const std::string& text, size_t max) {
  return text.size() <= max ? text : "[...]\n" + text.substr(text.size() - max);
}

class OutputOnFailure : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo&) override { saved_output().clear(); }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    if (stats.totals.assertions.failed > 0) {
      for (const auto& text : saved_output()) {
        std::cout << text;
      }
    }
    saved_output().clear();
  }
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool same_name(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

int decode_status(int raw) {
  if (WIFEXITED(raw)) {
    return WEXITSTATUS(raw);
  }
  return 128 + WTERMSIG(raw);
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string toml_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i ? ", " : "") + quote(items[i]);
  }
  return out + "]";
}

bool has_credentials(const Headers& headers, std::string_view target) {
  for (const auto& [name, value] : headers) {
    if (same_name(name, "authorization") || same_name(name, "x-goog-api-key") ||
        same_name(name, "x-api-key")) {
      return true;
    }
  }
  return target.find("key=") != std::string_view::npos;
}

std::string json_string(const rapidjson::Value& obj, const char* name) {
  if (obj.IsObject() && obj.HasMember(name) && obj[name].IsString()) {
    return {obj[name].GetString(), obj[name].GetStringLength()};
  }
  return {};
}

long json_long(const rapidjson::Value& obj, const char* name) {
  if (obj.IsObject() && obj.HasMember(name) && obj[name].IsNumber()) {
    return static_cast<long>(obj[name].GetDouble());
  }
  return -1;
}

}  // namespace

CATCH_REGISTER_LISTENER(OutputOnFailure)

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- TempDir

TempDir::TempDir() {
  std::string pattern = "/tmp/gbd-it-XXXXXX";
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("GB_KEEP_TMP") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
}

std::string TempDir::file(std::string_view name) const { return path_ + "/" + std::string(name); }

std::string TempDir::write(std::string_view name, std::string_view text) const {
  std::string path = file(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return path;
}

// --- Process

Process::Process(const TempDir& dir, std::string name, std::vector<std::string> argv)
    : name_(std::move(name)), out_path_(dir.file(name_ + ".out")),
      err_path_(dir.file(name_ + ".err")) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (auto& arg : argv) {
    args.push_back(arg.data());
  }
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  INFO("spawning " << argv[0]);
  REQUIRE(rc == 0);
}

Process::~Process() {
  if (running()) {
    kill(pid_, SIGKILL);
    int raw = 0;
    waitpid(pid_, &raw, 0);
  }
  saved_output().push_back("----- " + name_ + " stdout:\n" + tail(out_text(), 4000) + "----- " +
                           name_ + " stderr:\n" + tail(err_text(), 12000) + "\n");
}

bool Process::running() {
  if (status_ || pid_ <= 0) {
    return false;
  }
  int raw = 0;
  if (waitpid(pid_, &raw, WNOHANG) == pid_) {
    status_ = decode_status(raw);
    return false;
  }
  return true;
}

std::string Process::out_text() const { return read_file(out_path_); }
std::string Process::err_text() const { return read_file(err_path_); }

std::optional<std::vector<std::string>> Process::wait_for_line(const std::regex& re,
                                                               Ms timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    for (const std::string& text : {out_text(), err_text()}) {
      std::istringstream lines(text);
      std::string line;
      std::smatch m;
      while (std::getline(lines, line)) {
        if (std::regex_search(line, m, re)) {
          return std::vector<std::string>(m.begin(), m.end());
        }
      }
    }
    if (Clock::now() > deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(20ms);
  }
}

std::optional<int> Process::wait_exit(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() > deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(10ms);
  }
  return status_;
}

int Process::stop(Ms timeout) {
  if (running()) {
    kill(pid_, SIGTERM);
  }
  if (auto status = wait_exit(timeout)) {
    return *status;
  }
  kill(pid_, SIGKILL);
  int raw = 0;
  waitpid(pid_, &raw, 0);
  status_ = decode_status(raw);
  return *status_;
}

long Process::rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

RunResult run(const TempDir& dir, std::vector<std::string> argv, Ms timeout) {
  static int counter = 0;
  Process process(dir, "run" + std::to_string(++counter), std::move(argv));
  RunResult result;
  result.status = process.wait_exit(timeout).value_or(-1);
  result.out = process.out_text();
  result.err = process.err_text();
  return result;
}

// --- HTTP

std::string Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (same_name(n, name)) {
      return v;
    }
  }
  return {};
}

bool Response::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return same_name(h.first, name); });
}

std::string http_request(std::string_view method, std::string_view target,
                         const Headers& headers, std::string_view body) {
  std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
  out += "Host: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) {
    out += name + ": " + value + "\r\n";
  }
  if (!body.empty() || method == "POST") {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

HttpClient::HttpClient(uint16_t port, Ms timeout) : timeout_(timeout) {
  llhttp_settings_init(&settings_);
  settings_.on_header_field = on_header_field;
  settings_.on_header_value = on_header_value;
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_body = on_body;
  settings_.on_message_complete = on_message_complete;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;

  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      errno != EINPROGRESS) {
    close();
    eof_ = true;
    return;
  }
  pollfd p{fd_, POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (poll(&p, 1, static_cast<int>(timeout_.count())) != 1 ||
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    close();
    eof_ = err != 0;  // refused or reset at once: the peer closed it
  }
}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool HttpClient::send(std::string_view bytes) {
  auto deadline = Clock::now() + timeout_;
  while (!bytes.empty() && fd_ >= 0) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLOUT, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      return false;
    }
  }
  return bytes.empty();
}

void HttpClient::start_message() {
  cur_ = Response{};
  in_value_ = head_done_ = done_ = timed_out_ = false;
  if (!pending_.empty()) {
    std::string data = std::move(pending_);
    pending_.clear();
    parse(data.data(), data.size());
  }
}

bool HttpClient::fill(size_t max, Clock::time_point deadline) {
  if (fd_ < 0 || eof_) {
    return false;
  }
  auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
  pollfd p{fd_, POLLIN, 0};
  if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
    timed_out_ = true;
    return false;
  }
  std::string buf(std::min<size_t>(max, 64 * 1024), '\0');
  ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return true;
  }
  if (n <= 0) {
    eof_ = true;
    finish();
    return false;
  }
  parse(buf.data(), static_cast<size_t>(n));
  return true;
}

void HttpClient::parse(const char* data, size_t len) {
  if (broken_) {
    return;
  }
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_PAUSED) {
    const char* pos = llhttp_get_error_pos(&parser_);
    pending_.assign(pos, static_cast<size_t>(data + len - pos));
    llhttp_resume(&parser_);
  } else if (err != HPE_OK) {
    broken_ = true;
    UNSCOPED_INFO("response parse error: " << llhttp_errno_name(err) << " "
                                            << llhttp_get_error_reason(&parser_));
  }
}

void HttpClient::finish() {
  if (!done_ && !broken_) {
    llhttp_finish(&parser_);  // completes a close-delimited body; a cut one stays incomplete
  }
}

int HttpClient::on_header_field(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<HttpClient*>(p->data);
  if (self->in_value_ || self->cur_.headers.empty()) {
    self->cur_.headers.emplace_back();
  }
  self->in_value_ = false;
  self->cur_.headers.back().first.append(at, len);
  return 0;
}

int HttpClient::on_header_value(llhttp_t* p, const char* at, size_t len) {
  auto* self = static_cast<HttpClient*>(p->data);
  self->in_value_ = true;
  self->cur_.headers.back().second.append(at, len);
  return 0;
}

int HttpClient::on_headers_complete(llhttp_t* p) {
  auto* self = static_cast<HttpClient*>(p->data);
  self->cur_.status = llhttp_get_status_code(p);
  self->head_done_ = true;
  return 0;
}

int HttpClient::on_body(llhttp_t* p, const char* at, size_t len) {
  static_cast<HttpClient*>(p->data)->cur_.body.append(at, len);
  return 0;
}

int HttpClient::on_message_complete(llhttp_t* p) {
  auto* self = static_cast<HttpClient*>(p->data);
  self->cur_.complete = true;
  self->done_ = true;
  return HPE_PAUSED;  // stop at the end of this response; the rest stays in pending_
}

Response HttpClient::read_response() {
  start_message();
  auto deadline = Clock::now() + timeout_;
  while (!done_ && !broken_ && fill(64 * 1024, deadline)) {
  }
  return std::move(cur_);
}

Response HttpClient::read_head() {
  start_message();
  auto deadline = Clock::now() + timeout_;
  while (!head_done_ && !broken_ && fill(64 * 1024, deadline)) {
  }
  Response head;
  head.status = cur_.status;
  head.headers = cur_.headers;
  return head;
}

std::string HttpClient::read_body(size_t max) {
  auto deadline = Clock::now() + timeout_;
  while (cur_.body.empty() && !done_ && !broken_ && fill(max, deadline)) {
  }
  return std::exchange(cur_.body, {});
}

bool HttpClient::wait_closed(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_ && fd_ >= 0) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      return false;
    }
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      eof_ = true;
    }
  }
  return eof_;
}

Response fetch(uint16_t port, std::string_view method, std::string_view target,
               const Headers& headers, std::string_view body, Ms timeout) {
  HttpClient client(port, timeout);
  if (!client.send(http_request(method, target, headers, body))) {
    return {};
  }
  return client.read_response();
}

Headers end_to_end_headers(const Headers& headers) {
  static const std::vector<std::string> skip = {
      "connection", "keep-alive",     "proxy-connection", "proxy-authenticate",
      "te",         "trailer",        "transfer-encoding", "upgrade",
      "date",       "content-length", "proxy-authorization"};
  Headers out;
  for (const auto& [name, value] : headers) {
    std::string n = lower(name);
    if (std::find(skip.begin(), skip.end(), n) == skip.end()) {
      out.emplace_back(n, value);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string logfmt_value(const std::string& line, std::string_view key) {
  std::string needle = " " + std::string(key) + "=";
  size_t at = line.rfind(std::string(key) + "=", 0) == 0 ? 0 : line.find(needle);
  if (at == std::string::npos) {
    return "<absent>";
  }
  size_t i = line.find('=', at) + 1;
  std::string value;
  if (i < line.size() && line[i] == '"') {
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        ++i;
      }
      value += line[i];
    }
    return value;
  }
  size_t end = line.find(' ', i);
  return line.substr(i, end == std::string::npos ? std::string::npos : end - i);
}

// --- Mock

std::string SeenRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (same_name(n, name)) {
      return v;
    }
  }
  return {};
}

bool SeenRequest::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return same_name(h.first, name); });
}

namespace {
std::vector<std::string> mock_argv(const std::string& cert, const std::string& key) {
  std::vector<std::string> argv = {GB_MOCK_PATH, "--listen", "127.0.0.1:0"};
  if (!cert.empty()) {
    argv.insert(argv.end(), {"--tls-cert", cert, "--tls-key", key});
  }
  return argv;
}

std::string next_mock_name() {
  static int count = 0;
  return "gb-mock-" + std::to_string(++count);
}
}  // namespace

Mock::Mock(const TempDir& dir, const std::string& tls_cert, const std::string& tls_key)
    : process_(dir, next_mock_name(), mock_argv(tls_cert, tls_key)) {
  auto m = process_.wait_for_line(std::regex(R"(^listening 127\.0\.0\.1:(\d+))"), 5s);
  INFO("gb-mock did not print its port:\n" << process_.out_text() << process_.err_text());
  REQUIRE(m);
  port_ = static_cast<uint16_t>(std::stoi((*m)[1]));
  if (tls_cert.empty()) {
    // Measure what an introspection request adds to the counters (with nothing else
    // going on), so stats() can report gbd's traffic alone.
    MockStats first = raw_stats();
    MockStats second = raw_stats();
    cost_.connections = second.connections - first.connections;
    cost_.requests = second.requests - first.requests;
    cost_.open = second.open;
  }
}

std::string Mock::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string Mock::introspect(std::string_view method, std::string_view target) {
  ++calls_;
  Response r = gbt::fetch(port_, method, target);
  return r.status == 200 ? r.body : std::string();
}

MockStats Mock::raw_stats() {
  rapidjson::Document doc;
  doc.Parse(introspect("GET", "/_mock/stats"));
  if (doc.HasParseError()) {
    return {};
  }
  return {json_long(doc, "connections"), json_long(doc, "requests"), json_long(doc, "open")};
}

MockStats Mock::stats() {
  MockStats raw = raw_stats();
  if (raw.connections < 0) {
    return raw;
  }
  return {raw.connections - cost_.connections * calls_, raw.requests - cost_.requests * calls_,
          raw.open - cost_.open};
}

SeenRequest Mock::last() {
  rapidjson::Document doc;
  doc.Parse(introspect("GET", "/_mock/last"));
  SeenRequest seen;
  if (doc.HasParseError() || !doc.IsObject()) {
    return seen;
  }
  seen.method = json_string(doc, "method");
  seen.target = json_string(doc, "target");
  seen.body = json_string(doc, "body");
  seen.api_key = json_string(doc, "api_key");
  if (doc.HasMember("headers") && doc["headers"].IsArray()) {
    for (const auto& h : doc["headers"].GetArray()) {
      if (h.IsArray() && h.Size() == 2 && h[0].IsString() && h[1].IsString()) {
        seen.headers.emplace_back(h[0].GetString(), h[1].GetString());
      }
    }
  }
  return seen;
}

void Mock::reset() {
  introspect("POST", "/_mock/reset");
  calls_ = 0;
}

Response Mock::fetch(std::string_view method, std::string_view target, std::string_view key,
                     const Headers& headers, std::string_view body, Ms timeout) {
  Headers all = headers;
  all.emplace_back("x-goog-api-key", std::string(key));
  return gbt::fetch(port_, method, target, all, body, timeout);
}

// --- gbd

std::string GbdConfig::to_toml(const TempDir& dir) const {
  std::ostringstream t;
  t << "[server]\n"
    << "listen = " << toml_list(listen) << "\n"
    << "workers = " << workers << "\n"
    << "state_dir = " << quote(dir.path()) << "\n"
    << "control_socket = " << quote(dir.file("gbd.sock")) << "\n"
    << "[limits]\n"
    << "max_body = " << quote(max_body) << "\n"
    << "max_header = " << quote(max_header) << "\n"
    << "max_connections = " << max_connections << "\n"
    << "header_timeout = " << quote(header_timeout) << "\n"
    << "idle_timeout = " << quote(idle_timeout) << "\n"
    << "connect_timeout = " << quote(connect_timeout) << "\n"
    << "upstream_timeout = " << quote(upstream_timeout) << "\n"
    << "stream_idle_timeout = " << quote(stream_idle_timeout) << "\n"
    << "[clients]\n"
    << "tokens = " << toml_list(tokens) << "\n"
    << "[pool.gemini]\n"
    << "provider = \"gemini\"\n"
    << "base_url = " << quote(base_url) << "\n"
    << "keys = " << toml_list(keys) << "\n"
    << "models = [\"*\"]\n"
    << "max_retries = " << max_retries << "\n"
    << "max_failures = " << max_failures << "\n"
    << "cooldown = " << quote(cooldown) << "\n";
  if (!ca_file.empty()) {
    t << "ca_file = " << quote(ca_file) << "\n";
  }
  t << extra;
  return t.str();
}

GbdConfig with_keys(std::vector<std::string> keys) {
  GbdConfig config;
  config.keys = std::move(keys);
  return config;
}

Gbd::Gbd(const TempDir& dir, const GbdConfig& config)
    : Gbd(dir, config.to_toml(dir), config.keys) {}

Gbd::Gbd(const TempDir& dir, const std::string& toml, std::vector<std::string> keys)
    : config_path_(dir.write("gbd.toml", toml)), keys_(std::move(keys)),
      process_(dir, "gbd", {GBD_PATH, "-c", config_path_}) {
  auto listening =
      process_.wait_for_line(std::regex(R"(ev=server\.listening addr=127\.0\.0\.1:(\d+))"), 5s);
  INFO("gbd did not log ev=server.listening; config:\n" << toml);
  REQUIRE(listening);
  port_ = static_cast<uint16_t>(std::stoi((*listening)[1]));
  REQUIRE(process_.wait_for_line(std::regex(R"(ev=server\.ready)"), 5s));
}

std::vector<std::string> Gbd::access_lines() const {
  std::vector<std::string> lines;
  std::istringstream in(process_.err_text());
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(" ev=access ") != std::string::npos) {
      lines.push_back(line);
    }
  }
  return lines;
}

bool Gbd::wait_access(size_t n, Ms timeout) const {
  auto deadline = Clock::now() + timeout;
  while (access_lines().size() < n) {
    if (Clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::string Gbd::attempts(size_t n, Ms timeout) const {
  if (!wait_access(n + 1, timeout)) {
    return "<no access line " + std::to_string(n) + ">";
  }
  return logfmt_value(access_lines()[n], "attempts");
}

std::vector<std::string> Gbd::keys_in_log() const {
  std::string log = process_.err_text() + process_.out_text();
  std::vector<std::string> found;
  for (const auto& key : keys_) {
    if (log.find(key) != std::string::npos) {
      found.push_back(key);
    }
  }
  return found;
}

Response Gbd::fetch(std::string_view method, std::string_view target, Headers headers,
                    std::string_view body, Ms timeout) {
  if (!has_credentials(headers, target)) {
    headers.emplace_back("Authorization", "Bearer " + std::string(kToken));
  }
  return gbt::fetch(port_, method, target, headers, body, timeout);
}

Response Gbd::generate(Headers headers) {
  std::string target = "/v1beta/models/" + std::string(kModel) + ":generateContent";
  headers.emplace_back("Content-Type", "application/json");
  return fetch("POST", target, std::move(headers), kPrompt);
}

std::string trail(const std::vector<std::pair<std::string, std::string>>& attempts) {
  std::string out;
  for (const auto& [key, outcome] : attempts) {
    out += (out.empty() ? "" : ",") + gb::key_id(key) + ":" + outcome;
  }
  return out;
}

namespace {
GbdConfig pointed_at(GbdConfig config, const Mock& mock) {
  if (config.base_url.empty()) {
    config.base_url = mock.url();
  }
  return config;
}
}  // namespace

Rig::Rig(GbdConfig config) : mock(dir), gbd(dir, pointed_at(std::move(config), mock)) {}

std::string model_path(std::string_view action) {
  return "/v1beta/models/" + std::string(kModel) + ":" + std::string(action);
}

void check_gemini_error(const Response& response, int code, std::string_view status) {
  INFO("response " << response.status << " body: " << response.body);
  CHECK(response.status == code);
  CHECK(response.header("content-type").find("application/json") != std::string::npos);
  rapidjson::Document doc;
  doc.Parse(response.body);
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  REQUIRE(doc.HasMember("error"));
  const auto& error = doc["error"];
  CHECK(json_long(error, "code") == code);
  CHECK_FALSE(json_string(error, "message").empty());
  CHECK_FALSE(json_string(error, "status").empty());
  if (!status.empty()) {
    CHECK(json_string(error, "status") == status);
  }
}

KeyCounts health_counts(uint16_t gbd_port, std::string_view pool) {
  Response r = gbt::fetch(gbd_port, "GET", "/health");
  rapidjson::Document doc;
  doc.Parse(r.body);
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("pools")) {
    return {};
  }
  // Accepts {"pools":{"NAME":{...}}} and {"pools":[{"name":"NAME",...}]}, with the counts
  // either in the pool object or in its "keys" object.
  const rapidjson::Value* found = nullptr;
  const auto& pools = doc["pools"];
  std::string name(pool);
  if (pools.IsObject() && pools.HasMember(name.c_str())) {
    found = &pools[name.c_str()];
  } else if (pools.IsArray()) {
    for (const auto& p : pools.GetArray()) {
      if (json_string(p, "name") == pool) {
        found = &p;
      }
    }
  }
  if (found == nullptr || !found->IsObject()) {
    return {};
  }
  if (found->HasMember("keys") && (*found)["keys"].IsObject()) {
    found = &(*found)["keys"];
  }
  return {json_long(*found, "active"), json_long(*found, "cooling"),
          json_long(*found, "disabled")};
}

std::vector<std::string> sorted_pieces(const std::string& trail) {
  std::vector<std::string> pieces;
  std::istringstream in(trail);
  std::string piece;
  while (std::getline(in, piece, ',')) {
    pieces.push_back(piece);
  }
  std::sort(pieces.begin(), pieces.end());
  return pieces;
}

uint16_t closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace gbt
