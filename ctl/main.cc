// gbctl: the command-line client of gbd's control socket (gbctl(1)).
//
// Each subcommand builds the protocol arguments of one command of the table
// (lib/ctl/commands.h), calls it over the socket and prints the reply: readable text by
// default, the reply's JSON with --json. Exit status: 0 ok, 1 refused or failed, 2
// usage, 3 gbd not reachable.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "base/units.h"
#include "ctl/client.h"
#include "ctl/json.h"
#include "render.h"

namespace {

using gb::ctl::Obj;
using rapidjson::Document;

constexpr int kOk = 0, kRefused = 1, kUsage = 2, kUnreachable = 3;

struct Options {
  std::string socket;
  bool json = false;
  std::string pool;
  std::vector<std::string> keys;
  bool all = false;
  int64_t n = 20;
  bool follow = false;
  bool errors = false;
  std::string model, key;
  std::string since = "1h";
};

// Keys from standard input: one a line, blank lines and '#' comments skipped.
std::vector<std::string> read_keys(std::istream& in) {
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    size_t b = line.find_first_not_of(" \t\r");
    size_t e = line.find_last_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') {
      continue;
    }
    out.push_back(line.substr(b, e - b + 1));
  }
  return out;
}

int report_failure(const gb::ctl::Client& c, bool json) {
  const auto& f = c.failure();
  if (json) {
    Document d(rapidjson::kObjectType);
    Document details;
    Obj e(d, d.GetAllocator());
    rapidjson::Value err(rapidjson::kObjectType);
    Obj(err, d.GetAllocator()).str("code", f.code.empty() ? (f.unreachable ? "unreachable" : "failed") : f.code).str("message", f.message);
    if (!f.details.empty() && !details.Parse(f.details.c_str()).HasParseError()) {
      err.AddMember("details", rapidjson::Value(details, d.GetAllocator()), d.GetAllocator());
    }
    e.val("error", std::move(err));
    std::printf("%s\n", gb::ctl::to_json(d).c_str());
  } else {
    std::fprintf(stderr, "gbctl: %s%s%s\n", f.message.c_str(), f.code.empty() ? "" : " [",
                 f.code.empty() ? "" : (f.code + "]").c_str());
    Document details;
    if (!f.details.empty() && !details.Parse(f.details.c_str()).HasParseError() &&
        details.IsArray()) {
      for (const auto& d : details.GetArray()) {
        std::fprintf(stderr, "%s\n", gb::ctl::get_str(d, "text").c_str());
      }
    }
  }
  return f.unreachable ? kUnreachable : kRefused;
}

// Connects, runs one command, prints its reply with `print` (or as JSON).
int run(const Options& o, std::string_view cmd, const rapidjson::Value& args,
        void (*print)(const rapidjson::Value&, FILE*)) {
  gb::ctl::Client c;
  Document data;
  if (!c.open(o.socket) || !c.call(cmd, args, &data)) {
    return report_failure(c, o.json);
  }
  if (o.json) {
    std::printf("%s\n", gb::ctl::to_json(data).c_str());
  } else if (print != nullptr) {
    print(data, stdout);
  }
  return kOk;
}

// keys.status sends its keys in events: gathered here into one reply.
int run_keys(const Options& o, const rapidjson::Value& args) {
  gb::ctl::Client c;
  Document data;
  Document all(rapidjson::kObjectType);
  rapidjson::Value keys(rapidjson::kArrayType);
  auto on_event = [&](const rapidjson::Value& ev) {
    for (const auto& k : gb::ctl::get_array(ev, "keys").GetArray()) {
      keys.PushBack(rapidjson::Value(k, all.GetAllocator()), all.GetAllocator());
    }
  };
  if (!c.open(o.socket) || !c.call("keys.status", args, &data, on_event)) {
    return report_failure(c, o.json);
  }
  Obj(all, all.GetAllocator())
      .flag("request_log", gb::ctl::get_bool(data, "request_log", true))
      .val("keys", std::move(keys));
  if (o.json) {
    std::printf("%s\n", gb::ctl::to_json(all).c_str());
  } else {
    gb::ctl::print_keys(all, stdout);
  }
  return kOk;
}

