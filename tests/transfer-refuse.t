#!/bin/sh
# Every broken or hostile transfer ends in the documented error, and the
# destination holds nothing unverified: a wrong CA, a wrong pin (either
# end), no client certificate, plaintext, an expired certificate, a proxy
# that flips a byte or cuts the stream (then a resume completes the job),
# a compressed stream that is not zstd, and archive members that try to
# leave the destination. Each of the receiver's own checks then meets an
# authenticated client (openssl s_client) that passes every other one, so
# that the case fails if that check is gone: a message whose
# LIFEBOAT.sha256 does not match its bytes, a complete archive whose
# manifest is signed with another key (beta's, another CA's), a manifest
# signed by alpha that lists a message twice and another not at all, or
# both out of the order they came in, a
# signature larger than a tag file may be, a message below another (as if
# that were a directory), a symlink planted in the job's destination (as
# data/ and below it), a client that offers no ALPN, a certificate from
# another CA whose pin the receiver lists, and reconnections that offer
# their session (never resumed).
# A hello of another protocol version is refused by name.
# Interop: the receiver against openssl s_client, the sender against
# openssl s_server, with the right and the wrong credentials.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
. "$TOP/tests/transfer/lib.sh"
trap 'stop_receiver; kill $(jobs -p) 2>/dev/null || true' EXIT

lab=$("$TOP/tests/lab/get" ext4 none) || fail "lab ext4 none"
make_site
"$TOP/scripts/mkcerts" rogue alpha >/dev/null 2>&1 || fail "mkcerts rogue"
"$LIFEBOAT" carve -q "$lab/disk.img" --out local >/dev/null || fail "carve"
tree_digest local >want.txt

# expect_refusal NAME RECV_CODE RECV_WORDS SEND_CODE -- SENDER COMMAND...
# Run one connection against 'receive --once' into dest-NAME.
expect_refusal() {
	name=$1 rcode=$2 rwords=$3 scode=$4; shift 5
	start_receiver "dest-$name" --once ${RECV_TLS:+--tls "$RECV_TLS"}
	set +e
	"$@" >"send-$name.log" 2>&1
	got_s=$?
	wait "$rpid"
	got_r=$?
	set -e
	[ "$rcode" = any ] || [ "$got_r" = "$rcode" ] ||
		fail "$name: receiver exited $got_r, not $rcode: $(cat recv.log)"
	grep -q "$rwords" recv.log || fail "$name: receiver said: $(cat recv.log)"
	[ "$scode" = any ] || [ "$got_s" = "$scode" ] ||
		fail "$name: sender exited $got_s, not $scode: $(cat "send-$name.log")"
	# Only the job's own bookkeeping (.lifeboat/: lock, empty journal) may
	# appear, and the verified message data/$KEEP where a case sets KEEP.
	[ -z "$(find "dest-$name" -type f -not -path '*/.lifeboat/*' \
		${KEEP:+-not -path "dest-$name/alpha/j/data/$KEEP"})" ] ||
		fail "$name: the destination changed: $(find "dest-$name" -type f)"
	# A message streams into .lifeboat/tmp/ as it comes: a refused one
	# leaves nothing there.
	[ -z "$(find "dest-$name" -path '*/.lifeboat/tmp/*')" ] ||
		fail "$name: left in tmp/: $(find "dest-$name" -path '*/.lifeboat/tmp/*')"
	echo "$name: receiver $got_r ($(grep -o "$rwords" recv.log | head -n 1)), sender $got_s"
}
send_alpha() { "$LIFEBOAT" send local --job j --to "127.0.0.1:$rport" --tls "$@"; }

# The sender checks the receiver first, and hangs up.
expect_refusal wrong-ca any "" 4 -- send_alpha rogue/alpha
grep -q "certificate refused" send-wrong-ca.log || fail "wrong-ca: $(cat send-wrong-ca.log)"
cp -r site/receiver recv-nopin && grep ' beta$' site/receiver/pins >recv-nopin/pins
RECV_TLS=recv-nopin expect_refusal recv-pin 4 "matches no pin" any -- send_alpha site/alpha
cp -r site/alpha alpha-badpin && grep ' beta$' site/receiver/pins >alpha-badpin/pins
expect_refusal send-pin any "" 4 -- send_alpha alpha-badpin 2>/dev/null || true
grep -q "matches no pin" send-send-pin.log || fail "send-pin: $(cat send-send-pin.log)"

