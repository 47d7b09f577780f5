#!/bin/sh
# CTest's Catch discovery splits test names at ';', so such a test would never run
# (CTest reports it as failed with "No test cases matched"). Fail early and by name.
root=$(cd "$(dirname "$0")/.." && pwd)
if grep -rn 'TEST_CASE("[^"]*;' "$root/tests"; then
	echo "test_names.sh: a test name above contains ';'" >&2
	exit 1
fi
