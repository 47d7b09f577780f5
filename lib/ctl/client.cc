#include "ctl/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gb::ctl {

Client::~Client() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

bool Client::fail(bool unreachable, std::string message) {
  failure_ = Failure{unreachable, "", std::move(message), ""};
  return false;
}

bool Client::open(const std::string& path) {
  path_ = path;
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    return fail(true, "the socket path " + path + " is too long");
  }
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    return fail(true, std::string("socket: ") + std::strerror(errno));
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    std::string why = std::strerror(err);
    if (err == ENOENT) {
      why = "no such socket (is gbd running? is control_socket in gbd.toml this path?)";
    } else if (err == ECONNREFUSED) {
      why = "connection refused (gbd is not running; the socket file is stale)";
    } else if (err == EACCES || err == EPERM) {
      why = "permission denied (run as root or gbd's user, or join the socket's group)";
    }
    return fail(true, "cannot connect to " + path + ": " + why);
  }
  rapidjson::Document args(rapidjson::kObjectType);
  rapidjson::Value versions(rapidjson::kArrayType);
  versions.PushBack(kVersion, args.GetAllocator());
  args.AddMember("versions", versions, args.GetAllocator());
  args.AddMember("client", rapidjson::Value((std::string("gbctl ") + GB_VERSION).c_str(),
                                            args.GetAllocator()),
                 args.GetAllocator());
  rapidjson::Document data;
  return call("hello", args, &data, nullptr, 10000);
}

bool Client::read_line(std::string* line, int timeout_ms) {
  char buf[65536];
  while (!lines_.next(line)) {
    if (lines_.overflowed()) {
      return fail(false, "gbd sent a line longer than 1 MiB");
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
    if (rc == 0) {
      return fail(false, "gbd did not answer within " + std::to_string(timeout_ms / 1000) + "s");
    }
    if (rc < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(true, std::string("poll: ") + std::strerror(errno));
    }
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail(true, "gbd closed the connection" +
                            (n < 0 ? std::string(": ") + std::strerror(errno) : std::string()));
    }
    lines_.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  return true;
}

bool Client::call(std::string_view cmd, const rapidjson::Value& args, rapidjson::Document* data,
                  const std::function<void(const rapidjson::Value&)>& on_event, int timeout_ms) {
  int64_t id = next_id_++;
  std::string out = request_line(id, cmd, args);
  for (size_t sent = 0; sent < out.size();) {
    ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      // gbd may have refused the connection and closed it: its reason is still to read.
      std::string refusal;
      int err = errno;
      if (read_line(&refusal, 1000)) {
        auto reply = parse_reply(refusal);
        if (reply && reply.value().kind == Reply::error) {
          failure_ = Failure{false, reply.value().code, reply.value().message, ""};
          return false;
        }
      }
      return fail(true, std::string("gbd closed the connection: ") + std::strerror(err));
    }
    sent += static_cast<size_t>(n);
  }
  std::string line;
  while (read_line(&line, on_event ? 0 : timeout_ms)) {
    auto reply = parse_reply(line);
    if (!reply) {
      return fail(false, reply.error().context);
    }
    Reply& r = reply.value();
    // id 0: the daemon refused the connection itself (permissions, too many clients).
    if (r.id != id && r.id != 0) {
      continue;
    }
    if (r.kind == Reply::event) {
      if (on_event) {
        on_event(*r.body);
      }
      continue;
    }
    if (r.kind == Reply::error) {
      auto details = r.body->FindMember("details");
      failure_ = Failure{false, r.code, r.message,
                         details != r.body->MemberEnd() ? to_json(details->value) : ""};
      return false;
    }
    data->SetNull();
    if (r.body != nullptr) {
      data->CopyFrom(*r.body, data->GetAllocator());
    }
    return true;
  }
  return false;
}

}  // namespace gb::ctl
