#include "daemon/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "base/log.h"

namespace gb::daemon {

Notifier::Notifier() {
  const char* p = std::getenv("NOTIFY_SOCKET");
  if (p != nullptr && (p[0] == '/' || p[0] == '@') && std::strlen(p) < sizeof(sockaddr_un{}.sun_path)) {
    path_ = p;
  }
}

bool Notifier::send(const std::string& msg) {
  if (path_.empty()) {
    return true;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    LOG_WARN("notify.failed").kv("detail", std::string("socket: ") + std::strerror(errno));
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (addr.sun_path[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace
  }
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  ssize_t n = sendto(fd, msg.data(), msg.size(), MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr*>(&addr), len);
  int err = errno;
  close(fd);
  if (n < 0) {
    LOG_WARN("notify.failed").kv("socket", path_).kv("detail", std::strerror(err));
    return false;
  }
  return true;
}

void Notifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string(status));
}

void Notifier::reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec = static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading");
}

void Notifier::stopping() {
  send("STOPPING=1\nSTATUS=stopping");
}

void Notifier::status(std::string_view status) {
  send("STATUS=" + std::string(status));
}

}  // namespace gb::daemon
