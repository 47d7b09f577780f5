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
  // The check handle must not keep the loop alive on its own; idle_ does while needed.
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
  idle_ = new uv_idle_t;
  uv_idle_init(&loop_, idle_);
}

Loop::~Loop() {
  close();
}

void Loop::want_check() {
  if (idle_ != nullptr && !uv_is_active(reinterpret_cast<uv_handle_t*>(idle_))) {
    uv_idle_start(idle_, [](uv_idle_t*) {});
  }
}

void Loop::defer_delete(Deletable* obj) {
  doomed_.push_back(obj);
  want_check();
}

void Loop::schedule_flush(Flushable* f) {
  flushes_.push_back(f);
  want_check();
}

void Loop::cancel_flush(Flushable* f) {
  std::erase(flushes_, f);
}

void Loop::on_check(uv_check_t* h) {
  auto* self = static_cast<Loop*>(h->data);
  if (self != nullptr) {
    self->drain();
  }
}

void Loop::drain() {
  while (!flushes_.empty() || !doomed_.empty()) {
    // Flushes first: a failed write may doom its owner, which is deleted right after.
    // An object only dies in the deferred-delete phase, and its destructor cancels its
    // flush, so every pointer in the batch is alive here.
    std::vector<Flushable*> flushing;
    flushing.swap(flushes_);
    for (Flushable* f : flushing) {
      f->flush();
    }
    std::vector<Deletable*> batch;
    batch.swap(doomed_);
    for (Deletable* d : batch) {
      delete d;
    }
  }
  if (idle_ != nullptr) {
    uv_idle_stop(idle_);
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
    close_and_delete(idle_);
    idle_ = nullptr;
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

Timer::~Timer() {
  close_and_delete(h_);
}

void Timer::start(uint64_t timeout_ms, std::function<void()> cb, uint64_t repeat_ms) {
  cb_ = std::move(cb);
  h_->data = this;
  uv_timer_start(
      h_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Timer*>(t->data);
        if (self != nullptr && self->cb_) {
          // Run a copy: the callback may re-arm this timer (replacing cb_) or destroy it.
          std::function<void()> cb = self->cb_;
          cb();
        }
      },
      timeout_ms, repeat_ms);
}

void Timer::stop() {
  uv_timer_stop(h_);
}

bool Timer::active() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(h_)) != 0;
}

}  // namespace gb::uv
