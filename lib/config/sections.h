// Readers for the top-level tables of gbd.toml. Each reads what is present into the
// struct (which already holds the defaults) and reports problems to the Reader.
#pragma once

#include <toml++/toml.h>

#include "config/config.h"
#include "config/reader.h"

namespace gb::config {

void read_server(Reader& r, const toml::table& t, Config* c);
void read_limits(Reader& r, const toml::table& t, Config* c);
void read_clients(Reader& r, const toml::table& t, Config* c);
void read_log(Reader& r, const toml::table& t, Config* c);
// [pool.NAME] tables, in file order; also reads each pool's keys_file.
void read_pools(Reader& r, const toml::table& t, Config* c);

}  // namespace gb::config
