// One TLS connection as a byte-in, byte-out engine. It never touches a socket: the
// transport feeds it the ciphertext it read, and writes whatever take_output() returns.
// It has no libuv dependency, so it runs the same in tests that pump bytes in memory.
//
// The usual driving loop, after every read from the socket (and once after connect, so a
// client sends its ClientHello):
//   tls->feed(buf, n);                 // or tls->feed_eof() on EOF
//   if (!tls->handshake_done()) { status = tls->handshake(); }   // failed -> error()
//   if (tls->handshake_done()) { status = tls->read(plaintext); } // done -> peer finished
//   if (tls->has_output()) { write_to_socket(tls->take_output()); }
//
// Nothing here can end the owner: every call returns a status and the caller decides.
// mbedTLS reads through an inbox that is compacted as it drains, and writes to an outbox
// that take_output() empties, so memory stays bounded by what the caller leaves in them.
#pragma once

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/error.h"
#include "net/tls_context.h"
#include "net/tls_session_cache.h"

namespace gb::net {

class TlsSession {
 public:
  enum class Status { done, want, failed };

  // Client. host names the upstream: for a DNS name it is sent as SNI and checked against
  // the certificate's names. For an IP literal (v4, or v6 with or without brackets) no SNI
  // is sent and the certificate must carry that address as an iPAddress SAN. cache may be
  // null; otherwise a session saved for host:port is offered, and the new one is stored
  // after a successful handshake.
  static std::unique_ptr<TlsSession> client(std::shared_ptr<TlsClientContext> ctx,
                                            const std::string& host, uint16_t port,
                                            TlsSessionCache* cache);
  static std::unique_ptr<TlsSession> server(std::shared_ptr<TlsServerContext> ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Ciphertext received from the network. Always takes all of it.
  void feed(const char* data, size_t n);
  // The peer closed its side of the TCP connection.
  void feed_eof();

  // Drives the handshake as far as the input allows. done: finished (also when called
  // again later). want: needs more input; send take_output() first. failed: see error().
  Status handshake();
  bool handshake_done() const { return handshake_done_; }
  // Errc::tls_failed with a message for a person, e.g. "tls handshake with
  // api.example.com:443 failed: certificate not trusted". Valid after failed.
  const Error& error() const { return error_; }

  // After the handshake: appends all plaintext available to out. want: needs more input.
  // done: the peer sent close_notify or closed TCP, nothing more will come (see
  // close_notify_received() to tell a clean end from a cut). failed: see error().
  // Called before the handshake is done, it drives handshake() first.
  Status read(std::string& out);
  // After the handshake: encrypts all n bytes into the output (several records if large).
  // The output grows by n plus record overhead; backpressure is the caller's, by checking
  // its socket's write queue before writing more.
  // Returns done, or failed (see error()). Writing before the handshake or after
  // close_notify() also returns failed, but leaves the connection usable for reading.
  Status write(const char* data, size_t n);
  // Queues a close_notify alert; take_output() has it afterwards. Further writes fail.
  void close_notify();

  // Ciphertext to put on the wire now; leaves the internal buffer empty.
  std::string take_output();
  bool has_output() const { return !out_.empty(); }

  // The negotiated ALPN protocol, or nullptr if the peer did no ALPN.
  const char* alpn() const;
  // Whether an offered session was accepted: a resumed handshake keeps the master secret
  // of the saved session, a full one derives a new one.
  bool resumed() const { return resumed_; }
  bool close_notify_received() const { return close_notify_received_; }
  // Server side: the SNI the client sent, empty if none.
  const std::string& server_name() const { return server_name_; }
  // Bytes fed so far; lets callers and tests see how large a handshake was.
  uint64_t bytes_fed() const { return bytes_fed_; }

  // Registered by TlsServerContext as the SNI callback; not for other callers.
  static int on_server_name(void* unused, mbedtls_ssl_context* ssl, const unsigned char* name,
                            size_t len);

 private:
  TlsSession();
  bool setup(const mbedtls_ssl_config* conf);
  bool setup_client_identity();
  void offer_cached_session();
  void finish_handshake();
  Status fail(int mbedtls_err, const char* step);
  std::string describe_verify_failure(uint32_t flags) const;
  void compact_inbox();

  static int bio_send(void* self, const unsigned char* buf, size_t len);
  static int bio_recv(void* self, unsigned char* buf, size_t len);
  static int verify_ip(void* self, mbedtls_x509_crt* crt, int depth, uint32_t* flags);

  std::shared_ptr<TlsClientContext> client_ctx_;
  std::shared_ptr<TlsServerContext> server_ctx_;
  mbedtls_ssl_context ssl_;
  bool is_client_ = false;

  std::string host_;  // as given, for messages
  uint16_t port_ = 0;
  unsigned char ip_[16] = {};
  size_t ip_len_ = 0;  // 4 or 16 when host is an IP literal
  TlsSessionCache* cache_ = nullptr;
  std::string cache_key_;
  bool offered_ = false;
  unsigned char offered_master_[48] = {};

  std::string in_;
  size_t in_off_ = 0;
  bool eof_ = false;
  std::string out_;
  uint64_t bytes_fed_ = 0;

  bool handshake_done_ = false;
  bool failed_ = false;
  bool resumed_ = false;
  bool closed_ = false;  // we sent close_notify
  bool close_notify_received_ = false;
  bool peer_done_ = false;
  std::string server_name_;
  Error error_;
};

}  // namespace gb::net