s_client() {
	openssl s_client -connect "127.0.0.1:$rport" -tls1_2 -alpn lifeboat/1 -quiet \
		-CAfile site/ca/ca.pem "$@"
}
# These read $rport when they run, after expect_refusal started the receiver.
hello() { printf 'LIFEBOAT/2 JOB j\n'; }
no_cert_client() { hello | s_client; }
plaintext_client() {
	python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"LIFEBOAT/2 JOB j\n")
s.recv(100)' "$rport"
}
evil_client() {
	(hello; sleep 0.5; cat "$1.tar"; sleep 1) |
		s_client -cert site/alpha/cert.pem -key site/alpha/key.pem
}
rogue_client() { hello | s_client -cert rogue/alpha/cert.pem -key rogue/alpha/key.pem; }
# A sender of another release (the hello names the protocol's version):
# refused by name, not as a malformed hello or archive.
old_release_client() {
	(printf 'LIFEBOAT/1 JOB j\n'; sleep 1) | s_client -cert site/alpha/cert.pem -key site/alpha/key.pem
}
expect_refusal old-release 4 "the peer speaks LIFEBOAT/1, this receiver LIFEBOAT/2" any -- old_release_client
grep -q "ERROR 4 the peer speaks LIFEBOAT/1" send-old-release.log ||
	fail "old-release: the sender was not told: $(cat send-old-release.log)"
expect_refusal no-client-cert 4 "authentication failed" any -- no_cert_client
expect_refusal plaintext 4 "connection refused" any -- plaintext_client

# An expired certificate from the right CA, with its pin in the receiver's list.
mkdir -p old && cp site/alpha/ca.pem site/alpha/pins old/
openssl ecparam -name prime256v1 -genkey -noout -out old/key.pem
openssl req -new -key old/key.pem -subj /CN=old -out old.csr
mkdir -p ca-db && : >ca-db/index && echo 01 >ca-db/serial
cat >ca.cnf <<CNF
[ca]
default_ca = c
[c]
database = ca-db/index
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = p
copy_extensions = none
x509_extensions = e
[p]
commonName = supplied
[e]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
openssl ca -batch -config ca.cnf -cert site/ca/ca.pem -keyfile site/ca/ca.key -in old.csr \
	-out old/cert.pem -startdate 20200101000000Z -enddate 20200201000000Z >/dev/null 2>&1 ||
	fail "openssl ca"
cp -r site/receiver recv-old
echo "$(openssl pkey -in old/key.pem -pubout -outform DER | sha256sum | cut -c1-64) old" >>recv-old/pins
RECV_TLS=recv-old expect_refusal expired 4 "expired" any -- send_alpha old

