#!/bin/sh
# carve --send to a receiver on loopback: the received tree and manifest
# equal a local carve --out of the same disk; the bag passes lifeboat
# verify, sha256sum -c and openssl dgst -verify, and verify fails when a
# byte or a file is changed, a FIFO is planted (at once), sender.pem is
# malformed or the signature missing (all exit 4); the kept evidence copy
# extracts to the same; the sender's progress is logged by the receiver;
# a completion cut short before bagit.txt is finished by the next send; a
# second run sends nothing; each sender gets its own directory, and the
# disk's SHA-256 the carve took (--sha256) in its bag; the archive goes zstd
# compressed unless --no-compress; send --archive writes a pax archive GNU
# tar extracts; a disk with no mail makes a complete, empty job; a job's
# evidence copy goes on past part-999; send refuses a tree whose manifest
# is a FIFO or a symlink at once (exit 4); a cut job run again with
# --no-metadata is another source (exit 4), and does not spoil the job.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap stop_receiver EXIT

lab=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
make_site
before=$(sha256sum <"$lab/disk.img")
"$LIFEBOAT" carve -q --sha256 "$lab/disk.img" --out local >local.out || fail "carve --out exited $?"
n=$(grep -vc '^#' local/.lifeboat/manifest.tsv)
[ "$n" -gt 250 ] || fail "only $n messages carved"
# table FILE [HEADER]: the rows of the table per user and folder that
# follows HEADER (default "per user and folder:"): user, folder, and the
# exact, complete and partial columns.
table() {
	awk -v h="${2:-per user and folder:}" 'index($0, h) { t = 1; next } t && /^  user/ { next }
		t && /^  / { print $1, $2, $3, $4, $5; next } t { exit }' "$1" | sort
}
table local.out >want-table.txt
# Carve's table counts messages; Dovecot's files beside them are told apart.
state=$(sed -n "s/^  \([0-9]*\) of Dovecot's uidlist, keyword and subscription files put back$/\1/p" local.out)
[ "${state:-0}" -gt 0 ] || fail "the lab disk gave none of Dovecot's files: $(cat local.out)"
msgs=$((n - state))

start_receiver recv --keep-archive
"$LIFEBOAT" carve -q "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job lab \
	>/dev/null 2>send.log || fail "carve --send exited $?: $(cat send.log)"
bag=recv/alpha/lab
[ -f "$bag/bagit.txt" ] || fail "the job is not complete"
tree_digest local >want.txt
tree_digest "$bag/data" >got.txt
cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "received tree differs from carve --out"; }
grep -v '^#' local/.lifeboat/manifest.tsv | sort >want.tsv
grep -v '^#' "$bag/lifeboat-manifest.tsv" | sort >got.tsv
cmp -s want.tsv got.tsv || fail "received manifest differs from carve's"
# The receiver logs the complete job's table: carve's own, each message
# by class, and Dovecot's files apart.
table recv.log "alpha/lab: per user and folder:" >got-table.txt
[ -s got-table.txt ] && cmp -s want-table.txt got-table.txt ||
	{ diff want-table.txt got-table.txt | head; fail "the receiver's table is not carve's: $(tail -n 5 recv.log)"; }
grep -q "receive: alpha/lab: $state of Dovecot's uidlist, keyword and subscription files beside the mail" recv.log ||
	fail "the receiver does not count Dovecot's $state files apart: $(tail -n 5 recv.log)"
echo "received $n messages, same tree and manifest as carve --out"
# The sender's progress reached the receiver, for each phase: the scan,
# the ext4 inode tables read again (for their valid inodes, and the seeds
# of earlier filesystems), the files read through their old inodes
# (their names' S=), the content.
grep -E "receive: alpha/lab: carve: scanning [0-9.]+ of 400.0 MiB \([0-9]+%\)" recv.log ||
	fail "no scan progress at the receiver: $(cat recv.log)"
grep -E "receive: alpha/lab: carve: reading inode tables [0-9.]+ of [0-9.]+ MiB" recv.log ||
	fail "no progress through the inode tables at the receiver: $(cat recv.log)"
