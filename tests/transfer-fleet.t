#!/bin/sh
# One receiver, a fleet: 32 senders at once on loopback, each with its own
# certificate, each sending its own job. Every job ends complete under its
# sender's directory, with exactly what that sender sent: nothing lost,
# nothing mixed between senders. A receiver out of file descriptors keeps
# listening, and serves the sender that waited once it has some again.
set -eu
fail() { echo "FAIL: $*"; tail -n 5 recv.log 2>/dev/null; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap stop_receiver EXIT

lab=$("$TOP/tests/lab/get" ext4 none) || fail "lab ext4 none"
senders=$(seq -f 's%02g' 1 32)
# shellcheck disable=SC2086
"$TOP/scripts/mkcerts" site $senders >/dev/null 2>&1 || fail "mkcerts"
"$LIFEBOAT" carve -q "$lab/disk.img" --out local >/dev/null || fail "carve"

# Each sender sends a different slice of the carve (10 messages from its
# own offset), so that a message filed under the wrong sender shows.
i=0
for s in $senders; do
	mkdir -p "tree-$s/.lifeboat"
	grep '^#' local/.lifeboat/manifest.tsv | grep -vx '# complete' >"tree-$s/.lifeboat/manifest.tsv"
	grep -v '^#' local/.lifeboat/manifest.tsv | tail -n +$((i * 8 + 1)) | head -n 10 \
		>>"tree-$s/.lifeboat/manifest.tsv"
	grep -v '^#' "tree-$s/.lifeboat/manifest.tsv" | awk -F"\t" "{ print \$NF }" | while read -r p; do
		mkdir -p "tree-$s/$(dirname "$p")" && cp -p "local/$p" "tree-$s/$p"
	done
	echo "# complete" >>"tree-$s/.lifeboat/manifest.tsv"
	i=$((i + 1))
done

start_receiver dest -q
start=$(date +%s.%N)
pids=
for s in $senders; do
	"$LIFEBOAT" send "tree-$s" --to "127.0.0.1:$rport" --tls "site/$s" --job fleet \
		>"send-$s.log" 2>&1 &
	pids="$pids $!"
done
failed=0
for p in $pids; do wait "$p" || failed=$((failed + 1)); done
secs=$(echo "$(date +%s.%N) - $start" | bc)
[ "$failed" = 0 ] || fail "$failed senders failed: $(cat send-*.log | grep -v verified | head -n 3)"
bytes=0
for s in $senders; do
	bag=dest/$s/fleet
	[ -f "$bag/bagit.txt" ] || fail "$s: the job is not complete"
	tree_digest "tree-$s" >want.txt
	tree_digest "$bag/data" >got.txt
	cmp -s want.txt got.txt || fail "$s: received something other than it sent"
	"$LIFEBOAT" verify "$bag" >/dev/null || fail "$s: verify"
	# Its log at the receiver (quiet: kept there, not on stderr) is its own.
	grep -q "Z connection from 127.0.0.1 port [0-9]*: sender $s (its certificate's CN), job fleet;" "$bag/.lifeboat/log" &&
		grep -q "Z receive: $s/fleet: complete: " "$bag/.lifeboat/log" &&
		[ "$(tail -n 1 "$bag/.lifeboat/log" | cut -d' ' -f2-)" = "exit 0: all done" ] ||
		fail "$s: the job's log: $(cat "$bag/.lifeboat/log")"
	! grep -v "Z connection from .*: sender $s \|Z the job holds\|Z receive: $s/fleet: \|Z exit 0" "$bag/.lifeboat/log" ||
		fail "$s: the job's log holds other lines"
	bytes=$((bytes + $(du -sb "$bag/data" | cut -f1)))
done
[ "$(ls dest | wc -l)" = 32 ] || fail "dest holds $(ls dest | wc -l) sender directories"
grep -q "complete" recv.log && fail "a quiet receiver logged a complete job on stderr: $(grep complete recv.log | head -n 2)"
echo "32 senders at once: every job complete and its own, $bytes bytes in $secs s"

# Out of descriptors (EMFILE at accept), the receiver keeps listening; once
# its limit is raised, it serves the connection that waited.
stop_receiver
rm -f recv.log
setsid prlimit --nofile=4: "$LIFEBOAT" receive --tls site/receiver --listen 127.0.0.1:0 \
	--dest dest-fd >/dev/null 2>recv.log &
rpid=$!
wait_listening recv.log
"$LIFEBOAT" send tree-s01 --to "127.0.0.1:$rport" --tls site/s01 --job fd >send-fd.log 2>&1 &
spid=$!
for _ in $(seq 100); do grep -q "accept: Too many open files" recv.log && break; sleep 0.1; done
grep -q "receive: accept: Too many open files (still listening)" recv.log || fail "EMFILE: $(cat recv.log)"
prlimit --pid "$rpid" --nofile=256:
wait "$spid" || fail "EMFILE: the sender that waited exited $?: $(cat send-fd.log)"
[ -f dest-fd/s01/fd/bagit.txt ] || fail "EMFILE: the job is not complete"
echo "out of descriptors: the receiver kept listening and then served the sender that waited"
