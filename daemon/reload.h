// Loading a configuration for a reload (SIGHUP or `gbctl reload`): every error found,
// and what the new file changes that only a restart applies. Nothing is swapped here;
// Daemon::reload does that once listeners are ready.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"

namespace gb::daemon {

struct ConfigCheck {
  std::shared_ptr<const config::Config> config;  // null when the file was refused
  std::vector<config::ConfigError> errors;       // every one, sorted by position
};

// Loads `path` and runs the preflight checks (CA files).
ConfigCheck check_config(const std::string& path);

// Settings that differ between `running` and `next` but apply only at a restart.
std::vector<std::string> restart_only_changes(const config::Config& running,
                                              const config::Config& next);

}  // namespace gb::daemon
