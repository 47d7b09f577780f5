// gbd: arguments and configuration; daemon/daemon.cc does the rest.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "base/log.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "daemon/reload.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/gbd/gbd.toml";

struct Args {
  std::string config = kDefaultConfig;
  bool test_only = false;
};

void usage(FILE* out) {
  std::fprintf(out,
               "usage: gbd [-t] [-c FILE]\n"
               "  -c FILE     configuration file (default %s)\n"
               "  -t          check the configuration file and exit\n"
               "  -v, --version  print the version and exit\n"
               "  -h, --help     print this help and exit\n",
               kDefaultConfig);
}

// Returns -1 to go on, or an exit status.
int parse_args(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-c" && i + 1 < argc) {
      a->config = argv[++i];
    } else if (arg == "-t") {
      a->test_only = true;
    } else if (arg == "-v" || arg == "--version") {
      std::printf("gbd %s\n", GB_VERSION);
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "gbd: unknown argument '%s'\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (int rc = parse_args(argc, argv, &args); rc >= 0) {
    return rc;
  }
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    gb::log::set_journal(true);  // stderr goes to the journal: priorities, no timestamps
  }
  gb::daemon::ConfigCheck chk = gb::daemon::check_config(args.config);
  for (const auto& e : chk.errors) {
    std::fprintf(stderr, "%s\n", e.to_string().c_str());
  }
  if (!chk.config) {
    return 1;
  }
  if (args.test_only) {
    std::fprintf(stderr, "gbd: the configuration file %s syntax is ok\n", args.config.c_str());
    return 0;
  }
  gb::log::set_level(chk.config->log.level);
  signal(SIGPIPE, SIG_IGN);
  gb::daemon::Daemon daemon(args.config, chk.config);
  return daemon.run();
}
