// The sd_notify protocol, written directly (no libsystemd): datagrams to $NOTIFY_SOCKET.
//
// systemd documents the protocol as stable: one AF_UNIX datagram of newline-separated
// VAR=value lines; a path starting with '@' is in the abstract namespace. Without
// $NOTIFY_SOCKET (not started by systemd as Type=notify) every call does nothing.
#pragma once

#include <string>
#include <string_view>

namespace gb::daemon {

class Notifier {
 public:
  // Reads $NOTIFY_SOCKET.
  Notifier();
  bool enabled() const { return !path_.empty(); }

  void ready(std::string_view status);
  // RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload expects.
  void reloading();
  void stopping();
  void status(std::string_view status);

  // Sends one message; false (and a notify.failed warning) on failure.
  bool send(const std::string& msg);

 private:
  std::string path_;
};

}  // namespace gb::daemon
