#!/bin/sh
# A restore killed (SIGKILL) at random points, and run again each time,
# leaves every message at its name whole or not there, and in the end the
# store holds every message once, as one restore run through writes it.
# restore writes mail in batches (1024 files, then one syncfs, then the
# renames: tools/lib/outtree.h): 3000 messages make three batches. What a
# killed run left unplaced in the store's .lifeboat/tmp is cleared by the
# next, and no .lifeboat is left in the store at the end. Stopped by
# SIGTERM, it places what it wrote before it exits (130).
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the test disk needs root for a loop mount"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap 'stop_receiver' EXIT

n=3000
"$TOP/tests/lab/many-disk" disk.img 64M "$n" 3 10 || exit $?

make_site
start_receiver recv
"$LIFEBOAT" carve -q disk.img --send "127.0.0.1:$rport" --tls site/alpha --job kill \
	>/dev/null 2>send.log || fail "carve --send: $(cat send.log)"
bag=recv/alpha/kill

start=$(date +%s%N)
"$LIFEBOAT" restore "$bag" --to ref >ref.log || fail "restore exited $?"
took=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "^restore: .* $n messages written" ref.log || fail "restore: $(head -n 1 ref.log)"
tree_digest ref >ref.digest

# Every file in the store is one of ref's, with the same bytes.
whole_or_absent() {
	tree_digest store >store.digest
	[ -z "$(comm -23 store.digest ref.digest)" ] ||
		fail "after kill $1, files that are not ref's: $(comm -23 store.digest ref.digest | head -n 3)"
}

# kill_restore MAX: start a restore into store, kill it somewhere in the
# first MAX (a fraction) of the time a whole one took, and check the store.
# One that ended first is started again on an empty store.
kills=0
kill_restore() {
	"$LIFEBOAT" restore "$bag" --to store >/dev/null 2>&1 &
	pid=$!
	sleep "$(python3 -c "import random; print(random.uniform(0.02, $1) * $took / 1000)")"
	if kill -9 "$pid" 2>/dev/null; then
		kills=$((kills + 1))
		wait "$pid" 2>/dev/null || true
		whole_or_absent "$kills"
	else
		wait "$pid" || fail "a restore exited $?"
		rm -rf store
	fi
}
for k in 1 2 3 4 5 6 7 8 9; do
	kill_restore 0.9
	# Start again from nothing now and then: kills early in a run.
	[ $((k % 3)) != 0 ] || rm -rf store
done
# SIGTERM instead: restore stops between two messages, exit 130, and
# places what it wrote first: nothing is left unplaced. A restore that
# ended first (the first one timed read a cold cache) makes the next
# signal come a fifth sooner.
window=$took
for _ in $(seq 20); do
	rm -rf store
	"$LIFEBOAT" restore "$bag" --to store >/dev/null 2>term.log &
	pid=$!
	sleep "$(python3 -c "import random; print(random.uniform(0.3, 0.8) * $window / 1000)")"
	kill -TERM "$pid" 2>/dev/null || true
	# (0: it ended first; 143: the signal came before restore's handler)
	rc=0; wait "$pid" || rc=$?
	[ "$rc" != 130 ] || break
	[ "$rc" != 0 ] || window=$((window * 4 / 5))
done
[ "$rc" = 130 ] || fail "restore exited $rc after SIGTERM, wanted 130: $(cat term.log)"
grep -q "restore: interrupted: the messages written so far are in place" term.log ||
	fail "restore's message: $(cat term.log)"
whole_or_absent SIGTERM
placed=$(tree_digest store | wc -l)
[ -z "$(find store/.lifeboat/tmp -type f 2>/dev/null)" ] ||
	fail "restore stopped by SIGTERM left $(find store/.lifeboat/tmp -type f | wc -l) files unplaced"
echo "restore stopped by SIGTERM (exit 130) with its $placed messages at their names"
rm -rf store

# The last kill leaves files unplaced, for the last run to clear.
for _ in $(seq 20); do
	rm -rf store
	kill_restore 0.5
	left=$(find store/.lifeboat/tmp -type f 2>/dev/null | wc -l)
	[ "$left" = 0 ] || break
done
echo "$kills restores killed (a whole one takes $took ms); the last left $left files unplaced"
[ "$left" -gt 0 ] || fail "premise: no killed restore left a file unplaced"

"$LIFEBOAT" restore "$bag" --to store >final.log || fail "the last restore exited $?: $(cat final.log)"
written=$(sed -n 's/^restore: .*: \([0-9]*\) messages written, \([0-9]*\) already there.*/\1 \2/p' final.log)
set -- $written
[ $(($1 + $2)) = "$n" ] || fail "the last restore: $(head -n 1 final.log)"
tree_digest store >store.digest
cmp -s store.digest ref.digest ||
	fail "the store after the kills differs from one restore's: $(diff ref.digest store.digest | head -n 5)"
[ ! -e store/.lifeboat ] || fail "restore left its .lifeboat in the store: $(find store/.lifeboat | head -n 5)"
echo "the last restore wrote $1 and found $2 there: the store equals one restore's ($n messages)"
