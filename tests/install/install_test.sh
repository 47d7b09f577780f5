#!/bin/sh
# install_test.sh BUILD_DIR SOURCE_DIR: runs `cmake --install` into a scratch DESTDIR for
# the prefixes /usr and /opt/gbd and checks that exactly the expected files land, with
# the expected modes, and that the unit names the installed paths.
set -eu
build=$1
src=$2
cmake=${CMAKE:-cmake}

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

install_to() { # PREFIX
  rm -rf "$dest"/*
  out=$(DESTDIR=$dest "$cmake" --install "$build" --prefix "$1" 2>&1) ||
    { echo "$out" >&2; fail "cmake --install --prefix $1 failed"; }
}

# check_files "MODE PATH"...: each PATH (relative to DESTDIR) exists with MODE, and no
# other file was installed.
check_files() {
  expected=
  for spec in "$@"; do
    mode=${spec%% *}
    path=${spec#* }
    [ -f "$dest/$path" ] || fail "not installed: $path"
    got=$(stat -c %a "$dest/$path")
    [ "$got" = "$mode" ] || fail "$path has mode $got, expected $mode"
    expected="$expected$path
"
  done
  extra=$(cd "$dest" && find . -type f | sed 's|^\./||' | sort |
    grep -vxF "$(printf '%s' "$expected")" || true)
  [ -z "$extra" ] || fail "unexpected files installed: $extra"
}

# check_unit UNIT SBINDIR CONFIG: every Exec line names the installed binary and config.
check_unit() {
  unit=$1 sbin=$2 conf=$3
  ! grep -n '@[A-Za-z_]*@' "$dest/$unit" || fail "$unit has unsubstituted variables"
  for line in "ExecStartPre=$sbin/gbd -t -c $conf" "ExecStart=$sbin/gbd -c $conf" \
              "ExecReload=$sbin/gbd -t -c $conf"; do
    grep -qxF "$line" "$dest/$unit" || fail "$unit lacks the line: $line"
  done
}

echo "== prefix /usr"
install_to /usr
check_files \
  "755 usr/sbin/gbd" \
  "755 usr/bin/gbctl" \
  "644 usr/share/man/man8/gbd.8" \
  "644 usr/share/man/man1/gbctl.1" \
  "644 usr/share/man/man5/gbd.toml.5" \
  "644 usr/lib/systemd/system/gbd.service" \
  "644 usr/lib/sysusers.d/gbd.conf" \
  "644 usr/lib/tmpfiles.d/gbd.conf" \
  "640 etc/gbd/gbd.toml" \
  "644 usr/share/doc/gbd/examples/gbd.toml" \
  "644 usr/share/doc/gbd/README.md"
check_unit usr/lib/systemd/system/gbd.service /usr/sbin /etc/gbd/gbd.toml
cmp -s "$src/etc/gbd.toml" "$dest/etc/gbd/gbd.toml" || fail "etc/gbd/gbd.toml differs from the source"
cmp -s "$src/man/gbd.8" "$dest/usr/share/man/man8/gbd.8" || fail "gbd.8 differs from the source"
grep -qxF 'z /etc/gbd/gbd.toml 0640 root gbd -' "$dest/usr/lib/tmpfiles.d/gbd.conf" ||
  fail "usr/lib/tmpfiles.d/gbd.conf does not name /etc/gbd/gbd.toml"

# -t reads nothing but the file and the CA bundle it names (/etc/ssl/certs, from the
# host): the state and runtime directories need not exist.
"$dest/usr/sbin/gbd" -t -c "$dest/etc/gbd/gbd.toml" ||
  fail "installed gbd -t rejects the installed example configuration"

# A second install keeps an edited configuration.
echo '# edited' >>"$dest/etc/gbd/gbd.toml"
DESTDIR=$dest "$cmake" --install "$build" --prefix /usr >/dev/null
grep -qx '# edited' "$dest/etc/gbd/gbd.toml" || fail "a reinstall overwrote etc/gbd/gbd.toml"

echo "== prefix /opt/gbd"
install_to /opt/gbd
# GNUInstallDirs puts the configuration of an /opt/NAME prefix in /etc/opt/NAME.
check_files \
  "755 opt/gbd/sbin/gbd" \
  "755 opt/gbd/bin/gbctl" \
  "644 opt/gbd/share/man/man8/gbd.8" \
  "644 opt/gbd/share/man/man1/gbctl.1" \
  "644 opt/gbd/share/man/man5/gbd.toml.5" \
  "644 opt/gbd/lib/systemd/system/gbd.service" \
  "644 opt/gbd/lib/sysusers.d/gbd.conf" \
  "644 opt/gbd/lib/tmpfiles.d/gbd.conf" \
  "640 etc/opt/gbd/gbd/gbd.toml" \
  "644 opt/gbd/share/doc/gbd/examples/gbd.toml" \
  "644 opt/gbd/share/doc/gbd/README.md"
check_unit opt/gbd/lib/systemd/system/gbd.service /opt/gbd/sbin /etc/opt/gbd/gbd/gbd.toml

echo "install layout ok"
