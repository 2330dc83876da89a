#!/bin/sh
# A receiver holds no message whole, so that one host can serve a fleet:
# each message streams into its file in tmp/ as it comes, hashed on the
# way, and is renamed into place only when the hash is right; a stored bag
# is served back to a pull as it is read. Receiving a 160 MiB message, and
# serving it back, each stay under 48 MiB of the receiver's maximum RSS
# (/usr/bin/time, which counts the connection's forked process too; both
# were over 160 MiB when a message was read whole). The message arrives
# whole, the bag verifies, and the pulled copy is the same. (A refused
# message leaves nothing in tmp/: tests/transfer-refuse.t.) The same holds
# for a job of many messages (the second part).
set -eu
fail() { echo "FAIL: $*"; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "skip: no /usr/bin/time (Debian's time)"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap stop_receiver EXIT

"$TOP/scripts/mkcerts" site alpha restore1 >/dev/null 2>&1 || fail "mkcerts"
# A carved tree of one message of 160 MiB (random: it stays that size in
# every buffer) and one small one.
python3 - tree <<'PY'
import hashlib, os, sys
root = sys.argv[1]
os.makedirs(f"{root}/.lifeboat")
os.makedirs(f"{root}/orphans/new")
with open(f"{root}/.lifeboat/manifest.tsv", "w") as m:
    m.write("# sha256\tsize\tclass\tplacement\thow\tproof\tsource\tmtime\tpath\n")
    for i, size in enumerate((160 << 20, 1000)):
        data = os.urandom(size)
        path = f"orphans/new/{i}.test,S={size}"
        open(f"{root}/{path}", "wb").write(data)
        m.write(f"{hashlib.sha256(data).hexdigest()}\t{size}\texact\torphan\ttest\t-\t-\t1700000000\t{path}\n")
    m.write("# complete\n")
PY

# receive_once RSSFILE ARGS...: a receiver for one connection, its maximum
# RSS (KiB) into RSSFILE when it exits.
receive_once() {
	rss=$1; shift
	rm -f recv.log
	setsid /usr/bin/time -f %M -o "$rss" "$LIFEBOAT" receive --tls site/receiver \
		--listen 127.0.0.1:0 --dest recv --once "$@" >/dev/null 2>recv.log &
	rpid=$!
	wait_listening recv.log
}
# under_limit RSSFILE WHAT: the RSS is under 48 MiB.
under_limit() {
	kib=$(tail -n 1 "$1")
	echo "$2: the receiver's maximum RSS is $kib KiB"
	[ "$kib" -lt 49152 ] || fail "$2 took $kib KiB: a message was held whole"
}

receive_once recv.rss
"$LIFEBOAT" send tree --to "127.0.0.1:$rport" --tls site/alpha --job big --no-compress \
	>send.out 2>&1 || fail "send exited $?: $(cat send.out)"
wait "$rpid" || fail "the receiver exited $?: $(cat recv.log)"
under_limit recv.rss "receiving 160 MiB"
for f in tree/orphans/new/*; do
	cmp -s "$f" "recv/alpha/big/data/orphans/new/${f##*/}" || fail "${f##*/} did not arrive whole"
done
"$LIFEBOAT" verify recv/alpha/big >/dev/null || fail "verify of the received bag"

receive_once serve.rss --serve restore1
"$LIFEBOAT" pull "127.0.0.1:$rport" --tls site/restore1 --job alpha/big --to pulled >pull.out 2>&1 ||
	fail "pull exited $?: $(cat pull.out)"
wait "$rpid" || fail "the serving receiver exited $?: $(cat recv.log)"
under_limit serve.rss "serving it back"
for f in bagit.txt manifest-sha256.txt lifeboat-manifest.tsv tagmanifest-sha256.txt.sig \
	data/orphans/new/0.test,S=167772160; do
	cmp -s "recv/alpha/big/$f" "pulled/$f" || fail "pulled $f differs"
done


# Per message, a receiver keeps what it needs to recognise a message sent
# again (its path's hash, SHA-256, size and where its journal line is: 64
# bytes), not the message's journal line, its manifest line or its tsv
# line: those stay in files, read a line at a time. A job of 30000 small
# messages with paths as long as Dovecot's, received and served back,
# stays under 12 MiB of maximum RSS (it took 31 MiB when the journal's
# lines and both manifests were held).
python3 - many <<'PY'
import hashlib, os, sys
root = sys.argv[1]
os.makedirs(f"{root}/.lifeboat")
with open(f"{root}/.lifeboat/manifest.tsv", "w") as m:
    m.write("# sha256\tsize\tclass\tplacement\thow\tproof\tsource\tmtime\tpath\n")
    for i in range(30000):
        d = f"vmail/example.com/user{i % 40}/Maildir/.Folder{i % 6}/cur"
        os.makedirs(f"{root}/{d}", exist_ok=True)
        data = b"From: a@example.net\nSubject: %d\n\nbody %d\n" % (i, i)
        path = f"{d}/{1700000000 + i}.M{i}P{i}.mail.example.com,S={len(data)},W={len(data) + 4}:2,S"
        open(f"{root}/{path}", "wb").write(data)
        m.write(f"{hashlib.sha256(data).hexdigest()}\t{len(data)}\texact\tplaced\txfs-inode\tinode\t"
                f"{i * 4096}+{len(data)}\t{1700000000 + i}\t{path}\n")
    m.write("# complete\n")
PY
# many_under_limit RSSFILE WHAT: the RSS is under 12 MiB.
many_under_limit() {
	kib=$(tail -n 1 "$1")
	echo "$2: the receiver's maximum RSS is $kib KiB"
	[ "$kib" -lt 12288 ] || fail "$2 took $kib KiB: something is held per message"
}
receive_once many.rss
/usr/bin/time -f %M -o send.rss "$LIFEBOAT" send many --to "127.0.0.1:$rport" --tls site/alpha \
	--job many -q >send.out 2>&1 || fail "send of many exited $?: $(cat send.out)"
wait "$rpid" || fail "the receiver exited $?: $(cat recv.log)"
many_under_limit many.rss "receiving 30000 messages"
# The sender holds the bag's tsv (its lines are the messages' columns, 230
# bytes or so here) zstd-compressed, and makes the manifest from it at the
# end: 7.0 MiB for these 30000 messages, 9.9 MiB when the tsv was held as
# it is, 15 MiB when the manifest's lines were held too.
kib=$(tail -n 1 send.rss)
echo "sending 30000 messages: the sender's maximum RSS is $kib KiB"
[ "$kib" -lt 8704 ] || fail "the sender took $kib KiB: it holds more than the compressed tsv per message"
[ "$(find recv/alpha/many/data -type f | wc -l)" = 30000 ] || fail "not every message arrived"
# verify reads the two manifests side by side, a line at a time, and
# keeps 16 bytes per message (to find a path listed twice).
/usr/bin/time -f %M -o verify.rss "$LIFEBOAT" verify recv/alpha/many >verify.out 2>&1 ||
	fail "verify of the 30000 messages: $(cat verify.out)"
kib=$(tail -n 1 verify.rss)
echo "verifying 30000 messages: verify's maximum RSS is $kib KiB"
[ "$kib" -lt 8192 ] || fail "verify took $kib KiB: it holds more than a key per message"
receive_once many-serve.rss --serve restore1
"$LIFEBOAT" pull "127.0.0.1:$rport" --tls site/restore1 --job alpha/many --to pulled-many \
	>pull.out 2>&1 || fail "pull of many exited $?: $(cat pull.out)"
wait "$rpid" || fail "the serving receiver exited $?: $(cat recv.log)"
many_under_limit many-serve.rss "serving them back"
[ "$(find pulled-many/data -type f | wc -l)" = 30000 ] || fail "not every message was pulled"
