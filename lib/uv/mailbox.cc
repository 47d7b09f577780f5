#include "uv/mailbox.h"

#include "uv/loop.h"

namespace gb::uv {

Mailbox::Mailbox(uv_loop_t* loop) : async_(new uv_async_t) {
  uv_async_init(loop, async_, &Mailbox::on_async);
  async_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_));
}

Mailbox::~Mailbox() {
  close();
}

void Mailbox::close() {
  std::lock_guard lock(mu_);
  if (closed_) {
    return;
  }
  closed_ = true;
  posted_.clear();
  close_and_delete(async_);
  async_ = nullptr;
}

bool Mailbox::post(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (closed_) {
    return false;
  }
  posted_.push_back(std::move(fn));
  uv_async_send(async_);
  return true;
}

void Mailbox::on_async(uv_async_t* a) {
  if (a->data != nullptr) {
    static_cast<Mailbox*>(a->data)->run_posted();
  }
}

void Mailbox::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) {
    fn();
  }
}

}  // namespace gb::uv
