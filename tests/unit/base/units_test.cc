#include "base/units.h"

#include <catch2/catch.hpp>
#include <limits>

using gb::Duration;

TEST_CASE("parse_duration accepts whole numbers with a unit", "[units]") {
  struct Case {
    const char* text;
    int64_t ms;
  };
  const Case cases[] = {
      {"0s", 0},
      {"0ms", 0},
      {"250ms", 250},
      {"10s", 10'000},
      {"5m", 300'000},
      {"1h", 3'600'000},
      {"30d", 2'592'000'000},
      {"007s", 7'000},
      {"600s", 600'000},
      {"1ms", 1},
      {"106751991167d", 106751991167 * 86'400'000},
      {"9223372036854775807ms", INT64_MAX},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    Duration d{-1};
    REQUIRE(gb::parse_duration(c.text, &d));
    CHECK(d.count() == c.ms);
  }
}

TEST_CASE("parse_duration rejects junk, signs, fractions and overflow", "[units]") {
  const char* bad[] = {
      "",
      "s",
      "10",
      "-5s",
      "+5s",
      " 5s",
      "5s ",
      "5 s",
      "1.5s",
      "5S",
      "5sec",
      "5ms5",
      "5us",
      "5M",
      "5y",
      "0x10s",
      "106751991168d",             // the first day count past INT64_MAX milliseconds
      "9223372036854775808ms",     // INT64_MAX + 1
      "99999999999999999999999s",  // overflows uint64 while reading digits
  };
  for (const char* text : bad) {
    INFO(text);
    Duration d{42};
    CHECK_FALSE(gb::parse_duration(text, &d));
    CHECK(d.count() == 42);  // untouched on failure
  }
}

TEST_CASE("parse_size accepts bytes, binary and decimal units", "[units]") {
  struct Case {
    const char* text;
    uint64_t bytes;
  };
  const Case cases[] = {
      {"0", 0},
      {"512", 512},
      {"512B", 512},
      {"64KiB", 64 * 1024},
      {"32MiB", 32ull << 20},
      {"1GiB", 1ull << 30},
      {"4GiB", 4ull << 30},
      {"2TiB", 2ull << 40},
      {"1KB", 1000},
      {"1kB", 1000},
      {"5MB", 5'000'000},
      {"3GB", 3'000'000'000},
      {"18446744073709551615", UINT64_MAX},
      {"16777215TiB", 16777215ull << 40},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    uint64_t v = 1;
    REQUIRE(gb::parse_size(c.text, &v));
    CHECK(v == c.bytes);
  }
}

TEST_CASE("parse_size rejects junk and overflow", "[units]") {
  const char* bad[] = {
      "",
      "B",
      "KiB",
      "-1",
      "1.5MiB",
      "64 KiB",
      "64kib",
      "64K",
      "64k",
      "64Mi",
      "64MIB",
      "1PiB",
      "12abc",
      " 1",
      "18446744073709551616",  // UINT64_MAX + 1
      "16777216TiB",           // 2^64 bytes
      "18446744073709552GB",
  };
  for (const char* text : bad) {
    INFO(text);
    uint64_t v = 7;
    CHECK_FALSE(gb::parse_size(text, &v));
    CHECK(v == 7);
  }
}

TEST_CASE("format_duration picks the largest exact unit", "[units]") {
  using namespace std::chrono;
  CHECK(gb::format_duration(Duration(0)) == "0s");
  CHECK(gb::format_duration(milliseconds(250)) == "250ms");
  CHECK(gb::format_duration(milliseconds(1500)) == "1500ms");
  CHECK(gb::format_duration(seconds(30)) == "30s");
  CHECK(gb::format_duration(seconds(90)) == "90s");
  CHECK(gb::format_duration(minutes(5)) == "5m");
  CHECK(gb::format_duration(hours(1)) == "1h");
  CHECK(gb::format_duration(hours(36)) == "36h");
  CHECK(gb::format_duration(days(30)) == "30d");
  CHECK(gb::format_duration(seconds(-10)) == "-10s");
  CHECK(gb::format_duration(Duration(INT64_MIN)) == "-9223372036854775808ms");
}

TEST_CASE("format_size picks the largest exact unit and round-trips", "[units]") {
  CHECK(gb::format_size(0) == "0B");
  CHECK(gb::format_size(512) == "512B");
  CHECK(gb::format_size(1024) == "1KiB");
  CHECK(gb::format_size(64 * 1024) == "64KiB");
  CHECK(gb::format_size(32ull << 20) == "32MiB");
  CHECK(gb::format_size(1536) == "1536B");
  CHECK(gb::format_size(4ull << 30) == "4GiB");
  CHECK(gb::format_size(1000) == "1KB");
  CHECK(gb::format_size(5'000'000) == "5MB");
  CHECK(gb::format_size(1001) == "1001B");
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{999}, uint64_t{1} << 40,
                     uint64_t{3'000'000'000}, UINT64_MAX, uint64_t{7} << 30}) {
    uint64_t back = 0;
    REQUIRE(gb::parse_size(gb::format_size(v), &back));
    CHECK(back == v);
  }
  for (int64_t ms :
       {int64_t{0}, int64_t{1}, int64_t{60'000}, int64_t{86'400'000} * 30, INT64_MAX}) {
    Duration back{};
    REQUIRE(gb::parse_duration(gb::format_duration(Duration(ms)), &back));
    CHECK(back.count() == ms);
  }
}
