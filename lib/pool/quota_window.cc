#include "pool/quota_window.h"

#include <algorithm>

namespace gb::pool {

QuotaWindow::Bucket& QuotaWindow::current(int64_t now_ms) {
  int64_t slot = now_ms / kBucketMs;
  Bucket& b = buckets_[static_cast<size_t>(slot % kBuckets)];
  if (b.slot != slot) {
    b = Bucket{slot, 0, 0};
  }
  return b;
}

bool QuotaWindow::counts(const Bucket& b, int64_t now_ms) const {
  return b.slot >= 0 && b.slot > now_ms / kBucketMs - kBuckets;
}

void QuotaWindow::add_request(int64_t now_ms) {
  ++current(now_ms).requests;
}

void QuotaWindow::add_tokens(int64_t now_ms, uint64_t tokens) {
  current(now_ms).tokens += tokens;
}

uint32_t QuotaWindow::requests(int64_t now_ms) const {
  uint32_t n = 0;
  for (const Bucket& b : buckets_) {
    n += counts(b, now_ms) ? b.requests : 0;
  }
  return n;
}

uint64_t QuotaWindow::tokens(int64_t now_ms) const {
  uint64_t n = 0;
  for (const Bucket& b : buckets_) {
    n += counts(b, now_ms) ? b.tokens : 0;
  }
  return n;
}

int64_t QuotaWindow::requests_free_at(int64_t now_ms) const {
  int64_t oldest = -1;
  for (const Bucket& b : buckets_) {
    if (counts(b, now_ms) && b.requests > 0 && (oldest < 0 || b.slot < oldest)) {
      oldest = b.slot;
    }
  }
  return oldest < 0 ? now_ms : (oldest + kBuckets) * kBucketMs;
}

int64_t QuotaWindow::tokens_free_at(int64_t now_ms) const {
  int64_t oldest = -1;
  for (const Bucket& b : buckets_) {
    if (counts(b, now_ms) && b.tokens > 0 && (oldest < 0 || b.slot < oldest)) {
      oldest = b.slot;
    }
  }
  return oldest < 0 ? now_ms : (oldest + kBuckets) * kBucketMs;
}

}  // namespace gb::pool
