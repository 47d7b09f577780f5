// TempDir, Process and run(): child processes with their output captured, and printed
// when a test fails.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include "harness.h"

extern char** environ;

namespace gbt {
namespace {

// Output of the processes a test started, printed if the test fails.
std::vector<std::string>& saved_output() {
  static std::vector<std::string> output;
  return output;
}

std::string tail(const std::string& text, size_t max) {
  return text.size() <= max ? text : "[...]\n" + text.substr(text.size() - max);
}

class OutputOnFailure : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo&) override { saved_output().clear(); }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    if (stats.totals.assertions.failed > 0) {
      for (const auto& text : saved_output()) {
        std::cout << text;
      }
    }
    saved_output().clear();
  }
};

int decode_status(int raw) {
  if (WIFEXITED(raw)) {
    return WEXITSTATUS(raw);
  }
  return 128 + WTERMSIG(raw);
}

}  // namespace

CATCH_REGISTER_LISTENER(OutputOnFailure)

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- TempDir

TempDir::TempDir() {
  std::string pattern = "/tmp/gbd-it-XXXXXX";
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("GB_KEEP_TMP") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
}

std::string TempDir::file(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

std::string TempDir::write(std::string_view name, std::string_view text) const {
  std::string path = file(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return path;
}

// --- Process

Process::Process(const TempDir& dir, std::string name, std::vector<std::string> argv)
    : name_(std::move(name)),
      out_path_(dir.file(name_ + ".out")),
      err_path_(dir.file(name_ + ".err")) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> args;
  for (auto& arg : argv) {
    args.push_back(arg.data());
  }
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  INFO("spawning " << argv[0]);
  REQUIRE(rc == 0);
}

Process::~Process() {
  if (running()) {
    kill(pid_, SIGKILL);
    int raw = 0;
    waitpid(pid_, &raw, 0);
  }
  saved_output().push_back("----- " + name_ + " stdout:\n" + tail(out_text(), 4000) + "----- " +
                           name_ + " stderr:\n" + tail(err_text(), 12000) + "\n");
}

bool Process::running() {
  if (status_ || pid_ <= 0) {
    return false;
  }
  int raw = 0;
  if (waitpid(pid_, &raw, WNOHANG) == pid_) {
    status_ = decode_status(raw);
    return false;
  }
  return true;
}

std::string Process::out_text() const {
  return read_file(out_path_);
}
std::string Process::err_text() const {
  return read_file(err_path_);
}

std::optional<std::vector<std::string>> Process::wait_for_line(const std::regex& re, Ms timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    for (const std::string& text : {out_text(), err_text()}) {
      std::istringstream lines(text);
      std::string line;
      std::smatch m;
      while (std::getline(lines, line)) {
        if (std::regex_search(line, m, re)) {
          return std::vector<std::string>(m.begin(), m.end());
        }
      }
    }
    if (Clock::now() > deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(20ms);
  }
}

std::optional<int> Process::wait_exit(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() > deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(10ms);
  }
  return status_;
}

int Process::stop(Ms timeout) {
  if (running()) {
    kill(pid_, SIGTERM);
  }
  if (auto status = wait_exit(timeout)) {
    return *status;
  }
  kill(pid_, SIGKILL);
  int raw = 0;
  waitpid(pid_, &raw, 0);
  status_ = decode_status(raw);
  return *status_;
}

long Process::rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

RunResult run(const TempDir& dir, std::vector<std::string> argv, Ms timeout) {
  static int counter = 0;
  Process process(dir, "run" + std::to_string(++counter), std::move(argv));
  RunResult result;
  result.status = process.wait_exit(timeout).value_or(-1);
  result.out = process.out_text();
  result.err = process.err_text();
  return result;
}

}  // namespace gbt
