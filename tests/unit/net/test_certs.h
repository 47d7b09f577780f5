// Test certificates made at run time with the openssl command, so no key material is
// checked in and nothing expires in the repository.
//
//   TestCerts c = make_test_certs();   // throws std::runtime_error with openssl's output
//   c.ca            CA that signed cert (trust this one)
//   c.cert, c.key   server certificate for DNS:localhost and IP:127.0.0.1, and its key
//   c.untrusted_ca  an unrelated CA; c.untrusted_cert and c.untrusted_key are a
//                   certificate for the same names signed by it
//   remove_test_certs(c) deletes c.dir.
//
// All keys are EC P-256. Header-only so integration tests can include it as well.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gb::test {

struct TestCerts {
  std::string dir, ca, cert, key, untrusted_ca;
  std::string untrusted_cert, untrusted_key;
};

namespace detail {

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  if (!f) {
    throw std::runtime_error("cannot write " + path);
  }
}

// Runs one openssl command with its output going to dir/openssl.log, which is quoted
// in the exception so a failing test shows why.
inline void run_openssl(const std::string& dir, const std::string& args) {
  std::string log = dir + "/openssl.log";
  std::string cmd = "openssl " + args + " >>'" + log + "' 2>&1 </dev/null";
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream f(log);
    std::stringstream out;
    out << f.rdbuf();
    throw std::runtime_error("openssl failed: " + cmd + "\n" + out.str());
  }
}

inline void make_ca(const std::string& dir, const std::string& name, const std::string& cn) {
  std::string key = dir + "/" + name + ".key";
  std::string pem = dir + "/" + name + ".pem";
  run_openssl(dir, "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" + key + "'");
  run_openssl(dir, "req -config '" + dir + "/req.cnf' -x509 -new -key '" + key +
                       "' -sha256 -days 3650 -subj '/CN=" + cn + "' -set_serial 1" +
                       " -addext basicConstraints=critical,CA:TRUE" +
                       " -addext keyUsage=critical,keyCertSign,cRLSign -out '" + pem + "'");
}

inline void make_leaf(const std::string& dir, const std::string& name, const std::string& ca,
                      int serial) {
  std::string key = dir + "/" + name + ".key";
  std::string csr = dir + "/" + name + ".csr";
  run_openssl(dir, "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" + key + "'");
  run_openssl(dir, "req -config '" + dir + "/req.cnf' -new -key '" + key +
                       "' -subj '/CN=localhost' -out '" + csr + "'");
  run_openssl(dir, "x509 -req -in '" + csr + "' -CA '" + dir + "/" + ca + ".pem' -CAkey '" + dir +
                       "/" + ca + ".key' -set_serial " + std::to_string(serial) +
                       " -days 825 -sha256 -extfile '" + dir + "/leaf.ext' -out '" + dir + "/" +
                       name + ".pem'");
}

}  // namespace detail

inline TestCerts make_test_certs() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "gbd-certs-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for " + tmpl);
  }
  TestCerts c;
  c.dir = tmpl;
  // Our own minimal config, so the system openssl.cnf cannot add surprises.
  detail::write_text(c.dir + "/req.cnf",
                     "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n");
  detail::write_text(c.dir + "/leaf.ext",
                     "basicConstraints = critical,CA:FALSE\n"
                     "keyUsage = critical,digitalSignature\n"
                     "extendedKeyUsage = serverAuth\n"
                     "subjectAltName = DNS:localhost,IP:127.0.0.1\n");
  detail::make_ca(c.dir, "ca", "gbd test CA");
  detail::make_ca(c.dir, "untrusted_ca", "gbd untrusted test CA");
  detail::make_leaf(c.dir, "server", "ca", 2);
  detail::make_leaf(c.dir, "untrusted_server", "untrusted_ca", 3);
  c.ca = c.dir + "/ca.pem";
  c.cert = c.dir + "/server.pem";
  c.key = c.dir + "/server.key";
  c.untrusted_ca = c.dir + "/untrusted_ca.pem";
  c.untrusted_cert = c.dir + "/untrusted_server.pem";
  c.untrusted_key = c.dir + "/untrusted_server.key";
  return c;
}

inline void remove_test_certs(const TestCerts& c) {
  if (!c.dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(c.dir, ec);
  }
}

}  // namespace gb::test
