#include "daemon/control_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "base/log.h"
#include "ctl/json.h"
#include "ctl/protocol.h"
#include "daemon/daemon.h"
#include "store/store.h"
#include "base/wall_clock.h"

namespace gb::daemon {

using ctl::Obj;
using rapidjson::Value;

namespace {

constexpr size_t kMaxStatsGroups = 500;


Value command_list(rapidjson::Document::AllocatorType& a) {
  Value list(rapidjson::kArrayType);
  for (const ctl::Command& c : ctl::commands()) {
    Value v(rapidjson::kObjectType);
    Obj(v, a)
        .str("name", c.name)
        .str("words", c.words)
        .str("synopsis", c.synopsis)
        .str("access", ctl::access_name(c.access))
        .flag("streams", c.streams)
        .str("help", c.help);
    list.PushBack(v, a);
  }
  return list;
}

Value group_json(const store::StatsGroup& g, ctl::Alloc& a) {
  Value v(rapidjson::kObjectType);
  Obj o(v, a);
  if (!g.pool.empty()) {
    o.str("pool", g.pool);
  }
  o.str("name", g.name)
      .num("requests", static_cast<int64_t>(g.requests))
      .num("ok", static_cast<int64_t>(g.ok))
      .num("errors", static_cast<int64_t>(g.errors));
  Value classes(rapidjson::kObjectType);
  for (const store::ErrorClass& e : g.error_classes) {
    Obj(classes, a).num(e.name.c_str(), static_cast<int64_t>(e.count));
  }
  o.val("error_classes", std::move(classes));
  auto pct = [&a](const store::Percentiles& p) {
    Value x(rapidjson::kObjectType);
    Obj(x, a).real("p50", p.p50).real("p90", p.p90).real("p99", p.p99).real("max", p.max);
    return x;
  };
  o.val("latency_ms", pct(g.latency_ms)).val("ttfb_ms", pct(g.ttfb_ms));
  o.num("tokens_in", g.tokens_in)
      .num("tokens_out", g.tokens_out)
      .num("tokens_thought", g.tokens_thought)
      .num("tokens_cached", g.tokens_cached);
  return v;
}

}  // namespace

ControlCommands::ControlCommands(Daemon& d) : d_(d), follow_timer_(d.loop().get()) {
  // One table: every command has exactly one handler. A mismatch is a build mistake
  // that must not reach a user.
  size_t found = 0;
  for (const ctl::Command& c : ctl::commands()) {
    found += handlers().count(c.name);
  }
  if (found != ctl::commands().size() || handlers().size() != found) {
    LOG_ERROR("internal").kv("detail", "the control command table and its handlers differ");
    std::abort();
  }
}

ControlCommands::~ControlCommands() {
  *alive_ = false;
}

const std::map<std::string_view, ControlCommands::Handler>& ControlCommands::handlers() {
  static const std::map<std::string_view, Handler> table = {
      {"hello", &ControlCommands::hello},
      {"help", &ControlCommands::help},
      {"status", &ControlCommands::status},
      {"keys.status", &ControlCommands::keys_status},
      {"keys.add", &ControlCommands::keys_add},
      {"keys.remove", &ControlCommands::keys_remove},
      {"keys.reset", &ControlCommands::keys_reset},
      {"keys.disable", &ControlCommands::keys_disable},
      {"keys.enable", &ControlCommands::keys_enable},
      {"logs.tail", &ControlCommands::logs_tail},
      {"reload", &ControlCommands::reload},
      {"stats", &ControlCommands::stats},
  };
  return table;
}

void ControlCommands::dispatch(const Peer& peer, ctl::Request& req, const Responder& r) {
  const ctl::Command* cmd = ctl::find_command(req.cmd);
  if (cmd == nullptr) {
    r.error(Errc::unknown_command, "no command '" + req.cmd + "' (gbctl help lists them)");
    return;
  }
  if (d_.stopping() && cmd->name != "hello") {
    r.error(Errc::shutting_down, "gbd is shutting down");
    return;
  }
  if (cmd->access == ctl::Access::write) {
    LOG_INFO("ctl.command").kv("cmd", cmd->name).kv("uid", peer.uid).kv("pid", peer.pid);
  }
  Call call{peer, req, r, *cmd};
  (this->*handlers().at(cmd->name))(call);
}

void ControlCommands::stop() {
  follow_timer_.stop();
  for (auto& f : followers_) {
    f->r.error(Errc::shutting_down, "gbd is shutting down");
  }
  followers_.clear();
}

void ControlCommands::hello(Call& c) {
  bool speaks = true;
  const rapidjson::Value& args = c.req.args;
  if (auto it = args.FindMember("versions"); it != args.MemberEnd()) {
    speaks = false;
    if (it->value.IsArray()) {
      for (const auto& v : it->value.GetArray()) {
        speaks |= v.IsInt() && v.GetInt() == ctl::kVersion;
      }
    }
  }
  if (!speaks) {
    c.r.error(Errc::version_unsupported,
              std::string("gbd ") + GB_VERSION + " speaks control protocol version " +
                  std::to_string(ctl::kVersion) + " only; use a gbctl of the same release");
    return;
  }
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  Obj(doc, a)
      .num("version", ctl::kVersion)
      .str("server", std::string("gbd ") + GB_VERSION)
      .num("pid", getpid())
      .val("commands", command_list(a));
  c.r.ok(&doc);
}

void ControlCommands::help(Call& c) {
  rapidjson::Document doc(rapidjson::kObjectType);
  Obj(doc, doc.GetAllocator()).val("commands", command_list(doc.GetAllocator()));
  c.r.ok(&doc);
}

void ControlCommands::status(Call& c) {
  auto snap = d_.runtime().current();
  const config::Config& cfg = *snap->config;
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  Obj o(doc, a);
  int64_t now = wall_ms();
  o.str("version", GB_VERSION)
      .num("pid", getpid())
      .num("started_ms", d_.started_ms())
      .num("uptime_s", (now - d_.started_ms()) / 1000)
      .str("config", d_.config_path())
      .num("config_loaded_ms", d_.loaded_ms())
      .num("reloads", d_.reloads())
      .num("workers", static_cast<int64_t>(d_.workers()))
      .str("control_socket", d_.control_socket())
      .str("state_db", d_.store().path());
  Value listeners(rapidjson::kArrayType);
  for (const ListenerSet::Entry& e : d_.listeners().entries()) {
    Value l(rapidjson::kObjectType);
    Obj(l, a).str("listen", e.text).str("bound", e.bound);
    listeners.PushBack(l, a);
  }
  o.val("listeners", std::move(listeners));
  Value pools(rapidjson::kArrayType);
  auto mono = pool::Clock::now();
  for (const config::Pool& p : cfg.pools) {
    pool::Counts n = snap->keys_of(p)->counts(mono);
    Value v(rapidjson::kObjectType);
    Obj(v, a)
        .str("name", p.name)
        .str("provider", config::provider_name(p.provider))
        .str("strategy", config::strategy_name(p.strategy))
        .str("base_url", p.base_url)
        .num("keys", n.active + n.cooling + n.disabled)
        .num("active", n.active)
        .num("cooling", n.cooling)
        .num("disabled", n.disabled)
        .num("waiting", n.waiting)
        .val("models", ctl::json_strs(p.models, a));
    pools.PushBack(v, a);
  }
  o.val("pools", std::move(pools));
  const http::ServerStats& s = d_.runtime().server_stats;
  store::Counters sc = d_.store().counters();
  Value totals(rapidjson::kObjectType);
  Obj(totals, a)
      .num("requests", static_cast<int64_t>(d_.requests()))
      .num("connections_open", static_cast<int64_t>(s.open.load()))
      .num("connections_accepted", static_cast<int64_t>(s.accepted.load()))
      .num("connections_refused", static_cast<int64_t>(s.refused.load()))
      .num("log_written", static_cast<int64_t>(sc.requests_written))
      .num("log_dropped", static_cast<int64_t>(sc.requests_dropped))
      .num("log_pending", static_cast<int64_t>(sc.pending_requests))
      .num("store_write_errors", static_cast<int64_t>(sc.write_errors));
  o.val("totals", std::move(totals));
  c.r.ok(&doc);
}

void ControlCommands::reload(Call& c) {
  ReloadOutcome out = d_.reload("gbctl");
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  if (!out.ok) {
    Value errors(rapidjson::kArrayType);
    for (const config::ConfigError& e : out.errors) {
      Value v(rapidjson::kObjectType);
      Obj(v, a)
          .str("file", e.file)
          .num("line", e.line)
          .num("column", e.column)
          .str("message", e.message)
          .str("text", e.to_string());
      errors.PushBack(v, a);
    }
    c.r.error(Errc::config_invalid,
              d_.config_path() + " was refused (" + std::to_string(out.errors.size()) +
                  (out.errors.size() == 1 ? " error" : " errors") +
                  "); the running configuration stays",
              &errors);
    return;
  }
  Obj(doc, a)
      .str("config", d_.config_path())
      .num("pools", static_cast<int64_t>(d_.runtime().current()->config->pools.size()))
      .val("restart_needed", ctl::json_strs(out.restart_needed, a))
      .val("opened", ctl::json_strs(out.opened, a))
      .val("closed", ctl::json_strs(out.closed, a));
  c.r.ok(&doc);
}

void ControlCommands::stats(Call& c) {
  auto window = ctl::arg_int(c.req.args, "since_ms", 3600 * 1000, 1, 3650LL * 24 * 3600 * 1000);
  auto pool = ctl::arg_str(c.req.args, "pool");
  if (!window || !pool) {
    const Error& e = !window ? window.error() : pool.error();
    c.r.error(e.code, e.context);
    return;
  }
  store::StatsQuery q;
  int64_t now = wall_ms();
  q.since_ms = now - window.value();
  q.pool = pool.value();
  c.r.hold();
  Responder r = c.r;
  Daemon* d = &d_;
  d_.store().stats(q, [d, r](Result<store::StatsReport> rep) {
    auto shared = std::make_shared<Result<store::StatsReport>>(std::move(rep));
    d->post([r, shared] {
      if (!*shared) {
        r.error(Errc::io_error, "the request log could not be read: " + shared->error().context);
        return;
      }
      const store::StatsReport& s = shared->value();
      rapidjson::Document doc(rapidjson::kObjectType);
      auto& a = doc.GetAllocator();
      // The busiest groups only: the reply stays one line well under 1 MiB however
      // many keys or models there are.
      auto list = [&a](const std::vector<store::StatsGroup>& gs) {
        Value arr(rapidjson::kArrayType);
        for (size_t i = 0; i < gs.size() && i < kMaxStatsGroups; ++i) {
          arr.PushBack(group_json(gs[i], a), a);
        }
        return arr;
      };
      auto left = [](const std::vector<store::StatsGroup>& gs) {
        return static_cast<int64_t>(gs.size() > kMaxStatsGroups ? gs.size() - kMaxStatsGroups : 0);
      };
      Obj(doc, a)
          .num("since_ms", s.since_ms)
          .num("until_ms", s.until_ms)
          .val("total", group_json(s.total, a))
          .val("by_pool", list(s.by_pool))
          .val("by_key", list(s.by_key))
          .val("by_model", list(s.by_model))
          .num("by_key_omitted", left(s.by_key))
          .num("by_model_omitted", left(s.by_model));
      r.ok(&doc);
    });
  });
}

}  // namespace gb::daemon
