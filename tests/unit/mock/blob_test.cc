// gb-mock's /_mock/blob and /_mock/blob/redirect: the parameters and the body's bytes.
#include "../../mock/blob.h"

#include <catch2/catch.hpp>
#include <string>

using namespace gb::mock;

TEST_CASE("blob: defaults and parameters", "[mock]") {
  BlobRequest b;
  std::string error;
  REQUIRE(parse_blob_query("", &b, &error));
  CHECK(b.status == 200);
  CHECK(b.has_type);
  CHECK(b.type == "application/octet-stream");
  CHECK(b.bytes == 0);
  CHECK(b.delay_ms == 0);

  BlobRequest png;
  REQUIRE(parse_blob_query("type=image%2Fpng&bytes=1024&status=404&delay_ms=250", &png, &error));
  CHECK(png.type == "image/png");
  CHECK(png.bytes == 1024);
  CHECK(png.status == 404);
  CHECK(png.delay_ms == 250);

  BlobRequest plain;
  REQUIRE(parse_blob_query("type=text/plain;%20charset=utf-8&bytes=67108864", &plain, &error));
  CHECK(plain.type == "text/plain; charset=utf-8");
  CHECK(plain.bytes == 64u << 20);

  BlobRequest none;
  REQUIRE(parse_blob_query("type=&bytes=3", &none, &error));
  CHECK_FALSE(none.has_type);
}

TEST_CASE("blob: malformed or out-of-range parameters are refused", "[mock]") {
  const char* bad[] = {
      "bytes=67108865",
      "bytes=-1",
      "bytes=12x",
      "bytes=",
      "status=199",
      "status=600",
      "status=204",
      "status=304",
      "status=ok",
      "delay_ms=600001",
      "type=a%0D%0AX-Evil:%201",
      "type=%zz",
      "type=image%2Fp%7Fng",
  };
  for (const char* q : bad) {
    INFO(q);
    BlobRequest b;
    std::string error;
    CHECK_FALSE(parse_blob_query(q, &b, &error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("blob: byte i is i mod 251", "[mock]") {
  std::string out;
  append_blob_bytes(out, 0, 600);
  REQUIRE(out.size() == 600);
  CHECK(out[0] == '\0');
  CHECK(static_cast<unsigned char>(out[250]) == 250);
  CHECK(out[251] == '\0');
  CHECK(static_cast<unsigned char>(out[599]) == 599 % 251);
  // Pieces join into the same bytes.
  std::string pieces;
  append_blob_bytes(pieces, 0, 100);
  append_blob_bytes(pieces, 100, 600);
  CHECK(pieces == out);
  CHECK(blob_byte(1000000) == static_cast<char>(1000000 % 251));
}

TEST_CASE("blob redirect: Location is the rest of the query", "[mock]") {
  BlobRedirect r;
  std::string error;
  REQUIRE(
      parse_redirect_query("to=http://127.0.0.1:9/_mock/blob?type=image/png&bytes=9", &r, &error));
  CHECK(r.status == 302);
  CHECK(r.location == "http://127.0.0.1:9/_mock/blob?type=image/png&bytes=9");

  BlobRedirect moved;
  REQUIRE(parse_redirect_query("status=301&to=https://example.com/a.png", &moved, &error));
  CHECK(moved.status == 301);
  CHECK(moved.location == "https://example.com/a.png");

  // A percent-encoded URL is sent as written.
  BlobRedirect encoded;
  REQUIRE(parse_redirect_query("to=http%3A%2F%2Fh%2Fx", &encoded, &error));
  CHECK(encoded.location == "http%3A%2F%2Fh%2Fx");

  const char* bad[] = {
      "", "to=", "status=302", "status=200&to=http://h/", "xto=http://h/", "to=http://h/\r\nX: 1"};
  for (const char* q : bad) {
    INFO(q);
    BlobRedirect b;
    std::string e;
    CHECK_FALSE(parse_redirect_query(q, &b, &e));
    CHECK_FALSE(e.empty());
  }
}
