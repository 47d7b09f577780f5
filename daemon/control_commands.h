// ControlCommands: the handlers of the control commands, dispatched from the command
// table (lib/ctl/commands.h). Main loop thread only.
//
// Handlers that need the store (keys status, stats, logs) or a commit to gbd.db before
// they answer (every change) ask the store thread and answer when it posts back onto
// the main loop. `logs.tail -f` followers are polled every kFollowMs: each asks the
// request log for the rows after the last one it sent.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/commands.h"
#include "daemon/control_server.h"
#include "pool/key_pool.h"
#include "store/request_query.h"
#include "uv/loop.h"

namespace gb::daemon {

class Daemon;

class ControlCommands {
 public:
  explicit ControlCommands(Daemon& d);
  ~ControlCommands();

  void dispatch(const Peer& peer, ctl::Request& req, const Responder& r);
  // Shutdown: ends every follow stream with shutting_down.
  void stop();

  static constexpr uint64_t kFollowMs = 250;

 private:
  struct Call {
    const Peer& peer;
    ctl::Request& req;
    Responder r;
    const ctl::Command& cmd;
  };
  using Handler = void (ControlCommands::*)(Call& c);
  static const std::map<std::string_view, Handler>& handlers();

  // A key that a selector named, in one pool.
  struct Target {
    std::shared_ptr<pool::KeyPool> pool;
    pool::KeyView key;
  };
  struct Follower {
    Responder r;
    store::RequestQuery q;
    bool busy = false;  // a query is out
  };

  void hello(Call& c);
  void help(Call& c);
  void status(Call& c);
  void keys_status(Call& c);
  void keys_add(Call& c);
  void keys_remove(Call& c);
  void keys_reset(Call& c);
  void keys_disable(Call& c);
  void keys_enable(Call& c);
  void logs_tail(Call& c);
  void reload(Call& c);
  void stats(Call& c);

  // The pools a command acts on: the one named by args.pool, or all of them.
  Result<std::vector<std::shared_ptr<pool::KeyPool>>> pools_of(const rapidjson::Value& args);
  // Every key args.keys names; refused when one matches nothing or several keys.
  Result<std::vector<Target>> resolve(const rapidjson::Value& args);
  void change_keys(Call& c, const char* verb);
  // Replies once gbd.db has committed the change.
  void commit_then_reply(Call& c, std::shared_ptr<rapidjson::Document> data);
  void poll_followers();

  Daemon& d_;
  std::vector<std::shared_ptr<Follower>> followers_;
  uv::Timer follow_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gb::daemon
