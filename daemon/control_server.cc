#include "daemon/control_server.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

#include "base/log.h"
#include "ctl/line_buffer.h"

namespace gb::daemon {

struct ControlServer::Conn : uv::Deletable {
  Conn(ControlServer& s, uint64_t id) : server(s), id(id), lines(ctl::kMaxLine), idle(s.loop_.get()) {}
  ~Conn() override { uv::close_and_delete(pipe); }

  ControlServer& server;
  uint64_t id;
  uv_pipe_t* pipe = nullptr;
  Peer peer;
  ctl::LineBuffer lines;
  uv::Timer idle;
  int pending = 0;  // answers owed
  int streams = 0;  // streams open
  std::deque<std::string> backlog;  // lines waiting for the socket to take them
  size_t backlog_bytes = 0;
  bool reading = false;
  bool pumping = false;     // pump() is on the stack
  bool eof = false;         // the client half-closed: answer what it sent, then close
  bool overflowed = false;  // a line over the bound: answer the ones before, then refuse
  bool close_after_write = false;
  bool dead = false;
};

namespace {

struct WriteReq {
  uv_write_t req;
  std::string data;
  ControlServer* server;
  uint64_t conn;
};

Result<bool> refuse(std::string msg) {
  return Error::make(Errc::io_error, Side::internal, std::move(msg));
}

// A socket file at `path`: stale (nobody accepts on it: ECONNREFUSED), or the error
// that says why it is not known to be (0 when a process accepts connections on it).
int probe_socket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return errno;
  }
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  int err = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
  close(fd);
  return err;
}

bool read_peer(uv_pipe_t* pipe, Peer* p, std::vector<gid_t>* groups) {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(pipe), &fd) != 0) {
    return false;
  }
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return false;
  }
  p->pid = cred.pid;
  p->uid = cred.uid;
  p->gid = cred.gid;
  // Supplementary groups (Linux 4.13+): membership in the socket's group may come from
  // any of them, as it does for the file permission check.
  groups->resize(64);
  socklen_t glen = static_cast<socklen_t>(groups->size() * sizeof(gid_t));
  int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups->data(), &glen);
  if (rc != 0 && errno == ERANGE) {
    groups->resize(glen / sizeof(gid_t));
    rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups->data(), &glen);
  }
  // Without the list (an old kernel), only the primary group counts.
  groups->resize(rc == 0 ? glen / sizeof(gid_t) : 0);
  return true;
}

}  // namespace

ControlServer::ControlServer(uv::Loop& loop, Dispatch dispatch)
    : loop_(loop), dispatch_(std::move(dispatch)), own_uid_(geteuid()) {}

ControlServer::~ControlServer() {
  close();
}

Result<bool> ControlServer::open(const Options& opt) {
  opt_ = opt;
  const std::string& path = opt.path;
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return refuse("control_socket " + path + " is too long for a Unix socket (at most " +
                  std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes)");
  }
  struct stat st{};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return refuse("control_socket " + path + " exists and is not a socket; move it away");
    }
    int err = probe_socket(path);
    if (err == 0) {
      return refuse("another process answers on control_socket " + path +
                    ": is another gbd running with this config?");
    }
    if (err != ECONNREFUSED) {
      return refuse("control_socket " + path + " exists and cannot be tested (" +
                    std::strerror(err) + "); remove it if no gbd uses it");
    }
    unlink(path.c_str());  // left behind by a gbd that died
  }
  listener_ = new uv_pipe_t;
  uv_pipe_init(loop_.get(), listener_, 0);
  listener_->data = this;
  int rc = uv_pipe_bind(listener_, path.c_str());
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 64, &ControlServer::on_connection);
  }
  if (rc != 0) {
    uv::close_and_delete(listener_);
    listener_ = nullptr;
    return refuse("cannot create control_socket " + path + ": " + uv_strerror(rc) +
                  (rc == UV_ENOENT ? " (does its directory exist?)" : ""));
  }
  // connect() needs write permission: the owner and the group may, others not.
  if (chmod(path.c_str(), 0660) != 0 || stat(path.c_str(), &st) != 0) {
    int err = errno;
    close();
    return refuse("cannot set the mode of control_socket " + path + ": " + std::strerror(err));
  }
  socket_gid_ = st.st_gid;
  LOG_INFO("server.control").kv("socket", path).kv("gid", socket_gid_);
  return true;
}

void ControlServer::set_limits(Duration idle_timeout, unsigned max_clients) {
  opt_.idle_timeout = idle_timeout;
  opt_.max_clients = max_clients;
}

void ControlServer::close() {
  if (closed_ || listener_ == nullptr) {
    closed_ = true;
    return;
  }
  closed_ = true;
  uv::close_and_delete(listener_);
  listener_ = nullptr;
  unlink(opt_.path.c_str());
  std::vector<uint64_t> ids;
  for (auto& [id, c] : conns_) {
    ids.push_back(id);
  }
  for (uint64_t id : ids) {
    drop(id);
  }
}