grep -E "receive: alpha/lab: carve: placing [0-9.]+ of [0-9.]+ MiB" recv.log ||
	fail "no placing progress at the receiver: $(cat recv.log)"
grep -q "receive: alpha/lab: carve: recovering" recv.log || fail "no recovery progress at the receiver"

# bag-info.txt, signed with the rest: the version that made the bag, and
# for carve --send, the disk it read (dev_describe()).
grep -qx "Bag-Software-Agent: $("$LIFEBOAT" --version)" "$bag/bag-info.txt" &&
	grep -qx "Lifeboat-Source: '$lab/disk.img': a file of $(stat -c %s "$lab/disk.img") bytes" "$bag/bag-info.txt" ||
	fail "bag-info.txt does not name the version and the disk: $(cat "$bag/bag-info.txt")"
"$LIFEBOAT" verify "$bag" >verify.out || fail "verify exited $?"
# verify names the disk and the version, from bag-info.txt; the receiver
# logged the disk with the complete job.
grep -qx "the disk: '$lab/disk.img': a file of $(stat -c %s "$lab/disk.img") bytes" verify.out &&
	grep -qx "made by: $("$LIFEBOAT" --version)" verify.out ||
	fail "verify does not name the disk and the version: $(cat verify.out)"
grep -q "receive: alpha/lab: the disk: '$lab/disk.img': a file of" recv.log ||
	fail "the receiver did not log the disk: $(grep 'alpha/lab' recv.log | tail -n 3)"
# The job's own log at the receiver: the connection (from where, whose
# certificate, the receiver's version), where it went on from, the job
# complete, the disk, and how the connection ended; no progress lines.
python3 - "$bag/.lifeboat/log" "$("$LIFEBOAT" --version)" <<'PY' || fail "the job's log: $(cat "$bag/.lifeboat/log")"
import re, sys
lines = [l[21:] for l in open(sys.argv[1]).read().splitlines()]
version = sys.argv[2]
assert re.fullmatch(r"connection from 127\.0\.0\.1 port \d+: sender alpha \(its certificate's CN\), "
                    rf"job lab; received by {version}", lines[0]), lines
assert lines[1] == "the job holds 0 files (0 bytes): the sender goes on after them", lines
assert any(re.fullmatch(r"receive: alpha/lab: complete: \d+ files, \d+ new now, 0 sent again", l) for l in lines), lines
assert any(l.startswith("receive: alpha/lab: the disk: ") for l in lines), lines
assert not any("scanning" in l for l in lines), lines
assert lines[-1] == "exit 0: all done", lines
PY
(cd "$bag" && sha256sum -c --quiet manifest-sha256.txt) || fail "sha256sum -c"
(cd "$bag" && sha256sum -c --quiet tagmanifest-sha256.txt) || fail "sha256sum -c of the tag manifest"
[ "$(awk '{ print $2 }' "$bag/tagmanifest-sha256.txt" | tr '\n' ' ')" = \
	"bagit.txt bag-info.txt manifest-sha256.txt lifeboat-manifest.tsv " ] ||
	fail "the tag manifest lists: $(cat "$bag/tagmanifest-sha256.txt")"
openssl x509 -in "$bag/sender.pem" -pubkey -noout >pub.pem
openssl dgst -sha256 -verify pub.pem -signature "$bag/tagmanifest-sha256.txt.sig" \
	"$bag/tagmanifest-sha256.txt" || fail "openssl does not verify the signature"

# The evidence copy: the archive as received, which tar reads without us.
[ "$(ls "$bag/archive")" = part-000.tar ] || fail "evidence copy: $(ls "$bag/archive")"
mkdir evidence
tar --pax-option='delete=LIFEBOAT.*' -xf "$bag/archive/part-000.tar" -C evidence 2>tar.err ||
	fail "tar of the evidence copy: $(cat tar.err)"
