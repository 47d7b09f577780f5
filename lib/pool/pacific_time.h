// When Gemini's per-day quotas reset: midnight in America/Los_Angeles.
//
// No tz database on purpose (pure code, no files, no environment). Pacific time is
// computed by hand as UTC-8 (PST) or UTC-7 (PDT) with the US rules in force since 2007:
// daylight time from the second Sunday of March, 02:00 PST, to the first Sunday of
// November, 02:00 PDT. If those rules change, this file changes with them.
#pragma once

#include <chrono>
#include <cstdint>

namespace gb::pool {

using WallTime = std::chrono::system_clock::time_point;

// True if `wall` falls in Pacific daylight time.
bool is_pacific_dst(WallTime wall);

// The first Pacific midnight strictly after `wall`, as a UTC time point.
WallTime next_pacific_midnight(WallTime wall);

// The Pacific calendar day `wall` falls in, as days since 1970-01-01: per-day quotas
// count requests per such day.
int64_t pacific_day(WallTime wall);

}  // namespace gb::pool
