// ControlServer: gbd's Unix control socket (DESIGN §5), on the main loop.
//
// Accepts gbctl connections, checks each peer (SO_PEERCRED: root, the daemon's uid, or
// a member of the socket's group), splits NDJSON lines (at most ctl::kMaxLine), and
// hands each request to the command table's handler. Handlers answer through a
// Responder, now or later (after a store query or a commit): a Responder names its
// connection by number, so an answer for a connection that has gone is dropped and a
// client that leaves mid-stream costs nothing.
//
// Bounds per connection: at most kMaxOutstanding answers owed or streams open, and
// kWriteWindow bytes on the socket; beyond either, gbd stops reading the connection's
// requests until it catches up, so neither pipelining nor not reading grows memory or
// the store's queue. A connection that sends nothing for idle_timeout is closed unless
// it has answers or a stream outstanding.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/units.h"
#include "ctl/protocol.h"
#include "uv/loop.h"

namespace gb::daemon {

class ControlServer;

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Where the answer to one request goes. Copyable; safe to use after the connection is
// gone (every call then does nothing). Main loop thread only.
class Responder {
 public:
  Responder(ControlServer* server, uint64_t conn, int64_t id) : server_(server), conn_(conn), id_(id) {}

  bool alive() const;
  int64_t id() const { return id_; }
  void ok(const rapidjson::Value* data = nullptr) const;
  void error(Errc code, std::string_view message, const rapidjson::Value* details = nullptr) const;
  // Streams: begin() before the first event keeps the connection from idling out;
  // end() sends the closing line.
  void begin_stream() const;
  void event(const rapidjson::Value& ev) const;
  void end(const rapidjson::Value* data = nullptr) const;
  // An answer will come later (call before copying the Responder into a callback): the
  // connection does not idle out until it is sent.
  void hold();
  // Bytes written but not yet taken by the peer.
  size_t queued() const;

 private:
  void send(std::string line, int pending_delta, int stream_delta) const;

  ControlServer* server_;
  uint64_t conn_;
  int64_t id_;
  bool held_ = false;
};

class ControlServer {
 public:
  // Runs on the loop for each request that parsed; replies through `r` (exactly once).
  using Dispatch = std::function<void(const Peer& peer, ctl::Request& req, const Responder& r)>;

  struct Options {
    std::string path;
    Duration idle_timeout{60000};
    unsigned max_clients = 64;
  };

  ControlServer(uv::Loop& loop, Dispatch dispatch);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Creates the socket: refuses a path where another process answers, replaces a stale
  // socket file, binds, mode 0660. Error says what to do.
  Result<bool> open(const Options& opt);
  // Limits from a reloaded config (the path stays).
  void set_limits(Duration idle_timeout, unsigned max_clients);
  // Stops accepting, ends every connection (streams get shutting_down), removes the
  // socket file. The loop can then end.
  void close();
  size_t clients() const { return conns_.size(); }

  // Answers owed and streams open per connection; past it, its requests wait.
  static constexpr int kMaxOutstanding = 4;
  // Bytes handed to the socket at a time; more wait in the connection's backlog, and
  // past it the connection's requests wait too.
  static constexpr size_t kWriteWindow = 1024 * 1024;

 private:
  friend class Responder;
  struct Conn;

  static void on_connection(uv_stream_t* server, int status);
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);
  void accept_one();
  void start_reading(Conn& c);
  void stop_reading(Conn& c);
  void pump(Conn& c);
  bool busy(const Conn& c) const;
  size_t queued(const Conn& c) const;
  void flush(Conn& c);
  void close_when_sent(Conn& c);
  bool allowed(const Peer& p) const;
  void on_line(Conn& c, std::string& line);
  void on_idle(uint64_t id);
  void send(uint64_t conn, std::string line, int pending_delta, int stream_delta);
  void drop(uint64_t id);
  Conn* find(uint64_t id);

  uv::Loop& loop_;
  Dispatch dispatch_;
  Options opt_;
  uv_pipe_t* listener_ = nullptr;
  gid_t socket_gid_ = 0;
  uid_t own_uid_ = 0;
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t next_id_ = 1;
  bool closed_ = false;
};

}  // namespace gb::daemon
