#!/bin/sh
# lifeboat pull: a restore host (its own certificate, named in receive
# --serve) fetches a complete job back over TLS; the pulled bag equals the
# receiver's, file for file, and verifies. Refused: a certificate not named
# in --serve, a job that is not there, a wrong pin; a receiver that
# cannot be reached is exit 111 (a closed port, a name that does not
# resolve). A stream cut on its way down fails, keeping what came before
# the cut, and the same pull run
# again completes; a flipped byte fails as an integrity error, and so
# does a tag file larger than verify reads one; a bag whose
# lifeboat-manifest.tsv is over 256 MiB is served and pulled whole; a bag
# altered at the receiver does not verify, nor one forged there and signed
# again by another key than the sender's.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap stop_receiver EXIT

lab=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
"$TOP/scripts/mkcerts" site alpha restore1 >/dev/null 2>&1 || fail "mkcerts"
start_receiver recv --serve restore1,other
"$LIFEBOAT" carve -q "$lab/disk.img" --send "127.0.0.1:$rport" --tls site/alpha --job lab \
	>/dev/null 2>send.log || fail "carve --send exited $?: $(cat send.log)"
bag=recv/alpha/lab
[ -f "$bag/bagit.txt" ] || fail "the job is not complete"

"$LIFEBOAT" pull "127.0.0.1:$rport" --tls site/restore1 --job alpha/lab --to pulled >pull.out ||
	fail "pull exited $?: $(cat pull.out) $(tail -n 3 recv.log)"
cat pull.out
grep -q "signature and every hash good" pull.out || fail "pull did not say it verified"
tree_digest "$bag/data" >want.txt
tree_digest pulled/data >got.txt
cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "the pulled bag differs"; }
for f in bagit.txt bag-info.txt manifest-sha256.txt lifeboat-manifest.tsv tagmanifest-sha256.txt \
	tagmanifest-sha256.txt.sig sender.pem; do
	cmp -s "$bag/$f" "pulled/$f" || fail "pulled $f differs"
done
"$LIFEBOAT" verify pulled >/dev/null || fail "verify of the pulled bag"
echo "pulled $(wc -l <got.txt) messages: the same bag, verified"

# expect CODE WORDS -- PULL ARGS: a pull that fails with CODE, saying WORDS.
expect() {
	code=$1 words=$2; shift 3
	rc=0
	"$LIFEBOAT" pull "$@" >/dev/null 2>err.txt || rc=$?
	[ "$rc" = "$code" ] || fail "pull $*: exit $rc, wanted $code: $(cat err.txt)"
	grep -q "$words" err.txt || fail "pull $*: '$(cat err.txt)' does not say '$words'"
	echo "refused ($rc): $(cat err.txt)"
}
expect 4 "may not pull" -- "127.0.0.1:$rport" --tls site/alpha --job alpha/lab --to x1
expect 100 "no complete job" -- "127.0.0.1:$rport" --tls site/restore1 --job alpha/nosuch --to x2
cp -r site/restore1 wrongpin
echo 0000000000000000000000000000000000000000000000000000000000000000 >wrongpin/pins
expect 4 "pin" -- "127.0.0.1:$rport" --tls wrongpin --job alpha/lab --to x3
# A receiver that cannot be reached is the network's failure (111), not
# an integrity one: a closed port, and a host name that cannot resolve
# ("bad..host" is no DNS name: the resolver refuses it without a query).
expect 111 "unable to connect" -- "127.0.0.1:$(free_port)" --tls site/restore1 --job alpha/lab --to x4
expect 111 "unable to connect" -- "bad..host:$rport" --tls site/restore1 --job alpha/lab --to x5
[ ! -e x1 ] && [ ! -e x2 ] && [ ! -e x3 ] && [ ! -e x4 ] && [ ! -e x5 ] ||
	fail "a refused pull wrote something"

