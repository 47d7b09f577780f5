// The control protocol on the wire (DESIGN §5), without gbctl: hello and versions,
// malformed requests, bounded lines, the idle timeout, the client limit, many clients
// at once, and a follower that leaves mid-stream.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <rapidjson/document.h>
#include <set>
#include <thread>

#include "harness.h"

using namespace gbt;

namespace {

// A raw NDJSON connection to gbd's control socket.
class CtlConn {
 public:
  explicit CtlConn(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~CtlConn() { close(); }
  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  bool ok() const { return fd_ >= 0; }
  void half_close() { shutdown(fd_, SHUT_WR); }
  bool send(std::string_view bytes) { return send_all(fd_, bytes, 5s); }
  // The next line, or "" when the peer closed or nothing came in time.
  std::string line(Ms timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    while (true) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      if (Clock::now() > deadline) {
        return "";
      }
      timeval tv{0, 50000};
      setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char b[65536];
      ssize_t n = read(fd_, b, sizeof b);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        closed_ = true;
        return "";
      }
      if (n > 0) {
        buf_.append(b, static_cast<size_t>(n));
      }
    }
  }
  bool closed() const { return closed_; }
  // Waits for the peer to close (reading and dropping what comes).
  bool wait_closed(Ms timeout) {
    auto deadline = Clock::now() + timeout;
    while (!closed_ && Clock::now() < deadline) {
      line(50ms);
    }
    return closed_;
  }

 private:
  int fd_ = -1;
  std::string buf_;
  bool closed_ = false;
};

rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  INFO("line: " << s);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

bool eventually_true(const std::function<bool()>& cond, Ms timeout = 3s) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::string error_code(const rapidjson::Document& d) {
  return d.HasMember("error") ? d["error"]["code"].GetString() : "";
}

}  // namespace

TEST_CASE("hello agrees on version 1 and lists the commands", "[integration][control]") {
  Rig rig;
  CtlConn c(rig.dir.file("gbd.sock"));
  REQUIRE(c.ok());
  REQUIRE(c.send(R"({"v":1,"id":1,"cmd":"hello","args":{"versions":[1],"client":"test"}})"
                 "\n"));
  auto d = parse(c.line());
  CHECK(d["ok"].GetBool());
  CHECK(d["id"].GetInt() == 1);
  CHECK(d["data"]["version"].GetInt() == 1);
  CHECK(d["data"]["commands"].Size() >= 12);

  REQUIRE(c.send(R"({"v":1,"id":2,"cmd":"hello","args":{"versions":[7,8]}})"
                 "\n"));
  auto refused = parse(c.line());
  CHECK_FALSE(refused["ok"].GetBool());
  CHECK(error_code(refused) == "version_unsupported");

  REQUIRE(c.send(R"({"v":2,"id":3,"cmd":"status"})"
                 "\n"));
  auto v2 = parse(c.line());
  CHECK(v2["id"].GetInt() == 3);
  CHECK(error_code(v2) == "version_unsupported");
}

TEST_CASE("malformed requests get bad_request or unknown_command and the connection stays",
          "[integration][control]") {
  Rig rig;
  CtlConn c(rig.dir.file("gbd.sock"));
  REQUIRE(c.ok());
  REQUIRE(c.send("this is not json\n"));
  CHECK(error_code(parse(c.line())) == "bad_request");
  REQUIRE(c.send("[1,2]\n"));
  CHECK(error_code(parse(c.line())) == "bad_request");
  REQUIRE(c.send(R"({"id":4,"cmd":"keys.explode"})"
                 "\n"));
  auto unknown = parse(c.line());
  CHECK(unknown["id"].GetInt() == 4);
  CHECK(error_code(unknown) == "unknown_command");
  REQUIRE(c.send(R"({"id":5,"cmd":"logs.tail","args":{"n":"ten"}})"
                 "\n"));
  CHECK(error_code(parse(c.line())) == "bad_request");
  // Two requests in one write, answered in order.
  REQUIRE(c.send("{\"id\":6,\"cmd\":\"help\"}\n{\"id\":7,\"cmd\":\"status\"}\n"));
  CHECK(parse(c.line())["id"].GetInt() == 6);
  CHECK(parse(c.line())["id"].GetInt() == 7);
}

