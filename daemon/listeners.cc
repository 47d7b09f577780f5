#include "daemon/listeners.h"

#include <chrono>
#include <cstring>
#include <future>

#include "base/log.h"
#include "http/server.h"

namespace gb::daemon {

namespace {

constexpr auto kWorkerWait = std::chrono::seconds(5);

// Runs fn on the worker's thread and waits for its result. An error when the worker's
// loop is ending or does not answer in time.
Result<uint16_t> on_worker(proxy::Worker& w, std::function<Result<uint16_t>()> fn) {
  auto done = std::make_shared<std::promise<Result<uint16_t>>>();
  auto result = done->get_future();
  if (!w.post([done, fn = std::move(fn)] { done->set_value(fn()); })) {
    return Error::make(Errc::shutting_down, Side::internal, "the worker is stopping");
  }
  if (result.wait_for(kWorkerWait) != std::future_status::ready) {
    return Error::make(Errc::internal, Side::internal, "a worker did not answer in time");
  }
  try {
    return result.get();
  } catch (const std::future_error&) {
    return Error::make(Errc::shutting_down, Side::internal, "the worker is stopping");
  }
}

void set_port(sockaddr_storage* ss, uint16_t port) {
  if (ss->ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(ss)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(ss)->sin_port = htons(port);
  }
}

bool names(const std::vector<ListenAddr>& addrs, const std::string& text) {
  for (const ListenAddr& a : addrs) {
    if (a.text == text) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<ListenerSet::Entry> ListenerSet::open_one(const ListenAddr& a, const Bind& bind) {
  auto addr = http::resolve_address(a.host, a.port);
  if (!addr) {
    return Error::make(Errc::io_error, Side::internal,
                       "cannot listen on " + a.text + ": " + addr.error().context);
  }
  sockaddr_storage ss = addr.value();
  Entry e{a.text, "", next_tag_++};
  // Port 0: the first worker's socket picks the port, the others share it.
  for (auto& w : workers_) {
    auto port = bind(*w, reinterpret_cast<const sockaddr*>(&ss), e.tag);
    if (!port) {
      close_tag(e.tag);
      return Error::make(port.error().code, Side::internal,
                         "cannot listen on " + a.text + ": " + port.error().context);
    }
    set_port(&ss, port.value());
  }
  e.bound = http::format_address(reinterpret_cast<const sockaddr*>(&ss));
  LOG_INFO("server.listening").kv("addr", e.bound).kv("workers", workers_.size());
  return e;
}

Result<bool> ListenerSet::open_all(const std::vector<ListenAddr>& addrs) {
  Bind direct = [](proxy::Worker& w, const sockaddr* sa, uint64_t tag) {
    return w.listen(sa, tag);
  };
  for (const ListenAddr& a : addrs) {
    auto e = open_one(a, direct);
    if (!e) {
      return e.error();
    }
    entries_.push_back(std::move(e.value()));
  }
  return true;
}

Result<std::vector<std::string>> ListenerSet::open_new(const std::vector<ListenAddr>& want) {
  Bind on_loop = [](proxy::Worker& w, const sockaddr* sa, uint64_t tag) {
    sockaddr_storage copy{};
    std::memcpy(&copy, sa, sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    return on_worker(w, [&w, copy, tag] {
      return w.listen(reinterpret_cast<const sockaddr*>(&copy), tag);
    });
  };
  std::vector<Entry> added;
  for (const ListenAddr& a : want) {
    bool open = false;
    for (const Entry& e : entries_) {
      open |= e.text == a.text;
    }
    if (open) {
      continue;
    }
    auto e = open_one(a, on_loop);
    if (!e) {
      for (const Entry& x : added) {
        close_tag(x.tag);
      }
      return e.error();
    }
    added.push_back(std::move(e.value()));
  }
  std::vector<std::string> texts;
  for (Entry& e : added) {
    texts.push_back(e.bound);
    entries_.push_back(std::move(e));
  }
  return texts;
}

std::vector<std::string> ListenerSet::close_removed(const std::vector<ListenAddr>& want) {
  std::vector<std::string> closed;
  std::erase_if(entries_, [&](const Entry& e) {
    if (names(want, e.text)) {
      return false;
    }
    close_tag(e.tag);
    LOG_INFO("server.listener_closed").kv("addr", e.bound);
    closed.push_back(e.bound);
    return true;
  });
  return closed;
}

void ListenerSet::close_tag(uint64_t tag) {
  for (auto& w : workers_) {
    proxy::Worker* worker = w.get();
    // A worker that is stopping closes all its listeners anyway.
    worker->post([worker, tag] { worker->close_listeners(tag); });
  }
}

}  // namespace gb::daemon
