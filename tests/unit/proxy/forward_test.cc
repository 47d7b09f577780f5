#include <catch2/catch.hpp>

#include "proxy/forward.h"

TEST_CASE("the upstream request swaps the credential and keeps the rest", "[forward]") {
  gb::http::Request r;
  r.method = "POST";
  r.target = "/v1beta/models/m:streamGenerateContent?key=sk-client&alt=sse";
  r.headers.add("Host", "gbd.local");
  r.headers.add("Authorization", "Bearer sk-client");
  r.headers.add("Content-Type", "application/json");
  r.headers.add("Connection", "keep-alive, X-Hop");
  r.headers.add("X-Hop", "1");
  r.headers.add("Transfer-Encoding", "chunked");
  r.headers.add("x-goog-api-client", "genai-js/1.0");
  auto origin = gb::parse_origin("https://generativelanguage.googleapis.com/prefix").value();
  std::string head =
      gb::proxy::upstream_request_head(r, 12, origin, "/v1beta/models/m:streamGenerateContent",
                                       "AIza-pool-key");
  CHECK(head.rfind("POST /prefix/v1beta/models/m:streamGenerateContent?alt=sse HTTP/1.1\r\n", 0) ==
        0);
  CHECK(head.find("Host: generativelanguage.googleapis.com\r\n") != std::string::npos);
  CHECK(head.find("x-goog-api-key: AIza-pool-key\r\n") != std::string::npos);
  CHECK(head.find("Content-Length: 12\r\n") != std::string::npos);
  CHECK(head.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(head.find("x-goog-api-client: genai-js/1.0\r\n") != std::string::npos);
  CHECK(head.find("sk-client") == std::string::npos);
  CHECK(head.find("X-Hop") == std::string::npos);
  CHECK(head.find("Transfer-Encoding") == std::string::npos);
  CHECK(head.find("gbd.local") == std::string::npos);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
}

TEST_CASE("response headers lose hop-by-hop fields only", "[forward]") {
  gb::http::Headers up;
  up.add("Content-Type", "text/event-stream");
  up.add("Transfer-Encoding", "chunked");
  up.add("Connection", "close, X-Private");
  up.add("X-Private", "1");
  up.add("Vary", "Origin");
  up.add("Server-Timing", "gfet4t7; dur=512");
  auto out = gb::proxy::client_response_headers(up);
  REQUIRE(out.size() == 3);
  CHECK(out.list()[0].name == "Content-Type");
  CHECK(out.list()[1].name == "Vary");
  CHECK(out.list()[2].name == "Server-Timing");
}
