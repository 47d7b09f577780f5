// Key state and the request log across restarts: gbd.db in state_dir (lib/store).
#pragma once

#include <memory>

#include "config/config.h"
#include "proxy/runtime.h"
#include "store/store.h"

namespace gb::daemon {

store::Options store_options(const config::Config& cfg);

// Opens state_dir/gbd.db; nullptr (with the reason logged) when it cannot be used.
std::unique_ptr<store::Store> open_state(const config::Config& cfg);

// Gives each pool of `snap` the state its keys had (before start()); forgets pools the
// config no longer has. False when the database could not be read.
bool restore_state(store::Store& store, const proxy::Snapshot& snap);

// What the store thread pulls every second: the changed keys of the current pools.
store::Store::KeySource key_source(proxy::Runtime& rt);

}  // namespace gb::daemon
