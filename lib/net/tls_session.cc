#include "net/tls_session.h"

#include <arpa/inet.h>
#include <mbedtls/asn1.h>
#include <mbedtls/platform_util.h>

#include <algorithm>
#include <cstring>

namespace gb::net {
namespace {

// Large enough for one full record, so read() rarely needs more than one call per record.
constexpr size_t kReadChunk = 16384;
// Above this, a drained inbox gives its memory back instead of keeping the peak size.
constexpr size_t kInboxKeepCapacity = 64 * 1024;

bool is_want(int ret) {
  return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

// Parses an IPv4 or IPv6 literal ("[::1]" too) into raw bytes; returns the length or 0.
size_t parse_ip_literal(const std::string& host, unsigned char out[16]) {
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  if (inet_pton(AF_INET, h.c_str(), out) == 1) {
    return 4;
  }
  if (inet_pton(AF_INET6, h.c_str(), out) == 1) {
    return 16;
  }
  return 0;
}

const char* alert_name(unsigned char code) {
  switch (code) {
    case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
      return "handshake_failure";
    case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
      return "bad_certificate";
    case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
      return "certificate_expired";
    case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
      return "certificate_unknown";
    case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
      return "unknown_ca";
    case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
      return "protocol_version";
    case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY:
      return "insufficient_security";
    case MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME:
      return "unrecognized_name";
    case MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL:
      return "no_application_protocol";
    case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR:
      return "internal_error";
    default:
      return nullptr;
  }
}

}  // namespace

TlsSession::TlsSession() {
  mbedtls_ssl_init(&ssl_);
}

TlsSession::~TlsSession() {
  mbedtls_ssl_free(&ssl_);
  mbedtls_platform_zeroize(offered_master_, sizeof(offered_master_));
}

std::unique_ptr<TlsSession> TlsSession::client(std::shared_ptr<TlsClientContext> ctx,
                                               const std::string& host, uint16_t port,
                                               TlsSessionCache* cache) {
  std::unique_ptr<TlsSession> s(new TlsSession());
  s->is_client_ = true;
  s->host_ = host;
  s->port_ = port;
  s->cache_ = cache;
  const mbedtls_ssl_config* conf = ctx->config();
  s->client_ctx_ = std::move(ctx);
  // A failed setup is reported by the first handshake(), so callers have one error path.
  if (s->setup(conf) && s->setup_client_identity()) {
    s->offer_cached_session();
  }
  return s;
}

std::unique_ptr<TlsSession> TlsSession::server(std::shared_ptr<TlsServerContext> ctx) {
  std::unique_ptr<TlsSession> s(new TlsSession());
  const mbedtls_ssl_config* conf = ctx->config();
  s->server_ctx_ = std::move(ctx);
  s->setup(conf);
  return s;
}

bool TlsSession::setup(const mbedtls_ssl_config* conf) {
  int ret = mbedtls_ssl_setup(&ssl_, conf);
  if (ret != 0) {
    fail(ret, "setup");
    return false;
  }
  mbedtls_ssl_set_bio(&ssl_, this, &TlsSession::bio_send, &TlsSession::bio_recv, nullptr);
  return true;
}

bool TlsSession::setup_client_identity() {
  ip_len_ = parse_ip_literal(host_, ip_);
  int ret = 0;
  if (ip_len_ != 0) {
    // mbedTLS 2.28 would send the address as SNI (RFC 6066 forbids it) and match it
    // against dNSName entries only, so clear the name and check iPAddress SANs ourselves.
    ret = mbedtls_ssl_set_hostname(&ssl_, nullptr);
    mbedtls_ssl_set_verify(&ssl_, &TlsSession::verify_ip, this);
  } else {
    // Always set: without a hostname mbedTLS silently skips the name check.
    ret = mbedtls_ssl_set_hostname(&ssl_, host_.c_str());
  }
  if (ret != 0) {
    fail(ret, "setup");
    return false;
  }
  std::string sni = ip_len_ != 0 ? std::string() : host_;
  cache_key_ = TlsSessionCache::make_key(host_, port_, sni);
  return true;
}

void TlsSession::offer_cached_session() {
  if (cache_ == nullptr) {
    return;
  }
  const mbedtls_ssl_session* saved = cache_->find(cache_key_, client_ctx_->id());
  // A session that cannot be set only costs a full handshake.
  if (saved != nullptr && mbedtls_ssl_set_session(&ssl_, saved) == 0) {
    offered_ = true;
    std::memcpy(offered_master_, saved->master, sizeof(offered_master_));
  }
}

void TlsSession::feed(const char* data, size_t n) {
  in_.append(data, n);
  bytes_fed_ += n;
}

void TlsSession::feed_eof() {
  eof_ = true;
}

TlsSession::Status TlsSession::handshake() {
  if (failed_) {
    return Status::failed;
  }
  if (handshake_done_) {
    return Status::done;
  }
  int ret = mbedtls_ssl_handshake(&ssl_);
  compact_inbox();
  if (ret == 0) {
    finish_handshake();
    return Status::done;
  }
  if (is_want(ret)) {
    return Status::want;
  }
  if (offered_ && cache_ != nullptr) {
    // The saved session may be what the server choked on; do not offer it again.
    cache_->erase(cache_key_);
  }
  return fail(ret, "handshake");
}

void TlsSession::finish_handshake() {
  handshake_done_ = true;
  if (!is_client_) {
    return;
  }
  // 2.28 has no "was resumed" getter; an abbreviated handshake reuses the saved master
  // secret, while a full one derives a fresh one from new randoms.
  if (offered_ && ssl_.session != nullptr) {
    resumed_ = std::memcmp(ssl_.session->master, offered_master_, sizeof(offered_master_)) == 0;
  }
  mbedtls_platform_zeroize(offered_master_, sizeof(offered_master_));
  if (cache_ != nullptr) {
    // The server may have issued a new ticket even on resumption; keep the newest.
    cache_->store(cache_key_, client_ctx_->id(), &ssl_);
  }
}

TlsSession::Status TlsSession::read(std::string& out) {
  if (failed_) {
    return Status::failed;
  }
  if (peer_done_) {
    return Status::done;
  }
  if (!handshake_done_) {
    Status hs = handshake();
    if (hs != Status::done) {
      return hs;
    }
  }
  for (;;) {
    size_t old = out.size();
    out.resize(old + kReadChunk);
    int ret =
        mbedtls_ssl_read(&ssl_, reinterpret_cast<unsigned char*>(out.data() + old), kReadChunk);
    out.resize(old + (ret > 0 ? static_cast<size_t>(ret) : 0));
    if (ret > 0) {
      continue;
    }
    compact_inbox();
    if (is_want(ret)) {
      return Status::want;
    }
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      close_notify_received_ = true;
      peer_done_ = true;
      return Status::done;
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_CONN_EOF) {
      peer_done_ = true;
      return Status::done;
    }
    return fail(ret, "read");
  }
}

TlsSession::Status TlsSession::write(const char* data, size_t n) {
  if (failed_) {
    return Status::failed;
  }
  if (!handshake_done_ || closed_) {
    // A caller's mistake, not a broken connection: reads may still go on (the peer's
    // close_notify must still be seen), so failed_ stays as it was.
    error_ = Error::make(
        Errc::tls_failed, Side::internal,
        closed_ ? "tls write after close_notify" : "tls write before the handshake finished");
    return Status::failed;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  size_t off = 0;
  while (off < n) {
    int ret = mbedtls_ssl_write(&ssl_, p + off, n - off);
    if (ret > 0) {
      off += static_cast<size_t>(ret);
      continue;
    }
    // bio_send never blocks, so "want" here means a renegotiation wants input; with
    // renegotiation off that is a protocol error, and looping would never end.
    return fail(ret == 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : ret, "write");
  }
  return Status::done;
}

void TlsSession::close_notify() {
  if (closed_ || failed_) {
    return;
  }
  closed_ = true;
  if (handshake_done_) {
    // Cannot return "want": the alert goes straight to the outbox.
    mbedtls_ssl_close_notify(&ssl_);
  }
}

std::string TlsSession::take_output() {
  std::string s;
  s.swap(out_);
  return s;
}

const char* TlsSession::alpn() const {
  return handshake_done_ ? mbedtls_ssl_get_alpn_protocol(&ssl_) : nullptr;
}

TlsSession::Status TlsSession::fail(int mbedtls_err, const char* step) {
  std::string reason;
  if (mbedtls_err == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
    reason = describe_verify_failure(mbedtls_ssl_get_verify_result(&ssl_));
  } else if (mbedtls_err == MBEDTLS_ERR_SSL_CONN_EOF) {
    reason = "connection closed by the peer";
  } else if (mbedtls_err == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION) {
    reason = "protocol version refused, TLS 1.2 or newer is required (" +
             tls_error_text(mbedtls_err) + ")";
  } else if (mbedtls_err == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && ssl_.in_msg != nullptr) {
    const char* name = alert_name(ssl_.in_msg[1]);
    reason = "peer sent fatal alert " +
             (name != nullptr ? std::string(name) : std::to_string(ssl_.in_msg[1]));
  } else {
    reason = tls_error_text(mbedtls_err);
  }

  std::string msg = std::string("tls ") + step;
  if (is_client_) {
    bool bracket = ip_len_ == 16 && host_.front() != '[';
    msg += " with " + (bracket ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
  }
  msg += " failed: " + reason;
  failed_ = true;
  error_ =
      Error::make(Errc::tls_failed, is_client_ ? Side::upstream : Side::client, std::move(msg));
  return Status::failed;
}

std::string TlsSession::describe_verify_failure(uint32_t flags) const {
  std::string out;
  auto add = [&out](const std::string& part) {
    out += out.empty() ? "" : ", ";
    out += part;
  };
  if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
    std::string ca = client_ctx_ ? client_ctx_->ca_file() : std::string("the CA list");
    add("certificate not trusted (no chain to a CA in " + ca + ")");
  }
  if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
    add("hostname mismatch (certificate is not valid for " + host_ + ")");
  }
  if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
    add("certificate expired");
  }
  if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
    add("certificate not yet valid");
  }
  uint32_t rest = flags & ~(MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_CN_MISMATCH |
                            MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
  if (rest != 0) {
    char info[512];
    int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", rest);
    // One line per flag; join them so the message stays on one log line.
    std::string text(info, n > 0 ? static_cast<size_t>(n) : 0);
    while (!text.empty() && text.back() == '\n') {
      text.pop_back();
    }
    std::replace(text.begin(), text.end(), '\n', ';');
    add(text);
  }
  if (out.empty()) {
    out = tls_error_text(MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
  }
  return out;
}

void TlsSession::compact_inbox() {
  if (in_off_ == in_.size()) {
    if (in_.capacity() > kInboxKeepCapacity) {
      std::string().swap(in_);
    } else {
      in_.clear();
    }
    in_off_ = 0;
  } else if (in_off_ >= kReadChunk && in_off_ * 2 >= in_.size()) {
    // Moving the tail costs at most the size of what was consumed, so the total copy
    // work stays linear in the bytes received.
    in_.erase(0, in_off_);
    in_off_ = 0;
  }
}

int TlsSession::bio_send(void* self, const unsigned char* buf, size_t len) {
  auto* s = static_cast<TlsSession*>(self);
  s->out_.append(reinterpret_cast<const char*>(buf), len);
  return static_cast<int>(len);
}

int TlsSession::bio_recv(void* self, unsigned char* buf, size_t len) {
  auto* s = static_cast<TlsSession*>(self);
  size_t avail = s->in_.size() - s->in_off_;
  if (avail == 0) {
    // 0 tells mbedTLS the transport is closed.
    return s->eof_ ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
  }
  size_t n = std::min(avail, len);
  std::memcpy(buf, s->in_.data() + s->in_off_, n);
  s->in_off_ += n;
  return static_cast<int>(n);
}

int TlsSession::verify_ip(void* self, mbedtls_x509_crt* crt, int depth, uint32_t* flags) {
  if (depth != 0) {
    return 0;
  }
  auto* s = static_cast<TlsSession*>(self);
  // mbedTLS keeps each SAN's context tag; iPAddress is [7] with 4 or 16 raw bytes.
  const unsigned char ip_tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
  for (const mbedtls_x509_sequence* san = &crt->subject_alt_names; san != nullptr;
       san = san->next) {
    if (san->buf.tag == ip_tag && san->buf.len == s->ip_len_ &&
        std::memcmp(san->buf.p, s->ip_, s->ip_len_) == 0) {
      return 0;
    }
  }
  *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
  return 0;
}

int TlsSession::on_server_name(void* /*unused*/, mbedtls_ssl_context* ssl,
                               const unsigned char* name, size_t len) {
  // p_bio is the TlsSession: set_bio is the only per-connection pointer 2.28 offers.
  auto* s = static_cast<TlsSession*>(ssl->p_bio);
  if (s != nullptr) {
    s->server_name_.assign(reinterpret_cast<const char*>(name), len);
  }
  return 0;
}

}  // namespace gb::net
