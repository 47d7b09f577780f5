#include "uv/loop.h"

#include <cstdlib>

namespace gb::uv {

Loop::Loop() {
  if (uv_loop_init(&loop_) != 0) {
    std::abort();
  }
  loop_.data = this;
  check_ = new uv_check_t;
  uv_check_init(&loop_, check_);
  check_->data = this;
  uv_check_start(check_, &Loop::on_check);
  // The check handle must not keep the loop alive on its own.
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
}

Loop::~Loop() { close(); }

void Loop::defer_delete(Deletable* obj) {
  doomed_.push_back(obj);
  if (check_ != nullptr) {
    // Make sure the loop iterates at least once more to reach the check phase.
    uv_ref(reinterpret_cast<uv_handle_t*>(check_));
  }
}

void Loop::on_check(uv_check_t* h) {
  auto* self = static_cast<Loop*>(h->data);
  if (self != nullptr) {
    self->drain();
  }
}

void Loop::drain() {
  while (!doomed_.empty()) {
    std::vector<Deletable*> batch;
    batch.swap(doomed_);
    for (Deletable* d : batch) {
      delete d;
    }
  }
  if (check_ != nullptr) {
    uv_unref(reinterpret_cast<uv_handle_t*>(check_));
  }
}

int Loop::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  return close();
}

int Loop::close() {
  if (loop_.data == nullptr) {
    return 0;
  }
  drain();
  if (check_ != nullptr) {
    uv_check_stop(check_);
    close_and_delete(check_);
    check_ = nullptr;
  }
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) {
          // A handle nobody closed: a leak in our code. Close it so the loop can end.
          uv_close(h, nullptr);
        }
      },
      nullptr);
  int rc;
  while ((rc = uv_loop_close(&loop_)) == UV_EBUSY) {
    uv_run(&loop_, UV_RUN_NOWAIT);
    drain();
  }
  loop_.data = nullptr;
  return rc;
}

Timer::Timer(uv_loop_t* loop) : h_(new uv_timer_t) {
  uv_timer_init(loop, h_);
  h_->data = this;
}

Timer::~Timer() { close_and_delete(h_); }

void Timer::start(uint64_t timeout_ms, std::function<void()> cb, uint64_t repeat_ms) {
  cb_ = std::move(cb);
  h_->data = this;
  uv_timer_start(
      h_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Timer*>(t->data);
        if (self != nullptr && self->cb_) {
          // The callback may destroy the timer's owner: copy nothing after it.
          self->cb_();
        }
      },
      timeout_ms, repeat_ms);
}

void Timer::stop() { uv_timer_stop(h_); }

bool Timer::active() const { return uv_is_active(reinterpret_cast<const uv_handle_t*>(h_)) != 0; }

}  // namespace gb::uv