TEST_CASE("a request line over 1 MiB is refused and the connection closed",
          "[integration][control]") {
  Rig rig;
  CtlConn c(rig.dir.file("gbd.sock"));
  REQUIRE(c.ok());
  std::string big = R"({"id":1,"cmd":"keys.add","args":{"keys":[")" + std::string(1100000, 'a');
  c.send(big);  // gbd may close before it has all of it
  auto d = parse(c.line());
  CHECK(error_code(d) == "line_too_long");
  CHECK(c.wait_closed(5s));
  CHECK(rig.gbd.process().running());
}

TEST_CASE("an idle control connection is closed after control_idle_timeout",
          "[integration][control]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  cfg.limits_extra = "control_idle_timeout = \"1s\"\n";
  Gbd gbd(dir, cfg);
  CtlConn idle(dir.file("gbd.sock"));
  CtlConn follower(dir.file("gbd.sock"));
  REQUIRE(follower.send(R"({"id":1,"cmd":"logs.tail","args":{"follow":true,"n":0}})"
                        "\n"));
  CHECK(idle.wait_closed(4s));
  // A follower is not idle: it is waiting for gbd, not the other way round.
  CHECK_FALSE(follower.wait_closed(1500ms));
}

TEST_CASE("many control clients at once, and no more than control_clients",
          "[integration][control]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  cfg.limits_extra = "control_clients = 20\n";
  Gbd gbd(dir, cfg);
  std::vector<std::unique_ptr<CtlConn>> conns;
  for (int i = 0; i < 20; ++i) {
    conns.push_back(std::make_unique<CtlConn>(dir.file("gbd.sock")));
    REQUIRE(conns.back()->ok());
  }
  for (auto& c : conns) {
    REQUIRE(c->send(R"({"id":1,"cmd":"status"})"
                    "\n"));
  }
  for (auto& c : conns) {
    CHECK(parse(c->line())["ok"].GetBool());
  }
  CtlConn extra(dir.file("gbd.sock"));
  CHECK(error_code(parse(extra.line())) == "too_many_clients");
  CHECK(extra.wait_closed(2s));
  conns.clear();
  // Slots free up as clients leave.
  CHECK(eventually_true([&] {
    CtlConn again(dir.file("gbd.sock"));
    again.send(R"({"id":1,"cmd":"help"})"
               "\n");
    std::string l = again.line(1s);
    return !l.empty() && parse(l)["ok"].GetBool();
  }));
}

TEST_CASE("a follower that disconnects mid-stream costs nothing", "[integration][control]") {
  Rig rig;
  for (int round = 0; round < 5; ++round) {
    CtlConn f(rig.dir.file("gbd.sock"));
    REQUIRE(f.send(R"({"id":1,"cmd":"logs.tail","args":{"follow":true,"n":5}})"
                   "\n"));
    REQUIRE(rig.gbd.generate().status == 200);
    f.close();
  }
  // gbd goes on serving and answering, and exits cleanly with nothing leaked.
  REQUIRE(rig.gbd.generate().status == 200);
  CtlConn c(rig.dir.file("gbd.sock"));
  REQUIRE(c.send(R"({"id":9,"cmd":"status"})"
                 "\n"));
  CHECK(parse(c.line())["ok"].GetBool());
  CHECK(rig.gbd.stop() == 0);
  CHECK(rig.gbd.log_text().find("ev=server.stopped leaks=0") != std::string::npos);
}

TEST_CASE("gbd refuses to start when another gbd answers on its control socket",
          "[integration][control]") {
  Rig rig;
  GbdConfig cfg;
  cfg.base_url = rig.mock.url();
  std::string toml = cfg.to_toml(rig.dir);
  std::string path = rig.dir.write("second.toml", toml);
  RunResult second = run(rig.dir, {GBD_PATH, "-c", path}, 10s);
  CHECK(second.status == 1);
  CHECK(second.err.find("ev=server.control_failed") != std::string::npos);
  CHECK(second.err.find("another process answers") != std::string::npos);
  CHECK(rig.gbd.generate().status == 200);
}

