// Mock, Gbd and the helpers the test cases share.
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <thread>

#include "base/key_id.h"

namespace gbt {
namespace {

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
    if (same_header_name(name, "authorization") || same_header_name(name, "x-goog-api-key") ||
        same_header_name(name, "x-api-key")) {
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

std::string SeenRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (same_header_name(n, name)) {
      return v;
    }
  }
  return {};
}

bool SeenRequest::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return same_header_name(h.first, name); });
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

std::string Mock::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

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

void Mock::script(std::string_view key, std::string_view as) {
  std::string target = "/_mock/script?key=" + std::string(key) + "&as=" + std::string(as);
  std::string body = introspect("POST", target);
  REQUIRE(body.find("\"ok\":true") != std::string::npos);
}

long Mock::key_requests(std::string_view key, std::string_view action) {
  rapidjson::Document doc;
  doc.Parse(introspect("GET", "/_mock/stats"));
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("keys") || !doc["keys"].IsObject()) {
    return -1;
  }
  const auto& keys = doc["keys"];
  auto k = keys.FindMember(rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  if (k == keys.MemberEnd() || !k->value.IsObject()) {
    return 0;
  }
  auto a = k->value.FindMember(
      rapidjson::Value(action.data(), static_cast<rapidjson::SizeType>(action.size())));
  return a == k->value.MemberEnd() || !a->value.IsInt64() ? 0 : static_cast<long>(a->value.GetInt64());
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
    << "send_timeout = " << quote(send_timeout) << "\n"
    << limits_extra
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
    : config_path_(dir.write("gbd.toml", toml)),
      keys_(std::move(keys)),
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
  return {json_long(*found, "active"), json_long(*found, "cooling"), json_long(*found, "disabled")};
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