# Path traversal, absolute paths and links inside the archive, sent by an
# authenticated sender through openssl s_client.
python3 - <<'PY'
import io, tarfile
def member(t, name, data=b"x\n", kind=tarfile.REGTYPE, link=""):
    i = tarfile.TarInfo(name); i.size = len(data) if kind == tarfile.REGTYPE else 0
    i.type = kind; i.linkname = link
    i.pax_headers = {"LIFEBOAT.seq": "0", "LIFEBOAT.sha256": "1" * 64}
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
for name, args in [("dotdot", ("j/data/../../../escaped",)),
                   ("absolute", ("/tmp/escaped-abs",)),
                   ("symlink", ("j/data/link", b"", tarfile.SYMTYPE, "/etc/passwd"))]:
    with tarfile.open(f"{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        member(t, *args)
PY
# A compressed stream that is not zstd, from an authenticated sender.
zstd_garbage_client() {
	(printf 'LIFEBOAT/2 JOB j zstd\n'; sleep 0.5; head -c 4096 /dev/urandom; sleep 1) |
		s_client -cert site/alpha/cert.pem -key site/alpha/key.pem
}
expect_refusal zstd-garbage 4 "malformed archive" any -- zstd_garbage_client
for evil in dotdot absolute symlink; do
	expect_refusal "$evil" 4 "refused\|outside the job" any -- evil_client "$evil"
	[ ! -e escaped ] && [ ! -e /tmp/escaped-abs ] && [ ! -e ../escaped ] || fail "$evil: a file escaped"
done

# Archives that pass every check of the receiver but one: a message at a
# safe path with all its fields, whose LIFEBOAT.sha256 is another's
# (badsha); the same message, right, in a complete bag whose tag manifest
# is signed by alpha (the control), beta or another CA's alpha, or by alpha
# but with carve's manifest saying another class than the message came
# with (tsv-class), or with the tag manifest listing another bag-info.txt
# (tag-info); and an archive with no member at all (empty).
msg=vmail/example.org/mallory/Maildir/cur/1.eml
python3 - "$msg" <<'PY'
import hashlib, io, subprocess, sys, tarfile
path = sys.argv[1]
data = b"From: mallory@example.org\n\nhello\n"
sha = hashlib.sha256(data).hexdigest()
def member(t, name, data, sha=None, seq=0):
    i = tarfile.TarInfo(name); i.size = len(data)
    if sha:
        i.pax_headers = {"LIFEBOAT.seq": str(seq), "LIFEBOAT.sha256": sha,
                         "LIFEBOAT.class": "exact", "LIFEBOAT.placement": "placed",
                         "LIFEBOAT.how": "test", "LIFEBOAT.proof": "size",
                         "LIFEBOAT.source": f"0+{len(data)}"}
    t.addfile(i, io.BytesIO(data))
def archive(name):
    return tarfile.open(f"{name}.tar", "w", format=tarfile.PAX_FORMAT)
with archive("badsha") as t:
    member(t, "j/data/" + path, data, hashlib.sha256(b"other\n").hexdigest())
with archive("empty"):
    pass
manifest = f"{sha}  data/{path}\n".encode()
def tsv(data, path, cls="exact"):
    return (f"{hashlib.sha256(data).hexdigest()}\t{len(data)}\t{cls}\tplaced\ttest\tsize\t"
            f"0+{len(data)}\t0\t{path}\n").encode()
def bag_end(t, manifest, lines, octets, files, key, info_job="j"):
    tags = [("bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"),
            ("bag-info.txt", b"Payload-Oxum: %d.%d\nLifeboat-Job: j\n" % (octets, files)),
            ("manifest-sha256.txt", manifest),
            ("lifeboat-manifest.tsv", b"# sha256\tsize\tclass\tplacement\thow\tproof\tsource"
                                      b"\tmtime\tpath\n" + lines)]
    listed = [(n, d.replace(b"Lifeboat-Job: j\n", b"Lifeboat-Job: %s\n" % info_job.encode())
               if n == "bag-info.txt" else d) for n, d in tags]
    tagmanifest = b"".join(b"%s  %s\n" % (hashlib.sha256(d).hexdigest().encode(), n.encode())
                           for n, d in listed)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=tagmanifest,
                         stdout=subprocess.PIPE, check=True).stdout
    for n, d in tags:
        member(t, "j/" + n, d)
    member(t, "j/tagmanifest-sha256.txt", tagmanifest)
    member(t, "j/tagmanifest-sha256.txt.sig", sig)
for signer, key in [("alpha", "site/alpha/key.pem"), ("beta", "site/beta/key.pem"),
                    ("rogue", "rogue/alpha/key.pem")]:
    with archive(f"signed-{signer}") as t:
        member(t, "j/data/" + path, data, sha)
        bag_end(t, manifest, tsv(data, path), len(data), 1, key)
with archive("tsv-class") as t:
    member(t, "j/data/" + path, data, sha)
    bag_end(t, manifest, tsv(data, path, "partial"), len(data), 1, "site/alpha/key.pem")
