// Checks that need more than the config file itself: that each https pool's CA file loads.
// Run by `gbd -t`, at startup and on reload, so a bad trust store fails early and plainly
// instead of at the first request.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace gb::daemon {

std::vector<std::string> preflight(const config::Config& cfg);

}  // namespace gb::daemon
