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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here too (exit 0); any other parse error is a usage error.
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (app.remaining().empty()) {
    std::printf("%s", app.help().c_str());
    return 2;
  }
  std::fprintf(stderr, "gbctl: the control socket is not implemented in this version of gbd\n");
  return 3;
}
