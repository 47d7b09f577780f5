// TLS configurations shared by many TlsSessions: the random generator, the mbedTLS
// ssl_config and the certificates it points into.
//
// A context is immutable once create() returns, and every TlsSession holds a shared_ptr to
// the context that made it, so a context lives as long as its last connection. Clients use
// one TlsClientContext per (worker thread, ca_file); TlsServerContext serves the mock
// upstream in tests.
//
// Policy, fixed here rather than in each caller: TLS 1.2 minimum (mbedTLS 2.28 would
// otherwise negotiate 1.0 and 1.1), ALPN "http/1.1", curves x25519, secp256r1, secp384r1
// (the library default puts the slow secp521r1 first), peer verification required on the
// client, session tickets on.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/error.h"

namespace gb::net {

// "0x2700 X509 - Certificate verification failed, ..." for an mbedTLS error code.
std::string tls_error_text(int mbedtls_err);

class TlsClientContext {
 public:
  // Loads the CA bundle in ca_file (PEM or DER, one or many certificates). Fails with
  // config_invalid naming the file and the mbedTLS error when the file cannot be read, or
  // when not a single certificate in it parses. Certificates that fail to parse next to
  // good ones are skipped, as in the system bundle; ca_skipped() counts them.
  static Result<std::shared_ptr<TlsClientContext>> create(const std::string& ca_file);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  const mbedtls_ssl_config* config() const { return &conf_; }
  const std::string& ca_file() const { return ca_file_; }
  size_t ca_loaded() const { return ca_loaded_; }
  size_t ca_skipped() const { return ca_skipped_; }
  // Unique per process: sessions saved under one context are never offered under another,
  // so a reload with a different CA bundle cannot resume a session the new bundle would
  // reject.
  uint64_t id() const { return id_; }

 private:
  TlsClientContext();

  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_x509_crt ca_;
  mbedtls_ssl_config conf_;
  std::string ca_file_;
  size_t ca_loaded_ = 0;
  size_t ca_skipped_ = 0;
  uint64_t id_ = 0;
};

// Knobs for test servers; the defaults are what a real server should do.
struct TlsServerOptions {
  // Speak only TLS 1.1, to check that clients refuse it.
  bool tls11_only = false;
};

class TlsServerContext {
 public:
  // cert_file: the server certificate first, then any intermediates (PEM). key_file: its
  // private key, unencrypted. Offers ALPN "http/1.1", and lets clients resume both by
  // ticket (keys rotate inside mbedtls_ssl_ticket) and by session id (a session cache).
  static Result<std::shared_ptr<TlsServerContext>> create(const std::string& cert_file,
                                                          const std::string& key_file,
                                                          const TlsServerOptions& opts = {});
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  const mbedtls_ssl_config* config() const { return &conf_; }

 private:
  TlsServerContext();

  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_x509_crt chain_;
  mbedtls_pk_context key_;
  mbedtls_ssl_ticket_context ticket_;
  mbedtls_ssl_cache_context cache_;
  mbedtls_ssl_config conf_;
};

}  // namespace gb::net
