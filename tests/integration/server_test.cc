// gbd's HTTP server: limits, timeouts, malformed requests, 100-continue, pipelining and
// chunked request bodies.
#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "harness.h"

using namespace gbt;

namespace {

const std::string kAuth = "Authorization: Bearer " + std::string(kToken) + "\r\n";

// A request head up to and including its auth header; the caller adds the rest.
std::string head(std::string_view method, std::string_view target) {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         kAuth;
}

std::string chunked_post_head() {
  return head("POST", model_path("generateContent")) +
         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
}

// gbd answers 400 and closes the connection; nothing reaches the upstream.
void check_rejected(const std::string& raw) {
  Rig rig;
  HttpClient client(rig.gbd.port());
  REQUIRE(client.send(raw));
  Response r = client.read_response();
  CHECK(r.status == 400);
  CHECK(client.wait_closed(2s));
  CHECK(rig.mock.stats().requests == 0);
}

Response direct_generate(Mock& mock) {
  return mock.fetch("POST", model_path("generateContent"), "ok-1",
                    {{"Content-Type", "application/json"}}, kPrompt);
}

}  // namespace

TEST_CASE("a body over max_body gets 413", "[integration][server]") {
  GbdConfig config;
  config.max_body = "64KiB";
  Rig rig(config);
  std::string body(100 * 1024, 'x');
  HttpClient client(rig.gbd.port(), 2s);
  REQUIRE(client.send(head("POST", model_path("generateContent")) +
                      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  Response r = client.read_response();
  if (r.status == 0) {  // gbd may want to see the body before it answers
    client.send(body);
    r = client.read_response();
  }
  check_gemini_error(r, 413);
  CHECK(rig.mock.stats().requests == 0);
}

TEST_CASE("headers over max_header get 431", "[integration][server]") {
  Rig rig;
  HttpClient client(rig.gbd.port());
  REQUIRE(
      client.send(head("GET", "/v1beta/models") + "X-Big: " + std::string(9000, 'a') + "\r\n\r\n"));
  CHECK(client.read_response().status == 431);
  CHECK(rig.mock.stats().requests == 0);
}

TEST_CASE("an incomplete header gets 408 after header_timeout", "[integration][server]") {
  GbdConfig config;
  config.header_timeout = "1s";
  Rig rig(config);
  HttpClient client(rig.gbd.port(), 4s);
  auto start = Clock::now();
  REQUIRE(client.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  Response r = client.read_response();
  auto took = std::chrono::duration_cast<Ms>(Clock::now() - start);
  CHECK(r.status == 408);
  CHECK(took >= 800ms);
  CHECK(client.wait_closed(2s));
}

TEST_CASE("an idle keep-alive connection is closed after idle_timeout", "[integration][server]") {
  GbdConfig config;
  config.idle_timeout = "1s";
  Rig rig(config);
  HttpClient client(rig.gbd.port());
  REQUIRE(client.send(http_request("GET", "/health")));
  REQUIRE(client.read_response().status == 200);
  auto start = Clock::now();
  CHECK(client.wait_closed(4s));
  auto took = std::chrono::duration_cast<Ms>(Clock::now() - start);
  CHECK(took >= 500ms);
}

TEST_CASE("connections over max_connections are refused while the others are served",
          "[integration][server]") {
  GbdConfig config;
  config.workers = 1;
  config.max_connections = 3;
  Rig rig(config);
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<HttpClient>(rig.gbd.port()));
    REQUIRE(clients.back()->send(http_request("GET", "/health")));
    REQUIRE(clients.back()->read_response().status == 200);
  }

  HttpClient extra(rig.gbd.port(), 2s);
  extra.send(http_request("GET", "/health"));
  CHECK(extra.read_response().status == 0);
  CHECK(extra.wait_closed(2s));

  for (auto& client : clients) {
    REQUIRE(client->send(http_request("GET", "/health")));
    CHECK(client->read_response().status == 200);
  }

  // Once one goes, a new connection is served again.
  clients.pop_back();
  std::this_thread::sleep_for(200ms);
  HttpClient again(rig.gbd.port());
  REQUIRE(again.send(http_request("GET", "/health")));
  CHECK(again.read_response().status == 200);
}

TEST_CASE("an obs-fold header line is rejected with 400", "[integration][server][malformed]") {
  check_rejected(head("GET", "/v1beta/models") + "Foo: a\r\n b\r\n\r\n");
}

TEST_CASE("an empty header name is rejected with 400", "[integration][server][malformed]") {
  check_rejected(head("GET", "/v1beta/models") + ": x\r\n\r\n");
}

TEST_CASE("Content-Length with Transfer-Encoding is rejected with 400",
          "[integration][server][malformed]") {
  check_rejected(head("POST", model_path("generateContent")) +
                 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
}

TEST_CASE("an invalid chunk size is rejected with 400", "[integration][server][malformed]") {
  check_rejected(chunked_post_head() + "zz\r\nhello\r\n0\r\n\r\n");
}

TEST_CASE("a 10 KB chunk extension is rejected with 400", "[integration][server][malformed]") {
  check_rejected(chunked_post_head() + "5;ext=" + std::string(10 * 1024, 'a') +
                 "\r\nhello\r\n0\r\n\r\n");
}

TEST_CASE("Expect: 100-continue gets 100 Continue before the answer", "[integration][server]") {
  Rig rig;
  Response direct = direct_generate(rig.mock);
  HttpClient client(rig.gbd.port());
  REQUIRE(client.send(head("POST", model_path("generateContent")) +
                      "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                      "Content-Length: " +
                      std::to_string(kPrompt.size()) + "\r\n\r\n"));
  CHECK(client.read_response().status == 100);
  REQUIRE(client.send(kPrompt));
  Response r = client.read_response();
  CHECK(r.status == 200);
  CHECK(r.body == direct.body);
}

TEST_CASE("pipelined requests are answered in order", "[integration][server]") {
  Rig rig(with_keys({"ok-1"}));
  std::string model_target = "/v1beta/models/" + std::string(kModel);
  Response model = rig.mock.fetch("GET", model_target, "ok-1");
  Response tokens = rig.mock.fetch("POST", model_path("countTokens"), "ok-1", {}, kPrompt);
  Response list = rig.mock.fetch("GET", "/v1beta/models", "ok-1");

  Headers auth = {{"Authorization", "Bearer " + std::string(kToken)}};
  HttpClient client(rig.gbd.port());
  REQUIRE(client.send(http_request("GET", model_target, auth) +
                      http_request("POST", model_path("countTokens"), auth, kPrompt) +
                      http_request("GET", "/v1beta/models", auth)));
  Response first = client.read_response();
  Response second = client.read_response();
  Response third = client.read_response();
  CHECK(first.status == 200);
  CHECK(first.body == model.body);
  CHECK(second.status == 200);
  CHECK(second.body == tokens.body);
  CHECK(third.status == 200);
  CHECK(third.body == list.body);
}

TEST_CASE("a chunked request body is accepted", "[integration][server]") {
  Rig rig(with_keys({"ok-1"}));
  Response direct = direct_generate(rig.mock);
  std::string_view prompt = kPrompt;
  std::string chunks;
  for (size_t at = 0; at < prompt.size(); at += 20) {
    std::string_view piece = prompt.substr(at, 20);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    chunks += std::string(size) + "\r\n" + std::string(piece) + "\r\n";
  }
  HttpClient client(rig.gbd.port());
  REQUIRE(client.send(chunked_post_head() + chunks + "0\r\n\r\n"));
  Response r = client.read_response();
  CHECK(r.status == 200);
  CHECK(r.body == direct.body);
  CHECK(rig.mock.last().body == kPrompt);
}

TEST_CASE("an absolute-form request target is routed on its path", "[integration][server]") {
  Rig rig(with_keys({"ok-1"}));
  Response direct = direct_generate(rig.mock);
  HttpClient client(rig.gbd.port());
  std::string target = "http://127.0.0.1:" + std::to_string(rig.gbd.port()) +
                       model_path("generateContent");
  REQUIRE(client.send(head("POST", target) + "Content-Type: application/json\r\nContent-Length: " +
                      std::to_string(std::string_view(kPrompt).size()) + "\r\n\r\n" +
                      std::string(kPrompt)));
  Response r = client.read_response();
  CHECK(r.status == 200);
  CHECK(r.body == direct.body);
  CHECK(rig.mock.last().target == model_path("generateContent"));
}

TEST_CASE("a request line with another HTTP major version gets 505", "[integration][server]") {
  Rig rig;
  HttpClient client(rig.gbd.port());
  REQUIRE(client.send("GET /health HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n"));
  Response r = client.read_response();
  CHECK(r.status == 505);
  CHECK(client.wait_closed(2s));
}