[ ! -s tar.err ] || fail "tar warned: $(cat tar.err)"
grep -aq "LIFEBOAT.progress=0 [0-9]* carve: recovering" "$bag/archive/part-000.tar" ||
	fail "no progress records in the evidence copy"
"$LIFEBOAT" verify evidence/lab --cert "$bag/sender.pem" >/dev/null || fail "verify of the evidence copy"
tree_digest evidence/lab/data >evidence.txt
cmp -s want.txt evidence.txt || fail "the evidence copy differs"

# verify has teeth: one changed byte, one extra file, a changed manifest.
cp -a "$bag" altered
f=$(find altered/data -type f | sort | head -n 1)
printf X | dd of="$f" bs=1 seek=10 conv=notrunc 2>/dev/null
set +e; "$LIFEBOAT" verify altered >v1.log 2>&1; rc=$?; set -e
[ $rc = 4 ] && grep -q "does not match its SHA-256" v1.log || fail "verify missed a changed byte (exit $rc)"
rm -rf altered && cp -a "$bag" altered && echo extra >altered/data/extra
set +e; "$LIFEBOAT" verify altered >v2.log 2>&1; rc=$?; set -e
[ $rc = 4 ] || fail "verify missed an extra file (exit $rc)"
rm -rf altered && cp -a "$bag" altered && sed -i '1d' altered/manifest-sha256.txt
set +e; "$LIFEBOAT" verify altered >v3.log 2>&1; rc=$?; set -e
[ $rc = 4 ] && grep -q "manifest-sha256.txt' is not as the signed tag manifest lists it" v3.log ||
	fail "verify missed a changed manifest (exit $rc): $(cat v3.log)"
# The signature covers carve's columns too: a message's class changed
# (the lab's partial messages vary from build to build; its exact ones
# are always there), or a delivery time moved, fails the bag.
for edit in '0,/\texact\t/s//\tpartial\t/' '0,/\t[0-9]\{9,\}\t\([^\t]*\)$/s//\t1\t\1/'; do
	rm -rf altered && cp -a "$bag" altered && sed -i "$edit" altered/lifeboat-manifest.tsv
	! cmp -s "$bag/lifeboat-manifest.tsv" altered/lifeboat-manifest.tsv || fail "'$edit' changed nothing"
	set +e; "$LIFEBOAT" verify altered >v3.log 2>&1; rc=$?; set -e
	[ $rc = 4 ] && grep -q "lifeboat-manifest.tsv' is not as the signed tag manifest lists it" v3.log ||
		fail "verify missed '$edit' in lifeboat-manifest.tsv (exit $rc): $(cat v3.log)"
done
# A FIFO in place of a message or of sender.pem is refused at once, not
# waited on; a malformed sender.pem and a missing signature fail the bag:
# all exit 4, not 111 ("run again").
for what in fifo-data fifo-pem bad-pem no-sig; do
	rm -rf altered && cp -a "$bag" altered
	f=$(find altered/data -type f | sort | head -n 1)
	case $what in
	fifo-data) rm "$f" && mkfifo "$f" ;;
	fifo-pem) rm altered/sender.pem && mkfifo altered/sender.pem ;;
	bad-pem) echo "not a certificate" >altered/sender.pem ;;
	no-sig) rm altered/tagmanifest-sha256.txt.sig ;;
	esac
	rc=0; timeout 20 "$LIFEBOAT" verify altered >v4.log 2>&1 || rc=$?
	[ $rc = 4 ] || fail "verify of a bag with $what: exit $rc: $(cat v4.log)"
	rc=0; timeout 20 "$LIFEBOAT" restore altered --to "store-$what" >v5.log 2>&1 || rc=$?
	[ $rc = 4 ] && [ ! -e "store-$what" ] || fail "restore of a bag with $what: exit $rc: $(cat v5.log)"
done
echo "refused at once (exit 4): a FIFO as a message or sender.pem, a bad sender.pem, no signature"

# Again: the receiver holds the job, nothing is sent.
"$LIFEBOAT" send local --tls site/alpha --to "127.0.0.1:$rport" --job lab 2>again.log ||
	fail "second send exited $?"