# Signed by alpha, every tag file right but the tag manifest's line for
# bag-info.txt, made over another job's name (tag-info).
with archive("tag-info") as t:
    member(t, "j/data/" + path, data, sha)
    bag_end(t, manifest, tsv(data, path), len(data), 1, "site/alpha/key.pem", info_job="other")
# Signed by alpha: a manifest that lists the message twice and a second
# one not at all, with a Payload-Oxum that counts both.
other = b"From: mallory@example.org\n\nnot in the manifest\n"
with archive("listed-twice") as t:
    member(t, "j/data/" + path, data, sha)
    member(t, "j/data/" + path + "2", other, hashlib.sha256(other).hexdigest(), seq=1)
    bag_end(t, manifest + manifest, tsv(data, path) + tsv(other, path + "2"),
            len(data) + len(other), 2, "site/alpha/key.pem")
# Signed by alpha: both messages listed once, but not in the order they
# came (verify reads the manifest beside the tsv, line by line).
with archive("out-of-order") as t:
    member(t, "j/data/" + path, data, sha)
    member(t, "j/data/" + path + "2", other, hashlib.sha256(other).hexdigest(), seq=1)
    bag_end(t, f"{hashlib.sha256(other).hexdigest()}  data/{path}2\n".encode() + manifest,
            tsv(data, path) + tsv(other, path + "2"), len(data) + len(other), 2,
            "site/alpha/key.pem")
# A signature larger than a tag file may be.
with archive("big-sig") as t:
    member(t, "j/data/" + path, data, sha)
    member(t, "j/tagmanifest-sha256.txt.sig", b"x" * 5000)
# A message of 256 MiB + 1 (its header only: the receiver refuses it by
# its size, before its data).
with open("big-message.tar", "wb") as f:
    i = tarfile.TarInfo("j/data/" + path); i.size = (256 << 20) + 1
    i.pax_headers = {"LIFEBOAT.seq": "0", "LIFEBOAT.sha256": sha, "LIFEBOAT.class": "exact",
                     "LIFEBOAT.placement": "placed", "LIFEBOAT.how": "test",
                     "LIFEBOAT.proof": "size", "LIFEBOAT.source": "0+1"}
    f.write(i.tobuf(format=tarfile.PAX_FORMAT) + b"x" * 65536)
# A message, then another below it, as if it were a directory.
with archive("below-message") as t:
    member(t, "j/data/" + path, data, sha)
    member(t, "j/data/" + path + "/x", other, hashlib.sha256(other).hexdigest(), seq=1)
PY
# The receiver hashes each message itself: a wrong LIFEBOAT.sha256 commits
# nothing, not even a journal line.
expect_refusal badsha 4 "does not match its SHA-256" any -- evil_client badsha
[ ! -s dest-badsha/alpha/j/.lifeboat/journal ] || fail "badsha: journaled: $(cat dest-badsha/alpha/j/.lifeboat/journal)"
# The control: signed by alpha, the connection's own key, the bag is complete.
start_receiver dest-sig-alpha --once
evil_client signed-alpha >send-sig-alpha.log 2>&1 || true
wait "$rpid" || fail "sig-alpha: receiver exited $?: $(cat recv.log)"
[ -e dest-sig-alpha/alpha/j/bagit.txt ] || fail "sig-alpha: the job is not complete: $(cat recv.log)"
echo "sig-alpha: receiver 0, $(grep -o 'complete: .*' recv.log)"
# Signed by any other key, the same bag is refused at its end: its message
# was verified and stays (the job is resumable), but it is not complete.
for signer in beta rogue; do
	KEEP=$msg expect_refusal "sig-$signer" 4 "signature does not verify" any -- evil_client "signed-$signer"
	[ -f "dest-sig-$signer/alpha/j/data/$msg" ] || fail "sig-$signer: refused before the signature"
	[ ! -e "dest-sig-$signer/alpha/j/bagit.txt" ] || fail "sig-$signer: the job is marked complete"
