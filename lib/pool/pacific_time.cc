#include "pool/pacific_time.h"

namespace gb::pool {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

bool in_dst(sys_seconds utc) {
  // The UTC year is good enough: both transitions are months away from New Year.
  std::chrono::year y = std::chrono::year_month_day(std::chrono::floor<days>(utc)).year();
  sys_seconds start = sys_days(y / std::chrono::March / std::chrono::Sunday[2]) + hours(10);
  sys_seconds end = sys_days(y / std::chrono::November / std::chrono::Sunday[1]) + hours(9);
  return utc >= start && utc < end;
}

hours offset_at(sys_seconds utc) {
  return in_dst(utc) ? hours(-7) : hours(-8);
}

}  // namespace

bool is_pacific_dst(WallTime wall) {
  return in_dst(std::chrono::floor<std::chrono::seconds>(wall));
}

WallTime next_pacific_midnight(WallTime wall) {
  sys_seconds utc = std::chrono::floor<std::chrono::seconds>(wall);
  sys_seconds local = utc + offset_at(utc);  // local wall time, in a sys_seconds shell
  sys_seconds local_midnight = std::chrono::floor<days>(local) + days(1);
  // Before 02:00 on a switch day the offset at midnight differs from the one now; a first
  // guess lands past the switch and so gives the offset in force at midnight.
  sys_seconds guess = local_midnight - offset_at(utc);
  return local_midnight - offset_at(guess);
}

int64_t pacific_day(WallTime wall) {
  sys_seconds utc = std::chrono::floor<std::chrono::seconds>(wall);
  return std::chrono::floor<days>(utc + offset_at(utc)).time_since_epoch().count();
}

}  // namespace gb::pool
