// A guard to run before RapidJSON's recursive parser: JSON text nested deeper than a
// bound (a line of a million '[') would overflow the stack. Strings are skipped, so
// brackets inside them do not count.
#pragma once

#include <string_view>

namespace gb {

bool json_depth_within(std::string_view text, int max_depth);

}  // namespace gb