done
# What the sender signs of carve's columns must be what came with each
# message (here: exact sent, partial signed).
KEEP=$msg expect_refusal tsv-class 4 "lifeboat-manifest.tsv is not what came with the messages, from line 2 ('$msg') on" \
	any -- evil_client tsv-class
[ ! -e dest-tsv-class/alpha/j/bagit.txt ] || fail "tsv-class: the job is marked complete"
# The signed tag manifest must list the tag files as they came: one whose
# bag-info.txt line is another's would make a stored bag that fails verify.
KEEP=$msg expect_refusal tag-info 4 "the tag manifest does not list this bag's tag files" \
	any -- evil_client tag-info
[ ! -e dest-tag-info/alpha/j/bagit.txt ] || fail "tag-info: the job is marked complete"
# Each manifest line stands for its own message: one listed twice does not
# make up for one not listed.
KEEP="$msg*" expect_refusal listed-twice 4 "lists '$msg' twice" any -- evil_client listed-twice
[ ! -e dest-listed-twice/alpha/j/bagit.txt ] || fail "listed-twice: the job is marked complete"
KEEP="$msg*" expect_refusal out-of-order 4 "lists '${msg}2' out of the order the messages came in" \
	any -- evil_client out-of-order
[ ! -e dest-out-of-order/alpha/j/bagit.txt ] || fail "out-of-order: the job is marked complete"
# A tag file too large for its buffer is the sender's malformed archive,
# said to it, not a lost connection to retry forever.
KEEP=$msg expect_refusal big-sig 4 "malformed archive: 'j/tagmanifest-sha256.txt.sig' is larger" \
	any -- evil_client big-sig
grep -q "^ERROR 4 malformed archive" send-big-sig.log || fail "big-sig: the client got: $(cat send-big-sig.log)"
# So is a message over 256 MiB (manifests may be larger: 4 GiB).
expect_refusal big-message 4 "malformed archive: 'vmail/.*' is larger than such a member may be" \
	any -- evil_client big-message
# So are a sender's own paths that need a message to be a directory: not a
# write failure of the receiver's, which every resume would meet again.
KEEP=$msg expect_refusal below-message 4 "malformed archive: '$msg/x' is below another message" \
	any -- evil_client below-message

# A symlink planted in a job's destination, as data/ or as the first
# directory of the first message, after a first connection made the job:
# the receiver does not follow it (a failure of its own tree: exit 111,
# the job stays resumable), and nothing lands where it points.
first=$(grep -v '^#' local/.lifeboat/manifest.tsv | head -n 1 | awk -F '\t' '{print $NF}' | cut -d/ -f1)
mkdir outside
for at in data "data/$first"; do
	name=link-$(echo "$at" | tr / -)
	expect_refusal "$name" 4 "ended without its signed tag files" any -- evil_client empty
	mkdir -p "dest-$name/alpha/j/$(dirname "$at")"
	ln -s "$PWD/outside" "dest-$name/alpha/j/$at"
	expect_refusal "$name" 111 "could not write" any -- send_alpha site/alpha
	grep -q "Not a directory\|symbolic links" recv.log || fail "$name: receiver said: $(cat recv.log)"
	[ -z "$(ls -A outside)" ] || fail "$name: written through the link: $(find outside)"
done
# The same one level up: DEST/alpha itself a symlink would take every job
# of that sender elsewhere.
mkdir dest-link-sender
ln -s "$PWD/outside" dest-link-sender/alpha
expect_refusal link-sender 111 "could not use the sender's directory" any -- send_alpha site/alpha
[ -z "$(ls -A outside)" ] || fail "link-sender: written through the link: $(find outside)"