// keys.add in batches, so that every request and reply line stays small.
int run_add(const Options& o) {
  constexpr size_t kBatch = 1000;
  gb::ctl::Client c;
  if (!c.open(o.socket)) {
    return report_failure(c, o.json);
  }
  Document all(rapidjson::kObjectType);
  rapidjson::Value keys(rapidjson::kArrayType);
  for (size_t i = 0; i < o.keys.size(); i += kBatch) {
    Document args(rapidjson::kObjectType);
    auto& a = args.GetAllocator();
    if (!o.pool.empty()) {
      Obj(args, a).str("pool", o.pool);
    }
    std::vector<std::string> batch(o.keys.begin() + static_cast<std::ptrdiff_t>(i),
                                   o.keys.begin() + static_cast<std::ptrdiff_t>(std::min(i + kBatch, o.keys.size())));
    Obj(args, a).val("keys", gb::ctl::json_strs(batch, a));
    Document data;
    if (!c.call("keys.add", args, &data)) {
      if (i > 0) {
        std::fprintf(stderr, "gbctl: the first %zu keys were added\n", i);
      }
      return report_failure(c, o.json);
    }
    for (const auto& k : gb::ctl::get_array(data, "keys").GetArray()) {
      keys.PushBack(rapidjson::Value(k, all.GetAllocator()), all.GetAllocator());
    }
  }
  Obj(all, all.GetAllocator()).val("keys", std::move(keys));
  if (o.json) {
    std::printf("%s\n", gb::ctl::to_json(all).c_str());
  } else {
    gb::ctl::print_added(all, stdout);
  }
  return kOk;
}

int run_logs(const Options& o, const rapidjson::Value& args) {
  gb::ctl::Client c;
  Document data;
  bool json = o.json;
  auto on_event = [json](const rapidjson::Value& ev) {
    if (json) {
      std::printf("%s\n", gb::ctl::to_json(ev).c_str());
      std::fflush(stdout);
    } else {
      gb::ctl::print_log_line(ev, stdout);
    }
  };
  if (!c.open(o.socket) || !c.call("logs.tail", args, &data, on_event)) {
    return report_failure(c, o.json);
  }
  return kOk;
}

