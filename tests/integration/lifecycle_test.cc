// gbd's life under a service manager: reloads under load that lose nothing, the
// sd_notify messages around start, reload and stop, the shutdown grace period, and
// journal priorities.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "harness.h"

using namespace gbt;

namespace {

// A datagram socket standing in for systemd's $NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
  }
  // The next message, or "" after the timeout.
  std::string next(Ms timeout = 5s) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE("SIGHUP under a steady load of requests and streams loses none",
          "[integration][reload]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  cfg.keys = {"ok-1", "ok-2", "ok-3"};
  Gbd gbd(dir, cfg);
  std::atomic<bool> done{false};
  std::atomic<int> ok{0}, bad{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto fail = [&](std::string what) {
    ++bad;
    std::lock_guard lock(mu);
    failures.push_back(std::move(what));
  };
  auto plain = [&] {
    while (!done) {
      Response r = gbd.generate();
      if (r.status == 200 && r.complete && r.body.find("Echo: Hello") != std::string::npos) {
        ++ok;
      } else {
        fail("generate: " + std::to_string(r.status) + " " + r.body.substr(0, 200));
      }
    }
  };
  auto stream = [&] {
    while (!done) {
      Response r = gbd.fetch("POST", model_path("streamGenerateContent?alt=sse"),
                             {{"Content-Type", "application/json"},
                              {"x-mock-chunks", "5"},
                              {"x-mock-delay-ms", "20"}},
                             kPrompt, 10s);
      if (r.status == 200 && r.complete && r.body.find("finishReason") != std::string::npos) {
        ++ok;
      } else {
        fail("stream: " + std::to_string(r.status) + " " + r.body.substr(0, 200));
      }
    }
  };
  auto keepalive = [&] {
    HttpClient c(gbd.port(), 10s);
    std::string req = http_request("POST", model_path("generateContent"),
                                   {{"Authorization", "Bearer " + std::string(kToken)},
                                    {"Content-Type", "application/json"}},
                                   kPrompt);
    while (!done) {
      if (!c.send(req)) {
        fail("keep-alive send");
        return;
      }
      Response r = c.read_response();
      r.status == 200 ? ++ok : (fail("keep-alive: " + std::to_string(r.status)), 0);
    }
  };
  std::vector<std::thread> load;
  load.emplace_back(plain);
  load.emplace_back(plain);
  load.emplace_back(stream);
  load.emplace_back(stream);
  load.emplace_back(keepalive);
  int reloads = 0;
  for (auto end = Clock::now() + 3s; Clock::now() < end; ++reloads) {
    // Each reload brings a real change: the cooldown and the key list alternate.
    cfg.cooldown = reloads % 2 ? "31s" : "30s";
    cfg.keys = reloads % 2 ? std::vector<std::string>{"ok-1", "ok-2", "ok-4"}
                           : std::vector<std::string>{"ok-1", "ok-2", "ok-3"};
    dir.write("gbd.toml", cfg.to_toml(dir));
    REQUIRE(kill(gbd.process().pid(), SIGHUP) == 0);
    std::this_thread::sleep_for(100ms);
  }
  done = true;
  for (auto& t : load) {
    t.join();
  }
  INFO("failures: " << (failures.empty() ? "" : failures.front()));
  CHECK(bad == 0);
  CHECK(ok > 50);
  std::string log = gbd.log_text();
  size_t done_lines = 0;
  for (size_t p = 0; (p = log.find("ev=reload.done", p)) != std::string::npos; ++p) {
    ++done_lines;
  }
  CHECK(done_lines >= static_cast<size_t>(reloads) - 1);  // signals may coalesce
  CHECK(gbd.stop() == 0);
}

TEST_CASE("gbd tells systemd when it is ready, reloading and stopping",
          "[integration][systemd]") {
  TempDir dir;
  Mock mock(dir);
  NotifySocket notify(dir.file("notify.sock"));
  GbdConfig cfg;
  cfg.base_url = mock.url();
  Gbd gbd(dir, cfg);
  std::string ready = notify.next();
  CHECK(ready.rfind("READY=1\n", 0) == 0);
  // By READY=1 the listeners and the control socket are up.
  CHECK(gbd.generate().status == 200);
  CHECK(access(dir.file("gbd.sock").c_str(), F_OK) == 0);

  REQUIRE(kill(gbd.process().pid(), SIGHUP) == 0);
  std::string reloading = notify.next();
  CHECK(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long usec = std::atoll(reloading.c_str() + std::strlen("RELOADING=1\nMONOTONIC_USEC="));
  long long now_usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  CHECK(usec > 0);
  CHECK(usec <= now_usec);
  CHECK(notify.next().rfind("READY=1", 0) == 0);

  REQUIRE(kill(gbd.process().pid(), SIGTERM) == 0);
  CHECK(notify.next().rfind("STOPPING=1", 0) == 0);
  CHECK(gbd.process().wait_exit(10s) == 0);
}

TEST_CASE("SIGTERM cuts streams still running after shutdown_grace and exits 0",
          "[integration][shutdown]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  cfg.limits_extra = "shutdown_grace = \"1s\"\n";
  cfg.stream_idle_timeout = "30s";
  Gbd gbd(dir, cfg);
  HttpClient c(gbd.port(), 15s);
  REQUIRE(c.send(http_request("POST", model_path("streamGenerateContent?alt=sse"),
                              {{"Authorization", "Bearer " + std::string(kToken)},
                               {"Content-Type", "application/json"},
                               {"x-mock-chunks", "100"},
                               {"x-mock-delay-ms", "100"}},
                              kPrompt)));
  REQUIRE(c.read_head().status == 200);
  auto t0 = Clock::now();
  REQUIRE(kill(gbd.process().pid(), SIGTERM) == 0);
  // New connections are refused at once; the stream is cut when the grace runs out,
  // long before its 10 s would have ended.
  CHECK(gbd.process().wait_exit(8s) == 0);
  CHECK(Clock::now() - t0 < 8s);
  while (!c.read_body(65536).empty()) {
  }
  CHECK_FALSE(c.message_done());
  CHECK(gbd.log_text().find("ev=server.stopping signal=TERM grace_ms=1000") != std::string::npos);
  CHECK(gbd.log_text().find("ev=server.grace_expired") != std::string::npos);
  CHECK(gbd.log_text().find("ev=server.stopped leaks=0") != std::string::npos);
}

TEST_CASE("under systemd's journal, log lines carry priorities and no timestamp",
          "[integration][systemd]") {
  TempDir dir;
  Mock mock(dir);
  setenv("JOURNAL_STREAM", "8:12345", 1);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  Gbd gbd(dir, cfg);
  unsetenv("JOURNAL_STREAM");
  CHECK(gbd.generate().status == 200);
  std::string log = gbd.log_text();
  CHECK(log.rfind("<6>lvl=info ", 0) == 0);
  CHECK(log.find("\nts=") == std::string::npos);
  CHECK(log.find("<6>ts=") == std::string::npos);
  CHECK(gbd.stop() == 0);
}

TEST_CASE("a reload applies new client limits at once", "[integration][reload]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  Gbd gbd(dir, cfg);
  std::string big = R"({"contents":[{"role":"user","parts":[{"text":")" + std::string(4000, 'x') +
                    R"("}]}]})";
  auto post = [&] {
    return gbd.fetch("POST", model_path("generateContent"), {{"Content-Type", "application/json"}},
                     big);
  };
  REQUIRE(post().status == 200);
  cfg.max_body = "2KiB";
  dir.write("gbd.toml", cfg.to_toml(dir));
  REQUIRE(kill(gbd.process().pid(), SIGHUP) == 0);
  REQUIRE(gbd.process().wait_for_line(std::regex("ev=reload.done"), 5s));
  // Workers take the new limits on their own loops, just after the swap.
  Response r;
  for (int i = 0; i < 50 && (r = post()).status != 413; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK(r.status == 413);
  CHECK(gbd.log_text().find("ev=reload.restart_needed") == std::string::npos);
}
