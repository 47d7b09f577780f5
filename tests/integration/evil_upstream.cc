// EvilUpstream: blocking sockets, one thread per connection, a pipe to stop them all.
#include "evil_upstream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>

namespace gbt {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Finds the first value of a header in a request head; false when it is absent.
bool find_header(std::string_view head, std::string_view name, std::string* value) {
  size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    size_t start = at + 2;
    size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) {
      end = head.size();
    }
    std::string_view line = head.substr(start, end - start);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && same_header_name(line.substr(0, colon), name)) {
      *value = std::string(trim(line.substr(colon + 1)));
      return true;
    }
    at = end;
  }
  return false;
}

}  // namespace

std::string EvilRequest::header(std::string_view name) const {
  std::string value;
  find_header(head, name, &value);
  return value;
}

std::string evil_ok_response(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

EvilUpstream::EvilUpstream(Script script) : script_(std::move(script)) {
  REQUIRE(pipe2(stop_pipe_, O_CLOEXEC) == 0);
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listen_fd_ >= 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listen_fd_, 64) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

EvilUpstream::~EvilUpstream() {
  char stop = 'x';
  // The byte is never read: every poll on the pipe sees it from now on.
  while (write(stop_pipe_[1], &stop, 1) < 0 && errno == EINTR) {
  }
  if (acceptor_.joinable()) {
    acceptor_.join();
  }
  std::vector<std::thread> handlers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handlers.swap(handlers_);
  }
  for (auto& t : handlers) {
    t.join();
  }
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

std::string EvilUpstream::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<EvilRequest> EvilUpstream::seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

bool EvilUpstream::pause(Ms duration) const {
  auto deadline = Clock::now() + duration;
  for (;;) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    if (left <= 0) {
      return true;
    }
    pollfd p{stop_pipe_[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) == 1) {
      return false;
    }
  }
}

bool EvilUpstream::wait_ready(int fd, short events, Ms timeout) const {
  pollfd p[2] = {{stop_pipe_[0], POLLIN, 0}, {fd, events, 0}};
  for (;;) {
    int rc = poll(p, 2, static_cast<int>(timeout.count()));
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    if (rc <= 0 || (p[0].revents & POLLIN) != 0) {
      return false;  // timeout or stopping
    }
    return true;
  }
}

bool EvilUpstream::write_all(int fd, std::string_view bytes) const {
  while (!bytes.empty()) {
    if (!wait_ready(fd, POLLOUT, 10s)) {
      return false;
    }
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
  }
  return true;
}

void EvilUpstream::accept_loop() {
  for (;;) {
    if (!wait_ready(listen_fd_, POLLIN, Ms(-1))) {
      return;
    }
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t index = connections_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    handlers_.emplace_back([this, fd, index] { serve(fd, index); });
  }
}

void EvilUpstream::serve(int fd, size_t connection) {
  std::string buf;
  // Reads more bytes into buf; false at EOF, on error or when stopping.
  auto read_more = [&] {
    if (!wait_ready(fd, POLLIN, 60s)) {
      return false;
    }
    char chunk[64 * 1024];
    ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return true;
    }
    if (n <= 0) {
      return false;
    }
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  };

  After after = After::keep_open;
  for (size_t index = 0; after == After::keep_open; ++index) {
    size_t end;
    bool alive = true;
    while (alive && (end = buf.find("\r\n\r\n")) == std::string::npos) {
      alive = read_more();
    }
    if (!alive) {
      after = After::close;
      break;
    }
    EvilRequest req;
    req.connection = connection;
    req.index = index;
    req.head = buf.substr(0, end + 4);
    buf.erase(0, end + 4);
    std::string length;
    size_t want = find_header(req.head, "content-length", &length)
                      ? static_cast<size_t>(std::strtoull(length.c_str(), nullptr, 10))
                      : 0;
    while (alive && buf.size() < want) {
      alive = read_more();
    }
    if (!alive) {
      after = After::close;
      break;
    }
    req.body = buf.substr(0, want);
    buf.erase(0, want);
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(req);
    }
    requests_.fetch_add(1);

    EvilReply reply = script_(req);
    bool written = true;
    for (size_t i = 0; i < reply.parts.size() && written; ++i) {
      if (i > 0 && reply.gap > 0ms && !pause(reply.gap)) {
        written = false;
        break;
      }
      written = write_all(fd, reply.parts[i]);
    }
    after = written ? reply.after : After::close;
  }
  if (after == After::reset) {
    linger lin{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
  }
  ::close(fd);
}

}  // namespace gbt
