#include "config/suggest.h"

#include <algorithm>
#include <vector>

namespace gb::config {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment over a full table: keys are short, clarity wins.
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) {
    d[i][0] = i;
  }
  for (size_t j = 0; j <= m; ++j) {
    d[0][j] = j;
  }
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

size_t suggestion_limit(std::string_view word) {
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return word.empty() ? 0 : std::min(limit, word.size() - 1);
}

std::string_view closest(std::string_view word, std::span<const std::string_view> candidates) {
  std::string_view best;
  size_t best_distance = suggestion_limit(word) + 1;
  for (std::string_view c : candidates) {
    size_t dist = edit_distance(word, c);
    if (dist == 0) {
      return {};
    }
    if (dist < best_distance) {
      best = c;
      best_distance = dist;
    }
  }
  return best;
}

}  // namespace gb::config
