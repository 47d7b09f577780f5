#include "ctl/commands.h"

#include <array>

namespace gb::ctl {

namespace {
constexpr std::array kCommands{
    Command{"hello", "hello", "", Access::read, false,
            "agree on the protocol version; the daemon's version and commands"},
    Command{"help", "help", "", Access::read, false, "list the commands"},
    Command{"status", "status", "", Access::read, false,
            "version, uptime, config file, listeners, pools and totals"},
    Command{"keys.status", "keys status", "[POOL]", Access::read, true,
            "every key: state, cooldowns, failures, in flight, requests 1m/1h/24h, last error"},
    Command{"keys.add", "keys add", "[--pool P] KEY... | -", Access::write, false,
            "add runtime keys (kept in gbd.db across restarts); '-' reads them from stdin"},
    Command{"keys.remove", "keys remove", "[--pool P] ID|KEY...", Access::write, false,
            "remove runtime keys (config keys are removed by editing the config)"},
    Command{"keys.reset", "keys reset", "[--pool P] ID|KEY... | --all", Access::write, false,
            "clear failures, cooldowns and disables: keys back to active"},
    Command{"keys.disable", "keys disable", "[--pool P] ID|KEY...", Access::write, false,
            "park keys by hand until enabled (never probed)"},
    Command{"keys.enable", "keys enable", "[--pool P] ID|KEY...", Access::write, false,
            "bring parked or disabled keys back"},
    Command{"logs.tail", "logs tail",
            "[-n N] [-f] [--errors] [--pool P] [--model M] [--key ID]", Access::read, true,
            "the last requests from the request log; -f follows new ones live"},
    Command{"reload", "reload", "", Access::write, false,
            "reload the config file; a bad file is refused with every error"},
    Command{"stats", "stats", "[--since DURATION] [--pool P]", Access::read, false,
            "requests, errors, latency and tokens, per pool, key and model"},
};
}  // namespace

std::span<const Command> commands() {
  return kCommands;
}

const Command* find_command(std::string_view name) {
  for (const Command& c : kCommands) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

const char* access_name(Access a) {
  return a == Access::write ? "write" : "read";
}

}  // namespace gb::ctl