grep -q "already holds" again.log || fail "second send: $(cat again.log)"
tree_digest "$bag/data" >got2.txt
cmp -s got.txt got2.txt || fail "the second send changed the tree"

# A receiver that died while finishing the bag (its tag files written, not
# yet bagit.txt): the next send sends no message and completes the job.
rm "$bag/bagit.txt"
"$LIFEBOAT" send local --tls site/alpha --to "127.0.0.1:$rport" --job lab >finish.out 2>finish.log ||
	fail "send after an unfinished completion exited $?: $(cat finish.log) $(tail -n 2 recv.log)"
grep -q "$n files, 0 sent now" finish.log || fail "finish: $(cat finish.log)"
[ -f "$bag/bagit.txt" ] && "$LIFEBOAT" verify "$bag" >/dev/null || fail "the job was not completed again"

# Another sender, same job name: its own directory.
"$LIFEBOAT" send local --tls site/beta --to "127.0.0.1:$rport" --job lab >beta.out 2>beta.log ||
	fail "send as beta exited $?: $(cat beta.log)"
# send's table per user and folder: all sent now by beta, all already
# at the receiver when alpha's job only needed finishing.
columns() { awk '/^  user/ { t = 1; next } t { a += $(NF-1); b += $NF } END { print a + 0, b + 0 }' "$1"; }
[ "$(columns beta.out)" = "$msgs 0" ] || fail "beta's send table: $(columns beta.out), want $msgs 0"
[ "$(columns finish.out)" = "0 $msgs" ] || fail "the finishing send's table: $(columns finish.out), want 0 $msgs"
grep -qx "$state of Dovecot's uidlist, keyword and subscription files beside the mail" beta.out ||
	fail "send does not count Dovecot's $state files apart: $(cat beta.out)"
tree_digest recv/beta/lab/data >beta.txt
cmp -s want.txt beta.txt || fail "beta's tree differs"
# The carve took the disk's SHA-256 (--sha256): send puts it in the bag.
disk_sha=$(sha256sum <"$lab/disk.img" | cut -d' ' -f1)
grep -qx "Lifeboat-Source-SHA256: $disk_sha" recv/beta/lab/bag-info.txt ||
	fail "beta's bag-info.txt does not give the disk's SHA-256: $(cat recv/beta/lab/bag-info.txt)"
# send names the disk the tree was carved from (its .lifeboat/source).
grep -qx "Lifeboat-Source: '$lab/disk.img': a file of $(stat -c %s "$lab/disk.img") bytes" recv/beta/lab/bag-info.txt ||
	fail "beta's bag-info.txt does not name the disk: $(cat recv/beta/lab/bag-info.txt)"
"$LIFEBOAT" verify recv/beta/lab 2>/dev/null | grep -qx "the disk as carved: sha256 $disk_sha (.*)" ||
	fail "verify does not say the disk's SHA-256: $("$LIFEBOAT" verify recv/beta/lab 2>&1 | head -n 3)"
grep -Eq "receive: beta/lab: send [0-9.]+ of [0-9.]+ MiB \([0-9]+%\)" recv.log || fail "send's progress did not reach the receiver"