# Through a proxy that damages the stream on its way down.
proxy() {
	pport=$(free_port)
	python3 "$TOP/tests/transfer/proxy.py" "$pport" "$rport" "$1" >proxy.log 2>&1 &
	for _ in $(seq 50); do grep -q ready proxy.log 2>/dev/null && break; sleep 0.1; done
}
proxy down:cut:2000000
expect 111 "run again" -- "127.0.0.1:$pport" --tls site/restore1 --job alpha/lab --to again
n=$(find again/data -type f | wc -l)
# What came before the cut is kept, at its names (pull writes in batches
# of 1024 files, and places the batch before it exits).
[ "$n" -gt 0 ] || fail "the cut pull kept nothing"
[ -z "$(find again/.lifeboat/tmp -type f)" ] || fail "the cut pull left files unplaced"
"$LIFEBOAT" pull "127.0.0.1:$rport" --tls site/restore1 --job alpha/lab --to again >/dev/null ||
	fail "the second pull exited $?"
tree_digest again/data >again.txt
cmp -s want.txt again.txt || fail "the resumed pull differs"
echo "cut after $n files, completed by a second run"
proxy down:flip:1500000
expect 4 "pull" -- "127.0.0.1:$pport" --tls site/restore1 --job alpha/lab --to flipped

# Only the manifests may be larger than a message: a receiver (its key
# stolen, its pin still listed) that sends a tag file larger than verify
# reads one is refused at its header, as a malformed archive (4, not 111:
# running again would meet it again), and nothing of it is written.
for what in "sender.pem $(((256 << 20) + 1))" "tagmanifest-sha256.txt 4097"; do
	set -- $what
	rm -f fake.port
	python3 "$TOP/tests/transfer/fake-receiver.py" site "$1" "$2" >fake.port 2>fake.log &
	for _ in $(seq 50); do [ -s fake.port ] && break; sleep 0.1; done
	expect 4 "malformed archive" -- "127.0.0.1:$(cat fake.port)" --tls site/restore1 \
		--job alpha/lab --to hostile
	wait $! || true
	[ ! -e "hostile/$1" ] || fail "a $1 of $2 bytes was written"
done

# A job's manifests may be 4 GiB (some 18 million messages), a message
# 256 MiB: a stored bag whose lifeboat-manifest.tsv is over 256 MiB (here
# the lab's, padded with comment lines and signed again by alpha) is
# served and pulled whole, and verifies.
cp -a "$bag" recv/alpha/big
python3 - recv/alpha/big/lifeboat-manifest.tsv <<'PY'
import sys
with open(sys.argv[1], "ab") as f:
    line = b"#" + b"x" * 1023 + b"\n"
    for _ in range((256 << 10) + 1):
        f.write(line)
PY
(cd recv/alpha/big && sha256sum bagit.txt bag-info.txt manifest-sha256.txt lifeboat-manifest.tsv \
	>tagmanifest-sha256.txt &&
	openssl dgst -sha256 -sign ../../../site/alpha/key.pem -out tagmanifest-sha256.txt.sig \
		tagmanifest-sha256.txt)
"$LIFEBOAT" verify --ca site/ca/ca.pem recv/alpha/big >/dev/null 2>&1 || fail "the padded bag does not verify"
rc=0; "$LIFEBOAT" pull "127.0.0.1:$rport" --tls site/restore1 --job alpha/big --to big -q \
	2>big.err || rc=$?
[ $rc = 0 ] && cmp -s recv/alpha/big/lifeboat-manifest.tsv big/lifeboat-manifest.tsv ||
	fail "pull of a bag whose lifeboat-manifest.tsv is over 256 MiB: exit $rc: $(cat big.err) $(tail -n 2 recv.log)"
rm -rf recv/alpha/big big
echo "a lifeboat-manifest.tsv over 256 MiB: served, pulled and verified"

