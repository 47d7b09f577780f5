// Loop: one uv event loop with its deferred-delete queue.
//
// Objects that die inside their own callbacks (connections, sessions) never `delete this`:
// they call Loop::defer_delete() and a uv_check_t frees them after the current loop
// iteration's callbacks have run (Redis beforeSleep, Envoy deferredDelete).
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <vector>

namespace gb::uv {

class Deletable {
 public:
  virtual ~Deletable() = default;
};

// Something with output to write once the current loop iteration's callbacks are done.
// Batching every write of an iteration into one syscall per connection, and never writing
// from inside the caller, keeps write errors from calling back into code that is still
// on the stack.
class Flushable {
 public:
  virtual ~Flushable() = default;
  virtual void flush() = 0;
};

class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uv_loop_t* get() { return &loop_; }
  static Loop& from(uv_loop_t* l) { return *static_cast<Loop*>(l->data); }

  void defer_delete(Deletable* obj);
  // flush() runs once in this iteration's check phase; cancel before the object dies.
  void schedule_flush(Flushable* f);
  void cancel_flush(Flushable* f);
  // Runs until no handle is active; then closes what is left and returns uv_loop_close()'s result.
  int run();
  // Closes every remaining handle (walk) and runs until uv_loop_close succeeds.
  int close();
  uint64_t now_ms() { return uv_now(&loop_); }

 private:
  static void on_check(uv_check_t* h);
  void drain();
  void want_check();

  uv_loop_t loop_;
  uv_check_t* check_ = nullptr;
  // Active while work is queued: keeps the loop alive and makes the poll phase return at
  // once, so queued flushes and deletes run in this iteration, not after the next event.
  uv_idle_t* idle_ = nullptr;
  std::vector<Flushable*> flushes_;
  std::vector<Deletable*> doomed_;
};

// Closes any handle and frees its heap memory in the close callback, as libuv requires.
// The handle must have been allocated with `new T`.
template <typename T>
void close_and_delete(T* h) {
  if (h == nullptr) {
    return;
  }
  auto* base = reinterpret_cast<uv_handle_t*>(h);
  base->data = nullptr;
  if (uv_is_closing(base)) {
    return;
  }
  uv_close(base, [](uv_handle_t* x) { delete reinterpret_cast<T*>(x); });
}

// A one-shot or repeating timer owned by a C++ object. Destroying it stops and closes it;
// a callback never runs after the owner is gone.
class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start(uint64_t timeout_ms, std::function<void()> cb, uint64_t repeat_ms = 0);
  void stop();
  bool active() const;
  // An unreferenced timer does not keep the loop running on its own.
  void unref() { uv_unref(reinterpret_cast<uv_handle_t*>(h_)); }

 private:
  uv_timer_t* h_;
  std::function<void()> cb_;
};

}  // namespace gb::uv
