# Shared by the transfer tests: a site, a receiver on loopback, a carved lab tree.
# Sourced by tests/transfer-*.t after they set -eu and define fail().

# Make a site with senders alpha and beta, once per test.
make_site() {
	"$TOP/scripts/mkcerts" site alpha beta >/dev/null 2>&1 || fail "mkcerts"
}

# start_receiver DEST [ARGS...]: start 'lifeboat receive' in its own process
# group and set $rport and $rpid.
start_receiver() {
	dest=$1; shift
	rm -f recv.log
	setsid "$LIFEBOAT" receive --tls site/receiver --listen 127.0.0.1:0 --dest "$dest" "$@" \
		>/dev/null 2>recv.log &
	rpid=$!
	wait_listening recv.log
}

# wait_listening LOG: wait for a receiver started with 2>LOG to say its
# port, and set $rport.
wait_listening() {
	for _ in $(seq 100); do
		rport=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$1" 2>/dev/null || true)
		[ -n "$rport" ] && return 0
		sleep 0.05
	done
	cat "$1"
	fail "the receiver did not start"
}

# Stop the receiver and every child it forked.
stop_receiver() {
	kill -9 "-$rpid" 2>/dev/null || true
	wait "$rpid" 2>/dev/null || true
}

# A free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# tree_digest DIR: one sorted line per regular file (path, sha256, mtime in
# whole seconds), the top's .lifeboat left out; fails when DIR is not there.
# One process for the whole tree: a sha256sum per file took minutes for
# thousands of files.
tree_digest() {
	python3 - "$1" <<'EOF'
import hashlib, os, stat, sys
top, out = sys.argv[1], []
os.chdir(top)
for d, dirs, files in os.walk("."):
    if d == "." and ".lifeboat" in dirs:
        dirs.remove(".lifeboat")
    for f in files:
        p = os.path.join(d, f)[2:]
        st = os.lstat(p)
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as fh:
                out.append("%s %s %d" % (p, hashlib.sha256(fh.read()).hexdigest(), int(st.st_mtime)))
sys.stdout.write("".join(line + "\n" for line in sorted(out)))
EOF
}
