// Stream: a connected TCP socket, plain or TLS, moving bytes for one owner.
//
// The owner (a server or client HTTP connection) gets plaintext through Callbacks and
// writes plaintext; TLS, when present, is applied here. The uv_tcp_t outlives the Stream
// object by one close callback, as libuv requires; once close() was called no callback
// reaches the owner.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "uv/loop.h"

namespace gb::net {

class TlsSession;

class StreamOwner {
 public:
  virtual ~StreamOwner() = default;
  // Plaintext arrived. The owner may call close() inside.
  virtual void on_stream_data(const char* data, size_t n) = 0;
  // The peer finished sending (TCP FIN or TLS close_notify).
  virtual void on_stream_eof() = 0;
  // A transport failure (reset, TLS error). The stream is unusable afterwards.
  virtual void on_stream_error(const Error& err) = 0;
  // The write queue fell to the drain mark (see set_drain_mark) after being above it.
  virtual void on_stream_drained() {}
  // TLS handshake finished (client streams); plain streams call it right after attach.
  virtual void on_stream_ready() {}
};

// Bytes to send: owned, or shared with others (a request body sent again on a retry).
class Chunk {
 public:
  explicit Chunk(std::string s) : owned_(std::move(s)) {}
  explicit Chunk(std::shared_ptr<const std::string> s) : shared_(std::move(s)) {}
  std::string_view view() const { return shared_ ? std::string_view(*shared_) : owned_; }

 private:
  std::string owned_;
  std::shared_ptr<const std::string> shared_;
};

// Writes are queued and sent in the loop's check phase, all of one iteration in one
// writev; a write never calls back into the owner while the owner is on the stack.
class Stream : public uv::Flushable {
 public:
  // Takes ownership of an initialised, connected (or accepted) tcp handle allocated with new.
  Stream(uv_tcp_t* tcp, StreamOwner* owner, std::unique_ptr<TlsSession> tls = nullptr);
  ~Stream() override;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Starts reading (and, for a TLS client, the handshake).
  void start();
  void pause_reading();
  void resume_reading();
  bool reading() const { return reading_; }

  // Queues bytes for the peer. Returns false once the stream failed or was closed.
  bool write(std::string data);
  bool write(std::string_view data) { return write(std::string(data)); }
  bool write_shared(std::shared_ptr<const std::string> data);
  // Bytes queued and not yet taken by the kernel.
  size_t write_queue_size() const { return queued_ + pending_bytes_; }
  // Bytes the kernel has taken so far: progress, for send timeouts.
  uint64_t bytes_sent() const { return sent_; }
  // on_stream_drained fires when the queue falls to `mark` bytes or below (default 0).
  void set_drain_mark(size_t mark) { drain_mark_ = mark; }

  // Graceful close after queued writes (TLS: close_notify first). No callback after this.
  void close();
  // Abortive close: RST, drops queued data.
  void reset();
  bool closed() const { return tcp_ == nullptr; }
  bool is_tls() const { return tls_ != nullptr; }
  TlsSession* tls() { return tls_.get(); }
  std::string peer_address() const;

 private:
  struct WriteReq;
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);
  void flush() override;
  bool enqueue(Chunk c);
  void schedule();
  // Moves what is queued (TLS: encrypted) onto the socket. Returns a libuv error or 0.
  int send_pending();
  int send_chunks(std::vector<Chunk> chunks);
  void take_tls_output();
  void drop_queued();
  void handle_ciphertext(const char* data, size_t n);
  void handle_tls_eof();
  void report_eof();
  void fail(Error err);
  void update_read_state();

  uv_tcp_t* tcp_;
  uv::Loop& loop_;
  StreamOwner* owner_;
  std::unique_ptr<TlsSession> tls_;
  std::vector<Chunk> pending_;  // plaintext not yet handed to the socket (or TLS)
  size_t pending_bytes_ = 0;
  std::vector<Chunk> raw_pending_;  // TLS records (handshake, alerts) to send first
  bool flush_scheduled_ = false;
  size_t queued_ = 0;  // bytes in uv_write requests not yet completed
  uint64_t sent_ = 0;
  size_t drain_mark_ = 0;
  bool reading_ = false;  // the owner wants data
  bool ready_ = false;    // TLS handshake done (or plain)
  bool failed_ = false;
  bool eof_seen_ = false;
  bool eof_reported_ = false;
  std::string tls_plain_;  // scratch for decrypted data
};

}  // namespace gb::net
