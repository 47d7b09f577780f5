// Human-readable output of gbctl: tables and lines from the daemon's JSON replies.
// (--json prints the replies themselves.)
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace gb::ctl {

// A text table with columns padded to their widest cell (UTF-8 aware).
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(FILE* out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string human_duration_ms(int64_t ms);  // "42s", "3m12s", "2h5m", "3d4h"
std::string human_ms(double ms);             // "0.8ms", "120ms", "1.25s"; "-" below 0
std::string utc_time(int64_t ms);            // "2026-11-22T01:02:03.123Z"

void print_status(const rapidjson::Value& d, FILE* out);
void print_keys(const rapidjson::Value& d, FILE* out);
void print_key_changes(const rapidjson::Value& d, const char* verb, FILE* out);
void print_added(const rapidjson::Value& d, FILE* out);
void print_log_line(const rapidjson::Value& ev, FILE* out);
void print_stats(const rapidjson::Value& d, FILE* out);
void print_reload(const rapidjson::Value& d, FILE* out);
void print_help(FILE* out);

}  // namespace gb::ctl
