#include "pool/pacific_time.h"

#include <catch2/catch.hpp>

using namespace std::chrono;
using gb::pool::WallTime;

namespace {

WallTime utc(int y, unsigned m, unsigned d, int h, int min = 0, int s = 0) {
  return sys_days(year(y) / month(m) / day(d)) + hours(h) + minutes(min) + seconds(s);
}

struct MidnightCase {
  const char* name;
  WallTime wall;
  WallTime midnight;
};

}  // namespace

TEST_CASE("next Pacific midnight across DST switches", "[pool]") {
  // 2025: PDT from Sun 9 March 10:00 UTC to Sun 2 November 09:00 UTC.
  const MidnightCase cases[] = {
      {"winter noon", utc(2025, 1, 15, 20), utc(2025, 1, 16, 8)},
      {"winter, exactly midnight", utc(2025, 1, 15, 8), utc(2025, 1, 16, 8)},
      {"summer, one second before", utc(2025, 7, 1, 6, 59, 59), utc(2025, 7, 1, 7)},
      {"summer, exactly midnight", utc(2025, 7, 1, 7), utc(2025, 7, 2, 7)},
      {"Saturday before spring forward", utc(2025, 3, 8, 20), utc(2025, 3, 9, 8)},
      {"spring-forward day, 00:30 PST", utc(2025, 3, 9, 8, 30), utc(2025, 3, 10, 7)},
      {"spring-forward day, 03:00 PDT", utc(2025, 3, 9, 10), utc(2025, 3, 10, 7)},
      {"fall-back day, first 01:30 PDT", utc(2025, 11, 2, 8, 30), utc(2025, 11, 3, 8)},
      {"fall-back day, second 01:30 PST", utc(2025, 11, 2, 9, 30), utc(2025, 11, 3, 8)},
      {"Saturday before fall back", utc(2025, 11, 1, 19), utc(2025, 11, 2, 7)},
      {"new year's eve", utc(2025, 12, 31, 20), utc(2026, 1, 1, 8)},
      {"UTC new year, still Dec 31 in LA", utc(2026, 1, 1, 2), utc(2026, 1, 1, 8)},
      {"leap day", utc(2024, 2, 29, 12), utc(2024, 3, 1, 8)},
      {"2024 spring forward (10 March)", utc(2024, 3, 10, 9), utc(2024, 3, 11, 7)},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(gb::pool::next_pacific_midnight(c.wall) == c.midnight);
  }
}

TEST_CASE("Pacific DST boundaries are exact to the second", "[pool]") {
  CHECK_FALSE(gb::pool::is_pacific_dst(utc(2025, 3, 9, 9, 59, 59)));
  CHECK(gb::pool::is_pacific_dst(utc(2025, 3, 9, 10)));
  CHECK(gb::pool::is_pacific_dst(utc(2025, 11, 2, 8, 59, 59)));
  CHECK_FALSE(gb::pool::is_pacific_dst(utc(2025, 11, 2, 9)));
  CHECK_FALSE(gb::pool::is_pacific_dst(utc(2025, 1, 1, 0)));
  CHECK(gb::pool::is_pacific_dst(utc(2025, 7, 4, 0)));
}

TEST_CASE("next Pacific midnight keeps sub-second input in range", "[pool]") {
  WallTime wall = utc(2025, 7, 1, 6, 59, 59) + milliseconds(999);
  CHECK(gb::pool::next_pacific_midnight(wall) == utc(2025, 7, 1, 7));
}
