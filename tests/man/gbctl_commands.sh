#!/bin/sh
# Checks that gbctl(1) lists the commands of the command table, and nothing else.
#
# usage: tests/man/gbctl_commands.sh GBCTL SOURCE_DIR
#
# The commands come from `gbctl help` (the table as gbctl prints it): the first column
# of the indented lines after "commands:", such as "keys reset". The page's side is the
# COMMANDS section of man/gbctl.1, between `.Sh COMMANDS` and the next `.Sh`: each
# `.It Cm` entry of its outer list names a command by its words, up to the first macro
# or argument (`.It Cm keys reset Oo Fl -pool Ar P Oc ...` names "keys reset"). An entry
# whose text says it is an alias, such as `keys list`, must name with `.Cm` a command
# that gbctl lists. The entries must be in alphabetical order (STYLE.md, Man pages).
#
# Exits 0 when both sides agree, 1 naming what is missing on either side, 2 on bad usage.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 GBCTL SOURCE_DIR" >&2
	exit 2
fi
gbctl=$1
page=$2/man/gbctl.1
if [ ! -x "$gbctl" ]; then
	echo "gbctl_commands.sh: $gbctl is not an executable" >&2
	exit 2
fi
if [ ! -f "$page" ]; then
	echo "gbctl_commands.sh: no man page at $page" >&2
	exit 2
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! "$gbctl" help >"$tmp/help" 2>"$tmp/help.err"; then
	echo "gbctl_commands.sh: '$gbctl help' failed:" >&2
	cat "$tmp/help.err" >&2
	exit 1
fi

# gbctl's side: columns are set apart by at least two spaces, words by one.
awk '
	/^commands:/ { on = 1; next }
	on && /^  [^ ]/ {
		line = substr($0, 3)
		sub(/  .*/, "", line)
		sub(/ +$/, "", line)
		print line
	}
	on && !/^  / { on = 0 }
' "$tmp/help" >"$tmp/listed"
if [ ! -s "$tmp/listed" ]; then
	echo "gbctl_commands.sh: no commands found in the output of '$gbctl help':" >&2
	cat "$tmp/help" >&2
	exit 1
fi

# The page's side: one line per outer `.It Cm` of COMMANDS, "words<TAB>kind<TAB>target",
# kind "alias" when the entry's text says so, else "command"; target is what an alias
# stands for (its first `.Cm` after the word "alias"). Kind matters only for entries
# that gbctl does not list.
awk '
	function flush() {
		if (words != "") {
			printf "%s\t%s\t%s\n", words, (alias ? "alias" : "command"), target
		}
		words = ""; alias = 0; target = ""
	}
	/^\.Sh / {
		if (in_section) { flush(); in_section = 0 }
		if ($0 ~ /^\.Sh COMMANDS[ \t]*$/) { in_section = 1; depth = 0 }
		next
	}
	!in_section { next }
	/^\.Bl([ \t]|$)/ { depth++; next }
	/^\.El([ \t]|$)/ { if (depth == 1) flush(); depth--; next }
	depth == 1 && /^\.It([ \t]|$)/ {
		flush()
		if ($2 != "Cm") { next }
		for (i = 3; i <= NF; i++) {
			# A macro (Oo, Op, Ar, Fl, Ns ...) or anything not a plain lower-case
			# word ends the command words.
			if ($i !~ /^[a-z][a-z0-9_-]*$/) { break }
			words = words (words == "" ? "" : " ") $i
		}
		if (words == "") { words = "(an .It Cm line without command words: " $0 ")" }
		next
	}
	depth >= 1 && words != "" {
		if (tolower($0) ~ /alias/) { alias = 1; next }
		if (alias && target == "" && $1 == ".Cm") {
			t = ""
			for (i = 2; i <= NF; i++) {
				if ($i !~ /^[a-z][a-z0-9_-]*$/) { break }
				t = t (t == "" ? "" : " ") $i
			}
			target = t
		}
	}
' "$page" >"$tmp/entries"
if [ ! -s "$tmp/entries" ]; then
	echo "gbctl_commands.sh: no '.It Cm' entries in the COMMANDS section of $page" >&2
	exit 1
fi

status=0
while IFS= read -r cmd; do
	if ! cut -f 1 "$tmp/entries" | grep -qxF "$cmd"; then
		echo "gbctl(1) does not describe '$cmd': gbctl help lists it, but the COMMANDS section of $page has no '.It Cm $cmd ...'"
		status=1
	fi
done <"$tmp/listed"

while IFS="$(printf '\t')" read -r words kind target; do
	if grep -qxF "$words" "$tmp/listed"; then
		continue
	fi
	if [ "$kind" != alias ]; then
		echo "gbctl(1) describes '$words', which gbctl help does not list (remove it, or say it is an alias)"
		status=1
	elif [ -z "$target" ]; then
		echo "gbctl(1) says '$words' is an alias but names no '.Cm' command it stands for"
		status=1
	elif ! grep -qxF "$target" "$tmp/listed"; then
		echo "gbctl(1) describes '$words' as an alias of '$target', which gbctl help does not list"
		status=1
	fi
done <"$tmp/entries"

cut -f 1 "$tmp/entries" >"$tmp/order"
if ! LC_ALL=C sort -c "$tmp/order" 2>/dev/null; then
	echo "gbctl(1) COMMANDS is not in alphabetical order; it lists:"
	sed 's/^/	/' "$tmp/order"
	status=1
fi

if [ "$status" -ne 0 ]; then
	echo "gbctl help lists:"
	sed 's/^/	/' "$tmp/listed"
fi
exit "$status"
