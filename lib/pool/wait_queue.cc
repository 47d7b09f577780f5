#include "pool/wait_queue.h"

#include <algorithm>

namespace gb::pool {

void WaitQueue::push(std::shared_ptr<Waiter> w) {
  auto& q = by_token_[w->token];
  if (q.empty()) {
    turns_.push_back(w->token);
  }
  w->queued = true;
  q.push_back(std::move(w));
  ++size_;
}

std::shared_ptr<Waiter> WaitQueue::pop() {
  if (turns_.empty()) {
    return nullptr;
  }
  std::string token = std::move(turns_.front());
  turns_.pop_front();
  auto it = by_token_.find(token);
  std::shared_ptr<Waiter> w = std::move(it->second.front());
  it->second.pop_front();
  if (it->second.empty()) {
    by_token_.erase(it);
  } else {
    turns_.push_back(std::move(token));  // its next request waits for the others' turn
  }
  w->queued = false;
  --size_;
  return w;
}

bool WaitQueue::remove(const std::shared_ptr<Waiter>& w) {
  if (!w->queued) {
    return false;
  }
  auto it = by_token_.find(w->token);
  if (it == by_token_.end()) {
    return false;
  }
  auto& q = it->second;
  auto pos = std::find(q.begin(), q.end(), w);
  if (pos == q.end()) {
    return false;
  }
  q.erase(pos);
  if (q.empty()) {
    by_token_.erase(it);
    turns_.erase(std::find(turns_.begin(), turns_.end(), w->token));
  }
  w->queued = false;
  --size_;
  return true;
}

}  // namespace gb::pool