TEST_CASE("a client that half-closes after its request still gets the answer",
          "[integration][control]") {
  Rig rig;
  CtlConn c(rig.dir.file("gbd.sock"));
  REQUIRE(c.send(R"({"id":1,"cmd":"keys.reset","args":{"all":true}})"
                 "\n"
                 R"({"id":2,"cmd":"status"})"
                 "\n"));
  c.half_close();
  // keys.reset answers after its commit to gbd.db, status at once: both arrive.
  std::set<int> ids;
  for (int i = 0; i < 2; ++i) {
    std::string l = c.line();
    REQUIRE_FALSE(l.empty());
    auto d = parse(l);
    CHECK(d["ok"].GetBool());
    ids.insert(d["id"].GetInt());
  }
  CHECK(ids == std::set<int>{1, 2});
  CHECK(c.wait_closed(3s));
}

TEST_CASE("a client that pipelines thousands of requests without reading is paced, not buffered",
          "[integration][control]") {
  Rig rig;
  CtlConn c(rig.dir.file("gbd.sock"));
  long rss_before = rig.gbd.process().rss_kib();
  std::string batch;
  for (int i = 0; i < 20000; ++i) {
    batch += R"({"id":)" + std::to_string(i) + R"(,"cmd":"help"})" + "\n";
  }
  // gbd stops reading while its answers wait, so this write may block: it goes on a thread.
  std::thread writer([&] { c.send(batch); });
  std::this_thread::sleep_for(500ms);
  long rss_stalled = rig.gbd.process().rss_kib();
  int answered = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string l = c.line();
    if (l.empty()) {
      break;
    }
    auto d = parse(l);
    if (d["id"].GetInt() != i) {
      break;
    }
    ++answered;
  }
  writer.join();
  CHECK(answered == 20000);
  // Each answer is about 2 KiB: 40 MB if they were all buffered. (ASan's quarantine of
  // freed memory makes RSS meaningless there.)
  INFO("RSS before " << rss_before << " KiB, while the client did not read " << rss_stalled);
#if !defined(__SANITIZE_ADDRESS__)
  CHECK(rss_stalled - rss_before < 16 * 1024);
#endif
}

TEST_CASE("keys status lists thousands of keys in lines under 1 MiB", "[integration][control]") {
  Rig rig;
  std::string keys;
  for (int i = 0; i < 3000; ++i) {
    keys += "ok-many-" + std::to_string(100000 + i) + "-padding-to-a-realistic-length\n";
  }
  std::string file = rig.dir.write("many.keys", keys);
  RunResult add = run(rig.dir, {"/bin/sh", "-c",
                                std::string(GBCTL_PATH) + " -s " + rig.dir.file("gbd.sock") +
                                    " --json keys add - < " + file});
  INFO(add.err);
  REQUIRE(add.status == 0);
  CHECK(parse(add.out)["keys"].Size() == 3000);
  RunResult list = run(rig.dir, {GBCTL_PATH, "-s", rig.dir.file("gbd.sock"), "--json", "keys",
                                 "status"});
  INFO(list.err);
  REQUIRE(list.status == 0);
  CHECK(parse(list.out)["keys"].Size() == 3002);
  // On the wire: events of a few hundred keys each, then the end line.
  CtlConn c(rig.dir.file("gbd.sock"));
  REQUIRE(c.send(R"({"id":1,"cmd":"keys.status"})"
                 "\n"));
  size_t events = 0, seen = 0;
  for (std::string l = c.line(); !l.empty(); l = c.line()) {
    CHECK(l.size() < 1024 * 1024);
    auto d = parse(l);
    if (d.HasMember("event")) {
      ++events;
      seen += d["event"]["keys"].Size();
      continue;
    }
    CHECK(d["end"].GetBool());
    CHECK(d["data"]["keys"].GetInt() == 3002);
    break;
  }
  CHECK(seen == 3002);
  CHECK(events > 1);
}

TEST_CASE("gbd that cannot bind its listener exits 1 cleanly", "[integration][control]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  // The mock's own port is taken.
  cfg.listen = {"127.0.0.1:" + std::to_string(mock.port())};
  std::string path = dir.write("gbd.toml", cfg.to_toml(dir));
  RunResult r = run(dir, {GBD_PATH, "-c", path}, 10s);
  CHECK(r.status == 1);
  CHECK(r.err.find("ev=server.listen_failed") != std::string::npos);
  // The control socket it made is gone again, so the next start is not refused.
  CHECK(access(dir.file("gbd.sock").c_str(), F_OK) != 0);
}