# A byte flipped in transit, and a stream cut short: the receiver keeps
# only verified messages, and a resume completes the job.
for mode in flip:1500000 cut:2000000; do
	name=${mode%%:*}
	start_receiver "dest-$name"
	pport=$(free_port)
	python3 "$TOP/tests/transfer/proxy.py" "$pport" "$rport" "$mode" >proxy.log 2>&1 &
	for _ in $(seq 50); do grep -q ready proxy.log 2>/dev/null && break; sleep 0.1; done
	set +e
	"$LIFEBOAT" send local --job j --to "127.0.0.1:$pport" --tls site/alpha >"send-$name.log" 2>&1
	got_s=$?
	set -e
	wait $! 2>/dev/null || true
	# The receiver says why once it has committed what came before the
	# damage: under load that can take longer than the sender's exit.
	for _ in $(seq 100); do
		grep -q "integrity check\|without close_notify\|closed the connection" recv.log && break
		sleep 0.1
	done
	case $mode in
	flip*) [ "$got_s" = 4 ] || [ "$got_s" = 111 ] || fail "flip: sender exited $got_s"
	       grep -q "integrity check" recv.log || fail "flip: receiver said: $(cat recv.log)" ;;
	cut*)  [ "$got_s" = 111 ] || fail "cut: sender exited $got_s: $(cat send-$name.log)"
	       grep -q "without close_notify\|closed the connection" recv.log ||
		       fail "cut: receiver said: $(cat recv.log)" ;;
	esac
	[ ! -e "dest-$name/alpha/j/bagit.txt" ] || fail "$name: the job is marked complete"
	part=$(find "dest-$name/alpha/j/data" -type f 2>/dev/null | wc -l)
	tree_digest "dest-$name/alpha/j/data" >part.txt 2>/dev/null || : >part.txt
	[ -z "$(comm -13 want.txt part.txt)" ] || fail "$name: a committed message is not one of the carve's"
	"$LIFEBOAT" send local --job j --to "127.0.0.1:$rport" --tls site/alpha >"resume-$name.log" 2>&1 ||
		fail "$name: resume exited $?: $(cat resume-$name.log)"
	tree_digest "dest-$name/alpha/j/data" >got.txt
	cmp -s want.txt got.txt || fail "$name: after the resume the tree differs"
	"$LIFEBOAT" verify "dest-$name/alpha/j" >/dev/null || fail "$name: verify after resume"
	echo "$name: sender $got_s, $part messages kept, resume: $(tail -n 1 resume-$name.log)"
	stop_receiver
done

# Interop. The receiver against openssl s_client with the right credentials:
start_receiver dest-interop --once
# (without -quiet, s_client hangs up at the end of its input)
out=$( (hello; sleep 1) | openssl s_client -connect "127.0.0.1:$rport" -tls1_2 \
	-alpn lifeboat/1 -CAfile site/ca/ca.pem -cert site/alpha/cert.pem \
	-key site/alpha/key.pem -verify_return_error 2>&1) || true
echo "$out" | grep -q "^RESUME 0" || fail "s_client: $out"
cipher=$(echo "$out" | grep -o 'Cipher is [A-Z0-9-]*' | head -n 1)
[ "$cipher" = "Cipher is ECDHE-ECDSA-CHACHA20-POLY1305" ] || fail "s_client: $cipher"
wait "$rpid" || true
echo "openssl s_client: RESUME 0 with alpha's certificate, $cipher"
# ... and with a certificate of another CA (tested without a client
# certificate above).
expect_refusal s_client-rogue 4 "certificate refused" any -- rogue_client

# The receiver's TLS policy, each against a client that passes every other
# check. Without -quiet s_client hangs up at the end of its input: were a
# check gone, the receiver would get a hello and an early end (exit 111).
hangup_client() {
	(hello; sleep 1) | openssl s_client -connect "127.0.0.1:$rport" -tls1_2 \
		-CAfile site/ca/ca.pem "$@"
}
# ALPN lifeboat/1 is required: alpha's own credentials without it are refused.
no_alpn_client() { hangup_client -cert site/alpha/cert.pem -key site/alpha/key.pem; }
expect_refusal no-alpn 4 "does not speak lifeboat/1 (ALPN)" any -- no_alpn_client
grep -q "No ALPN negotiated" send-no-alpn.log || fail "no-alpn: s_client said: $(cat send-no-alpn.log)"
# The CA is checked, not only the pin: another CA's certificate whose pin
# the receiver lists is refused by the CA check (the pin is made as
# mkcerts makes alpha's, which the receiver lists).
pin() { openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -c1-64; }
grep -q "^$(pin site/alpha/key.pem) alpha$" site/receiver/pins || fail "pin: $(cat site/receiver/pins)"
cp -r site/receiver recv-rogue && echo "$(pin rogue/alpha/key.pem) rogue-alpha" >>recv-rogue/pins
rogue_pinned_client() {
	hangup_client -alpn lifeboat/1 -cert rogue/alpha/cert.pem -key rogue/alpha/key.pem
}
RECV_TLS=recv-rogue expect_refusal rogue-pinned 4 "not correctly signed by the trusted CA" any -- \
	rogue_pinned_client
