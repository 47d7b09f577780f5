// gbctl: the command-line client of gbd's control socket.
// This first version knows its version and says plainly what it cannot do yet.
#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app{"gbctl - control a running gbd"};
  app.set_version_flag("-V,--version", std::string("gbctl ") + GB_VERSION);
  std::string socket_path = "/run/gbd/gbd.sock";
  app.add_option("-s,--socket", socket_path, "control socket of gbd");
  bool json = false;
  app.add_flag("--json", json, "machine-readable output");
  app.allow_extras();
  CLI11_PARSE(app, argc, argv);
  if (app.remaining().empty()) {
    std::printf("%s", app.help().c_str());
    return 2;
  }
  std::fprintf(stderr, "gbctl: the control socket is not implemented in this version of gbd\n");
  return 3;
}