std::string default_socket() {
  const char* env = std::getenv("GBCTL_SOCKET");
  return env != nullptr && *env != '\0' ? env : "/run/gbd/gbd.sock";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gbctl - control a running gbd (see gbctl(1))"};
  app.set_version_flag("-V,--version", std::string("gbctl ") + GB_VERSION);
  Options o;
  o.socket = default_socket();
  app.add_option("-s,--socket", o.socket, "control socket of gbd ($GBCTL_SOCKET, /run/gbd/gbd.sock)");
  app.add_flag("--json", o.json, "print replies as JSON");
  app.require_subcommand(1);
  app.fallthrough();

  Document args(rapidjson::kObjectType);
  auto& a = args.GetAllocator();

  auto* help = app.add_subcommand("help", "list the commands");
  auto* status = app.add_subcommand("status", "version, uptime, listeners, pools and totals");

  auto* keys = app.add_subcommand("keys", "show and change the keys")->require_subcommand(1);
  auto* kstatus = keys->add_subcommand("status", "every key and its state")->alias("list");
  kstatus->add_option("pool", o.pool, "only this pool");
  auto* kadd = keys->add_subcommand("add", "add runtime keys ('-' reads stdin)");
  auto* kremove = keys->add_subcommand("remove", "remove runtime keys");
  auto* kreset = keys->add_subcommand("reset", "clear failures, cooldowns and disables");
  auto* kdisable = keys->add_subcommand("disable", "park keys by hand");
  auto* kenable = keys->add_subcommand("enable", "bring keys back");
  for (auto* sub : {kadd, kremove, kreset, kdisable, kenable}) {
    sub->add_option("--pool", o.pool, "the pool (needed for add when there are several)");
  }
  kadd->add_option("keys", o.keys, "keys, or - to read them from stdin")->required();
  for (auto* sub : {kremove, kdisable, kenable}) {
    sub->add_option("keys", o.keys, "key ids, masks or keys")->required();
  }
  kreset->add_option("keys", o.keys, "key ids, masks or keys");
  kreset->add_flag("--all", o.all, "every key (of --pool, or of every pool)");

  auto* logs = app.add_subcommand("logs", "the request log")->require_subcommand(1);
  auto* tail = logs->add_subcommand("tail", "the last requests; -f follows new ones");
  tail->add_option("-n", o.n, "how many past requests (default 20)")->check(CLI::Range(0, 10000));
  tail->add_flag("-f,--follow", o.follow, "keep printing new requests");
  tail->add_flag("--errors", o.errors, "only failed requests");
  tail->add_option("--pool", o.pool, "only this pool");
  tail->add_option("--model", o.model, "only this model");
  tail->add_option("--key", o.key, "only this key id");

  auto* reload = app.add_subcommand("reload", "reload the config file and print the outcome");
  auto* stats = app.add_subcommand("stats", "requests, errors, latency and tokens");
  stats->add_option("--since", o.since, "window ending now, like 15m, 1h, 7d (default 1h)");
  stats->add_option("--pool", o.pool, "only this pool");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);  // --help and --version end here too, with 0
    return rc == 0 ? kOk : kUsage;
  }

  Obj args_obj(args, a);
  if (!o.pool.empty()) {
    args_obj.str("pool", o.pool);
  }
  if (help->parsed()) {
    gb::ctl::print_help(stdout);
    return kOk;
  }
  if (status->parsed()) {
    return run(o, "status", args, gb::ctl::print_status);
  }
  if (reload->parsed()) {
    return run(o, "reload", args, gb::ctl::print_reload);
  }
  if (stats->parsed()) {
    gb::Duration d{};
    if (!gb::parse_duration(o.since, &d) || d.count() <= 0) {
      std::fprintf(stderr, "gbctl: --since wants a duration like 15m, 1h or 7d, not '%s'\n",
                   o.since.c_str());
      return kUsage;
    }
    args_obj.num("since_ms", d.count());
    return run(o, "stats", args, gb::ctl::print_stats);
  }
  if (tail->parsed()) {
    args_obj.num("n", o.n).flag("follow", o.follow).flag("errors", o.errors);
    if (!o.model.empty()) {
      args_obj.str("model", o.model);
    }
    if (!o.key.empty()) {
      args_obj.str("key", o.key);
    }
    return run_logs(o, args);
  }
  if (kstatus->parsed()) {
    return run_keys(o, args);
  }
  if (kadd->parsed()) {
    if (o.keys.size() == 1 && o.keys[0] == "-") {
      o.keys = read_keys(std::cin);
      if (o.keys.empty()) {
        std::fprintf(stderr, "gbctl: no keys on standard input\n");
        return kUsage;
      }
    } else {
      std::fprintf(stderr,
                   "gbctl: warning: keys on the command line can be seen by other users (ps) "
                   "and stay in the shell history; 'gbctl keys add -' reads them from stdin\n");
    }
    return run_add(o);
  }
  if (kreset->parsed() && o.all == !o.keys.empty()) {
    std::fprintf(stderr, "gbctl: keys reset wants keys or --all (not both)\n");
    return kUsage;
  }
  args_obj.val("keys", gb::ctl::json_strs(o.keys, a));
  if (kremove->parsed()) {
    return run(o, "keys.remove", args,
               [](const rapidjson::Value& d, FILE* f) { gb::ctl::print_key_changes(d, "removed", f); });
  }
  if (kreset->parsed()) {
    args_obj.flag("all", o.all);
    return run(o, "keys.reset", args,
               [](const rapidjson::Value& d, FILE* f) { gb::ctl::print_key_changes(d, "reset", f); });
  }
  if (kdisable->parsed()) {
    return run(o, "keys.disable", args,
               [](const rapidjson::Value& d, FILE* f) { gb::ctl::print_key_changes(d, "parked", f); });
  }
  return run(o, "keys.enable", args,
             [](const rapidjson::Value& d, FILE* f) { gb::ctl::print_key_changes(d, "enabled", f); });
}
