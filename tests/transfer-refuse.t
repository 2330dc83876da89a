#!/bin/sh
# Every broken or hostile transfer ends in the documented error, and the
# destination holds nothing unverified: a wrong CA, a wrong pin (either
# end), no client certificate, plaintext, an expired certificate, a proxy
# that flips a byte or cuts the stream (then a resume completes the job),
# a compressed stream that is not zstd, and archive members that try to
# leave the destination. Interop: the
# receiver against openssl s_client, the sender against openssl s_server,
# with the right and the wrong credentials.
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
	# Only the job's own bookkeeping (.lifeboat/: lock, empty journal) may appear.
	[ -z "$(find "dest-$name" -type f -not -path '*/.lifeboat/*')" ] ||
		fail "$name: the destination changed: $(find "dest-$name" -type f)"
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
hello() { printf 'LIFEBOAT/1 JOB j\n'; }
no_cert_client() { hello | s_client; }
plaintext_client() {
	python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"LIFEBOAT/1 JOB j\n")
s.recv(100)' "$rport"
}
evil_client() {
	(hello; sleep 0.5; cat "$1.tar"; sleep 1) |
		s_client -cert site/alpha/cert.pem -key site/alpha/key.pem
}
rogue_client() { hello | s_client -cert rogue/alpha/cert.pem -key rogue/alpha/key.pem; }
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
	(printf 'LIFEBOAT/1 JOB j zstd\n'; sleep 0.5; head -c 4096 /dev/urandom; sleep 1) |
		s_client -cert site/alpha/cert.pem -key site/alpha/key.pem
}
expect_refusal zstd-garbage 4 "malformed archive" any -- zstd_garbage_client
for evil in dotdot absolute symlink; do
	expect_refusal "$evil" 4 "refused\|outside the job" any -- evil_client "$evil"
	[ ! -e escaped ] && [ ! -e /tmp/escaped-abs ] && [ ! -e ../escaped ] || fail "$evil: a file escaped"
done

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
	sleep 0.3
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
grep -q "LIFEBOAT/1 JOB j" s_server.log || fail "s_server did not get the hello: $(cat s_server.log)"
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
