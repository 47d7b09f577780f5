// Reload on SIGHUP: a new config snapshot, or the old one kept with every error reported.
#pragma once

#include <string>

#include "proxy/runtime.h"

namespace gb::daemon {

// Returns true if the new configuration is in force.
bool reload(const std::string& path, proxy::Runtime& rt);

}  // namespace gb::daemon
