#!/bin/sh
# The man pages are the commands' own --help: regenerated from the built
# binary they equal docs/man/ (so a changed --help without new pages
# fails), every subcommand has one, and man renders each without a warning.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v man >/dev/null || { echo "skip: man is not installed"; exit 77; }
"$TOP/scripts/mkman" pages >/dev/null
diff -r "$TOP/docs/man" pages || fail "docs/man is out of date: run scripts/mkman"
for cmd in $("$LIFEBOAT" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'); do
	[ -f "pages/lifeboat-$cmd.1" ] || fail "no page for $cmd"
	"$LIFEBOAT" "$cmd" --help | head -n 1 | sed 's/^usage: //' >want
	MANWIDTH=200 man --warnings -l "pages/lifeboat-$cmd.1" 2>warn | sed -n '/^SYNOPSIS/{n;p;}' |
		sed 's/^ *//' >got
	[ ! -s warn ] || fail "lifeboat-$cmd.1: $(cat warn)"
	cmp -s want got || fail "lifeboat-$cmd.1: synopsis '$(cat got)' is not --help's '$(cat want)'"
done
echo "$(ls pages | wc -l) pages, synopses equal to --help"
