#include "daemon/preflight.h"

#include <set>

#include "net/tls.h"

namespace gb::daemon {

std::vector<std::string> preflight(const config::Config& cfg) {
  std::vector<std::string> errors;
  std::set<std::string> checked;
  for (const config::Pool& p : cfg.pools) {
    if (!p.origin.tls || !checked.insert(p.ca_file).second) {
      continue;
    }
    auto ctx = net::TlsClientContext::create(p.ca_file);
    if (!ctx) {
      errors.push_back(cfg.path + ": pool " + p.name + ": ca_file: " + ctx.error().context);
    }
  }
  return errors;
}

}  // namespace gb::daemon
