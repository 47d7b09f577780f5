#include "store/db_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/log.h"
#include "store/schema.h"

namespace gb::store {

namespace {

Error fail(const std::string& path, const std::string& why) {
  return Error::make(Errc::io_error, Side::internal, path + ": " + why);
}

std::string errno_text() {
  return std::strerror(errno);
}

// mkdir -p, each missing component 0700.
bool make_dirs(const std::string& dir, std::string* err) {
  for (size_t pos = dir.find('/', 1);; pos = dir.find('/', pos + 1)) {
    std::string part = dir.substr(0, pos);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      *err = part + ": cannot create directory: " + errno_text();
      return false;
    }
    if (pos == std::string::npos) {
      break;
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *err = dir + ": not a directory";
    return false;
  }
  return true;
}

void tighten(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || (st.st_mode & 077) == 0) {
    return;
  }
  if (chmod(path.c_str(), 0600) == 0) {
    char was[8];
    std::snprintf(was, sizeof was, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    LOG_WARN("store.mode_tightened").kv("file", path).kv("was", was).kv("now", "600");
  }
}

// Creates the file 0600 if missing; tightens an existing one and its WAL companions.
bool prepare_file(const std::string& path, std::string* err) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *err = "cannot open: " + errno_text();
    return false;
  }
  struct stat st;
  bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  if (!regular) {
    *err = "not a regular file";
    return false;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    tighten(path + suffix);
  }
  return true;
}

// Settings that live in the connection, or (journal_mode) in a file already known to be
// gbd's: they are applied after the schema check so a foreign file is never modified.
int configure(Db& db, std::string* journal) {
  Stmt st = db.prepare("PRAGMA journal_mode = WAL");
  if (!st) {
    return db.error_code();
  }
  int rc = st.step();
  if (rc != SQLITE_ROW) {
    return rc;
  }
  *journal = st.text(0);
  st = Stmt();
  rc = db.exec("PRAGMA synchronous = NORMAL");
  if (rc == SQLITE_OK) {
    rc = db.exec("PRAGMA foreign_keys = ON");
  }
  return rc;
}

}  // namespace

Result<OpenedDb> open_db(const std::string& dir, Duration busy_timeout) {
  std::string err;
  std::string clean = dir.size() > 1 && dir.back() == '/' ? dir.substr(0, dir.size() - 1) : dir;
  if (clean.empty()) {
    return fail("state_dir", "empty path");
  }
  if (!make_dirs(clean, &err)) {
    return Error::make(Errc::io_error, Side::internal, err);
  }
  OpenedDb out;
  out.path = clean + "/gbd.db";
  if (!prepare_file(out.path, &err)) {
    return fail(out.path, err);
  }
  if (Db::open(out.path, &out.db, &err) != SQLITE_OK) {
    return fail(out.path, "cannot open: " + err);
  }
  sqlite3_busy_timeout(out.db.get(), static_cast<int>(busy_timeout.count()));
  Result<int> found = migrate(out.db, out.path);
  if (!found) {
    return found.error();
  }
  out.found_version = *found;
  std::string journal;
  if (configure(out.db, &journal) != SQLITE_OK) {
    return fail(out.path, "cannot configure: " + out.db.error());
  }
  if (journal != "wal") {
    // Some file systems (network mounts) cannot share memory for the WAL index; the
    // store still works in rollback mode, only slower.
    LOG_WARN("store.no_wal").kv("file", out.path).kv("journal_mode", journal);
  }
  return out;
}

}  // namespace gb::store
