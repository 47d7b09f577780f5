// WaitQueue: requests of one model waiting for a key, served fairly across clients.
//
// When a key frees, the next waiter is taken from the next client token in turn, and
// within one token in arrival order: one client sending a burst of a hundred requests
// does not make another client's single request wait behind all of them.
// Not thread-safe: the key pool's mutex guards it.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace gb::pool {

struct Lease;

// One waiting request. The pool hands it a lease through `deliver`, called exactly once
// (outside the pool's lock, on whatever thread freed the key) unless cancel_wait()
// removed it first. A lease delivered to a request that went away meanwhile must still
// be released (outcome cancelled).
struct Waiter {
  std::string token;
  std::string model;
  std::function<void(Lease)> deliver;
  bool queued = false;  // guarded by the pool's mutex
};

class WaitQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  void push(std::shared_ptr<Waiter> w);
  // The next waiter by the fairness rule; nullptr when empty.
  std::shared_ptr<Waiter> pop();
  // Removes this waiter if it is queued; false if it is not (already served).
  bool remove(const std::shared_ptr<Waiter>& w);

 private:
  std::map<std::string, std::deque<std::shared_ptr<Waiter>>> by_token_;
  std::deque<std::string> turns_;  // tokens with waiters, next to serve first
  size_t size_ = 0;
};

}  // namespace gb::pool
