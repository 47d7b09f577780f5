#include "daemon/reload.h"

#include "daemon/preflight.h"

namespace gb::daemon {

ConfigCheck check_config(const std::string& path) {
  ConfigCheck out;
  auto loaded = config::load_file(path);
  if (auto* errs = std::get_if<std::vector<config::ConfigError>>(&loaded)) {
    out.errors = std::move(*errs);
    return out;
  }
  auto cfg = std::get<std::shared_ptr<const config::Config>>(loaded);
  for (std::string& p : preflight(*cfg)) {
    out.errors.push_back(config::ConfigError{path, 0, 0, std::move(p)});
  }
  if (out.errors.empty()) {
    out.config = std::move(cfg);
  }
  return out;
}

std::vector<std::string> restart_only_changes(const config::Config& a, const config::Config& b) {
  std::vector<std::string> out;
  // The number of workers is fixed at start; the state database and the control
  // socket are opened once.
  auto check = [&out](bool changed, const char* name) {
    if (changed) {
      out.push_back(name);
    }
  };
  check(a.server.workers != b.server.workers, "workers");
  check(a.server.state_dir != b.server.state_dir, "state_dir");
  check(a.server.control_socket != b.server.control_socket, "control_socket");
  return out;
}

}  // namespace gb::daemon
