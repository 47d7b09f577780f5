#include <catch2/catch.hpp>

#include "http/headers.h"
#include "http/request.h"

TEST_CASE("query parameters are found and removed without decoding the rest", "[http]") {
  std::string v;
  CHECK(gb::http::query_param("alt=sse&key=abc", "key", &v));
  CHECK(v == "abc");
  CHECK_FALSE(gb::http::query_param("alt=sse", "key", &v));
  CHECK(gb::http::query_without("key=a&alt=sse&key=b", "key") == "alt=sse");
  CHECK(gb::http::query_without("alt=sse&pageSize=10", "key") == "alt=sse&pageSize=10");
  CHECK(gb::http::query_without("key=a", "key").empty());
  CHECK(gb::http::query_without("keyx=1&key=2", "key") == "keyx=1");
}

TEST_CASE("percent decoding rejects broken escapes", "[http]") {
  std::string out;
  CHECK(gb::http::percent_decode("a%2Fb+c", &out));
  CHECK(out == "a/b c");
  CHECK_FALSE(gb::http::percent_decode("a%2", &out));
  CHECK_FALSE(gb::http::percent_decode("a%zz", &out));
  CHECK_FALSE(gb::http::percent_decode("%", &out));
}

TEST_CASE("header lookup is case-insensitive and token lists are parsed", "[http]") {
  gb::http::Headers h;
  h.add("Connection", "keep-alive, Upgrade");
  h.add("Expect", "100-continue");
  CHECK(h.has_token("connection", "upgrade"));
  CHECK_FALSE(h.has_token("connection", "close"));
  CHECK(*h.find("EXPECT") == "100-continue");
  CHECK(gb::http::is_hop_by_hop("Keep-Alive"));
  CHECK_FALSE(gb::http::is_hop_by_hop("Content-Type"));
}
