// The command table: every control command, once (HAProxy's cli_kws).
//
// The daemon dispatches from it (each entry has exactly one handler there), gbctl's
// `help` prints it, and gbctl(1)'s COMMANDS list follows it (a test compares them).
#pragma once

#include <span>
#include <string_view>

namespace gb::ctl {

enum class Access {
  read,   // looks only
  write,  // changes state: logged with the peer's uid, committed to gbd.db before the reply
};

struct Command {
  std::string_view name;      // protocol name: "keys.reset"
  std::string_view words;     // gbctl words: "keys reset"
  std::string_view synopsis;  // gbctl arguments: "[--pool P] ID|KEY... | --all"
  Access access;
  bool streams;               // may answer with event lines before its reply
  std::string_view help;      // one line
};

std::span<const Command> commands();
const Command* find_command(std::string_view name);
const char* access_name(Access a);

}  // namespace gb::ctl
