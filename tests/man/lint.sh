#!/bin/sh
# Checks every man page under man/ with mandoc's linter.
# Prints what mandoc reports and exits 1 if it reports anything at warning level or
# above; exits 2 if mandoc is missing or there are no pages to check.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)

if ! command -v mandoc >/dev/null 2>&1; then
	echo "lint.sh: mandoc is not installed" >&2
	exit 2
fi

found=0
status=0
for page in "$root"/man/*.[0-9]; do
	[ -f "$page" ] || continue
	found=1
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	rc=$?
	if [ -n "$out" ] || [ "$rc" -ne 0 ]; then
		printf '%s\n' "${out:-mandoc exited $rc on $page}"
		status=1
	fi
done

if [ "$found" -eq 0 ]; then
	echo "lint.sh: no man pages in $root/man" >&2
	exit 2
fi
exit "$status"