# The archive went zstd-compressed inside the TLS (mail shrinks); with
# --no-compress it goes as it is, to the same tree.
set -- $(sed -n 's/.*, \([0-9.]*\) MiB of archive sent as \([0-9.]*\) MiB (zstd)$/\1 \2/p' send.log)
[ $# = 2 ] && awk -v a="$1" -v w="$2" 'BEGIN { exit !(w * 2 < a) }' ||
	fail "carve --send did not compress the archive to less than half: $(cat send.log)"
echo "compressed: $1 MiB of archive sent as $2 MiB"
"$LIFEBOAT" send local --tls site/beta --to "127.0.0.1:$rport" --job plain --no-compress 2>plain.log ||
	fail "send --no-compress exited $?: $(cat plain.log)"
grep -q zstd plain.log && fail "--no-compress compressed: $(cat plain.log)"
tree_digest recv/beta/plain/data >plain.txt
cmp -s want.txt plain.txt || fail "the tree sent with --no-compress differs"

# The same archive as a file: GNU tar extracts the bag, verify checks it.
"$LIFEBOAT" send local --tls site/beta --archive job.tar --job arch 2>arch.log || fail "send --archive"
mkdir x
tar --pax-option='delete=LIFEBOAT.*' -xf job.tar -C x 2>tar.err || fail "tar: $(cat tar.err)"
[ ! -s tar.err ] || fail "tar warned: $(cat tar.err)"
"$LIFEBOAT" verify x/arch --cert site/beta/cert.pem || fail "verify of the extracted archive"
grep -qx "Lifeboat-Source-SHA256: $disk_sha" x/arch/bag-info.txt ||
	fail "the archive's bag-info.txt does not give the disk's SHA-256: $(cat x/arch/bag-info.txt)"
tree_digest x/arch/data >tar.txt
cmp -s want.txt tar.txt || fail "the extracted archive differs (content or mtime)"

# A carved file changed since the carve (a bad sector on the rescue
# side, a hand edit) is not committed: the receiver refuses it by its
# SHA-256, send stops there with exit 4, and the receiver commits nothing
# of it and does not call the job complete. Into an archive file, send
# checks the hash itself and writes nothing of it.
cp -a local changed
victim=$(grep -v '^#' changed/.lifeboat/manifest.tsv | awk -F"\t" "{ print \$NF }" | sed -n 20p)
printf 'X' | dd of="changed/$victim" bs=1 seek=100 conv=notrunc 2>/dev/null
rc=0; "$LIFEBOAT" send changed --tls site/beta --to "127.0.0.1:$rport" --job changed 2>changed.log || rc=$?
[ $rc = 4 ] && grep -q "refused: '$victim' does not match its SHA-256" changed.log ||
	fail "send of a changed file: exit $rc: $(cat changed.log)"
[ ! -e "recv/beta/changed/data/$victim" ] && [ ! -e recv/beta/changed/bagit.txt ] ||
	fail "the receiver kept the changed file or completed the job"
rc=0; "$LIFEBOAT" send changed --tls site/beta --archive changed.tar --job changed 2>changed.log || rc=$?
[ $rc = 4 ] && grep -q "'changed/$victim' no longer matches the manifest" changed.log ||
	fail "send --archive of a changed file: exit $rc: $(cat changed.log)"
! tar -tf changed.tar 2>/dev/null | grep -qF "$victim" || fail "the archive holds the changed file"
echo "a file changed since the carve: not committed (exit 4), the job left incomplete; not archived"

# The tree's manifest is read as its files are: a FIFO in its place is
# refused at once (not waited on for a writer), and so is a symlink to
# one elsewhere (exit 4); nothing reaches the receiver.
for what in fifo symlink; do
	rm -rf odd && cp -a local odd
	case $what in
	fifo) rm odd/.lifeboat/manifest.tsv && mkfifo odd/.lifeboat/manifest.tsv ;;
	symlink) mv odd/.lifeboat/manifest.tsv odd-manifest.tsv &&
		ln -s "$PWD/odd-manifest.tsv" odd/.lifeboat/manifest.tsv ;;
	esac
	rc=0; timeout 20 "$LIFEBOAT" send odd --tls site/beta --to "127.0.0.1:$rport" \
		--job "odd-$what" 2>odd.log || rc=$?
	[ $rc = 4 ] && grep -q "is not a regular file" odd.log && [ ! -e "recv/beta/odd-$what" ] ||
		fail "send of a tree whose manifest is a $what: exit $rc: $(cat odd.log)"
done
echo "a manifest that is a FIFO or a symlink: refused at once (exit 4)"

