#!/bin/sh
# Checks that gbd(8) documents every log event that the code emits.
#
# usage: tests/man/events.sh SOURCE_DIR
#
# The code's side: the event names given as string literals to the logging macros
# (LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, GB_LOG) and to a log::Line built directly,
# in the .cc and .h files under daemon/ and lib/. A name chosen by a conditional
# expression, as in `LOG_INFO(v == "reset" ? "key.reset" : "key.manual")`, counts every
# literal that follows a `?` or a `:`. A call whose event name cannot be read that way
# is reported, so that no event slips past unchecked.
#
# The page's side: the `.It Li` entries of the list under `.Ss Events` in the
# DIAGNOSTICS section of man/gbd.8. An entry may name several events, as in
# `.It Li state.open_failed , state.load_failed Pq error`.
#
# Exits 0 when every event is documented, 1 naming each one that is not (or each call
# it cannot read), 2 on bad usage. Events that the page documents but the code no
# longer logs are printed as warnings only.
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 SOURCE_DIR" >&2
	exit 2
fi
src=$1
page=$src/man/gbd.8
if [ ! -f "$page" ]; then
	echo "events.sh: no man page at $page" >&2
	exit 2
fi
if [ ! -d "$src/daemon" ] || [ ! -d "$src/lib" ]; then
	echo "events.sh: $src has no daemon/ and lib/" >&2
	exit 2
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# The code's side: "name<TAB>file:line", or "?<TAB>file:line<TAB>text" for a call whose
# event name is not a literal. lib/base/log.h and log.cc define the macros and the class.
(cd "$src" && grep -rnE --include='*.cc' --include='*.h' \
	'(\<(LOG_(ERROR|WARN|INFO|DEBUG)|GB_LOG)[[:space:]]*\()|(\<Line[[:space:]]+[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\()|(log::Line[[:space:]]*\()' \
	daemon lib) | grep -vE '^lib/base/log\.(h|cc):' >"$tmp/calls"

awk '
	# Prints every event name in s, the argument text of one call.
	function names(s, where,   found, lit) {
		found = 0
		if (match(s, /^[ \t]*"[a-z][a-z0-9_.]*"/)) {
			lit = substr(s, RSTART, RLENGTH)
			sub(/^[ \t]*"/, "", lit)
			sub(/"$/, "", lit)
			printf "%s\t%s\n", lit, where
			return
		}
		while (match(s, /[?:][ \t]*"[a-z][a-z0-9_.]*"/)) {
			lit = substr(s, RSTART, RLENGTH)
			s = substr(s, RSTART + RLENGTH)
			sub(/^[?:][ \t]*"/, "", lit)
			sub(/"$/, "", lit)
			printf "%s\t%s\n", lit, where
			found = 1
		}
		if (!found) {
			printf "?\t%s\t%s\n", where, text
		}
	}
	{
		# file:line:text
		split($0, part, ":")
		where = part[1] ":" part[2]
		text = substr($0, length(where) + 2)
		sub(/^[ \t]+/, "", text)
		s = text
		if (match(s, /(LOG_(ERROR|WARN|INFO|DEBUG))[ \t]*\(/)) {
			names(substr(s, RSTART + RLENGTH), where)
		} else if (match(s, /(GB_LOG[ \t]*\(|Line[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\(|log::Line[ \t]*\()/)) {
			# The level comes first: the event is the second argument.
			s = substr(s, RSTART + RLENGTH)
			if (index(s, ",") == 0) {
				printf "?\t%s\t%s\n", where, text
				next
			}
			names(substr(s, index(s, ",") + 1), where)
		}
	}
' "$tmp/calls" >"$tmp/code"

grep '^?' "$tmp/code" >"$tmp/unreadable"
grep -v '^?' "$tmp/code" | LC_ALL=C sort -t "$(printf '\t')" -k 1,1 -k 2,2 >"$tmp/logged"
if [ ! -s "$tmp/logged" ]; then
	echo "events.sh: found no log events under $src/daemon and $src/lib" >&2
	exit 1
fi

# The page's side: the names of each `.It Li` entry of the outer list under `.Ss Events`.
awk '
	/^\.S[hs][ \t]/ {
		on = ($0 ~ /^\.Ss[ \t]+Events[ \t]*$/)
		depth = 0
		next
	}
	!on { next }
	/^\.Bl([ \t]|$)/ { depth++; next }
	/^\.El([ \t]|$)/ { depth--; if (depth == 0) { on = 0 } next }
	depth == 1 && /^\.It[ \t]+Li[ \t]/ {
		for (i = 3; i <= NF; i++) {
			w = $i
			if (w == ",") { continue }
			sub(/,$/, "", w)
			# A macro such as Pq ends the names.
			if (w !~ /^[a-z][a-z0-9_.]*$/) { break }
			print w
		}
	}
' "$page" | LC_ALL=C sort -u >"$tmp/documented"
if [ ! -s "$tmp/documented" ]; then
	echo "events.sh: no '.It Li' entries under '.Ss Events' in $page" >&2
	exit 1
fi

status=0
cut -f 1 "$tmp/logged" | LC_ALL=C sort -u >"$tmp/names"
while IFS= read -r ev; do
	if ! grep -qxF "$ev" "$tmp/documented"; then
		where=$(awk -F '\t' -v ev="$ev" '$1 == ev { printf "%s%s", sep, $2; sep = ", " }' "$tmp/logged")
		echo "gbd(8) does not document the event '$ev', logged at $where: add '.It Li $ev Pq LEVEL' to the Events list of $page"
		status=1
	fi
done <"$tmp/names"

while IFS="$(printf '\t')" read -r _ where text; do
	echo "events.sh: cannot tell which event $where logs (give the event name as a string literal): $text"
	status=1
done <"$tmp/unreadable"

while IFS= read -r ev; do
	if ! grep -qxF "$ev" "$tmp/names"; then
		echo "warning: gbd(8) documents the event '$ev', which the code no longer logs"
	fi
done <"$tmp/documented"

exit "$status"
