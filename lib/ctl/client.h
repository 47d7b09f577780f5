// Client: one connection to gbd's control socket, as gbctl uses it: connect, hello,
// then requests answered in order, with the events of a stream handed to a callback.
// Blocking I/O; gbctl does one thing at a time.
#pragma once

#include <functional>
#include <string>

#include "ctl/line_buffer.h"
#include "ctl/protocol.h"

namespace gb::ctl {

class Client {
 public:
  // What went wrong, for gbctl's exit status: unreachable (3) or refused (1).
  struct Failure {
    bool unreachable = false;
    std::string code;     // the daemon's error code, "" for a local failure
    std::string message;  // for a person
    std::string details;  // the error's details as JSON, or ""
  };

  Client() : lines_(kMaxLine) {}
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects and says hello. False with failure() set.
  bool open(const std::string& path);
  // Sends one request and reads until its reply; each event line goes to on_event.
  // `timeout_ms` bounds each wait for a line (0: wait for ever). The reply's data is
  // left in *data (which owns it); false with failure() set.
  bool call(std::string_view cmd, const rapidjson::Value& args, rapidjson::Document* data,
            const std::function<void(const rapidjson::Value&)>& on_event = nullptr,
            int timeout_ms = 60000);
  const Failure& failure() const { return failure_; }

 private:
  bool read_line(std::string* line, int timeout_ms);
  bool fail(bool unreachable, std::string message);

  int fd_ = -1;
  int64_t next_id_ = 1;
  LineBuffer lines_;
  Failure failure_;
  std::string path_;
};

}  // namespace gb::ctl