# A job is made from one source: a disk, read by one Lifeboat build.
# Another disk carved under a job name already used (carve's default is
# the device's name: every server's sdb) is refused, not told "already
# holds job", and nothing is resumed into it; so is a tree carved from
# it. The same disk again is still the complete job it is (and a tree
# carved from it was, above: "already holds").
other=$("$TOP/tests/lab/get" ext4 none) || fail "lab ext4 none"
cp -a "$bag" bag-before
rc=0; "$LIFEBOAT" carve -q "$other/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job lab \
	>/dev/null 2>other.log || rc=$?
[ $rc = 4 ] && grep -q "made from another source" other.log ||
	fail "another disk under a used job name: exit $rc: $(cat other.log)"
"$LIFEBOAT" carve -q "$other/disk.img" --out other-tree >/dev/null || fail "carve of another disk"
rc=0; "$LIFEBOAT" send other-tree --tls site/alpha --to "127.0.0.1:$rport" --job lab 2>other.log ||
	rc=$?
[ $rc = 4 ] && grep -q "made from another source" other.log ||
	fail "a tree of another disk under a used job name: exit $rc: $(cat other.log)"
# Nothing of the job changed but its log (.lifeboat/log), which records
# both refused connections, with what was refused and their exit code.
cp -a "$bag" bag-after
diff bag-before/.lifeboat/log bag-after/.lifeboat/log | grep '^>' >refused.log || true
rm bag-before/.lifeboat/log bag-after/.lifeboat/log
diff -r bag-before bag-after >/dev/null || fail "a refused source changed the job"
[ "$(grep -c "Z connection from 127.0.0.1 port [0-9]*: sender alpha (its certificate's CN), job lab;" refused.log)" = 2 ] &&
	[ "$(grep -c "made from another source" refused.log)" = 2 ] &&
	[ "$(grep -c "Z exit 4: an integrity check failed$" refused.log)" = 2 ] ||
	fail "the job's log does not record the two refused connections: $(cat refused.log)"
"$LIFEBOAT" carve -q "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job lab \
	>/dev/null 2>same.log || fail "the same disk again: exit $?: $(cat same.log)"
grep -q "already holds job lab" same.log || fail "the same disk again: $(cat same.log)"
echo "another source under a used job name: refused (exit 4); the same disk: already complete"

# A carve --send cut off and run again with --no-metadata (which gives
# the messages other paths, so other sequence numbers) would resume into
# the first run's and leave a job that no run completes: it is another
# source, refused at the hello, and the first command then completes it.
pport=$(free_port)
python3 "$TOP/tests/transfer/proxy.py" "$pport" "$rport" cut:3000000 >proxy.log 2>&1 &
for _ in $(seq 50); do grep -q ready proxy.log 2>/dev/null && break; sleep 0.1; done
rc=0; "$LIFEBOAT" carve -q "$lab/disk.img" --send "127.0.0.1:$pport" --tls site/alpha --job meta \
	--no-compress >/dev/null 2>meta1.log || rc=$?
[ $rc = 111 ] && [ ! -e recv/alpha/meta/bagit.txt ] || fail "a cut carve --send: exit $rc: $(cat meta1.log)"
rc=0; "$LIFEBOAT" carve -q "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job meta \
	--no-metadata >/dev/null 2>meta2.log || rc=$?
[ $rc = 4 ] && grep -q "made from another source" meta2.log ||
	fail "a cut job resumed with --no-metadata: exit $rc: $(cat meta2.log)"
"$LIFEBOAT" carve -q "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job meta \
	>/dev/null 2>meta3.log || fail "the first command again: exit $?: $(cat meta3.log)"
tree_digest recv/alpha/meta/data >meta.txt
cmp -s want.txt meta.txt && [ "$(wc -l <recv/alpha/meta/.lifeboat/journal)" = "$n" ] ||
	fail "the job resumed after a refused --no-metadata run differs from carve --out"
echo "a cut job run again with --no-metadata: another source, refused (exit 4); the same command completes it"

# A disk with no mail: its job completes, with an empty manifest, and
# verifies (an empty manifest is not a missing one). Its evidence copy
# comes after a thousand parts (as a job resumed that often has).
truncate -s 16M zeros.img
mkdir -p recv/alpha/zeros/archive
(cd recv/alpha/zeros/archive && for i in $(seq -w 0 999); do : >"part-$i.tar"; done)
"$LIFEBOAT" carve -q zeros.img --send "127.0.0.1:$rport" --tls site/alpha --job zeros \
	>/dev/null 2>zeros.log || fail "carve --send of a disk with no mail: exit $?: $(cat zeros.log)"
grep -q "verified by the receiver: 0 files" zeros.log && [ -f recv/alpha/zeros/bagit.txt ] &&
	[ ! -s recv/alpha/zeros/manifest-sha256.txt ] || fail "no mail: $(cat zeros.log)"
"$LIFEBOAT" verify recv/alpha/zeros >/dev/null 2>&1 || fail "verify of the job with no mail"
[ -s recv/alpha/zeros/archive/part-1000.tar ] || fail "no evidence part 1000: $(ls recv/alpha/zeros/archive | tail -n 2)"
echo "a disk with no mail: the job completes empty and verifies; its evidence copy is part 1000"

# A tree carved before the mtime column: send takes each delivery time
# from its file's mtime, for the messages the receiver holds already too,
# so that a cut send resumed still signs the lifeboat-manifest.tsv its
# journal holds. Once the job is complete, sending it again reads nothing:
# a file changed since (or gone) is no reason to fail.
cp -a local old
awk -F '\t' -v OFS='\t' '/^#/ { print; next } { print $1, $2, $3, $4, $5, $6, $7, $9 }' \
	local/.lifeboat/manifest.tsv >old/.lifeboat/manifest.tsv
[ "$(grep -v '^#' old/.lifeboat/manifest.tsv | head -n 1 | awk -F '\t' '{ print NF }')" = 8 ] ||
	fail "the old-format manifest: $(sed -n 3p old/.lifeboat/manifest.tsv)"
pport=$(free_port)
python3 "$TOP/tests/transfer/proxy.py" "$pport" "$rport" cut:3000000 >proxy.log 2>&1 &
for _ in $(seq 50); do grep -q ready proxy.log 2>/dev/null && break; sleep 0.1; done
rc=0; "$LIFEBOAT" send old --tls site/alpha --to "127.0.0.1:$pport" --job old --no-compress \
	>/dev/null 2>old1.log || rc=$?
# The receiver may still be committing what reached it before the cut.
for _ in $(seq 50); do [ -s recv/alpha/old/.lifeboat/journal ] && break; sleep 0.1; done
[ $rc = 111 ] && [ -s recv/alpha/old/.lifeboat/journal ] || fail "a cut send of an old tree: exit $rc: $(cat old1.log)"
"$LIFEBOAT" send old --tls site/alpha --to "127.0.0.1:$rport" --job old >/dev/null 2>old2.log ||
	fail "the old tree's send resumed: exit $?: $(cat old2.log) $(tail -n 2 recv.log)"
tree_digest recv/alpha/old/data >old.txt
cmp -s want.txt old.txt && "$LIFEBOAT" verify recv/alpha/old >/dev/null 2>&1 ||
	fail "the old tree's job differs from carve --out or does not verify"
victim=$(grep -v '^#' old/.lifeboat/manifest.tsv | awk -F '\t' '{ print $NF }' | sed -n 3p)
printf X | dd of="old/$victim" bs=1 seek=50 conv=notrunc 2>/dev/null
rc=0; "$LIFEBOAT" send old --tls site/alpha --to "127.0.0.1:$rport" --job old >/dev/null 2>old3.log ||
	rc=$?
[ $rc = 0 ] && grep -q "already holds" old3.log ||
	fail "an old tree sent again to its complete job: exit $rc: $(cat old3.log)"
echo "a tree carved before the mtime column: resumed after a cut, complete; sent again, nothing read"

[ "$(sha256sum <"$lab/disk.img")" = "$before" ] || fail "the image changed"
echo ok
