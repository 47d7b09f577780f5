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
  // Workers and the server-side limits are read when a worker starts; the state
  // database and the control socket are opened once.
  auto check = [&out](bool changed, const char* name) {
    if (changed) {
      out.push_back(name);
    }
  };
  check(a.server.workers != b.server.workers, "workers");
  check(a.server.state_dir != b.server.state_dir, "state_dir");
  check(a.server.control_socket != b.server.control_socket, "control_socket");
  const config::Limits& x = a.limits;
  const config::Limits& y = b.limits;
  check(x.max_body != y.max_body, "max_body");
  check(x.max_header != y.max_header, "max_header");
  check(x.max_connections != y.max_connections, "max_connections");
  check(x.header_timeout != y.header_timeout, "header_timeout");
  check(x.idle_timeout != y.idle_timeout, "idle_timeout");
  check(x.send_timeout != y.send_timeout, "send_timeout");
  return out;
}

}  // namespace gb::daemon
