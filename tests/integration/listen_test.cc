// Listeners: several addresses at once, IPv4 and IPv6, every one serving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>

#include "harness.h"

using namespace gbt;

namespace {

// One GET /health over IPv6 loopback; returns the raw response bytes.
std::string get_health_v6(uint16_t port) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(port);
  addr.sin6_addr = in6addr_loopback;
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string req = "GET /health HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n";
  REQUIRE(write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, 5000) == 1) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("gbd serves on an IPv4 and an IPv6 listener at once", "[integration][listen]") {
  TempDir dir;
  Mock mock(dir);
  GbdConfig cfg;
  cfg.base_url = mock.url();
  cfg.listen = {"127.0.0.1:0", "[::1]:0"};
  Gbd gbd(dir, cfg);
  auto v6 = gbd.process().wait_for_line(
      std::regex(R"(ev=server\.listening addr=\[::1\]:(\d+))"), std::chrono::seconds(5));
  REQUIRE(v6);
  uint16_t port6 = static_cast<uint16_t>(std::stoi((*v6)[1]));
  CHECK(port6 != 0);

  std::string answer = get_health_v6(port6);
  CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(answer.find("\"status\":\"ok\"") != std::string::npos);

  // The IPv4 listener serves a proxied request at the same time.
  Response r = gbd.generate();
  CHECK(r.status == 200);
  CHECK(gbd.stop() == 0);
}