void ControlServer::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<ControlServer*>(server->data);
  if (self != nullptr && status == 0) {
    self->accept_one();
  }
}

bool ControlServer::allowed(const Peer& p) const {
  return p.uid == 0 || p.uid == own_uid_ || p.gid == socket_gid_;
}

void ControlServer::accept_one() {
  auto c = std::make_unique<Conn>(*this, next_id_++);
  c->pipe = new uv_pipe_t;
  uv_pipe_init(loop_.get(), c->pipe, 0);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_), reinterpret_cast<uv_stream_t*>(c->pipe)) != 0) {
    return;
  }
  c->pipe->data = c.get();
  std::vector<gid_t> groups;
  bool known = read_peer(c->pipe, &c->peer, &groups);
  bool ok = known && allowed(c->peer);
  for (gid_t g : groups) {
    ok |= known && g == socket_gid_;
  }
  uint64_t id = c->id;
  conns_.emplace(id, std::move(c));
  Conn& conn = *conns_[id];
  if (!ok) {
    LOG_WARN("ctl.refused").kv("uid", conn.peer.uid).kv("pid", conn.peer.pid);
    send(id, ctl::error_line(0, Errc::permission_denied,
                             "uid " + std::to_string(conn.peer.uid) +
                                 " may not use gbd's control socket: run as root or as gbd's "
                                 "user, or join the socket's group (gid " +
                                 std::to_string(socket_gid_) + ")"),
         0, 0);
    conn.close_after_write = true;
    return;
  }
  if (conns_.size() > opt_.max_clients) {
    LOG_WARN("ctl.refused").kv("uid", conn.peer.uid).kv("reason", "too_many_clients");
    send(id, ctl::error_line(0, Errc::too_many_clients,
                             "gbd already serves " + std::to_string(opt_.max_clients) +
                                 " control connections (control_clients); try again later"),
         0, 0);
    conn.close_after_write = true;
    return;
  }
  conn.idle.start(static_cast<uint64_t>(opt_.idle_timeout.count()), [this, id] { on_idle(id); });
  start_reading(conn);
}

void ControlServer::start_reading(Conn& c) {
  if (c.reading || c.eof || c.overflowed) {
    return;
  }
  c.reading = true;
  auto alloc = [](uv_handle_t*, size_t, uv_buf_t* buf) {
    static thread_local char chunk[65536];
    *buf = uv_buf_init(chunk, sizeof chunk);
  };
  uv_read_start(reinterpret_cast<uv_stream_t*>(c.pipe), alloc, &ControlServer::on_read);
}

void ControlServer::stop_reading(Conn& c) {
  if (c.reading) {
    c.reading = false;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(c.pipe));
  }
}

void ControlServer::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* c = static_cast<Conn*>(s->data);
  if (c == nullptr || c->dead) {
    return;
  }
  ControlServer& self = c->server;
  if (n == UV_EOF) {
    // A client may send its requests and half-close: they are still answered. A
    // follower that leaves is gone.
    c->eof = true;
    self.stop_reading(*c);
    if (c->streams > 0) {
      self.drop(c->id);
      return;
    }
  } else if (n < 0) {
    self.drop(c->id);
    return;
  } else if (!c->lines.feed(std::string_view(buf->base, static_cast<size_t>(n)))) {
    c->overflowed = true;
    self.stop_reading(*c);
  }
  c->idle.start(static_cast<uint64_t>(self.opt_.idle_timeout.count()),
                [srv = &self, id = c->id] { srv->on_idle(id); });
  self.pump(*c);
}

bool ControlServer::busy(const Conn& c) const {
  return c.pending + c.streams >= kMaxOutstanding || queued(c) > kWriteWindow;
}

size_t ControlServer::queued(const Conn& c) const {
  return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(c.pipe)) +
         c.backlog_bytes;
}

// Answers the requests that have arrived, as far as the connection's limits allow, and
// reads more only while it is not busy: a client that pipelines requests or does not
// read its answers is slowed down, never buffered without bound.
void ControlServer::pump(Conn& c) {
  if (c.pumping || c.dead) {
    return;
  }
  c.pumping = true;
  uint64_t id = c.id;
  std::string line;
  while (find(id) != nullptr && !c.close_after_write && !busy(c) && c.lines.next(&line)) {
    if (!line.empty()) {
      on_line(c, line);
    }
  }
  c.pumping = false;
  if (find(id) == nullptr || c.close_after_write) {
    return;
  }
  if (busy(c)) {
    stop_reading(c);
    return;
  }
  // Every complete line is answered (or being answered).
  if (c.overflowed) {
    LOG_WARN("ctl.error").kv("uid", c.peer.uid).kv("err", "line_too_long");
    send(id, ctl::error_line(0, Errc::line_too_long, "a request line is longer than 1 MiB"), 0, 0);
    close_when_sent(c);
  } else if (c.eof) {
    if (c.pending == 0 && c.streams == 0) {
      close_when_sent(c);
    }
  } else {
    start_reading(c);
  }
}