! grep -q "matches no pin" recv.log || fail "rogue-pinned: refused by the pin: $(cat recv.log)"
# No session is resumed: s_client -reconnect offers its session back on
# each new connection, and each is a full handshake; no ticket is issued.
start_receiver dest-reuse
(hello; sleep 1) | openssl s_client -connect "127.0.0.1:$rport" -tls1_2 -alpn lifeboat/1 \
	-CAfile site/ca/ca.pem -cert site/alpha/cert.pem -key site/alpha/key.pem -reconnect \
	>reuse.log 2>&1 || true
stop_receiver
reconnects=$(grep -c "drop connection and then reconnect" reuse.log || true)
new=$(grep -c "^New, TLSv1.2" reuse.log || true)
[ "$reconnects" -ge 1 ] && [ "$new" = $((reconnects + 1)) ] ||
	fail "reuse: $reconnects reconnections, $new new sessions: $(cat reuse.log)"
! grep -q "Reused" reuse.log || fail "reuse: a session was resumed: $(grep Reused reuse.log)"
! grep -qi "session ticket" reuse.log || fail "reuse: a ticket: $(grep -i 'session ticket' reuse.log)"
echo "reuse: $new connections with s_client -reconnect, each a new session"

# The sender against openssl s_server: with the receiver's credentials it
# handshakes (ECDHE-ECDSA, ChaCha20-Poly1305) and says hello; with a
# certificate from another CA the sender refuses it.
sport=$(free_port)
(sleep 2; printf 'ERROR 111 s_server says no\n'; sleep 2) | openssl s_server -accept "$sport" \
	-naccept 1 -cert site/receiver/cert.pem -key site/receiver/key.pem -CAfile site/ca/ca.pem \
	-Verify 1 -verify_return_error -alpn lifeboat/1 >s_server.log 2>&1 &
sleep 0.5
set +e
"$LIFEBOAT" send local --job j --to "127.0.0.1:$sport" --tls site/alpha >send-s.log 2>&1
rc=$?
set -e
[ "$rc" = 111 ] && grep -q "s_server says no" send-s.log || fail "s_server: sender $rc: $(cat send-s.log)"
grep -q "LIFEBOAT/2 JOB j" s_server.log || fail "s_server did not get the hello: $(cat s_server.log)"
grep -q "CHACHA20" s_server.log || fail "s_server: not ChaCha20: $(grep -i cipher s_server.log)"
wait $! 2>/dev/null || true
echo "openssl s_server: hello received, $(grep -o 'ECDHE-ECDSA-[A-Z0-9-]*' s_server.log | head -n 1)"
sport=$(free_port)
sleep 3 | openssl s_server -accept "$sport" -naccept 1 -cert rogue/receiver/cert.pem \
	-key rogue/receiver/key.pem -CAfile site/ca/ca.pem -Verify 1 -alpn lifeboat/1 >s_server2.log 2>&1 &
sleep 0.5
set +e
"$LIFEBOAT" send local --job j --to "127.0.0.1:$sport" --tls site/alpha >send-s2.log 2>&1
rc=$?
set -e
[ "$rc" = 4 ] && grep -q "certificate refused" send-s2.log || fail "rogue s_server: sender $rc: $(cat send-s2.log)"
echo "openssl s_server with another CA's certificate: refused ($(cat send-s2.log))"
echo ok
