// ListenerSet: the listen addresses of the running config, open on every worker.
//
// Each worker has its own SO_REUSEPORT socket per address. At startup the sockets are
// bound before the workers' loops run; at a reload new addresses are bound on each
// worker's own thread (a libuv handle belongs to one loop) while the main thread waits,
// and addresses the new config dropped are closed there: their connections finish the
// request they are serving and close (nginx keeps old workers for that; here the
// connection itself drains).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/url.h"
#include "proxy/worker.h"

namespace gb::daemon {

class ListenerSet {
 public:
  struct Entry {
    std::string text;   // as written in the config: "127.0.0.1:0"
    std::string bound;  // the address bound: "127.0.0.1:43127"
    uint64_t tag = 0;
  };

  explicit ListenerSet(std::vector<std::unique_ptr<proxy::Worker>>& workers) : workers_(workers) {}

  // Before the workers start: binds every address. The error names the address.
  Result<bool> open_all(const std::vector<ListenAddr>& addrs);
  // Workers running: binds the addresses of `want` that are not open. All or nothing:
  // on failure the ones bound here are closed again. Returns the addresses opened.
  Result<std::vector<std::string>> open_new(const std::vector<ListenAddr>& want);
  // Workers running: closes the open addresses `want` does not name; returns them.
  std::vector<std::string> close_removed(const std::vector<ListenAddr>& want);

  const std::vector<Entry>& entries() const { return entries_; }

 private:
  using Bind = std::function<Result<uint16_t>(proxy::Worker&, const sockaddr*, uint64_t)>;
  Result<Entry> open_one(const ListenAddr& a, const Bind& bind);
  void close_tag(uint64_t tag);

  std::vector<std::unique_ptr<proxy::Worker>>& workers_;
  std::vector<Entry> entries_;
  uint64_t next_tag_ = 1;
};

}  // namespace gb::daemon