void ControlServer::close_when_sent(Conn& c) {
  c.close_after_write = true;
  if (queued(c) == 0) {
    drop(c.id);
  }
}

void ControlServer::on_line(Conn& c, std::string& line) {
  int64_t id = 0;
  auto req = ctl::parse_request(line, &id);
  Responder r(this, c.id, id);
  if (!req) {
    LOG_WARN("ctl.error").kv("uid", c.peer.uid).kv("err", req.error().name());
    r.error(req.error().code, req.error().context);
    return;
  }
  dispatch_(c.peer, req.value(), r);
}

void ControlServer::on_idle(uint64_t id) {
  Conn* c = find(id);
  if (c == nullptr) {
    return;
  }
  if (c->pending > 0 || c->streams > 0) {
    c->idle.start(static_cast<uint64_t>(opt_.idle_timeout.count()), [this, id] { on_idle(id); });
    return;
  }
  drop(id);
}

ControlServer::Conn* ControlServer::find(uint64_t id) {
  auto it = conns_.find(id);
  return it == conns_.end() || it->second->dead ? nullptr : it->second.get();
}

void ControlServer::send(uint64_t id, std::string line, int pending_delta, int stream_delta) {
  Conn* c = find(id);
  if (c == nullptr) {
    return;
  }
  c->pending = std::max(0, c->pending + pending_delta);
  c->streams = std::max(0, c->streams + stream_delta);
  if (!line.empty()) {
    c->backlog_bytes += line.size();
    c->backlog.push_back(std::move(line));
    flush(*c);
  }
  if (find(id) != nullptr && (pending_delta < 0 || stream_delta < 0)) {
    pump(*c);  // an answer went out: the connection may take more requests
  }
}

// Moves lines from the backlog to the socket while less than kWriteWindow is in flight,
// so a long listing goes out at the pace the client reads it.
void ControlServer::flush(Conn& c) {
  auto* stream = reinterpret_cast<uv_stream_t*>(c.pipe);
  while (!c.backlog.empty() && uv_stream_get_write_queue_size(stream) < kWriteWindow) {
    auto* w = new WriteReq{{}, std::move(c.backlog.front()), this, c.id};
    c.backlog.pop_front();
    c.backlog_bytes -= w->data.size();
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    if (uv_write(&w->req, stream, &buf, 1, &ControlServer::on_written) != 0) {
      delete w;
      drop(c.id);
      return;
    }
  }
}

void ControlServer::on_written(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  ControlServer* s = w->server;
  uint64_t id = w->conn;
  delete w;
  if (status == UV_ECANCELED) {
    return;  // the connection is closing; it may be gone already
  }
  Conn* c = s->find(id);
  if (c == nullptr) {
    return;
  }
  if (status < 0) {
    s->drop(id);
    return;
  }
  s->flush(*c);
  if (s->find(id) == nullptr) {
    return;
  }
  if (c->close_after_write) {
    if (s->queued(*c) == 0) {
      s->drop(id);
    }
    return;
  }
  s->pump(*c);
}

void ControlServer::drop(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) {
    return;
  }
  std::unique_ptr<Conn> c = std::move(it->second);
  conns_.erase(it);
  c->dead = true;
  c->idle.stop();
  uv::close_and_delete(c->pipe);
  c->pipe = nullptr;
  // The connection may be on the stack (its read callback): freed after this iteration.
  loop_.defer_delete(c.release());
}

bool Responder::alive() const {
  return server_->find(conn_) != nullptr;
}

void Responder::send(std::string line, int pending_delta, int stream_delta) const {
  server_->send(conn_, std::move(line), pending_delta, stream_delta);
}

void Responder::ok(const rapidjson::Value* data) const {
  send(ctl::ok_line(id_, data), held_ ? -1 : 0, 0);
}

void Responder::error(Errc code, std::string_view message, const rapidjson::Value* details) const {
  send(ctl::error_line(id_, code, message, details), held_ ? -1 : 0, 0);
}

void Responder::hold() {
  held_ = true;
  send("", 1, 0);
}

void Responder::begin_stream() const {
  send("", 0, 1);
}

void Responder::event(const rapidjson::Value& ev) const {
  send(ctl::event_line(id_, ev), 0, 0);
}

void Responder::end(const rapidjson::Value* data) const {
  send(ctl::end_line(id_, data), held_ ? -1 : 0, -1);
}

size_t Responder::queued() const {
  ControlServer::Conn* c = server_->find(conn_);
  return c == nullptr ? 0 : server_->queued(*c);
}

}  // namespace gb::daemon
