#include "ctl/commands.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <string_view>

using gb::ctl::Access;
using gb::ctl::Command;
using gb::ctl::commands;
using gb::ctl::find_command;

namespace {

// The commands that change state. A new command is read-only until it is added here on
// purpose, and then it is logged and committed before its reply (commands.h).
const std::set<std::string_view> kWriteCommands = {
    "keys.add", "keys.remove", "keys.reset", "keys.disable", "keys.enable", "reload",
};

// The commands that may answer with event lines before their reply.
const std::set<std::string_view> kStreamingCommands = {"logs.tail", "keys.status"};

}  // namespace

TEST_CASE("command names and words are unique", "[ctl]") {
  std::set<std::string_view> names, words;
  REQUIRE_FALSE(commands().empty());
  for (const Command& c : commands()) {
    INFO(c.name);
    CHECK(names.insert(c.name).second);
    CHECK(words.insert(c.words).second);
  }
}

TEST_CASE("every command has a name, words and one line of help", "[ctl]") {
  for (const Command& c : commands()) {
    INFO(c.name);
    CHECK_FALSE(c.name.empty());
    CHECK_FALSE(c.words.empty());
    CHECK_FALSE(c.help.empty());
    CHECK(c.help.find('\n') == std::string_view::npos);
    CHECK(c.synopsis.find('\n') == std::string_view::npos);
    // Lower-case words of letters, one space apart: gbctl's parser and gbctl(1) rely on it.
    CHECK(c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz.") == std::string_view::npos);
    CHECK(c.words.find("  ") == std::string_view::npos);
    CHECK(c.words.front() != ' ');
    CHECK(c.words.back() != ' ');
  }
}

TEST_CASE("a command's protocol name is its words joined by dots", "[ctl]") {
  for (const Command& c : commands()) {
    std::string joined(c.words);
    for (char& ch : joined) {
      if (ch == ' ') {
        ch = '.';
      }
    }
    CHECK(joined == c.name);
  }
}

TEST_CASE("find_command finds every command by name and nothing else", "[ctl]") {
  for (const Command& c : commands()) {
    INFO(c.name);
    const Command* found = find_command(c.name);
    REQUIRE(found != nullptr);
    CHECK(found == &c);
  }
  for (std::string_view unknown : {"", "keys", "keys status", "keys.", "Keys.status", "keys.list",
                                   "status ", "stat", "logs.tail.x", "nope"}) {
    INFO("'" << unknown << "'");
    CHECK(find_command(unknown) == nullptr);
  }
}

TEST_CASE("exactly the commands that change state are write commands", "[ctl]") {
  std::set<std::string_view> writes;
  for (const Command& c : commands()) {
    if (c.access == Access::write) {
      writes.insert(c.name);
    }
  }
  CHECK(writes == kWriteCommands);
  for (std::string_view name : kWriteCommands) {
    INFO(name);
    CHECK(find_command(name) != nullptr);
  }
}

TEST_CASE("only logs.tail and keys.status stream", "[ctl]") {
  std::set<std::string_view> streaming;
  for (const Command& c : commands()) {
    if (c.streams) {
      streaming.insert(c.name);
    }
  }
  CHECK(streaming == kStreamingCommands);
  for (std::string_view name : kStreamingCommands) {
    REQUIRE(find_command(name) != nullptr);
    CHECK(find_command(name)->access == Access::read);
  }
}

TEST_CASE("hello and help are in the table", "[ctl]") {
  // gbctl begins every session with hello; help is answered without the daemon.
  for (std::string_view name : {"hello", "help"}) {
    INFO(name);
    const Command* c = find_command(name);
    REQUIRE(c != nullptr);
    CHECK(c->access == Access::read);
    CHECK_FALSE(c->streams);
  }
}

TEST_CASE("access_name gives the words of the log", "[ctl]") {
  CHECK(std::string(gb::ctl::access_name(Access::read)) == "read");
  CHECK(std::string(gb::ctl::access_name(Access::write)) == "write");
}
