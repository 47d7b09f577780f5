// The keys.* control commands: list, add, remove, reset, disable, enable.
#include <chrono>
#include <map>

#include "base/log.h"
#include "ctl/json.h"
#include "daemon/control_commands.h"
#include "daemon/daemon.h"
#include "store/store.h"
#include "base/wall_clock.h"

namespace gb::daemon {

using ctl::Obj;
using rapidjson::Value;

namespace {

constexpr size_t kMaxKeyLength = 512;
constexpr size_t kMaxKeysPerCall = 5000;  // a reply of 5000 keys stays under 1 MiB


Value key_json(const std::string& pool, const pool::KeyView& k, ctl::Alloc& a) {
  Value v(rapidjson::kObjectType);
  Value cooling(rapidjson::kArrayType);
  for (const auto& [model, left] : k.cooling) {
    Value m(rapidjson::kObjectType);
    Obj(m, a).str("model", model).num("remaining_ms", left.count());
    cooling.PushBack(m, a);
  }
  Obj(v, a)
      .str("id", k.id)
      .str("mask", k.mask)
      .str("pool", pool)
      .str("origin", k.runtime ? "runtime" : "config")
      .str("state", pool::key_state_name(k.state))
      .str("reason", k.reason)
      .flag("parked", k.reason == "manual")
      .num("weight", k.weight)
      .real("share", k.share)
      .num("consecutive_failures", k.consecutive_failures)
      .num("in_flight", k.in_flight)
      .num("requests", static_cast<int64_t>(k.requests))
      .num("failures", static_cast<int64_t>(k.failures))
      .num("rate_limited", static_cast<int64_t>(k.rate_limited))
      .num("tokens_in", static_cast<int64_t>(k.tokens_in))
      .num("tokens_out", static_cast<int64_t>(k.tokens_out))
      .str("last_error", k.last_error)
      .val("cooling", std::move(cooling));
  return v;
}

// A listing of many keys goes out as events of kKeysPerEvent keys each (every line
// stays far below the protocol's 1 MiB), then the end line with the totals.
constexpr size_t kKeysPerEvent = 200;

void send_key_listing(const Responder& r, rapidjson::Document& doc,
                      const Result<std::vector<store::KeyActivity>>& acts) {
  std::map<std::pair<std::string, std::string>, store::KeyActivity> by_key;
  if (acts) {
    for (const store::KeyActivity& x : acts.value()) {
      by_key[{x.pool, x.key}] = x;
    }
  }
  auto& keys = doc["keys"];
  r.begin_stream();
  rapidjson::Document chunk(rapidjson::kObjectType);
  rapidjson::Value list(rapidjson::kArrayType);
  auto& a = chunk.GetAllocator();
  size_t total = keys.Size();
  for (size_t i = 0; i < total; ++i) {
    rapidjson::Value& k = keys[static_cast<rapidjson::SizeType>(i)];
    store::KeyActivity found;
    if (auto it = by_key.find({k["pool"].GetString(), k["id"].GetString()}); it != by_key.end()) {
      found = it->second;
    }
    Value v(k, a);
    Obj(v, a)
        .num("requests_1m", static_cast<int64_t>(found.last_minute))
        .num("requests_1h", static_cast<int64_t>(found.last_hour))
        .num("requests_24h", static_cast<int64_t>(found.last_day))
        .num("errors_1h", static_cast<int64_t>(found.errors_last_hour));
    list.PushBack(v, a);
    if (list.Size() == kKeysPerEvent || i + 1 == total) {
      Value ev(rapidjson::kObjectType);
      ev.AddMember("keys", list, a);
      r.event(ev);
      chunk.SetObject();
      chunk.GetAllocator().Clear();
      list.SetArray();
    }
  }
  rapidjson::Document end(rapidjson::kObjectType);
  Obj(end, end.GetAllocator())
      .flag("request_log", doc["request_log"].GetBool())
      .num("keys", static_cast<int64_t>(total))
      .flag("activity", static_cast<bool>(acts));
  r.end(&end);
}

// A key as it may be added: printable ASCII without spaces, bounded.
bool plausible_key(const std::string& k) {
  if (k.empty() || k.size() > kMaxKeyLength) {
    return false;
  }
  for (unsigned char ch : k) {
    if (ch <= 0x20 || ch >= 0x7f) {
      return false;
    }
  }
  return true;
}

std::string names_of(const std::vector<config::Pool>& pools) {
  std::string out;
  for (const config::Pool& p : pools) {
    out += (out.empty() ? "" : ", ") + p.name;
  }
  return out;
}

}  // namespace

Result<std::vector<std::shared_ptr<pool::KeyPool>>> ControlCommands::pools_of(
    const rapidjson::Value& args) {
  auto name = ctl::arg_str(args, "pool");
  if (!name) {
    return name.error();
  }
  auto snap = d_.runtime().current();
  std::vector<std::shared_ptr<pool::KeyPool>> out;
  for (const config::Pool& p : snap->config->pools) {
    if (name.value().empty() || name.value() == p.name) {
      out.push_back(snap->pools.at(p.name));
    }
  }
  if (out.empty()) {
    return Error::make(Errc::not_found, Side::client,
                       "no pool '" + name.value() + "' (pools: " +
                           names_of(snap->config->pools) + ")");
  }
  return out;
}

Result<std::vector<ControlCommands::Target>> ControlCommands::resolve(const rapidjson::Value& args) {
  auto pools = pools_of(args);
  auto selectors = ctl::arg_strs(args, "keys");
  if (!pools || !selectors) {
    return !pools ? pools.error() : selectors.error();
  }
  if (selectors.value().empty()) {
    return Error::make(Errc::bad_request, Side::client, "name at least one key (id, mask or key)");
  }
  auto now = pool::Clock::now();
  std::vector<Target> out;
  for (const std::string& sel : selectors.value()) {
    size_t before = out.size();
    for (const auto& p : pools.value()) {
      std::vector<uint32_t> hits = p->match(sel);
      if (hits.size() > 1) {
        std::string ids;
        for (const pool::KeyView& k : p->snapshot(now)) {
          for (uint32_t i : hits) {
            if (k.index == i) {
              ids += (ids.empty() ? "" : ", ") + k.id;
            }
          }
        }
        return Error::make(Errc::ambiguous_key, Side::client,
                           "'" + sel.substr(0, 12) + "' matches " + std::to_string(hits.size()) +
                               " keys in pool " + p->name() + " (" + ids +
                               "): give more of the key or its id");
      }
      if (hits.size() == 1) {
        for (pool::KeyView& k : p->snapshot(now)) {
          if (k.index == hits[0]) {
            out.push_back(Target{p, std::move(k)});
          }
        }
      }
    }
    if (out.size() == before) {
      // Never echo what may be a whole key.
      std::string shown = sel.size() > 12 ? sel.substr(0, 8) + "…" : sel;
      std::string where = pools.value().size() == 1 ? "pool " + pools.value()[0]->name()
                                                    : std::string("any pool");
      return Error::make(Errc::not_found, Side::client,
                         "no key matches '" + shown + "' in " + where +
                             " (name a key by its id, its mask as shown, or the key)");
    }
  }
  return out;
}

void ControlCommands::keys_status(Call& c) {
  auto pools = pools_of(c.req.args);
  if (!pools) {
    c.r.error(pools.error().code, pools.error().context);
    return;
  }
  auto doc = std::make_shared<rapidjson::Document>(rapidjson::kObjectType);
  auto& a = doc->GetAllocator();
  Value keys(rapidjson::kArrayType);
  auto now = pool::Clock::now();
  for (const auto& p : pools.value()) {
    for (const pool::KeyView& k : p->snapshot(now)) {
      keys.PushBack(key_json(p->name(), k, a), a);
    }
  }
  Obj(*doc, a)
      .flag("request_log", d_.runtime().current()->config->log.requests)
      .val("keys", std::move(keys));
  c.r.hold();
  Responder r = c.r;
  Daemon* d = &d_;
  // Requests per key over the last minute, hour and day come from the request log.
  d_.store().key_activity(wall_ms(), [d, r, doc](Result<std::vector<store::KeyActivity>> acts) {
    auto shared = std::make_shared<Result<std::vector<store::KeyActivity>>>(std::move(acts));
    d->post([r, doc, shared] { send_key_listing(r, *doc, *shared); });
  });
}

void ControlCommands::keys_add(Call& c) {
  auto pools = pools_of(c.req.args);
  auto keys = ctl::arg_strs(c.req.args, "keys");
  if (!pools || !keys) {
    const Error& e = !pools ? pools.error() : keys.error();
    c.r.error(e.code, e.context);
    return;
  }
  if (pools.value().size() != 1) {
    c.r.error(Errc::bad_request, "gbd has several pools: name one (--pool)");
    return;
  }
  if (keys.value().empty() || keys.value().size() > kMaxKeysPerCall) {
    c.r.error(Errc::bad_request, "give from 1 to " + std::to_string(kMaxKeysPerCall) + " keys");
    return;
  }
  for (size_t i = 0; i < keys.value().size(); ++i) {
    if (!plausible_key(keys.value()[i])) {
      c.r.error(Errc::bad_request, "key " + std::to_string(i + 1) +
                                       " is not a key: empty, longer than 512 bytes, or "
                                       "holding spaces or control characters");
      return;
    }
  }
  auto& p = pools.value()[0];
  auto results = p->add_runtime_keys(keys.value(), pool::Clock::now(), std::chrono::system_clock::now());
  auto doc = std::make_shared<rapidjson::Document>(rapidjson::kObjectType);
  auto& a = doc->GetAllocator();
  Value list(rapidjson::kArrayType);
  for (const pool::AddResult& r : results) {
    Value v(rapidjson::kObjectType);
    Obj(v, a).str("id", r.id).str("mask", r.mask).str("pool", p->name()).flag("added", r.added);
    list.PushBack(v, a);
    LOG_INFO("key.added").kv("pool", p->name()).kv("key", r.id).kv("added", r.added);
  }
  Obj(*doc, a).val("keys", std::move(list));
  commit_then_reply(c, doc);
}

void ControlCommands::keys_remove(Call& c) {
  auto targets = resolve(c.req.args);
  if (!targets) {
    c.r.error(targets.error().code, targets.error().context);
    return;
  }
  for (const Target& t : targets.value()) {
    if (!t.key.runtime) {
      c.r.error(Errc::key_in_config,
                "key " + t.key.id + " of pool " + t.pool->name() + " comes from " +
                    d_.config_path() + ": remove it there and reload; nothing was removed");
      return;
    }
  }
  change_keys(c, "removed");
}

void ControlCommands::keys_reset(Call& c) {
  auto all = ctl::arg_bool(c.req.args, "all");
  if (!all) {
    c.r.error(all.error().code, all.error().context);
    return;
  }
  if (!all.value()) {
    change_keys(c, "reset");
    return;
  }
  auto pools = pools_of(c.req.args);
  if (!pools) {
    c.r.error(pools.error().code, pools.error().context);
    return;
  }
  auto doc = std::make_shared<rapidjson::Document>(rapidjson::kObjectType);
  auto& a = doc->GetAllocator();
  Value list(rapidjson::kArrayType);
  // Every key of the pools: counted, not listed (a pool may hold thousands).
  for (const auto& p : pools.value()) {
    p->reset_all(pool::Clock::now(), std::chrono::system_clock::now());
    Value v(rapidjson::kObjectType);
    Obj(v, a).str("pool", p->name()).num("keys", static_cast<int64_t>(p->size()));
    list.PushBack(v, a);
    LOG_INFO("key.reset").kv("pool", p->name()).kv("keys", "all");
  }
  Obj(*doc, a).str("action", "reset").flag("all", true).val("pools", std::move(list));
  commit_then_reply(c, doc);
}

void ControlCommands::keys_disable(Call& c) {
  change_keys(c, "disabled");
}

void ControlCommands::keys_enable(Call& c) {
  change_keys(c, "enabled");
}

// Resolves every selector first, so that a bad one changes nothing.
void ControlCommands::change_keys(Call& c, const char* verb) {
  auto targets = resolve(c.req.args);
  if (!targets) {
    c.r.error(targets.error().code, targets.error().context);
    return;
  }
  std::string v = verb;
  auto doc = std::make_shared<rapidjson::Document>(rapidjson::kObjectType);
  auto& a = doc->GetAllocator();
  Value list(rapidjson::kArrayType);
  for (const Target& t : targets.value()) {
    auto now = pool::Clock::now();
    auto wall = std::chrono::system_clock::now();
    if (v == "removed") {
      t.pool->remove_runtime_key(t.key.index);
    } else if (v == "reset") {
      t.pool->reset({t.key.index}, now, wall);
    } else {
      t.pool->set_manual(t.key.index, v == "disabled", now, wall);
    }
    LOG_INFO(v == "removed" ? "key.removed" : v == "reset" ? "key.reset" : "key.manual")
        .kv("pool", t.pool->name())
        .kv("key", t.key.id)
        .kv("action", v);
    Value e(rapidjson::kObjectType);
    Obj(e, a).str("id", t.key.id).str("mask", t.key.mask).str("pool", t.pool->name());
    list.PushBack(e, a);
  }
  Obj(*doc, a).str("action", v).val("keys", std::move(list));
  commit_then_reply(c, doc);
}

void ControlCommands::commit_then_reply(Call& c, std::shared_ptr<rapidjson::Document> data) {
  c.r.hold();
  Responder r = c.r;
  Daemon* d = &d_;
  d_.store().sync([d, r, data](bool ok) {
    d->post([r, data, ok] {
      if (!ok) {
        r.error(Errc::io_error,
                "the change is in force but gbd.db could not be written; gbd retries every "
                "second (see the log)");
        return;
      }
      r.ok(data.get());
    });
  });
}

}  // namespace gb::daemon
