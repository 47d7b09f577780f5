// TLS to the upstream, with certificates made by openssl at test time: a CA, and a
// server certificate it signs for localhost and 127.0.0.1.
#include <catch2/catch.hpp>

#include "harness.h"

using namespace gbt;

namespace {

struct Pki {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
};

void openssl(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  RunResult r = run(dir, args, 20s);
  INFO("openssl " << args[1] << ":\n" << r.out << r.err);
  REQUIRE(r.status == 0);
}

// A self-signed CA named `name` (EC P-256 keys keep this fast).
std::string make_ca(const TempDir& dir, const std::string& name) {
  openssl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "2", "-subj", "/CN=" + name, "-keyout", dir.file(name + ".key"),
                "-out", dir.file(name + ".crt"), "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  return dir.file(name + ".crt");
}

Pki make_pki(const TempDir& dir) {
  Pki pki;
  pki.ca_cert = make_ca(dir, "test-ca");
  pki.server_key = dir.file("server.key");
  pki.server_cert = dir.file("server.crt");
  std::string ext = dir.write("server.ext",
                              "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                              "basicConstraints=CA:FALSE\n"
                              "keyUsage=digitalSignature\n"
                              "extendedKeyUsage=serverAuth\n");
  openssl(dir,
          {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
           "/CN=localhost", "-keyout", pki.server_key, "-out", dir.file("server.csr")});
  openssl(dir, {"x509", "-req", "-in", dir.file("server.csr"), "-CA", pki.ca_cert, "-CAkey",
                dir.file("test-ca.key"), "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
                pki.server_cert});
  return pki;
}

GbdConfig tls_config(const Mock& mock, const std::string& ca_file) {
  GbdConfig config;
  config.base_url = "https://localhost:" + std::to_string(mock.port());
  config.keys = {"ok-1"};
  config.ca_file = ca_file;
  return config;
}

}  // namespace

TEST_CASE("a TLS upstream is verified with the configured CA", "[integration][tls]") {
  TempDir dir;
  Pki pki = make_pki(dir);
  Mock tls_mock(dir, pki.server_cert, pki.server_key);
  Mock plain_mock(dir);
  Gbd gbd(dir, tls_config(tls_mock, pki.ca_cert));

  Response proxied = gbd.generate();
  Response direct = plain_mock.fetch("POST", model_path("generateContent"), "ok-1",
                                     {{"Content-Type", "application/json"}}, kPrompt);
  CHECK(proxied.status == 200);
  CHECK(proxied.body == direct.body);  // gb-mock answers the same bytes over TLS
  CHECK(gbd.attempts(0) == trail({{"ok-1", "200"}}));
}

TEST_CASE("a TLS upstream signed by another CA gives 502 tls_failed", "[integration][tls]") {
  TempDir dir;
  Pki pki = make_pki(dir);
  std::string other_ca = make_ca(dir, "other-ca");
  Mock tls_mock(dir, pki.server_cert, pki.server_key);
  Gbd gbd(dir, tls_config(tls_mock, other_ca));

  check_gemini_error(gbd.generate(), 502);
  CHECK(gbd.attempts(0) == trail({{"ok-1", "tls_failed"}}));
}
