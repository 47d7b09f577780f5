#include "render.h"

#include <ctime>

#include "ctl/commands.h"
#include "ctl/json.h"

namespace gb::ctl {

namespace {

size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    n += (c & 0xC0) != 0x80;  // count code points, not continuation bytes
  }
  return n;
}

std::string num(int64_t n) {
  return std::to_string(n);
}

std::string state_of(const rapidjson::Value& k) {
  std::string state = get_str(k, "state");
  if (state == "disabled") {
    return get_bool(k, "parked") ? "parked" : "disabled: " + get_str(k, "reason");
  }
  std::string cooling;
  for (const auto& m : get_array(k, "cooling").GetArray()) {
    cooling += (cooling.empty() ? "cooling " : ", ") + get_str(m, "model") + " " +
               human_duration_ms(get_int(m, "remaining_ms"));
  }
  if (!cooling.empty()) {
    return cooling;
  }
  double share = get_real(k, "share", 1);
  if (share < 1) {
    return "active (ramping up, " + num(static_cast<int64_t>(share * 100)) + "%)";
  }
  return "active";
}

std::string error_classes(const rapidjson::Value& g) {
  std::string out;
  auto it = g.FindMember("error_classes");
  if (it == g.MemberEnd() || !it->value.IsObject()) {
    return "";
  }
  for (const auto& m : it->value.GetObject()) {
    out += (out.empty() ? "" : ",") + std::string(m.name.GetString()) + "=" +
           num(m.value.IsInt64() ? m.value.GetInt64() : 0);
  }
  return out;
}

std::vector<std::string> group_row(const rapidjson::Value& g, bool with_pool) {
  const rapidjson::Value& lat = g["latency_ms"];
  const rapidjson::Value& ttfb = g["ttfb_ms"];
  std::vector<std::string> row;
  if (with_pool) {
    row.push_back(get_str(g, "pool"));
  }
  std::string name = get_str(g, "name");
  row.insert(row.end(),
             {name.empty() ? "total" : name, num(get_int(g, "requests")), num(get_int(g, "ok")),
              num(get_int(g, "errors")), human_ms(get_real(lat, "p50", -1)),
              human_ms(get_real(lat, "p90", -1)), human_ms(get_real(lat, "p99", -1)),
              human_ms(get_real(lat, "max", -1)), human_ms(get_real(ttfb, "p50", -1)),
              human_ms(get_real(ttfb, "p99", -1)), num(get_int(g, "tokens_in")),
              num(get_int(g, "tokens_out")), error_classes(g)});
  return row;
}

}  // namespace

void Table::print(FILE* out) const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], columns(row[i]));
    }
  }
  for (const auto& row : rows_) {
    bool blank = true;
    for (const std::string& cell : row) {
      blank &= cell.empty();
    }
    if (blank) {
      continue;  // a table without a header
    }
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line.append(width[i] - columns(row[i]) + 2, ' ');
      }
    }
    std::fprintf(out, "%s\n", line.c_str());
  }
}

std::string human_duration_ms(int64_t ms) {
  int64_t s = (ms + 999) / 1000;
  if (s < 60) {
    return num(s) + "s";
  }
  if (s < 3600) {
    return num(s / 60) + "m" + (s % 60 ? num(s % 60) + "s" : "");
  }
  if (s < 86400) {
    return num(s / 3600) + "h" + (s % 3600 / 60 ? num(s % 3600 / 60) + "m" : "");
  }
  return num(s / 86400) + "d" + (s % 86400 / 3600 ? num(s % 86400 / 3600) + "h" : "");
}

std::string human_ms(double ms) {
  char buf[32];
  if (ms < 0) {
    return "-";
  }
  if (ms < 10) {
    std::snprintf(buf, sizeof buf, "%.1fms", ms);
  } else if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%.0fms", ms);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", ms / 1000);
  }
  return buf;
}

