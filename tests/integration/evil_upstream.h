// EvilUpstream: a tiny scripted HTTP upstream that misbehaves on purpose.
//
// A blocking TCP server on 127.0.0.1:0, run by its own threads (one accepting, one per
// connection). For every request it reads the head (up to the blank line) and a
// Content-Length body, asks the script what to do, writes the scripted bytes verbatim
// (garbage, cut bodies, stalls...), then keeps the connection open for the next request,
// closes it, or resets it. It counts connections and requests and keeps what it saw.
//
// Nothing here uses Catch assertions off the main thread; the destructor stops every
// thread, so a test that fails halfway leaves nothing running.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness.h"

namespace gbt {

// One request as the evil upstream received it.
struct EvilRequest {
  size_t connection = 0;  // 0-based, in order of accept
  size_t index = 0;       // 0-based position of the request on its connection
  std::string head;       // request line and headers, with the final blank line
  std::string body;

  std::string header(std::string_view name) const;  // first value (trimmed), or ""
  std::string api_key() const { return header("x-goog-api-key"); }
};

// What happens to a connection after the scripted bytes went out.
enum class After {
  keep_open,  // read the next request on it (or hang until the peer leaves)
  close,      // FIN
  reset,      // RST (SO_LINGER 0)
};

struct EvilReply {
  std::vector<std::string> parts;  // written in order; may be empty (never answer)
  Ms gap = 0ms;                    // pause between two parts
  After after = After::close;
};

class EvilUpstream {
 public:
  using Script = std::function<EvilReply(const EvilRequest&)>;

  explicit EvilUpstream(Script script);
  ~EvilUpstream();
  EvilUpstream(const EvilUpstream&) = delete;
  EvilUpstream& operator=(const EvilUpstream&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;  // http://127.0.0.1:PORT

  size_t connections() const { return connections_.load(); }
  size_t requests() const { return requests_.load(); }
  // Every request received so far, in order of arrival.
  std::vector<EvilRequest> seen() const;

 private:
  void accept_loop();
  void serve(int fd, size_t connection);
  // Waits until fd is ready for `events` or the upstream stops; false on stop or timeout.
  bool wait_ready(int fd, short events, Ms timeout) const;
  bool write_all(int fd, std::string_view bytes) const;
  // Sleeps for `duration`; false when the upstream is stopping.
  bool pause(Ms duration) const;

  Script script_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> requests_{0};
  mutable std::mutex mu_;
  std::vector<EvilRequest> seen_;
  std::vector<std::thread> handlers_;
  std::thread acceptor_;
};

// "HTTP/1.1 200 OK" with a JSON body and its Content-Length (keep-alive).
std::string evil_ok_response(std::string_view body = R"({"candidates":[]})");

}  // namespace gbt
