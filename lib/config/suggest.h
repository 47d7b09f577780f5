// "did you mean ...?" for unknown keys and enumerated values.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace gb::config {

// Edit distance with adjacent transpositions counted as one edit ("retires" is one
// edit from "retries"), the kind of slip a person makes typing a key.
size_t edit_distance(std::string_view a, std::string_view b);

// How far a candidate may be from word and still be suggested: 2 edits, or a third of
// the word's length for long words ("max_retry" is 3 edits from "max_retries"), and
// always fewer edits than the word has characters.
size_t suggestion_limit(std::string_view word);

// The candidate closest to word within suggestion_limit(word); the first one wins a
// tie. Empty when nothing is close enough, or when word is itself a candidate.
std::string_view closest(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace gb::config