std::string utc_time(int64_t ms) {
  time_t t = static_cast<time_t>(ms / 1000);
  tm parts{};
  gmtime_r(&t, &parts);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

void print_status(const rapidjson::Value& d, FILE* out) {
  std::fprintf(out, "gbd %s, pid %lld, up %s\n", get_str(d, "version").c_str(),
               static_cast<long long>(get_int(d, "pid")),
               human_duration_ms(get_int(d, "uptime_s") * 1000).c_str());
  std::fprintf(out, "config    %s (loaded %s, %lld reloads)\n", get_str(d, "config").c_str(),
               utc_time(get_int(d, "config_loaded_ms")).c_str(),
               static_cast<long long>(get_int(d, "reloads")));
  for (const auto& l : get_array(d, "listeners").GetArray()) {
    std::fprintf(out, "listening %s (%s)\n", get_str(l, "bound").c_str(),
                 get_str(l, "listen").c_str());
  }
  std::fprintf(out, "workers   %lld\ncontrol   %s\nstate     %s\n",
               static_cast<long long>(get_int(d, "workers")), get_str(d, "control_socket").c_str(),
               get_str(d, "state_db").c_str());
  const rapidjson::Value& t = d["totals"];
  std::fprintf(out, "requests  %lld since start, %lld connections open\n",
               static_cast<long long>(get_int(t, "requests")),
               static_cast<long long>(get_int(t, "connections_open")));
  if (get_int(t, "log_dropped") > 0 || get_int(t, "store_write_errors") > 0) {
    std::fprintf(out, "warning   request log: %lld records dropped, %lld failed writes\n",
                 static_cast<long long>(get_int(t, "log_dropped")),
                 static_cast<long long>(get_int(t, "store_write_errors")));
  }
  Table table({"POOL", "PROVIDER", "STRATEGY", "KEYS", "ACTIVE", "COOLING", "DISABLED", "WAITING"});
  for (const auto& p : get_array(d, "pools").GetArray()) {
    table.add({get_str(p, "name"), get_str(p, "provider"), get_str(p, "strategy"),
               num(get_int(p, "keys")), num(get_int(p, "active")), num(get_int(p, "cooling")),
               num(get_int(p, "disabled")), num(get_int(p, "waiting"))});
  }
  std::fprintf(out, "\n");
  table.print(out);
}

void print_keys(const rapidjson::Value& d, FILE* out) {
  bool log = get_bool(d, "request_log", true);
  Table table({"ID", "MASK", "POOL", "ORIGIN", "STATE", "FAIL", "INFL", "1M", "1H", "24H",
               "LAST-ERROR"});
  for (const auto& k : get_array(d, "keys").GetArray()) {
    auto count = [&](const char* f) { return log ? num(get_int(k, f)) : std::string("-"); };
    std::string last = get_str(k, "last_error");
    table.add({get_str(k, "id"), get_str(k, "mask"), get_str(k, "pool"), get_str(k, "origin"),
               state_of(k), num(get_int(k, "consecutive_failures")), num(get_int(k, "in_flight")),
               count("requests_1m"), count("requests_1h"), count("requests_24h"),
               last.empty() ? "-" : last});
  }
  table.print(out);
}

void print_added(const rapidjson::Value& d, FILE* out) {
  for (const auto& k : get_array(d, "keys").GetArray()) {
    std::fprintf(out, "%s %s %s to pool %s\n",
                 get_bool(k, "added") ? "added" : "already present, not added:",
                 get_str(k, "id").c_str(), get_str(k, "mask").c_str(), get_str(k, "pool").c_str());
  }
}

void print_key_changes(const rapidjson::Value& d, const char* verb, FILE* out) {
  for (const auto& p : get_array(d, "pools").GetArray()) {  // --all
    std::fprintf(out, "%s all %lld keys of pool %s\n", verb,
                 static_cast<long long>(get_int(p, "keys")), get_str(p, "pool").c_str());
  }
  for (const auto& k : get_array(d, "keys").GetArray()) {
    std::fprintf(out, "%s %s %s in pool %s\n", verb, get_str(k, "id").c_str(),
                 get_str(k, "mask").c_str(), get_str(k, "pool").c_str());
  }
}

void print_log_line(const rapidjson::Value& e, FILE* out) {
  std::string key = get_str(e, "key");
  std::string model = get_str(e, "model");
  std::string err = get_str(e, "err");
  std::fprintf(out, "%s %lld %s %s key=%s %s ttfb=%s in=%lld out=%lld attempts=%s %s%s%s\n",
               utc_time(get_int(e, "ts_ms")).c_str(), static_cast<long long>(get_int(e, "status")),
               get_str(e, "pool", "-").c_str(), model.empty() ? "-" : model.c_str(),
               key.empty() ? "-" : key.c_str(), human_ms(get_real(e, "ms", -1)).c_str(),
               human_ms(get_real(e, "ttfb_ms", -1)).c_str(),
               static_cast<long long>(get_int(e, "tokens_in")),
               static_cast<long long>(get_int(e, "tokens_out")),
               get_str(e, "attempts").empty() ? "-" : get_str(e, "attempts").c_str(),
               get_str(e, "route").c_str(), err.empty() ? "" : " err=", err.c_str());
  std::fflush(out);
}

void print_stats(const rapidjson::Value& d, FILE* out) {
  int64_t since = get_int(d, "since_ms");
  int64_t until = get_int(d, "until_ms");
  std::fprintf(out, "from %s to %s (%s)\n\n", utc_time(since).c_str(), utc_time(until).c_str(),
               human_duration_ms(until - since).c_str());
  const std::vector<std::string> head = {"REQUESTS", "OK",     "ERRORS",  "P50",
                                         "P90",      "P99",    "MAX",     "TTFB-P50",
                                         "TTFB-P99", "TOK-IN", "TOK-OUT", "ERROR-CLASSES"};
  auto section = [&](const char* title, const char* list, bool with_pool) {
    std::vector<std::string> h;
    if (with_pool) {
      h.push_back("POOL");
    }
    h.push_back(title);
    h.insert(h.end(), head.begin(), head.end());
    Table t(h);
    if (list == nullptr) {
      t.add(group_row(d["total"], false));
    } else {
      for (const auto& g : get_array(d, list).GetArray()) {
        t.add(group_row(g, with_pool));
      }
    }
    t.print(out);
    if (list != nullptr) {
      std::string omitted = std::string(list) + "_omitted";
      if (int64_t n = get_int(d, omitted.c_str()); n > 0) {
        std::fprintf(out, "(%lld quieter ones not shown)\n", static_cast<long long>(n));
      }
    }
    std::fprintf(out, "\n");
  };
  section("", nullptr, false);
  section("POOL", "by_pool", false);
  section("KEY", "by_key", true);
  section("MODEL", "by_model", false);
}

void print_reload(const rapidjson::Value& d, FILE* out) {
  std::fprintf(out, "reloaded %s (%lld pools)\n", get_str(d, "config").c_str(),
               static_cast<long long>(get_int(d, "pools")));
  for (const auto& a : get_array(d, "opened").GetArray()) {
    std::fprintf(out, "listening on %s\n", a.GetString());
  }
  for (const auto& a : get_array(d, "closed").GetArray()) {
    std::fprintf(out, "stopped listening on %s\n", a.GetString());
  }
  for (const auto& s : get_array(d, "restart_needed").GetArray()) {
    std::fprintf(out, "warning: %s changed; it takes effect at the next restart\n", s.GetString());
  }
}

void print_help(FILE* out) {
  std::fprintf(out, "usage: gbctl [-s SOCKET] [--json] COMMAND [ARGUMENT...]\n\ncommands:\n");
  Table t({"", "", ""});
  for (const Command& c : commands()) {
    if (c.name == "hello") {
      continue;
    }
    t.add({"  " + std::string(c.words), std::string(c.synopsis), std::string(c.help)});
  }
  t.print(out);
}

}  // namespace gb::ctl
