#include "net/tls_context.h"

#include <mbedtls/error.h>

#include <atomic>
#include <cstdio>

#include "net/tls_session.h"

namespace gb::net {
namespace {

// Both arrays must outlive every ssl_config that points at them.
const char* kAlpn[] = {"http/1.1", nullptr};
const mbedtls_ecp_group_id kCurves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                        MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE};

std::atomic<uint64_t> g_next_client_id{1};

Error file_error(const char* what, const std::string& file, const std::string& detail) {
  return Error::make(Errc::config_invalid, Side::internal,
                     std::string(what) + " " + file + ": " + detail);
}

int seed_rng(mbedtls_entropy_context* entropy, mbedtls_ctr_drbg_context* drbg,
             const char* personalization) {
  return mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, entropy,
                               reinterpret_cast<const unsigned char*>(personalization),
                               std::char_traits<char>::length(personalization));
}

// The part of the policy both sides share.
void apply_common_policy(mbedtls_ssl_config* conf, mbedtls_ctr_drbg_context* drbg) {
  mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, drbg);
  mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_curves(conf, kCurves);
  mbedtls_ssl_conf_alpn_protocols(conf, kAlpn);
}

size_t count_certs(const mbedtls_x509_crt* crt) {
  size_t n = 0;
  // An empty chain is one zeroed element: version 0 marks "nothing parsed".
  for (; crt != nullptr && crt->version != 0; crt = crt->next) {
    ++n;
  }
  return n;
}

}  // namespace

std::string tls_error_text(int mbedtls_err) {
  char text[160];
  mbedtls_strerror(mbedtls_err, text, sizeof(text));
  char code[16];
  std::snprintf(code, sizeof(code), "-0x%04x ", static_cast<unsigned>(-mbedtls_err));
  return std::string(code) + text;
}

// --- client ---

TlsClientContext::TlsClientContext() {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_x509_crt_init(&ca_);
  mbedtls_ssl_config_init(&conf_);
}

TlsClientContext::~TlsClientContext() {
  mbedtls_ssl_config_free(&conf_);
  mbedtls_x509_crt_free(&ca_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

Result<std::shared_ptr<TlsClientContext>> TlsClientContext::create(const std::string& ca_file) {
  std::shared_ptr<TlsClientContext> ctx(new TlsClientContext());
  ctx->ca_file_ = ca_file;
  ctx->id_ = g_next_client_id.fetch_add(1);

  int ret = mbedtls_x509_crt_parse_file(&ctx->ca_, ca_file.c_str());
  // A positive result counts certificates that failed to parse; it is not an error by
  // itself (the system bundle may hold a few the library cannot read).
  if (ret < 0) {
    return file_error("cannot load ca_file", ca_file, tls_error_text(ret));
  }
  ctx->ca_loaded_ = count_certs(&ctx->ca_);
  ctx->ca_skipped_ = static_cast<size_t>(ret);
  if (ctx->ca_loaded_ == 0) {
    return file_error("cannot load ca_file", ca_file,
                      "0 certificates loaded (" + std::to_string(ret) + " failed to parse)");
  }

  ret = seed_rng(&ctx->entropy_, &ctx->drbg_, "gbd tls client");
  if (ret == 0) {
    ret = mbedtls_ssl_config_defaults(&ctx->conf_, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  }
  if (ret != 0) {
    return Error::make(Errc::tls_failed, Side::internal,
                       "tls client setup failed: " + tls_error_text(ret));
  }
  apply_common_policy(&ctx->conf_, &ctx->drbg_);
  mbedtls_ssl_conf_authmode(&ctx->conf_, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&ctx->conf_, &ctx->ca_, nullptr);
  mbedtls_ssl_conf_session_tickets(&ctx->conf_, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
  return ctx;
}

// --- server ---

TlsServerContext::TlsServerContext() {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_x509_crt_init(&chain_);
  mbedtls_pk_init(&key_);
  mbedtls_ssl_ticket_init(&ticket_);
  mbedtls_ssl_cache_init(&cache_);
  mbedtls_ssl_config_init(&conf_);
}

TlsServerContext::~TlsServerContext() {
  mbedtls_ssl_config_free(&conf_);
  mbedtls_ssl_cache_free(&cache_);
  mbedtls_ssl_ticket_free(&ticket_);
  mbedtls_pk_free(&key_);
  mbedtls_x509_crt_free(&chain_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

Result<std::shared_ptr<TlsServerContext>> TlsServerContext::create(const std::string& cert_file,
                                                                   const std::string& key_file,
                                                                   const TlsServerOptions& opts) {
  std::shared_ptr<TlsServerContext> ctx(new TlsServerContext());
  int ret = mbedtls_x509_crt_parse_file(&ctx->chain_, cert_file.c_str());
  if (ret < 0) {
    return file_error("cannot load certificate", cert_file, tls_error_text(ret));
  }
  if (ret > 0 || count_certs(&ctx->chain_) == 0) {
    // Unlike a CA bundle, a server chain with an unreadable member is unusable.
    return file_error("cannot load certificate", cert_file,
                      std::to_string(ret) + " certificates failed to parse");
  }
  ret = mbedtls_pk_parse_keyfile(&ctx->key_, key_file.c_str(), nullptr);
  if (ret != 0) {
    return file_error("cannot load key", key_file, tls_error_text(ret));
  }

  ret = seed_rng(&ctx->entropy_, &ctx->drbg_, "gbd tls server");
  if (ret == 0) {
    ret = mbedtls_ssl_config_defaults(&ctx->conf_, MBEDTLS_SSL_IS_SERVER,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  }
  if (ret == 0) {
    ret = mbedtls_ssl_conf_own_cert(&ctx->conf_, &ctx->chain_, &ctx->key_);
  }
  if (ret == 0) {
    ret = mbedtls_ssl_ticket_setup(&ctx->ticket_, mbedtls_ctr_drbg_random, &ctx->drbg_,
                                   MBEDTLS_CIPHER_AES_256_GCM, 86400);
  }
  if (ret != 0) {
    return Error::make(Errc::tls_failed, Side::internal,
                       "tls server setup failed: " + tls_error_text(ret));
  }
  apply_common_policy(&ctx->conf_, &ctx->drbg_);
  if (opts.tls11_only) {
    mbedtls_ssl_conf_min_version(&ctx->conf_, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_2);
    mbedtls_ssl_conf_max_version(&ctx->conf_, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_2);
  }
  mbedtls_ssl_conf_session_tickets_cb(&ctx->conf_, mbedtls_ssl_ticket_write,
                                      mbedtls_ssl_ticket_parse, &ctx->ticket_);
  mbedtls_ssl_conf_session_cache(&ctx->conf_, &ctx->cache_, mbedtls_ssl_cache_get,
                                 mbedtls_ssl_cache_set);
  // Only records the name the client asked for; there is a single certificate to serve.
  mbedtls_ssl_conf_sni(&ctx->conf_, &TlsSession::on_server_name, nullptr);
  return ctx;
}

}  // namespace gb::net
