// TlsSession client against TlsSession server, pumping ciphertext in memory: no sockets,
// no loop. Certificates come from the openssl command (test_certs.h), made once per run.
#include "net/tls.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_certs.h"

namespace {

using gb::Errc;
using gb::Side;
using gb::net::TlsClientContext;
using gb::net::TlsServerContext;
using gb::net::TlsServerOptions;
using gb::net::TlsSession;
using gb::net::TlsSessionCache;
using gb::test::TestCerts;
using Status = TlsSession::Status;

struct CertsHolder {
  TestCerts certs = gb::test::make_test_certs();
  ~CertsHolder() { gb::test::remove_test_certs(certs); }
};

const TestCerts& certs() {
  static CertsHolder holder;
  return holder.certs;
}

std::shared_ptr<TlsClientContext> client_ctx(const std::string& ca) {
  auto r = TlsClientContext::create(ca);
  INFO((r.ok() ? std::string() : r.error().context));
  REQUIRE(r.ok());
  return r.value();
}

std::shared_ptr<TlsServerContext> server_ctx(const std::string& cert, const std::string& key,
                                             TlsServerOptions opts = {}) {
  auto r = TlsServerContext::create(cert, key, opts);
  INFO((r.ok() ? std::string() : r.error().context));
  REQUIRE(r.ok());
  return r.value();
}

// Moves pending ciphertext from one side to the other, in pieces of at most chunk bytes
// when chunk is set. True if anything moved.
bool carry(TlsSession& from, TlsSession& to, size_t chunk = 0) {
  if (!from.has_output()) {
    return false;
  }
  std::string bytes = from.take_output();
  size_t step = chunk == 0 ? bytes.size() : chunk;
  for (size_t off = 0; off < bytes.size(); off += step) {
    to.feed(bytes.data() + off, std::min(step, bytes.size() - off));
  }
  return true;
}

struct Outcome {
  Status client = Status::want;
  Status server = Status::want;
};

// Runs both handshakes to the end, as a transport would: drive, send, repeat.
Outcome handshake(TlsSession& c, TlsSession& s) {
  Outcome o;
  for (int round = 0; round < 50; ++round) {
    o.client = c.handshake();
    bool moved = carry(c, s);
    o.server = s.handshake();
    moved = carry(s, c) || moved;
    if (o.client != Status::want && o.server != Status::want && !moved) {
      break;
    }
    if (!moved && (o.client == Status::failed || o.server == Status::failed)) {
      break;
    }
  }
  return o;
}

// Like handshake(), but the server's bytes reach the client one at a time, so every record
// arrives split at every possible position.
Outcome handshake_bytewise(TlsSession& c, TlsSession& s) {
  Outcome o;
  for (int round = 0; round < 50; ++round) {
    o.client = c.handshake();
    bool moved = carry(c, s);
    o.server = s.handshake();
    std::string bytes = s.take_output();
    for (char b : bytes) {
      c.feed(&b, 1);
      o.client = c.handshake();
      moved = carry(c, s) || moved;
    }
    moved = moved || !bytes.empty();
    if (o.client != Status::want && o.server != Status::want && !moved) {
      break;
    }
  }
  return o;
}

// Sends data from one side and reads it on the other; chunk splits the ciphertext.
std::string send_and_receive(TlsSession& from, TlsSession& to, const std::string& data,
                             size_t chunk = 0) {
  REQUIRE(from.write(data.data(), data.size()) == Status::done);
  std::string bytes = from.take_output();
  std::string got;
  size_t step = chunk == 0 ? bytes.size() : chunk;
  for (size_t off = 0; off < bytes.size(); off += step) {
    to.feed(bytes.data() + off, std::min(step, bytes.size() - off));
    REQUIRE(to.read(got) == Status::want);
  }
  return got;
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  }
  return s;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("tls handshake negotiates http/1.1 and carries data both ways", "[tls]") {
  auto sctx = server_ctx(certs().cert, certs().key);
  auto c = TlsSession::client(client_ctx(certs().ca), "localhost", 443, nullptr);
  auto s = TlsSession::server(sctx);

  Outcome o = handshake(*c, *s);
  REQUIRE(o.client == Status::done);
  REQUIRE(o.server == Status::done);
  CHECK(c->handshake_done());
  CHECK(s->handshake_done());
  REQUIRE(c->alpn() != nullptr);
  CHECK(std::string(c->alpn()) == "http/1.1");
  REQUIRE(s->alpn() != nullptr);
  CHECK(std::string(s->alpn()) == "http/1.1");
  CHECK(s->server_name() == "localhost");
  CHECK_FALSE(c->resumed());

  CHECK(send_and_receive(*c, *s, "GET / HTTP/1.1\r\n\r\n") == "GET / HTTP/1.1\r\n\r\n");
  CHECK(send_and_receive(*s, *c, "HTTP/1.1 200 OK\r\n\r\n") == "HTTP/1.1 200 OK\r\n\r\n");

  SECTION("1 MiB each way, whole and in odd pieces") {
    std::string big = pattern(1 << 20);
    CHECK(send_and_receive(*c, *s, big) == big);
    CHECK(send_and_receive(*s, *c, big, 4099) == big);
    CHECK(send_and_receive(*c, *s, big, 1000) == big);
  }

  SECTION("close_notify ends the stream cleanly") {
    c->close_notify();
    REQUIRE(carry(*c, *s));
    std::string got;
    CHECK(s->read(got) == Status::done);
    CHECK(got.empty());
    CHECK(s->close_notify_received());
    CHECK(s->read(got) == Status::done);  // stays done
    CHECK(c->write("x", 1) == Status::failed);

    s->close_notify();
    REQUIRE(carry(*s, *c));
    CHECK(c->read(got) == Status::done);
    CHECK(c->close_notify_received());
  }

  SECTION("data and close_notify in one batch are both delivered") {
    REQUIRE(s->write("last words", 10) == Status::done);
    s->close_notify();
    carry(*s, *c);
    std::string got;
    CHECK(c->read(got) == Status::done);
    CHECK(got == "last words");
    CHECK(c->close_notify_received());
  }

  SECTION("EOF without close_notify is an end, not a clean one") {
    s->feed_eof();
    std::string got;
    CHECK(s->read(got) == Status::done);
    CHECK_FALSE(s->close_notify_received());
  }
}

TEST_CASE("tls handshake fed one byte at a time completes", "[tls]") {
  auto c = TlsSession::client(client_ctx(certs().ca), "localhost", 443, nullptr);
  auto s = TlsSession::server(server_ctx(certs().cert, certs().key));
  Outcome o = handshake_bytewise(*c, *s);
  CHECK(o.client == Status::done);
  CHECK(o.server == Status::done);
  CHECK(send_and_receive(*s, *c, pattern(40000), 1) == pattern(40000));
}

TEST_CASE("tls EOF during the handshake fails", "[tls]") {
  auto c = TlsSession::client(client_ctx(certs().ca), "localhost", 8443, nullptr);
  REQUIRE(c->handshake() == Status::want);
  REQUIRE(c->has_output());  // the ClientHello
  c->feed_eof();
  REQUIRE(c->handshake() == Status::failed);
  CHECK(c->error().code == Errc::tls_failed);
  CHECK(contains(c->error().context, "localhost:8443"));
  CHECK(contains(c->error().context, "closed by the peer"));
  CHECK(c->handshake() == Status::failed);  // stays failed
}

TEST_CASE("tls write before the handshake fails instead of looping", "[tls]") {
  auto c = TlsSession::client(client_ctx(certs().ca), "localhost", 443, nullptr);
  CHECK(c->write("x", 1) == Status::failed);
  CHECK(c->error().code == Errc::tls_failed);
}

TEST_CASE("tls wrong hostname is rejected and the message names it", "[tls]") {
  auto c = TlsSession::client(client_ctx(certs().ca), "api.wrong.example", 443, nullptr);
  auto s = TlsSession::server(server_ctx(certs().cert, certs().key));
  Outcome o = handshake(*c, *s);
  REQUIRE(o.client == Status::failed);
  CHECK(o.server == Status::failed);  // told by the client's alert
  const gb::Error& e = c->error();
  CHECK(e.code == Errc::tls_failed);
  CHECK(e.side == Side::upstream);
  CHECK(contains(e.context, "hostname mismatch"));
  CHECK(contains(e.context, "api.wrong.example"));
  CHECK_FALSE(contains(e.context, "not trusted"));
  CHECK(s->server_name() == "api.wrong.example");
}

TEST_CASE("tls certificate from an untrusted CA is rejected", "[tls]") {
  SECTION("server certificate signed by another CA") {
    auto c = TlsSession::client(client_ctx(certs().ca), "localhost", 443, nullptr);
    auto s = TlsSession::server(server_ctx(certs().untrusted_cert, certs().untrusted_key));
    Outcome o = handshake(*c, *s);
    REQUIRE(o.client == Status::failed);
    CHECK(contains(c->error().context, "certificate not trusted"));
    CHECK(contains(c->error().context, certs().ca));
    CHECK_FALSE(contains(c->error().context, "hostname mismatch"));
  }
  SECTION("client trusting only another CA") {
    auto c = TlsSession::client(client_ctx(certs().untrusted_ca), "localhost", 443, nullptr);
    auto s = TlsSession::server(server_ctx(certs().cert, certs().key));
    Outcome o = handshake(*c, *s);
    REQUIRE(o.client == Status::failed);
    CHECK(contains(c->error().context, "certificate not trusted"));
    CHECK(o.server == Status::failed);
    CHECK(s->error().side == Side::client);
    CHECK(contains(s->error().context, "alert"));
  }
}

TEST_CASE("tls IP literal is checked against iPAddress SANs without SNI", "[tls]") {
  auto cctx = client_ctx(certs().ca);
  auto sctx = server_ctx(certs().cert, certs().key);

  SECTION("127.0.0.1 is in the certificate") {
    auto c = TlsSession::client(cctx, "127.0.0.1", 443, nullptr);
    auto s = TlsSession::server(sctx);
    Outcome o = handshake(*c, *s);
    INFO(c->error().context);
    CHECK(o.client == Status::done);
    CHECK(o.server == Status::done);
    CHECK(s->server_name().empty());  // RFC 6066: no address in SNI
  }
  SECTION("127.0.0.2 is not") {
    auto c = TlsSession::client(cctx, "127.0.0.2", 443, nullptr);
    auto s = TlsSession::server(sctx);
    Outcome o = handshake(*c, *s);
    REQUIRE(o.client == Status::failed);
    CHECK(contains(c->error().context, "hostname mismatch"));
    CHECK(contains(c->error().context, "127.0.0.2"));
    CHECK(s->server_name().empty());
  }
  SECTION("an IPv6 literal does not match an IPv4 SAN") {
    auto c = TlsSession::client(cctx, "[::1]", 443, nullptr);
    auto s = TlsSession::server(sctx);
    Outcome o = handshake(*c, *s);
    REQUIRE(o.client == Status::failed);
    CHECK(contains(c->error().context, "[::1]:443"));
  }
}

TEST_CASE("tls second connection with the same cache resumes", "[tls]") {
  auto cctx = client_ctx(certs().ca);
  auto sctx = server_ctx(certs().cert, certs().key);
  TlsSessionCache cache;

  auto c1 = TlsSession::client(cctx, "localhost", 443, &cache);
  auto s1 = TlsSession::server(sctx);
  REQUIRE(handshake(*c1, *s1).client == Status::done);
  CHECK_FALSE(c1->resumed());
  CHECK(cache.size() == 1);

  auto c2 = TlsSession::client(cctx, "localhost", 443, &cache);
  auto s2 = TlsSession::server(sctx);
  Outcome o = handshake(*c2, *s2);
  REQUIRE(o.client == Status::done);
  REQUIRE(o.server == Status::done);
  CHECK(c2->resumed());
  // No certificate on the wire the second time.
  CHECK(c2->bytes_fed() < c1->bytes_fed() / 2);
  CHECK(std::string(c2->alpn()) == "http/1.1");
  CHECK(send_and_receive(*c2, *s2, "after resumption") == "after resumption");

  SECTION("another port or another name does not use the entry") {
    auto c3 = TlsSession::client(cctx, "localhost", 444, &cache);
    auto s3 = TlsSession::server(sctx);
    REQUIRE(handshake(*c3, *s3).client == Status::done);
    CHECK_FALSE(c3->resumed());
    auto c4 = TlsSession::client(cctx, "127.0.0.1", 443, &cache);
    auto s4 = TlsSession::server(sctx);
    REQUIRE(handshake(*c4, *s4).client == Status::done);
    CHECK_FALSE(c4->resumed());
    CHECK(cache.size() == 3);
  }
  SECTION("a server that cannot resume gets a full handshake") {
    auto other = server_ctx(certs().cert, certs().key);  // other ticket keys, empty cache
    auto c3 = TlsSession::client(cctx, "localhost", 443, &cache);
    auto s3 = TlsSession::server(other);
    REQUIRE(handshake(*c3, *s3).client == Status::done);
    CHECK_FALSE(c3->resumed());
  }
  SECTION("a session is not offered under another client context") {
    auto c3 = TlsSession::client(client_ctx(certs().ca), "localhost", 443, &cache);
    auto s3 = TlsSession::server(sctx);
    REQUIRE(handshake(*c3, *s3).client == Status::done);
    CHECK_FALSE(c3->resumed());
  }
}

TEST_CASE("tls session cache evicts the oldest entry", "[tls]") {
  auto cctx = client_ctx(certs().ca);
  auto sctx = server_ctx(certs().cert, certs().key);
  TlsSessionCache cache(2);
  auto connect = [&](uint16_t port) {
    auto c = TlsSession::client(cctx, "localhost", port, &cache);
    auto s = TlsSession::server(sctx);
    REQUIRE(handshake(*c, *s).client == Status::done);
    return c->resumed();
  };
  CHECK_FALSE(connect(1));
  CHECK_FALSE(connect(2));
  CHECK_FALSE(connect(3));  // pushes out port 1
  CHECK(cache.size() == 2);
  CHECK(cache.find(TlsSessionCache::make_key("localhost", 1, "localhost"), cctx->id()) == nullptr);
  CHECK(connect(3));
  CHECK_FALSE(connect(1));
}

TEST_CASE("tls server speaking only TLS 1.1 is refused", "[tls]") {
  TlsServerOptions opts;
  opts.tls11_only = true;
  auto c = TlsSession::client(client_ctx(certs().ca), "localhost", 443, nullptr);
  auto s = TlsSession::server(server_ctx(certs().cert, certs().key, opts));
  Outcome o = handshake(*c, *s);
  REQUIRE(o.client == Status::failed);
  CHECK(contains(c->error().context, "TLS 1.2"));
  CHECK(o.server == Status::failed);
}

TEST_CASE("tls context files that cannot be loaded are named in the error", "[tls]") {
  std::string missing = certs().dir + "/no-such-ca.pem";
  auto r = TlsClientContext::create(missing);
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().context, missing));
  CHECK(r.error().code == Errc::config_invalid);

  std::string empty = certs().dir + "/empty.pem";
  std::ofstream(empty) << "no certificates here\n";
  auto r2 = TlsClientContext::create(empty);
  REQUIRE_FALSE(r2.ok());
  CHECK(contains(r2.error().context, empty));

  auto r3 = TlsServerContext::create(certs().cert, certs().dir + "/no-such.key");
  REQUIRE_FALSE(r3.ok());
  CHECK(contains(r3.error().context, "no-such.key"));

  auto r4 = TlsServerContext::create(certs().dir + "/no-such-cert.pem", certs().key);
  REQUIRE_FALSE(r4.ok());
  CHECK(contains(r4.error().context, "no-such-cert.pem"));
}

TEST_CASE("tls client context loads the system CA bundle", "[tls]") {
  const std::string bundle = "/etc/ssl/certs/ca-certificates.crt";
  if (!std::filesystem::exists(bundle)) {
    WARN("no " << bundle << ", skipped");
    return;
  }
  auto r = TlsClientContext::create(bundle);
  INFO((r.ok() ? std::string() : r.error().context));
  REQUIRE(r.ok());
  CHECK(r.value()->ca_loaded() > 50);
}
