// "did you mean ...?" for unknown keys and enumerated values.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace gb::config {

// Edit distance with adjacent transpositions counted as one edit ("retires" is one
// edit from "retries"), the kind of slip a person makes typing a key.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to word within max_distance edits; the first one wins a tie.
// Empty when nothing is close enough, or when word is itself a candidate.
std::string_view closest(std::string_view word, std::span<const std::string_view> candidates,
                         size_t max_distance = 2);

}  // namespace gb::config
