#!/bin/sh
# systemd_verify.sh BUILD_DIR: installs into a scratch DESTDIR and checks the installed
# systemd files with systemd's own tools: the unit with `systemd-analyze verify`, the
# sysusers.d and tmpfiles.d files by applying them to the scratch tree. Any complaint
# about them fails the test. Exits 77 (skipped) without systemd-analyze.
set -eu
build=$1
cmake=${CMAKE:-cmake}

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze is not installed (package systemd): skipped"
  exit 77
fi

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
# man-db, run as root, reads pages as user man: the tree must be world-readable.
chmod 755 "$dest"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

out=$(DESTDIR=$dest "$cmake" --install "$build" --prefix /usr 2>&1) ||
  { echo "$out" >&2; fail "cmake --install failed"; }

# verify checks that the Exec binaries exist, so it gets a copy of the installed unit
# whose paths name the scratch tree. (--root= would also look for sysinit.target,
# /bin/kill and the rest of the OS under the scratch tree.)
mkdir "$dest/verify"
unit=$dest/verify/gbd.service
sed -e "s|=/usr/sbin/gbd |=$dest/usr/sbin/gbd |" -e "s| /etc/gbd/gbd.toml\$| $dest/etc/gbd/gbd.toml|" \
  "$dest/usr/lib/systemd/system/gbd.service" >"$unit"
[ "$(grep -c "^Exec.*=$dest/usr/sbin/gbd .* $dest/etc/gbd/gbd.toml\$" "$unit")" = 3 ] ||
  fail "could not point the unit's three gbd commands at $dest"

# The Documentation= man pages are looked up among the installed ones.
man_opt=--man=yes
if ! command -v man >/dev/null 2>&1; then
  echo "note: man is not installed, Documentation= is not checked"
  man_opt=--man=no
fi
echo "== systemd-analyze verify"
rc=0
out=$(MANPATH=$dest/usr/share/man systemd-analyze verify "$man_opt" --recursive-errors=no \
  "$unit" 2>&1) || rc=$?
[ -z "$out" ] || echo "$out"
# Complaints about units of the host that gbd.service pulls in (targets) are not ours:
# they are shown but do not fail the test. Everything naming gbd does.
if echo "$out" | grep -q 'gbd'; then
  fail "systemd-analyze verify complained about gbd.service"
fi
[ "$rc" = 0 ] || fail "systemd-analyze verify exited with $rc"

echo "== systemd-sysusers, systemd-tmpfiles --create"
if [ "$(id -u)" != 0 ]; then
  echo "note: not root, sysusers.d and tmpfiles.d are not applied (they chown to gbd)"
else
  out=$(systemd-sysusers --root="$dest" "$dest/usr/lib/sysusers.d/gbd.conf" 2>&1) ||
    { echo "$out"; fail "systemd-sysusers rejected usr/lib/sysusers.d/gbd.conf"; }
  # Its only output is what it created.
  if echo "$out" | grep -v "^Creating \(user\|group\) 'gbd'"; then
    fail "systemd-sysusers complained about usr/lib/sysusers.d/gbd.conf"
  fi
  grep -q '^gbd:x:[0-9]*:[0-9]*:gbd LLM key proxy:/var/lib/gbd:/usr/sbin/nologin$' \
    "$dest/etc/passwd" || fail "no system user gbd without login shell: $(cat "$dest/etc/passwd")"
  uid=$(awk -F: '$1 == "gbd" { print $3 }' "$dest/etc/passwd")
  gid=$(awk -F: '$1 == "gbd" { print $3 }' "$dest/etc/group")

  out=$(systemd-tmpfiles --root="$dest" --create "$dest/usr/lib/tmpfiles.d/gbd.conf" 2>&1) ||
    { echo "$out"; fail "systemd-tmpfiles rejected usr/lib/tmpfiles.d/gbd.conf"; }
  [ -z "$out" ] || { echo "$out"; fail "systemd-tmpfiles complained about usr/lib/tmpfiles.d/gbd.conf"; }
  for spec in "var/lib/gbd 700 $uid $gid" "run/gbd 750 $uid $gid" \
              "etc/gbd 750 0 $gid" "etc/gbd/gbd.toml 640 0 $gid"; do
    path=${spec%% *}
    got="$path $(stat -c '%a %u %g' "$dest/$path" 2>/dev/null || echo missing)"
    [ "$got" = "$spec" ] || fail "after tmpfiles: $got, expected $spec (mode uid gid)"
  done
fi

echo "== systemd-analyze security --offline=yes"
if out=$(systemd-analyze security --offline=yes "$unit" 2>&1); then
  echo "$out" | grep -i 'overall exposure' || echo "$out"
else
  echo "note: systemd-analyze security --offline=yes is not available here"
fi
echo "systemd files ok"