# A bag altered where it is stored is not passed off as verified.
f=$(find "$bag/data" -type f | sort | head -n 1)
printf 'X' | dd of="$f" bs=1 seek=10 conv=notrunc status=none
expect 4 "does not verify" -- "127.0.0.1:$rport" --tls site/restore1 --job alpha/lab --to altered

# A bag forged where it is stored: the altered file's manifest line (and
# its line in lifeboat-manifest.tsv) made to match, the tag manifest made
# again and signed, with the key and sender.pem of a rogue CA's "alpha", then with
# beta's (the site's CA, another sender). The signature verifies with the
# sender.pem that came with it; pull refuses both, since the signer must
# be alpha, issued by the site's CA.
forge() {
	python3 - "$bag" "$f" <<'PY'
import hashlib, sys
bag, f = sys.argv[1], sys.argv[2]
rel = f[len(bag) + 1:]
new = hashlib.sha256(open(f, "rb").read()).hexdigest()
lines = open(bag + "/manifest-sha256.txt").read().splitlines(True)
lines = [new + "  " + rel + "\n" if l.rstrip("\n").endswith("  " + rel) else l for l in lines]
open(bag + "/manifest-sha256.txt", "w").write("".join(lines))
# carve's manifest must agree with the manifest of hashes.
tsv = open(bag + "/lifeboat-manifest.tsv").read().splitlines(True)
tsv = [new + l[64:] if l.rstrip("\n").endswith("\t" + rel[len("data/"):]) else l for l in tsv]
open(bag + "/lifeboat-manifest.tsv", "w").write("".join(tsv))
PY
	grep -q "^$(sha256sum <"$f" | cut -c1-64)  " "$bag/manifest-sha256.txt" || fail "forging the manifest"
	(cd "$bag" && sha256sum bagit.txt bag-info.txt manifest-sha256.txt lifeboat-manifest.tsv \
		>tagmanifest-sha256.txt)
	openssl dgst -sha256 -sign "$1/key.pem" -out "$bag/tagmanifest-sha256.txt.sig" \
		"$bag/tagmanifest-sha256.txt"
	cp "$1/cert.pem" "$bag/sender.pem"
}
"$TOP/scripts/mkcerts" rogue alpha >/dev/null 2>&1 || fail "mkcerts rogue"
"$TOP/scripts/mkcerts" site beta >/dev/null 2>&1 || fail "mkcerts beta"
forge rogue/alpha
"$LIFEBOAT" verify "$bag" >/dev/null 2>forged.err || fail "the forged bag does not even verify alone"
grep -q "not checked against a CA" forged.err || fail "verify without --ca does not warn: $(cat forged.err)"
rc=0; "$LIFEBOAT" verify --ca site/ca/ca.pem "$bag" >/dev/null 2>forged.err || rc=$?
[ $rc = 4 ] && grep -q "not issued by the CA" forged.err || fail "verify --ca: exit $rc, $(cat forged.err)"
expect 4 "not issued by the CA" -- "127.0.0.1:$rport" --tls site/restore1 --job alpha/lab --to forged1
forge site/beta
expect 4 "signed by 'beta', not by the sender 'alpha'" -- "127.0.0.1:$rport" --tls site/restore1 \
	--job alpha/lab --to forged2
rc=0; "$LIFEBOAT" verify --ca site/ca/ca.pem --sender alpha "$bag" >/dev/null 2>forged.err || rc=$?
[ $rc = 4 ] && grep -q "signed by 'beta'" forged.err || fail "verify --sender: exit $rc, $(cat forged.err)"
# The receiver's own certificate is the site CA's too, but no sender's.
forge site/receiver
rc=0; "$LIFEBOAT" verify --ca site/ca/ca.pem "$bag" >/dev/null 2>forged.err || rc=$?
[ $rc = 4 ] && grep -q "no sender's certificate" forged.err ||
	fail "verify of a bag signed by the receiver: exit $rc, $(cat forged.err)"
echo ok
