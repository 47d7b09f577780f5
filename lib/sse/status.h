// What an incremental stream reader reports after each feed. too_large and malformed are
// final: the stream cannot be resynchronised, so every later feed repeats them.
#pragma once

namespace gb::sse {

enum class Status { ok, too_large, malformed };

const char* status_name(Status s);

}  // namespace gb::sse
